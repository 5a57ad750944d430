package stack_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/dpf"
	"github.com/efm-harness/efm-harness/simulator/stack"
)

// The stack's DPF simulator is reachable through the control port, and a forsendelse injected for an
// integration point's organisation is listed by SvarInn for that organisation and downloads.
func TestDPFSvarInnThroughStack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := stack.Start(ctx, stack.Config{Ports: stack.Ports(0), Fast: true, Services: []string{stack.SR, stack.Maskinporten, stack.DPF}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	orgnr := fixtures.Default().Org(fixtures.RoleSender).Orgnr
	var res dpf.InjectResult
	if err := st.Admin(stack.DPF).Inject(ctx, dpf.Inject{Receiver: orgnr, Tittel: "Svar på byggesøknad"}, &res); err != nil {
		t.Fatal(err)
	}

	user := stack.SvarInnUser(orgnr)
	get := func(url string) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		req.SetBasicAuth(user.Username, user.Password)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	wrong, _ := http.NewRequestWithContext(ctx, http.MethodGet, st.URL(stack.DPF)+dpf.SvarInnListPath, nil)
	wrong.SetBasicAuth(user.Username, "wrong")
	if resp, err := http.DefaultClient.Do(wrong); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("SvarInn with a wrong password: %v %v, want 401", resp, err)
	} else {
		resp.Body.Close()
	}
	resp := get(st.URL(stack.DPF) + dpf.SvarInnListPath)
	var list []struct {
		ID          string `json:"id"`
		Tittel      string `json:"tittel"`
		DownloadURL string `json:"downloadUrl"`
	}
	err = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("hentNyeForsendelser: %d %v", resp.StatusCode, err)
	}
	if len(list) != 1 || list[0].ID != res.ID || list[0].Tittel != "Svar på byggesøknad" {
		t.Fatalf("SvarInn lists %+v, want the injected forsendelse %s", list, res.ID)
	}
	if res.DownloadURL != list[0].DownloadURL {
		t.Errorf("inject answered downloadUrl %s, SvarInn lists %s", res.DownloadURL, list[0].DownloadURL)
	}
	dl := get(list[0].DownloadURL)
	defer dl.Body.Close()
	if dl.StatusCode != http.StatusOK {
		t.Fatalf("download %s answered %d", list[0].DownloadURL, dl.StatusCode)
	}
}
