package altinn

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel/channeltest"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/oidc"
)

// exchanger answers the token exchange with the statuses in answers, one per call, then 200.
type exchanger struct {
	mu      sync.Mutex
	answers []int
	tokens  []string // the Maskinporten tokens it was shown
}

func (x *exchanger) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.tokens = append(x.tokens, r.Header.Get("Authorization"))
	if len(x.answers) > 0 {
		status := x.answers[0]
		x.answers = x.answers[1:]
		http.Error(w, "refused", status)
		return
	}
	_, _ = w.Write([]byte("altinn-token\n"))
}

func TestExchangeRetriesARefusedCachedToken(t *testing.T) {
	tests := []struct {
		name      string
		answers   []int
		fresh     bool
		wantCalls int
		wantErr   bool
	}{
		{name: "accepted at once", wantCalls: 1},
		{name: "cached token refused once", answers: []int{401}, wantCalls: 2},
		{name: "cached token forbidden once", answers: []int{403}, wantCalls: 2},
		{name: "fresh token refused too", answers: []int{401, 401}, wantCalls: 2, wantErr: true},
		{name: "fresh token asked for and refused", answers: []int{401}, fresh: true, wantCalls: 1, wantErr: true},
	}
	mp := channeltest.StartMaskinporten(t, fixtures.MustLoadPKI())
	hc := &http.Client{Timeout: 5 * time.Second}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := &exchanger{answers: tt.answers}
			srv := httptest.NewServer(x)
			t.Cleanup(srv.Close)
			e := NewExchange(srv.URL, mp.Tokens("910077473", hc), hc, nil)
			got, err := e.Token(context.Background(), oidc.Request{Scopes: []string{"altinn:broker.read"}}, tt.fresh)
			if tt.wantErr {
				var perm *channel.PermanentError
				if !errors.As(err, &perm) {
					t.Fatalf("error %v, want a permanent authentication failure", err)
				}
			} else if err != nil || got != "altinn-token" {
				t.Fatalf("Token = %q, %v; want altinn-token", got, err)
			}
			if len(x.tokens) != tt.wantCalls {
				t.Fatalf("exchange called %d times, want %d", len(x.tokens), tt.wantCalls)
			}
			if tt.wantCalls == 2 && x.tokens[0] == x.tokens[1] {
				t.Error("the second exchange was shown the refused Maskinporten token again")
			}
			if !tt.wantErr {
				// The Altinn token is cached now: no further exchange.
				if _, err := e.Token(context.Background(), oidc.Request{Scopes: []string{"altinn:broker.read"}}, false); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.wantCalls, len(x.tokens)); diff != "" {
					t.Errorf("exchange calls after a cached Token (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestAFreshTokenDropsTheRefusedOne(t *testing.T) {
	mp := channeltest.StartMaskinporten(t, fixtures.MustLoadPKI())
	hc := &http.Client{Timeout: 5 * time.Second}
	x := &exchanger{}
	srv := httptest.NewServer(x)
	t.Cleanup(srv.Close)
	e := NewExchange(srv.URL, mp.Tokens("910077473", hc), hc, nil)
	req := oidc.Request{Scopes: []string{"altinn:broker.read"}}
	if _, err := e.Token(context.Background(), req, false); err != nil {
		t.Fatal(err)
	}
	// The broker refused the Altinn token; the fresh exchange fails (say Maskinporten is down).
	x.mu.Lock()
	x.answers = []int{503}
	x.mu.Unlock()
	if _, err := e.Token(context.Background(), req, true); err == nil {
		t.Fatal("the fresh exchange should have failed")
	}
	// The next ordinary call must not fall back on the refused token: it exchanges again.
	before := len(x.tokens)
	if _, err := e.Token(context.Background(), req, false); err != nil {
		t.Fatal(err)
	}
	if len(x.tokens) != before+1 {
		t.Errorf("exchange calls %d → %d: the refused Altinn token was used again", before, len(x.tokens))
	}
}
