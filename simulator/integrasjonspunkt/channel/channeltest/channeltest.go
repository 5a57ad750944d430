// Package channeltest starts the real Maskinporten simulator for the channel tests and makes token
// clients for the test PKI's organisations, so that every channel test asks for its tokens the way the
// integration point does.
package channeltest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/oidc"
	"github.com/efm-harness/efm-harness/simulator/maskinporten"
)

// Maskinporten is a Maskinporten simulator serving on a free port for the test's lifetime.
type Maskinporten struct {
	// Server is the simulator (its Verifier checks the tokens it issued).
	Server *maskinporten.Server
	// URL is its base URL; the token endpoint is URL/token and the audience URL/.
	URL string
	pki *fixtures.PKI
}

// StartMaskinporten starts the simulator with the test PKI's Maskinporten key, trusting its CA.
func StartMaskinporten(t testing.TB, pki *fixtures.PKI) *Maskinporten {
	t.Helper()
	cred := pki.MustGet(fixtures.CredMaskinporten)
	mp, err := maskinporten.New(maskinporten.Options{Signer: cred.Key, Certificate: cred.Certificate, Roots: pki.Pool()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mp.Handler())
	t.Cleanup(srv.Close)
	mp.SetIssuer(srv.URL + "/")
	return &Maskinporten{Server: mp, URL: srv.URL, pki: pki}
}

// Tokens is a token client for the integration point of org, signing its assertions with org's test
// certificate, as the integration point's own client does.
func (m *Maskinporten) Tokens(org string, hc *http.Client) *oidc.Client {
	cred := m.pki.MustGet(org)
	return oidc.New(oidc.Options{TokenURL: m.URL + "/token", Audience: m.URL + "/", ClientID: "MOVE_IP_" + org,
		Key: cred.Key, Certificate: cred.Certificate, HTTP: hc})
}
