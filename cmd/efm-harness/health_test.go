package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/simulator/stack"
)

func TestHealth(t *testing.T) {
	t.Parallel()
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(ok.Close)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(down.Close)
	var calls atomic.Int32
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(slow.Close)
	tests := []struct {
		name          string
		args          []string
		wantUnhealthy bool
		wantErr       string
	}{
		{name: "2xx", args: []string{ok.URL}},
		{name: "503", args: []string{ok.URL, down.URL}, wantUnhealthy: true, wantErr: "status 503"},
		{name: "closed port", args: []string{"http://127.0.0.1:1/"}, wantUnhealthy: true},
		{name: "wait until healthy", args: []string{"--wait", "5s", slow.URL}},
		{name: "wait ends", args: []string{"--wait", "300ms", down.URL}, wantUnhealthy: true, wantErr: "status 503"},
		{name: "not a URL", args: []string{"dpo:9101"}, wantErr: "is not an http or https URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := runHealth(context.Background(), tt.args, io.Discard, io.Discard)
			if tt.wantErr == "" && !tt.wantUnhealthy {
				if err != nil {
					t.Fatalf("health %v: %v", tt.args, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("health %v succeeded, want an error", tt.args)
			}
			if got := errors.Is(err, ErrUnhealthy); got != tt.wantUnhealthy {
				t.Errorf("errors.Is(%v, ErrUnhealthy) = %v, want %v", err, got, tt.wantUnhealthy)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestLoadHealthDefaults(t *testing.T) {
	t.Parallel()
	got, err := loadHealth(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := healthConfig{URLs: []string{defaultHealthURL}, Timeout: 2 * time.Second}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

// The flags that run one service per container: --only, --org and the per-service URLs.
func TestLoadServeContainerFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		command      string
		args         []string
		env          map[string]string
		wantServices []string
		wantOrg      string
		wantURLs     map[string]string
		wantErr      string
	}{
		{name: "sim --only dpo", command: "sim", args: []string{"--only", "dpo"}, wantServices: []string{"dpo"}},
		{name: "no URLs by default", command: "ip", wantServices: []string{"ip"}},
		{name: "URLs from the environment", command: "sim", args: []string{"--only", "maskinporten"},
			env:          map[string]string{"EFM_MASKINPORTEN_URL": "http://maskinporten:9100/", "EFM_DPO_URL": "http://dpo:9101"},
			wantServices: []string{"maskinporten"},
			wantURLs:     map[string]string{"maskinporten": "http://maskinporten:9100", "dpo": "http://dpo:9101"}},
		{name: "flag wins", command: "ip", args: []string{"--dpf-url", "http://svarut.test:80"}, env: map[string]string{"EFM_DPF_URL": "http://dpf:9103"},
			wantServices: []string{"ip"}, wantURLs: map[string]string{"dpf": "http://svarut.test:80"}},
		{name: "ip --org", command: "ip", args: []string{"--org", "910075918"}, wantServices: []string{"ip"}, wantOrg: "910075918"},
		{name: "org from the environment", command: "up", env: map[string]string{"EFM_ORG": "910075918"}, wantServices: stack.Available(), wantOrg: "910075918"},
		{name: "sim has no --org", command: "sim", args: []string{"--org", "910075918"}, wantErr: "flag provided but not defined: -org"},
		{name: "bad URL", command: "ip", args: []string{"--sr-url", "sr:9099"}, wantErr: `--sr-url "sr:9099": give a base URL such as http://sr:9099`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := loadServe(tt.command, tt.args, envOf(tt.env), io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantServices, got.Services); diff != "" {
				t.Errorf("services (-want +got):\n%s", diff)
			}
			if got.Org != tt.wantOrg {
				t.Errorf("org %q, want %q", got.Org, tt.wantOrg)
			}
			if diff := cmp.Diff(tt.wantURLs, got.URLs); diff != "" {
				t.Errorf("URLs (-want +got):\n%s", diff)
			}
		})
	}
}
