package dpf

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
)

// ErrorBody is SvarUt's error body (the shape fiks-svarut-klient parses); message carries the reason.
type ErrorBody struct {
	Timestamp    string  `json:"timestamp"`
	Status       int     `json:"status"`
	Error        string  `json:"error"`
	ErrorID      string  `json:"errorId"`
	Path         *string `json:"path"`
	OriginalPath *string `json:"originalPath"`
	Message      string  `json:"message"`
	ErrorCode    *string `json:"errorCode"`
	ErrorJSON    any     `json:"errorJson"`
}

func svarUtError(status int, msg string) admin.Response {
	return admin.JSON(status, ErrorBody{Timestamp: time.Now().UTC().Format(time.RFC3339Nano), Status: status,
		Error: http.StatusText(status), ErrorID: newUUID(), Message: msg})
}

func statusFault(w http.ResponseWriter, _ *http.Request, status int) {
	svarUtError(status, "Simulert feil").Write(w)
}

// StatusChange is one step of a forsendelse's history.
type StatusChange struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
	By     string    `json:"by"`
}

type document struct {
	name, mime, part, contentType string
	content                       []byte
	encrypted                     bool // content is still the CMS (no key, or kryptert=false never decrypted)
	decryptError                  string
	uploadSize                    int
}

type forsendelse struct {
	seq        uint64
	id         string
	kind       string // "svarut" or "svarinn"
	kontoID    string
	eksternRef string
	sender     string
	receiver   string
	received   time.Time
	status     string
	changed    time.Time
	history    []StatusChange
	fields     *Forsendelse
	raw        json.RawMessage
	docs       []document
	other      []string
	bytes      int64
	caller     string
	integ      string

	// SvarInn side
	acked         bool
	ackedAt       time.Time
	feilet        json.RawMessage
	failedForGood bool // mottakFeilet with permanent=true: no longer listed
	corrupt       bool
	rawZip        []byte // served encrypted instead of a ZIP of docs (hostile-input tests)
	rawDownload   []byte // served as it is (hostile-input tests)
	injected      bool
	downloads     int
	forwardedTo   string
	forwardedFrom string
	forwardError  string
}

func (f *forsendelse) setStatusLocked(st, by string, at time.Time) {
	f.status, f.changed = st, at
	f.history = append(f.history, StatusChange{Status: st, At: at, By: by})
}

func final(st string) bool { return st == StatusLest || st == StatusAvvist }

type svarUtCaller struct {
	orgnr, integrasjonID string
}

// svarUt wraps a SvarUt REST handler with authentication: Maskinporten bearer with Options.Scope and the
// IntegrasjonId/IntegrasjonPassord headers.
func (s *Server) svarUt(h func(*http.Request, svarUtCaller) admin.Response) admin.Handler {
	return func(r *http.Request) admin.Response {
		auth := r.Header.Get("Authorization")
		tok, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok || strings.TrimSpace(tok) == "" {
			return svarUtError(http.StatusUnauthorized, "Mangler Maskinporten-token (Authorization: Bearer)")
		}
		claims, err := s.opts.Maskinporten.Verify(r.Context(), strings.TrimSpace(tok))
		if err != nil {
			return svarUtError(http.StatusUnauthorized, "Ugyldig Maskinporten-token: "+err.Error())
		}
		if !claims.HasScope(s.opts.Scope) {
			return svarUtError(http.StatusForbidden, fmt.Sprintf("Tokenet har scope %q; krever %s", strings.Join(claims.Scope, " "), s.opts.Scope))
		}
		id, pw := r.Header.Get("IntegrasjonId"), r.Header.Get("IntegrasjonPassord")
		if id == "" || pw == "" {
			return svarUtError(http.StatusUnauthorized, "Mangler IntegrasjonId eller IntegrasjonPassord")
		}
		if len(s.opts.Integrations) > 0 {
			if want, ok := s.opts.Integrations[id]; !ok || want != pw {
				return svarUtError(http.StatusForbidden, "Ukjent integrasjon eller feil passord for IntegrasjonId "+id)
			}
		}
		return h(r, svarUtCaller{orgnr: claims.ConsumerOrgnr(), integrasjonID: id})
	}
}

const maxForsendelseJSON = 8 << 20

