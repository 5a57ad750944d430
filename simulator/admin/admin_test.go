package admin_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/mux"

	"github.com/efm-harness/efm-harness/simulator/admin"
)

// service starts a tiny simulator ("echo") on an admin.Listener and a control port beside it.
func service(t *testing.T) (svcURL, controlURL string, svc *admin.Service) {
	t.Helper()
	resets := 0
	svc = admin.New("echo", admin.Hooks{Reset: func() { resets++ }}, admin.Options{JournalSize: 5})
	r := mux.NewRouter()
	svc.Routes(r.PathPrefix(admin.Prefix).Subrouter())
	r.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(append([]byte("hello "), b...))
	})
	r.HandleFunc("/other", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("other")) })
	l, err := admin.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	svc.Attach(l)
	srv := &http.Server{Handler: svc.Middleware(r), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	ctl := admin.NewControl()
	ctl.Register(svc, "http://"+l.Addr().String())
	cs := httptest.NewServer(ctl.Handler())
	t.Cleanup(func() {
		cs.Close()
		_ = srv.Close()
		_ = l.Close()
	})
	return "http://" + l.Addr().String(), cs.URL, svc
}

func get(t *testing.T, timeout time.Duration, url string) (int, string, error) {
	t.Helper()
	c := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

func TestFaultModes(t *testing.T) {
	t.Parallel()
	url, ctl, _ := service(t)
	client := admin.ControlClient(ctl, "echo")
	ctx := context.Background()

	if code, body, err := get(t, time.Second, url+"/hello"); err != nil || code != 200 || body != "hello " {
		t.Fatalf("before faults: %d %q %v", code, body, err)
	}

	t.Run("status", func(t *testing.T) {
		must(t, client.SetFault(ctx, admin.Fault{Mode: admin.ModeStatus, Status: 503}))
		code, body, err := get(t, time.Second, url+"/hello")
		if err != nil || code != 503 || !strings.Contains(body, "injected fault") {
			t.Errorf("status fault: %d %q %v", code, body, err)
		}
		must(t, client.ClearFault(ctx))
	})
	t.Run("latency", func(t *testing.T) {
		must(t, client.SetFault(ctx, admin.Fault{Mode: admin.ModeLatency, Latency: admin.Duration(300 * time.Millisecond)}))
		start := time.Now()
		code, _, err := get(t, 2*time.Second, url+"/hello")
		if err != nil || code != 200 || time.Since(start) < 300*time.Millisecond {
			t.Errorf("latency fault: %d %v after %v", code, err, time.Since(start))
		}
		must(t, client.ClearFault(ctx))
	})
	t.Run("reset", func(t *testing.T) {
		must(t, client.SetFault(ctx, admin.Fault{Mode: admin.ModeReset}))
		_, _, err := get(t, time.Second, url+"/hello")
		if err == nil || isTimeout(err) {
			t.Errorf("reset fault: want a connection error, got %v", err)
		}
		must(t, client.ClearFault(ctx))
	})
	t.Run("refuse", func(t *testing.T) {
		must(t, client.SetFault(ctx, admin.Fault{Mode: admin.ModeRefuse}))
		_, _, err := get(t, time.Second, url+"/hello")
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("refuse fault: want connection refused, got %v", err)
		}
		// The service's own admin port is gone too; the control port still answers.
		if st, err := client.Fault(ctx); err != nil || !st.Active || st.Fault.Mode != admin.ModeRefuse {
			t.Errorf("control port during refuse: %+v %v", st, err)
		}
		must(t, client.ClearFault(ctx))
		if code, _, err := get(t, time.Second, url+"/hello"); err != nil || code != 200 {
			t.Errorf("after refuse cleared on the same port: %d %v", code, err)
		}
	})
	t.Run("drop", func(t *testing.T) {
		must(t, client.SetFault(ctx, admin.Fault{Mode: admin.ModeDrop, Count: 1}))
		_, _, err := get(t, time.Second, url+"/hello")
		if err == nil || isTimeout(err) {
			t.Errorf("drop fault: want a closed connection, got %v", err)
		}
		// The request was processed all the same: the journal has it, with the handler's work done.
		entries, _ := client.Requests(ctx, admin.Filter{Path: "/hello"})
		if len(entries) == 0 || entries[len(entries)-1].Fault != admin.ModeDrop {
			t.Errorf("journal does not show the dropped request: %+v", entries)
		}
	})
	t.Run("blackhole", func(t *testing.T) {
		must(t, client.SetFault(ctx, admin.Fault{Mode: admin.ModeBlackhole}))
		start := time.Now()
		_, _, err := get(t, 500*time.Millisecond, url+"/hello")
		if !isTimeout(err) {
			t.Errorf("blackhole fault: want a client timeout, got %v", err)
		}
		if d := time.Since(start); d < 450*time.Millisecond {
			t.Errorf("blackhole answered after %v", d)
		}
		must(t, client.ClearFault(ctx))
		if code, _, err := get(t, time.Second, url+"/hello"); err != nil || code != 200 {
			t.Errorf("after blackhole cleared: %d %v", code, err)
		}
	})
}

func TestBlackholeOnKeepAliveConnection(t *testing.T) {
	t.Parallel()
	url, ctl, _ := service(t)
	client := admin.ControlClient(ctl, "echo")
	c := &http.Client{Timeout: 400 * time.Millisecond}
	resp, err := c.Get(url + "/hello") // opens a keep-alive connection before the fault
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	must(t, client.SetFault(context.Background(), admin.Fault{Mode: admin.ModeBlackhole}))
	if _, err := c.Get(url + "/hello"); !isTimeout(err) {
		t.Errorf("request on an open connection during blackhole: want timeout, got %v", err)
	}
	must(t, client.ClearFault(context.Background()))
}

