package dpf

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
	"github.com/efm-harness/efm-harness/simulator/sample"
)

// svarInnAPI wraps a SvarInn handler with HTTP Basic authentication; the handler gets the org.
func (s *Server) svarInnAPI(h func(*http.Request, string) admin.Response) admin.Handler {
	return func(r *http.Request) admin.Response {
		user, pw, ok := r.BasicAuth()
		if !ok || user == "" {
			return admin.Response{Status: http.StatusUnauthorized, Header: http.Header{"Www-Authenticate": {`Basic realm="SvarInn"`}},
				Body: ErrorBody{Timestamp: time.Now().UTC().Format(time.RFC3339Nano), Status: 401, Error: "Unauthorized", ErrorID: newUUID(), Message: "Mangler Basic-autentisering"}}
		}
		org := user
		if len(s.opts.SvarInnUsers) > 0 {
			u, found := s.opts.SvarInnUsers[user]
			if !found || u.Password != pw {
				return svarUtError(http.StatusUnauthorized, "Ukjent bruker eller feil passord")
			}
			org = u.Orgnr
		}
		return h(r, org)
	}
}

func (s *Server) hentNye(r *http.Request, org string) admin.Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []SvarInnForsendelse{}
	for _, f := range s.order {
		if f.kind == "svarinn" && f.receiver == org && !f.acked && !f.failedForGood {
			out = append(out, s.svarInnView(r, f))
		}
	}
	return admin.JSON(http.StatusOK, out)
}

func (s *Server) inboxLocked(org, id string) *forsendelse {
	f, ok := s.byID[id]
	if !ok || f.kind != "svarinn" || f.receiver != org {
		return nil
	}
	return f
}

func (s *Server) download(r *http.Request, org string) admin.Response {
	id := mux.Vars(r)["id"]
	s.mu.Lock()
	f := s.inboxLocked(org, id)
	var docs []document
	var rawZip, rawDownload []byte
	corrupt := false
	if f != nil {
		f.downloads++
		docs, corrupt, rawZip, rawDownload = f.docs, f.corrupt, f.rawZip, f.rawDownload
	}
	s.mu.Unlock()
	if f == nil {
		return svarUtError(http.StatusNotFound, "Fant ikke forsendelse "+id)
	}
	if rawDownload != nil {
		return admin.Text(http.StatusOK, "application/octet-stream", rawDownload)
	}
	zipped := rawZip
	if zipped == nil {
		var err error
		if zipped, err = zipDocs(docs); err != nil {
			return svarUtError(http.StatusInternalServerError, "Kunne ikke pakke forsendelsen: "+err.Error())
		}
	}
	if corrupt {
		junk := make([]byte, 512)
		_, _ = rand.Read(junk)
		return admin.Text(http.StatusOK, "application/octet-stream", append([]byte{0x30, 0x82, 0x01, 0xfc}, junk...))
	}
	_, cert, ok := s.keyCert(org)
	if !ok || cert == nil {
		return svarUtError(http.StatusInternalServerError, "SvarInn har ikke sertifikat for "+org)
	}
	enc, err := dokumentpakke.Encrypt(zipped, cert, dokumentpakke.RSAOAEP)
	if err != nil {
		return svarUtError(http.StatusInternalServerError, "Kunne ikke kryptere: "+err.Error())
	}
	return admin.Text(http.StatusOK, "application/octet-stream", enc)
}

// zipEntries names the entries of a ZIP given for a hostile-input test, for filmetadata, without
// reading them; data that is not a ZIP has none.
func zipEntries(data []byte) []document {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil
	}
	var docs []document
	for _, e := range zr.File {
		if len(docs) == 1000 {
			break
		}
		docs = append(docs, document{name: e.Name, mime: "application/octet-stream"})
	}
	return docs
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func zipDocs(docs []document) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, d := range docs {
		w, err := zw.Create(d.name)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(d.content); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (s *Server) kvitter(r *http.Request, org string) admin.Response {
	id := mux.Vars(r)["id"]
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.inboxLocked(org, id)
	if f == nil {
		return svarUtError(http.StatusNotFound, "Fant ikke forsendelse "+id)
	}
	if !f.acked {
		f.acked, f.ackedAt = true, s.now()
		f.setStatusLocked(StatusKvittert, "svarinn", f.ackedAt)
		if src, ok := s.byID[f.forwardedFrom]; ok && !final(src.status) {
			src.setStatusLocked(StatusLest, "svarinn kvitterMottak", f.ackedAt)
		}
	}
	return admin.NoContent(http.StatusOK)
}

func (s *Server) mottakFeilet(r *http.Request, org string) admin.Response {
	id := mux.Vars(r)["id"]
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.inboxLocked(org, id)
	if f == nil {
		return svarUtError(http.StatusNotFound, "Fant ikke forsendelse "+id)
	}
	if json.Valid(body) {
		f.feilet = body
		var b struct {
			Permanent bool `json:"permanent"`
		}
		if json.Unmarshal(body, &b) == nil && b.Permanent {
			f.failedForGood = true // SvarUt does not offer it to the mottakersystem again
		}
	} else {
		f.feilet, _ = json.Marshal(string(body))
	}
	f.setStatusLocked(StatusMottakFeilet, "svarinn", s.now())
	return admin.NoContent(http.StatusOK)
}

func (s *Server) downloadURL(r *http.Request, id string) string {
	base := strings.TrimRight(s.opts.PublicURL, "/")
	if base == "" && r != nil {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + strings.Replace(SvarInnDownloadPath, "{id}", id, 1)
}

func num(f Flex) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(string(f)), 10, 64)
	return n
}

