package dpf

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

	"github.com/gorilla/mux"

	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/bearer"
	"github.com/efm-harness/efm-harness/simulator/lifecycle"
)

// Name is the simulator's name on the control plane.
const Name = "dpf"

// Protocol constants and defaults.
const (
	// DefaultScope is the Maskinporten scope SvarUt REST calls need.
	DefaultScope = "ks:fiks"
	// DefaultMaxUploadSize bounds one send request when Options.MaxUploadSize is zero.
	DefaultMaxUploadSize = 256 << 20
	// DefaultMaxForsendelser bounds the forsendelser kept when Options.MaxForsendelser is zero.
	DefaultMaxForsendelser = 10_000
	// DefaultMaxStoredBytes bounds the document bytes kept when Options.MaxStoredBytes is zero.
	DefaultMaxStoredBytes = 1 << 30
	maxPending            = 100_000
)

// Paths.
const (
	SendPath             = "/api/v3/kontoer/{kontoId}/forsendelser/organisasjon"
	StatusSearchPath     = "/api/v3/kontoer/{kontoId}/forsendelser/status/sok"
	EksternRefPath       = "/api/v2/kontoer/{kontoId}/forsendelser"
	ForsendelsestypePath = "/api/v2/forsendelsestyper"
	SvarInnBase          = "/tjenester/svarinn"
	SvarInnListPath      = SvarInnBase + "/mottaker/hentNyeForsendelser"
	SvarInnDownloadPath  = SvarInnBase + "/mottaker/forsendelse/{id}"
	SvarInnDownloadAlt   = SvarInnBase + "/forsendelse/{id}"
	SvarInnKvitterPath   = SvarInnBase + "/kvitterMottak/forsendelse/{id}"
	SvarInnFeiletPath    = SvarInnBase + "/mottakFeilet/forsendelse/{id}"
)

// SvarUt statuses.
const (
	StatusMottatt   = "MOTTATT"
	StatusAkseptert = "AKSEPTERT"
	StatusLest      = "LEST"
	StatusAvvist    = "AVVIST"
	// SvarInn-side states (admin view only).
	StatusKlarForMottak = "KLAR_FOR_MOTTAK"
	StatusKvittert      = "KVITTERT"
	StatusMottakFeilet  = "MOTTAK_FEILET"
)

// SvarInnUser is a SvarInn Basic-auth account.
type SvarInnUser struct {
	Password string
	Orgnr    string
}

// Options configure a Server. The zero value works: documents kept encrypted (no Key), any Maskinporten
// token read without checking its signature, any IntegrasjonId/IntegrasjonPassord pair, any SvarInn
// user named by its orgnr.
type Options struct {
	// Key is SvarUt's document key (the private key of the DPF pemCertificate in the address register,
	// fixtures.CredSvarUt). Nil keeps the uploaded documents encrypted.
	Key *rsa.PrivateKey
	// Maskinporten verifies the bearer tokens of SvarUt REST calls. Nil reads them without checking the
	// signature (expiry is checked).
	Maskinporten *bearer.Verifier
	// Scope is the scope SvarUt REST calls need (DefaultScope when empty).
	Scope string
	// Integrations maps IntegrasjonId → IntegrasjonPassord. Empty accepts any non-empty pair.
	Integrations map[string]string
	// ForsendelseTyper are served by GET /api/v2/forsendelsestyper (DefaultForsendelseTyper when nil).
	ForsendelseTyper []string
	// SvarInnUsers maps SvarInn Basic usernames to passwords and orgs. Empty: the username is the orgnr
	// and any password is accepted.
	SvarInnUsers map[string]SvarInnUser
	// SvarInnOrgs receive through SvarInn: what SvarUt gets for them is put in their SvarInn queue.
	SvarInnOrgs []string
	// Credentials gives an organisation's FIKS key and certificate; SvarInn downloads are encrypted to
	// the certificate. Without it (or without an entry) the forsendelse cannot be downloaded (500 from
	// the download, as a misconfigured SvarInn would fail).
	Credentials func(orgnr string) (*rsa.PrivateKey, *x509.Certificate, bool)
	// DefaultSender is the svarSendesTil orgnr of injected forsendelser that name no sender (the stack
	// sets a municipality of the test population); empty leaves svarSendesTil.orgnr empty.
	DefaultSender string
	// AkseptertAfter is how long after MOTTATT a forsendelse becomes AKSEPTERT (0: at once).
	AkseptertAfter time.Duration
	// LestAfter, when positive, makes a forsendelse LEST this long after AKSEPTERT; zero: only by admin
	// action.
	LestAfter time.Duration
	// PublicURL is the absolute base of SvarInn download URLs ("http://sim-fiks"); empty uses the
	// request's Host.
	PublicURL string
	// MaxUploadSize, MaxForsendelser, MaxStoredBytes bound memory (defaults when zero).
	MaxUploadSize   int64
	MaxForsendelser int
	MaxStoredBytes  int64
	// Logger receives one line per request; nil logs nothing.
	Logger *slog.Logger
	// JournalSize bounds the admin request journal.
	JournalSize int
	// Now is the clock (time.Now when nil); delays run on real time.
	Now func() time.Time
}

