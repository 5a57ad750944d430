package loadtest

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"
)

func sampleResult() *Result {
	r := &Result{Schedule: Constant(50, 3*time.Second), Flows: []string{"dpo-small"}, Elapsed: 3 * time.Second,
		Scheduled: 150, Iterations: 150, Failed: 1, E2E: E2ECounts{Accepted: 149, Sendt: 149},
		Metrics: map[string]Stats{"multipart": {Count: 150, P50: 3 * time.Millisecond, P99: 20 * time.Millisecond},
			MetricE2ESendt: {Count: 149, P50: 30 * time.Millisecond, P99: 400 * time.Millisecond}},
		Errors: []ErrorCount{{Kind: "multipart: status 503", Count: 1, Samples: []string{"POST /api/messages/out/multipart answered 503"}}},
		Meta:   map[string]string{"mode": "full", "target": "http://127.0.0.1:9093"},
		Resources: []ProcessSeries{{PID: 7, Roles: []string{"ip"}, PeakRSS: 50 << 20, MaxCPU: 80,
			Samples: []ProcessSample{{RSS: 40 << 20, CPU: 50, Conns: 10, Goroutines: 90}, {RSS: 50 << 20, CPU: 80, Conns: 12, Goroutines: 95}}}},
	}
	for i := 1; i <= 3; i++ {
		r.Timeline = append(r.Timeline, Second{At: time.Duration(i) * time.Second, Intended: 50, Started: int64(50 * i), Sendt: int64(49 * i),
			Metrics: map[string]Stats{MetricE2ESendt: {Count: 49, P50: 30 * time.Millisecond, P99: 400 * time.Millisecond}}})
	}
	th, _ := ParseThreshold("e2e_sendt_p99<300ms")
	Evaluate(r, []Threshold{th})
	return r
}

func TestSummaryAndHTMLShowTheRun(t *testing.T) {
	r := sampleResult()
	var sum bytes.Buffer
	WriteSummary(&sum, r)
	for _, want := range []string{"✗ e2e_sendt_p99<300ms", "actual 400ms", "iterations 150 (50.0/s)", "SENDT 149", "multipart", "e2e_sendt",
		"multipart: status 503", "pid 7 (ip): peak RSS 50.0 MiB", "mode full"} {
		if !strings.Contains(sum.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, sum.String())
		}
	}
	var html bytes.Buffer
	if err := RenderHTML(&html, r); err != nil {
		t.Fatal(err)
	}
	page := html.String()
	if n := strings.Count(page, "<svg"); n != 5 {
		t.Errorf("report has %d charts, want 5 (throughput, latency, memory, CPU, connections)", n)
	}
	for _, want := range []string{"FAILED", "e2e_sendt_p99&lt;300ms", "<polyline", "Percentiles", "multipart: status 503"} {
		if !strings.Contains(page, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(page, "<script") || strings.Contains(page, "http://cdn") {
		t.Error("the report must be self-contained")
	}
}

func TestChartHandlesGapsAndEmptiness(t *testing.T) {
	empty := string(Chart{Title: "x"}.SVG())
	if !strings.Contains(empty, "no data") {
		t.Errorf("empty chart: %s", empty)
	}
	c := Chart{Title: "gaps", X: []float64{1, 2, 3, 4}, Log: true,
		Series: []Series{{Name: "s", Values: []float64{10, math.NaN(), 100, 1000}, Color: "#000"}}}
	svg := string(c.SVG())
	if n := strings.Count(svg, "<polyline"); n != 2 {
		t.Errorf("a gap should split the line in two, got %d polylines", n)
	}
	if strings.Contains(svg, "NaN") {
		t.Error("NaN leaked into the SVG")
	}
}

func TestCheckLoopback(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1:9093", "http://localhost:9093", "http://[::1]:9093"} {
		if err := CheckLoopback(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"http://10.0.0.5:9093", "https://integrasjonspunkt.example.no", "not a url"} {
		if err := CheckLoopback(bad); err == nil {
			t.Errorf("%s was allowed", bad)
		}
	}
}
