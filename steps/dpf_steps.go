package steps

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/cucumber/godog"
	"github.com/google/uuid"

	"github.com/efm-harness/efm-harness/simulator/wire"
)

func registerDPFSteps(sc *godog.ScenarioContext) {
	sc.Step(`^I create an arkivmelding at security level (\d) to "([^"]*)" with a SenderRef and a ReceiverRef$`, createWithRefs)
	sc.Step(`^the DPF simulator holds the forsendelse with:$`, dpfHolds)
	sc.Step(`^the DPF simulator holds the documents "([^"]*)" as they were uploaded, decrypted$`, dpfDocuments)
	sc.Step(`^the DPF simulator marks the forsendelse read$`, dpfMarkRead)
	sc.Step(`^the DPF simulator rejects forsendelser with (\d+) "([^"]*)"$`, dpfRejects)
	sc.Step(`^SvarInn holds (a corrupt forsendelse|a forsendelse "([^"]*)" with the files "([^"]*)") from "([^"]*)" for organisation ([AB])$`, svarInnInject)
	sc.Step(`^archive system ([AB]) pops the injected message and finds an arkivmelding\.xml titled "([^"]*)" naming "([^"]*)" with the avsender "([^"]*)"$`, popsSvarInnMessage)
	sc.Step(`^archive system ([AB]) finds a DPF message from ([AB]) when it peeks$`, findsDPFMessageFrom)
	sc.Step(`^SvarInn shows the (forsendelse|corrupt forsendelse) (acknowledged|reported as failed, not acknowledged)$`, svarInnShows)
	sc.Step(`^SvarUt received no forsendelse$`, svarUtReceivedNothing)
}

// createWithRefs creates an arkivmelding with sikkerhetsnivaa and new SenderRef and ReceiverRef scopes,
// kept as {sender-ref} and {receiver-ref} for later steps.
func createWithRefs(ctx context.Context, level int, receiver string) error {
	w := getWorld(ctx)
	m, err := w.sbdJSON("arkivmelding", receiver)
	if err != nil {
		return err
	}
	m["arkivmelding"].(map[string]any)["sikkerhetsnivaa"] = level
	if w.resolved == nil {
		w.resolved = map[string]string{}
	}
	w.resolved["sender-ref"], w.resolved["receiver-ref"] = uuid.NewString(), uuid.NewString()
	bs := m["standardBusinessDocumentHeader"].(map[string]any)["businessScope"].(map[string]any)
	process := bs["scope"].([]any)[0].(map[string]any)["identifier"]
	bs["scope"] = append(bs["scope"].([]any),
		map[string]any{"type": "SenderRef", "instanceIdentifier": w.resolved["sender-ref"], "identifier": process},
		map[string]any{"type": "ReceiverRef", "instanceIdentifier": w.resolved["receiver-ref"], "identifier": process})
	b, _ := json.Marshal(m)
	return w.postSBD(ctx, b)
}

// dpfView is the simulator's admin view of the scenario's forsendelse (found by its eksternReferanse,
// the messageId).
func (w *world) dpfView(ctx context.Context, content bool) (map[string]any, error) {
	if w.out == nil || w.out.messageID == "" {
		return nil, fmt.Errorf("no message has been created")
	}
	path := "/messages/" + w.out.messageID
	if content {
		path += "?content=true"
	}
	var v map[string]any
	if err := w.admin("dpf").Do(ctx, http.MethodGet, path, nil, &v); err != nil {
		return nil, fmt.Errorf("the DPF simulator has no forsendelse for the message: %w", err)
	}
	return v, nil
}

// dpfHolds checks fields of the forsendelse JSON the integration point sent (the raw part), by dotted
// path; values may hold placeholders.
func dpfHolds(ctx context.Context, table *godog.Table) error {
	w := getWorld(ctx)
	v, err := w.dpfView(ctx, false)
	if err != nil {
		return err
	}
	raw, ok := v["raw"]
	if !ok {
		return fmt.Errorf("the DPF simulator kept no forsendelse JSON")
	}
	return w.checkTable(raw, table, "the forsendelse")
}

