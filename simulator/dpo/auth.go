package dpo

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/bearer"
)

// scopeRule is the scope policy of a broker endpoint: Altinn's Sender (write), Recipient (read) and
// SenderOrRecipient (either) policies.
type scopeRule []string

var (
	scopeWrite       = scopeRule{ScopeWrite}
	scopeRead        = scopeRule{ScopeRead}
	scopeReadOrWrite = scopeRule{ScopeRead, ScopeWrite}
)

// caller is who calls the broker: the organisation the token's system user belongs to.
type caller struct {
	orgnr string
}

// broker wraps a broker handler with authentication: an Altinn token from the exchange (or, when
// Options.Maskinporten is set, a Maskinporten token) with one of the rule's scopes, naming an
// organisation.
func (s *Server) broker(rule scopeRule, h func(*http.Request, caller) admin.Response) admin.Handler {
	return func(r *http.Request) admin.Response {
		c, p := s.authenticate(r, rule)
		if p != nil {
			return p.Response()
		}
		return h(r, c)
	}
}

// authenticate finds the caller of a broker call. Problems: 401 for a missing or invalid token, 403 for a
// token without the rule's scope, 401 (Altinn's NoAccessToResource) for a token naming no organisation.
func (s *Server) authenticate(r *http.Request, rule scopeRule) (caller, *Problem) {
	token, ok := bearerToken(r)
	if !ok {
		return caller{}, newProblem(http.StatusUnauthorized, "No bearer token: the broker needs an Altinn token from "+ExchangePath)
	}
	claims, err := s.altinn.Verify(r.Context(), token)
	if errors.Is(err, bearer.ErrSignature) && s.opts.Maskinporten != nil {
		// Not one of ours: perhaps a Maskinporten token.
		mc, merr := s.opts.Maskinporten.Verify(r.Context(), token)
		switch {
		case merr == nil:
			claims, err = mc, nil
		case !errors.Is(merr, bearer.ErrSignature):
			err = merr
		}
	}
	if err != nil {
		return caller{}, tokenProblem(err)
	}
	if !rule.allows(claims) {
		return caller{}, newProblem(http.StatusForbidden, fmt.Sprintf("The token has scope %q; this endpoint needs %s",
			strings.Join(claims.Scope, " "), strings.Join(rule, " or ")))
	}
	org := claims.SystemUserOrg()
	if org == "" {
		org = claims.ConsumerOrgnr()
	}
	if org == "" {
		return caller{}, errNoAccessToResource.problem()
	}
	return caller{orgnr: org}, nil
}

func (rule scopeRule) allows(c *bearer.Claims) bool {
	for _, sc := range rule {
		if c.HasScope(sc) {
			return true
		}
	}
	return false
}

// tokenProblem is the answer to a token that does not verify: 401, or 503 when the keys are unavailable.
func tokenProblem(err error) *Problem {
	if errors.Is(err, bearer.ErrKeysUnavailable) {
		return newProblem(http.StatusServiceUnavailable, "Cannot verify the token: "+err.Error())
	}
	return newProblem(http.StatusUnauthorized, "Bearer token rejected: "+err.Error())
}

// bearerToken is the token of an "Authorization: Bearer …" header.
func bearerToken(r *http.Request) (string, bool) {
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

// exchange serves GET /authentication/api/v1/exchange/maskinporten: a Maskinporten token in, an Altinn
// token out, as the bare JWT in a text/plain body (the integration point uses the body verbatim).
func (s *Server) exchange(r *http.Request) admin.Response {
	token, ok := bearerToken(r)
	if !ok {
		return newProblem(http.StatusUnauthorized, "No bearer token: send the Maskinporten access token as Authorization: Bearer").Response()
	}
	mp, err := s.maskinporten.Verify(r.Context(), token)
	if err != nil {
		return tokenProblem(err).Response()
	}
	now := s.now()
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
		"iss":                           issuer(r),
		"token_type":                    "Bearer",
		"jti":                           uuid.NewString(),
		"iat":                           now.Unix(),
		"nbf":                           now.Unix(),
		"exp":                           now.Add(AltinnTokenLifetime).Unix(),
		"urn:altinn:authenticatemethod": "maskinporten",
		"urn:altinn:authlevel":          3,
	})
	if org != "" {
		claims["urn:altinn:orgNumber"] = org
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return newProblem(http.StatusInternalServerError, "encode claims: "+err.Error()).Response()
	}
	jws, err := s.signer.Sign(payload)
	if err != nil {
		return newProblem(http.StatusInternalServerError, "sign token: "+err.Error()).Response()
	}
	compact, err := jws.CompactSerialize()
	if err != nil {
		return newProblem(http.StatusInternalServerError, "sign token: "+err.Error()).Response()
	}
	return admin.Text(http.StatusOK, "text/plain; charset=utf-8", []byte(compact))
}

// issuer is the iss of the Altinn tokens: the simulator's OpenID issuer URL as the request reached it.
func issuer(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + openIDIssuerPath
}

// jwk serves the Altinn key set.
func (s *Server) jwk(*http.Request) admin.Response { return jsonResponse(http.StatusOK, s.jwks) }

// OpenIDConfiguration is the body of GET /authentication/api/v1/openid/.well-known/openid-configuration
// (the parts a token verifier reads).
type OpenIDConfiguration struct {
	Issuer                           string   `json:"issuer"`
	JWKSURI                          string   `json:"jwks_uri"`
	IDTokenSigningAlgValuesSupported []string `json:"id_token_signing_alg_values_supported"`
}

func (s *Server) openIDConfig(r *http.Request) admin.Response {
	iss := issuer(r)
	return jsonResponse(http.StatusOK, OpenIDConfiguration{Issuer: iss, JWKSURI: strings.TrimSuffix(iss, "/") + "/jwks",
		IDTokenSigningAlgValuesSupported: []string{"RS256"}})
}
