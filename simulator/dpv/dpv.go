package dpv

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/gorilla/mux"

	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/altinn"
	"github.com/efm-harness/efm-harness/simulator/bearer"
	"github.com/efm-harness/efm-harness/simulator/lifecycle"
)

// Name is the simulator's name on the control plane (/__admin/dpv on the harness control port).
const Name = "dpv"

// Protocol constants and defaults.
const (
	// ResourceAdministration and ResourceConfidential are eFormidling's DPV resources
	// (difi.move.dpv.resource / difi.move.dpv.sensitiveResource).
	ResourceAdministration = "eformidling-dpv-administrasjon"
	ResourceConfidential   = "eformidling-dpv-taushetsbelagt"
	// DefaultScope is the scope Digdir's altinn-proxy requires.
	DefaultScope = "eformidling:dpv"
	// AltinnTokenLifetime is the lifetime of exchanged Altinn tokens (the integration point caches them
	// for 25 minutes).
	AltinnTokenLifetime = altinn.TokenLifetime
	// DefaultMaxUploadSize bounds one upload request when Options.MaxUploadSize is zero: the 250 MiB of
	// attachments Altinn accepts plus room for the text fields and the multipart framing.
	DefaultMaxUploadSize = 250<<20 + 4<<20
	// DefaultMaxCorrespondences bounds the correspondences kept when Options.MaxCorrespondences is zero.
	DefaultMaxCorrespondences = 10_000
	// DefaultMaxStoredBytes bounds the attachment bytes kept when Options.MaxStoredBytes is zero.
	DefaultMaxStoredBytes = 1 << 30
	// maxPending bounds the pending life-cycle timers.
	maxPending = 100_000
)

// Paths of the services the simulator serves.
const (
	CorrespondenceBase = "/correspondence/api/v1"
	UploadPath         = CorrespondenceBase + "/correspondence/upload"
	CorrespondencePath = CorrespondenceBase + "/correspondence"
	HealthPath         = "/health-probe"
	ExchangePath       = altinn.ExchangePath
	JWKSPath           = altinn.JWKSPath
	OpenIDJWKSPath     = altinn.OpenIDJWKSPath
	idVar              = "correspondenceId"
)

// Correspondence statuses (CorrespondenceStatusExt) the simulator moves through.
const (
	StatusInitialized       = "Initialized"
	StatusPublished         = "Published"
	StatusRead              = "Read"
	StatusPurgedByRecipient = "PurgedByRecipient"
	StatusPurgedByAltinn    = "PurgedByAltinn"
)

// Options configure a Server. The zero value works: a fresh Altinn signing key, Maskinporten tokens read
// without checking their signature, the two eFormidling DPV resources, correspondences published at once
// and never read until an admin action reads them.
type Options struct {
	// Signer signs the Altinn tokens of the token exchange; its public key is served at /altinn/jwk.
	// Nil generates a 2048-bit key.
	Signer *rsa.PrivateKey
	// Certificate is Signer's certificate, published as x5c. Optional; its key must be Signer's.
	Certificate *x509.Certificate
	// Maskinporten verifies the Maskinporten tokens presented to the token exchange, and makes
	// correspondence calls with a Maskinporten token instead of an Altinn one acceptable. Nil reads the
	// exchange's Maskinporten tokens without checking their signature (expiry is checked) and accepts only
	// Altinn tokens on the correspondence API.
	Maskinporten *bearer.Verifier
	// Resources are the resource ids uploads may name (ResourceAdministration and ResourceConfidential
	// when empty).
	Resources []string
	// Scope is the scope correspondence calls need (DefaultScope when empty).
	Scope string
	// PublishAfter is how long after its upload a correspondence is Published (0: at once). A later
	// correspondence.requestedPublishTime postpones it. Changeable with PUT /__admin/behaviour.
	PublishAfter time.Duration
	// ReadAfter, when positive, reads every correspondence this long after it is Published; zero leaves
	// reading to POST /__admin/messages/{id}/read. Changeable with PUT /__admin/behaviour.
	ReadAfter time.Duration
	// MaxUploadSize bounds one upload request (DefaultMaxUploadSize when zero).
	MaxUploadSize int64
	// MaxCorrespondences bounds the correspondences kept (DefaultMaxCorrespondences when zero); beyond it
	// the oldest uploads are forgotten, their idempotent keys with them.
	MaxCorrespondences int
	// MaxStoredBytes bounds the attachment bytes kept (DefaultMaxStoredBytes when zero), evicting as
	// MaxCorrespondences does.
	MaxStoredBytes int64
	// Logger receives one line per request and per eviction; nil logs nothing.
	Logger *slog.Logger
	// JournalSize bounds the admin request journal (admin.DefaultJournalSize when zero).
	JournalSize int
	// Now is the clock (time.Now when nil). It stamps correspondences; the life-cycle delays run on real
	// time.
	Now func() time.Time
}

