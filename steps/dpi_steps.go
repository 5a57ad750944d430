package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/cucumber/godog"
)

func registerDPISteps(sc *godog.ScenarioContext) {
	sc.Step(`^I create an? "([^"]*)" message to "([^"]*)" with the payload fields:$`, createWithPayloadFields)
	sc.Step(`^I create an? "([^"]*)" message without a receiver with the payload fields:$`, createWithoutReceiver)
	sc.Step(`^I upload "([^"]*)" as "([^"]*)" with the content "([^"]*)"$`, uploadText)
	sc.Step(`^I upload a (\d+) MiB PDF named "([^"]*)"$`, uploadLargePDF)
	sc.Step(`^the DPI simulator holds the message with:$`, dpiHolds)
	sc.Step(`^the DPI simulator holds the documents "([^"]*)" as they were uploaded, decrypted$`, dpiDocuments)
	sc.Step(`^the DPI simulator sends an? "([^"]*)" receipt for the message$`, dpiSendsReceipt)
	sc.Step(`^the DPI simulator behaves:$`, dpiBehaves)
	sc.Step(`^the DPI simulator printed to the address the register has for "([^"]*)"$`, dpiPrintedToRegisterAddress)
}

// mergeFields sets the top-level members of the JSON object doc in the payload (null removes one).
func mergeFields(m map[string]any, mt string, doc *godog.DocString) error {
	var fields map[string]any
	if err := json.Unmarshal([]byte(doc.Content), &fields); err != nil {
		return fmt.Errorf("payload fields JSON: %w", err)
	}
	payload, ok := m[mt].(map[string]any)
	if !ok {
		return fmt.Errorf("no %s payload to put the fields in", mt)
	}
	for k, v := range fields {
		if v == nil {
			delete(payload, k)
			continue
		}
		payload[k] = v
	}
	return nil
}

func createWithPayloadFields(ctx context.Context, mt, receiver string, doc *godog.DocString) error {
	w := getWorld(ctx)
	m, err := w.sbdJSON(mt, receiver)
	if err != nil {
		return err
	}
	if err := mergeFields(m, mt, doc); err != nil {
		return err
	}
	b, _ := json.Marshal(m)
	return w.postSBD(ctx, b)
}

// createWithoutReceiver creates a message with no receiver in the SBD header (print to an address only).
func createWithoutReceiver(ctx context.Context, mt string, doc *godog.DocString) error {
	w := getWorld(ctx)
	m, err := w.sbdJSON(mt, "{citizen:reserved}")
	if err != nil {
		return err
	}
	delete(m["standardBusinessDocumentHeader"].(map[string]any), "receiver")
	if err := mergeFields(m, mt, doc); err != nil {
		return err
	}
	b, _ := json.Marshal(m)
	return w.postSBD(ctx, b)
}

// uploadLargePDF uploads a PDF of mib mebibytes (a PDF header and padding).
func uploadLargePDF(ctx context.Context, mib int, name string) error {
	body := make([]byte, mib<<20)
	copy(body, "%PDF-1.4\n")
	return getWorld(ctx).upload(ctx, name, "application/pdf", body, true)
}

func uploadText(ctx context.Context, name, contentType, content string) error {
	return getWorld(ctx).upload(ctx, name, contentType, []byte(content), true)
}

// dpiView is the DPI simulator's admin view of the scenario's message.
func (w *world) dpiView(ctx context.Context, content bool) (map[string]any, error) {
	if w.out == nil || w.out.messageID == "" {
		return nil, fmt.Errorf("no message has been created")
	}
	path := "/messages/" + w.out.messageID
	if content {
		path += "?content=true"
	}
	var v map[string]any
	if err := w.admin("dpi").Do(ctx, http.MethodGet, path, nil, &v); err != nil {
		return nil, fmt.Errorf("the DPI simulator has no message %s: %w", w.out.messageID, err)
	}
	return v, nil
}

// dpiHolds checks fields of the DPI simulator's view of the message (the business message under
// digital or utskrift, the manifest, receiver, kanal, …) by dotted path.
func dpiHolds(ctx context.Context, table *godog.Table) error {
	w := getWorld(ctx)
	v, err := w.dpiView(ctx, false)
	if err != nil {
		return err
	}
	return w.checkTable(v, table, "the DPI message")
}

