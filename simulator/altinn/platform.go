package altinn

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/bearer"
)

// Paths of the Altinn authentication platform.
const (
	ExchangePath     = "/authentication/api/v1/exchange/maskinporten"
	JWKSPath         = "/altinn/jwk"
	OpenIDJWKSPath   = "/authentication/api/v1/openid/jwks"
	OpenIDConfigPath = "/authentication/api/v1/openid/.well-known/openid-configuration"
	openIDIssuerPath = "/authentication/api/v1/openid/"
)

// TokenLifetime is the lifetime of exchanged Altinn tokens (the integration point caches them for 25
// minutes).
const TokenLifetime = 30 * time.Minute

// Platform is the Altinn authentication platform of a simulator: it exchanges Maskinporten tokens for
// Altinn tokens signed with the simulator's key, serves that key, and verifies the bearer tokens of
// calls to the simulated API.
type Platform struct {
	signer       jose.Signer
	jwks         jose.JSONWebKeySet
	altinn       *bearer.Verifier
	exchangeMP   *bearer.Verifier // verifies the exchange's Maskinporten tokens
	maskinporten *bearer.Verifier // nil: the API accepts only Altinn tokens
	now          func() time.Time
}

// NewPlatform makes a Platform that signs with key (required), publishing cert (optional; its key
// must be key's) as x5c. maskinporten verifies the Maskinporten tokens of the exchange and makes API
// calls with a Maskinporten token acceptable; nil reads the exchange's tokens without checking their
// signature (expiry is checked) and accepts only Altinn tokens on the API. now is the clock (time.Now
// when nil). Its errors are about key and cert.
func NewPlatform(key *rsa.PrivateKey, cert *x509.Certificate, maskinporten *bearer.Verifier, now func() time.Time) (*Platform, error) {
	if key == nil {
		return nil, errors.New("no signing key")
	}
	if now == nil {
		now = time.Now
	}
	if cert != nil {
		if pub, ok := cert.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) {
			return nil, errors.New("the certificate's key is not the signing key")
		}
	}
	pub := jose.JSONWebKey{Key: &key.PublicKey, Algorithm: string(jose.RS256), Use: "sig"}
	thumb, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	pub.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	if cert != nil {
		pub.Certificates = []*x509.Certificate{cert}
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: pub.KeyID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	p := &Platform{
		signer:       signer,
		jwks:         jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}},
		maskinporten: maskinporten,
		exchangeMP:   maskinporten,
		now:          now,
	}
	p.altinn = bearer.NewStaticVerifier(p.jwks).WithClock(now)
	if p.exchangeMP == nil {
		p.exchangeMP = bearer.NewUnverifiedVerifier().WithClock(now)
	}
	return p, nil
}

// Keys is the public key set that verifies the exchanged Altinn tokens.
func (p *Platform) Keys() jose.JSONWebKeySet { return p.jwks }

// Authenticate verifies the bearer token of r: an Altinn token from the exchange or, when the Platform
// has a Maskinporten verifier, a Maskinporten token. Problems: 401 with detail missing when there is no
// bearer token, 401 for an invalid token, 503 when the keys are unavailable. Scopes are the caller's to
// check.
func (p *Platform) Authenticate(r *http.Request, missing string) (*bearer.Claims, *Problem) {
	token, ok := BearerToken(r)
	if !ok {
		return nil, NewProblem(http.StatusUnauthorized, missing)
	}
	claims, err := p.verify(r.Context(), token)
	if err != nil {
		return nil, TokenProblem(err)
	}
	return claims, nil
}

func (p *Platform) verify(ctx context.Context, token string) (*bearer.Claims, error) {
	claims, err := p.altinn.Verify(ctx, token)
	if errors.Is(err, bearer.ErrSignature) && p.maskinporten != nil {
		// Not one of ours: perhaps a Maskinporten token.
		mc, merr := p.maskinporten.Verify(ctx, token)
		switch {
		case merr == nil:
			claims, err = mc, nil
		case !errors.Is(merr, bearer.ErrSignature):
			err = merr
		}
	}
	return claims, err
}

