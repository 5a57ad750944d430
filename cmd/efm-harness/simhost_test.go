package main

import (
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSimHostFillsTheSimulatorURLs(t *testing.T) {
	cfg, err := loadTest([]string{"--ip-url", "http://ip.example:8080", "--sim-host", "sims", "--port-base", "19090",
		"--dpf-url", "http://svarut:1"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{"sr": cfg.SRURL, "maskinporten": cfg.MaskinportenURL, "control": cfg.ControlURL, "dpo": cfg.DPOURL,
		"dpv": cfg.DPVURL, "dpf": cfg.DPFURL, "dpi": cfg.DPIURL, "ip": cfg.IPURL}
	want := map[string]string{"sr": "http://sims:19099", "maskinporten": "http://sims:19100", "control": "http://sims:19090",
		"dpo": "http://sims:19101", "dpv": "http://sims:19102", "dpf": "http://svarut:1", "dpi": "http://sims:19104",
		"ip": "http://ip.example:8080"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("URLs (-want +got):\n%s", diff)
	}
	if _, err := loadTest([]string{"--sim-host", "sims"}, func(k string) string {
		return map[string]string{"EFM_PORT_BASE": "many"}[k]
	}, io.Discard); err == nil {
		t.Error("a bad EFM_PORT_BASE was accepted")
	}
}
