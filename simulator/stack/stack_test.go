package stack_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/stack"
)

func TestStartSubsetAndShutdown(t *testing.T) {
	t.Parallel()
	st, err := stack.Start(context.Background(), stack.Config{Ports: stack.Ports(0), Services: []string{stack.SR}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range st.Services() {
		names = append(names, s.Name)
		if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
			t.Errorf("%s URL %q", s.Name, s.URL)
		}
	}
	if diff := cmp.Diff([]string{stack.Control, stack.SR}, names); diff != "" {
		t.Errorf("services (-want +got):\n%s", diff)
	}
	if st.URL(stack.Maskinporten) != "" || st.Maskinporten != nil {
		t.Error("maskinporten started though not asked for")
	}
	if _, err := st.Admin(stack.SR).Health(context.Background()); err != nil {
		t.Errorf("sr admin through the control port: %v", err)
	}
	if err := st.Admin(stack.Maskinporten).Reset(context.Background()); !admin.IsNotFound(err) {
		t.Errorf("admin of a service not started: %v, want 404", err)
	}
	// A refused port does not stop a graceful shutdown.
	if err := st.Admin(stack.SR).SetFault(context.Background(), admin.Fault{Mode: admin.ModeRefuse}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if _, err := http.Get(st.ControlURL() + "/"); err == nil {
		t.Error("control port still answers after Close")
	}
}

func TestPorts(t *testing.T) {
	t.Parallel()
	want := map[string]int{stack.Control: 9090, stack.IP: 9093, stack.IP2: 9095, stack.SR: 9099, stack.Maskinporten: 9100,
		stack.DPO: 9101, stack.DPV: 9102, stack.DPF: 9103, stack.DPI: 9104}
	if diff := cmp.Diff(want, stack.Ports(stack.DefaultPortBase)); diff != "" {
		t.Errorf("default ports (-want +got):\n%s", diff)
	}
}

func TestTwoIntegrationPoints(t *testing.T) {
	t.Parallel()
	st, err := stack.Start(context.Background(), stack.Config{Ports: stack.Ports(0), IPs: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	orgs := map[string]string{}
	for _, name := range []string{stack.IP, stack.IP2} {
		resp, err := http.Get(st.URL(name) + "/manage/info")
		if err != nil {
			t.Fatal(err)
		}
		var info struct {
			Org struct {
				Number string `json:"number"`
			} `json:"org"`
		}
		err = json.NewDecoder(resp.Body).Decode(&info)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		orgs[name] = info.Org.Number
	}
	want := map[string]string{stack.IP: "910077473", stack.IP2: "910075918"}
	if diff := cmp.Diff(want, orgs); diff != "" {
		t.Errorf("org.number of each integration point (-want +got):\n%s", diff)
	}
	if st.IPOrg(stack.IP2) != "910075918" {
		t.Errorf("IPOrg(ip2) = %q", st.IPOrg(stack.IP2))
	}
	if _, err := stack.Start(context.Background(), stack.Config{Ports: stack.Ports(0), IPs: 3}); err == nil {
		t.Error("three integration points started")
	}
}