// millis reads a date as epoch millis, an ISO date or an ISO date-time.
func millis(f Flex) *int64 {
	v := strings.TrimSpace(string(f))
	if v == "" {
		return nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return &n
	}
	if x, err := strconv.ParseFloat(v, 64); err == nil { // Jackson's epoch seconds with fraction
		n := int64(x * 1000)
		return &n
	}
	for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02Z07:00", time.DateOnly} {
		if t, err := time.Parse(l, v); err == nil {
			n := t.UnixMilli()
			return &n
		}
	}
	return nil
}

func ptr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func flat(a *Adressat, orgnr string) SvarInnAdresse {
	out := SvarInnAdresse{Orgnr: orgnr}
	if a == nil {
		return out
	}
	out.Navn = string(a.Navn)
	out.Fnr = ptr(string(a.Fnr))
	out.Adresse1, out.Postnr, out.Poststed, out.Land = string(a.Adresse1), string(a.Postnr), string(a.Poststed), string(a.Land)
	if ad := a.Adresse; ad != nil {
		if out.Adresse1 == "" {
			out.Adresse1 = string(ad.Adresselinje1)
		}
		out.Adresse2, out.Adresse3 = string(ad.Adresselinje2), string(ad.Adresselinje3)
		if out.Postnr == "" {
			out.Postnr = string(ad.Postnummer)
		}
		if out.Poststed == "" {
			out.Poststed = string(ad.Poststed)
		}
		if out.Land == "" {
			out.Land = string(ad.Land)
		}
	}
	return out
}

// svarInnView is f as SvarInn lists it. Callers hold s.mu.
func (s *Server) svarInnView(r *http.Request, f *forsendelse) SvarInnForsendelse {
	fs := f.fields
	if fs == nil {
		fs = &Forsendelse{}
	}
	v := SvarInnForsendelse{
		ID: f.id, Tittel: string(fs.Tittel), Date: f.received.UnixMilli(),
		Mottaker: flat(fs.Mottaker, f.receiver), SvarSendesTil: flat(fs.SvarSendesTil, f.sender),
		SvarPaForsendelse: ptr(fs.svarPa()), Forsendelsestype: ptr(string(fs.Forsendelsestype)), EksternRef: ptr(f.eksternRef),
		DownloadURL: s.downloadURL(r, f.id), Niva: "3", Filmetadata: []SvarInnFil{},
	}
	if fs.KrevNiva4Innlogging.Bool() || fs.Sikkerhetsnivaa == "4" || fs.Sikkerhetsniva == "HOYESTE" {
		v.Niva = "4"
	}
	m := fs.MetadataFraAvleverendeSystem
	if m == nil {
		m = &Metadata{}
	}
	v.MetadataFraAvleverendeSystem = SvarInnMetadata{
		Sakssekvensnummer: num(m.Sakssekvensnummer), Saksaar: num(m.Saksaar), Journalaar: num(m.Journalaar),
		Journalsekvensnummer: num(m.Journalsekvensnummer), Journalpostnummer: num(m.Journalpostnummer),
		Journalposttype: string(m.Journalposttype), Journalstatus: string(m.Journalstatus),
		Journaldato: millis(m.Journaldato), DokumentetsDato: millis(m.DokumentetsDato),
		Tittel: string(m.Tittel), Saksbehandler: ptr(string(m.Saksbehandler)), EkstraMetadata: m.EkstraMetadata,
	}
	if v.MetadataFraAvleverendeSystem.EkstraMetadata == nil {
		v.MetadataFraAvleverendeSystem.EkstraMetadata = []KeyValue{}
	}
	for i, d := range f.docs {
		fil := SvarInnFil{Filnavn: d.name, Mimetype: d.mime, Sha256hash: sha(d.content), Size: int64(len(d.content))}
		if i < len(fs.Dokumenter) {
			fil.DokumentType = ptr(string(fs.Dokumenter[i].DokumentType))
		}
		v.Filmetadata = append(v.Filmetadata, fil)
	}
	return v
}

// InjectFile is a file of POST /__admin/inject: text or base64 content.
type InjectFile struct {
	Name     string `json:"name"`
	MimeType string `json:"mimeType"`
	Text     string `json:"text"`
	Base64   string `json:"base64"`
}

