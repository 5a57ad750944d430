package dpo_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/bearer"
	"github.com/efm-harness/efm-harness/simulator/dpo"
)

// TestSendReceive plays a full DPO exchange between two organisations as two integration points do it:
// A initialises (with and without the trailing slash) and uploads two transfers to B; B polls, reads the
// overviews, downloads and confirms; confirmed transfers are no longer listed.
func TestSendReceive(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	aWrite := e.altinnToken(t, orgA, dpo.ScopeWrite)
	aRead := e.altinnToken(t, orgA, dpo.ScopeRead)
	bRead := e.altinnToken(t, orgB, dpo.ScopeRead)

	created1 := e.clock.Tick()
	id1 := e.initialize(t, aWrite, "/broker/api/v1/filetransfer/", initBody(orgA, orgB))
	e.clock.Tick()
	id2 := e.initialize(t, aWrite, "/broker/api/v1/filetransfer", initBody(orgA, orgB))
	// Initialised but not uploaded: the recipient already sees it with recipientStatus alone, not when it
	// asks for Published ones.
	if got := e.list(t, bRead, "&status=Published&recipientStatus=Initialized"); len(got) != 0 {
		t.Errorf("before upload: %v", got)
	}
	if got := e.list(t, bRead, "&recipientStatus=Initialized"); !slices.Equal(got, []string{id2, id1}) {
		t.Errorf("before upload, any status: %v", got)
	}
	payload1, payload2 := zipOf(t, "sbd.json", []byte(`{"x":1}`)), zipOf(t, "sbd.json", []byte(`{"x":2}`))
	published1 := e.clock.Tick()
	e.upload(t, aWrite, id1, payload1)
	e.clock.Tick()
	e.upload(t, aWrite, id2, payload2)
	e.clock.Tick()

	poll := "&status=Published&recipientStatus=Initialized"
	for _, tt := range []struct {
		name, token, query string
		want               []string
	}{
		{"the integration point's poll, newest first", bRead, poll, []string{id2, id1}},
		{"oldest first", bRead, poll + "&orderAscending=true", []string{id1, id2}},
		{"case-insensitive enums", bRead, "&status=published&recipientStatus=initialized", []string{id2, id1}},
		{"no filter: sent or received", bRead, "", []string{id2, id1}},
		{"role Sender for the receiver", bRead, "&role=Sender", nil},
		{"role Sender for the sender", aRead, "&role=Sender", []string{id2, id1}},
		{"the sender is no recipient", aRead, "&recipientStatus=Initialized", nil},
		{"status Initialized", bRead, "&status=Initialized", nil},
		{"recipientStatus DownloadStarted", bRead, "&recipientStatus=DownloadStarted", nil},
		{"from after the first was published", bRead, "&status=Published&from=" + published1.Format(time.RFC3339), []string{id2}},
		{"to before the second was created", bRead, "&to=" + created1.Add(time.Second).Format(time.RFC3339), []string{id1}},
	} {
		if got := e.list(t, tt.token, tt.query); !slices.Equal(got, tt.want) {
			t.Errorf("%s: list %q = %v, want %v", tt.name, tt.query, got, tt.want)
		}
	}

	// The overview, as the sender and as the recipient.
	o := e.overview(t, bRead, id1)
	want := dpo.FileTransferOverview{
		FileTransferID: id1, ResourceID: dpo.DefaultResource, FileName: "sbd.zip",
		SendersFileTransferReference: ptr("ref-" + orgA), UseVirusScan: true, FileTransferSize: int64(len(payload1)),
		FileTransferStatus: "Published", FileTransferStatusText: "Ready for download",
		FileTransferStatusChanged: stamp(published1), Created: stamp(created1),
		ExpirationTime: stamp(created1.Add(30 * 24 * time.Hour)), Sender: "0192:" + orgA,
		Recipients: []dpo.RecipientStatus{{Recipient: "0192:" + orgB, CurrentRecipientFileTransferStatusCode: "Initialized",
			CurrentRecipientFileTransferStatusText: "Initialized", CurrentRecipientFileTransferStatusChanged: stamp(created1)}},
		PropertyList: map[string]string{}, Published: ptr(stamp(published1)),
	}
	if diff := cmp.Diff(want, o); diff != "" {
		t.Errorf("overview (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, e.overview(t, aWrite, id1)); diff != "" {
		t.Errorf("overview for the sender (-want +got):\n%s", diff)
	}
	if a := e.do(t, http.MethodGet, "/broker/api/v1/filetransfer/"+id1, bRead, "", nil); !strings.Contains(a.body, `"created":"2026-11-22T10:00:`) ||
		!strings.Contains(a.body, `+00:00"`) || a.header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("overview wire form: %s %s", a.header.Get("Content-Type"), a.body)
	}

	// Download and confirm the first.
	a := e.do(t, http.MethodGet, "/broker/api/v1/filetransfer/"+id1+"/download", bRead, "", nil)
	if a.status != http.StatusOK || a.body != string(payload1) || a.header.Get("Content-Type") != "application/octet-stream" ||
		a.header.Get("Content-Disposition") != "attachment; filename=sbd.zip" {
		t.Fatalf("download: %d %v", a.status, a.header)
	}
	if got := e.overview(t, bRead, id1).Recipients[0].CurrentRecipientFileTransferStatusCode; got != "DownloadStarted" {
		t.Errorf("after download: recipient %s", got)
	}
	if got := e.list(t, bRead, poll); !slices.Equal(got, []string{id2}) {
		t.Errorf("after download: %v", got)
	}
	if got := e.list(t, bRead, "&recipientStatus=DownloadStarted"); !slices.Equal(got, []string{id1}) {
		t.Errorf("DownloadStarted: %v", got)
	}
	if a := e.do(t, http.MethodPost, "/broker/api/v1/filetransfer/"+id1+"/confirmdownload", bRead, "", nil); a.status != http.StatusNoContent || a.body != "" {
		t.Fatalf("confirm: %d %s", a.status, a.body)
	}
	o = e.overview(t, bRead, id1)
	if o.FileTransferStatus != "AllConfirmedDownloaded" || o.FileTransferStatusText != "All downloaded" ||
		o.Recipients[0].CurrentRecipientFileTransferStatusCode != "DownloadConfirmed" ||
		o.Recipients[0].CurrentRecipientFileTransferStatusText != "Recipient has downloaded fileTransfer" {
		t.Errorf("after confirm: %+v", o)
	}
	if got := e.list(t, bRead, poll); !slices.Equal(got, []string{id2}) {
		t.Errorf("after confirm: %v", got)
	}
	if got := e.list(t, bRead, "&recipientStatus=DownloadConfirmed"); !slices.Equal(got, []string{id1}) {
		t.Errorf("DownloadConfirmed: %v", got)
	}
	// A confirmed transfer can still be downloaded; it stays confirmed.
	if a := e.do(t, http.MethodGet, "/broker/api/v1/filetransfer/"+id1+"/download", bRead, "", nil); a.status != http.StatusOK {
		t.Errorf("download after confirm: %d", a.status)
	}
	if got := e.overview(t, bRead, id1).Recipients[0].CurrentRecipientFileTransferStatusCode; got != "DownloadConfirmed" {
		t.Errorf("download after confirm: recipient %s", got)
	}

	// The details carry the histories.
	a = e.do(t, http.MethodGet, "/broker/api/v1/filetransfer/"+id1+"/details", aRead, "", nil)
	var d dpo.FileTransferDetails
	if a.status != http.StatusOK || json.Unmarshal([]byte(a.body), &d) != nil {
		t.Fatalf("details: %d %s", a.status, a.body)
	}
	var statuses, recipientStatuses []string
	for _, h := range d.FileTransferStatusHistory {
		statuses = append(statuses, h.FileTransferStatus)
	}
	for _, h := range d.RecipientFileTransferStatusHistory {
		recipientStatuses = append(recipientStatuses, h.RecipientFileTransferStatusCode)
	}
	if diff := cmp.Diff([]string{"Initialized", "UploadStarted", "UploadProcessing", "Published", "AllConfirmedDownloaded"}, statuses); diff != "" {
		t.Errorf("status history (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Initialized", "DownloadStarted", "DownloadConfirmed"}, recipientStatuses); diff != "" {
		t.Errorf("recipient status history (-want +got):\n%s", diff)
	}

	// The admin listing shows both.
	list := e.srv.Transfers()
	if len(list) != 2 || list[0].ID != id1 || list[0].Status != "AllConfirmedDownloaded" || list[1].Status != "Published" ||
		list[0].Recipients[0].Status != "DownloadConfirmed" || list[0].Size != int64(len(payload1)) {
		t.Errorf("Transfers() = %+v", list)
	}
}

