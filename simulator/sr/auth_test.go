package sr

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/efm-harness/efm-harness/simulator/wire"
)

// TestAuthTexts: the 401 descriptions say why a token was refused, in the register's words.
func TestAuthTexts(t *testing.T) {
	t.Parallel()
	keys := func(o *Options) { o.TokenKeys = func() (*jose.JSONWebKeySet, error) { return tokenKeySet(t), nil } }
	broken := func(o *Options) { o.TokenKeys = func() (*jose.JSONWebKeySet, error) { return nil, errors.New("boom") } }
	strict := func(o *Options) { keys(o); o.RequireAuth = true }
	valid := mintToken(t, testKey(t, "token"), "mp", testNow.Add(2*time.Minute), orgSender, "eformidling:dpo")
	// Within the minute of leeway an expired token still passes.
	justExpired := mintToken(t, testKey(t, "token"), "mp", testNow.Add(-30*time.Second), orgSender, "eformidling:dpo")
	tests := []struct {
		name       string
		opts       func(*Options)
		auth       string
		wantStatus int
		wantText   string
	}{
		{name: "expired", opts: keys, auth: "Bearer " + mintToken(t, testKey(t, "token"), "mp", testNow.Add(-time.Hour), orgSender, "x"),
			wantStatus: 401, wantText: "Invalid bearer token: token is expired"},
		{name: "forged", opts: keys, auth: "Bearer " + mintToken(t, testKey(t, "forged"), "mp", testNow.Add(time.Hour), orgSender, "x"),
			wantStatus: 401, wantText: "Invalid bearer token: signature does not verify with any token key"},
		{name: "keys unavailable", opts: broken, auth: "Bearer " + valid,
			wantStatus: 401, wantText: "Invalid bearer token: cannot get the token keys: boom"},
		{name: "not a JWT", opts: keys, auth: "Bearer abc", wantStatus: 401, wantText: "Invalid bearer token: not a compact JWS"},
		{name: "required: no header", opts: strict, wantStatus: 401, wantText: "Full authentication is required to access this resource"},
		{name: "leeway", opts: keys, auth: "Bearer " + justExpired, wantStatus: 200},
		{name: "no key source: no exp", opts: nil, auth: "Bearer " + mintToken(t, testKey(t, "forged"), "", time.Time{}, orgSender, "x"), wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, ts, _ := newTestServer(t, tt.opts)
			var headers []string
			if tt.auth != "" {
				headers = []string{"Authorization", tt.auth}
			}
			a := do(t, http.MethodGet, ts.URL+"/identifier/"+orgDPO, "", headers...)
			if a.Status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", a.Status, tt.wantStatus, a.Body)
			}
			if tt.wantText == "" {
				return
			}
			var e wire.RegisterError
			if err := json.Unmarshal([]byte(a.Body), &e); err != nil || e.ErrorDescription != tt.wantText {
				t.Errorf("401 body %s, want description %q", a.Body, tt.wantText)
			}
			if a.Header.Get("Www-Authenticate") != "Bearer" {
				t.Errorf("WWW-Authenticate %q", a.Header.Get("Www-Authenticate"))
			}
		})
	}
}