// dpfDocuments checks the forsendelse's documents, in order, against the files uploaded.
func dpfDocuments(ctx context.Context, names string) error {
	w := getWorld(ctx)
	v, err := w.dpfView(ctx, true)
	if err != nil {
		return err
	}
	var docs []struct {
		Filnavn   string `json:"filnavn"`
		Encrypted bool   `json:"encrypted"`
		Content   string `json:"content"`
	}
	b, _ := json.Marshal(v["documents"])
	if err := json.Unmarshal(b, &docs); err != nil {
		return err
	}
	var got []document
	for _, d := range docs {
		if d.Encrypted {
			return fmt.Errorf("%s is still encrypted at the simulator", d.Filnavn)
		}
		got = append(got, document{d.Filnavn, d.Content})
	}
	return w.asUploaded(got, names)
}

// document is a file a simulator shows, its content in base64.
type document struct{ name, content string }

// asUploaded checks that docs are, in order, the files named in names, each byte for byte as uploaded.
func (w *world) asUploaded(docs []document, names string) error {
	var got []string
	for _, d := range docs {
		got = append(got, d.name)
		content, _ := base64.StdEncoding.DecodeString(d.content)
		if want, ok := w.out.files[d.name]; !ok || !bytes.Equal(content, want) {
			return fmt.Errorf("%s at the simulator (%d bytes) is not the file uploaded (%d bytes)", d.name, len(content), len(want))
		}
	}
	if strings.Join(got, ", ") != names {
		return fmt.Errorf("documents %q, want %q", strings.Join(got, ", "), names)
	}
	return nil
}

func dpfMarkRead(ctx context.Context) error {
	w := getWorld(ctx)
	v, err := w.dpfView(ctx, false)
	if err != nil {
		return err
	}
	return w.admin("dpf").Do(ctx, http.MethodPost, "/messages/"+stringOf(v["id"])+"/lest", nil, nil)
}

func dpfRejects(ctx context.Context, status int, message string) error {
	w := getWorld(ctx)
	w.faulted["dpf"] = true
	return w.admin("dpf").SetBehaviour(ctx, map[string]any{"avvis": map[string]any{"status": status, "message": message}})
}

