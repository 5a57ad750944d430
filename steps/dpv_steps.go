package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/cucumber/godog"

	"github.com/efm-harness/efm-harness/simulator/admin"
)

func registerDPVSteps(sc *godog.ScenarioContext) {
	sc.Step(`^the DPV simulator holds the message with the title "([^"]*)" and the attachments "([^"]*)"$`, dpvHolds)
	sc.Step(`^the DPV simulator marks the message read$`, func(ctx context.Context) error { return dpvAction(ctx, http.MethodPost, "/read") })
	sc.Step(`^the DPV simulator deletes the message$`, func(ctx context.Context) error { return dpvAction(ctx, http.MethodDelete, "") })
	sc.Step(`^the DPV simulator rejects uploads with (\d+) "([^"]*)"$`, dpvRejects)
	sc.Step(`^the DPV simulator holds the message for the resource "([^"]*)", marked confidential$`, dpvConfidential)
	sc.Step(`^I create an? "([^"]*)" message to "([^"]*)" with the (DPV|DPF) settings:$`, createWithSettings)
	sc.Step(`^the DPV simulator processes the next upload but loses the answer$`, dpvLosesAnswer)
	sc.Step(`^the DPV simulator holds the message once$`, dpvHoldsOnce)
	sc.Step(`^the DPV simulator notified by "([^"]*)" with "([^"]*)" and (no reminder|a reminder)$`, dpvNotified)
}

// createWithSettings creates a message whose payload carries the channel settings object (dpv or dpf).
func createWithSettings(ctx context.Context, mt, receiver, channel string, doc *godog.DocString) error {
	w := getWorld(ctx)
	m, err := w.sbdJSON(mt, receiver)
	if err != nil {
		return err
	}
	var settings map[string]any
	if err := json.Unmarshal([]byte(doc.Content), &settings); err != nil {
		return fmt.Errorf("%s settings JSON: %w", channel, err)
	}
	payload, ok := m[mt].(map[string]any)
	if !ok {
		return fmt.Errorf("no %s payload to put %s settings in", mt, channel)
	}
	payload[strings.ToLower(channel)] = settings
	b, _ := json.Marshal(m)
	return w.postSBD(ctx, b)
}

func dpvNotified(ctx context.Context, channel, text, reminder string) error {
	w := getWorld(ctx)
	var view struct {
		Correspondence struct {
			Notification struct {
				NotificationChannel string `json:"notificationChannel"`
				SmsBody             string `json:"smsBody"`
				SendReminder        bool   `json:"sendReminder"`
			} `json:"notification"`
		} `json:"correspondence"`
	}
	if err := w.admin("dpv").Message(ctx, w.out.messageID, &view); err != nil {
		return fmt.Errorf("the DPV simulator has no correspondence for the message: %w", err)
	}
	n := view.Correspondence.Notification
	if n.NotificationChannel != channel || n.SmsBody != text || n.SendReminder != (reminder == "a reminder") {
		return fmt.Errorf("notification %+v, want channel %q, text %q, %s", n, channel, text, reminder)
	}
	return nil
}

func dpvConfidential(ctx context.Context, resource string) error {
	w := getWorld(ctx)
	var view struct {
		Correspondence struct {
			ResourceID     string `json:"resourceId"`
			IsConfidential bool   `json:"isConfidential"`
		} `json:"correspondence"`
	}
	if err := w.admin("dpv").Message(ctx, w.out.messageID, &view); err != nil {
		return fmt.Errorf("the DPV simulator has no correspondence for the message: %w", err)
	}
	if view.Correspondence.ResourceID != resource || !view.Correspondence.IsConfidential {
		return fmt.Errorf("resource %q confidential %v, want %q and confidential", view.Correspondence.ResourceID, view.Correspondence.IsConfidential, resource)
	}
	return nil
}

// dpvHolds checks the correspondence of the scenario's message (found by its sendersReference, the
// messageId) at the DPV simulator.
func dpvHolds(ctx context.Context, title, attachments string) error {
	w := getWorld(ctx)
	var view struct {
		Correspondence struct {
			Content struct {
				MessageTitle string `json:"messageTitle"`
			} `json:"content"`
		} `json:"correspondence"`
		Attachments []struct {
			FileName string `json:"fileName"`
		} `json:"attachments"`
	}
	if err := w.admin("dpv").Message(ctx, w.out.messageID, &view); err != nil {
		return fmt.Errorf("the DPV simulator has no correspondence for the message: %w", err)
	}
	if view.Correspondence.Content.MessageTitle != title {
		return fmt.Errorf("title %q, want %q", view.Correspondence.Content.MessageTitle, title)
	}
	var got []string
	for _, a := range view.Attachments {
		got = append(got, a.FileName)
	}
	if strings.Join(got, ", ") != attachments {
		return fmt.Errorf("attachments %q, want %q", strings.Join(got, ", "), attachments)
	}
	return nil
}

func dpvAction(ctx context.Context, method, suffix string) error {
	w := getWorld(ctx)
	return w.admin("dpv").Do(ctx, method, "/messages/"+w.out.messageID+suffix, nil, nil)
}

func dpvRejects(ctx context.Context, status int, detail string) error {
	w := getWorld(ctx)
	w.faulted["dpv"] = true
	return w.admin("dpv").SetBehaviour(ctx, map[string]any{"reject": map[string]any{"status": status, "detail": detail}})
}

func dpvLosesAnswer(ctx context.Context) error {
	w := getWorld(ctx)
	w.faulted["dpv"] = true
	return w.admin("dpv").SetFault(ctx, admin.Fault{Mode: admin.ModeDrop, Count: 1, Methods: []string{http.MethodPost},
		Paths: []string{"/correspondence/api/v1/correspondence/upload"}})
}

func dpvHoldsOnce(ctx context.Context) error {
	w := getWorld(ctx)
	var list struct {
		Correspondences []struct {
			SendersReference string `json:"sendersReference"`
		} `json:"correspondences"`
	}
	if err := w.admin("dpv").Messages(ctx, &list); err != nil {
		return err
	}
	n := 0
	for _, c := range list.Correspondences {
		if c.SendersReference == w.out.messageID {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("the DPV simulator holds %d correspondences for the message, want 1", n)
	}
	return nil
}
