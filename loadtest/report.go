package loadtest

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// metricOrder is the order of the summary's rows.
var metricOrder = []string{"create", "upload", "send", "multipart", "peek", "pop", "delete", "get", MetricIteration,
	MetricE2ESimulator, MetricE2ESendt, MetricE2ELevert, MetricE2EReceived}

// MetricNames lists r's metrics in summary order.
func (r *Result) MetricNames() []string {
	rank := map[string]int{}
	for i, m := range metricOrder {
		rank[m] = i + 1
	}
	var names []string
	for n := range r.Metrics {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := rank[names[i]], rank[names[j]]
		if a == 0 {
			a = 1000
		}
		if b == 0 {
			b = 1000
		}
		if a != b {
			return a < b
		}
		return names[i] < names[j]
	})
	return names
}

// WriteSummary writes the end-of-run summary: thresholds first (as k6 does), then the counts, the
// percentile table, the errors and the processes' peaks.
func WriteSummary(w io.Writer, r *Result) {
	if len(r.Thresholds) > 0 {
		fmt.Fprintln(w, "thresholds:")
		for _, t := range r.Thresholds {
			mark := "✓"
			if !t.Passed {
				mark = "✗"
			}
			fmt.Fprintf(w, "  %s %-28s actual %s\n", mark, t.Threshold, t.Actual)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "flows %s  schedule %s  elapsed %s", strings.Join(r.Flows, ","), r.Schedule.String(), r.Elapsed.Round(time.Millisecond))
	for _, k := range []string{"target", "mode"} {
		if v := r.Meta[k]; v != "" {
			fmt.Fprintf(w, "  %s %s", k, v)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "iterations %d (%.1f/s)  failed %d  dropped %d  cancelled %d  peak VUs %d/%d  errors %.3f%%\n",
		r.Iterations, float64(r.Iterations)/math.Max(r.Schedule.Duration().Seconds(), 1e-9), r.Failed, r.Dropped, r.Cancelled,
		r.PeakVUs, r.MaxVUs, r.ErrorRate()*100)
	if r.E2E.Accepted > 0 {
		e := r.E2E
		fmt.Fprintf(w, "messages accepted %d  SENDT %d  LEVERT %d  FEIL %d  LEVETID_UTLOPT %d  missing %d  missed webhooks %d  received %d\n",
			e.Accepted, e.Sendt, e.Levert, e.Feil, e.Expired, e.Missing, e.MissedHook, e.Received)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "metric\tcount\tavg\tmin\tp50\tp90\tp95\tp99\tp99.9\tmax\t")
	for _, name := range r.MetricNames() {
		s := r.Metrics[name]
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", name, s.Count, short(s.Mean), short(s.Min), short(s.P50),
			short(s.P90), short(s.P95), short(s.P99), short(s.P999), short(s.Max))
	}
	tw.Flush()
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	if len(r.Errors) > 0 {
		fmt.Fprintln(w, "\nerrors:")
		for _, e := range r.Errors {
			fmt.Fprintf(w, "  %6d  %s\n", e.Count, e.Kind)
			if len(e.Samples) > 0 {
				fmt.Fprintf(w, "          e.g. %.200s\n", e.Samples[0])
			}
		}
	}
	if len(r.Resources) > 0 {
		fmt.Fprintln(w, "\nprocesses:")
		for _, p := range r.Resources {
			last := ProcessSample{Goroutines: -1}
			if n := len(p.Samples); n > 0 {
				last = p.Samples[n-1]
			}
			g := "n/a"
			if last.Goroutines >= 0 {
				g = fmt.Sprint(last.Goroutines)
			}
			fmt.Fprintf(w, "  pid %d (%s): peak RSS %s, max CPU %.0f%%, at the end %d connections, %d fds, goroutines %s\n",
				p.PID, strings.Join(p.Roles, ","), mib(p.PeakRSS), p.MaxCPU, last.Conns, last.FDs, g)
		}
	}
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// WriteJSON writes the result as indented JSON to path.
func WriteJSON(path string, r *Result) error {
	raw, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(raw, '\n'), 0o644)
}

// WriteHTML writes a self-contained HTML report (no scripts, no external files): the thresholds, the
// counts, throughput and latency over time as SVG charts, the percentile table, errors and resources.
func WriteHTML(path string, r *Result) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := RenderHTML(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// RenderHTML writes the report of WriteHTML to w.
func RenderHTML(w io.Writer, r *Result) error {
	var summary strings.Builder
	WriteSummary(&summary, r)
	secs := make([]float64, len(r.Timeline))
	for i, s := range r.Timeline {
		secs[i] = s.At.Seconds()
	}
	// Throughput: iterations started and SENDT per second, and the intended rate.
	var started, sendt, intended, failed []float64
	var prev Second
	for _, s := range r.Timeline {
		// Per second of the entry's own span: a tick that came late covers more than a second.
		dt := (s.At - prev.At).Seconds()
		if dt <= 0 {
			dt = 1
		}
		started = append(started, float64(s.Started-prev.Started)/dt)
		sendt = append(sendt, float64(s.Sendt-prev.Sendt)/dt)
		failed = append(failed, float64(s.Failed-prev.Failed+s.Dropped-prev.Dropped)/dt)
		intended = append(intended, float64(s.Intended))
		prev = s
	}
	throughput := Chart{Title: "Throughput per second", Unit: "/s", X: secs, Series: []Series{
		{Name: "intended rate", Values: intended, Color: "#9aa5b1", Dashed: true},
		{Name: "iterations started", Values: started, Color: "#1f77b4"},
	}}
	if r.E2E.Accepted > 0 {
		throughput.Series = append(throughput.Series, Series{Name: "messages SENDT", Values: sendt, Color: "#2ca02c"})
	}
	throughput.Series = append(throughput.Series, Series{Name: "failed + dropped", Values: failed, Color: "#d62728"})
	latency := Chart{Title: "Latency per second (p50 solid, p99 dashed)", Unit: "ms", X: secs, Log: true}
	colors := []string{"#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd"}
	for i, m := range []string{MetricIteration, MetricE2ESendt, MetricE2ELevert, MetricE2EReceived} {
		if _, ok := r.Metrics[m]; !ok {
			continue
		}
		p50 := make([]float64, len(r.Timeline))
		p99 := make([]float64, len(r.Timeline))
		for j, s := range r.Timeline {
			st, ok := s.Metrics[m]
			p50[j], p99[j] = math.NaN(), math.NaN()
			if ok && st.Count > 0 {
				p50[j], p99[j] = ms(st.P50), ms(st.P99)
			}
		}
		c := colors[i%len(colors)]
		latency.Series = append(latency.Series, Series{Name: m + " p50", Values: p50, Color: c}, Series{Name: m + " p99", Values: p99, Color: c, Dashed: true})
	}
	var resources []Chart
	if len(r.Resources) > 0 {
		rss := Chart{Title: "Resident memory", Unit: "MiB", X: secs}
		cpu := Chart{Title: "CPU (100% = one core)", Unit: "%", X: secs}
		conns := Chart{Title: "Established connections and goroutines", Unit: "", X: secs}
		for i, p := range r.Resources {
			c := colors[i%len(colors)]
			name := strings.Join(p.Roles, ",")
			var vr, vc, vn, vg []float64
			hasG := false
			for _, s := range p.Samples {
				vr = append(vr, float64(s.RSS)/(1<<20))
				vc = append(vc, s.CPU)
				vn = append(vn, float64(s.Conns))
				g := math.NaN()
				if s.Goroutines >= 0 {
					g, hasG = float64(s.Goroutines), true
				}
				vg = append(vg, g)
			}
			rss.Series = append(rss.Series, Series{Name: name, Values: vr, Color: c})
			cpu.Series = append(cpu.Series, Series{Name: name, Values: vc, Color: c})
			conns.Series = append(conns.Series, Series{Name: name + " connections", Values: vn, Color: c})
			if hasG {
				conns.Series = append(conns.Series, Series{Name: name + " goroutines", Values: vg, Color: c, Dashed: true})
			}
		}
		resources = []Chart{rss, cpu, conns}
	}
	type row struct {
		Name  string
		Stats Stats
	}
	var rows []row
	for _, n := range r.MetricNames() {
		rows = append(rows, row{n, r.Metrics[n]})
	}
	data := map[string]any{
		"R": r, "Summary": summary.String(), "Rows": rows, "Throughput": throughput.SVG(), "Latency": latency.SVG(),
		"Schedule": r.Schedule.String(), "ErrorRate": fmt.Sprintf("%.3f%%", r.ErrorRate()*100),
		"Rate": fmt.Sprintf("%.1f/s", float64(r.Iterations)/math.Max(r.Schedule.Duration().Seconds(), 1e-9)),
	}
	var res []template.HTML
	for _, c := range resources {
		res = append(res, c.SVG())
	}
	data["Resources"] = res
	return reportTemplate.Execute(w, data)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{"short": short}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>efm-harness load report</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1100px;color:#1d2733;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em} h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #dde3ea;padding-bottom:.2em}
.cards{display:flex;flex-wrap:wrap;gap:.8em;margin:1em 0}.card{background:#f5f7fa;border-radius:8px;padding:.7em 1em;min-width:8em}
.card b{display:block;font-size:1.4em}.ok{color:#1b7f3b}.bad{color:#c0262d}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}th,td{padding:.3em .6em;text-align:right;border-bottom:1px solid #eef1f4}
th:first-child,td:first-child{text-align:left}th{background:#f5f7fa}
svg{width:100%;height:auto;background:#fff;border:1px solid #eef1f4;border-radius:6px;margin:.5em 0}
pre{background:#f5f7fa;padding:1em;overflow:auto;border-radius:6px;font-size:12px}
.meta{color:#5b6773}
</style></head><body>
<h1>efm-harness load report</h1>
<p class="meta">{{.R.Started.Format "2006-01-02 15:04:05 MST"}} · flows {{range $i, $f := .R.Flows}}{{if $i}}, {{end}}{{$f}}{{end}} · {{.Schedule}}{{range $k, $v := .R.Meta}} · {{$k}} {{$v}}{{end}}</p>
<div class="cards">
<div class="card">iterations<b>{{.R.Iterations}}</b></div>
<div class="card">achieved rate<b>{{.Rate}}</b></div>
<div class="card">errors<b class="{{if .R.ErrorRate}}bad{{else}}ok{{end}}">{{.ErrorRate}}</b></div>
<div class="card">dropped<b class="{{if .R.Dropped}}bad{{else}}ok{{end}}">{{.R.Dropped}}</b></div>
{{if .R.E2E.Accepted}}<div class="card">messages SENDT<b>{{.R.E2E.Sendt}} / {{.R.E2E.Accepted}}</b></div>{{end}}
{{with index .R.Metrics "e2e_sendt"}}<div class="card">accepted→SENDT p99<b>{{short .P99}}</b></div>{{end}}
</div>
{{if .R.Thresholds}}<h2>Thresholds</h2><table><tr><th>threshold</th><th>actual</th><th>result</th></tr>
{{range .R.Thresholds}}<tr><td>{{.Threshold}}</td><td>{{.Actual}}</td><td class="{{if .Passed}}ok{{else}}bad{{end}}">{{if .Passed}}passed{{else}}FAILED{{end}}</td></tr>{{end}}</table>{{end}}
<h2>Throughput</h2>{{.Throughput}}
<h2>Latency over time</h2>{{.Latency}}
<h2>Percentiles</h2>
<table><tr><th>metric</th><th>count</th><th>avg</th><th>min</th><th>p50</th><th>p90</th><th>p95</th><th>p99</th><th>p99.9</th><th>max</th></tr>
{{range .Rows}}<tr><td>{{.Name}}</td><td>{{.Stats.Count}}</td><td>{{short .Stats.Mean}}</td><td>{{short .Stats.Min}}</td><td>{{short .Stats.P50}}</td><td>{{short .Stats.P90}}</td><td>{{short .Stats.P95}}</td><td>{{short .Stats.P99}}</td><td>{{short .Stats.P999}}</td><td>{{short .Stats.Max}}</td></tr>{{end}}
</table>
<p class="meta">Steps are service times (request to answer); iteration is from the intended start (so scheduler lag and queueing show); e2e_sendt/e2e_levert are from the send request to the status's webhook; e2e_simulator from the send request to the message's arrival at the simulated broker (its own clock, read after the run); e2e_received to its pop at the receiving integration point.</p>
{{range .R.Notes}}<p class="meta">Note: {{.}}</p>{{end}}
{{if .R.Errors}}<h2>Errors</h2><table><tr><th>kind</th><th>count</th><th>example</th></tr>
{{range .R.Errors}}<tr><td>{{.Kind}}</td><td>{{.Count}}</td><td style="text-align:left">{{range $i, $s := .Samples}}{{if not $i}}{{$s}}{{end}}{{end}}</td></tr>{{end}}</table>{{end}}
{{if .Resources}}<h2>Resources of the target's processes</h2>{{range .Resources}}{{.}}{{end}}{{end}}
<h2>Summary as printed</h2><pre>{{.Summary}}</pre>
</body></html>
`))
