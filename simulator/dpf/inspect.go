package dpf

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/efm-harness/efm-harness/simulator/admin"
)

// Summary is one forsendelse in GET /__admin/messages.
type Summary struct {
	ID            string    `json:"id"`
	Kind          string    `json:"kind"` // svarut (sent through SvarUt) or svarinn (in a SvarInn queue)
	EksternRef    string    `json:"eksternReferanse,omitempty"`
	KontoID       string    `json:"kontoId,omitempty"`
	Sender        string    `json:"sender,omitempty"`
	Receiver      string    `json:"receiver"`
	Tittel        string    `json:"tittel"`
	Status        string    `json:"status"`
	StatusChanged time.Time `json:"statusChanged"`
	Received      time.Time `json:"received"`
	Documents     int       `json:"documents"`
	Acknowledged  bool      `json:"acknowledged,omitempty"`
	Corrupt       bool      `json:"corrupt,omitempty"`
	Injected      bool      `json:"injected,omitempty"`
	ForwardedTo   string    `json:"forwardedTo,omitempty"`
	ForwardedFrom string    `json:"forwardedFrom,omitempty"`
}

// DocumentView is a document in the admin view (decrypted when the simulator has the SvarUt key).
type DocumentView struct {
	Part         string `json:"part,omitempty"`
	Filnavn      string `json:"filnavn"`
	MimeType     string `json:"mimeType"`
	ContentType  string `json:"contentType,omitempty"`
	Size         int    `json:"size"`
	UploadSize   int    `json:"uploadSize,omitempty"`
	Sha256       string `json:"sha256"`
	Encrypted    bool   `json:"encrypted"`
	DecryptError string `json:"decryptError,omitempty"`
	Content      string `json:"content,omitempty"`
}

// MessageView is GET /__admin/messages/{id}.
type MessageView struct {
	Summary
	History       []StatusChange      `json:"history"`
	Caller        string              `json:"callerOrgnr,omitempty"`
	IntegrasjonID string              `json:"integrasjonId,omitempty"`
	Forsendelse   *Forsendelse        `json:"forsendelse"`
	Raw           json.RawMessage     `json:"raw,omitempty"`
	Documents     []DocumentView      `json:"documents"`
	OtherParts    []string            `json:"otherParts,omitempty"`
	SvarInn       *SvarInnForsendelse `json:"svarInn,omitempty"`
	Downloads     int                 `json:"downloads,omitempty"`
	AckedAt       *time.Time          `json:"acknowledgedAt,omitempty"`
	MottakFeilet  json.RawMessage     `json:"mottakFeilet,omitempty"`
	ForwardError  string              `json:"forwardError,omitempty"`
}

func summary(f *forsendelse) Summary {
	t := ""
	if f.fields != nil {
		t = string(f.fields.Tittel)
	}
	return Summary{ID: f.id, Kind: f.kind, EksternRef: f.eksternRef, KontoID: f.kontoID, Sender: f.sender, Receiver: f.receiver,
		Tittel: t, Status: f.status, StatusChanged: f.changed, Received: f.received, Documents: len(f.docs),
		Acknowledged: f.acked, Corrupt: f.corrupt, Injected: f.injected, ForwardedTo: f.forwardedTo, ForwardedFrom: f.forwardedFrom}
}

func (s *Server) adminMessages(r *http.Request) admin.Response {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Summary{}
	for _, f := range s.order {
		if (q.Get("kind") != "" && q.Get("kind") != f.kind) || (q.Get("receiver") != "" && q.Get("receiver") != f.receiver) ||
			(q.Get("eksternRef") != "" && q.Get("eksternRef") != f.eksternRef) || (q.Get("status") != "" && q.Get("status") != f.status) {
			continue
		}
		out = append(out, summary(f))
	}
	return admin.JSON(http.StatusOK, map[string]any{"forsendelser": out, "evicted": s.evicted, "storedBytes": s.stored})
}

// lookupLocked finds by id, else by eksternReferanse (newest).
func (s *Server) lookupLocked(id string) *forsendelse {
	if f, ok := s.byID[id]; ok {
		return f
	}
	for i := len(s.order) - 1; i >= 0; i-- {
		if s.order[i].eksternRef == id {
			return s.order[i]
		}
	}
	return nil
}

