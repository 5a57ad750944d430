package admin

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// joined is another efm-harness process's control plane whose services this one also serves.
type joined struct {
	base   *url.URL
	proxy  *httputil.ReverseProxy
	client *http.Client // for asking it what it serves

	mu    sync.Mutex
	names []string // the services it had when last asked
}

// joinedHeader marks requests one control plane makes of another, so that a plane does not pass them on
// or ask its own joined planes again: two planes that join each other do not loop.
const joinedHeader = "X-Efm-Harness-Joined"

// askTimeout bounds asking a joined control plane what it serves; proxyTimeout the wait for the answer
// to a passed-on request.
const (
	askTimeout   = 2 * time.Second
	proxyTimeout = 30 * time.Second
)

// Join makes the control plane also serve the services of the efm-harness control plane at controlURL
// (such as http://dpo:9090, a simulator in a container of its own): /__admin/{service}/… for a service not
// served here is passed on to the joined plane that has it, with the caller's credentials, and the
// overview lists its services. Joined planes are asked what they serve when a request needs it (all at
// once, each for at most 2 s), so one that starts later is found. Joins do not chain: the services a
// joined plane has joined itself are not served here.
func (c *Control) Join(controlURL string) error {
	u, err := url.Parse(strings.TrimRight(controlURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("join control plane %q: give an http(s) URL such as http://dpo:9090", controlURL)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = proxyTimeout
	j := &joined{base: u, client: &http.Client{Transport: tr, Timeout: askTimeout}}
	j.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			r.Out.Header.Set(joinedHeader, "1")
		},
		Transport: tr,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			ErrorResponse(http.StatusBadGateway, fmt.Sprintf("control plane %s, which serves this service, did not answer: %v", u, err)).Write(w)
		},
	}
	c.mu.Lock()
	c.joined = append(c.joined, j)
	c.mu.Unlock()
	return nil
}

// ask returns the services of the joined plane, as its GET /__admin lists them (with the credentials of
// the request that needs them).
func (j *joined) ask(r *http.Request) ([]ServiceInfo, error) {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, j.base.String()+Prefix, nil)
	if err != nil {
		return nil, err
	}
	if a := r.Header.Get("Authorization"); a != "" {
		req.Header.Set("Authorization", a)
	}
	req.Header.Set(joinedHeader, "1")
	resp, err := j.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s%s answered %d", j.base, Prefix, resp.StatusCode)
	}
	var list struct {
		Services []ServiceInfo `json:"services"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("GET %s%s: %w", j.base, Prefix, err)
	}
	names := make([]string, len(list.Services))
	for i, s := range list.Services {
		names[i] = s.Name
	}
	j.mu.Lock()
	j.names = names
	j.mu.Unlock()
	return list.Services, nil
}

func (j *joined) has(name string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Contains(j.names, name)
}

// joinedFor is the joined plane that serves the service name, asking them all again (at once) when none
// is known to.
func (c *Control) joinedFor(r *http.Request, name string) *joined {
	c.mu.RLock()
	js := slices.Clone(c.joined)
	c.mu.RUnlock()
	for _, j := range js {
		if j.has(name) {
			return j
		}
	}
	askAll(r, js)
	for _, j := range js {
		if j.has(name) {
			return j
		}
	}
	return nil
}

// asked is one joined plane's answer to what it serves.
type asked struct {
	infos []ServiceInfo
	err   error
}

// askAll asks every joined plane at once what it serves, each within askTimeout.
func askAll(r *http.Request, js []*joined) []asked {
	out := make([]asked, len(js))
	var wg sync.WaitGroup
	for i, j := range js {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i].infos, out[i].err = j.ask(r)
		}()
	}
	wg.Wait()
	return out
}

// joinedInfos lists the services of every joined plane, their admin URLs rewritten to this plane; a plane
// that does not answer is one row with its error.
func (c *Control) joinedInfos(r *http.Request, base string, local []ServiceInfo) []ServiceInfo {
	if r.Header.Get(joinedHeader) != "" {
		return nil
	}
	c.mu.RLock()
	js := slices.Clone(c.joined)
	c.mu.RUnlock()
	var out []ServiceInfo
	for i, a := range askAll(r, js) {
		if a.err != nil {
			out = append(out, ServiceInfo{Name: "?", URL: js[i].base.String(), Error: a.err.Error()})
			continue
		}
		for _, s := range a.infos {
			if s.Name == "control" || slices.ContainsFunc(local, func(l ServiceInfo) bool { return l.Name == s.Name }) {
				continue
			}
			s.Admin = base + Prefix + "/" + s.Name
			out = append(out, s)
		}
	}
	return out
}

// passOn serves a request for /__admin/{service}/… whose service is not served here: a joined plane that
// has it answers it, or it is a 404 naming the services there are.
func (c *Control) passOn(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, Prefix+"/")
	name, _, _ := strings.Cut(rest, "/")
	if ok && name != "" {
		if r.Header.Get(joinedHeader) != "" {
			ErrorResponse(http.StatusNotFound, fmt.Sprintf("no service %q here", name)).Write(w)
			return
		}
		if j := c.joinedFor(r, name); j != nil {
			j.proxy.ServeHTTP(w, r)
			return
		}
		ErrorResponse(http.StatusNotFound, fmt.Sprintf("no service %q here; GET %s lists the services", name, Prefix)).Write(w)
		return
	}
	ErrorResponse(http.StatusNotFound, fmt.Sprintf("no route %s %s; services are under %s/{service}/…", r.Method, r.URL.Path, Prefix)).Write(w)
}
