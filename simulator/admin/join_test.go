package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/efm-harness/efm-harness/simulator/admin"
)

func TestJoin(t *testing.T) {
	t.Parallel()
	svcURL, echoControl, _ := service(t) // "echo" in a control plane of its own, as in a container
	front := admin.NewControl()
	must(t, front.Join(echoControl+"/"))
	must(t, front.Join("http://127.0.0.1:1")) // a plane that never answers
	fs := httptest.NewServer(front.Handler())
	t.Cleanup(fs.Close)
	ctx := context.Background()
	client := admin.ControlClient(fs.URL, "echo")

	t.Run("faults through the joined plane", func(t *testing.T) {
		must(t, client.SetFault(ctx, admin.Fault{Mode: admin.ModeRefuse}))
		if _, _, err := get(t, time.Second, svcURL+"/hello"); err == nil {
			t.Fatal("the service answered while refused")
		}
		st, err := admin.ControlClient(echoControl, "echo").Fault(ctx)
		if err != nil || !st.Active || st.Fault.Mode != admin.ModeRefuse {
			t.Fatalf("the echo plane's fault = %+v, %v; want refuse", st, err)
		}
		must(t, client.ClearFault(ctx))
		if code, _, err := get(t, time.Second, svcURL+"/hello"); err != nil || code != 200 {
			t.Fatalf("after clearing: %d %v", code, err)
		}
		if es, err := client.Requests(ctx, admin.Filter{Path: "/hello"}); err != nil || len(es) == 0 {
			t.Fatalf("journal through the joined plane: %d entries, %v", len(es), err)
		}
	})

	t.Run("the overview lists joined services and a silent plane", func(t *testing.T) {
		code, body, err := get(t, 10*time.Second, fs.URL+admin.Prefix)
		if err != nil || code != 200 {
			t.Fatalf("GET %s: %d %v", admin.Prefix, code, err)
		}
		var list struct{ Services []admin.ServiceInfo }
		must(t, json.Unmarshal([]byte(body), &list))
		var names []string
		for _, s := range list.Services {
			names = append(names, s.Name)
			if s.Name == "echo" && s.Admin != fs.URL+admin.Prefix+"/echo" {
				t.Errorf("echo's admin URL = %q, want it on the front plane", s.Admin)
			}
			if s.Name == "?" && !strings.Contains(s.URL, "127.0.0.1:1") {
				t.Errorf("error row for %q, want the silent plane", s.URL)
			}
		}
		if strings.Join(names, ",") != "echo,?" {
			t.Errorf("services = %v, want echo and one error row", names)
		}
	})

	t.Run("an unknown service is a 404 naming it", func(t *testing.T) {
		err := admin.ControlClient(fs.URL, "nope").Reset(ctx)
		var ae *admin.APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusNotFound || !strings.Contains(ae.Message, `"nope"`) {
			t.Fatalf("reset of an unknown service: %v", err)
		}
	})

	t.Run("planes that join each other do not loop", func(t *testing.T) {
		a, b := admin.NewControl(), admin.NewControl()
		as, bs := httptest.NewServer(a.Handler()), httptest.NewServer(b.Handler())
		t.Cleanup(as.Close)
		t.Cleanup(bs.Close)
		must(t, a.Join(bs.URL))
		must(t, b.Join(as.URL))
		if code, _, err := get(t, 5*time.Second, as.URL+admin.Prefix); err != nil || code != 200 {
			t.Fatalf("list: %d %v", code, err)
		}
		if code, _, err := get(t, 5*time.Second, as.URL+admin.Prefix+"/nope/health"); err != nil || code != http.StatusNotFound {
			t.Fatalf("unknown service: %d %v", code, err)
		}
	})

	if err := front.Join("dpo:9090"); err == nil {
		t.Error("Join accepted a URL without a scheme")
	}
}

func TestControlMetrics(t *testing.T) {
	t.Parallel()
	_, ctl, _ := service(t)
	code, body, err := get(t, 5*time.Second, ctl+"/metrics")
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", code, err)
	}
	var n int
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, "go_goroutines "); ok {
			if _, err := fmt.Sscan(v, &n); err != nil {
				t.Fatalf("go_goroutines %q: %v", v, err)
			}
		}
	}
	if n < 1 {
		t.Errorf("go_goroutines = %d in %q, want the process's count", n, body)
	}
}

// A service whose name begins with another's (ip, ip2) is reached at its own path, here and through a
// joined plane; and a joined plane that never answers delays the overview by at most the ask timeout.
func TestJoinPrefixNamesAndSilentPlanes(t *testing.T) {
	t.Parallel()
	ip := admin.New("ip", admin.Hooks{}, admin.Options{})
	ip2 := admin.New("ip2", admin.Hooks{}, admin.Options{})
	local := admin.NewControl()
	local.Register(ip, "http://ip")
	other := admin.NewControl()
	other.Register(ip2, "http://ip2")
	others := httptest.NewServer(other.Handler())
	t.Cleanup(others.Close)
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	t.Cleanup(silent.Close)
	must(t, local.Join(silent.URL))
	must(t, local.Join(others.URL))
	ls := httptest.NewServer(local.Handler())
	t.Cleanup(ls.Close)
	ctx := context.Background()

	if _, err := admin.ControlClient(ls.URL, "ip2").Health(ctx); err != nil {
		t.Errorf("ip2 through the joined plane, next to a local ip: %v", err)
	}
	both := admin.NewControl()
	both.Register(ip, "http://ip")
	both.Register(ip2, "http://ip2")
	bs := httptest.NewServer(both.Handler())
	t.Cleanup(bs.Close)
	for _, name := range []string{"ip", "ip2"} {
		h, err := admin.ControlClient(bs.URL, name).Health(ctx)
		if err != nil || h.Service != name {
			t.Errorf("%s in one plane with both: %+v, %v", name, h, err)
		}
	}

	start := time.Now()
	code, body, err := get(t, 10*time.Second, ls.URL+admin.Prefix)
	if err != nil || code != http.StatusOK || !strings.Contains(body, `"ip2"`) {
		t.Fatalf("overview with a silent plane: %d %v %.300s", code, err, body)
	}
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("overview took %v with one silent plane, want about the 2 s ask timeout", took)
	}
	if code, _, err := get(t, 5*time.Second, ls.URL+"/health"); err != nil || code != http.StatusOK {
		t.Errorf("GET /health: %d %v", code, err)
	}
}
