package maskinporten

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/gorilla/mux"

	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/bearer"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Name is the simulator's name on the control plane (/__admin/maskinporten on the control port).
const Name = "maskinporten"

// Protocol constants and limits.
const (
	// GrantTypeJWTBearer is the only grant type the token endpoint accepts (RFC 7523).
	GrantTypeJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	// DefaultTokenLifetime is the lifetime of issued access tokens when Options.TokenLifetime is zero:
	// 120 s, what Maskinporten issues by default and at least the 90 s for which the integration point
	// caches some tokens.
	DefaultTokenLifetime = 120 * time.Second
	// MaxAssertionLifetime is the longest exp - iat an assertion may have.
	MaxAssertionLifetime = 120 * time.Second
	// ClockSkew is how far an assertion's iat may be ahead of, and its exp behind, the simulator's clock.
	ClockSkew = 10 * time.Second
	// MaxBodySize bounds the token request body; a larger one is answered with 413.
	MaxBodySize = 1 << 20
	// MaxIssued bounds the list of issued tokens shown on the admin API.
	MaxIssued = 1000
	// MaxReplay bounds the replay memory of (iss, jti) pairs; entries are forgotten after exp + ClockSkew,
	// and the oldest first when it is full.
	MaxReplay = 100_000
	// MaxKeys bounds the number of registered client keys.
	MaxKeys = 10_000
)

// Client authentication methods, as the access token's client_amr claim names them.
const (
	AMRCertificate = "virksomhetssertifikat"
	AMRPrivateKey  = "private_key_jwt"
)

// DefaultScopes are the scopes granted when Options.Scopes is empty: every scope the integration point
// asks for (upstreams §2.3).
func DefaultScopes() []string {
	return []string{
		"eformidling:dpo", "eformidling:dpe", "eformidling:dpv", "eformidling:dpf", "eformidling:dpi",
		"eformidling:dph",
		"move/dpo.read", "move/dpe.read", "move/dpi.read", "move/dph.read",
		"altinn:broker.read", "altinn:broker.write",
		"ks:fiks",
		"digitalpostinnbygger:send",
		"global/kontaktinformasjon.read", "global/sikkerdigitalpost.read", "global/varslingsstatus.read",
		"global/sertifikat.read", "global/navn.read", "global/postadresse.read",
		"altinn:authentication/systemregister.write", "altinn:authentication/systemuser.request.write",
		"altinn:authentication/systemuser.request.read",
	}
}

// Options configure a Server. The zero value works: a fresh signing key, the issuer taken from each
// request's Host, any x5c certificate trusted, the default scopes and token lifetime.
type Options struct {
	// Signer signs the access tokens. Nil generates a 2048-bit key.
	Signer *rsa.PrivateKey
	// Certificate is Signer's certificate, published as x5c in /jwk. Optional; its key must be Signer's.
	Certificate *x509.Certificate
	// Roots are the CAs trusted to issue the business certificates of x5c assertions. Nil trusts every
	// certificate (only its validity period is checked).
	Roots *x509.CertPool
	// Issuer is the simulator's issuer URL with a trailing slash, e.g. "http://127.0.0.1:9100/" (one is
	// added when missing). Empty takes "http://<request Host>/" per request until SetIssuer is called.
	// The accepted aud values are Issuer, Issuer without its trailing slash, Issuer+"token", and
	// ExtraAudiences.
	Issuer string
	// ExtraAudiences are further accepted aud values, e.g. "https://test.maskinporten.no/" when the
	// integration point keeps its production audience.
	ExtraAudiences []string
	// Scopes are the scopes the simulator grants (DefaultScopes when empty).
	Scopes []string
	// TokenLifetime is the lifetime of issued access tokens (DefaultTokenLifetime when zero).
	TokenLifetime time.Duration
	// Logger receives one line per request; nil logs nothing.
	Logger *slog.Logger
	// JournalSize bounds the admin request journal (admin.DefaultJournalSize when zero).
	JournalSize int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Server is the Maskinporten simulator: the token endpoint, its JWKS and metadata, and the admin API.
type Server struct {
	opts    Options
	signer  jose.Signer
	kid     string
	jwks    jose.JSONWebKeySet
	allowed map[string]bool
	admin   *admin.Service
	handler http.Handler
	replay  *replayCache

	mu     sync.RWMutex
	issuer string
	keys   map[string]registeredKey
	issued *issuedLog
}

type registeredKey struct {
	pub      *rsa.PublicKey
	orgnr    string
	clientID string
}

// ErrOptions is wrapped by New's errors about its Options.
var ErrOptions = errors.New("maskinporten: bad options")

// New makes a Server.
func New(opts Options) (*Server, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TokenLifetime == 0 {
		opts.TokenLifetime = DefaultTokenLifetime
	}
	if opts.TokenLifetime < time.Second {
		return nil, fmt.Errorf("%w: token lifetime %s is shorter than a second", ErrOptions, opts.TokenLifetime)
	}
	if len(opts.Scopes) == 0 {
		opts.Scopes = DefaultScopes()
	}
	if opts.Signer == nil {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("generate signing key: %w", err)
		}
		opts.Signer = k
	}
	if opts.Certificate != nil {
		if pub, ok := opts.Certificate.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&opts.Signer.PublicKey) {
			return nil, fmt.Errorf("%w: the certificate's key is not the signing key", ErrOptions)
		}
	}
	pubJWK := jose.JSONWebKey{Key: &opts.Signer.PublicKey, Algorithm: string(jose.RS256), Use: "sig"}
	thumb, err := pubJWK.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("%w: signing key: %w", ErrOptions, err)
	}
	pubJWK.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	if opts.Certificate != nil {
		pubJWK.Certificates = []*x509.Certificate{opts.Certificate}
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256,
		Key: jose.JSONWebKey{Key: opts.Signer, KeyID: pubJWK.KeyID}}, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: signing key: %w", ErrOptions, err)
	}
	s := &Server{
		opts:    opts,
		signer:  signer,
		kid:     pubJWK.KeyID,
		jwks:    jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pubJWK}},
		allowed: map[string]bool{},
		replay:  newReplayCache(MaxReplay),
		keys:    map[string]registeredKey{},
		issued:  newIssuedLog(MaxIssued),
	}
	for _, sc := range opts.Scopes {
		s.allowed[sc] = true
	}
	s.SetIssuer(opts.Issuer)
	s.admin = admin.New(Name, admin.Hooks{
		Reset:       s.reset,
		Messages:    s.messages,
		Message:     s.message,
		Routes:      s.adminRoutes,
		StatusFault: statusFault,
	}, admin.Options{JournalSize: opts.JournalSize, Logger: opts.Logger, Now: opts.Now})
	s.handler = s.admin.Middleware(s.routes())
	return s, nil
}