// DefaultForsendelseTyper are the forsendelsestyper served when Options.ForsendelseTyper is nil.
func DefaultForsendelseTyper() []string {
	return []string{"Byggesøknad", "Plansak", "Skattesak", "Tilsynssak"}
}

// Reject is the configured refusal of every send (PUT /__admin/behaviour "avvis").
type Reject struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
}

type behaviour struct {
	akseptertAfter time.Duration
	lestAfter      time.Duration
	avvis          *Reject
}

// Server is the DPF simulator: SvarUt REST, SvarInn and the admin API.
type Server struct {
	opts    Options
	log     *slog.Logger
	admin   *admin.Service
	handler http.Handler
	svarInn map[string]bool
	keyCert func(string) (*rsa.PrivateKey, *x509.Certificate, bool)

	mu      sync.Mutex
	seq     uint64
	order   []*forsendelse
	byID    map[string]*forsendelse
	stored  int64
	evicted int64
	beh     behaviour

	life *lifecycle.Timers
}

// ErrOptions is wrapped by New's errors about its Options.
var ErrOptions = errors.New("dpf: bad options")

// New makes a Server.
func New(opts Options) (*Server, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Scope == "" {
		opts.Scope = DefaultScope
	}
	if opts.ForsendelseTyper == nil {
		opts.ForsendelseTyper = DefaultForsendelseTyper()
	}
	opts.ForsendelseTyper = slices.Clone(opts.ForsendelseTyper)
	if opts.AkseptertAfter < 0 || opts.LestAfter < 0 {
		return nil, fmt.Errorf("%w: negative delay", ErrOptions)
	}
	if opts.MaxUploadSize <= 0 {
		opts.MaxUploadSize = DefaultMaxUploadSize
	}
	if opts.MaxForsendelser <= 0 {
		opts.MaxForsendelser = DefaultMaxForsendelser
	}
	if opts.MaxStoredBytes <= 0 {
		opts.MaxStoredBytes = DefaultMaxStoredBytes
	}
	if opts.Maskinporten == nil {
		opts.Maskinporten = bearer.NewUnverifiedVerifier().WithClock(opts.Now)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		opts:    opts,
		log:     log,
		svarInn: map[string]bool{},
		byID:    map[string]*forsendelse{},
		beh:     behaviour{akseptertAfter: opts.AkseptertAfter, lestAfter: opts.LestAfter},
	}
	s.life = lifecycle.New(&s.mu, maxPending)
	for _, o := range opts.SvarInnOrgs {
		s.svarInn[o] = true
	}
	s.keyCert = opts.Credentials
	if s.keyCert == nil {
		s.keyCert = func(string) (*rsa.PrivateKey, *x509.Certificate, bool) { return nil, nil, false }
	}
	s.admin = admin.New(Name, admin.Hooks{
		Reset:       s.reset,
		Messages:    s.adminMessages,
		Message:     s.adminMessage,
		Inject:      s.adminInject,
		Behaviour:   s.adminBehaviour,
		Routes:      s.adminRoutes,
		StatusFault: statusFault,
	}, admin.Options{JournalSize: opts.JournalSize, Logger: opts.Logger, Now: opts.Now})
	s.handler = s.admin.Middleware(s.routes())
	return s, nil
}

