package dpi

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel/channeltest"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// inbox is a corner 2 that lists receipts and records which are read.
type inbox struct {
	mu       sync.Mutex
	receipts map[string]string // id → JWS
	order    []string
	read     []string
	kanal    string
	readCode int
}

func (b *inbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/messages/in":
		b.kanal = r.URL.Query().Get("kanal")
		out := []wire.DPIIncoming{}
		for _, id := range b.order {
			out = append(out, wire.DPIIncoming{Forretningsmelding: b.receipts[id]})
		}
		_ = json.NewEncoder(w).Encode(out)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/read"):
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/messages/in/"), "/read")
		b.read = append(b.read, id)
		if b.readCode != 0 {
			w.WriteHeader(b.readCode)
		}
	default:
		http.NotFound(w, r)
	}
}

// selfSigned makes a receipt signing key and a self-signed certificate valid from notBefore for a day.
func selfSigned(t *testing.T, notBefore time.Time) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "corner 2 receipts"},
		NotBefore: notBefore, NotAfter: notBefore.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return key, cert
}

func receiptJWS(t *testing.T, key *rsa.PrivateKey, cert *x509.Certificate, typ, id, conversationID string) string {
	t.Helper()
	msg := wire.DPIMessage{Header: wire.StandardBusinessDocumentHeader{HeaderVersion: "1.0",
		DocumentIdentification: &wire.DocumentIdentification{Standard: wire.DPIStandard(typ), TypeVersion: "1.0", InstanceIdentifier: id, Type: typ},
		BusinessScope:          &wire.BusinessScope{Scope: []wire.Scope{{Type: wire.ScopeConversationID, InstanceIdentifier: conversationID}}}},
		Kvittering: &wire.DPIKvittering{Avsender: wire.DPIReceiptAvsender{Virksomhetsidentifikator: wire.NewDPIIdentifier("984661185")},
			Mottaker: wire.DPIVirksomhetmottaker{Virksomhetsidentifikator: wire.NewDPIIdentifier(ipOrg)}, Tidspunkt: "2026-12-01T12:00:00Z"}}
	payload, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := dokumentpakke.SignJWS(payload, key, []*x509.Certificate{cert}, "")
	if err != nil {
		t.Fatal(err)
	}
	return jws
}

func TestReceiptsPoll(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	key, cert := selfSigned(t, now.Add(-time.Hour))
	expiredKey, expiredCert := selfSigned(t, now.Add(-48*time.Hour))
	pki := fixtures.MustLoadPKI()
	mp := channeltest.StartMaskinporten(t, pki)

	known, waiting, unknown := uuid.NewString(), uuid.NewString(), uuid.NewString()
	ids := map[string]string{"levert": uuid.NewString(), "waits": uuid.NewString(), "waits too": uuid.NewString(), "stranger": uuid.NewString(),
		"expired": uuid.NewString(), "forged": uuid.NewString()}
	forged := receiptJWS(t, key, cert, wire.DPITypeLeveringskvittering, ids["forged"], known)
	forged = forged[:len(forged)-4] + "AAAA"
	b := &inbox{readCode: http.StatusNotFound, receipts: map[string]string{
		ids["levert"]:    receiptJWS(t, key, cert, wire.DPITypeLeveringskvittering, ids["levert"], known),
		ids["waits"]:     receiptJWS(t, key, cert, wire.DPITypeLeveringskvittering, ids["waits"], waiting),
		ids["waits too"]: receiptJWS(t, key, cert, wire.DPITypeVarslingfeiletkvittering, ids["waits too"], waiting),
		ids["stranger"]:  receiptJWS(t, key, cert, wire.DPITypeLeveringskvittering, ids["stranger"], unknown),
		ids["expired"]:   receiptJWS(t, expiredKey, expiredCert, wire.DPITypeLeveringskvittering, ids["expired"], known),
		ids["forged"]:    forged,
	}, order: []string{ids["levert"], ids["waits"], ids["waits too"], ids["stranger"], ids["expired"], ids["forged"]}}
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	org := pki.MustGet(ipOrg)
	hc := &http.Client{Timeout: 5 * time.Second}
	ch := New(Options{URI: srv.URL, MpcID: "a.b", OrgNumber: ipOrg, Key: org.Key, Certificate: org.Certificate, HTTP: hc,
		Now: func() time.Time { return now }, Tokens: mp.Tokens(ipOrg, hc)})

	var mu sync.Mutex
	waitedOnce := false
	stored := map[string][]wire.ReceiptStatus{}
	sink := SinkFunc(func(_ context.Context, conv string, changes []store.StatusChange) (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case conv == waiting && !waitedOnce:
			waitedOnce = true // as if SENDT were registered right after: a later receipt must still wait
			return true, errors.New("not SENDT yet")
		case conv == unknown:
			return false, nil
		}
		b.mu.Lock()
		alreadyRead := len(b.read)
		b.mu.Unlock()
		if alreadyRead != 0 {
			t.Error("a receipt was marked read before its status was stored")
		}
		for _, c := range changes {
			stored[conv] = append(stored[conv], c.Status)
		}
		return true, nil
	})
	n, err := ch.Receipts(sink).Poll(context.Background())
	if err == nil || !strings.Contains(err.Error(), "not SENDT yet") {
		t.Errorf("poll error %v, want the waiting receipt's", err)
	}
	if n != 2 {
		t.Errorf("handled %d, want 2 (the stored one and the stranger's)", n)
	}
	if d := cmp.Diff(map[string][]wire.ReceiptStatus{known: {wire.StatusMottatt, wire.StatusLevert}}, stored); d != "" {
		t.Errorf("stored (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{ids["levert"], ids["stranger"]}, b.read); d != "" {
		t.Errorf("read (-want +got):\n%s (404 tolerated; the waiting, expired and forged ones stay unread)", d)
	}
	if b.kanal != "a_b" {
		t.Errorf("kanal %q, want a_b", b.kanal)
	}
}