func TestFaultFilters(t *testing.T) {
	t.Parallel()
	url, ctl, _ := service(t)
	client := admin.ControlClient(ctl, "echo")
	ctx := context.Background()

	must(t, client.SetFault(ctx, admin.Fault{Mode: admin.ModeStatus, Status: 500, Paths: []string{"/other"}, Count: 2}))
	if code, _, _ := get(t, time.Second, url+"/hello"); code != 200 {
		t.Errorf("unmatched path got %d", code)
	}
	for i := 0; i < 2; i++ {
		if code, _, _ := get(t, time.Second, url+"/other"); code != 500 {
			t.Errorf("matched path, try %d, got %d", i, code)
		}
	}
	if code, _, _ := get(t, time.Second, url+"/other"); code != 200 {
		t.Errorf("after count used up got %d", code)
	}
	if st, _ := client.Fault(ctx); st.Active {
		t.Errorf("fault still active after its count: %+v", st)
	}
	// Faults never apply to the admin API on the service's own port.
	must(t, client.SetFault(ctx, admin.Fault{Mode: admin.ModeStatus, Status: 503}))
	if code, _, _ := get(t, time.Second, url+"/__admin/health"); code != 200 {
		t.Errorf("own admin health during status fault: %d", code)
	}
	must(t, client.ClearFault(ctx))
}

func TestFaultValidation(t *testing.T) {
	t.Parallel()
	_, ctl, _ := service(t)
	client := admin.ControlClient(ctl, "echo")
	tests := []struct {
		name string
		f    admin.Fault
		want string
	}{
		{"no mode", admin.Fault{}, `"mode" is required`},
		{"unknown mode", admin.Fault{Mode: "explode"}, `unknown mode "explode"`},
		{"refuse with paths", admin.Fault{Mode: admin.ModeRefuse, Paths: []string{"/x"}}, "closes the whole port"},
		{"latency without duration", admin.Fault{Mode: admin.ModeLatency}, "positive"},
		{"status out of range", admin.Fault{Mode: admin.ModeStatus, Status: 200}, "between 400 and 599"},
		{"rate out of range", admin.Fault{Mode: admin.ModeReset, Rate: 2}, `"rate"`},
		{"relative path", admin.Fault{Mode: admin.ModeReset, Paths: []string{"x"}}, "must start with /"},
	}
	for _, tt := range tests {
		err := client.SetFault(context.Background(), tt.f)
		var apiErr *admin.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != 400 || !strings.Contains(apiErr.Message, tt.want) {
			t.Errorf("%s: got %v, want 400 containing %q", tt.name, err, tt.want)
		}
	}
	// Unknown JSON fields are refused too, so typos do not silently do nothing.
	c := &http.Client{Timeout: time.Second}
	req, _ := http.NewRequest(http.MethodPut, ctl+"/__admin/echo/faults", strings.NewReader(`{"mode":"reset","pathz":["/x"]}`))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("unknown field: %d", resp.StatusCode)
	}
}

func TestJournal(t *testing.T) {
	t.Parallel()
	url, ctl, _ := service(t)
	client := admin.ControlClient(ctl, "echo")
	ctx := context.Background()
	since := time.Now()
	req, _ := http.NewRequest(http.MethodPost, url+"/hello", strings.NewReader("abc"))
	req.Header.Set("Authorization", "Bearer secret-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, _, _ = get(t, time.Second, url+"/other")

	got, err := client.Requests(ctx, admin.Filter{Path: "/hello", Since: since})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("journal has %d /hello entries, want 1", len(got))
	}
	e := got[0]
	want := admin.Entry{Method: "POST", Path: "/hello", Status: 200, BodySize: 3,
		BodySHA256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}
	if diff := cmp.Diff(want, admin.Entry{Method: e.Method, Path: e.Path, Status: e.Status, BodySize: e.BodySize, BodySHA256: e.BodySHA256}); diff != "" {
		t.Errorf("entry (-want +got):\n%s", diff)
	}
	if e.Headers["Authorization"] != "Bearer …" {
		t.Errorf("authorization not redacted: %q", e.Headers["Authorization"])
	}
	// The ring keeps 5 entries.
	for i := 0; i < 10; i++ {
		_, _, _ = get(t, time.Second, url+"/other")
	}
	all, _ := client.Requests(ctx, admin.Filter{})
	if len(all) != 5 {
		t.Errorf("bounded journal holds %d, want 5", len(all))
	}
	must(t, client.Reset(ctx))
	if all, _ := client.Requests(ctx, admin.Filter{}); len(all) != 0 {
		t.Errorf("journal after reset holds %d", len(all))
	}
	if _, err := client.Requests(ctx, admin.Filter{}); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := get(t, time.Second, ctl+"/__admin/echo/requests?since=yesterday"); code != 400 {
		t.Errorf("bad since: %d", code)
	}
}

func TestControlOverviewAndUnknownService(t *testing.T) {
	t.Parallel()
	_, ctl, _ := service(t)
	code, body, err := get(t, time.Second, ctl+"/")
	if err != nil || code != 200 || !strings.Contains(body, `"name": "echo"`) {
		t.Errorf("overview: %d %s %v", code, body, err)
	}
	if code, _, _ := get(t, time.Second, ctl+"/__admin/nosuch/health"); code != 404 {
		t.Errorf("unknown service: %d", code)
	}
	if code, _, _ := get(t, time.Second, ctl+"/__admin/echo/messages"); code != 404 {
		t.Errorf("missing hook: %d", code)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
