package maskinporten

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/efm-harness/efm-harness/simulator/admin"
)

// TokenResponse is the body of a granted token request.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
}

// accessClaims are the claims of an issued access token.
type accessClaims struct {
	Aud                  json.RawMessage `json:"aud,omitempty"`
	Scope                string          `json:"scope"`
	Iss                  string          `json:"iss"`
	ClientAMR            string          `json:"client_amr"`
	TokenType            string          `json:"token_type"`
	Exp                  int64           `json:"exp"`
	Iat                  int64           `json:"iat"`
	ClientID             string          `json:"client_id"`
	JTI                  string          `json:"jti"`
	Consumer             *Party          `json:"consumer,omitempty"`
	Supplier             *Party          `json:"supplier,omitempty"`
	ConsumerOrg          string          `json:"consumer_org,omitempty"`
	AuthorizationDetails json.RawMessage `json:"authorization_details,omitempty"`
}

// grant is a parsed, not yet verified assertion.
type grant struct {
	hash         crypto.Hash // 0 when alg is not RS256/RS384/RS512
	kid          string
	chain        []*x509.Certificate // from x5c; nil when absent
	signingInput []byte
	signature    []byte

	iss, scope, jti, consumerOrg string
	hasScope                     bool
	aud                          []string
	iat, exp                     int64
	authzDetails, resource       json.RawMessage
}

// token is POST /token.
func (s *Server) token(r *http.Request) admin.Response {
	form, oerr := readForm(r)
	if oerr != nil {
		return oauthResponse(oerr)
	}
	if gt := form.Get("grant_type"); gt != GrantTypeJWTBearer {
		return oauthResponse(unsupportedGrantType(gt))
	}
	g, oerr := parseAssertion(form.Get("assertion"))
	if oerr != nil {
		return oauthResponse(oerr)
	}
	resp, oerr := s.grant(r, g)
	if oerr != nil {
		return oauthResponse(oerr)
	}
	return admin.Response{Status: http.StatusOK, Header: noStore(), Body: resp}
}

// readForm reads the application/x-www-form-urlencoded body.
func readForm(r *http.Request) (url.Values, *OAuthError) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return nil, ErrInvalidForm
		}
	}
	if r.Body == nil {
		return url.Values{}, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxBodySize+1))
	if err != nil {
		return nil, ErrInvalidForm
	}
	if len(b) > MaxBodySize {
		return nil, ErrBodyTooLarge
	}
	form, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, ErrInvalidForm
	}
	return form, nil
}

var b64url = base64.RawURLEncoding

