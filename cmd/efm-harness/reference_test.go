package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestIsReferenceIP(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   bool
	}{
		{"ours", 200, `{"build":{"name":"efm-harness"},"efm-harness":{"crypto":"full"}}`, true},
		{"the real IP", 200, `{"build":{"name":"integrasjonspunkt","version":"4.0.0"}}`, false},
		{"refused", 401, `{"efm-harness":{}}`, false},
		{"not JSON", 200, `<html>`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/manage/info" {
					http.NotFound(w, r)
					return
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			if got := isReferenceIP(context.Background(), srv.URL+"/", ""); got != tc.want {
				t.Errorf("isReferenceIP = %v, want %v", got, tc.want)
			}
		})
	}
	if isReferenceIP(context.Background(), "", "") {
		t.Error("no URL is not the reference IP")
	}
}
