// Package report turns a godog cucumber JSON report into one self-contained HTML page: a summary, every
// feature with its scenarios and steps, their timings, failures expanded with their error and the
// attachments the steps made (the last answer, the simulators' request journals).
package report

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"os"
	"time"
)

// Cucumber JSON, as godog writes it (the fields the report shows).
type (
	feature struct {
		URI      string     `json:"uri"`
		Name     string     `json:"name"`
		Elements []scenario `json:"elements"`
	}
	scenario struct {
		Name  string `json:"name"`
		Line  int    `json:"line"`
		Tags  []tag  `json:"tags"`
		Steps []step `json:"steps"`
	}
	tag  struct{ Name string }
	step struct {
		Keyword    string      `json:"keyword"`
		Name       string      `json:"name"`
		Result     result      `json:"result"`
		Embeddings []embedding `json:"embeddings"`
	}
	result struct {
		Status   string `json:"status"`
		Duration int64  `json:"duration"` // nanoseconds
		Error    string `json:"error_message"`
	}
	embedding struct {
		MimeType string `json:"mime_type"`
		Data     string `json:"data"` // base64
		Name     string `json:"name"`
	}
)

// Summary counts a run's scenarios and steps.
type Summary struct {
	Features, Scenarios, Passed, Failed, Skipped int
	Duration                                     time.Duration
}

type page struct {
	Title    string
	Summary  Summary
	Features []featureView
}

type featureView struct {
	Name, URI string
	Failed    bool
	Scenarios []scenarioView
}

type scenarioView struct {
	Name     string
	Line     int
	Tags     []string
	Status   string
	Duration time.Duration
	Steps    []stepView
}

type stepView struct {
	Text        string
	Status      string
	Duration    time.Duration
	Error       string
	Attachments []attachment
}

type attachment struct {
	Name, Text string
}

// WriteHTML reads cucumber JSON from in and writes the HTML report to out; it returns the summary.
func WriteHTML(in io.Reader, out io.Writer, title string) (Summary, error) {
	var features []feature
	if err := json.NewDecoder(in).Decode(&features); err != nil {
		return Summary{}, fmt.Errorf("read cucumber JSON: %w", err)
	}
	p := page{Title: title}
	for _, f := range features {
		fv := featureView{Name: f.Name, URI: f.URI}
		for _, sc := range f.Elements {
			sv := scenarioView{Name: sc.Name, Line: sc.Line, Status: "passed"}
			for _, t := range sc.Tags {
				sv.Tags = append(sv.Tags, t.Name)
			}
			for _, st := range sc.Steps {
				d := time.Duration(st.Result.Duration)
				v := stepView{Text: st.Keyword + st.Name, Status: st.Result.Status, Duration: d, Error: st.Result.Error}
				for _, e := range st.Embeddings {
					b, err := base64.StdEncoding.DecodeString(e.Data)
					if err != nil {
						b = []byte(e.Data)
					}
					v.Attachments = append(v.Attachments, attachment{Name: e.Name + " (" + e.MimeType + ")", Text: string(b)})
				}
				sv.Duration += d
				switch st.Result.Status {
				case "failed", "undefined", "pending", "ambiguous":
					sv.Status = "failed"
				case "skipped":
					if sv.Status == "passed" {
						sv.Status = "skipped"
					}
				}
				sv.Steps = append(sv.Steps, v)
			}
			switch sv.Status {
			case "failed":
				p.Summary.Failed++
				fv.Failed = true
			case "skipped":
				p.Summary.Skipped++
			default:
				p.Summary.Passed++
			}
			p.Summary.Scenarios++
			p.Summary.Duration += sv.Duration
			fv.Scenarios = append(fv.Scenarios, sv)
		}
		p.Summary.Features++
		p.Features = append(p.Features, fv)
	}
	return p.Summary, tmpl.Execute(out, p)
}

// WriteFile converts the cucumber JSON file in into the HTML file out.
func WriteFile(in, out, title string) (Summary, error) {
	f, err := os.Open(in)
	if err != nil {
		return Summary{}, err
	}
	defer f.Close()
	o, err := os.Create(out)
	if err != nil {
		return Summary{}, err
	}
	s, err := WriteHTML(f, o, title)
	if cerr := o.Close(); err == nil {
		err = cerr
	}
	return s, err
}

var tmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"ms": func(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#222}
h1{margin:0 0 .5rem}.sum span{display:inline-block;margin-right:1.2rem;font-weight:600}
.passed{color:#1a7f37}.failed{color:#cf222e}.skipped{color:#9a6700}
details{margin:.3rem 0}summary{cursor:pointer}
.feature{border:1px solid #d0d7de;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}
.feature.failed{border-color:#cf222e}
.scenario{margin-left:1rem}.steps{margin-left:1.5rem;border-left:3px solid #d0d7de;padding-left:.8rem}
.step{font-family:ui-monospace,monospace;font-size:13px}.dur{color:#57606a;font-size:12px;margin-left:.5rem}
pre{background:#f6f8fa;padding:.6rem;overflow:auto;max-height:24rem;white-space:pre-wrap}
.tag{background:#ddf4ff;border-radius:4px;padding:0 .3rem;margin-left:.3rem;font-size:12px}
</style></head><body>
<h1>{{.Title}}</h1>
<p class="sum"><span>{{.Summary.Features}} features</span><span>{{.Summary.Scenarios}} scenarios</span>
<span class="passed">{{.Summary.Passed}} passed</span><span class="failed">{{.Summary.Failed}} failed</span>
<span class="skipped">{{.Summary.Skipped}} skipped</span><span>{{ms .Summary.Duration}} in steps</span></p>
{{range .Features}}<div class="feature{{if .Failed}} failed{{end}}"><details{{if .Failed}} open{{end}}>
<summary><strong>{{.Name}}</strong> <span class="dur">{{.URI}}</span></summary>
{{range .Scenarios}}<div class="scenario"><details{{if eq .Status "failed"}} open{{end}}>
<summary><span class="{{.Status}}">{{.Status}}</span> {{.Name}}{{range .Tags}}<span class="tag">{{.}}</span>{{end}}<span class="dur">line {{.Line}}, {{ms .Duration}}</span></summary>
<div class="steps">{{range .Steps}}<div class="step"><span class="{{.Status}}">{{.Status}}</span> {{.Text}}<span class="dur">{{ms .Duration}}</span>
{{if .Error}}<pre class="failed">{{.Error}}</pre>{{end}}
{{range .Attachments}}<details><summary>{{.Name}}</summary><pre>{{.Text}}</pre></details>{{end}}</div>
{{end}}</div></details></div>
{{end}}</details></div>
{{end}}</body></html>
`))
