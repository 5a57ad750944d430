package stack_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/efm-harness/efm-harness/simulator/stack"
)

// TestAdminAuth checks that --admin-auth closes every admin door (the control port and each service's
// /__admin) to anonymous callers while the simulated protocol itself stays reachable, and that the
// stack's own admin clients still get in.
func TestAdminAuth(t *testing.T) {
	t.Parallel()
	st, err := stack.Start(context.Background(), stack.Config{Ports: stack.Ports(0), Services: []string{stack.SR}, AdminAuth: "harness:s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })

	get := func(url, user, pw string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if user != "" {
			req.SetBasicAuth(user, pw)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		name, url, user, pw string
		want                int
	}{
		{"control anonymous", st.ControlURL() + "/", "", "", http.StatusUnauthorized},
		{"control wrong password", st.ControlURL() + "/", "harness", "nope", http.StatusUnauthorized},
		{"control with admin user", st.ControlURL() + "/", "harness", "s3cret", http.StatusOK},
		{"service admin anonymous", st.URL(stack.SR) + "/__admin/health", "", "", http.StatusUnauthorized},
		{"service admin with admin user", st.URL(stack.SR) + "/__admin/health", "harness", "s3cret", http.StatusOK},
		{"protocol stays open", st.URL(stack.SR) + "/identifier/991825827", "", "", 0},
	} {
		got := get(tc.url, tc.user, tc.pw)
		if tc.want == 0 { // anything but an authentication failure
			if got == http.StatusUnauthorized {
				t.Errorf("%s: GET %s = 401", tc.name, tc.url)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("%s: GET %s = %d, want %d", tc.name, tc.url, got, tc.want)
		}
	}
	if _, err := st.Admin(stack.SR).Health(context.Background()); err != nil {
		t.Errorf("the stack's own admin client: %v", err)
	}
}