// TestMultipleRecipients: a transfer is AllConfirmedDownloaded only when every recipient confirmed.
func TestMultipleRecipients(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	aWrite := e.altinnToken(t, orgA, dpo.ScopeWrite)
	bRead := e.altinnToken(t, orgB, dpo.ScopeRead)
	cRead := e.altinnToken(t, orgOutside, dpo.ScopeRead)
	// A recipient named twice (in both forms) counts once.
	body := []byte(`{"fileName":"f","resourceId":"urn:altinn:resource:` + dpo.DefaultResource + `","sender":"urn:altinn:organization:identifier-no:` +
		orgA + `","recipients":["0192:` + orgB + `","urn:altinn:organization:identifier-no:` + orgOutside + `","0192:` + orgB + `"]}`)
	id := e.initialize(t, aWrite, "/broker/api/v1/filetransfer", body)
	e.upload(t, aWrite, id, []byte("data"))
	for i, tok := range []string{bRead, cRead} {
		e.do(t, http.MethodGet, "/broker/api/v1/filetransfer/"+id+"/download", tok, "", nil)
		if a := e.do(t, http.MethodPost, "/broker/api/v1/filetransfer/"+id+"/confirmdownload", tok, "", nil); a.status != http.StatusNoContent {
			t.Fatalf("confirm %d: %d %s", i, a.status, a.body)
		}
		o := e.overview(t, tok, id)
		want := map[int]string{0: "Published", 1: "AllConfirmedDownloaded"}[i]
		if o.FileTransferStatus != want || len(o.Recipients) != 2 || o.Sender != "0192:"+orgA || o.ResourceID != dpo.DefaultResource {
			t.Errorf("after confirm %d: %+v", i, o)
		}
	}
	// Confirming again once all are confirmed is refused, as Altinn does (the transfer is no longer
	// Published).
	if a := e.do(t, http.MethodPost, "/broker/api/v1/filetransfer/"+id+"/confirmdownload", bRead, "", nil); a.status != http.StatusBadRequest ||
		problemCode(a.body) != "BRO-00010" {
		t.Errorf("second confirm: %d %s", a.status, a.body)
	}
}

