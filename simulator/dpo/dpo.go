package dpo

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
)

// Name is the simulator's name on the control plane (/__admin/dpo on the harness control port).
const Name = "dpo"

// Protocol constants and defaults.
const (
	// DefaultResource is the Altinn resource of eFormidling DPO (difi.move.dpo.resource).
	DefaultResource = "eformidling-dpo-meldingsutveksling"
	// ScopeWrite is needed to initialise and upload; ScopeRead to download and confirm; either lists and
	// shows transfers.
	ScopeWrite = "altinn:broker.write"
	ScopeRead  = "altinn:broker.read"
	// AltinnTokenLifetime is the lifetime of exchanged Altinn tokens (the integration point caches them
	// for 25 minutes).
	AltinnTokenLifetime = altinn.TokenLifetime
	// FileTransferTimeToLive is the expirationTime of a transfer after its creation (Altinn's default).
	FileTransferTimeToLive = 30 * 24 * time.Hour
	// MaxListed is the most ids GET /filetransfer answers with (Altinn's limit).
	MaxListed = 100
	// DefaultMaxTransfers bounds the transfers kept when Options.MaxTransfers is zero.
	DefaultMaxTransfers = 10_000
	// DefaultMaxUploadSize bounds one upload when Options.MaxUploadSize is zero.
	DefaultMaxUploadSize = 256 << 20
	// DefaultMaxStoredBytes bounds the payload bytes kept when Options.MaxStoredBytes is zero.
	DefaultMaxStoredBytes = 1 << 30
	// maxInitBody bounds the initialise request body.
	maxInitBody = 1 << 20
)

// Paths of the services the simulator serves.
const (
	BrokerBase        = "/broker/api/v1"
	ExchangePath      = altinn.ExchangePath
	JWKSPath          = altinn.JWKSPath
	OpenIDJWKSPath    = altinn.OpenIDJWKSPath
	OpenIDConfigPath  = altinn.OpenIDConfigPath
	fileTransferPath  = BrokerBase + "/filetransfer"
	fileTransferIDVar = "fileTransferId"
)

// Options configure a Server. The zero value works: a fresh Altinn signing key, Maskinporten tokens
// read without checking their signature, the default resource and bounds, and no decryption of what
// arrives.
type Options struct {
	// Signer signs the Altinn tokens of the token exchange; its public key is served at /altinn/jwk.
	// Nil generates a 2048-bit key.
	Signer *rsa.PrivateKey
	// Certificate is Signer's certificate, published as x5c. Optional; its key must be Signer's.
	Certificate *x509.Certificate
	// Maskinporten verifies the Maskinporten tokens presented to the token exchange, and makes broker
	// calls with a Maskinporten token instead of an Altinn one acceptable (real Altinn accepts both).
	// Nil reads the exchange's Maskinporten tokens without checking their signature (expiry is checked)
	// and accepts only Altinn tokens on the broker.
	Maskinporten *bearer.Verifier
	// Resource is the broker resource transfers must name (DefaultResource when empty).
	Resource string
	// Keys returns a recipient organisation's private key, which opens the encrypted asic.zip of what
	// it received on the admin inspection API. Nil shows the payload without decrypting it.
	Keys func(orgnr string) (*rsa.PrivateKey, bool)
	// Logger receives one line per request and per eviction; nil logs nothing.
	Logger *slog.Logger
	// JournalSize bounds the admin request journal (admin.DefaultJournalSize when zero).
	JournalSize int
	// MaxTransfers bounds the transfers kept (DefaultMaxTransfers when zero). Beyond it the oldest
	// transfers all of whose recipients confirmed their download are forgotten first, then the oldest.
	MaxTransfers int
	// MaxUploadSize bounds one upload (DefaultMaxUploadSize when zero); a larger one is refused with
	// Altinn's "File size exceeds maximum".
	MaxUploadSize int64
	// MaxStoredBytes bounds the payload bytes kept in memory (DefaultMaxStoredBytes when zero), evicting
	// as MaxTransfers does.
	MaxStoredBytes int64
	// Now is the clock (time.Now when nil). It stamps transfers; the delays of simulated counterparts
	// run on real time.
	Now func() time.Time
	// Credentials returns an organisation's business key and certificate (the test PKI): POST
	// /__admin/inject signs the document package with the sender's and encrypts it to the receiver's
	// certificate, and the inspection API falls back to these keys when Keys is nil. Nil refuses to
	// inject messages with files.
	Credentials func(orgnr string) (*rsa.PrivateKey, *x509.Certificate, bool)
}