// TokenProblem is the answer to a token that does not verify: 401, or 503 when the keys are unavailable.
func TokenProblem(err error) *Problem {
	if errors.Is(err, bearer.ErrKeysUnavailable) {
		return NewProblem(http.StatusServiceUnavailable, "Cannot verify the token: "+err.Error())
	}
	return NewProblem(http.StatusUnauthorized, "Bearer token rejected: "+err.Error())
}

// BearerToken is the token of an "Authorization: Bearer …" header.
func BearerToken(r *http.Request) (string, bool) {
	scheme, token, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// copiedClaims are the Maskinporten claims an Altinn token carries over.
var copiedClaims = []string{"scope", "client_id", "client_amr", "consumer", "supplier", "consumer_org",
	"authorization_details"}

// Exchange serves GET ExchangePath: a Maskinporten token in, an Altinn token out, as the bare JWT in a
// text/plain body (the integration point uses the body verbatim).
func (p *Platform) Exchange(r *http.Request) admin.Response {
	token, ok := BearerToken(r)
	if !ok {
		return NewProblem(http.StatusUnauthorized, "No bearer token: send the Maskinporten access token as Authorization: Bearer").Response()
	}
	mp, err := p.exchangeMP.Verify(r.Context(), token)
	if err != nil {
		return TokenProblem(err).Response()
	}
	now := p.now()
	claims := map[string]any{}
	for _, k := range copiedClaims {
		if v, ok := mp.Raw[k]; ok {
			claims[k] = v
		}
	}
	org := mp.SystemUserOrg()
	if org == "" {
		org = mp.ConsumerOrgnr()
	}
	maps.Copy(claims, map[string]any{
		"iss":                           Issuer(r),
		"token_type":                    "Bearer",
		"jti":                           uuid.NewString(),
		"iat":                           now.Unix(),
		"nbf":                           now.Unix(),
		"exp":                           now.Add(TokenLifetime).Unix(),
		"urn:altinn:authenticatemethod": "maskinporten",
		"urn:altinn:authlevel":          3,
	})
	if org != "" {
		claims["urn:altinn:orgNumber"] = org
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return NewProblem(http.StatusInternalServerError, "encode claims: "+err.Error()).Response()
	}
	jws, err := p.signer.Sign(payload)
	if err != nil {
		return NewProblem(http.StatusInternalServerError, "sign token: "+err.Error()).Response()
	}
	compact, err := jws.CompactSerialize()
	if err != nil {
		return NewProblem(http.StatusInternalServerError, "sign token: "+err.Error()).Response()
	}
	return admin.Text(http.StatusOK, "text/plain; charset=utf-8", []byte(compact))
}

// Issuer is the iss of the Altinn tokens: the simulator's OpenID issuer URL as the request reached it.
func Issuer(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + openIDIssuerPath
}

// JWKS serves the Altinn key set (at JWKSPath and OpenIDJWKSPath).
func (p *Platform) JWKS(*http.Request) admin.Response { return JSON(http.StatusOK, p.jwks) }

// OpenIDConfiguration is the body of GET OpenIDConfigPath (the parts a token verifier reads).
type OpenIDConfiguration struct {
	Issuer                           string   `json:"issuer"`
	JWKSURI                          string   `json:"jwks_uri"`
	IDTokenSigningAlgValuesSupported []string `json:"id_token_signing_alg_values_supported"`
}

// OpenIDConfig serves GET OpenIDConfigPath.
func (p *Platform) OpenIDConfig(r *http.Request) admin.Response {
	iss := Issuer(r)
	return JSON(http.StatusOK, OpenIDConfiguration{Issuer: iss, JWKSURI: strings.TrimSuffix(iss, "/") + "/jwks",
		IDTokenSigningAlgValuesSupported: []string{"RS256"}})
}