// Server is the DPV simulator: the Altinn 3 Correspondence API as Digdir's altinn-proxy serves it, the
// Altinn token exchange, the Altinn key set, the health probe and the admin API.
type Server struct {
	opts    Options
	log     *slog.Logger
	altinn  *altinn.Platform
	admin   *admin.Service
	handler http.Handler

	mu      sync.Mutex
	seq     uint64
	uploads []*upload // upload order
	byID    map[string]*correspondence
	byKey   map[string]*upload // idempotent key → upload
	count   int                // correspondences kept
	stored  int64              // attachment bytes kept
	evicted int64
	beh     behaviour

	life    *lifecycle.Timers
	running sync.WaitGroup
}

// behaviour is what PUT /__admin/behaviour changes.
type behaviour struct {
	publishAfter time.Duration
	readAfter    time.Duration // 0: never by itself
	reject       *Reject
}

// ErrOptions is wrapped by New's errors about its Options.
var ErrOptions = errors.New("dpv: bad options")

// New makes a Server.
func New(opts Options) (*Server, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if len(opts.Resources) == 0 {
		opts.Resources = []string{ResourceAdministration, ResourceConfidential}
	}
	opts.Resources = slices.Clone(opts.Resources)
	if opts.Scope == "" {
		opts.Scope = DefaultScope
	}
	if opts.PublishAfter < 0 || opts.ReadAfter < 0 {
		return nil, fmt.Errorf("%w: negative delay", ErrOptions)
	}
	if opts.MaxUploadSize <= 0 {
		opts.MaxUploadSize = DefaultMaxUploadSize
	}
	if opts.MaxCorrespondences <= 0 {
		opts.MaxCorrespondences = DefaultMaxCorrespondences
	}
	if opts.MaxStoredBytes <= 0 {
		opts.MaxStoredBytes = DefaultMaxStoredBytes
	}
	if opts.Signer == nil {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("dpv: generate signing key: %w", err)
		}
		opts.Signer = k
	}
	platform, err := altinn.NewPlatform(opts.Signer, opts.Certificate, opts.Maskinporten, opts.Now)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOptions, err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		opts:   opts,
		log:    log,
		altinn: platform,
		byID:   map[string]*correspondence{},
		byKey:  map[string]*upload{},
		beh:    behaviour{publishAfter: opts.PublishAfter, readAfter: opts.ReadAfter},
	}
	s.life = lifecycle.New(&s.mu, maxPending)
	s.admin = admin.New(Name, admin.Hooks{
		Reset:       s.reset,
		Messages:    s.adminMessages,
		Message:     s.adminMessage,
		Behaviour:   s.adminBehaviour,
		Routes:      s.adminRoutes,
		StatusFault: altinn.StatusFault,
	}, admin.Options{JournalSize: opts.JournalSize, Logger: opts.Logger, Now: opts.Now})
	s.handler = s.admin.Middleware(s.routes())
	return s, nil
}

