package sr

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/gorilla/mux"

	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/bearer"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Name is the service's name on the control plane (/__admin/sr on the harness control port).
const Name = "sr"

// Options configure a Server.
type Options struct {
	// Signer signs JWS answers (Accept: application/jose); its public key is served at /jwk. Required.
	Signer *rsa.PrivateKey
	// Certificate is the signing certificate, the x5c of the JWS header and of /jwk. It must hold Signer's
	// public key. Nil makes a self-signed one (the real integration point does not check x5c).
	Certificate *x509.Certificate
	// Registrations are the receivers the register knows at start and after an admin reset.
	Registrations []wire.Registration
	// SvarUtCertificate (PEM) is the pemCertificate of DPF records: the SvarUt simulator's public key.
	SvarUtCertificate string
	// PrintProvider supplies orgnrPostkasse and pemCertificate of print records.
	PrintProvider PrintProvider
	// Endpoints overrides the endpointUrl of records per service (see the Default*Endpoint constants).
	Endpoints map[wire.ServiceIdentifier]string
	// TokenKeys returns the keys that verify bearer tokens. It takes precedence over MaskinportenJWKSURL.
	TokenKeys func() (*jose.JSONWebKeySet, error)
	// MaskinportenJWKSURL is where the token keys are fetched (5 s timeout, cached for a minute). With
	// neither TokenKeys nor this, bearer tokens are decoded without checking their signature.
	MaskinportenJWKSURL string
	// RequireAuth makes a bearer token mandatory, and the dpi scope mandatory for citizen lookups, as in
	// the real register. Off, requests without an Authorization header are served.
	RequireAuth bool
	// Logger receives one line per request and per lookup; nil logs nothing.
	Logger *slog.Logger
	// JournalSize bounds the admin request journal (admin.DefaultJournalSize when 0).
	JournalSize int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Server is the simulated address register (ServiceRegistry).
type Server struct {
	opts     Options
	env      Env
	log      *slog.Logger
	signer   jose.Signer
	kid      string
	jwks     []byte
	jwkSet   jose.JSONWebKeySet
	verifier *bearer.Verifier
	admin    *admin.Service
	initial  []wire.Registration
	handler  http.Handler

	mu   sync.RWMutex
	regs map[string]wire.Registration
}

// New makes a register holding opts.Registrations. It fails without a signer, with a certificate that does
// not match it, with a provider certificate that is not PEM, or with an invalid or duplicate registration.
func New(opts Options) (*Server, error) {
	if opts.Signer == nil {
		return nil, errors.New("sr: Options.Signer is required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Certificate == nil {
		cert, err := selfSigned(opts.Signer, opts.Now())
		if err != nil {
			return nil, fmt.Errorf("sr: self-signed certificate: %w", err)
		}
		opts.Certificate = cert
	}
	if pub, ok := opts.Certificate.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&opts.Signer.PublicKey) {
		return nil, errors.New("sr: Options.Certificate does not hold the public key of Options.Signer")
	}
	if err := checkPEM("SvarUtCertificate", opts.SvarUtCertificate); err != nil {
		return nil, fmt.Errorf("sr: %w", err)
	}
	if err := checkPEM("PrintProvider.Certificate", opts.PrintProvider.Certificate); err != nil {
		return nil, fmt.Errorf("sr: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	endpoints := make(map[wire.ServiceIdentifier]string, len(opts.Endpoints))
	for k, v := range opts.Endpoints {
		endpoints[k] = v
	}
	s := &Server{
		opts:     opts,
		env:      Env{SvarUtCertificate: opts.SvarUtCertificate, PrintProvider: opts.PrintProvider, Endpoints: endpoints},
		log:      log,
		verifier: newVerifier(opts),
		regs:     map[string]wire.Registration{},
	}
	if err := s.initSigning(); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, r := range opts.Registrations {
		n, err := normalize(r)
		if err != nil {
			return nil, fmt.Errorf("sr: Options.Registrations: %w", err)
		}
		if seen[n.Identifier] {
			return nil, fmt.Errorf("sr: Options.Registrations: %w: %s is registered twice", ErrInvalidRegistration, n.Identifier)
		}
		seen[n.Identifier] = true
		s.initial = append(s.initial, n)
	}
	s.restore()
	s.admin = admin.New(Name, admin.Hooks{
		Reset:       s.restore,
		Routes:      s.adminRoutes,
		StatusFault: s.statusFault,
	}, admin.Options{JournalSize: opts.JournalSize, Logger: opts.Logger, Now: opts.Now})
	s.handler = s.admin.Middleware(s.routes())
	return s, nil
}

// Handler serves the register's API and its admin API under /__admin, journaled and faulted by the
// control plane.
func (s *Server) Handler() http.Handler { return s.handler }

// Admin is the register's control plane, for registering it on the harness control port.
func (s *Server) Admin() *admin.Service { return s.admin }

// Put adds or replaces the registration of reg.Identifier. The identifier must be a 9-digit organisation
// number (0192:-prefixed is accepted and stored bare) with organisation facts, or a valid fødselsnummer
// or D-number with citizen facts; SMP processes must be arkivmelding, avtalt or eInnsyn processes of
// the catalogue; certificates, when given, must be PEM certificates. Errors wrap ErrInvalidRegistration.
func (s *Server) Put(reg wire.Registration) error {
	_, err := s.put(reg)
	return err
}

// put stores reg and returns the stored form.
func (s *Server) put(reg wire.Registration) (wire.Registration, error) {
	n, err := normalize(reg)
	if err != nil {
		return wire.Registration{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.regs[n.Identifier] = n
	return n, nil
}

// Delete removes the registration of identifier and reports whether there was one.
func (s *Server) Delete(identifier string) bool {
	key, err := registrationKey(identifier)
	if err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.regs[key]; !ok {
		return false
	}
	delete(s.regs, key)
	return true
}

// Registrations returns copies of every registration, sorted by identifier.
func (s *Server) Registrations() []wire.Registration {
	s.mu.RLock()
	out := make([]wire.Registration, 0, len(s.regs))
	for _, r := range s.regs {
		out = append(out, r)
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Identifier < out[j].Identifier })
	for i := range out {
		out[i] = clone(out[i])
	}
	return out
}

// registration returns the stored registration of key. It is shared: callers must not change it.
func (s *Server) registration(key string) (wire.Registration, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.regs[key]
	return r, ok
}

// restore puts back the initial registrations and forgets every other.
func (s *Server) restore() {
	regs := make(map[string]wire.Registration, len(s.initial))
	for _, r := range s.initial {
		regs[r.Identifier] = clone(r)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.regs = regs
}

func (s *Server) now() time.Time { return s.opts.Now() }

// clone deep-copies a registration (every field of it survives a JSON round trip).
func clone(r wire.Registration) wire.Registration {
	b, err := json.Marshal(r)
	if err != nil {
		return r
	}
	var out wire.Registration
	if err := json.Unmarshal(b, &out); err != nil {
		return r
	}
	return out
}

func (s *Server) initSigning() error {
	kid, err := (&jose.JSONWebKey{Key: &s.opts.Signer.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		return fmt.Errorf("sr: key thumbprint: %w", err)
	}
	s.kid = base64.RawURLEncoding.EncodeToString(kid)
	x5c := []string{base64.StdEncoding.EncodeToString(s.opts.Certificate.Raw)}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: s.opts.Signer},
		(&jose.SignerOptions{}).WithHeader("kid", s.kid).WithHeader("x5c", x5c))
	if err != nil {
		return fmt.Errorf("sr: signer: %w", err)
	}
	s.signer = signer
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &s.opts.Signer.PublicKey, KeyID: s.kid, Algorithm: string(jose.RS256),
		Use: "sig", Certificates: []*x509.Certificate{s.opts.Certificate}}}}
	b, err := json.Marshal(set)
	if err != nil {
		return fmt.Errorf("sr: JWK set: %w", err)
	}
	s.jwks, s.jwkSet = b, set
	return nil
}

// selfSigned makes a ten-year certificate for key.
func selfSigned(key *rsa.PrivateKey, now time.Time) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "efm-harness address register", Organization: []string{"efm-harness"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// statusFault writes an injected status fault in the register's error shape.
func (s *Server) statusFault(w http.ResponseWriter, _ *http.Request, status int) {
	jsonResponse(status, marshal(wire.RegisterError{
		ErrorDescription: fmt.Sprintf("Injected fault: %d %s", status, http.StatusText(status))})).Write(w)
}

// routes is the register's one route table.
func (s *Server) routes() *mux.Router {
	r := mux.NewRouter()
	r.Handle("/identifier/{identifier}", admin.Handler(s.identifier)).Methods(http.MethodGet).Name("sr.identifier")
	r.Handle("/identifier/{identifier}/process/{process}", admin.Handler(s.identifier)).Methods(http.MethodGet).Name("sr.identifier.process")
	r.Handle("/info/{identifier}", admin.Handler(s.info)).Methods(http.MethodGet).Name("sr.info")
	r.Handle("/virksert/{identifier}", admin.Handler(s.virksert)).Methods(http.MethodGet).Name("sr.virksert")
	r.Handle("/jwk", admin.Handler(s.jwk)).Methods(http.MethodGet).Name("sr.jwk")
	s.admin.Routes(r.PathPrefix(admin.Prefix).Subrouter())
	r.NotFoundHandler = admin.Handler(s.notFound)
	r.MethodNotAllowedHandler = admin.Handler(s.methodNotAllowed)
	return r
}
