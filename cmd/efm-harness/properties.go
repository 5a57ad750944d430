package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/dpf"
	"github.com/efm-harness/efm-harness/simulator/dpi"
	"github.com/efm-harness/efm-harness/simulator/stack"
)

// keystorePassword is the password of the exported TEST ONLY keystores.
const keystorePassword = "changeit"

// ipProperties renders an integrasjonspunkt-local.properties for a real Java integration point v4 of
// organisation org that uses the simulators at urls (service → base URL) and the PKCS#12 keystore p12
// (upstreams §1.1, §12): the address register and its signed answers, Maskinporten, DPO, DPV, DPF in REST
// mode with the stack's SvarUt and SvarInn credentials, DPI with KRR and SELF_SIGNED receipts, an
// embedded ActiveMQ, no NTP lookup, and the dev profile's short polling.
func ipProperties(org, p12 string, urls map[string]string) string {
	var b strings.Builder
	set := func(k, v string) { fmt.Fprintf(&b, "%s=%s\n", k, v) }
	comment := func(c string) { fmt.Fprintf(&b, "\n# %s\n", c) }
	b.WriteString("# integrasjonspunkt-local.properties written by efm-harness sim: a real integration point against the\n")
	b.WriteString("# simulators. TEST ONLY keystores; the harness's compatibility notes list what differs from the real services.\n")
	comment("the organisation and its business certificate (also the Maskinporten and DPI keystore)")
	set("difi.move.org.number", org)
	for _, prefix := range []string{"difi.move.org.keystore", "difi.move.oidc.keystore", "difi.move.dpi.keystore"} {
		set(prefix+".type", "PKCS12")
		set(prefix+".path", "file:"+p12)
		set(prefix+".password", keystorePassword)
		set(prefix+".alias", "1")
	}
	comment("embedded queue, no NTP lookup, statuses polled and receipts on")
	set("difi.activemq.broker-url", "vm://localhost?broker.persistent=false")
	set("difi.move.ntp.disable", "true")
	set("difi.move.feature.enableReceipts", "true")
	if u := urls[stack.SR]; u != "" {
		comment("address register (signed answers, verified with its /jwk)")
		set("difi.move.serviceregistryEndpoint", u)
		set("difi.move.sign.enable", "true")
		set("difi.move.sign.jwkUrl", u+"/jwk")
	}
	if u := urls[stack.Maskinporten]; u != "" {
		comment("Maskinporten")
		set("difi.move.oidc.enable", "true")
		set("difi.move.oidc.url", u+"/token")
		set("difi.move.oidc.audience", u+"/")
		set("difi.move.oidc.clientId", "MOVE_IP_"+org)
	}
	if u := urls[stack.DPO]; u != "" {
		comment("DPO: Altinn 3 Broker and the token exchange")
		set("difi.move.feature.enableDPO", "true")
		set("difi.move.dpo.brokerserviceUrl", u+"/broker/api/v1")
		set("difi.move.dpo.altinnTokenExchangeUrl", u+"/authentication/api/v1/exchange/maskinporten")
		set("difi.move.dpo.systemRegisterUrl", u+"/authentication/api/v1")
	}
	if u := urls[stack.DPV]; u != "" {
		comment("DPV: Altinn 3 Correspondence through the proxy path, the token exchange and the health probe")
		set("difi.move.feature.enableDPV", "true")
		set("difi.move.dpv.correspondenceServiceUrl", u+"/correspondence/api/v1")
		set("difi.move.dpv.altinnTokenExchangeUrl", u+"/authentication/api/v1/exchange/maskinporten")
		set("difi.move.dpv.health-check-url", u+"/health-probe")
	}
	if u := urls[stack.DPF]; u != "" {
		acct, user := stack.SvarUtAccount(org), stack.SvarInnUser(org)
		comment("DPF: KS SvarUt REST and SvarInn with the stack's credentials for " + org)
		set("difi.move.feature.enableDPF", "true")
		set("difi.move.fiks.ut.type", "rest")
		set("difi.move.fiks.ut.endpointUrl", u)
		set("difi.move.fiks.ut.rest.endpointUrl", u)
		set("difi.move.fiks.ut.rest.kontoid", acct.KontoID)
		set("difi.move.fiks.ut.rest.integrasjon-id", acct.IntegrasjonID)
		set("difi.move.fiks.ut.rest.integrasjon-passord", acct.IntegrasjonPassord)
		set("difi.move.fiks.inn.baseUrl", u+dpf.SvarInnBase)
		set("difi.move.fiks.inn.username", user.Username)
		set("difi.move.fiks.inn.password", user.Password)
		set("difi.move.fiks.pollingrate", "15000")
	}
	if u := urls[stack.DPI]; u != "" {
		comment("DPI: corner 2, KRR's print certificate, receipts signed with a self-signed certificate")
		set("difi.move.feature.enableDPI", "true")
		set("difi.move.dpi.uri", u+dpi.DefaultBasePath)
		set("difi.move.dpi.krr-print-url", u+dpi.KRRPrintPath)
		set("difi.move.dpi.certificate.mode", "SELF_SIGNED")
	}
	return b.String()
}

// writeIPProperties exports the TEST ONLY keystores and writes the properties for cfg.IPOrg.
func writeIPProperties(st *stack.Stack, cfg upConfig, out io.Writer) error {
	if _, ok := st.PKI().Get(cfg.IPOrg); !ok {
		return fmt.Errorf("--ip-org %s: the test PKI has no certificate for it", cfg.IPOrg)
	}
	if _, err := fixtures.ExportPKCS12(st.PKI(), cfg.Keystore, keystorePassword); err != nil {
		return fmt.Errorf("export keystores: %w", err)
	}
	p12, err := filepath.Abs(filepath.Join(cfg.Keystore, cfg.IPOrg+".p12"))
	if err != nil {
		return err
	}
	urls := map[string]string{}
	for _, s := range st.Services() {
		urls[s.Name] = s.URL
	}
	if dir := filepath.Dir(cfg.IPProperties); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(cfg.IPProperties, []byte(ipProperties(cfg.IPOrg, p12, urls)), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", cfg.IPProperties, err)
	}
	fmt.Fprintf(out, "\nwrote %s for a real integration point as %s (keystore %s, password %s; TEST ONLY)\n",
		cfg.IPProperties, cfg.IPOrg, p12, keystorePassword)
	return nil
}
