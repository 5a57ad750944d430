package steps

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cucumber/godog"
	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
)

// tokenState is what the token steps remember.
type tokenState struct {
	assertion   string
	accessToken string
	claims      map[string]any
}

func registerTokenSteps(sc *godog.ScenarioContext) {
	sc.Step(`^I request a Maskinporten token as "([^"]*)" for scope "([^"]*)"(?: on behalf of "([^"]*)")?$`, requestToken)
	sc.Step(`^I request a Maskinporten token as "([^"]*)" for scope "([^"]*)" with (a forged signature|an expired assertion|a lifetime of 10 minutes|the wrong audience|an untrusted certificate|an issue time in the future)$`, requestBadToken)
	sc.Step(`^I send the same assertion again$`, sendSameAssertion)
	sc.Step(`^I send the grant type "([^"]*)"$`, sendGrantType)
	sc.Step(`^the token request is granted$`, tokenGranted)
	sc.Step(`^the token request is refused with "([^"]*)"(?: and the description "([^"]*)")?$`, tokenRefused)
	sc.Step(`^the access token verifies with the key from Maskinporten's /jwk$`, accessTokenVerifies)
	sc.Step(`^the access token has the claim "([^"]*)" "([^"]*)"$`, accessTokenHasClaim)
}

type assertionSpec struct {
	key      *rsa.PrivateKey
	cert     *x509.Certificate
	signWith *rsa.PrivateKey
	aud      string
	iat, exp time.Time
	scope    string
	orgnr    string
	onBehalf string
}

func makeAssertion(s assertionSpec) (string, error) {
	signKey := s.key
	if s.signWith != nil {
		signKey = s.signWith
	}
	opts := (&jose.SignerOptions{}).WithHeader("x5c", []string{base64.StdEncoding.EncodeToString(s.cert.Raw)})
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: signKey}, opts)
	if err != nil {
		return "", err
	}
	claims := map[string]any{
		"aud": s.aud, "iss": "MOVE_IP_" + s.orgnr, "scope": s.scope, "jti": uuid.NewString(),
		"iat": s.iat.Unix(), "exp": s.exp.Unix(),
	}
	if s.onBehalf != "" {
		claims["consumer_org"] = s.onBehalf
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

func (w *world) baseAssertion(ctx context.Context, who, scope string) (assertionSpec, error) {
	aud, err := w.maskinportenIssuer(ctx)
	if err != nil {
		return assertionSpec{}, err
	}
	orgnr, err := w.expand(who)
	if err != nil {
		return assertionSpec{}, err
	}
	cred, ok := w.cfg.PKI.Get(orgnr)
	if !ok {
		return assertionSpec{}, fmt.Errorf("the test PKI has no credential for %s", orgnr)
	}
	now := time.Now()
	return assertionSpec{key: cred.Key, cert: cred.Certificate, aud: aud,
		iat: now, exp: now.Add(110 * time.Second), scope: scope, orgnr: orgnr}, nil
}

// maskinportenIssuer is the issuer Maskinporten's metadata names, the audience of a client's assertion
// (as a real client configures it): it differs from the URL the steps reach Maskinporten at when
// Maskinporten runs in a container that advertises its service name.
func (w *world) maskinportenIssuer(ctx context.Context) (string, error) {
	if w.issuer != "" {
		return w.issuer, nil
	}
	base := strings.TrimRight(w.cfg.MaskinportenURL, "/")
	last := w.last
	defer func() { w.last = last }()
	u := base + "/.well-known/oauth-authorization-server"
	r, err := w.do(ctx, http.MethodGet, u, nil, nil)
	if err != nil {
		return "", err
	}
	if r.Status == http.StatusNotFound {
		w.issuer = base + "/" // no metadata: the URL itself, which the simulator also accepts
		return w.issuer, nil
	}
	var md struct {
		Issuer string `json:"issuer"`
	}
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &md) != nil || md.Issuer == "" {
		return "", fmt.Errorf("GET %s answered %d without an issuer: %.300s", u, r.Status, r.Body)
	}
	w.issuer = md.Issuer
	return w.issuer, nil
}