// routes is the route table: the Maskinporten endpoints and the admin API under /__admin.
func (s *Server) routes() *mux.Router {
	r := mux.NewRouter()
	r.Handle("/token", admin.Handler(s.token)).Methods(http.MethodPost).Name("maskinporten.token")
	r.Handle("/jwk", admin.Handler(s.jwk)).Methods(http.MethodGet).Name("maskinporten.jwk")
	r.Handle("/.well-known/oauth-authorization-server", admin.Handler(s.metadata)).Methods(http.MethodGet).
		Name("maskinporten.metadata")
	adm := r.PathPrefix(admin.Prefix).Subrouter()
	s.admin.Routes(adm)
	adm.NotFoundHandler = admin.Handler(func(r *http.Request) admin.Response {
		return admin.ErrorResponse(http.StatusNotFound, fmt.Sprintf("%s has no %s", Name, r.URL.Path))
	})
	r.NotFoundHandler = admin.Handler(func(r *http.Request) admin.Response {
		return oauthResponse(&OAuthError{Status: http.StatusNotFound, Code: "not_found",
			Description: "No endpoint " + r.URL.Path})
	})
	r.MethodNotAllowedHandler = admin.Handler(func(r *http.Request) admin.Response {
		return oauthResponse(&OAuthError{Status: http.StatusMethodNotAllowed, Code: CodeInvalidRequest,
			Description: "Method " + r.Method + " is not allowed on " + r.URL.Path})
	})
	return r
}

// Handler serves the token endpoint, /jwk, the metadata and the admin API, journalled and faulted by the
// admin middleware.
func (s *Server) Handler() http.Handler { return s.handler }

// Admin is the simulator's control plane (register it on the harness control port).
func (s *Server) Admin() *admin.Service { return s.admin }

// Close releases nothing today; it is here for the simulators' common shape.
func (s *Server) Close() error { return nil }

// SetIssuer sets the issuer URL (a trailing slash is added when missing); the stack calls it once it
// knows the address it listens on. Empty goes back to taking the issuer from each request's Host.
func (s *Server) SetIssuer(issuer string) {
	issuer = strings.TrimSpace(issuer)
	if issuer != "" && !strings.HasSuffix(issuer, "/") {
		issuer += "/"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.issuer = issuer
}

// Issuer is the configured issuer URL ("" when it is taken from each request).
func (s *Server) Issuer() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.issuer
}