func (s *Server) routes() *mux.Router {
	r := mux.NewRouter()
	r.Handle(SendPath, s.svarUt(s.send)).Methods(http.MethodPost).Name(Name + ".svarut.send")
	r.Handle(StatusSearchPath, s.svarUt(s.statusSearch)).Methods(http.MethodPost).Name(Name + ".svarut.status")
	r.Handle(EksternRefPath, s.svarUt(s.eksternRef)).Methods(http.MethodGet).Name(Name + ".svarut.eksternref")
	r.Handle(ForsendelsestypePath, s.svarUt(s.forsendelsestyper)).Methods(http.MethodGet).Name(Name + ".svarut.forsendelsestyper")
	r.Handle(SvarInnListPath, s.svarInnAPI(s.hentNye)).Methods(http.MethodGet).Name(Name + ".svarinn.list")
	r.Handle(SvarInnDownloadPath, s.svarInnAPI(s.download)).Methods(http.MethodGet).Name(Name + ".svarinn.download")
	r.Handle(SvarInnDownloadAlt, s.svarInnAPI(s.download)).Methods(http.MethodGet).Name(Name + ".svarinn.download.alt")
	r.Handle(SvarInnKvitterPath, s.svarInnAPI(s.kvitter)).Methods(http.MethodPost).Name(Name + ".svarinn.kvitter")
	r.Handle(SvarInnFeiletPath, s.svarInnAPI(s.mottakFeilet)).Methods(http.MethodPost).Name(Name + ".svarinn.feilet")
	adm := r.PathPrefix(admin.Prefix).Subrouter()
	s.admin.Routes(adm)
	r.NotFoundHandler = admin.Handler(func(r *http.Request) admin.Response {
		return svarUtError(http.StatusNotFound, "Fant ikke "+r.URL.Path)
	})
	r.MethodNotAllowedHandler = admin.Handler(func(r *http.Request) admin.Response {
		return svarUtError(http.StatusMethodNotAllowed, "Metoden "+r.Method+" er ikke støttet for "+r.URL.Path)
	})
	return r
}

// Handler serves SvarUt REST, SvarInn and the admin API.
func (s *Server) Handler() http.Handler { return s.handler }

// Admin is the simulator's control plane.
func (s *Server) Admin() *admin.Service { return s.admin }

// ForsendelseTyper are the forsendelsestyper served.
func (s *Server) ForsendelseTyper() []string { return slices.Clone(s.opts.ForsendelseTyper) }

// Close stops the status timers. The server keeps answering.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.life.CloseLocked()
	return nil
}

func (s *Server) now() time.Time { return s.opts.Now() }

func (s *Server) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.order = nil
	s.byID = map[string]*forsendelse{}
	s.stored, s.evicted = 0, 0
	s.beh = behaviour{akseptertAfter: s.opts.AkseptertAfter, lestAfter: s.opts.LestAfter}
	s.life.StopLocked()
}

// scheduleLocked runs f under s.mu after d unless reset or closed first.
func (s *Server) scheduleLocked(d time.Duration, f func()) { s.life.AfterLocked(d, f) }

// addLocked stores f, evicting the oldest to stay within bounds.
func (s *Server) addLocked(f *forsendelse) {
	s.seq++
	f.seq = s.seq
	s.order = append(s.order, f)
	s.byID[f.id] = f
	s.stored += f.bytes
	for len(s.order) > 1 && (len(s.order) > s.opts.MaxForsendelser || s.stored > s.opts.MaxStoredBytes) {
		old := s.order[0]
		s.order = s.order[1:]
		if s.byID[old.id] == old {
			delete(s.byID, old.id)
		}
		s.stored -= old.bytes
		s.evicted++
		s.log.Warn("dpf: forgot the oldest forsendelse to stay within the bounds", "id", old.id)
	}
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
