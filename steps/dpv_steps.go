package steps

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/cucumber/godog"
)

func registerDPVSteps(sc *godog.ScenarioContext) {
	sc.Step(`^the DPV simulator holds the message with the title "([^"]*)" and the attachments "([^"]*)"$`, dpvHolds)
	sc.Step(`^the DPV simulator marks the message read$`, func(ctx context.Context) error { return dpvAction(ctx, http.MethodPost, "/read") })
	sc.Step(`^the DPV simulator deletes the message$`, func(ctx context.Context) error { return dpvAction(ctx, http.MethodDelete, "") })
	sc.Step(`^the DPV simulator rejects uploads with (\d+) "([^"]*)"$`, dpvRejects)
	sc.Step(`^the DPV simulator holds the message for the resource "([^"]*)", marked confidential$`, dpvConfidential)
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
