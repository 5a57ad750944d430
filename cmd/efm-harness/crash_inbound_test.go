package main

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/dpf"
	"github.com/efm-harness/efm-harness/simulator/dpo"
	"github.com/efm-harness/efm-harness/simulator/stack"
	"github.com/efm-harness/efm-harness/simulator/stack/stacktest"
)

// TestCrashDuringInboundFetch runs `efm-harness sim` and `efm-harness ip` as separate processes, puts many
// messages for the integration point's organisation at the DPO broker and in SvarInn, kills the
// integration point with SIGKILL while it is fetching them, starts it again on the same data directory
// and drains the in-queue as an archive system does (peek, pop, delete): every message is taken exactly
// once with its container, and the broker ends with every transfer confirmed and SvarInn with every
// forsendelse acknowledged. The kill moment is random (after 1 to 30 DPO downloads); EFM_CRASH_SEED
// reproduces one.
func TestCrashDuringInboundFetch(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs processes")
	}
	const nDPO, nSvarInn = 60, 20
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("EFM_CRASH_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("EFM_CRASH_SEED=%q: %v", s, err)
		}
		seed = n
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	killAfter, jitter := 1+rng.IntN(30), time.Duration(rng.IntN(40))*time.Millisecond
	t.Logf("EFM_CRASH_SEED=%d: kill after %d DPO downloads and %v", seed, killAfter, jitter)

	dir := t.TempDir()
	base := freeBase(t)
	ports := stack.Ports(base)
	start := starter(t, buildHarness(t, dir), base)
	sim := start("sim")
	t.Cleanup(func() { _ = sim.Process.Signal(syscall.SIGTERM); _ = sim.Wait() })
	controlURL := fmt.Sprintf("http://127.0.0.1:%d", ports[stack.Control])
	waitUp(t, controlURL+"/__admin/dpo/health")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pop := fixtures.Default()
	ipOrg, sender := pop.Org(fixtures.RoleSender).Orgnr, pop.Org(fixtures.RoleReceiver).Orgnr
	dpoAdmin, dpfAdmin := admin.ControlClient(controlURL, stack.DPO), admin.ControlClient(controlURL, stack.DPF)
	want := map[string]string{} // messageId → where it was injected
	transfers := map[string]string{}
	for range nDPO {
		var out dpo.InjectResult
		if err := dpoAdmin.Inject(ctx, dpo.InjectRequest{Sender: sender, Receiver: ipOrg, Type: "arkivmelding"}, &out); err != nil {
			t.Fatalf("inject at DPO: %v", err)
		}
		want[out.MessageID], transfers[out.FileTransferID] = "DPO", out.MessageID
	}
	for i := range nSvarInn {
		var out dpf.InjectResult
		in := dpf.Inject{Sender: pop.Org(fixtures.RoleDPF).Orgnr, Receiver: ipOrg, Tittel: fmt.Sprintf("Forsendelse %d", i)}
		if err := dpfAdmin.Inject(ctx, in, &out); err != nil {
			t.Fatalf("inject in SvarInn: %v", err)
		}
		want[out.ID] = "SvarInn"
	}

	data := filepath.Join(dir, "ip-data")
	ip := start("ip", "--data-dir", data)
	for wait := time.Now().Add(20 * time.Second); started(t, ctx, dpoAdmin, ipOrg) < killAfter; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(wait) {
			t.Fatalf("the integration point did not start %d DPO downloads in 20 s", killAfter)
		}
	}
	time.Sleep(jitter)
	if err := ip.Process.Kill(); err != nil { // SIGKILL: no shutdown, no flush
		t.Fatal(err)
	}
	_ = ip.Wait()
	t.Logf("killed with %d of %d DPO transfers downloaded or being downloaded", started(t, ctx, dpoAdmin, ipOrg), nDPO)
	ip = start("ip", "--data-dir", data)
	t.Cleanup(func() { _ = ip.Process.Signal(syscall.SIGTERM); _ = ip.Wait() })
	ipURL := fmt.Sprintf("http://127.0.0.1:%d", ports[stack.IP])
	waitUp(t, ipURL+"/manage/health")

	// Drain until every message was taken, then a little longer: a duplicate would come after.
	client := &http.Client{Timeout: 5 * time.Second}
	taken := map[string]int{}
	deadline, quiet := time.Now().Add(25*time.Second), time.Time{}
	for time.Now().Before(deadline) && (quiet.IsZero() || time.Now().Before(quiet)) {
		m, ok, err := stacktest.TakeIncoming(ctx, client, ipURL)
		if err != nil {
			t.Fatalf("take incoming: %v", err)
		}
		if !ok {
			if quiet.IsZero() && len(taken) >= len(want) {
				quiet = time.Now().Add(1500 * time.Millisecond) // more than a DPO and a SvarInn round
			}
			time.Sleep(20 * time.Millisecond)
			continue
		}
		taken[m.MessageID]++
		if want[m.MessageID] == "" {
			t.Errorf("took message %s (%s), which was never injected", m.MessageID, m.Type)
			continue
		}
		if err := isASiC(m.ASiC); err != nil {
			t.Errorf("message %s from %s: pop: %v", m.MessageID, want[m.MessageID], err)
		}
	}
	for id, from := range want {
		if taken[id] != 1 {
			t.Errorf("message %s injected at %s was taken %d times, want once", id, from, taken[id])
		}
	}

	var list dpo.TransferList
	if err := dpoAdmin.Do(ctx, http.MethodGet, "/messages?recipient="+ipOrg, nil, &list); err != nil {
		t.Fatal(err)
	}
	for _, tr := range list.Transfers {
		if _, ok := transfers[tr.ID]; !ok {
			continue
		}
		delete(transfers, tr.ID)
		for _, rc := range tr.Recipients {
			if rc.Status != dpo.RecipientDownloadConfirmed {
				t.Errorf("DPO transfer %s: recipient %s is %s, want %s", tr.ID, rc.Recipient, rc.Status, dpo.RecipientDownloadConfirmed)
			}
		}
	}
	if len(transfers) > 0 {
		t.Errorf("the broker lost %d injected transfers", len(transfers))
	}
	var inbox struct {
		Forsendelser []dpf.Summary `json:"forsendelser"`
	}
	if err := dpfAdmin.Do(ctx, http.MethodGet, "/messages?kind=svarinn&receiver="+ipOrg, nil, &inbox); err != nil {
		t.Fatal(err)
	}
	acked := 0
	for _, f := range inbox.Forsendelser {
		if want[f.ID] != "SvarInn" {
			continue
		}
		if !f.Acknowledged {
			t.Errorf("SvarInn forsendelse %s is not acknowledged (status %s)", f.ID, f.Status)
		}
		acked++
	}
	if acked != nSvarInn {
		t.Errorf("SvarInn lists %d of the %d injected forsendelser", acked, nSvarInn)
	}
	if !t.Failed() {
		t.Logf("%d DPO and %d SvarInn messages fetched around a SIGKILL, each taken once", nDPO, nSvarInn)
	}
}

// started counts the DPO transfers to org whose download started or was confirmed.
func started(t *testing.T, ctx context.Context, c *admin.Client, org string) int {
	t.Helper()
	var list dpo.TransferList
	if err := c.Do(ctx, http.MethodGet, "/messages?recipient="+org, nil, &list); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, tr := range list.Transfers {
		for _, rc := range tr.Recipients {
			if rc.Status != dpo.RecipientInitialized {
				n++
			}
		}
	}
	return n
}

// isASiC checks that b is a zip whose first entry is the ASiC-E mimetype.
func isASiC(b []byte) error {
	if len(b) == 0 {
		return fmt.Errorf("no container")
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return fmt.Errorf("container is not a zip: %w", err)
	}
	if len(zr.File) == 0 || zr.File[0].Name != "mimetype" {
		return fmt.Errorf("container does not begin with mimetype")
	}
	return nil
}
