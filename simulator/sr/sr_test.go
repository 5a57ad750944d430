package sr

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/simulator/wire"
)

func TestNewNeedsSigner(t *testing.T) {
	t.Parallel()
	if _, err := New(Options{}); err == nil {
		t.Fatal("New without a signer succeeded")
	}
	_, err := New(Options{Signer: testKey(t, "sr"), Certificate: selfSignedCert(t, testKey(t, "token"), "other")})
	if err == nil {
		t.Fatal("New with a certificate of another key succeeded")
	}
	_, err = New(Options{Signer: testKey(t, "sr"), SvarUtCertificate: "not pem"})
	if err == nil {
		t.Fatal("New with a non-PEM SvarUt certificate succeeded")
	}
	s, err := New(Options{Signer: testKey(t, "sr")})
	if err != nil {
		t.Fatalf("New with only a signer: %v", err)
	}
	if len(s.PublicKeys().Keys) != 1 || len(s.PublicKeys().Keys[0].Certificates) != 1 {
		t.Errorf("self-signed JWK set = %+v, want one key with a certificate", s.PublicKeys())
	}
}

func TestIdentifierJSON(t *testing.T) {
	t.Parallel()
	_, ts, pop := newTestServer(t, nil)
	a := do(t, http.MethodGet, ts.URL+"/identifier/"+orgPartial+"/process/"+wire.ProcessArkivmeldingAdministrasjon+"?securityLevel=3&conversationId=c0ffee", "")
	if a.Status != http.StatusOK || a.ContentType != ContentTypeJSON {
		t.Fatalf("status %d %q, body %s", a.Status, a.ContentType, a.Body)
	}
	var got wire.IdentifierResource
	if err := json.Unmarshal([]byte(a.Body), &got); err != nil {
		t.Fatalf("decode: %v", err)
	}
	reg := pop.reg(t, orgPartial)
	want := wire.IdentifierResource{InfoRecord: InfoRecordOf(reg), ServiceRecords: []wire.ServiceRecord{{
		OrganisationNumber: orgPartial, PEMCertificate: testPEM(t, orgPartial), Process: wire.ProcessArkivmeldingAdministrasjon,
		DocumentTypes: []string{wire.StandardArkivmelding},
		Service: wire.Service{Identifier: wire.ServiceDPO, EndpointURL: DefaultDPOEndpoint, ServiceCode: strp("4192"),
			ServiceEditionCode: strp("270815"), Resource: strp(wire.ResourceDPO)}}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}

	// All records of a DPV organisation: no certificate, and never a null one.
	a = do(t, http.MethodGet, ts.URL+"/identifier/0192:"+orgDPV, "")
	if a.Status != http.StatusOK {
		t.Fatalf("status %d, body %s", a.Status, a.Body)
	}
	if strings.Contains(a.Body, `"pemCertificate"`) {
		t.Errorf("DPV answer has a pemCertificate: %s", a.Body)
	}
	if err := json.Unmarshal([]byte(a.Body), &got); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if diff := cmp.Diff(each("DPV"), summary(got.ServiceRecords)); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(a.Body, `{"infoRecord":{"identifier":"910076787","organizationName":"DØLEMO OG RAMBERG",`) {
		t.Errorf("body starts %.120s", a.Body)
	}
}

func TestCitizenPrintReturnAddressFromToken(t *testing.T) {
	t.Parallel()
	_, ts, pop := newTestServer(t, func(o *Options) {
		o.TokenKeys = func() (*jose.JSONWebKeySet, error) { return tokenKeySet(t), nil }
	})
	tok := mintToken(t, testKey(t, "token"), "mp", testNow.Add(time.Minute), orgSender, "move/dpo.read eformidling:dpi")
	a := do(t, http.MethodGet, ts.URL+"/identifier/"+pop.fnrReserved+"/process/"+wire.ProcessDigitalpostVedtak, "", "Authorization", "Bearer "+tok)
	if a.Status != http.StatusOK {
		t.Fatalf("status %d, body %s", a.Status, a.Body)
	}
	var got wire.IdentifierResource
	if err := json.Unmarshal([]byte(a.Body), &got); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if len(got.ServiceRecords) != 1 {
		t.Fatalf("records %s", a.Body)
	}
	want := &wire.PostAddress{Name: "LOTE OG ÅRVIKSAND", Street: "Skrivarvegen 42", PostalCode: "0468", PostalArea: "OSLO", Country: "Norge"}
	if diff := cmp.Diff(want, got.ServiceRecords[0].ReturnAddress); diff != "" {
		t.Errorf("returnAddress (-want +got):\n%s", diff)
	}
	wantInfo := wire.InfoRecord{Identifier: pop.fnrReserved, EntityType: wire.EntityType{Name: "citizen"}}
	if diff := cmp.Diff(wantInfo, got.InfoRecord); diff != "" {
		t.Errorf("infoRecord (-want +got):\n%s", diff)
	}

	// Anonymous: an empty return address with all five keys.
	a = do(t, http.MethodGet, ts.URL+"/identifier/"+pop.fnrReserved+"/process/"+wire.ProcessDigitalpostVedtak, "")
	if !strings.Contains(a.Body, `"returnAddress":{"name":"","street":"","postalCode":"","postalArea":"","country":""}`) {
		t.Errorf("anonymous print record lacks the empty return address: %s", a.Body)
	}
	// print=false leaves vedtak without records.
	a = do(t, http.MethodGet, ts.URL+"/identifier/"+pop.fnrReserved+"/process/"+wire.ProcessDigitalpostVedtak+"?print=false", "")
	if a.Status != http.StatusNotFound {
		t.Errorf("print=false: status %d, body %s", a.Status, a.Body)
	}
}

// TestErrorBodies checks the error answers byte for byte.
func TestErrorBodies(t *testing.T) {
	t.Parallel()
	_, ts, pop := newTestServer(t, nil)
	bad := invalidFnr(pop.fnrDigital)
	tests := []struct {
		name       string
		path       string
		wantStatus int
		wantBody   string
	}{
		{name: "unknown organisation", path: "/identifier/" + orgUnknown, wantStatus: 404,
			wantBody: `{"error_code":"","error_description":"Entity with identifier '0192:404040404' not found."}`},
		{name: "unknown organisation on the process route", path: "/identifier/" + orgUnknown + "/process/" + wire.ProcessArkivmeldingAdministrasjon,
			wantStatus: 404, wantBody: `{"error_code":"","error_description":"Entity with identifier '0192:404040404' not found."}`},
		{name: "unknown process", path: "/identifier/" + orgDPO + "/process/urn:no:difi:profile:nope:ver1.0", wantStatus: 404,
			wantBody: `{"error_code":"","error_description":"Process urn:no:difi:profile:nope:ver1.0 not found for receiver 910075918"}`},
		{name: "known organisation without a record for the process", path: "/identifier/" + orgPartial + "/process/" + wire.ProcessAvtalt,
			wantStatus: 404, wantBody: `{"error_code":"","error_description":"Process urn:no:difi:profile:avtalt:avtalt:ver1.0 not found for receiver 910094092"}`},
		{name: "unparseable identifier", path: "/identifier/abc", wantStatus: 400,
			wantBody: `{"timestamp":"2026-11-22T10:00:00.000+00:00","status":400,"error":"Bad Request","path":"/identifier/abc","error_code":"","error_description":"Unable to parse identifier = 'abc'"}`},
		{name: "invalid fødselsnummer", path: "/identifier/" + bad + "/process/" + wire.ProcessDigitalpostInfo, wantStatus: 400,
			wantBody: `{"timestamp":"2026-11-22T10:00:00.000+00:00","status":400,"error":"Bad Request","path":"/identifier/` + bad +
				`/process/urn:no:difi:profile:digitalpost:info:ver1.0","error_code":"","error_description":"Unable to parse identifier = '` + bad + `'"}`},
		{name: "unregistered citizen", path: "/identifier/" + pop.fnrUnknown, wantStatus: 404,
			wantBody: `{"message": "No service record found for citizen: ` + pop.fnrUnknown + `"}`},
		{name: "unregistered citizen on the process route", path: "/identifier/" + pop.fnrUnknown + "/process/" + wire.ProcessDigitalpostInfo,
			wantStatus: 404, wantBody: `{"message": "No service record found for citizen: ` + pop.fnrUnknown + `"}`},
		{name: "security level not found", path: "/identifier/" + orgDPF3 + "?securityLevel=4", wantStatus: 400,
			wantBody: `{"error_code":"","error_description":"Organization 'OrganizationInfo(identifier=910085379, organizationName=REIPÅ OG BUGØYNES, organizationType=OrganizationType(name=KOMM))' can not receive messages with security level '4'"}`},
		{name: "bad securityLevel", path: "/identifier/" + orgDPO + "?securityLevel=abc", wantStatus: 400,
			wantBody: `{"error_code":"","error_description":"Invalid value 'abc' for request parameter 'securityLevel': not an integer"}`},
		{name: "bad print", path: "/identifier/" + pop.fnrDigital + "?print=maybe", wantStatus: 400,
			wantBody: `{"error_code":"","error_description":"Invalid value 'maybe' for request parameter 'print': not a boolean (true or false)"}`},
		{name: "info of an unknown organisation", path: "/info/" + orgUnknown, wantStatus: 404, wantBody: ""},
		{name: "virksert of an unknown organisation", path: "/virksert/" + orgUnknown, wantStatus: 404,
			wantBody: `{"error_code":"certificate_not_found","error_description":"Virksert lookup failed - no certificate found for organization number 404040404"}`},
		{name: "no such endpoint", path: "/sastoken", wantStatus: 404,
			wantBody: `{"error_code":"","error_description":"No endpoint GET /sastoken"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := do(t, http.MethodGet, ts.URL+tt.path, "")
			if a.Status != tt.wantStatus {
				t.Errorf("status = %d, want %d", a.Status, tt.wantStatus)
			}
			if diff := cmp.Diff(tt.wantBody, a.Body); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			if tt.wantBody != "" && a.ContentType != ContentTypeJSON {
				t.Errorf("content type %q", a.ContentType)
			}
		})
	}

	a := do(t, http.MethodPost, ts.URL+"/identifier/"+orgDPO, "{}")
	if a.Status != http.StatusMethodNotAllowed || !strings.Contains(a.Body, `"error_code":""`) {
		t.Errorf("POST /identifier: %d %s", a.Status, a.Body)
	}
}

func TestInfoAndVirksert(t *testing.T) {
	t.Parallel()
	_, ts, pop := newTestServer(t, nil)
	a := do(t, http.MethodGet, ts.URL+"/info/"+orgDPF, "")
	want := `{"infoRecord":{"identifier":"910229028","organizationName":"SØMÅDALEN OG BESSAKER REVISJON",` +
		`"postadresse":{"adresse":"Portveien 2","postnummer":"0468","poststed":"OSLO","land":"Norge"},"entityType":{"name":"KOMM"}},"serviceRecords":[]}`
	if a.Status != http.StatusOK || a.Body != want {
		t.Errorf("info: %d\n got %s\nwant %s", a.Status, a.Body, want)
	}
	a = do(t, http.MethodGet, ts.URL+"/info/"+pop.fnrUnknown, "")
	want = `{"infoRecord":{"identifier":"` + pop.fnrUnknown + `","entityType":{"name":"citizen"}},"serviceRecords":[]}`
	if a.Status != http.StatusOK || a.Body != want {
		t.Errorf("citizen info: %d\n got %s\nwant %s", a.Status, a.Body, want)
	}
	a = do(t, http.MethodGet, ts.URL+"/virksert/"+orgDPO, "")
	if a.Status != http.StatusOK || a.Body != testPEM(t, orgDPO) || !strings.HasPrefix(a.ContentType, "text/plain") {
		t.Errorf("virksert: %d %q %q", a.Status, a.ContentType, a.Body)
	}
}

// verifyJWS checks body against the register's /jwk the way the real integration point does (first RSA
// key, RS256) and returns the payload.
func verifyJWS(t *testing.T, base, body string) (string, error) {
	t.Helper()
	a := do(t, http.MethodGet, base+"/jwk", "")
	if a.Status != http.StatusOK || a.ContentType != ContentTypeJSON {
		t.Fatalf("/jwk: %d %q", a.Status, a.ContentType)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(a.Body), &set); err != nil {
		t.Fatalf("/jwk: %v", err)
	}
	if len(set.Keys) != 1 {
		t.Fatalf("/jwk has %d keys", len(set.Keys))
	}
	k := set.Keys[0]
	if k.Algorithm != "RS256" || k.Use != "sig" || k.KeyID == "" || len(k.Certificates) != 1 {
		t.Errorf("/jwk key = alg %q use %q kid %q certs %d", k.Algorithm, k.Use, k.KeyID, len(k.Certificates))
	}
	jws, err := jose.ParseSigned(body, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return "", err
	}
	h := jws.Signatures[0].Header
	if h.KeyID != k.KeyID {
		t.Errorf("JWS header kid %q, jwk kid %q", h.KeyID, k.KeyID)
	}
	payload, err := jws.Verify(k.Key)
	return string(payload), err
}

func TestJWS(t *testing.T) {
	t.Parallel()
	s, ts, _ := newTestServer(t, nil)
	for _, path := range []string{"/identifier/" + orgDPO, "/identifier/" + orgDPF + "/process/" + wire.ProcessArkivmeldingKultur + "?securityLevel=3",
		"/info/" + orgDPO, "/virksert/" + orgDPO} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			plain := do(t, http.MethodGet, ts.URL+path, "")
			signed := do(t, http.MethodGet, ts.URL+path, "", "Accept", "application/jose, application/json")
			if signed.Status != http.StatusOK || signed.ContentType != ContentTypeJOSE {
				t.Fatalf("signed: %d %q %s", signed.Status, signed.ContentType, signed.Body)
			}
			payload, err := verifyJWS(t, ts.URL, signed.Body)
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if diff := cmp.Diff(plain.Body, payload); diff != "" {
				t.Errorf("payload (-plain +signed):\n%s", diff)
			}
			parts := strings.Split(signed.Body, ".")
			if len(parts) != 3 {
				t.Fatalf("not compact: %s", signed.Body)
			}
			var header map[string]any
			hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
			_ = json.Unmarshal(hb, &header)
			if header["alg"] != "RS256" || header["kid"] != s.KeyID() || header["x5c"] == nil {
				t.Errorf("header %s", hb)
			}
			tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(payload+" ")) + "." + parts[2]
			if _, err := verifyJWS(t, ts.URL, tampered); err == nil {
				t.Error("a tampered payload verified")
			}
		})
	}
	// Errors stay plain JSON.
	a := do(t, http.MethodGet, ts.URL+"/identifier/"+orgUnknown, "", "Accept", "application/jose")
	if a.Status != http.StatusNotFound || a.ContentType != ContentTypeJSON {
		t.Errorf("signed error: %d %q", a.Status, a.ContentType)
	}
}

func TestAdminRecords(t *testing.T) {
	t.Parallel()
	s, ts, _ := newTestServer(t, nil)
	const orgnr = "987654321"
	lookup := func() answer { return do(t, http.MethodGet, ts.URL+"/identifier/"+orgnr, "") }
	if a := lookup(); a.Status != http.StatusNotFound {
		t.Fatalf("before PUT: %d", a.Status)
	}

	a := do(t, http.MethodPut, ts.URL+"/__admin/records/"+orgnr, `{"organization":{"name":"NY ETAT","orgForm":"ORGL"}}`)
	if a.Status != http.StatusOK {
		t.Fatalf("PUT: %d %s", a.Status, a.Body)
	}
	var view RecordView
	if err := json.Unmarshal([]byte(a.Body), &view); err != nil {
		t.Fatalf("PUT answer: %v", err)
	}
	if diff := cmp.Diff(each("DPV"), summary(view.ServiceRecords)); diff != "" {
		t.Errorf("PUT view records (-want +got):\n%s", diff)
	}
	if view.Registration.Identifier != orgnr {
		t.Errorf("stored identifier %q", view.Registration.Identifier)
	}
	var res wire.IdentifierResource
	if a := lookup(); a.Status != http.StatusOK || json.Unmarshal([]byte(a.Body), &res) != nil {
		t.Fatalf("after PUT: %d %s", a.Status, a.Body)
	}
	if diff := cmp.Diff(each("DPV"), summary(res.ServiceRecords)); diff != "" {
		t.Errorf("lookup after PUT (-want +got):\n%s", diff)
	}

	// Change it: on eFormidling for administrasjon, addressed in the body under another identifier.
	body, _ := json.Marshal(wire.Registration{Identifier: "111111111", Organization: &wire.OrganizationFacts{Name: "NY ETAT",
		Certificate: testPEM(t, orgnr), SMPProcesses: []string{wire.ProcessArkivmeldingAdministrasjon}}})
	if a := do(t, http.MethodPut, ts.URL+"/__admin/records/0192:"+orgnr, string(body)); a.Status != http.StatusOK {
		t.Fatalf("second PUT: %d %s", a.Status, a.Body)
	}
	a = do(t, http.MethodGet, ts.URL+"/identifier/"+orgnr+"/process/"+wire.ProcessArkivmeldingAdministrasjon, "")
	if a.Status != http.StatusOK || !strings.Contains(a.Body, `"identifier":"DPO"`) {
		t.Errorf("after second PUT: %d %s", a.Status, a.Body)
	}
	if _, ok := s.registration("111111111"); ok {
		t.Error("the body's identifier won over the path's")
	}
	a = do(t, http.MethodGet, ts.URL+"/__admin/records/"+orgnr, "")
	if a.Status != http.StatusOK || json.Unmarshal([]byte(a.Body), &view) != nil || len(view.Registration.Organization.SMPProcesses) != 1 {
		t.Errorf("GET record: %d %s", a.Status, a.Body)
	}
	a = do(t, http.MethodGet, ts.URL+"/__admin/records", "")
	var list []wire.Registration
	if a.Status != http.StatusOK || json.Unmarshal([]byte(a.Body), &list) != nil || len(list) != len(testPopulation(t).regs)+1 {
		t.Errorf("GET records: %d, %d registrations", a.Status, len(list))
	}

	if a := do(t, http.MethodDelete, ts.URL+"/__admin/records/"+orgnr, ""); a.Status != http.StatusOK {
		t.Errorf("DELETE: %d %s", a.Status, a.Body)
	}
	if a := do(t, http.MethodDelete, ts.URL+"/__admin/records/"+orgnr, ""); a.Status != http.StatusNotFound {
		t.Errorf("second DELETE: %d %s", a.Status, a.Body)
	}
	if a := lookup(); a.Status != http.StatusNotFound {
		t.Errorf("after DELETE: %d", a.Status)
	}

	// Removing a seeded one, then resetting, brings it back.
	if a := do(t, http.MethodDelete, ts.URL+"/__admin/records/"+orgDPO, ""); a.Status != http.StatusOK {
		t.Fatalf("DELETE seeded: %d", a.Status)
	}
	if a := do(t, http.MethodPost, ts.URL+"/__admin/reset", ""); a.Status != http.StatusOK {
		t.Fatalf("reset: %d", a.Status)
	}
	if a := do(t, http.MethodGet, ts.URL+"/identifier/"+orgDPO, ""); a.Status != http.StatusOK {
		t.Errorf("after reset: %d", a.Status)
	}
}

func TestAdminPutRejects(t *testing.T) {
	t.Parallel()
	_, ts, pop := newTestServer(t, nil)
	tests := []struct {
		name, id, body, wantInMessage string
	}{
		{name: "bad JSON", id: orgDPO, body: `{"organization":`, wantInMessage: "registration body is not a registration"},
		{name: "unknown field", id: orgDPO, body: `{"organization":{"name":"X","smpProcess":[]}}`, wantInMessage: `unknown field "smpProcess"`},
		{name: "citizen facts on an organisation", id: orgDPO, body: `{"citizen":{}}`, wantInMessage: `takes "organization" facts`},
		{name: "organisation facts on a citizen", id: pop.fnrDigital, body: `{"organization":{"name":"X"}}`, wantInMessage: `takes "citizen" facts`},
		{name: "no facts", id: orgDPO, body: `{}`, wantInMessage: `needs "organization" facts`},
		{name: "bad identifier", id: "abc", body: `{"organization":{"name":"X"}}`, wantInMessage: "Unable to parse identifier = 'abc'"},
		{name: "invalid fødselsnummer", id: invalidFnr(pop.fnrDigital), body: `{"citizen":{}}`, wantInMessage: "mod-11"},
		{name: "bad certificate", id: orgDPO, body: `{"organization":{"name":"X","certificate":"MIIB"}}`, wantInMessage: "organization.certificate is not PEM"},
		{name: "unknown SMP process", id: orgDPO, body: `{"organization":{"name":"X","smpProcesses":["urn:nope"]}}`, wantInMessage: `"urn:nope" is not a process`},
		{name: "digital post in SMP", id: orgDPO, body: `{"organization":{"name":"X","smpProcesses":["` + wire.ProcessDigitalpostInfo + `"]}}`,
			wantInMessage: "DIGITALPOST process"},
		{name: "bad status", id: pop.fnrDigital, body: `{"citizen":{"status":"ACTIVE"}}`, wantInMessage: `status "ACTIVE"`},
		{name: "mailbox without address", id: pop.fnrDigital, body: `{"citizen":{"mailbox":{"providerOrgnr":"984661185"}}}`,
			wantInMessage: `mailbox needs "address"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := do(t, http.MethodPut, ts.URL+"/__admin/records/"+tt.id, tt.body)
			if a.Status != http.StatusBadRequest {
				t.Errorf("status %d, body %s", a.Status, a.Body)
			}
			var p struct{ Message string }
			if err := json.Unmarshal([]byte(a.Body), &p); err != nil || !strings.Contains(p.Message, tt.wantInMessage) {
				t.Errorf("message %q does not contain %q", p.Message, tt.wantInMessage)
			}
		})
	}
	if a := do(t, http.MethodGet, ts.URL+"/identifier/"+orgDPO, ""); a.Status != http.StatusOK {
		t.Errorf("a rejected PUT changed the registration: %d", a.Status)
	}
}

func TestPutAndRegistrations(t *testing.T) {
	t.Parallel()
	s, _, pop := newTestServer(t, nil)
	err := s.Put(wire.Registration{Identifier: "0192:987654321", Organization: &wire.OrganizationFacts{Name: "A"}})
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	err = s.Put(wire.Registration{Identifier: "987654321", Citizen: &wire.CitizenFacts{}})
	if !errors.Is(err, ErrInvalidRegistration) {
		t.Errorf("Put of citizen facts on an orgnr: %v", err)
	}
	regs := s.Registrations()
	if len(regs) != len(pop.regs)+1 {
		t.Fatalf("%d registrations", len(regs))
	}
	for i := 1; i < len(regs); i++ {
		if regs[i-1].Identifier >= regs[i].Identifier {
			t.Errorf("not sorted: %s before %s", regs[i-1].Identifier, regs[i].Identifier)
		}
	}
	regs[0].Identifier = "changed" // a copy
	if s.Registrations()[0].Identifier == "changed" {
		t.Error("Registrations returned the stored value")
	}
	if !s.Delete("987654321") || s.Delete("987654321") || s.Delete("abc") {
		t.Error("Delete answers")
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	keys := func(o *Options) { o.TokenKeys = func() (*jose.JSONWebKeySet, error) { return tokenKeySet(t), nil } }
	strict := func(o *Options) { keys(o); o.RequireAuth = true }
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(tokenKeySet(t))
	}))
	t.Cleanup(jwks.Close)
	byURL := func(o *Options) { o.MaskinportenJWKSURL = jwks.URL }
	none := func(*Options) {}

	valid := mintToken(t, testKey(t, "token"), "mp", testNow.Add(2*time.Minute), orgSender, "move/dpo.read eformidling:dpi")
	noDPI := mintToken(t, testKey(t, "token"), "mp", testNow.Add(2*time.Minute), orgSender, "eformidling:dpo")
	forged := mintToken(t, testKey(t, "forged"), "mp", testNow.Add(2*time.Minute), orgSender, "eformidling:dpi")
	expired := mintToken(t, testKey(t, "token"), "mp", testNow.Add(-time.Hour), orgSender, "eformidling:dpi")
	pop := testPopulation(t)
	citizen := "/identifier/" + pop.fnrDigital
	org := "/identifier/" + orgDPO

	tests := []struct {
		name       string
		opts       func(*Options)
		path       string
		auth       string
		wantStatus int
	}{
		{name: "no header, lenient", opts: keys, path: org, wantStatus: 200},
		{name: "valid token", opts: keys, path: org, auth: "Bearer " + valid, wantStatus: 200},
		{name: "forged token", opts: keys, path: org, auth: "Bearer " + forged, wantStatus: 401},
		{name: "expired token", opts: keys, path: org, auth: "Bearer " + expired, wantStatus: 401},
		{name: "garbage token", opts: keys, path: org, auth: "Bearer abc", wantStatus: 401},
		{name: "basic auth is anonymous", opts: keys, path: org, auth: "Basic dXNlcjpwYXNz", wantStatus: 200},
		{name: "JWKS URL: valid token", opts: byURL, path: org, auth: "Bearer " + valid, wantStatus: 200},
		{name: "JWKS URL: forged token", opts: byURL, path: org, auth: "Bearer " + forged, wantStatus: 401},
		{name: "no key source: signature unchecked", opts: none, path: org, auth: "Bearer " + forged, wantStatus: 200},
		{name: "no key source: expiry checked", opts: none, path: org, auth: "Bearer " + expired, wantStatus: 401},
		{name: "required: missing", opts: strict, path: org, wantStatus: 401},
		{name: "required: valid", opts: strict, path: org, auth: "Bearer " + valid, wantStatus: 200},
		{name: "required: citizen with dpi scope", opts: strict, path: citizen, auth: "Bearer " + valid, wantStatus: 200},
		{name: "required: citizen without dpi scope", opts: strict, path: citizen, auth: "Bearer " + noDPI, wantStatus: 401},
		{name: "required: info", opts: strict, path: "/info/" + orgDPO, wantStatus: 401},
		{name: "required: virksert", opts: strict, path: "/virksert/" + orgDPO, wantStatus: 401},
		{name: "required: jwk is open", opts: strict, path: "/jwk", wantStatus: 200},
		{name: "required: admin is open", opts: strict, path: "/__admin/health", wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, ts, _ := newTestServer(t, tt.opts)
			var headers []string
			if tt.auth != "" {
				headers = []string{"Authorization", tt.auth}
			}
			a := do(t, http.MethodGet, ts.URL+tt.path, "", headers...)
			if a.Status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", a.Status, tt.wantStatus, a.Body)
			}
			if a.Status == http.StatusUnauthorized {
				var e wire.RegisterError
				if err := json.Unmarshal([]byte(a.Body), &e); err != nil || e.ErrorDescription == "" {
					t.Errorf("401 body %s", a.Body)
				}
			}
		})
	}
}

func TestStatusFault(t *testing.T) {
	t.Parallel()
	_, ts, _ := newTestServer(t, nil)
	if a := do(t, http.MethodPut, ts.URL+"/__admin/faults", `{"mode":"status","status":503,"count":1}`); a.Status != http.StatusOK {
		t.Fatalf("set fault: %d %s", a.Status, a.Body)
	}
	a := do(t, http.MethodGet, ts.URL+"/identifier/"+orgDPO, "")
	want := `{"error_code":"","error_description":"Injected fault: 503 Service Unavailable"}`
	if a.Status != http.StatusServiceUnavailable || a.Body != want {
		t.Errorf("faulted: %d %s", a.Status, a.Body)
	}
	if a := do(t, http.MethodGet, ts.URL+"/identifier/"+orgDPO, ""); a.Status != http.StatusOK {
		t.Errorf("after the fault: %d", a.Status)
	}
}
