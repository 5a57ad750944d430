package maskinporten

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
)

// DefaultAssertionLifetime is exp - iat of an assertion when AssertionClaims.Lifetime is zero.
const DefaultAssertionLifetime = 120 * time.Second

// AssertionClaims describe a JWT-bearer grant as the integration point builds it (upstreams §2.1).
type AssertionClaims struct {
	// Issuer is the client id (claim iss).
	Issuer string
	// Audience is Maskinporten's issuer URL (claim aud), e.g. "https://test.maskinporten.no/".
	Audience string
	// Scope is the space-separated list of scopes asked for.
	Scope string
	// ConsumerOrg is the 9-digit organisation the token shall act for (claim consumer_org); optional.
	ConsumerOrg string
	// AuthorizationDetails is copied as claim authorization_details when not nil (a JSON array, e.g. a
	// []map[string]any or a json.RawMessage).
	AuthorizationDetails any
	// Resource is the audience wanted in the access token (claim resource); optional.
	Resource string
	// IssuedAt is iat (time.Now when zero).
	IssuedAt time.Time
	// Lifetime is exp - iat (DefaultAssertionLifetime when zero; may be negative for tests).
	Lifetime time.Duration
	// JTI is the assertion's id (a random UUID when empty).
	JTI string
	// KID, when set, puts header kid instead of x5c (a registered client key, private_key_jwt).
	KID string
}

type assertionPayload struct {
	Aud                  string `json:"aud"`
	Iss                  string `json:"iss"`
	Scope                string `json:"scope,omitempty"`
	Iat                  int64  `json:"iat"`
	Exp                  int64  `json:"exp"`
	JTI                  string `json:"jti"`
	ConsumerOrg          string `json:"consumer_org,omitempty"`
	AuthorizationDetails any    `json:"authorization_details,omitempty"`
	Resource             string `json:"resource,omitempty"`
}

// ErrAssertion is wrapped by MakeAssertion's errors.
var ErrAssertion = errors.New("maskinporten: cannot make assertion")

// MakeAssertion signs a JWT-bearer grant with key (RS256). The header carries x5c = chain (leaf first,
// base64 DER) unless a.KID is set, in which case it carries kid instead; with neither, only alg.
func MakeAssertion(key *rsa.PrivateKey, chain []*x509.Certificate, a AssertionClaims) (string, error) {
	if key == nil {
		return "", fmt.Errorf("%w: no signing key", ErrAssertion)
	}
	iat := a.IssuedAt
	if iat.IsZero() {
		iat = time.Now()
	}
	life := a.Lifetime
	if life == 0 {
		life = DefaultAssertionLifetime
	}
	jti := a.JTI
	if jti == "" {
		jti = uuid.NewString()
	}
	payload, err := json.Marshal(assertionPayload{
		Aud: a.Audience, Iss: a.Issuer, Scope: a.Scope, Iat: iat.Unix(), Exp: iat.Add(life).Unix(), JTI: jti,
		ConsumerOrg: a.ConsumerOrg, AuthorizationDetails: a.AuthorizationDetails, Resource: a.Resource,
	})
	if err != nil {
		return "", fmt.Errorf("%w: claims: %w", ErrAssertion, err)
	}
	opts := &jose.SignerOptions{}
	if a.KID != "" {
		opts.WithHeader("kid", a.KID)
	} else if len(chain) > 0 {
		x5c := make([]string, len(chain))
		for i, c := range chain {
			if c == nil {
				return "", fmt.Errorf("%w: certificate %d of the chain is nil", ErrAssertion, i)
			}
			x5c[i] = base64.StdEncoding.EncodeToString(c.Raw)
		}
		opts.WithHeader("x5c", x5c)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, opts)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrAssertion, err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("%w: sign: %w", ErrAssertion, err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("%w: serialize: %w", ErrAssertion, err)
	}
	return s, nil
}

// RequestToken posts the JWT-bearer grant to tokenURL (a nil client uses one with a 10 s timeout). A
// refusal is returned as an *OAuthError, so errors.Is(err, ErrInvalidScope) and the like work.
func RequestToken(ctx context.Context, client *http.Client, tokenURL, assertion string) (*TokenResponse, error) {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	form := url.Values{"grant_type": {GrantTypeJWTBearer}, "assertion": {assertion}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("token request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("token response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, errorOf(resp.StatusCode, body)
	}
	var tr TokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return nil, fmt.Errorf("token response: %w", err)
	}
	if tr.AccessToken == "" {
		return nil, fmt.Errorf("token response: no access_token in %d bytes", len(body))
	}
	return &tr, nil
}
