package report

import (
	"bytes"
	"strings"
	"testing"
)

const sample = `[{"uri":"sending/dpf.feature","name":"Sending over DPF","elements":[
 {"name":"ok one","line":7,"tags":[{"name":"@dpf"}],"steps":[{"keyword":"When ","name":"I send","result":{"status":"passed","duration":2000000}}]},
 {"name":"bad one","line":9,"steps":[
   {"keyword":"When ","name":"I send","result":{"status":"passed","duration":1000000}},
   {"keyword":"Then ","name":"it <arrives>","result":{"status":"failed","duration":3000000,"error_message":"statuses are [FEIL]"},
    "embeddings":[{"mime_type":"application/json","name":"dpf journal","data":"eyJyZXF1ZXN0cyI6W119"}]},
   {"keyword":"And ","name":"later","result":{"status":"skipped"}}]}]}]`

func TestWriteHTML(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	s, err := WriteHTML(strings.NewReader(sample), &out, "efm-harness scenarios")
	if err != nil {
		t.Fatal(err)
	}
	if s.Features != 1 || s.Scenarios != 2 || s.Passed != 1 || s.Failed != 1 {
		t.Errorf("summary %+v", s)
	}
	html := out.String()
	for _, want := range []string{"<title>efm-harness scenarios</title>", "statuses are [FEIL]", `{&#34;requests&#34;:[]}`,
		"it &lt;arrives&gt;", `<span class="tag">@dpf</span>`, "dpf journal (application/json)", "6 ms"} {
		if !strings.Contains(html, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if _, err := WriteHTML(strings.NewReader("{"), &out, "x"); err == nil {
		t.Error("bad JSON accepted")
	}
}