// parseAssertion splits and decodes the compact JWS and reads its header and claims. It verifies nothing.
func parseAssertion(assertion string) (*grant, *OAuthError) {
	assertion = strings.TrimSpace(assertion)
	parts := strings.Split(assertion, ".")
	if assertion == "" || len(parts) != 3 {
		return nil, ErrInvalidAssertion
	}
	rawHeader, err1 := b64url.DecodeString(parts[0])
	rawPayload, err2 := b64url.DecodeString(parts[1])
	sig, err3 := b64url.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, ErrInvalidAssertion
	}
	var header, claims map[string]json.RawMessage
	if json.Unmarshal(rawHeader, &header) != nil || header == nil ||
		json.Unmarshal(rawPayload, &claims) != nil || claims == nil {
		return nil, ErrInvalidAssertion
	}
	g := &grant{signingInput: []byte(parts[0] + "." + parts[1]), signature: sig}

	alg, ok := stringMember(header, "alg")
	if !ok || alg == "" {
		return nil, ErrInvalidAssertion
	}
	switch alg {
	case "RS256":
		g.hash = crypto.SHA256
	case "RS384":
		g.hash = crypto.SHA384
	case "RS512":
		g.hash = crypto.SHA512
	}
	if g.kid, ok = stringMember(header, "kid"); !ok {
		return nil, ErrInvalidAssertion
	}

	// Claims: iss first (its absence is a client authentication failure), then the rest.
	if g.iss, ok = stringMember(claims, "iss"); !ok || strings.TrimSpace(g.iss) == "" {
		return nil, ErrMissingIssuer
	}
	if g.aud, ok = audience(claims["aud"]); !ok {
		return nil, ErrInvalidAssertion
	}
	if g.iat, ok = numericDate(claims["iat"]); !ok {
		return nil, ErrInvalidAssertion
	}
	if g.exp, ok = numericDate(claims["exp"]); !ok || g.exp <= g.iat {
		return nil, ErrInvalidAssertion
	}
	if g.jti, ok = stringMember(claims, "jti"); !ok || g.jti == "" {
		return nil, ErrInvalidAssertion
	}
	if _, g.hasScope = claims["scope"]; g.hasScope {
		if g.scope, ok = stringMember(claims, "scope"); !ok {
			return nil, ErrInvalidScope
		}
	}
	if g.consumerOrg, ok = stringMember(claims, "consumer_org"); !ok || (g.consumerOrg != "" && !isOrgnr(g.consumerOrg)) {
		return nil, ErrInvalidAssertion
	}
	if raw, present := claims["authorization_details"]; present {
		if g.authzDetails, ok = compactArray(raw); !ok {
			return nil, ErrInvalidAssertion
		}
	}
	if raw, present := claims["resource"]; present {
		if _, ok := audience(raw); !ok {
			return nil, ErrInvalidAssertion
		}
		g.resource = compact(raw)
	}

	if raw, present := header["x5c"]; present {
		chain, ok := parseX5C(raw)
		if !ok {
			return nil, ErrInvalidX5C
		}
		g.chain = chain
	}
	return g, nil
}

// grant authenticates the client, checks the claims, and issues the access token.
func (s *Server) grant(r *http.Request, g *grant) (*TokenResponse, *OAuthError) {
	now := s.now()
	keys, amr, ownerOrg, oerr := s.clientKeys(g, now)
	if oerr != nil {
		return nil, oerr
	}
	if g.hash == 0 || !slices.ContainsFunc(keys, func(k *rsa.PublicKey) bool { return verifySignature(k, g) }) {
		return nil, ErrInvalidSignature
	}
	accepted := s.audiences(r)
	if !slices.ContainsFunc(g.aud, func(a string) bool { return slices.Contains(accepted, a) }) {
		return nil, ErrInvalidAudience
	}
	iat, exp := time.Unix(g.iat, 0), time.Unix(g.exp, 0)
	switch {
	case iat.After(now.Add(ClockSkew)):
		return nil, ErrIssuedInFuture
	case !now.Before(exp.Add(ClockSkew)):
		return nil, ErrExpired
	case exp.Sub(iat) > MaxAssertionLifetime:
		return nil, ErrLifetimeTooLong
	}
	scopes := strings.Fields(g.scope)
	if len(scopes) == 0 {
		return nil, ErrInvalidScope
	}
	granted := make([]string, 0, len(scopes))
	for _, sc := range scopes {
		if !s.allowed[sc] {
			return nil, ErrInvalidScope
		}
		if !slices.Contains(granted, sc) {
			granted = append(granted, sc)
		}
	}
	if !s.replay.use(g.iss+"\x00"+g.jti, exp.Add(ClockSkew), now) {
		return nil, ErrReplayed
	}

	c := accessClaims{
		Aud:                  g.resource,
		Scope:                strings.Join(granted, " "),
		Iss:                  s.issuerFor(r),
		ClientAMR:            amr,
		TokenType:            "Bearer",
		Iat:                  now.Unix(),
		Exp:                  now.Add(s.opts.TokenLifetime).Unix(),
		ClientID:             g.iss,
		JTI:                  uuid.NewString(),
		Consumer:             orgParty(ownerOrg),
		ConsumerOrg:          g.consumerOrg,
		AuthorizationDetails: g.authzDetails,
	}
	if g.consumerOrg != "" {
		c.Consumer, c.Supplier = orgParty(g.consumerOrg), orgParty(ownerOrg)
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return nil, &OAuthError{Status: http.StatusInternalServerError, Code: "server_error", Description: err.Error()}
	}
	jws, err := s.signer.Sign(payload)
	if err != nil {
		return nil, &OAuthError{Status: http.StatusInternalServerError, Code: "server_error", Description: err.Error()}
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		return nil, &OAuthError{Status: http.StatusInternalServerError, Code: "server_error", Description: err.Error()}
	}

	rec := IssuedToken{JTI: c.JTI, ClientID: c.ClientID, ClientAMR: amr, ConsumerOrg: c.ConsumerOrg, Scope: c.Scope,
		Audience: c.Aud, AuthorizationDetails: c.AuthorizationDetails,
		IssuedAt: time.Unix(c.Iat, 0).UTC(), ExpiresAt: time.Unix(c.Exp, 0).UTC()}
	if c.Consumer != nil {
		rec.Consumer = c.Consumer.ID
	}
	if c.Supplier != nil {
		rec.Supplier = c.Supplier.ID
	}
	s.mu.Lock()
	s.issued.add(rec)
	s.mu.Unlock()
	return &TokenResponse{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int64(s.opts.TokenLifetime / time.Second),
		Scope: c.Scope}, nil
}

