package steps

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/cucumber/godog"

	"github.com/efm-harness/efm-harness/simulator/wire"
)

// heldMessages are the messages a scenario put at the brokers for integration point A to fetch.
type heldMessages struct {
	transfers map[string]string // DPO fileTransferId → messageId
	svarInn   map[string]bool   // SvarInn forsendelse ids (they become the messageIds)
}

func (w *world) heldMsgs() *heldMessages {
	if w.held == nil {
		w.held = &heldMessages{transfers: map[string]string{}, svarInn: map[string]bool{}}
	}
	return w.held
}

func registerCrashSteps(sc *godog.ScenarioContext) {
	sc.Step(`^the integration point is killed and started again$`, restartIP)
	sc.Step(`^the integration point is killed and started again while it fetches them$`, restartWhileFetching)
	sc.Step(`^the DPO simulator holds (\d+) arkivmeldinger from "([^"]*)" for organisation A$`, holdDPO)
	sc.Step(`^SvarInn holds (\d+) forsendelser from "([^"]*)" for organisation A$`, holdSvarInn)
	sc.Step(`^archive system A takes every held message exactly once$`, takesEveryHeldOnce)
	sc.Step(`^the DPO broker has every held transfer confirmed$`, heldTransfersConfirmed)
	sc.Step(`^SvarInn has every held forsendelse acknowledged$`, heldForsendelserAcknowledged)
}