// Server is the DPO simulator: the Altinn 3 Broker file transfer API, the Altinn token exchange, the
// Altinn key set, and the admin API.
type Server struct {
	opts    Options
	log     *slog.Logger
	altinn  *altinn.Platform
	admin   *admin.Service
	handler http.Handler

	mu                 sync.Mutex
	seq                uint64
	transfers          map[string]*transfer
	order              []*transfer // creation order
	stored             int64       // payload bytes
	evicted            int64
	evictedUnconfirmed int64

	// counterparts are the simulated receiving organisations by orgnr; timers their pending actions,
	// all of generation gen (Reset and Close start a new one); running counts actions under way.
	counterparts map[string]Counterpart
	timers       map[*time.Timer]struct{}
	gen          uint64
	closed       bool
	running      sync.WaitGroup
}

// ErrOptions is wrapped by New's errors about its Options.
var ErrOptions = errors.New("dpo: bad options")

// New makes a Server.
func New(opts Options) (*Server, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Resource == "" {
		opts.Resource = DefaultResource
	}
	if opts.MaxTransfers <= 0 {
		opts.MaxTransfers = DefaultMaxTransfers
	}
	if opts.MaxUploadSize <= 0 {
		opts.MaxUploadSize = DefaultMaxUploadSize
	}
	if opts.MaxStoredBytes <= 0 {
		opts.MaxStoredBytes = DefaultMaxStoredBytes
	}
	if opts.Signer == nil {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("dpo: generate signing key: %w", err)
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
		opts:         opts,
		log:          log,
		altinn:       platform,
		transfers:    map[string]*transfer{},
		counterparts: map[string]Counterpart{},
		timers:       map[*time.Timer]struct{}{},
	}
	s.admin = admin.New(Name, admin.Hooks{
		Reset:       s.reset,
		Messages:    s.adminMessages,
		Message:     s.adminMessage,
		Behaviour:   s.adminBehaviour,
		Inject:      s.adminInject,
		Routes:      s.adminRoutes,
		StatusFault: altinn.StatusFault,
	}, admin.Options{JournalSize: opts.JournalSize, Logger: opts.Logger, Now: opts.Now})
	s.handler = s.admin.Middleware(s.routes())
	return s, nil
}