// send is POST /api/v3/kontoer/{kontoId}/forsendelser/organisasjon.
func (s *Server) send(r *http.Request, c svarUtCaller) admin.Response {
	s.mu.Lock()
	avvis := s.beh.avvis
	s.mu.Unlock()
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") || params["boundary"] == "" {
		return svarUtError(http.StatusUnsupportedMediaType, "Forventer multipart/form-data")
	}
	body := http.MaxBytesReader(nil, r.Body, s.opts.MaxUploadSize)
	mr := multipart.NewReader(body, params["boundary"])
	var (
		raw   []byte
		files = map[int]document{}
		other []string
		total int64
	)
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return tooLargeOr(err, "Ugyldig multipart: "+err.Error())
		}
		name := p.FormName()
		switch {
		case name == "forsendelse":
			if raw != nil {
				return svarUtError(http.StatusBadRequest, "Mer enn én forsendelse-del")
			}
			raw, err = io.ReadAll(io.LimitReader(p, maxForsendelseJSON+1))
			if err != nil {
				return tooLargeOr(err, "Feil under lesing av forsendelse: "+err.Error())
			}
			if len(raw) > maxForsendelseJSON {
				return svarUtError(http.StatusRequestEntityTooLarge, "forsendelse er for stor")
			}
		case strings.HasPrefix(name, "filer_"):
			i, err := strconv.Atoi(strings.TrimPrefix(name, "filer_"))
			if err != nil || i < 0 || i > 10_000 {
				return svarUtError(http.StatusBadRequest, "Ugyldig delnavn "+name)
			}
			if _, dup := files[i]; dup {
				return svarUtError(http.StatusBadRequest, "Duplikat del "+name)
			}
			data, err := io.ReadAll(p)
			if err != nil {
				return tooLargeOr(err, "Feil under lesing av "+name+": "+err.Error())
			}
			total += int64(len(data))
			files[i] = document{part: name, name: p.FileName(), contentType: p.Header.Get("Content-Type"), content: data, uploadSize: len(data)}
		default:
			other = append(other, name)
			_, _ = io.Copy(io.Discard, p)
		}
	}
	if raw == nil {
		return svarUtError(http.StatusBadRequest, "Mangler delen forsendelse")
	}
	var fs Forsendelse
	if err := json.Unmarshal(raw, &fs); err != nil {
		return svarUtError(http.StatusBadRequest, "Ugyldig innhold i forsendelse: "+err.Error())
	}
	receiver := fs.Mottaker.OrgnrOf()
	if receiver == "" {
		return svarUtError(http.StatusBadRequest, "Ugyldig innhold: mottaker mangler orgnr")
	}
	if strings.TrimSpace(string(fs.Tittel)) == "" {
		return svarUtError(http.StatusBadRequest, "Ugyldig innhold: tittel mangler")
	}
	if len(files) == 0 {
		return svarUtError(http.StatusBadRequest, "Forsendelsen har ingen filer")
	}
	if len(fs.Dokumenter) > 0 && len(fs.Dokumenter) != len(files) {
		return svarUtError(http.StatusBadRequest, fmt.Sprintf("Ugyldig innhold: %d dokumenter, men %d filer", len(fs.Dokumenter), len(files)))
	}
	docs := make([]document, len(files))
	for i := range docs {
		d, ok := files[i]
		if !ok {
			return svarUtError(http.StatusBadRequest, fmt.Sprintf("Mangler filer_%d", i))
		}
		if len(d.content) == 0 {
			return svarUtError(http.StatusBadRequest, "Kan ikke lagre tomt dokument "+d.part)
		}
		if i < len(fs.Dokumenter) {
			if n := string(fs.Dokumenter[i].Filnavn); n != "" {
				d.name = n
			}
			d.mime = string(fs.Dokumenter[i].MimeType)
		}
		if d.mime == "" {
			d.mime = d.contentType
		}
		if d.name == "" {
			d.name = d.part
		}
		if fs.Kryptert != "" && !fs.Kryptert.Bool() {
			// sent in the clear
		} else if s.opts.Key == nil {
			d.encrypted = true
		} else {
			plain, err := dokumentpakke.Decrypt(d.content, s.opts.Key)
			if err != nil {
				return svarUtError(http.StatusBadRequest, fmt.Sprintf("Feil under lesing av %s: kan ikke dekryptere (%v)", d.part, err))
			}
			d.content = plain
		}
		docs[i] = d
	}
	if avvis != nil {
		return svarUtError(avvis.Status, avvis.Message)
	}
	now := s.now()
	sender := fs.SvarSendesTil.OrgnrOf()
	if sender == "" {
		sender = c.orgnr
	}
	f := &forsendelse{
		id: newUUID(), kind: "svarut", kontoID: mux.Vars(r)["kontoId"], eksternRef: string(fs.EksternReferanse),
		sender: sender, receiver: receiver, received: now, fields: &fs, raw: json.RawMessage(raw), docs: docs,
		other: other, bytes: total + int64(len(raw)), caller: c.orgnr, integ: c.integrasjonID,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f.setStatusLocked(StatusMottatt, "svarut", now)
	s.addLocked(f)
	s.lifecycleLocked(f)
	if s.svarInn[receiver] {
		s.forwardLocked(f)
	}
	return admin.JSON(http.StatusOK, map[string]string{"id": f.id})
}

