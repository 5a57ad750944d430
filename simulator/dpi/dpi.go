package dpi

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/bearer"
	"github.com/efm-harness/efm-harness/simulator/lifecycle"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Name is the simulator's name on the control plane (/__admin/dpi on the harness control port).
const Name = "dpi"

// Protocol constants and defaults.
const (
	// DefaultBasePath is where the corner-2 API is served (the integration point's difi.move.dpi.uri is
	// http://host:port/api/v2/dpi).
	DefaultBasePath = "/api/v2/dpi"
	// KRRPrintPath is KRR's print certificate lookup (difi.move.dpi.krr-print-url).
	KRRPrintPath = "/rest/v2/printSertifikat"
	// DefaultScope is the Maskinporten scope every corner-2 call needs.
	DefaultScope = wire.DPIScope
	// DefaultMaxUploadSize bounds one send request when Options.MaxUploadSize is zero (the integration
	// point limits DPI to 50 MB).
	DefaultMaxUploadSize = 60 << 20
	// DefaultMaxMessages bounds the messages kept when Options.MaxMessages is zero.
	DefaultMaxMessages = 10_000
	// DefaultMaxStoredBytes bounds the bytes kept (JWS and decrypted documents) when
	// Options.MaxStoredBytes is zero.
	DefaultMaxStoredBytes = 1 << 30
	// DefaultPageSize is the page_size of GET /messages/in when the parameter is absent.
	DefaultPageSize = 100
	// MaxPageSize caps page_size.
	MaxPageSize = 1000
	// maxPending bounds the pending life-cycle timers.
	maxPending = 100_000
)

// Route suffixes under the base path.
const (
	SendSuffix     = "/messages/out"
	StatusesSuffix = "/messages/out/{messageId}/statuses"
	IncomingSuffix = "/messages/in"
	ReadSuffix     = "/messages/in/{messageId}/read"
)

// PrintProvider is the print provider KRR names: its organisation number (the SBD receiver of utskrift),
// its certificate (served PEM by GET /rest/v2/printSertifikat) and its private key (to open the
// dokumentpakke).
type PrintProvider struct {
	Orgnr       string
	Certificate *x509.Certificate
	Key         *rsa.PrivateKey
}

// Options configure a Server. Providers and PrintProvider must name the keys of the receivers the
// integration point sends to; a message to any other receiver is refused (400).
type Options struct {
	// BasePath is where the corner-2 API is served (DefaultBasePath when empty).
	BasePath string
	// Maskinporten verifies the bearer tokens of corner-2 calls. Nil reads them without checking the
	// signature (expiry is checked).
	Maskinporten *bearer.Verifier
	// Scope is the scope every corner-2 call needs (DefaultScope when empty).
	Scope string
	// Providers maps a mailbox provider's organisation number (the SBD receiver, 0192:<orgnr>) to the
	// private key of the certificate the dokumentpakke is encrypted to: fixtures.CredDigipost and
	// fixtures.CredEboks in the test PKI.
	Providers map[string]*rsa.PrivateKey
	// PrintProvider is KRR's print provider (fixtures.CredPrint, fixtures.PrintProviderOrgnr). Its key is
	// tried first for utskrift; it shares its organisation number with Digipost in the test population,
	// so every key known for the receiver is tried in turn.
	PrintProvider PrintProvider
	// SignerRoots, when set, is where the x5c chain of the forretningsmelding JWS must lead. Nil checks
	// only the signature with the x5c leaf.
	SignerRoots *x509.CertPool
	// ReceiptKey signs the receipts (RS256). Nil generates a 2048-bit key.
	ReceiptKey *rsa.PrivateKey
	// ReceiptCertificate is ReceiptKey's certificate, sent as x5c. Nil makes a self-signed one (run the
	// integration point with difi.move.dpi.certificate.mode=SELF_SIGNED).
	ReceiptCertificate *x509.Certificate
	// SendtAfter is how long after OPPRETTET corner 2 reports SENDT (0: at once).
	SendtAfter time.Duration
	// KvitteringAfter is how long after SENDT the leveringskvittering (digital) or mottakskvittering
	// (utskrift) is made (0: at once).
	KvitteringAfter time.Duration
	// AapningAfter, when positive, makes an aapningskvittering this long after the leveringskvittering
	// of a message that asked for one; zero: only by PUT /__admin/behaviour or admin action.
	AapningAfter time.Duration
	// MaxUploadSize, MaxMessages and MaxStoredBytes bound memory (defaults when zero); the oldest
	// messages and their receipts are forgotten first.
	MaxUploadSize  int64
	MaxMessages    int
	MaxStoredBytes int64
	// Logger receives one line per request; nil logs nothing.
	Logger *slog.Logger
	// JournalSize bounds the admin request journal.
	JournalSize int
	// Now is the clock (time.Now when nil); delays run on real time.
	Now func() time.Time
}

