package dpf_test

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
	"github.com/efm-harness/efm-harness/simulator/dpf"
)

var twoFiles = []file{
	{name: "vedtak.pdf", mime: "application/pdf", plain: []byte("%PDF-1.4 vedtak")},
	{name: "vedlegg.txt", mime: "text/plain", plain: []byte("vedlegg innhold æøå")},
}

type statuser struct {
	Statuser []dpf.ForsendelseStatus `json:"statuser"`
}

func (e *env) statuses(ids ...string) map[string]string {
	e.t.Helper()
	body, _ := jsonBytes(map[string]any{"forsendelseIds": ids})
	a := e.svarUt(http.MethodPost, "/api/v3/kontoer/"+kontoID+"/forsendelser/status/sok", "application/json", body, nil)
	if a.status != 200 {
		e.t.Fatalf("status/sok: %d %s", a.status, a.body)
	}
	var s statuser
	a.json(e.t, &s)
	out := map[string]string{}
	for _, st := range s.Statuser {
		out[st.ID] = st.Status
		if _, err := time.Parse("2006-01-02T15:04:05.000-07:00", st.SisteStatusEndring); err != nil {
			e.t.Errorf("sisteStatusEndring %q: %v", st.SisteStatusEndring, err)
		}
	}
	return out
}

func TestSendDecryptsAndAdminShowsDocuments(t *testing.T) {
	e := newEnv(t, nil)
	a := e.send("msg-1", dpfOrg, twoFiles)
	if a.status != 200 {
		t.Fatalf("send: %d %s", a.status, a.body)
	}
	var res struct{ ID string }
	a.json(t, &res)
	if len(res.ID) != 36 {
		t.Fatalf("id %q", res.ID)
	}
	v := e.admin(http.MethodGet, "/messages/"+res.ID+"?content=true", nil)
	var mv dpf.MessageView
	v.json(t, &mv)
	if mv.Kind != "svarut" || mv.Receiver != dpfOrg || mv.EksternRef != "msg-1" || mv.Sender != ipOrg || mv.KontoID != kontoID {
		t.Fatalf("summary: %+v", mv.Summary)
	}
	if len(mv.Documents) != 2 {
		t.Fatalf("documents: %+v", mv.Documents)
	}
	for i, d := range mv.Documents {
		got, _ := base64.StdEncoding.DecodeString(d.Content)
		if !bytes.Equal(got, twoFiles[i].plain) || d.Filnavn != twoFiles[i].name || d.MimeType != twoFiles[i].mime || d.Encrypted {
			t.Errorf("doc %d: %+v", i, d)
		}
	}
	m := mv.Forsendelse.MetadataFraAvleverendeSystem
	if m == nil || m.Saksaar != "2026" || m.Journalposttype != "U" || m.Saksbehandler != "Ola" || len(m.EkstraMetadata) != 1 {
		t.Fatalf("metadata: %+v", m)
	}
	if mv.Forsendelse.Forsendelsestype != "Byggesøknad" || mv.Forsendelse.Mottaker.Adresse.Postnummer != "9950" {
		t.Fatalf("fields: %+v", mv.Forsendelse)
	}
	// Status by both ids: AKSEPTERT at once by default.
	st := e.statuses(res.ID, "msg-1", "unknown")
	if st[res.ID] != dpf.StatusAkseptert || st["msg-1"] != dpf.StatusAkseptert || len(st) != 2 {
		t.Fatalf("statuses: %v", st)
	}
	if a := e.admin(http.MethodPost, "/messages/msg-1/lest", nil); a.status != 200 {
		t.Fatalf("lest: %d %s", a.status, a.body)
	}
	if st := e.statuses("msg-1"); st["msg-1"] != dpf.StatusLest {
		t.Fatalf("after lest: %v", st)
	}
	// eksternRef search.
	r := e.svarUt(http.MethodGet, "/api/v2/kontoer/"+kontoID+"/forsendelser?eksternRef=msg-1", "", nil, nil)
	var ids struct{ ForsendelseIds []string }
	r.json(t, &ids)
	if r.status != 200 || len(ids.ForsendelseIds) != 1 || ids.ForsendelseIds[0] != res.ID {
		t.Fatalf("eksternRef: %d %s", r.status, r.body)
	}
	r = e.svarUt(http.MethodGet, "/api/v2/kontoer/"+kontoID+"/forsendelser?eksternRef=nope", "", nil, nil)
	if r.json(t, &ids); len(ids.ForsendelseIds) != 0 || !strings.Contains(string(r.body), "[]") {
		t.Fatalf("eksternRef none: %s", r.body)
	}
	// list
	var list struct{ Forsendelser []dpf.Summary }
	e.admin(http.MethodGet, "/messages", nil).json(t, &list)
	if len(list.Forsendelser) != 1 {
		t.Fatalf("list: %+v", list)
	}
}

