package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/cucumber/godog"

	"github.com/efm-harness/efm-harness/simulator/wire"
)

func registerOutageSteps(sc *godog.ScenarioContext) {
	sc.Step(`^I send (\d+) "([^"]*)" messages to "([^"]*)"(?: that expire in (\d+) ms)?$`, sendBatch)
	sc.Step(`^I prepare (\d+) "([^"]*)" messages to "([^"]*)"(?: that expire in (\d+) ms)?$`, prepareBatch)
	sc.Step(`^I send the prepared messages$`, sendPrepared)
	sc.Step(`^every message's statuses become "([^"]*)"$`, everyStatusesBecome)
	sc.Step(`^the webhook endpoint receives exactly the statuses "([^"]*)" for every message$`, webhookReceivesForEvery)
	sc.Step(`^the (DPO broker|DPV simulator|DPF simulator|DPI simulator) holds each message exactly once$`, holdsEachOnce)
}

// prepareBatch creates and uploads n messages without sending them (sendPrepared sends them), so that a
// service the create needs (the register) can fail between the two.
func prepareBatch(ctx context.Context, n int, mt, receiver, ttl string) error {
	return getWorld(ctx).batchOf(ctx, n, mt, receiver, ttl, false)
}

// sendPrepared sends the prepared batch; each send must be accepted.
func sendPrepared(ctx context.Context) error {
	w := getWorld(ctx)
	last := w.out
	defer func() { w.out = last }()
	for i, id := range w.batch {
		w.out = &outgoing{messageID: id, files: last.files}
		if err := sendMessage(ctx); err != nil {
			return err
		}
		if w.last.Status != http.StatusOK {
			return fmt.Errorf("message %d of %d: send answered %d: %.300s", i+1, len(w.batch), w.last.Status, w.last.Body)
		}
	}
	return nil
}

// sendBatch creates, uploads and sends n messages (arkivmelding with arkivmelding.xml naming brev.pdf;
// others with brev.pdf), each of which the integration point must accept; they are the scenario's batch.
func sendBatch(ctx context.Context, n int, mt, receiver, ttl string) error {
	return getWorld(ctx).batchOf(ctx, n, mt, receiver, ttl, true)
}

// batchOf creates and uploads n messages, sending each when send is true; they become the batch.
func (w *world) batchOf(ctx context.Context, n int, mt, receiver, ttl string, send bool) error {
	w.batch = nil
	for i := range n {
		var err error
		if ttl != "" {
			var ms int
			fmt.Sscan(ttl, &ms)
			err = createExpiring(ctx, mt, receiver, ms)
		} else {
			err = createMessage(ctx, mt, receiver)
		}
		if err != nil {
			return err
		}
		if w.out.messageID == "" {
			return fmt.Errorf("message %d of %d: create answered %d: %.300s", i+1, n, w.last.Status, w.last.Body)
		}
		if mt == string(wire.TypeArkivmelding) {
			if err := uploadArkivmelding(ctx, "brev.pdf"); err != nil {
				return err
			}
		}
		if err := uploadPDF(ctx, "brev.pdf"); err != nil {
			return err
		}
		if !send {
			w.batch = append(w.batch, w.out.messageID)
			continue
		}
		if err := sendMessage(ctx); err != nil {
			return err
		}
		if w.last.Status != http.StatusOK {
			return fmt.Errorf("message %d of %d: send answered %d: %.300s", i+1, n, w.last.Status, w.last.Body)
		}
		w.batch = append(w.batch, w.out.messageID)
	}
	return nil
}

// everyStatusesBecome waits for each message of the batch to have exactly the statuses want.
func everyStatusesBecome(ctx context.Context, want string) error {
	return forEachInBatch(ctx, statusesBecome, want)
}

// webhookReceivesForEvery checks the subscribed webhook endpoint's events for each message of the batch.
func webhookReceivesForEvery(ctx context.Context, want string) error {
	return forEachInBatch(ctx, webhookReceives, want)
}

// forEachInBatch runs a single-message check for each message of the batch, as if it were the last one
// sent, and names the first message it fails for.
func forEachInBatch(ctx context.Context, check func(context.Context, string) error, want string) error {
	w := getWorld(ctx)
	if len(w.batch) == 0 {
		return fmt.Errorf("the scenario sent no batch of messages")
	}
	last := w.out
	defer func() { w.out = last }()
	for i, id := range w.batch {
		w.out = &outgoing{messageID: id, files: last.files}
		if err := check(ctx, want); err != nil {
			return fmt.Errorf("message %d of %d (%s): %w", i+1, len(w.batch), id, err)
		}
	}
	return nil
}

// holdsEachOnce counts, at the simulator, what it holds for each message of the batch: exactly one
// transfer, correspondence, forsendelse or DPI message each, so nothing was lost and nothing sent twice.
func holdsEachOnce(ctx context.Context, service string) error {
	w := getWorld(ctx)
	ids, err := w.heldMessageIDs(ctx, serviceName(service))
	if err != nil {
		return err
	}
	count := map[string]int{}
	for _, id := range ids {
		count[id]++
	}
	for i, id := range w.batch {
		if count[id] != 1 {
			return fmt.Errorf("the %s holds message %d of %d (%s) %d times, want once", service, i+1, len(w.batch), id, count[id])
		}
	}
	return nil
}

// heldMessageIDs lists the messageId of everything a simulator received (once per upload).
func (w *world) heldMessageIDs(ctx context.Context, svc string) ([]string, error) {
	adm := w.admin(svc)
	var ids []string
	switch svc {
	case "dpo":
		var list struct {
			Transfers []struct {
				ID string `json:"id"`
			} `json:"transfers"`
		}
		if err := adm.Messages(ctx, &list); err != nil {
			return nil, err
		}
		for _, t := range list.Transfers {
			var view struct {
				SBD json.RawMessage `json:"sbd"`
			}
			if err := adm.Message(ctx, t.ID, &view); err != nil {
				return nil, err
			}
			var sbd wire.StandardBusinessDocument
			if json.Unmarshal(view.SBD, &sbd) == nil && sbd.Type() != wire.TypeStatus {
				ids = append(ids, sbd.MessageID())
			}
		}
	case "dpv":
		var list struct {
			Correspondences []struct {
				SendersReference string `json:"sendersReference"`
			} `json:"correspondences"`
		}
		if err := adm.Messages(ctx, &list); err != nil {
			return nil, err
		}
		for _, c := range list.Correspondences {
			ids = append(ids, c.SendersReference)
		}
	case "dpf":
		var list struct {
			Forsendelser []struct {
				EksternRef string `json:"eksternReferanse"`
			} `json:"forsendelser"`
		}
		if err := adm.Do(ctx, http.MethodGet, "/messages?kind=svarut", nil, &list); err != nil {
			return nil, err
		}
		for _, f := range list.Forsendelser {
			ids = append(ids, f.EksternRef)
		}
	case "dpi":
		var list struct {
			Messages []struct {
				MessageID string `json:"messageId"`
			} `json:"messages"`
		}
		if err := adm.Messages(ctx, &list); err != nil {
			return nil, err
		}
		for _, m := range list.Messages {
			ids = append(ids, m.MessageID)
		}
	default:
		return nil, fmt.Errorf("no message count for %s", svc)
	}
	return ids, nil
}
