package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// statusIP is the part of an integration point the tracker talks to: subscriptions and statuses. It
// pushes the statuses it is told to the subscribed endpoint, as the real one does.
type statusIP struct {
	mu       sync.Mutex
	endpoint string
	statuses map[string][]string
	deleted  bool
}

func (s *statusIP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/subscriptions":
		var sub map[string]string
		_ = json.NewDecoder(r.Body).Decode(&sub)
		s.endpoint = sub["pushEndpoint"]
		fmt.Fprint(w, `{"id":42}`)
	case r.Method == http.MethodDelete && r.URL.Path == "/api/subscriptions/42":
		s.deleted = true
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/statuses/"):
		id := strings.TrimPrefix(r.URL.Path, "/api/statuses/")
		var content []map[string]string
		for _, st := range s.statuses[id] {
			content = append(content, map[string]string{"status": st})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"content": content})
	default:
		http.NotFound(w, r)
	}
}

func (s *statusIP) push(t *testing.T, id, status string) {
	t.Helper()
	s.mu.Lock()
	ep := s.endpoint
	s.statuses[id] = append(s.statuses[id], status)
	s.mu.Unlock()
	body, _ := json.Marshal(map[string]string{"event": "status", "messageId": id, "status": status, "direction": "OUTGOING"})
	resp, err := http.Post(ep, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func TestTrackerTimesStatusesAndChecksTheSilentOnes(t *testing.T) {
	ip := &statusIP{statuses: map[string][]string{}}
	srv := httptest.NewServer(ip)
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, HTTP: srv.Client()}
	tr, err := NewTracker(context.Background(), c, TrackerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec := NewRecorder()
	tr.attach(rec.Shard())

	tr.Sending("a", Expect{})             // SENDT by webhook
	tr.Sending("b", Expect{Levert: true}) // SENDT and LEVERT by webhook
	tr.Sending("c", Expect{Levert: true}) // FEIL
	tr.Sending("d", Expect{})             // SENDT registered, webhook lost
	tr.Sending("e", Expect{})             // never sent
	tr.Sending("f", Expect{})             // the send failed
	tr.Forget("f")
	time.Sleep(2 * time.Millisecond)
	ip.push(t, "a", "SENDT")
	ip.push(t, "b", "SENDT")
	ip.push(t, "b", "LEVERT")
	ip.push(t, "c", "FEIL")
	ip.mu.Lock()
	ip.statuses["d"] = []string{"OPPRETTET", "SENDT"}
	ip.statuses["e"] = []string{"OPPRETTET"}
	ip.mu.Unlock()

	tr.Drain(context.Background(), 100*time.Millisecond)
	got := tr.Counts()
	want := E2ECounts{Accepted: 5, Sendt: 2, Levert: 1, Feil: 1, Missing: 1, MissedHook: 1}
	if got != want {
		t.Errorf("counts %+v, want %+v", got, want)
	}
	totals := rec.Totals()
	if totals[MetricE2ESendt].Count != 2 || totals[MetricE2ELevert].Count != 1 {
		t.Errorf("e2e_sendt %d, e2e_levert %d; want 2 and 1", totals[MetricE2ESendt].Count, totals[MetricE2ELevert].Count)
	}
	if totals[MetricE2ESendt].Min < time.Millisecond {
		t.Errorf("e2e_sendt min %s: not counted from Sending", totals[MetricE2ESendt].Min)
	}
	kinds := map[string]int64{}
	for _, e := range tr.errors() {
		kinds[e.Kind] = e.Count
	}
	if kinds["e2e: FEIL"] != 1 || kinds["e2e: no final status within the drain (last OPPRETTET)"] != 1 {
		t.Errorf("errors %v", kinds)
	}
	tr.Close()
	if !ip.deleted {
		t.Error("Close left the subscription behind")
	}
}

func TestTrackerTakesLevertBeforeSendt(t *testing.T) {
	ip := &statusIP{statuses: map[string][]string{}}
	srv := httptest.NewServer(ip)
	defer srv.Close()
	tr, err := NewTracker(context.Background(), &Client{BaseURL: srv.URL, HTTP: srv.Client()}, TrackerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	rec := NewRecorder()
	tr.attach(rec.Shard())
	tr.Sending("x", Expect{Levert: true, Flow: "dpv"})
	ip.push(t, "x", "LEVERT") // webhooks are pushed in no particular order
	if c := tr.Counts(); c.Outstanding != 1 {
		t.Fatalf("after LEVERT alone: %+v, want it still waiting for SENDT", c)
	}
	ip.push(t, "x", "SENDT")
	if c := tr.Counts(); c.Sendt != 1 || c.Levert != 1 || c.Outstanding != 0 {
		t.Errorf("counts %+v, want SENDT and LEVERT, nothing outstanding", c)
	}
	if n := rec.Totals()[MetricE2ESendt+".dpv"].Count; n != 1 {
		t.Errorf("e2e_sendt.dpv count %d, want 1", n)
	}
}