func TestLifecycleDelaysAndReject(t *testing.T) {
	e := newEnv(t, nil)
	if a := e.admin(http.MethodPut, "/behaviour", map[string]any{"akseptertAfter": "30ms", "lestAfter": "30ms"}); a.status != 200 {
		t.Fatalf("behaviour: %d %s", a.status, a.body)
	}
	e.send("m2", dpfOrg, twoFiles[:1])
	if st := e.statuses("m2"); st["m2"] != dpf.StatusMottatt {
		t.Fatalf("first: %v", st)
	}
	deadline := time.Now().Add(3 * time.Second)
	for e.statuses("m2")["m2"] != dpf.StatusLest {
		if time.Now().After(deadline) {
			t.Fatal("never LEST")
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.admin(http.MethodPut, "/behaviour", map[string]any{"avvis": map[string]any{"status": 400, "message": "Duplikat"}})
	a := e.send("m3", dpfOrg, twoFiles[:1])
	if a.status != 400 || !strings.Contains(string(a.body), `"message": "Duplikat"`) {
		t.Fatalf("avvis: %d %s", a.status, a.body)
	}
	if a := e.admin(http.MethodPost, "/messages/m2/avvist", nil); a.status != 200 {
		t.Fatal(a.status)
	}
	e.admin(http.MethodPost, "/reset", nil)
	if st := e.statuses("m2"); len(st) != 0 {
		t.Fatalf("after reset: %v", st)
	}
}

func TestForsendelsestyper(t *testing.T) {
	e := newEnv(t, func(o *dpf.Options) { o.ForsendelseTyper = []string{"A", "B"} })
	a := e.svarUt(http.MethodGet, "/api/v2/forsendelsestyper", "", nil, nil)
	var ft struct{ Forsendelsestyper []string }
	a.json(t, &ft)
	if a.status != 200 || len(ft.Forsendelsestyper) != 2 || ft.Forsendelsestyper[1] != "B" {
		t.Fatalf("%d %s", a.status, a.body)
	}
}

func TestSvarUtAuthFailures(t *testing.T) {
	e := newEnv(t, nil)
	p := "/api/v2/forsendelsestyper"
	cases := []struct {
		name   string
		hdr    map[string]string
		status int
	}{
		{"no bearer", map[string]string{"Authorization": ""}, 401},
		{"bad bearer", map[string]string{"Authorization": "Bearer x.y.z"}, 401},
		{"wrong scope", map[string]string{"Authorization": "Bearer " + token(t, ipOrg, "eformidling:dpo")}, 403},
		{"no integrasjon", map[string]string{"IntegrasjonId": ""}, 401},
		{"wrong password", map[string]string{"IntegrasjonPassord": "feil"}, 403},
	}
	for _, c := range cases {
		a := e.svarUt(http.MethodGet, p, "", nil, c.hdr)
		var body dpf.ErrorBody
		a.json(t, &body)
		if a.status != c.status || body.Message == "" || body.Status != c.status {
			t.Errorf("%s: %d %s", c.name, a.status, a.body)
		}
	}
	// Lenient mode: no verifier, any integration pair.
	l := newEnv(t, func(o *dpf.Options) { o.Maskinporten = nil; o.Integrations = nil })
	if a := l.svarUt(http.MethodGet, p, "", nil, map[string]string{"IntegrasjonId": "x", "IntegrasjonPassord": "y"}); a.status != 200 {
		t.Fatalf("lenient: %d %s", a.status, a.body)
	}
}

func TestSendValidation(t *testing.T) {
	e := newEnv(t, nil)
	path := "/api/v3/kontoer/" + kontoID + "/forsendelser/organisasjon"
	if a := e.svarUt(http.MethodPost, path, "application/json", []byte("{}"), nil); a.status != 415 {
		t.Errorf("json: %d", a.status)
	}
	// encrypted to the wrong certificate
	ct, body := multipartSend(t, forsendelseJSON("x", dpfOrg, twoFiles), twoFiles, cred(t, ipOrg).Certificate)
	if a := e.svarUt(http.MethodPost, path, ct, body, nil); a.status != 400 {
		t.Errorf("wrong cert: %d %s", a.status, a.body)
	}
	// fewer files than dokumenter
	ct, body = multipartSend(t, forsendelseJSON("x", dpfOrg, twoFiles), twoFiles[:1], cred(t, "svarut").Certificate)
	if a := e.svarUt(http.MethodPost, path, ct, body, nil); a.status != 400 {
		t.Errorf("count: %d %s", a.status, a.body)
	}
	ct, body = multipartSend(t, []byte(`{"tittel":"t"}`), twoFiles[:1], cred(t, "svarut").Certificate)
	if a := e.svarUt(http.MethodPost, path, ct, body, nil); a.status != 400 {
		t.Errorf("no mottaker: %d %s", a.status, a.body)
	}
}

type svarInnList []dpf.SvarInnForsendelse

func TestSvarInnInjectDownloadKvitter(t *testing.T) {
	e := newEnv(t, nil)
	a := e.admin(http.MethodPost, "/inject", map[string]any{"sender": dpfOrg, "receiver": ipOrg, "tittel": "Søknad",
		"files": []map[string]any{{"name": "soknad.txt", "mimeType": "text/plain", "text": "hei"},
			{"name": "bilde.bin", "mimeType": "application/octet-stream", "base64": base64.StdEncoding.EncodeToString([]byte{1, 2, 3})}}})
	if a.status != 201 {
		t.Fatalf("inject: %d %s", a.status, a.body)
	}
	bad := e.admin(http.MethodPost, "/inject", map[string]any{"sender": dpfOrg, "receiver": ipOrg, "corrupt": true})
	var badRes dpf.InjectResult
	bad.json(t, &badRes)
	e.admin(http.MethodPost, "/inject", map[string]any{"sender": dpfOrg, "receiver": "910075918"})

	if a := e.svarInn(http.MethodGet, dpf.SvarInnListPath, "", ""); a.status != 401 {
		t.Fatalf("no auth: %d", a.status)
	}
	var list svarInnList
	l := e.svarInn(http.MethodGet, dpf.SvarInnListPath, ipOrg, "any")
	l.json(t, &list)
	if l.status != 200 || len(list) != 2 {
		t.Fatalf("list: %d %s", l.status, l.body)
	}
	good := list[0]
	if good.SvarSendesTil.Orgnr != dpfOrg || good.Mottaker.Orgnr != ipOrg || good.Tittel != "Søknad" || len(good.Filmetadata) != 2 ||
		good.MetadataFraAvleverendeSystem.Journalposttype != "U" || good.MetadataFraAvleverendeSystem.Journaldato == nil {
		t.Fatalf("forsendelse: %s", l.body)
	}
	d := e.svarInn(http.MethodGet, good.DownloadURL, ipOrg, "x")
	if d.status != 200 {
		t.Fatalf("download: %d %s", d.status, d.body)
	}
	plain, err := dokumentpakke.Decrypt(d.body, cred(t, ipOrg).Key)
	if err != nil {
		t.Fatal(err)
	}
	files := unzip(t, plain)
	if string(files["soknad.txt"]) != "hei" || !bytes.Equal(files["bilde.bin"], []byte{1, 2, 3}) || len(files) != 2 {
		t.Fatalf("zip: %v", files)
	}
	for _, fm := range good.Filmetadata {
		if _, ok := files[fm.Filnavn]; !ok {
			t.Errorf("filmetadata %s not in zip", fm.Filnavn)
		}
	}
	// corrupt one: downloads but does not decrypt; default file is a PDF.
	if list[1].ID != badRes.ID || list[1].Filmetadata[0].Mimetype != "application/pdf" {
		t.Fatalf("corrupt entry: %+v", list[1])
	}
	cd := e.svarInn(http.MethodGet, list[1].DownloadURL, ipOrg, "x")
	if _, err := dokumentpakke.Decrypt(cd.body, cred(t, ipOrg).Key); cd.status != 200 || err == nil {
		t.Fatalf("corrupt download: %d %v", cd.status, err)
	}
	// other org cannot download it
	if a := e.svarInn(http.MethodGet, good.DownloadURL, "910075918", "x"); a.status != 404 {
		t.Fatalf("foreign download: %d", a.status)
	}
	if a := e.svarInn(http.MethodPost, "/tjenester/svarinn/kvitterMottak/forsendelse/"+good.ID, ipOrg, "x"); a.status != 200 {
		t.Fatalf("kvitter: %d %s", a.status, a.body)
	}
	list = nil
	e.svarInn(http.MethodGet, dpf.SvarInnListPath, ipOrg, "x").json(t, &list)
	if len(list) != 1 || list[0].ID != badRes.ID {
		t.Fatalf("after kvitter: %+v", list)
	}
	var mv dpf.MessageView
	e.admin(http.MethodGet, "/messages/"+good.ID, nil).json(t, &mv)
	if !mv.Acknowledged || mv.Downloads != 1 || mv.SvarInn == nil {
		t.Fatalf("admin view: %+v", mv.Summary)
	}
}

func TestSvarInnUsers(t *testing.T) {
	e := newEnv(t, func(o *dpf.Options) {
		o.SvarInnUsers = map[string]dpf.SvarInnUser{"ipuser": {Password: "pw", Orgnr: ipOrg}}
		o.DefaultSender = dpfOrg
	})
	e.admin(http.MethodPost, "/inject", map[string]any{"receiver": ipOrg})
	if a := e.svarInn(http.MethodGet, dpf.SvarInnListPath, "ipuser", "wrong"); a.status != 401 {
		t.Fatalf("wrong pw: %d", a.status)
	}
	var list svarInnList
	e.svarInn(http.MethodGet, dpf.SvarInnListPath, "ipuser", "pw").json(t, &list)
	if len(list) != 1 || list[0].SvarSendesTil.Orgnr != dpfOrg {
		t.Fatalf("list %v", list)
	}
}

func TestSvarUtToSvarInnRouting(t *testing.T) {
	e := newEnv(t, nil)
	a := e.send("m-route", ipOrg, twoFiles)
	if a.status != 200 {
		t.Fatalf("send: %d %s", a.status, a.body)
	}
	var list svarInnList
	e.svarInn(http.MethodGet, dpf.SvarInnListPath, ipOrg, "x").json(t, &list)
	if len(list) != 1 {
		t.Fatalf("list: %+v", list)
	}
	f := list[0]
	if f.SvarSendesTil.Orgnr != ipOrg || f.MetadataFraAvleverendeSystem.Saksaar != 2026 || f.MetadataFraAvleverendeSystem.Sakssekvensnummer != 12 ||
		f.Mottaker.Postnr != "9950" || f.Filmetadata[0].Filnavn != "vedtak.pdf" ||
		f.MetadataFraAvleverendeSystem.Journaldato == nil || *f.MetadataFraAvleverendeSystem.Journaldato != time.Date(2026, 11, 19, 23, 0, 0, 0, time.UTC).UnixMilli() {
		t.Fatalf("routed: %+v", f)
	}
	d := e.svarInn(http.MethodGet, f.DownloadURL, ipOrg, "x")
	plain, err := dokumentpakke.Decrypt(d.body, cred(t, ipOrg).Key)
	if err != nil {
		t.Fatal(err)
	}
	z := unzip(t, plain)
	for _, tf := range twoFiles {
		if !bytes.Equal(z[tf.name], tf.plain) {
			t.Errorf("%s differs", tf.name)
		}
	}
	e.svarInn(http.MethodPost, "/tjenester/svarinn/kvitterMottak/forsendelse/"+f.ID, ipOrg, "x")
	if st := e.statuses("m-route"); st["m-route"] != dpf.StatusLest {
		t.Fatalf("status after kvitter: %v", st)
	}
	// Not routed for orgs outside SvarInnOrgs.
	e.send("m-other", dpfOrg, twoFiles[:1])
	var all struct{ Forsendelser []dpf.Summary }
	e.admin(http.MethodGet, "/messages?kind=svarinn", nil).json(t, &all)
	if len(all.Forsendelser) != 1 {
		t.Fatalf("svarinn entries: %+v", all)
	}
}

func TestBoundedMemory(t *testing.T) {
	e := newEnv(t, func(o *dpf.Options) { o.MaxForsendelser = 2; o.SvarInnOrgs = nil })
	for _, r := range []string{"a", "b", "c"} {
		e.send(r, dpfOrg, twoFiles[:1])
	}
	var all struct {
		Forsendelser []dpf.Summary
		Evicted      int
	}
	e.admin(http.MethodGet, "/messages", nil).json(t, &all)
	if len(all.Forsendelser) != 2 || all.Evicted != 1 || all.Forsendelser[0].EksternRef != "b" {
		t.Fatalf("%+v", all)
	}
}

func TestCloseStopsTimersAndMottakFeilet(t *testing.T) {
	e := newEnv(t, func(o *dpf.Options) { o.AkseptertAfter = 20 * time.Millisecond })
	e.send("c1", dpfOrg, twoFiles[:1])
	_ = e.srv.Close()
	time.Sleep(60 * time.Millisecond)
	if st := e.statuses("c1"); st["c1"] != dpf.StatusMottatt {
		t.Fatalf("after close: %v", st)
	}
	var res dpf.InjectResult
	e.admin(http.MethodPost, "/inject", map[string]any{"receiver": ipOrg}).json(t, &res)
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/tjenester/svarinn/mottakFeilet/forsendelse/"+res.ID,
		strings.NewReader(`{"feilmelding":"kaputt","permanent":true}`))
	req.SetBasicAuth(ipOrg, "x")
	if a := e.do(req); a.status != 200 {
		t.Fatalf("mottakFeilet: %d", a.status)
	}
	var mv dpf.MessageView
	e.admin(http.MethodGet, "/messages/"+res.ID, nil).json(t, &mv)
	if mv.Status != dpf.StatusMottakFeilet || !strings.Contains(string(mv.MottakFeilet), "kaputt") {
		t.Fatalf("%+v", mv)
	}
	list, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/tjenester/svarinn/mottaker/hentNyeForsendelser", nil)
	list.SetBasicAuth(ipOrg, "x")
	if a := e.do(list); a.status != 200 || strings.Contains(string(a.body), res.ID) {
		t.Fatalf("a permanently failed forsendelse is still listed: %d %s", a.status, a.body)
	}
}