// clientKeys authenticates the client: the keys the assertion may be signed with, the client_amr, and the
// organisation that owns the certificate or key.
func (s *Server) clientKeys(g *grant, now time.Time) ([]*rsa.PublicKey, string, string, *OAuthError) {
	if g.chain != nil {
		leaf := g.chain[0]
		switch {
		case now.After(leaf.NotAfter):
			return nil, "", "", ErrExpiredKey
		case now.Before(leaf.NotBefore):
			return nil, "", "", ErrInvalidCertificate
		}
		pub, ok := leaf.PublicKey.(*rsa.PublicKey)
		if !ok {
			return nil, "", "", ErrInvalidCertificate
		}
		if s.opts.Roots != nil {
			inter := x509.NewCertPool()
			for _, c := range g.chain[1:] {
				inter.AddCert(c)
			}
			_, err := leaf.Verify(x509.VerifyOptions{Roots: s.opts.Roots, Intermediates: inter, CurrentTime: now,
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
			if err != nil {
				return nil, "", "", ErrInvalidCertificate
			}
		}
		return []*rsa.PublicKey{pub}, AMRCertificate, CertificateOrgnr(leaf), nil
	}

	s.mu.RLock()
	defer s.mu.RUnlock()
	if g.kid != "" {
		k, ok := s.keys[g.kid]
		if !ok || (k.clientID != "" && k.clientID != g.iss) {
			return nil, "", "", ErrClientNotFound
		}
		return []*rsa.PublicKey{k.pub}, AMRPrivateKey, k.orgnr, nil
	}
	// Neither x5c nor kid: the keys registered for the client.
	var keys []*rsa.PublicKey
	org := ""
	for _, k := range s.keys {
		if k.clientID == g.iss {
			keys = append(keys, k.pub)
			org = k.orgnr
		}
	}
	if len(keys) == 0 {
		return nil, "", "", ErrClientNotFound
	}
	return keys, AMRPrivateKey, org, nil
}

func verifySignature(pub *rsa.PublicKey, g *grant) bool {
	h := g.hash.New()
	h.Write(g.signingInput)
	return rsa.VerifyPKCS1v15(pub, g.hash, h.Sum(nil), g.signature) == nil
}

// stringMember reads an optional string member; ok is false when it is present but not a string.
func stringMember(m map[string]json.RawMessage, name string) (string, bool) {
	raw, present := m[name]
	if !present || string(raw) == "null" {
		return "", true
	}
	var v string
	if json.Unmarshal(raw, &v) != nil {
		return "", false
	}
	return v, true
}

// audience reads aud (or resource): a non-empty string or a non-empty array of strings.
func audience(raw json.RawMessage) ([]string, bool) {
	if len(raw) == 0 {
		return nil, false
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, one != ""
	}
	var many []string
	if json.Unmarshal(raw, &many) != nil || len(many) == 0 {
		return nil, false
	}
	return many, true
}

// maxNumericDate is far beyond any real time but keeps arithmetic on seconds well inside int64.
const maxNumericDate = 1 << 40

// numericDate reads a JWT NumericDate (seconds since the epoch, possibly fractional).
func numericDate(raw json.RawMessage) (int64, bool) {
	if len(raw) == 0 {
		return 0, false
	}
	var f float64
	if json.Unmarshal(raw, &f) != nil || f < 0 || f > maxNumericDate {
		return 0, false
	}
	return int64(f), true
}

// compactArray checks that raw is a JSON array and compacts it.
func compactArray(raw json.RawMessage) (json.RawMessage, bool) {
	c := compact(raw)
	if len(c) == 0 || c[0] != '[' {
		return nil, false
	}
	return c, true
}

func compact(raw json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return nil
	}
	return b.Bytes()
}

// parseX5C reads the x5c header: a non-empty array of base64 DER certificates, leaf first.
func parseX5C(raw json.RawMessage) ([]*x509.Certificate, bool) {
	var enc []string
	if json.Unmarshal(raw, &enc) != nil || len(enc) == 0 || len(enc) > 10 {
		return nil, false
	}
	chain := make([]*x509.Certificate, 0, len(enc))
	for _, e := range enc {
		der, err := base64.StdEncoding.DecodeString(e)
		if err != nil {
			if der, err = base64.RawStdEncoding.DecodeString(e); err != nil {
				return nil, false
			}
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, false
		}
		chain = append(chain, c)
	}
	return chain, true
}

// oidOrganizationIdentifier is organizationIdentifier (2.5.4.97), e.g. "NTRNO-910077473" in SEID 2
// business certificates.
var oidOrganizationIdentifier = asn1.ObjectIdentifier{2, 5, 4, 97}

// CertificateOrgnr is the organisation number of a Norwegian business certificate: the first run of
// exactly nine digits in the Subject's serialNumber, else in organizationIdentifier, O, CN or OU; "" when
// there is none.
func CertificateOrgnr(c *x509.Certificate) string {
	if c == nil {
		return ""
	}
	candidates := []string{c.Subject.SerialNumber}
	for _, n := range c.Subject.Names {
		if n.Type.Equal(oidOrganizationIdentifier) {
			if v, ok := n.Value.(string); ok {
				candidates = append(candidates, v)
			}
		}
	}
	candidates = append(candidates, c.Subject.Organization...)
	candidates = append(candidates, c.Subject.CommonName)
	candidates = append(candidates, c.Subject.OrganizationalUnit...)
	for _, v := range candidates {
		if n := nineDigits(v); n != "" {
			return n
		}
	}
	return ""
}

// nineDigits is the first run of exactly nine ASCII digits in s.
func nineDigits(s string) string {
	for i := 0; i < len(s); {
		if s[i] < '0' || s[i] > '9' {
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j-i == 9 {
			return s[i:j]
		}
		i = j
	}
	return ""
}

func isOrgnr(s string) bool { return len(s) == 9 && nineDigits(s) == s }

// errorOf turns a non-2xx token response body into an error.
func errorOf(status int, body []byte) error {
	e := &OAuthError{Status: status}
	if json.Unmarshal(body, e) != nil || e.Code == "" {
		e.Code = fmt.Sprintf("http_%d", status)
		e.Description = strings.TrimSpace(string(body))
		if len(e.Description) > 512 {
			e.Description = e.Description[:512]
		}
	}
	return e
}