// routes is the route table: the correspondence API, the health probe, the token exchange, the Altinn
// keys, and the admin API.
func (s *Server) routes() *mux.Router {
	r := mux.NewRouter()
	id := "/{" + idVar + "}"
	r.Handle(UploadPath, s.correspondenceAPI(s.upload)).Methods(http.MethodPost).Name(Name + ".correspondence.upload")
	r.Handle(CorrespondencePath, s.correspondenceAPI(s.search)).Methods(http.MethodGet).Name(Name + ".correspondence.search")
	r.Handle(CorrespondencePath+"/", s.correspondenceAPI(s.search)).Methods(http.MethodGet).Name(Name + ".correspondence.search.slash")
	r.Handle(CorrespondencePath+id, s.correspondenceAPI(s.overview)).Methods(http.MethodGet).Name(Name + ".correspondence.overview")
	r.Handle(HealthPath, admin.Handler(s.health)).Methods(http.MethodGet, http.MethodHead).Name(Name + ".health")
	r.Handle(HealthPath+"/", admin.Handler(s.health)).Methods(http.MethodGet, http.MethodHead).Name(Name + ".health.slash")
	r.Handle(ExchangePath, admin.Handler(s.altinn.Exchange)).Methods(http.MethodGet).Name(Name + ".exchange.maskinporten")
	r.Handle(JWKSPath, admin.Handler(s.altinn.JWKS)).Methods(http.MethodGet).Name(Name + ".jwk")
	r.Handle(OpenIDJWKSPath, admin.Handler(s.altinn.JWKS)).Methods(http.MethodGet).Name(Name + ".openid.jwks")
	adm := r.PathPrefix(admin.Prefix).Subrouter()
	s.admin.Routes(adm)
	r.NotFoundHandler = admin.Handler(altinn.NotFound)
	r.MethodNotAllowedHandler = admin.Handler(altinn.MethodNotAllowed)
	return r
}

// Handler serves the correspondence API, the health probe, the token exchange, the Altinn keys and the
// admin API, journalled and faulted by the admin middleware.
func (s *Server) Handler() http.Handler { return s.handler }

// Admin is the simulator's control plane (register it on the harness control port).
func (s *Server) Admin() *admin.Service { return s.admin }

// AltinnKeys is the public key set that verifies the exchanged Altinn tokens (served at /altinn/jwk).
func (s *Server) AltinnKeys() jose.JSONWebKeySet { return s.altinn.Keys() }

// Resources are the resource ids uploads may name.
func (s *Server) Resources() []string { return slices.Clone(s.opts.Resources) }

// Close stops the life-cycle timers: no correspondence changes status by itself after it returns. The
// servers keep answering, and admin actions still work.
func (s *Server) Close() error {
	s.mu.Lock()
	s.life.CloseLocked()
	s.mu.Unlock()
	s.running.Wait()
	return nil
}

func (s *Server) now() time.Time { return s.opts.Now() }

func (s *Server) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.uploads = nil
	s.byID = map[string]*correspondence{}
	s.byKey = map[string]*upload{}
	s.count, s.stored, s.evicted = 0, 0, 0
	s.beh = behaviour{publishAfter: s.opts.PublishAfter, readAfter: s.opts.ReadAfter}
	s.life.StopLocked()
}

// scheduleLocked runs f (under s.mu) after d unless the simulator is reset or closed first. Callers
// hold s.mu.
func (s *Server) scheduleLocked(d time.Duration, f func()) bool {
	if s.life.AfterLocked(d, f) {
		return true
	}
	if !s.life.ClosedLocked() {
		s.log.Warn("dpv: too many pending life-cycle steps; one is dropped", "pending", s.life.PendingLocked())
	}
	return false
}

// addLocked stores an upload and its correspondences, evicting the oldest uploads to stay within the
// bounds. Callers hold s.mu.
func (s *Server) addLocked(u *upload) {
	s.seq++
	u.seq = s.seq
	s.uploads = append(s.uploads, u)
	for _, c := range u.corrs {
		s.byID[c.id] = c
	}
	if u.key != "" {
		s.byKey[u.key] = u
	}
	s.count += len(u.corrs)
	s.stored += u.bytes
	for len(s.uploads) > 1 && (s.count > s.opts.MaxCorrespondences || s.stored > s.opts.MaxStoredBytes) {
		old := s.uploads[0]
		s.uploads = s.uploads[1:]
		for _, c := range old.corrs {
			delete(s.byID, c.id)
		}
		if old.key != "" && s.byKey[old.key] == old {
			delete(s.byKey, old.key)
		}
		s.count -= len(old.corrs)
		s.stored -= old.bytes
		s.evicted += int64(len(old.corrs))
		s.log.Warn("dpv: forgot the oldest upload to stay within the bounds", "correspondences", len(old.corrs),
			"maxCorrespondences", s.opts.MaxCorrespondences, "maxStoredBytes", s.opts.MaxStoredBytes)
	}
}