func TestExchange(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	claims := mpClaims(e, orgA, "altinn:broker.write")
	claims["supplier"] = map[string]any{"authority": "iso6523-actorid-upis", "ID": "0192:" + orgB}
	a := e.do(t, http.MethodGet, dpo.ExchangePath, signMP(t, claims), "", nil)
	if a.status != http.StatusOK || a.header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("exchange: %d %s %s", a.status, a.header.Get("Content-Type"), a.body)
	}
	if strings.HasPrefix(a.body, `"`) || strings.Count(a.body, ".") != 2 || strings.TrimSpace(a.body) != a.body {
		t.Fatalf("exchange body is not a bare JWT: %q", a.body)
	}
	now := e.clock.Now()
	got, err := bearer.NewStaticVerifier(e.srv.AltinnKeys()).WithClock(func() time.Time { return now }).Verify(context.Background(), a.body)
	if err != nil {
		t.Fatalf("the Altinn token does not verify with AltinnKeys: %v", err)
	}
	if d := got.Expiry.Sub(got.IssuedAt); d < 30*time.Minute {
		t.Errorf("lifetime %v, want at least 30 min", d)
	}
	for _, k := range []string{"scope", "client_id", "consumer", "supplier", "authorization_details", "client_amr"} {
		want, _ := json.Marshal(claims[k])
		have, _ := json.Marshal(got.Raw[k])
		if string(want) != string(have) {
			t.Errorf("claim %s = %s, want %s", k, have, want)
		}
	}
	if got.Raw["urn:altinn:orgNumber"] != orgA || got.SystemUserOrg() != orgA || !strings.HasSuffix(got.Issuer, "/authentication/api/v1/openid/") {
		t.Errorf("claims %v", got.Raw)
	}

	// Both key endpoints serve the key set; the OpenID configuration points at one.
	for _, p := range []string{dpo.JWKSPath, dpo.OpenIDJWKSPath} {
		a := e.do(t, http.MethodGet, p, "", "", nil)
		var set jose.JSONWebKeySet
		if a.status != http.StatusOK || json.Unmarshal([]byte(a.body), &set) != nil || len(set.Keys) != 1 ||
			set.Keys[0].KeyID != e.srv.AltinnKeys().Keys[0].KeyID || !set.Keys[0].IsPublic() || len(set.Keys[0].Certificates) != 1 {
			t.Errorf("%s: %d %s", p, a.status, a.body)
		}
	}
	var cfg dpo.OpenIDConfiguration
	if a := e.do(t, http.MethodGet, dpo.OpenIDConfigPath, "", "", nil); json.Unmarshal([]byte(a.body), &cfg) != nil ||
		cfg.JWKSURI != e.ts.URL+dpo.OpenIDJWKSPath || cfg.Issuer != e.ts.URL+"/authentication/api/v1/openid/" {
		t.Errorf("openid configuration: %s", a.body)
	}

	// Refusals.
	expired := mpClaims(e, orgA, dpo.ScopeWrite)
	expired["exp"] = e.clock.Now().Add(-time.Minute).Unix()
	expired["iat"] = e.clock.Now().Add(-3 * time.Minute).Unix()
	foreign := signWith(t, credential(t, orgA).Key, "mp", mpClaims(e, orgA, dpo.ScopeWrite))
	for name, tok := range map[string]string{"none": "", "garbage": "abc", "expired": signMP(t, expired), "wrong key": foreign} {
		a := e.do(t, http.MethodGet, dpo.ExchangePath, tok, "", nil)
		if a.status != http.StatusUnauthorized || !isProblem(a) || a.header.Get("Www-Authenticate") == "" {
			t.Errorf("%s: %d %v %s", name, a.status, a.header, a.body)
		}
	}
}