func (w *world) postAssertion(ctx context.Context, assertion string) error {
	w.token = &tokenState{assertion: assertion}
	return w.postGrant(ctx, "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion)
}

func (w *world) postGrant(ctx context.Context, grantType, assertion string) error {
	form := url.Values{"grant_type": {grantType}, "assertion": {assertion}}
	_, err := w.do(ctx, http.MethodPost, strings.TrimRight(w.cfg.MaskinportenURL, "/")+"/token",
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Accept": {"application/json"}},
		strings.NewReader(form.Encode()))
	return err
}

func requestToken(ctx context.Context, who, scope, onBehalf string) error {
	w := getWorld(ctx)
	s, err := w.baseAssertion(ctx, who, scope)
	if err != nil {
		return err
	}
	if onBehalf != "" {
		if s.onBehalf, err = w.expand(onBehalf); err != nil {
			return err
		}
	}
	a, err := makeAssertion(s)
	if err != nil {
		return err
	}
	return w.postAssertion(ctx, a)
}

func requestBadToken(ctx context.Context, who, scope, defect string) error {
	w := getWorld(ctx)
	s, err := w.baseAssertion(ctx, who, scope)
	if err != nil {
		return err
	}
	switch defect {
	case "a forged signature":
		if s.signWith, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return err
		}
	case "an expired assertion":
		s.iat, s.exp = time.Now().Add(-5*time.Minute), time.Now().Add(-3*time.Minute)
	case "a lifetime of 10 minutes":
		s.exp = s.iat.Add(10 * time.Minute)
	case "the wrong audience":
		s.aud = "https://maskinporten.example.invalid/"
	case "an issue time in the future":
		s.iat, s.exp = time.Now().Add(time.Minute), time.Now().Add(2*time.Minute)
	case "an untrusted certificate":
		key, cert, err := selfSigned(s.orgnr)
		if err != nil {
			return err
		}
		s.key, s.cert = key, cert
	}
	a, err := makeAssertion(s)
	if err != nil {
		return err
	}
	return w.postAssertion(ctx, a)
}

// selfSigned makes a certificate for orgnr that no trusted CA issued.
func selfSigned(orgnr string) (*rsa.PrivateKey, *x509.Certificate, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:   pkix.Name{CommonName: "self-signed " + orgnr, SerialNumber: orgnr},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return key, cert, err
}

func sendSameAssertion(ctx context.Context) error {
	w := getWorld(ctx)
	if w.token == nil || w.token.assertion == "" {
		return fmt.Errorf("no assertion was sent before")
	}
	return w.postAssertion(ctx, w.token.assertion)
}

func sendGrantType(ctx context.Context, grantType string) error {
	return getWorld(ctx).postGrant(ctx, grantType, "")
}

func tokenGranted(ctx context.Context) error {
	w := getWorld(ctx)
	r, err := w.lastResponse()
	if err != nil {
		return err
	}
	if r.Status != http.StatusOK {
		return fmt.Errorf("token request answered %d: %s", r.Status, r.Body)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
		Scope       string `json:"scope"`
	}
	if err := json.Unmarshal(r.Body, &tr); err != nil {
		return fmt.Errorf("token response: %w", err)
	}
	if tr.AccessToken == "" || tr.TokenType != "Bearer" || tr.ExpiresIn <= 0 {
		return fmt.Errorf("token response lacks access_token, token_type Bearer or expires_in: %s", r.Body)
	}
	w.token.accessToken = tr.AccessToken
	return nil
}

func tokenRefused(ctx context.Context, code, description string) error {
	w := getWorld(ctx)
	r, err := w.lastResponse()
	if err != nil {
		return err
	}
	if r.Status != http.StatusBadRequest {
		return fmt.Errorf("token request answered %d, want 400: %s", r.Status, r.Body)
	}
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(r.Body, &e); err != nil {
		return fmt.Errorf("error body is not OAuth error JSON: %s", r.Body)
	}
	if e.Error != code {
		return fmt.Errorf("error %q (%s), want %q", e.Error, e.Description, code)
	}
	if description != "" && e.Description != description {
		return fmt.Errorf("error_description %q, want %q", e.Description, description)
	}
	return nil
}

func accessTokenVerifies(ctx context.Context) error {
	w := getWorld(ctx)
	if w.token == nil || w.token.accessToken == "" {
		return fmt.Errorf("no access token was granted")
	}
	ks, err := fetchJWKS(ctx, w, strings.TrimRight(w.cfg.MaskinportenURL, "/"))
	if err != nil {
		return err
	}
	obj, err := jose.ParseSigned(w.token.accessToken, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return fmt.Errorf("access token is not an RS256 JWS: %w", err)
	}
	kid := obj.Signatures[0].Header.KeyID
	keys := ks.Key(kid)
	if len(keys) == 0 {
		return fmt.Errorf("no key with kid %q in /jwk", kid)
	}
	payload, err := obj.Verify(keys[0].Key)
	if err != nil {
		return fmt.Errorf("access token does not verify: %w", err)
	}
	if err := json.Unmarshal(payload, &w.token.claims); err != nil {
		return err
	}
	if exp, ok := w.token.claims["exp"].(float64); !ok || time.Unix(int64(exp), 0).Before(time.Now()) {
		return fmt.Errorf("access token is expired or has no exp: %v", w.token.claims["exp"])
	}
	return nil
}

func accessTokenHasClaim(ctx context.Context, path, want string) error {
	w := getWorld(ctx)
	if w.token == nil || w.token.claims == nil {
		return fmt.Errorf("the access token has not been verified yet")
	}
	want, err := w.expand(want)
	if err != nil {
		return err
	}
	got, err := jsonPath(any(w.token.claims), path)
	if err != nil {
		return err
	}
	if stringOf(got) != want {
		return fmt.Errorf("claim %s is %q, want %q", path, stringOf(got), want)
	}
	return nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
