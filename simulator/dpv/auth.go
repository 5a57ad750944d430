package dpv

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

// caller is who calls the correspondence API: the organisation of the token (its system user, else its
// consumer, else Altinn's urn:altinn:orgNumber); empty when the token names none.
type caller struct {
	orgnr string
}

// correspondence wraps a correspondence handler with authentication: an Altinn token from the exchange
// (or, when Options.Maskinporten is set, a Maskinporten token) with scope eformidling:dpv.
func (s *Server) correspondenceAPI(h func(*http.Request, caller) admin.Response) admin.Handler {
	return func(r *http.Request) admin.Response {
		c, p := s.authenticate(r)
		if p != nil {
			return p.Response()
		}
		return h(r, c)
	}
}

// authenticate finds the caller. Problems: 401 for a missing or invalid token, 403 for a token without
// the scope.
func (s *Server) authenticate(r *http.Request) (caller, *Problem) {
	token, ok := bearerToken(r)
	if !ok {
		return caller{}, newProblem(http.StatusUnauthorized, "No bearer token: the correspondence API needs an Altinn token from "+ExchangePath)
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
	if !claims.HasScope(s.opts.Scope) {
		return caller{}, newProblem(http.StatusForbidden, fmt.Sprintf("The token has scope %q; this endpoint needs %s",
			strings.Join(claims.Scope, " "), s.opts.Scope))
	}
	org := claims.SystemUserOrg()
	if org == "" {
		org = claims.ConsumerOrgnr()
	}
	if org == "" {
		if v, ok := claims.Raw["urn:altinn:orgNumber"].(string); ok {
			org = v
		}
	}
	return caller{orgnr: org}, nil
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

// health serves the health probe as ASP.NET Core's health checks answer it.
func (s *Server) health(*http.Request) admin.Response {
	return admin.Text(http.StatusOK, "text/plain", []byte("Healthy"))
}
