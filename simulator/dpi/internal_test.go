package dpi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/efm-harness/efm-harness/simulator/lifecycle"
	"github.com/google/go-cmp/cmp"
)

// TestCheckAdresse: a member is present when its key is, even with an empty string (the schema's required
// lists and oneOf need only the key); lengths and patterns are checked on the values.
func TestCheckAdresse(t *testing.T) {
	t.Parallel()
	const p = "utskrift.mottaker"
	for _, c := range []struct {
		name string
		json string
		want []string // the paths of the violations, in order
	}{
		{"Norwegian", `{"navn":"Ola","adresselinje1":"Storgata 1","postnummer":"0468","poststed":"OSLO"}`, nil},
		{"Norwegian with empty navn", `{"navn":"","adresselinje1":"Storgata 1","postnummer":"0468","poststed":"OSLO"}`, nil},
		{"Norwegian with empty navn, adresselinje1 and poststed", `{"navn":"","adresselinje1":"","postnummer":"0468","poststed":""}`, nil},
		{"Norwegian with empty extra lines", `{"navn":"Ola","adresselinje1":"a","adresselinje2":"","adresselinje3":"","adresselinje4":"","postnummer":"0468","poststed":"OSLO"}`, nil},
		{"foreign", `{"navn":"Kari","adresselinje1":"Main St","adresselinje2":"12345 Stockholm","land":"Sverige"}`, nil},
		{"foreign with empty land", `{"navn":"Kari","adresselinje1":"Main St","land":""}`, nil},
		{"foreign by landkode", `{"navn":"Kari","adresselinje1":"Main St","landkode":"SE"}`, nil},
		{"foreign with postnummer only", `{"navn":"Kari","adresselinje1":"Main St","postnummer":"1234","land":"Sverige"}`, nil},
		{"no navn", `{"adresselinje1":"Storgata 1","postnummer":"0468","poststed":"OSLO"}`, []string{p}},
		{"no adresselinje1", `{"navn":"","postnummer":"0468","poststed":"OSLO"}`, []string{p}},
		{"no poststed nor land", `{"navn":"Ola","adresselinje1":"Storgata 1","postnummer":"0468"}`, []string{p}},
		{"Norwegian with empty land", `{"navn":"Ola","adresselinje1":"Storgata 1","postnummer":"0468","poststed":"OSLO","land":""}`, []string{p}},
		{"land and empty landkode", `{"navn":"Kari","adresselinje1":"Main St","land":"Sverige","landkode":""}`, []string{p + ".landkode", p}},
		{"land and landkode", `{"navn":"Kari","adresselinje1":"Main St","land":"Sverige","landkode":"SE"}`, []string{p}},
		{"empty postnummer", `{"navn":"Ola","adresselinje1":"Storgata 1","postnummer":"","poststed":"OSLO"}`, []string{p + ".postnummer"}},
		{"bad postnummer", `{"navn":"Ola","adresselinje1":"Storgata 1","postnummer":"123","poststed":"OSLO"}`, []string{p + ".postnummer"}},
		{"bad landkode", `{"navn":"Kari","adresselinje1":"Main St","landkode":"SWE"}`, []string{p + ".landkode"}},
		{"long adresselinje2", `{"navn":"Ola","adresselinje1":"a","adresselinje2":"` + strings.Repeat("x", 101) + `","postnummer":"0468","poststed":"OSLO"}`, []string{p + ".adresselinje2"}},
		{"null navn", `{"navn":null,"adresselinje1":"Storgata 1","postnummer":"0468","poststed":"OSLO"}`, []string{p + ".navn"}},
		{"number postnummer", `{"navn":"Ola","adresselinje1":"Storgata 1","postnummer":468,"poststed":"OSLO"}`, []string{p + ".postnummer"}},
		{"unknown member", `{"navn":"Ola","adresselinje1":"Storgata 1","postnummer":"0468","poststed":"OSLO","gate":"x"}`, []string{p + ".gate"}},
		{"member in another case", `{"Navn":"Ola","adresselinje1":"Storgata 1","postnummer":"0468","poststed":"OSLO"}`, []string{p + ".Navn", p}},
		{"empty object", `{}`, []string{p}},
		{"missing", ``, []string{p}},
		{"null", `null`, []string{p}},
		{"not an object", `"Storgata 1"`, []string{p}},
	} {
		var v violations
		checkAdresse(&v, p, json.RawMessage(c.json))
		got := []string(nil)
		for _, x := range v {
			got = append(got, x.Path)
		}
		if d := cmp.Diff(c.want, got); d != "" {
			t.Errorf("%s: violations (-want +got):\n%s\n%s", c.name, d, v)
		}
	}
}

// TestUtskriftAddresses: the raw address objects are found in the payload; absent ones are nil.
func TestUtskriftAddresses(t *testing.T) {
	t.Parallel()
	m, r := utskriftAddresses([]byte(`{"standardBusinessDocument":{"utskrift":{"mottaker":{"navn":""},"retur":{"mottaker":{"land":"x"}}}}}`))
	if string(m) != `{"navn":""}` || string(r) != `{"land":"x"}` {
		t.Errorf("mottaker %s, retur %s", m, r)
	}
	m, r = utskriftAddresses([]byte(`{"standardBusinessDocument":{"utskrift":{"retur":null}}}`))
	if m != nil || r != nil {
		t.Errorf("absent: mottaker %s, retur %s", m, r)
	}
}

// TestDroppedSteps: a life-cycle step beyond the pending-timer bound is dropped, counted and shown as
// droppedSteps by GET /__admin/messages; Reset clears the count.
func TestDroppedSteps(t *testing.T) {
	t.Parallel()
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ran := 0
	s.mu.Lock()
	s.life = lifecycle.New(&s.mu, 2)
	for range 3 {
		s.afterLocked(time.Hour, "SENDT", "m", func() { ran++ })
	}
	s.afterLocked(0, "SENDT", "m", func() { ran++ }) // at once: never dropped
	pending, dropped := s.life.PendingLocked(), s.dropped
	s.mu.Unlock()
	if pending != 2 || dropped != 1 || ran != 1 {
		t.Errorf("pending %d, dropped %d, ran %d", pending, dropped, ran)
	}
	droppedSteps := func() int64 {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/__admin/messages", nil))
		var out struct {
			DroppedSteps *int64 `json:"droppedSteps"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.DroppedSteps == nil {
			t.Fatalf("GET /__admin/messages: %d %s %v", rec.Code, rec.Body, err)
		}
		return *out.DroppedSteps
	}
	if n := droppedSteps(); n != 1 {
		t.Errorf("droppedSteps %d, want 1", n)
	}
	s.reset()
	if n := droppedSteps(); n != 0 {
		t.Errorf("droppedSteps after reset %d, want 0", n)
	}
}

// TestPackageDetaljer: the feil receipt names the problems, at most maxDetaljerProblems of them.
func TestPackageDetaljer(t *testing.T) {
	t.Parallel()
	var v violations
	v.add("manifest.xml", "is not in the dokumentpakke")
	if got, want := packageDetaljer(v), "Ugyldig dokumentpakke: manifest.xml: is not in the dokumentpakke"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	for range maxDetaljerProblems + 2 {
		v.add("x", "y")
	}
	if got := packageDetaljer(v); len(got) > 300 || !strings.HasSuffix(got, "; x: y; … (3 more)") {
		t.Errorf("many: %q", got)
	}
}