// TestExchangeUnverified: without a Maskinporten verifier the exchange reads tokens without checking
// their signature, and the broker then takes only its own Altinn tokens.
func TestExchangeUnverified(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *dpo.Options) { o.Maskinporten = nil })
	forged := signWith(t, credential(t, orgA).Key, "x", mpClaims(e, orgA, dpo.ScopeWrite))
	a := e.do(t, http.MethodGet, dpo.ExchangePath, forged, "", nil)
	if a.status != http.StatusOK {
		t.Fatalf("exchange: %d %s", a.status, a.body)
	}
	if a := e.do(t, http.MethodPost, "/broker/api/v1/filetransfer", a.body, "application/json", initBody(orgA, orgB)); a.status != http.StatusOK {
		t.Errorf("init with the exchanged token: %d %s", a.status, a.body)
	}
	if a := e.do(t, http.MethodPost, "/broker/api/v1/filetransfer", forged, "application/json", initBody(orgA, orgB)); a.status != http.StatusUnauthorized {
		t.Errorf("init with the Maskinporten token: %d %s", a.status, a.body)
	}
}

// TestAccess: scopes, the caller's organisation, and who may see what.
func TestAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	aWrite := e.altinnToken(t, orgA, dpo.ScopeWrite)
	id := e.initialize(t, aWrite, "/broker/api/v1/filetransfer", initBody(orgA, orgB))
	e.upload(t, aWrite, id, []byte("data"))
	unpublished := e.initialize(t, aWrite, "/broker/api/v1/filetransfer", initBody(orgA, orgB))

	aRead := e.altinnToken(t, orgA, dpo.ScopeRead)
	bWrite := e.altinnToken(t, orgB, dpo.ScopeWrite)
	outsider := e.altinnToken(t, orgOutside, dpo.ScopeRead+" "+dpo.ScopeWrite)
	// A Maskinporten token straight on the broker is accepted, as real Altinn accepts it.
	bMaskinporten := signMP(t, mpClaims(e, orgB, dpo.ScopeRead))
	// A token for a reportee: the system user's organisation is the caller, not the consumer.
	reporteeClaims := mpClaims(e, orgB, dpo.ScopeRead)
	reporteeClaims["consumer"] = map[string]any{"authority": "iso6523-actorid-upis", "ID": "0192:" + orgOutside}
	reportee := signMP(t, reporteeClaims)
	// Without authorization_details the consumer is the caller.
	consumerOnly := mpClaims(e, orgB, dpo.ScopeRead)
	delete(consumerOnly, "authorization_details")
	noOrg := mpClaims(e, orgB, dpo.ScopeRead)
	delete(noOrg, "authorization_details")
	delete(noOrg, "consumer")
	expiredMP := mpClaims(e, orgB, dpo.ScopeRead)
	expiredMP["exp"] = fixtures.ClockStart.Unix()
	expiredAltinn := signWith(t, credential(t, "altinn").Key, e.srv.AltinnKeys().Keys[0].KeyID,
		map[string]any{"scope": dpo.ScopeRead, "exp": fixtures.ClockStart.Unix(), "consumer": map[string]any{"ID": "0192:" + orgB}})

	base := "/broker/api/v1/filetransfer/"
	tests := []struct {
		name, method, path, token string
		body                      []byte
		wantStatus                int
		wantCode                  string
	}{
		{"no token", http.MethodGet, base + id, "", nil, 401, ""},
		{"garbage token", http.MethodGet, base + id, "abc", nil, 401, ""},
		{"expired Altinn token", http.MethodGet, base + id, expiredAltinn, nil, 401, ""},
		{"expired Maskinporten token", http.MethodGet, base + id, signMP(t, expiredMP), nil, 401, ""},
		{"init needs write", http.MethodPost, base, aRead, initBody(orgA, orgB), 403, ""},
		{"upload needs write", http.MethodPost, base + unpublished + "/upload", aRead, []byte("x"), 403, ""},
		{"download needs read", http.MethodGet, base + id + "/download", bWrite, nil, 403, ""},
		{"confirm needs read", http.MethodPost, base + id + "/confirmdownload", bWrite, nil, 403, ""},
		{"overview with write", http.MethodGet, base + id, bWrite, nil, 200, ""},
		{"list with write", http.MethodGet, "/broker/api/v1/filetransfer?resourceId=" + dpo.DefaultResource, bWrite, nil, 200, ""},
		{"init for another sender", http.MethodPost, base, aWrite, initBody(orgB, orgA), 401, "BRO-00006"},
		{"upload by another org", http.MethodPost, base + unpublished + "/upload", bWrite, []byte("x"), 401, "BRO-00006"},
		{"overview by an outsider", http.MethodGet, base + id, outsider, nil, 401, "BRO-00006"},
		{"details by an outsider", http.MethodGet, base + id + "/details", outsider, nil, 401, "BRO-00006"},
		{"download by the sender", http.MethodGet, base + id + "/download", aRead, nil, 401, "BRO-00006"},
		{"confirm by an outsider", http.MethodPost, base + id + "/confirmdownload", outsider, nil, 401, "BRO-00006"},
		{"Maskinporten token", http.MethodGet, base + id, bMaskinporten, nil, 200, ""},
		{"reportee's system user", http.MethodGet, base + id, reportee, nil, 200, ""},
		{"consumer without system user", http.MethodGet, base + id, signMP(t, consumerOnly), nil, 200, ""},
		{"token naming no organisation", http.MethodGet, base + id, signMP(t, noOrg), nil, 401, "BRO-00006"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct := ""
			if tt.body != nil {
				ct = "application/json"
				if strings.HasSuffix(tt.path, "/upload") {
					ct = "application/octet-stream"
				}
			}
			a := e.do(t, tt.method, tt.path, tt.token, ct, tt.body)
			if a.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", a.status, tt.wantStatus, a.body)
			}
			if tt.wantStatus >= 400 && (!isProblem(a) || problemCode(a.body) != tt.wantCode) {
				t.Errorf("body %s, want a problem with code %q", a.body, tt.wantCode)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.999999-07:00") }
