package registry

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/sr"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

func setup(t *testing.T, signed bool) (*Client, *httptest.Server, *atomic.Int64) {
	t.Helper()
	pki := fixtures.MustLoadPKI()
	cred := pki.MustGet(fixtures.CredSR)
	reg, err := sr.New(sr.Options{Signer: cred.Key, Certificate: cred.Certificate, Registrations: fixtures.Default().Registrations(pki),
		SvarUtCertificate: pki.MustGet(fixtures.CredSvarUt).CertificatePEM()})
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	h := reg.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/jwk" {
			calls.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return New(Options{BaseURL: srv.URL, Signed: signed, CacheTTL: time.Minute, HTTP: &http.Client{Timeout: time.Second}}), srv, &calls
}

func TestRecordSignedAndCached(t *testing.T) {
	t.Parallel()
	c, _, calls := setup(t, true)
	ctx := context.Background()
	q := Query{Identifier: "910075918", Process: wire.ProcessArkivmeldingAdministrasjon, ConversationID: "c1"}
	rec, err := c.Record(ctx, q, wire.StandardArkivmelding)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Service.Identifier != wire.ServiceDPO || rec.PEMCertificate == "" {
		t.Errorf("record %+v", rec.Service)
	}
	q.ConversationID = "c2" // not part of the cache key
	if _, err := c.Record(ctx, q, wire.StandardArkivmelding); err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d calls to the register, want 1 (cached)", n)
	}
	if _, err := c.Record(ctx, q, wire.StandardDigital); !errors.Is(err, ErrNotFound) {
		t.Errorf("record for a standard the receiver lacks: %v", err)
	}
}

func TestLookupErrors(t *testing.T) {
	t.Parallel()
	c, srv, _ := setup(t, false)
	ctx := context.Background()
	lvl := 4
	tests := []struct {
		q    Query
		kind error
		desc string
	}{
		{Query{Identifier: "841163389"}, ErrNotFound, "Entity with identifier '0192:841163389' not found."},
		{Query{Identifier: "910085379", Process: wire.ProcessArkivmeldingAdministrasjon, SecurityLevel: &lvl}, ErrRefused, "can not receive messages with security level '4'"},
		{Query{Identifier: "16828424402"}, ErrRefused, "Unable to parse identifier"},
	}
	for _, tt := range tests {
		_, err := c.Lookup(ctx, tt.q)
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, tt.kind) || !strings.Contains(e.Description, tt.desc) {
			t.Errorf("%+v: %v, want %v with %q", tt.q, err, tt.kind, tt.desc)
		}
	}
	srv.Close()
	if _, err := c.Lookup(ctx, Query{Identifier: "910075918"}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("closed register: %v", err)
	}
}