// restartIP kills and restarts integration point A through Config.RestartIP and waits until it answers
// /manage/health with 200 again.
func restartIP(ctx context.Context) error {
	w := getWorld(ctx)
	if w.cfg.RestartIP == nil {
		return fmt.Errorf("the target gives no way to restart the integration point")
	}
	if err := w.cfg.RestartIP(ctx); err != nil {
		return fmt.Errorf("restart the integration point: %w", err)
	}
	base, err := w.party("A")
	if err != nil {
		return err
	}
	deadline := time.Now().Add(max(w.cfg.timeout(), 30*time.Second))
	for {
		r, err := w.do(ctx, http.MethodGet, base+"/manage/health", nil, nil)
		if err == nil && r.Status == http.StatusOK {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the integration point did not answer /manage/health after the restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// restartWhileFetching waits until A started downloading one of the held DPO transfers (when there are
// any), then restarts it.
func restartWhileFetching(ctx context.Context) error {
	w := getWorld(ctx)
	if len(w.heldMsgs().transfers) > 0 {
		deadline := time.Now().Add(w.cfg.timeout())
		for {
			started, err := w.heldTransferStatuses(ctx, func(status string) bool { return status != "Initialized" })
			if err != nil {
				return err
			}
			if started > 0 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("integration point A started none of the %d held DPO downloads within %v", len(w.held.transfers), w.cfg.timeout())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return restartIP(ctx)
}

func holdDPO(ctx context.Context, n int, from string) error {
	w := getWorld(ctx)
	sender, receiver, err := w.parties(ctx, from, "A")
	if err != nil {
		return err
	}
	for range n {
		out, err := w.injectDPO(ctx, sender, receiver, nil)
		if err != nil {
			return err
		}
		w.heldMsgs().transfers[out.FileTransferID] = out.MessageID
	}
	return nil
}

func holdSvarInn(ctx context.Context, n int, from string) error {
	w := getWorld(ctx)
	sender, receiver, err := w.parties(ctx, from, "A")
	if err != nil {
		return err
	}
	for i := range n {
		var out struct {
			ID string `json:"id"`
		}
		body := map[string]any{"sender": sender, "receiver": receiver, "tittel": fmt.Sprintf("Forsendelse %d", i+1)}
		if err := w.admin("dpf").Inject(ctx, body, &out); err != nil {
			return err
		}
		w.heldMsgs().svarInn[out.ID] = true
	}
	return nil
}

// takesEveryHeldOnce drains A's in-queue as an archive system does (peek, pop, delete) until every held
// message was taken, then a little longer: each must be taken exactly once, with an ASiC-E container.
// Messages of earlier scenarios found on the way are taken too and not counted.
func takesEveryHeldOnce(ctx context.Context) error {
	w := getWorld(ctx)
	base, err := w.party("A")
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, id := range w.heldMsgs().transfers {
		want[id] = true
	}
	for id := range w.held.svarInn {
		want[id] = true
	}
	taken := map[string]int{}
	heldTaken := 0
	deadline, quiet := time.Now().Add(3*w.cfg.timeout()), time.Time{}
	for time.Now().Before(deadline) && (quiet.IsZero() || time.Now().Before(quiet)) {
		r, err := w.do(ctx, http.MethodGet, base+"/api/messages/in/peek", nil, nil)
		if err != nil {
			return err
		}
		if r.Status == http.StatusNoContent {
			if quiet.IsZero() && heldTaken >= len(want) {
				quiet = time.Now().Add(1500 * time.Millisecond) // longer than a DPO and a SvarInn round
			}
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if r.Status != http.StatusOK {
			return fmt.Errorf("peek answered %d: %.300s", r.Status, r.Body)
		}
		sbd, err := wire.ParseSBD(r.Body)
		if err != nil {
			return fmt.Errorf("peek answered no SBD: %w", err)
		}
		id := sbd.MessageID()
		if r, err = w.do(ctx, http.MethodGet, base+"/api/messages/in/pop/"+id, nil, nil); err != nil {
			return err
		}
		if want[id] {
			if r.Status != http.StatusOK {
				return fmt.Errorf("pop of held message %s answered %d: %.300s", id, r.Status, r.Body)
			}
			if zr, err := zip.NewReader(bytes.NewReader(r.Body), int64(len(r.Body))); err != nil || len(zr.File) == 0 || zr.File[0].Name != "mimetype" {
				return fmt.Errorf("pop of held message %s gave no ASiC-E container (%v)", id, err)
			}
		}
		if r, err = w.do(ctx, http.MethodDelete, base+"/api/messages/in/"+id, nil, nil); err != nil {
			return err
		}
		if r.Status != http.StatusOK {
			return fmt.Errorf("delete of %s answered %d: %.300s", id, r.Status, r.Body)
		}
		taken[id]++
		if want[id] && taken[id] == 1 {
			heldTaken++
		}
	}
	var lost, twice []string
	for id := range want {
		switch {
		case taken[id] == 0:
			lost = append(lost, id)
		case taken[id] > 1:
			twice = append(twice, fmt.Sprintf("%s (%d times)", id, taken[id]))
		}
	}
	if len(lost) > 0 || len(twice) > 0 {
		return fmt.Errorf("of %d held messages, %d never arrived %v and %d were taken more than once %v", len(want), len(lost), lost, len(twice), twice)
	}
	return nil
}

// heldTransferStatuses counts the held DPO transfers whose recipient status satisfies match.
func (w *world) heldTransferStatuses(ctx context.Context, match func(string) bool) (int, error) {
	var list struct {
		Transfers []struct {
			ID         string `json:"id"`
			Recipients []struct {
				Status string `json:"status"`
			} `json:"recipients"`
		} `json:"transfers"`
	}
	if err := w.admin("dpo").Messages(ctx, &list); err != nil {
		return 0, err
	}
	n := 0
	for _, t := range list.Transfers {
		if _, held := w.heldMsgs().transfers[t.ID]; !held {
			continue
		}
		for _, r := range t.Recipients {
			if match(r.Status) {
				n++
			}
		}
	}
	return n, nil
}

func heldTransfersConfirmed(ctx context.Context) error {
	w := getWorld(ctx)
	n, err := w.heldTransferStatuses(ctx, func(status string) bool { return status == "DownloadConfirmed" })
	if err != nil {
		return err
	}
	if n != len(w.heldMsgs().transfers) {
		return fmt.Errorf("the DPO broker has %d of the %d held transfers confirmed", n, len(w.held.transfers))
	}
	return nil
}

func heldForsendelserAcknowledged(ctx context.Context) error {
	w := getWorld(ctx)
	var list struct {
		Forsendelser []struct {
			ID           string `json:"id"`
			Acknowledged bool   `json:"acknowledged"`
		} `json:"forsendelser"`
	}
	if err := w.admin("dpf").Messages(ctx, &list); err != nil {
		return err
	}
	acked := 0
	for _, f := range list.Forsendelser {
		if w.heldMsgs().svarInn[f.ID] && f.Acknowledged {
			acked++
		}
	}
	if acked != len(w.held.svarInn) {
		return fmt.Errorf("SvarInn has %d of the %d held forsendelser acknowledged", acked, len(w.held.svarInn))
	}
	return nil
}