func tooLargeOr(err error, msg string) admin.Response {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return svarUtError(http.StatusRequestEntityTooLarge, "Forsendelsen er for stor")
	}
	return svarUtError(http.StatusBadRequest, msg)
}

// lifecycleLocked schedules AKSEPTERT and LEST.
func (s *Server) lifecycleLocked(f *forsendelse) {
	b := s.beh
	accept := func() {
		if f.status != StatusMottatt {
			return
		}
		f.setStatusLocked(StatusAkseptert, "akseptertAfter", s.now())
		if b.lestAfter > 0 {
			s.scheduleLocked(b.lestAfter, func() {
				if !final(f.status) {
					f.setStatusLocked(StatusLest, "lestAfter", s.now())
				}
			})
		}
	}
	if b.akseptertAfter == 0 {
		accept()
		return
	}
	s.scheduleLocked(b.akseptertAfter, accept)
}

// forwardLocked puts a copy of a SvarUt forsendelse in the receiver's SvarInn queue.
func (s *Server) forwardLocked(f *forsendelse) {
	for _, d := range f.docs {
		if d.encrypted {
			f.forwardError = "the documents could not be decrypted (no Options.Key), so they are not forwarded to SvarInn"
			return
		}
	}
	in := &forsendelse{
		id: newUUID(), kind: "svarinn", eksternRef: f.eksternRef, sender: f.sender, receiver: f.receiver,
		received: f.received, fields: f.fields, raw: f.raw, docs: f.docs, bytes: f.bytes, forwardedFrom: f.id,
	}
	in.setStatusLocked(StatusKlarForMottak, "svarut", f.received)
	f.forwardedTo = in.id
	s.addLocked(in)
}

// StatusSok is the body of POST …/forsendelser/status/sok.
type StatusSok struct {
	ForsendelseIds []string `json:"forsendelseIds"`
}

// ForsendelseStatus is one element of statuser.
type ForsendelseStatus struct {
	ID                 string `json:"id"`
	Status             string `json:"status"`
	SisteStatusEndring string `json:"sisteStatusEndring"`
}

const statusTimeLayout = "2006-01-02T15:04:05.000-07:00"

// findLocked finds a SvarUt forsendelse by its id, else the newest with that eksternReferanse.
func (s *Server) findLocked(id string) *forsendelse {
	if f, ok := s.byID[id]; ok && f.kind == "svarut" {
		return f
	}
	for i := len(s.order) - 1; i >= 0; i-- {
		if f := s.order[i]; f.kind == "svarut" && f.eksternRef != "" && f.eksternRef == id {
			return f
		}
	}
	return nil
}

func (s *Server) statusSearch(r *http.Request, _ svarUtCaller) admin.Response {
	var q StatusSok
	if err := json.NewDecoder(io.LimitReader(r.Body, 4<<20)).Decode(&q); err != nil {
		return svarUtError(http.StatusBadRequest, "Ugyldig søk: "+err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []ForsendelseStatus{}
	for _, id := range q.ForsendelseIds {
		if f := s.findLocked(id); f != nil {
			out = append(out, ForsendelseStatus{ID: id, Status: f.status, SisteStatusEndring: f.changed.Format(statusTimeLayout)})
		}
	}
	return admin.JSON(http.StatusOK, map[string]any{"statuser": out})
}

func (s *Server) eksternRef(r *http.Request, _ svarUtCaller) admin.Response {
	ref := r.URL.Query().Get("eksternRef")
	if ref == "" {
		return svarUtError(http.StatusBadRequest, "Mangler parameter eksternRef")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := []string{}
	for _, f := range s.order {
		if f.kind == "svarut" && f.eksternRef == ref {
			ids = append(ids, f.id)
		}
	}
	return admin.JSON(http.StatusOK, map[string]any{"forsendelseIds": ids})
}

func (s *Server) forsendelsestyper(*http.Request, svarUtCaller) admin.Response {
	return admin.JSON(http.StatusOK, map[string]any{"forsendelsestyper": s.opts.ForsendelseTyper})
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
