package api

import (
	"encoding/base64"
	"net/http"
	"testing"
)

func TestBasicAuth(t *testing.T) {
	t.Parallel()
	basic := func(user, pw string) map[string]string {
		return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))}
	}
	on := newEnv(t, func(o *Options) { o.BasicAuth = BasicAuth{User: "arkiv", Password: "hemmelig"} })
	off := newEnv(t)
	for _, tc := range []struct {
		name   string
		e      *env
		path   string
		header map[string]string
		want   int
	}{
		{"auth off: open", off, "/api/statuses", nil, http.StatusOK},
		{"no credentials", on, "/api/statuses", nil, http.StatusUnauthorized},
		{"wrong password", on, "/api/statuses", basic("arkiv", "feil"), http.StatusUnauthorized},
		{"wrong user", on, "/api/messages/out", basic("andre", "hemmelig"), http.StatusUnauthorized},
		{"right credentials", on, "/api/statuses", basic("arkiv", "hemmelig"), http.StatusOK},
		{"/manage/health stays open", on, "/manage/health", nil, http.StatusOK},
		{"/manage/info stays open", on, "/manage/info", nil, http.StatusOK},
		{"two segments under /manage need it", on, "/manage/health/liveness", nil, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.e.do(http.MethodGet, tc.path, tc.header, nil)
			if r.status != tc.want {
				t.Fatalf("%s answered %d, want %d: %s", tc.path, r.status, tc.want, r.body)
			}
			if tc.want == http.StatusUnauthorized {
				if got := r.header.Get("WWW-Authenticate"); got != `Basic realm="Realm"` {
					t.Errorf("WWW-Authenticate %q", got)
				}
				expectError(t, r, http.StatusUnauthorized, exInsufficientAuthentication, "Full authentication is required to access this resource")
			}
		})
	}
}
