package steps

import (
	"context"
	"testing"
)

func TestConfigLacks(t *testing.T) {
	full := Config{IPURL: "http://ip", IP2URL: "http://ip2", DPOURL: "http://dpo", DPVURL: "http://dpv", DPFURL: "http://dpf", DPIURL: "http://dpi"}
	for _, tc := range []struct {
		name string
		cfg  Config
		tags []string
		want string
	}{
		{"untagged", Config{}, nil, ""},
		{"other tags", Config{}, []string{"@resilience", "@faults"}, ""},
		{"all there", full, []string{"@two-ips", "@dpo", "@dpv", "@dpf", "@dpi"}, ""},
		{"no second ip", Config{DPOURL: "http://dpo"}, []string{"@two-ips", "@dpo"}, "needs a second integration point (--ip2-url), which the target was not given"},
		{"two missing", Config{}, []string{"@dpf", "@dpi"}, "needs the DPF simulator (--dpf-url) and the DPI simulator (--dpi-url), which the target was not given"},
		{"no restart", full, []string{"@crash", "@dpo"}, "needs a way to kill and restart the integration point (--ip-restart-cmd), which the target was not given"},
		{"restart given", Config{RestartIP: func(context.Context) error { return nil }}, []string{"@crash"}, ""},
	} {
		if got := tc.cfg.lacks(tc.tags); got != tc.want {
			t.Errorf("%s: lacks(%q) = %q, want %q", tc.name, tc.tags, got, tc.want)
		}
	}
}