// routes is the route table: the broker API, the token exchange, the Altinn keys, and the admin API.
func (s *Server) routes() *mux.Router {
	r := mux.NewRouter()
	id := "/{" + fileTransferIDVar + "}"
	// The integration point initialises with a trailing slash (upstreams §13 item 5); ASP.NET Core routes
	// either form to the same action.
	r.Handle(fileTransferPath, s.broker(scopeWrite, s.initialize)).Methods(http.MethodPost).Name(Name + ".filetransfer.initialize")
	r.Handle(fileTransferPath+"/", s.broker(scopeWrite, s.initialize)).Methods(http.MethodPost).Name(Name + ".filetransfer.initialize.slash")
	r.Handle(fileTransferPath, s.broker(scopeReadOrWrite, s.list)).Methods(http.MethodGet).Name(Name + ".filetransfer.list")
	r.Handle(fileTransferPath+"/", s.broker(scopeReadOrWrite, s.list)).Methods(http.MethodGet).Name(Name + ".filetransfer.list.slash")
	r.Handle(fileTransferPath+id+"/upload", s.broker(scopeWrite, s.upload)).Methods(http.MethodPost).Name(Name + ".filetransfer.upload")
	r.Handle(fileTransferPath+id, s.broker(scopeReadOrWrite, s.overview)).Methods(http.MethodGet).Name(Name + ".filetransfer.overview")
	r.Handle(fileTransferPath+id+"/details", s.broker(scopeReadOrWrite, s.details)).Methods(http.MethodGet).Name(Name + ".filetransfer.details")
	r.Handle(fileTransferPath+id+"/download", s.broker(scopeRead, s.download)).Methods(http.MethodGet).Name(Name + ".filetransfer.download")
	r.Handle(fileTransferPath+id+"/confirmdownload", s.broker(scopeRead, s.confirm)).Methods(http.MethodPost).Name(Name + ".filetransfer.confirmdownload")
	r.Handle(ExchangePath, admin.Handler(s.altinn.Exchange)).Methods(http.MethodGet).Name(Name + ".exchange.maskinporten")
	r.Handle(JWKSPath, admin.Handler(s.altinn.JWKS)).Methods(http.MethodGet).Name(Name + ".jwk")
	r.Handle(OpenIDJWKSPath, admin.Handler(s.altinn.JWKS)).Methods(http.MethodGet).Name(Name + ".openid.jwks")
	r.Handle(OpenIDConfigPath, admin.Handler(s.altinn.OpenIDConfig)).Methods(http.MethodGet).Name(Name + ".openid.configuration")
	adm := r.PathPrefix(admin.Prefix).Subrouter()
	s.admin.Routes(adm)
	r.NotFoundHandler = admin.Handler(altinn.NotFound)
	r.MethodNotAllowedHandler = admin.Handler(altinn.MethodNotAllowed)
	return r
}

// Handler serves the broker API, the token exchange, the Altinn keys and the admin API, journalled and
// faulted by the admin middleware.
func (s *Server) Handler() http.Handler { return s.handler }

// Admin is the simulator's control plane (register it on the harness control port).
func (s *Server) Admin() *admin.Service { return s.admin }

// AltinnKeys is the public key set that verifies the exchanged Altinn tokens (served at /altinn/jwk).
func (s *Server) AltinnKeys() jose.JSONWebKeySet { return s.altinn.Keys() }

// Close stops the simulated counterparts: no pending answer is sent after it returns. The servers keep
// answering.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	s.stopTimersLocked()
	s.mu.Unlock()
	s.running.Wait()
	return nil
}

// Resource is the broker resource the simulator serves.
func (s *Server) Resource() string { return s.opts.Resource }

func (s *Server) now() time.Time { return s.opts.Now() }

func (s *Server) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.transfers = map[string]*transfer{}
	s.order = nil
	s.stored, s.evicted, s.evictedUnconfirmed = 0, 0, 0
	s.stopTimersLocked()
	s.counterparts = map[string]Counterpart{}
}

// add stores a new transfer, evicting old ones to stay within the bounds. Callers hold s.mu.
func (s *Server) add(t *transfer) {
	s.seq++
	t.seq = s.seq
	s.transfers[t.id] = t
	s.order = append(s.order, t)
	s.evict(nil)
}

// evict forgets transfers while there are more than MaxTransfers or their payloads take more than
// MaxStoredBytes: the oldest fully confirmed ones first, then the oldest of any status (keep is never
// evicted). Callers hold s.mu.
func (s *Server) evict(keep *transfer) {
	over := func() bool { return len(s.order) > s.opts.MaxTransfers || s.stored > s.opts.MaxStoredBytes }
	for _, confirmedOnly := range []bool{true, false} {
		for i := 0; i < len(s.order) && over(); {
			t := s.order[i]
			if t == keep || (confirmedOnly && t.status != StatusAllConfirmedDownloaded) {
				i++
				continue
			}
			s.order = slices.Delete(s.order, i, i+1)
			delete(s.transfers, t.id)
			s.stored -= int64(len(t.payload))
			s.evicted++
			if t.status != StatusAllConfirmedDownloaded {
				s.evictedUnconfirmed++
				s.log.Warn("dpo: forgot a transfer not all recipients confirmed, to stay within the bounds",
					"fileTransferId", t.id, "status", t.status, "maxTransfers", s.opts.MaxTransfers,
					"maxStoredBytes", s.opts.MaxStoredBytes)
			}
		}
	}
}