// checkTable compares a path | value table against a decoded JSON value; values may hold placeholders.
func (w *world) checkTable(v any, table *godog.Table, what string) error {
	var problems []string
	for _, row := range table.Rows {
		if len(row.Cells) != 2 {
			return fmt.Errorf("each row needs a path and a value")
		}
		path := row.Cells[0].Value
		want, err := w.expand(row.Cells[1].Value)
		if err != nil {
			return err
		}
		got, err := jsonPath(v, path)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if stringOf(got) != want {
			problems = append(problems, fmt.Sprintf("%s is %s, want %s", path, stringOf(got), want))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s differs:\n  %s", what, strings.Join(problems, "\n  "))
	}
	return nil
}

// dpiDocuments checks the documents of the dokumentpakke (manifest.xml aside), in order, against the
// files uploaded.
func dpiDocuments(ctx context.Context, names string) error {
	w := getWorld(ctx)
	v, err := w.dpiView(ctx, true)
	if err != nil {
		return err
	}
	var docs []struct {
		Name    string `json:"name"`
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	b, _ := json.Marshal(v["documents"])
	if err := json.Unmarshal(b, &docs); err != nil {
		return err
	}
	var got []document
	for _, d := range docs {
		if d.Name != "manifest.xml" {
			got = append(got, document{d.Name, d.Content})
		}
	}
	return w.asUploaded(got, names)
}

func dpiSendsReceipt(ctx context.Context, typ string) error {
	w := getWorld(ctx)
	if w.out == nil || w.out.messageID == "" {
		return fmt.Errorf("no message has been created")
	}
	return w.admin("dpi").Do(ctx, http.MethodPost, "/messages/"+w.out.messageID+"/receipts", map[string]any{"type": typ}, nil)
}

func dpiBehaves(ctx context.Context, doc *godog.DocString) error {
	w := getWorld(ctx)
	var b map[string]any
	if err := json.Unmarshal([]byte(doc.Content), &b); err != nil {
		return fmt.Errorf("behaviour JSON: %w", err)
	}
	w.faulted["dpi"] = true
	return w.admin("dpi").SetBehaviour(ctx, b)
}

// dpiPrintedToRegisterAddress checks that the utskrift went to the postal address the address register
// gives for the citizen's print record.
func dpiPrintedToRegisterAddress(ctx context.Context, citizen string) error {
	w := getWorld(ctx)
	fnr, err := w.expand(citizen)
	if err != nil {
		return err
	}
	r, err := w.do(ctx, http.MethodGet, strings.TrimRight(w.cfg.SRURL, "/")+"/identifier/"+fnr+"/process/urn:no:difi:profile:digitalpost:vedtak:ver1.0", nil, nil)
	if err != nil {
		return err
	}
	var rec struct {
		ServiceRecords []struct {
			PostAddress struct {
				Name       string `json:"name"`
				Street     string `json:"street"`
				PostalCode string `json:"postalCode"`
				PostalArea string `json:"postalArea"`
			} `json:"postAddress"`
		} `json:"serviceRecords"`
	}
	if err := json.Unmarshal(r.Body, &rec); err != nil || len(rec.ServiceRecords) == 0 {
		return fmt.Errorf("the address register has no print record for %s: %d %.200s", fnr, r.Status, r.Body)
	}
	want := rec.ServiceRecords[0].PostAddress
	v, err := w.dpiView(ctx, false)
	if err != nil {
		return err
	}
	got := map[string]string{}
	for _, k := range []string{"navn", "adresselinje1", "postnummer", "poststed"} {
		x, _ := jsonPath(v, "utskrift.mottaker."+k)
		got[k] = stringOf(x)
	}
	street, _, _ := strings.Cut(want.Street, ";")
	if got["navn"] != want.Name || got["adresselinje1"] != street || got["postnummer"] != want.PostalCode || got["poststed"] != want.PostalArea {
		return fmt.Errorf("printed to %v, the register has %+v", got, want)
	}
	return nil
}
