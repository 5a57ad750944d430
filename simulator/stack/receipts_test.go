package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/sample"
	"github.com/efm-harness/efm-harness/simulator/stack"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// With generate-arkivmelding-receipts, a DPV arkivmelding that is delivered gets a synthesised
// arkivmelding_kvittering OK in the sender's in-queue, and with it LEST.
func TestGeneratedArkivmeldingReceipt(t *testing.T) {
	t.Parallel()
	st, err := stack.Start(context.Background(), stack.Config{Ports: stack.Ports(0), Fast: true, GenerateArkivmeldingReceipts: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ip := st.URL(stack.IP)
	do := func(method, path, contentType, disposition string, body []byte) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, ip+path, bytes.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if disposition != "" {
			req.Header.Set("Content-Disposition", disposition)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s %s answered %d", method, path, resp.StatusCode)
		}
		return resp
	}
	sbd := fixtures.MustSBD(wire.TypeArkivmelding, fixtures.SBDSpec{Receiver: st.Population().Org(fixtures.RoleDPV).Orgnr})
	b, _ := json.Marshal(sbd)
	do(http.MethodPost, "/api/messages/out", "application/json", "", b).Body.Close()
	am, _ := sample.BuildArkivmelding(sample.ArkivmeldingSpec{Documents: []sample.Document{{Filename: "brev.pdf"}}})
	id := sbd.MessageID()
	do(http.MethodPut, "/api/messages/out/"+id, "text/xml", `attachment; name="Arkivmelding"; filename="arkivmelding.xml"`, am).Body.Close()
	do(http.MethodPut, "/api/messages/out/"+id, "application/pdf", `attachment; name="Brev"; filename="brev.pdf"`, sample.PDF("brev")).Body.Close()
	do(http.MethodPost, "/api/messages/out/"+id, "", "", nil).Body.Close()

	deadline := time.Now().Add(10 * time.Second)
	var statuses []string
	for time.Now().Before(deadline) {
		var page struct {
			Content []struct {
				Status string `json:"status"`
			} `json:"content"`
		}
		resp := do(http.MethodGet, "/api/statuses/"+id, "", "", nil)
		_ = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		statuses = statuses[:0]
		for _, s := range page.Content {
			statuses = append(statuses, s.Status)
		}
		if slices.Contains(statuses, "LEST") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !slices.Equal(statuses, []string{"OPPRETTET", "SENDT", "LEVERT", "LEST"}) {
		t.Fatalf("statuses %v, want OPPRETTET, SENDT, LEVERT, LEST", statuses)
	}
	resp := do(http.MethodGet, "/api/messages/in/peek?process="+wire.ProcessArkivmeldingResponse, "", "", nil)
	defer resp.Body.Close()
	var k wire.StandardBusinessDocument
	if err := json.NewDecoder(resp.Body).Decode(&k); err != nil {
		t.Fatalf("peek for the kvittering: %d %v", resp.StatusCode, err)
	}
	kv, ok := k.Message.(*wire.ArkivmeldingKvittering)
	if !ok || kv.RelatedToMessageID != id || kv.ReceiptType != "OK" {
		t.Errorf("in-queue holds %s", fmt.Sprint(k.Message))
	}
}
