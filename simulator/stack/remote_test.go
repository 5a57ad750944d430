package stack_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/stack"
)

// An integration point started alone finds the simulators of another stack through Remote, as
// `efm-harness ip` does next to `efm-harness sim`.
func TestIntegrationPointAgainstRemoteSimulators(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sims := []string{stack.SR, stack.Maskinporten, stack.DPO, stack.DPV, stack.DPF, stack.DPI}
	st1, err := stack.Start(ctx, stack.Config{Ports: stack.Ports(0), Fast: true, Services: sims})
	if err != nil {
		t.Fatal(err)
	}
	defer st1.Close()
	remote := map[string]string{}
	for _, s := range sims {
		remote[s] = st1.URL(s)
	}
	st2, err := stack.Start(ctx, stack.Config{Ports: stack.Ports(0), Fast: true, Services: []string{stack.IP}, Remote: remote})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if got := len(st2.Services()); got != 2 {
		t.Errorf("the integration point's stack lists %d services, want control and ip", got)
	}
	resp, err := http.Get(st2.URL(stack.IP) + "/api/capabilities/" + fixtures.Default().Org(fixtures.RoleDPF).Orgnr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var caps struct {
		Capabilities []struct {
			ServiceIdentifier string `json:"serviceIdentifier"`
		} `json:"capabilities"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&caps); err != nil || resp.StatusCode != 200 || len(caps.Capabilities) == 0 ||
		caps.Capabilities[0].ServiceIdentifier != "DPF" {
		t.Fatalf("capabilities through the remote register: %d %+v %v", resp.StatusCode, caps, err)
	}
}
