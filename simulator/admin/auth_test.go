package admin_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/efm-harness/efm-harness/simulator/admin"
)

func TestRequireBasic(t *testing.T) {
	t.Parallel()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	service := httptest.NewServer(admin.RequireBasic("harness", "admin", false, ok))
	defer service.Close()
	control := httptest.NewServer(admin.RequireBasic("harness", "admin", true, ok))
	defer control.Close()
	open := httptest.NewServer(admin.RequireBasic("", "", true, ok))
	defer open.Close()
	for _, tc := range []struct {
		name, url, user, pw string
		want                int
	}{
		{"a service's own API stays open", service.URL + "/broker/api/v1/filetransfer", "", "", http.StatusTeapot},
		{"its admin API needs the user", service.URL + "/__admin/faults", "", "", http.StatusUnauthorized},
		{"a wrong password", service.URL + "/__admin/faults", "harness", "feil", http.StatusUnauthorized},
		{"the right user", service.URL + "/__admin/faults", "harness", "admin", http.StatusTeapot},
		{"the control port needs it everywhere", control.URL + "/", "", "", http.StatusUnauthorized},
		{"the control port with the user", control.URL + "/__admin/dpo/faults", "harness", "admin", http.StatusTeapot},
		{"no user configured: open", open.URL + "/__admin/faults", "", "", http.StatusTeapot},
	} {
		req, _ := http.NewRequest(http.MethodGet, tc.url, nil)
		if tc.user != "" {
			req.SetBasicAuth(tc.user, tc.pw)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
}