// Server is the DPI simulator: corner 2, KRR's print certificate and the admin API.
type Server struct {
	opts        Options
	base        string
	log         *slog.Logger
	admin       *admin.Service
	handler     http.Handler
	receiptKey  *rsa.PrivateKey
	receiptCert *x509.Certificate

	mu       sync.Mutex
	seq      uint64
	order    []*message
	byID     map[string]*message
	receipts map[string]*receipt
	inbox    []*receipt // receipts in the order they were made; read and forgotten ones are skipped
	dead     int        // entries of inbox that are read or forgotten
	stored   int64
	evicted  int64
	dropped  int64 // life-cycle steps not scheduled because maxPending timers were pending
	beh      behaviour

	life *lifecycle.Timers
}

// ErrOptions is wrapped by New's errors about its Options.
var ErrOptions = errors.New("dpi: bad options")

// New makes a Server.
func New(opts Options) (*Server, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Scope == "" {
		opts.Scope = DefaultScope
	}
	base := strings.TrimRight(opts.BasePath, "/")
	if opts.BasePath == "" {
		base = DefaultBasePath
	}
	if base != "" && !strings.HasPrefix(base, "/") {
		return nil, fmt.Errorf("%w: BasePath %q must start with /", ErrOptions, opts.BasePath)
	}
	if opts.SendtAfter < 0 || opts.KvitteringAfter < 0 || opts.AapningAfter < 0 {
		return nil, fmt.Errorf("%w: negative delay", ErrOptions)
	}
	if opts.MaxUploadSize <= 0 {
		opts.MaxUploadSize = DefaultMaxUploadSize
	}
	if opts.MaxMessages <= 0 {
		opts.MaxMessages = DefaultMaxMessages
	}
	if opts.MaxStoredBytes <= 0 {
		opts.MaxStoredBytes = DefaultMaxStoredBytes
	}
	if opts.Maskinporten == nil {
		opts.Maskinporten = bearer.NewUnverifiedVerifier().WithClock(opts.Now)
	}
	pp := opts.PrintProvider
	if pp.Certificate != nil && pp.Key != nil {
		if pub, ok := pp.Certificate.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&pp.Key.PublicKey) {
			return nil, fmt.Errorf("%w: PrintProvider.Key does not belong to PrintProvider.Certificate", ErrOptions)
		}
	}
	key, cert := opts.ReceiptKey, opts.ReceiptCertificate
	if key == nil && cert != nil {
		return nil, fmt.Errorf("%w: ReceiptCertificate without ReceiptKey", ErrOptions)
	}
	if key == nil {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, fmt.Errorf("dpi: receipt key: %w", err)
		}
	}
	if cert == nil {
		var err error
		if cert, err = SelfSignedCertificate(key, "efm-harness DPI corner 2 receipts", opts.Now()); err != nil {
			return nil, err
		}
	} else if pub, ok := cert.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) {
		return nil, fmt.Errorf("%w: ReceiptCertificate does not belong to ReceiptKey", ErrOptions)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		opts: opts, base: base, log: log, receiptKey: key, receiptCert: cert,
		byID: map[string]*message{}, receipts: map[string]*receipt{},
	}
	s.life = lifecycle.New(&s.mu, maxPending)
	s.beh = s.defaultBehaviour()
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