// Inject is the body of POST /__admin/inject: a forsendelse for the receiver's SvarInn queue.
type Inject struct {
	Sender            string       `json:"sender"`
	SenderName        string       `json:"senderName"`
	Receiver          string       `json:"receiver"`
	ReceiverName      string       `json:"receiverName"`
	Tittel            string       `json:"tittel"`
	SvarPaForsendelse string       `json:"svarPaForsendelse"`
	Forsendelsestype  string       `json:"forsendelsestype"`
	EksternRef        string       `json:"eksternRef"`
	Metadata          *Metadata    `json:"metadata"`
	Files             []InjectFile `json:"files"`
	Corrupt           bool         `json:"corrupt"`
	// Zip, for hostile-input tests, is the forsendelse's ZIP as it is (base64): SvarInn encrypts it to
	// the receiver's certificate on download instead of zipping the files. Without files, filmetadata
	// names the ZIP's entries as they are (the entries are not read).
	Zip []byte `json:"zip,omitempty"`
	// Download, for hostile-input tests, is the download's body as it is (base64), not encrypted.
	Download []byte `json:"download,omitempty"`
}

// InjectResult answers POST /__admin/inject.
type InjectResult struct {
	ID          string `json:"id"`
	Receiver    string `json:"receiver"`
	DownloadURL string `json:"downloadUrl"`
}

func (s *Server) adminInject(r *http.Request) admin.Response {
	var in Inject
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<20)).Decode(&in); err != nil {
		return admin.ErrorResponse(http.StatusBadRequest, "bad inject body: "+err.Error())
	}
	if in.Receiver == "" {
		return admin.ErrorResponse(http.StatusBadRequest, "receiver is required")
	}
	if in.Sender == "" {
		in.Sender = s.opts.DefaultSender
	}
	if in.Tittel == "" {
		in.Tittel = "Forsendelse fra SvarUt-simulatoren"
	}
	if n := btoi(in.Zip != nil) + btoi(in.Download != nil) + btoi(in.Corrupt); n > 1 {
		return admin.ErrorResponse(http.StatusBadRequest, "give at most one of zip, download and corrupt")
	}
	var docs []document
	var total int64
	if len(in.Files) == 0 && in.Zip != nil {
		docs = zipEntries(in.Zip)
	}
	for i, f := range in.Files {
		var content []byte
		if f.Base64 != "" {
			b, err := base64.StdEncoding.DecodeString(f.Base64)
			if err != nil {
				return admin.ErrorResponse(http.StatusBadRequest, fmt.Sprintf("files[%d].base64: %v", i, err))
			}
			content = b
		} else {
			content = []byte(f.Text)
		}
		if f.Name == "" {
			return admin.ErrorResponse(http.StatusBadRequest, fmt.Sprintf("files[%d].name is required", i))
		}
		mt := f.MimeType
		if mt == "" {
			mt = "application/octet-stream"
		}
		docs = append(docs, document{name: f.Name, mime: mt, content: content})
		total += int64(len(content))
	}
	if len(docs) == 0 && in.Zip == nil {
		pdf := sample.PDF(in.Tittel)
		docs = []document{{name: "dokument.pdf", mime: "application/pdf", content: pdf}}
		total = int64(len(pdf))
	}
	total += int64(len(in.Zip) + len(in.Download))
	md := in.Metadata
	if md == nil {
		now := s.now()
		md = &Metadata{Saksaar: Flex(strconv.Itoa(now.Year())), Sakssekvensnummer: "1", Journalaar: Flex(strconv.Itoa(now.Year())),
			Journalsekvensnummer: "1", Journalpostnummer: "1", Journalposttype: "U", Journalstatus: "F",
			Journaldato: Flex(strconv.FormatInt(now.UnixMilli(), 10)), DokumentetsDato: Flex(strconv.FormatInt(now.UnixMilli(), 10)),
			Tittel: Flex(in.Tittel), Saksbehandler: "Saksbehandler Simulator"}
	}
	fs := &Forsendelse{
		Tittel: Flex(in.Tittel), EksternReferanse: Flex(in.EksternRef),
		Mottaker:                     &Adressat{Orgnr: Flex(in.Receiver), Navn: Flex(in.ReceiverName)},
		SvarSendesTil:                &Adressat{Orgnr: Flex(in.Sender), Navn: Flex(in.SenderName)},
		SvarPaForsendelse:            Flex(in.SvarPaForsendelse),
		Forsendelsestype:             Flex(in.Forsendelsestype),
		MetadataFraAvleverendeSystem: md,
	}
	for _, d := range docs {
		fs.Dokumenter = append(fs.Dokumenter, Dokument{Filnavn: Flex(d.name), MimeType: Flex(d.mime)})
	}
	raw, _ := json.Marshal(fs)
	now := s.now()
	f := &forsendelse{id: newUUID(), kind: "svarinn", eksternRef: in.EksternRef, sender: in.Sender, receiver: in.Receiver,
		received: now, fields: fs, raw: raw, docs: docs, bytes: total, corrupt: in.Corrupt, injected: true,
		rawZip: in.Zip, rawDownload: in.Download}
	s.mu.Lock()
	f.setStatusLocked(StatusKlarForMottak, "inject", now)
	s.addLocked(f)
	s.mu.Unlock()
	return admin.JSON(http.StatusCreated, InjectResult{ID: f.id, Receiver: f.receiver, DownloadURL: s.downloadURL(r, f.id)})
}
