package main

import (
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/simulator/stack"
)

func TestServeCommands(t *testing.T) {
	t.Parallel()
	sim, err := loadServe("sim", nil, envOf(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(simServices(), sim.Services); d != "" || sim.Ports[stack.Control] != stack.DefaultPortBase {
		t.Errorf("sim services (-want +got):\n%s control port %d", d, sim.Ports[stack.Control])
	}
	ip, err := loadServe("ip", []string{"--sim-host", "sims.test"}, envOf(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{stack.IP}, ip.Services); d != "" || ip.Ports[stack.Control] != 0 || ip.SimHost != "sims.test" {
		t.Errorf("ip: services (-want +got):\n%s control port %d, sim host %q", d, ip.Ports[stack.Control], ip.SimHost)
	}
	if _, err := loadServe("up", []string{"--sim-host", "x"}, envOf(nil), io.Discard); err == nil {
		t.Error("up accepted --sim-host")
	}
}

func TestIPProperties(t *testing.T) {
	t.Parallel()
	urls := map[string]string{stack.SR: "http://h:9099", stack.Maskinporten: "http://h:9100", stack.DPO: "http://h:9101",
		stack.DPV: "http://h:9102", stack.DPF: "http://h:9103", stack.DPI: "http://h:9104"}
	got := map[string]string{}
	for _, line := range strings.Split(ipProperties("910077473", "/k/910077473.p12", urls), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			got[k] = v
		}
	}
	acct := stack.SvarUtAccount("910077473")
	for k, want := range map[string]string{
		"difi.move.org.number":                       "910077473",
		"difi.move.org.keystore.path":                "file:/k/910077473.p12",
		"difi.move.serviceregistryEndpoint":          "http://h:9099",
		"difi.move.sign.jwkUrl":                      "http://h:9099/jwk",
		"difi.move.oidc.url":                         "http://h:9100/token",
		"difi.move.dpo.brokerserviceUrl":             "http://h:9101/broker/api/v1",
		"difi.move.dpv.correspondenceServiceUrl":     "http://h:9102/correspondence/api/v1",
		"difi.move.fiks.ut.type":                     "rest",
		"difi.move.fiks.ut.rest.kontoid":             acct.KontoID,
		"difi.move.fiks.ut.rest.integrasjon-passord": acct.IntegrasjonPassord,
		"difi.move.fiks.inn.baseUrl":                 "http://h:9103/tjenester/svarinn",
		"difi.move.dpi.uri":                          "http://h:9104/api/v2/dpi",
		"difi.move.dpi.krr-print-url":                "http://h:9104/rest/v2/printSertifikat",
		"difi.move.dpi.certificate.mode":             "SELF_SIGNED",
		"difi.move.feature.enableDPI":                "true",
	} {
		if got[k] != want {
			t.Errorf("%s = %q, want %q", k, got[k], want)
		}
	}
}