// SelfSignedCertificate makes a self-signed RSA certificate for key, valid from an hour before now for
// ten years, as the integration point's SELF_SIGNED certificate mode accepts it.
func SelfSignedCertificate(key *rsa.PrivateKey, commonName string, now time.Time) (*x509.Certificate, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: no key for the self-signed certificate", ErrOptions)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, fmt.Errorf("dpi: certificate serial: %w", err)
	}
	name := pkix.Name{CommonName: commonName, Organization: []string{"efm-harness (test only)"}, Country: []string{"NO"}}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: name, Issuer: name,
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("dpi: self-signed certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

func (s *Server) routes() *mux.Router {
	r := mux.NewRouter()
	r.Handle(s.base+SendSuffix, s.corner2(s.send)).Methods(http.MethodPost).Name(Name + ".send")
	r.Handle(s.base+StatusesSuffix, s.corner2(s.statuses)).Methods(http.MethodGet).Name(Name + ".statuses")
	r.Handle(s.base+IncomingSuffix, s.corner2(s.incoming)).Methods(http.MethodGet).Name(Name + ".incoming")
	r.Handle(s.base+ReadSuffix, s.corner2(s.read)).Methods(http.MethodPost).Name(Name + ".read")
	r.Handle(KRRPrintPath, admin.Handler(s.printSertifikat)).Methods(http.MethodGet).Name(Name + ".krr.print")
	adm := r.PathPrefix(admin.Prefix).Subrouter()
	s.admin.Routes(adm)
	r.NotFoundHandler = admin.Handler(func(r *http.Request) admin.Response {
		return problem(http.StatusNotFound, "No route "+r.URL.Path)
	})
	r.MethodNotAllowedHandler = admin.Handler(func(r *http.Request) admin.Response {
		return problem(http.StatusMethodNotAllowed, "Method "+r.Method+" is not supported for "+r.URL.Path)
	})
	return r
}

// Handler serves corner 2, KRR's print certificate and the admin API.
func (s *Server) Handler() http.Handler { return s.handler }

// Admin is the simulator's control plane.
func (s *Server) Admin() *admin.Service { return s.admin }

// BasePath is where the corner-2 API is served (the integration point's difi.move.dpi.uri path).
func (s *Server) BasePath() string { return s.base }

// ReceiptCertificate is the certificate the receipts are signed with (their x5c).
func (s *Server) ReceiptCertificate() *x509.Certificate { return s.receiptCert }

// Close stops the life-cycle timers: no status or receipt is made by itself after it returns. The server
// keeps answering.
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
	for _, m := range s.order {
		m.gone = true
	}
	s.order = nil
	s.byID = map[string]*message{}
	s.receipts = map[string]*receipt{}
	s.inbox, s.dead = nil, 0
	s.stored, s.evicted, s.dropped = 0, 0, 0
	s.beh = s.defaultBehaviour()
	s.life.StopLocked()
}

// afterLocked runs f under s.mu after d (at once when d is zero) unless reset or closed first. step and
// messageID name it in the warning logged when it is dropped because maxPending steps are pending
// (counted in s.dropped, shown as droppedSteps by GET /__admin/messages).
func (s *Server) afterLocked(d time.Duration, step, messageID string, f func()) {
	if d <= 0 {
		f()
		return
	}
	if s.life.AfterLocked(d, f) || s.life.ClosedLocked() {
		return
	}
	s.dropped++
	s.log.Warn("dpi: too many pending life-cycle timers; the step is dropped", "step", step, "messageId", messageID,
		"after", d, "pending", s.life.PendingLocked(), "dropped", s.dropped)
}

// addLocked stores m, forgetting the oldest messages (and their receipts) to stay within bounds.
func (s *Server) addLocked(m *message) {
	s.seq++
	m.seq = s.seq
	s.order = append(s.order, m)
	s.byID[m.id] = m
	s.stored += m.bytes
	for len(s.order) > 1 && (len(s.order) > s.opts.MaxMessages || s.stored > s.opts.MaxStoredBytes) {
		old := s.order[0]
		s.order[0] = nil
		s.order = s.order[1:]
		if s.byID[old.id] == old {
			delete(s.byID, old.id)
		}
		old.gone = true
		for _, rc := range old.receipts {
			delete(s.receipts, rc.id)
			if !rc.read {
				s.dead++
			}
		}
		s.stored -= old.bytes
		s.evicted++
		s.log.Warn("dpi: forgot the oldest message to stay within the bounds", "messageId", old.id)
	}
	s.compactInboxLocked()
}

// compactInboxLocked drops read and forgotten receipts from the inbox once they are the majority.
func (s *Server) compactInboxLocked() {
	if s.dead < 64 || s.dead*2 < len(s.inbox) {
		return
	}
	live := make([]*receipt, 0, len(s.inbox)-s.dead)
	for _, rc := range s.inbox {
		if rc.pending() {
			live = append(live, rc)
		}
	}
	s.inbox, s.dead = live, 0
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