func (s *Server) issuerFor(r *http.Request) string {
	if iss := s.Issuer(); iss != "" {
		return iss
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/"
}

// audiences are the aud values accepted for a request.
func (s *Server) audiences(r *http.Request) []string {
	iss := s.issuerFor(r)
	return append([]string{iss, strings.TrimSuffix(iss, "/"), iss + "token"}, s.opts.ExtraAudiences...)
}

// KeyID is the kid of the key that signs the access tokens.
func (s *Server) KeyID() string { return s.kid }

// JWKS is the public key set served at /jwk.
func (s *Server) JWKS() jose.JSONWebKeySet { return s.jwks }

// Verifier is a bearer.Verifier that checks this server's tokens without fetching /jwk.
func (s *Server) Verifier() *bearer.Verifier { return bearer.NewStaticVerifier(s.jwks) }

// ErrKey is wrapped by RegisterKey's errors.
var ErrKey = errors.New("maskinporten: bad client key")

// RegisterKey registers a client key (private_key_jwt clients): assertions whose header kid is kid are
// verified with pub, their access tokens name orgnr as consumer (unless consumer_org is given), and, when
// clientID is not empty, their iss must be clientID. An assertion with neither x5c nor kid is checked
// against the keys registered for its iss.
func (s *Server) RegisterKey(kid string, pub *rsa.PublicKey, orgnr, clientID string) error {
	switch {
	case kid == "":
		return fmt.Errorf("%w: empty kid", ErrKey)
	case pub == nil:
		return fmt.Errorf("%w: no public key for kid %q", ErrKey, kid)
	case orgnr != "" && !isOrgnr(orgnr):
		return fmt.Errorf("%w: orgnr %q is not 9 digits", ErrKey, orgnr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[kid]; !ok && len(s.keys) >= MaxKeys {
		return fmt.Errorf("%w: already %d keys registered", ErrKey, MaxKeys)
	}
	s.keys[kid] = registeredKey{pub: pub, orgnr: orgnr, clientID: clientID}
	return nil
}

// UnregisterKey forgets a client key; it reports whether there was one.
func (s *Server) UnregisterKey(kid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.keys[kid]
	delete(s.keys, kid)
	return ok
}

// Issued lists the access tokens issued since the last reset, oldest first (at most MaxIssued).
func (s *Server) Issued() IssuedTokens {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.issued.list()
}

func (s *Server) reset() {
	s.mu.Lock()
	s.keys = map[string]registeredKey{}
	s.issued.reset()
	s.mu.Unlock()
	s.replay.reset()
}

func (s *Server) now() time.Time { return s.opts.Now() }

// jwk serves the JWK set of the token signing key.
func (s *Server) jwk(*http.Request) admin.Response {
	return admin.JSON(http.StatusOK, s.jwks)
}

// Metadata is the body of GET /.well-known/oauth-authorization-server (RFC 8414), as Maskinporten
// publishes it.
type Metadata struct {
	Issuer                            string   `json:"issuer"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	TokenEndpointAuthMethods          []string `json:"token_endpoint_auth_methods_supported"`
	GrantTypes                        []string `json:"grant_types_supported"`
	TokenEndpointAuthSigningAlgValues []string `json:"token_endpoint_auth_signing_alg_values_supported"`
}

func (s *Server) metadata(r *http.Request) admin.Response {
	iss := s.issuerFor(r)
	return admin.JSON(http.StatusOK, Metadata{
		Issuer:                            iss,
		TokenEndpoint:                     iss + "token",
		JWKSURI:                           iss + "jwk",
		TokenEndpointAuthMethods:          []string{AMRPrivateKey},
		GrantTypes:                        []string{GrantTypeJWTBearer},
		TokenEndpointAuthSigningAlgValues: []string{"RS256", "RS384", "RS512"},
	})
}

// statusFault writes an injected status fault in the OAuth error shape.
func statusFault(w http.ResponseWriter, _ *http.Request, status int) {
	oauthResponse(&OAuthError{Status: status, Code: CodeTemporarilyUnavailable,
		Description: fmt.Sprintf("injected fault: status %d", status)}).Write(w)
}

// oauthResponse is the answer for a refusal: the OAuth error body, never cached.
func oauthResponse(e *OAuthError) admin.Response {
	return admin.Response{Status: e.Status, Header: noStore(), Body: e}
}

func noStore() http.Header {
	return http.Header{"Cache-Control": {"no-store"}, "Pragma": {"no-cache"}}
}

// Party is the consumer or supplier claim of an access token: authority "iso6523-actorid-upis" and ID
// "0192:<orgnr>".
type Party struct {
	Authority string `json:"authority"`
	ID        string `json:"ID"`
}

func orgParty(orgnr string) *Party {
	if orgnr == "" {
		return nil
	}
	return &Party{Authority: wire.AuthorityISO6523, ID: wire.ICDNorway + ":" + orgnr}
}

// KeyRegistration is the body of PUT /__admin/keys/{kid} and one entry of GET /__admin/keys.
type KeyRegistration struct {
	// KID is the key id (taken from the path on PUT).
	KID string `json:"kid,omitempty"`
	// JWK is the client's public RSA key.
	JWK jose.JSONWebKey `json:"jwk"`
	// Orgnr is the organisation the client acts for (the consumer of its tokens).
	Orgnr string `json:"orgnr,omitempty"`
	// ClientID, when set, must be the iss of the client's assertions.
	ClientID string `json:"clientId,omitempty"`
}

// KeyList is the body of GET /__admin/keys.
type KeyList struct {
	Keys []KeyRegistration `json:"keys"`
}

func (s *Server) adminRoutes(r *mux.Router) {
	r.Handle("/keys", admin.Handler(s.listKeys)).Methods(http.MethodGet).Name(Name + ".admin.keys")
	r.Handle("/keys/{kid}", admin.Handler(s.putKey)).Methods(http.MethodPut).Name(Name + ".admin.keys.put")
	r.Handle("/keys/{kid}", admin.Handler(s.deleteKey)).Methods(http.MethodDelete).Name(Name + ".admin.keys.delete")
}

func (s *Server) putKey(r *http.Request) admin.Response {
	kid := mux.Vars(r)["kid"]
	var body struct {
		JWK      json.RawMessage `json:"jwk"`
		Orgnr    string          `json:"orgnr"`
		ClientID string          `json:"clientId"`
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<16+1))
	if err != nil {
		return admin.ErrorResponse(http.StatusBadRequest, "read key registration: "+err.Error())
	}
	if len(b) > 1<<16 {
		return admin.ErrorResponse(http.StatusRequestEntityTooLarge, "key registration larger than 64 KiB")
	}
	if err := json.Unmarshal(b, &body); err != nil {
		return admin.ErrorResponse(http.StatusBadRequest, `key registration: want {"jwk":{…},"orgnr":"…","clientId":"…"}: `+err.Error())
	}
	if len(body.JWK) == 0 {
		return admin.ErrorResponse(http.StatusBadRequest, `key registration: "jwk" is required`)
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(body.JWK); err != nil {
		return admin.ErrorResponse(http.StatusBadRequest, "key registration: jwk: "+err.Error())
	}
	var pub *rsa.PublicKey
	switch k := jwk.Key.(type) {
	case *rsa.PublicKey:
		pub = k
	case *rsa.PrivateKey:
		pub = &k.PublicKey
	default:
		return admin.ErrorResponse(http.StatusBadRequest, fmt.Sprintf("key registration: jwk is a %T, want an RSA key", jwk.Key))
	}
	if err := s.RegisterKey(kid, pub, body.Orgnr, body.ClientID); err != nil {
		return admin.ErrorResponse(http.StatusBadRequest, err.Error())
	}
	return admin.JSON(http.StatusOK, keyRegistration(kid, registeredKey{pub: pub, orgnr: body.Orgnr, clientID: body.ClientID}))
}

func keyRegistration(kid string, k registeredKey) KeyRegistration {
	return KeyRegistration{KID: kid, JWK: jose.JSONWebKey{Key: k.pub, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"},
		Orgnr: k.orgnr, ClientID: k.clientID}
}

func (s *Server) listKeys(*http.Request) admin.Response {
	s.mu.RLock()
	out := KeyList{Keys: make([]KeyRegistration, 0, len(s.keys))}
	for kid, k := range s.keys {
		out.Keys = append(out.Keys, keyRegistration(kid, k))
	}
	s.mu.RUnlock()
	slices.SortFunc(out.Keys, func(a, b KeyRegistration) int { return strings.Compare(a.KID, b.KID) })
	return admin.JSON(http.StatusOK, out)
}

func (s *Server) deleteKey(r *http.Request) admin.Response {
	kid := mux.Vars(r)["kid"]
	if !s.UnregisterKey(kid) {
		return admin.ErrorResponse(http.StatusNotFound, fmt.Sprintf("no key %q registered", kid))
	}
	return admin.NoContent(http.StatusNoContent)
}

func (s *Server) messages(*http.Request) admin.Response {
	return admin.JSON(http.StatusOK, s.Issued())
}

func (s *Server) message(_ *http.Request, jti string) admin.Response {
	s.mu.RLock()
	t, ok := s.issued.find(jti)
	s.mu.RUnlock()
	if !ok {
		return admin.ErrorResponse(http.StatusNotFound, fmt.Sprintf("no issued token with jti %q", jti))
	}
	return admin.JSON(http.StatusOK, t)
}