// svarInnInject puts a forsendelse (or a corrupt one) in SvarInn for integration point p's organisation.
func svarInnInject(ctx context.Context, what, title, files, from, p string) error {
	w := getWorld(ctx)
	sender, receiver, err := w.parties(ctx, from, p)
	if err != nil {
		return err
	}
	body := map[string]any{"sender": sender, "senderName": "Kommunen " + sender, "receiver": receiver}
	if what == "a corrupt forsendelse" {
		body["corrupt"] = true
	} else {
		body["tittel"] = title
		var fs []map[string]string
		for _, n := range strings.Split(files, ",") {
			n = strings.TrimSpace(n)
			fs = append(fs, map[string]string{"name": n, "mimeType": "application/pdf", "text": "%PDF-1.4 " + n})
		}
		body["files"] = fs
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := w.admin("dpf").Inject(ctx, body, &out); err != nil {
		return err
	}
	if w.resolved == nil {
		w.resolved = map[string]string{}
	}
	if what == "a corrupt forsendelse" {
		w.resolved["corrupt-forsendelse"] = out.ID
		return nil
	}
	w.inbound().injectedID = out.ID // SvarInn's id becomes the messageId
	return nil
}

// popsSvarInnMessage pops the injected message at p and checks its generated arkivmelding.xml: title,
// the files it names (and that the ASiC-E holds them) and the avsender's name.
func popsSvarInnMessage(ctx context.Context, p, title, names, avsenderName string) error {
	w := getWorld(ctx)
	base, err := w.party(p)
	if err != nil {
		return err
	}
	avsenderName, err = w.expand(avsenderName)
	if err != nil {
		return err
	}
	id := w.inbound().injectedID
	r, err := w.do(ctx, http.MethodGet, base+"/api/messages/in/pop/"+id, nil, nil)
	if err != nil {
		return err
	}
	if r.Status != http.StatusOK {
		return fmt.Errorf("pop answered %d: %.300s", r.Status, r.Body)
	}
	zr, err := zip.NewReader(bytes.NewReader(r.Body), int64(len(r.Body)))
	if err != nil {
		return fmt.Errorf("popped content is not a zip: %w", err)
	}
	entries := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return err
		}
		entries[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	am, err := wire.ParseArkivmelding(bytes.NewReader(entries["arkivmelding.xml"]), 1<<20)
	if err != nil {
		return fmt.Errorf("the popped ASiC-E has no readable arkivmelding.xml: %w", err)
	}
	jp, err := am.Journalpost()
	if err != nil {
		return err
	}
	var refs []string
	for _, d := range jp.Documents() {
		for _, o := range d.Dokumentobjekt {
			refs = append(refs, o.ReferanseDokumentfil)
			if _, ok := entries[o.ReferanseDokumentfil]; !ok {
				return fmt.Errorf("arkivmelding.xml names %s, which the ASiC-E does not hold", o.ReferanseDokumentfil)
			}
		}
	}
	if got := strings.Join(refs, ", "); got != names {
		return fmt.Errorf("arkivmelding.xml names %q, want %q", got, names)
	}
	if jp.OffentligTittel != title || am.MeldingID != id {
		return fmt.Errorf("arkivmelding.xml has title %q and meldingId %s, want %q and %s", jp.OffentligTittel, am.MeldingID, title, id)
	}
	avsender, ok := jp.Part(wire.KorrespondansepartAvsender)
	if !ok || avsender.KorrespondansepartNavn != avsenderName {
		return fmt.Errorf("arkivmelding.xml avsender %+v, want %s", avsender, avsenderName)
	}
	return nil
}

// svarInnShows checks SvarInn's side of a forsendelse, waiting for the integration point's next round.
func svarInnShows(ctx context.Context, which, state string) error {
	w := getWorld(ctx)
	id := w.inbound().injectedID
	if which == "corrupt forsendelse" {
		id = w.resolved["corrupt-forsendelse"]
	}
	if id == "" {
		return fmt.Errorf("the scenario put no %s in SvarInn", which)
	}
	deadline := time.Now().Add(w.cfg.timeout())
	for {
		var v struct {
			Acknowledged bool            `json:"acknowledged"`
			MottakFeilet json.RawMessage `json:"mottakFeilet"`
			Downloads    int             `json:"downloads"`
		}
		if err := w.admin("dpf").Message(ctx, id, &v); err != nil {
			return err
		}
		var ok bool
		if state == "acknowledged" {
			ok = v.Acknowledged
		} else {
			ok = !v.Acknowledged && len(v.MottakFeilet) > 0 && v.Downloads > 0
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the %s is acknowledged=%v, mottakFeilet=%s after %d downloads; want %s", which, v.Acknowledged, v.MottakFeilet, v.Downloads, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// svarUtReceivedNothing checks that nothing was sent through SvarUt (SvarInn's own forsendelser aside).
func svarUtReceivedNothing(ctx context.Context) error {
	w := getWorld(ctx)
	var list struct {
		Forsendelser []struct {
			ID         string `json:"id"`
			EksternRef string `json:"eksternReferanse"`
		} `json:"forsendelser"`
	}
	if err := w.admin("dpf").Do(ctx, http.MethodGet, "/messages?kind=svarut", nil, &list); err != nil {
		return err
	}
	if len(list.Forsendelser) > 0 {
		return fmt.Errorf("SvarUt received %d forsendelser, the first with eksternReferanse %s", len(list.Forsendelser), list.Forsendelser[0].EksternRef)
	}
	return nil
}

// findsDPFMessageFrom peeks at p's DPF messages until one from the organisation of integration point
// from arrives (its messageId is SvarInn's id, not the sender's), and keeps it as the injected message.
func findsDPFMessageFrom(ctx context.Context, p, from string) error {
	w := getWorld(ctx)
	base, err := w.party(p)
	if err != nil {
		return err
	}
	org, err := w.orgOf(ctx, from)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(w.cfg.timeout())
	for {
		r, err := w.do(ctx, http.MethodGet, base+"/api/messages/in/peek?serviceIdentifier=DPF", nil, nil)
		if err != nil {
			return err
		}
		if r.Status == http.StatusOK {
			var sbd wire.StandardBusinessDocument
			if err := json.Unmarshal(r.Body, &sbd); err != nil {
				return fmt.Errorf("peek answered 200 without an SBD: %w", err)
			}
			if sbd.SenderIdentifier() != "0192:"+org {
				return fmt.Errorf("%s peeked a DPF message from %s, want one from %s", p, sbd.SenderIdentifier(), org)
			}
			w.inbound().injectedID = sbd.MessageID()
			return nil
		}
		if r.Status != http.StatusNoContent {
			return fmt.Errorf("peek answered %d: %.300s", r.Status, r.Body)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no DPF message from %s arrived at %s within %v", from, p, w.cfg.timeout())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
