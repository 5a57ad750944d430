package containers

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/simulator/stack"
)

// Each container runs the one image with the command of its role, and learns where the others are.
func TestCommandAndEnv(t *testing.T) {
	t.Parallel()
	s := defaultSettings()
	for _, o := range []Option{WithServices(stack.SR, stack.Maskinporten, stack.DPO, stack.DPF, stack.IP), WithSecondIP(),
		WithOrganisation(stack.IP, "910076787"), WithArgs(stack.SR, "--require-auth"), WithFast(),
		WithEnv(map[string]string{"EFM_LOG_LEVEL": "debug"})} {
		if err := o(&s); err != nil {
			t.Fatal(err)
		}
	}
	st := &Stack{settings: s}
	commands := map[string][]string{}
	for _, name := range st.settings.services {
		commands[name] = st.command(name)
	}
	want := map[string][]string{
		stack.SR: {"sim", "--only", "sr", "--join", "http://maskinporten:9090,http://dpo:9090,http://dpf:9090,http://ip:9090",
			"--require-auth"},
		stack.Maskinporten: {"sim", "--only", "maskinporten"},
		stack.DPO:          {"sim", "--only", "dpo"},
		stack.DPF:          {"sim", "--only", "dpf", "--ip-org", "910076787"},
		stack.IP:           {"ip", "--control-port", "9090", "--org", "910076787"},
		stack.IP2:          {"ip", "--ip-port", "9095", "--control-port", "9090", "--org", "910075918"},
	}
	if diff := cmp.Diff(want, commands); diff != "" {
		t.Errorf("commands (-want +got):\n%s", diff)
	}
	wantEnv := map[string]string{
		"EFM_QUIET": "true", "EFM_FAST": "true", "EFM_LOG_LEVEL": "debug",
		"EFM_SR_URL": "http://sr:9099", "EFM_MASKINPORTEN_URL": "http://maskinporten:9100", "EFM_DPO_URL": "http://dpo:9101",
		"EFM_DPF_URL": "http://dpf:9103",
	}
	if diff := cmp.Diff(wantEnv, st.env()); diff != "" {
		t.Errorf("environment (-want +got):\n%s", diff)
	}
	if got := healthPath(stack.IP2); got != "/manage/health" {
		t.Errorf("health path of ip2 = %q", got)
	}
	if got := healthPath(stack.DPO); got != "/__admin/health" {
		t.Errorf("health path of dpo = %q", got)
	}
}