func (s *Server) adminMessage(r *http.Request, id string) admin.Response {
	withContent := r.URL.Query().Get("content") == "true"
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.lookupLocked(id)
	if f == nil {
		return admin.ErrorResponse(http.StatusNotFound, "no forsendelse "+id)
	}
	v := MessageView{Summary: summary(f), History: append([]StatusChange(nil), f.history...), Caller: f.caller,
		IntegrasjonID: f.integ, Forsendelse: f.fields, Raw: f.raw, Documents: []DocumentView{}, OtherParts: f.other,
		Downloads: f.downloads, MottakFeilet: f.feilet, ForwardError: f.forwardError}
	if f.acked {
		t := f.ackedAt
		v.AckedAt = &t
	}
	for _, d := range f.docs {
		dv := DocumentView{Part: d.part, Filnavn: d.name, MimeType: d.mime, ContentType: d.contentType, Size: len(d.content),
			UploadSize: d.uploadSize, Sha256: sha(d.content), Encrypted: d.encrypted, DecryptError: d.decryptError}
		if withContent {
			dv.Content = base64.StdEncoding.EncodeToString(d.content)
		}
		v.Documents = append(v.Documents, dv)
	}
	if f.kind == "svarinn" {
		sv := s.svarInnView(r, f)
		v.SvarInn = &sv
	}
	return admin.JSON(http.StatusOK, v)
}

// Behaviour is GET/PUT /__admin/behaviour. Durations are Go duration strings; lestAfter null or "0s"
// means never by itself; avvis null accepts sends.
type Behaviour struct {
	AkseptertAfter *string `json:"akseptertAfter"`
	LestAfter      *string `json:"lestAfter"`
	Avvis          *Reject `json:"avvis"`
}

func (s *Server) adminBehaviour(r *http.Request) admin.Response {
	if r.Method == http.MethodPut {
		raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			return admin.ErrorResponse(http.StatusBadRequest, err.Error())
		}
		var present map[string]json.RawMessage
		var b Behaviour
		if err := json.Unmarshal(raw, &present); err != nil {
			return admin.ErrorResponse(http.StatusBadRequest, "bad behaviour: "+err.Error())
		}
		if err := json.Unmarshal(raw, &b); err != nil {
			return admin.ErrorResponse(http.StatusBadRequest, "bad behaviour: "+err.Error())
		}
		s.mu.Lock()
		nb := s.beh
		s.mu.Unlock()
		if _, ok := present["akseptertAfter"]; ok {
			d, err := parseDelay(b.AkseptertAfter)
			if err != nil {
				return admin.ErrorResponse(http.StatusBadRequest, "akseptertAfter: "+err.Error())
			}
			nb.akseptertAfter = d
		}
		if _, ok := present["lestAfter"]; ok {
			d, err := parseDelay(b.LestAfter)
			if err != nil {
				return admin.ErrorResponse(http.StatusBadRequest, "lestAfter: "+err.Error())
			}
			nb.lestAfter = d
		}
		if _, ok := present["avvis"]; ok {
			if b.Avvis != nil && (b.Avvis.Status < 400 || b.Avvis.Status > 599) {
				return admin.ErrorResponse(http.StatusBadRequest, "avvis.status must be 4xx or 5xx")
			}
			nb.avvis = b.Avvis
		}
		s.mu.Lock()
		s.beh = nb
		s.mu.Unlock()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Behaviour{Avvis: s.beh.avvis}
	a := s.beh.akseptertAfter.String()
	out.AkseptertAfter = &a
	if s.beh.lestAfter > 0 {
		l := s.beh.lestAfter.String()
		out.LestAfter = &l
	}
	return admin.JSON(http.StatusOK, out)
}

func parseDelay(p *string) (time.Duration, error) {
	if p == nil || *p == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(*p)
	if err == nil && d < 0 {
		d = 0
	}
	return d, err
}

func (s *Server) adminRoutes(r *mux.Router) {
	for _, a := range []struct{ path, status string }{{"lest", StatusLest}, {"akseptert", StatusAkseptert}, {"avvist", StatusAvvist}} {
		st := a.status
		r.Handle("/messages/{id}/"+a.path, admin.Handler(func(r *http.Request) admin.Response {
			id := mux.Vars(r)["id"]
			s.mu.Lock()
			defer s.mu.Unlock()
			f := s.lookupLocked(id)
			if f == nil || f.kind != "svarut" {
				return admin.ErrorResponse(http.StatusNotFound, "no SvarUt forsendelse "+id)
			}
			f.setStatusLocked(st, "admin", s.now())
			return admin.JSON(http.StatusOK, summary(f))
		})).Methods(http.MethodPost).Name(Name + ".admin.status." + a.path)
	}
}
