package dpo

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
	dposim "github.com/efm-harness/efm-harness/simulator/dpo"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

func TestSafeName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"brev.pdf", true},
		{"vedlegg/brev.pdf", true},
		{"", false},
		{"../brev.pdf", false},
		{"vedlegg/../../brev.pdf", false},
		{"/tmp/brev.pdf", false},
		{"vedlegg//brev.pdf", false},
		{"./brev.pdf", false},
		{`..\brev.pdf`, false},
		{"C:brev.pdf", false},
		{"brev\x00.pdf", false},
		{"vedlegg/", false},
	} {
		if got := safeName(tc.name); got != tc.want {
			t.Errorf("safeName(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// rawZip is a zip of one entry written with the given sizes and compressed bytes, as a zip bomb declares them.
func rawZip(t *testing.T, name string, declared uint64, compressed []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate, CompressedSize64: uint64(len(compressed)), UncompressedSize64: declared})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(compressed); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestUnpackRefusesZipBombsUnread checks that an entry declaring more than its bound is refused before
// it is inflated: its compressed bytes are garbage, so inflating would give another error.
func TestUnpackRefusesZipBombsUnread(t *testing.T) {
	t.Parallel()
	garbage := bytes.Repeat([]byte{0xff}, 64)
	for _, tc := range []struct {
		name  string
		pkg   []byte
		limit int64
	}{
		{"asic.zip beyond the package bound", rawZip(t, "asic.zip", 2<<30, garbage), 1 << 30},
		{"sbd.json beyond MaxSBDSize", rawZip(t, "sbd.json", MaxSBDSize+1, garbage), 1 << 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := unpack(tc.pkg, tc.limit); !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unpack: %v, want ErrTooLarge", err)
			}
		})
	}
}

// TestPollDiscardsDocumentPackagesWithUnsafeNames sends ASiC-Es that are signed and encrypted as they
// should be but hold a file whose name leaves the package: each is confirmed and discarded, and the
// good message after them is received.
func TestPollDiscardsDocumentPackagesWithUnsafeNames(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a, b := w.channel(orgA), w.ip(orgB)
	ctx := context.Background()
	sender, receiver := w.pki.MustGet(orgA), w.pki.MustGet(orgB)
	var hostile []string
	var hostileIDs []string
	for _, name := range []string{"../../evil.txt", "vedlegg/../../evil.txt"} {
		sbd := fixtures.MustSBD(wire.TypeArkivmelding, fixtures.SBDSpec{Sender: orgA, Receiver: orgB, TTL: time.Hour})
		sealed, err := dokumentpakke.Seal([]dokumentpakke.File{{Name: "brev.pdf", MimeType: "application/pdf", Content: []byte("%PDF")},
			{Name: name, MimeType: "text/plain", Content: []byte("evil")}},
			dokumentpakke.Signer{Key: sender.Key, Certificate: sender.Certificate}, receiver.Certificate, dokumentpakke.RSAOAEP)
		if err != nil {
			t.Fatalf("seal %q: %v", name, err)
		}
		sbdJSON, err := json.Marshal(sbd)
		if err != nil {
			t.Fatal(err)
		}
		hostile = append(hostile, w.upload(a, orgA, orgB, zipOf(t, map[string][]byte{"sbd.json": sbdJSON, "asic.zip": sealed}), nil))
		hostileIDs = append(hostileIDs, sbd.MessageID())
	}
	good, files := arkivmelding(t)
	ok := w.send(a, good, files, orgB)

	n, err := b.poller.Poll(ctx)
	if err != nil || n != 3 {
		t.Fatalf("poll: %d %v", n, err)
	}
	for _, id := range append(hostile, ok) {
		if s := w.recipientStatus(id, orgB); s != dposim.RecipientDownloadConfirmed {
			t.Errorf("transfer %s: %q, want confirmed", id, s)
		}
	}
	page, _, err := b.store.IncomingPage(ctx, store.Filter{}, store.PageRequest{Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range page {
		got = append(got, m.MessageID)
	}
	if diff := cmp.Diff([]string{good.MessageID()}, got); diff != "" {
		t.Errorf("in-queue (-want +got):\n%s", diff)
	}
	for _, id := range hostileIDs {
		if exists, _ := b.store.ConversationExists(ctx, id); exists {
			t.Errorf("the hostile message %s got a conversation", id)
		}
	}
}
