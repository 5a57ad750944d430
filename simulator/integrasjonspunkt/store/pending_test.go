package store

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestPendingDownloadsSurviveReopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, dir := newClock(), t.TempDir()
	s, err := Open(ctx, Options{Dir: dir, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"t1", "t2", "t1", "t3"} { // t1 twice: a no-op
		if err := s.AddPendingDownload(ctx, "DPO", "910077473", id); err != nil {
			t.Fatal(err)
		}
		c.add(1)
	}
	if err := s.AddPendingDownload(ctx, "DPO", "910075918", "other-org"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemovePendingDownload(ctx, "DPO", "910077473", "t2"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemovePendingDownload(ctx, "DPO", "910077473", "unknown"); err != nil {
		t.Errorf("removing an unknown pending download: %v, want no error", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir, c)
	tests := []struct {
		channel, org string
		want         []string
	}{
		{"DPO", "910077473", []string{"t1", "t3"}},
		{"DPO", "910075918", []string{"other-org"}},
		{"DPF", "910077473", nil},
	}
	for _, tt := range tests {
		got, err := s.PendingDownloads(ctx, tt.channel, tt.org)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("pending downloads of %s for %s after reopening (-want +got):\n%s", tt.channel, tt.org, diff)
		}
	}
}

// TestOpenSweepsUnnamedContainers: a container file written by a process that died before the
// transaction naming it committed (or while writing it) is removed at the next Open; a stored message
// keeps its container.
func TestOpenSweepsUnnamedContainers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, dir := newClock(), t.TempDir()
	s, err := Open(ctx, Options{Dir: dir, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	receive(t, s, c, "kept", "p", []byte("the container"), nil)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "incoming")
	for _, name := range []string{"orphan.asic", "half-written.asic" + tmpSuffix} {
		if err := os.WriteFile(filepath.Join(in, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s = open(t, dir, c)
	entries, err := os.ReadDir(in)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 1 || slices.Contains(names, "orphan.asic") {
		t.Errorf("files after reopening: %v, want only the kept message's container", names)
	}
	m, err := s.IncomingMessage(ctx, "kept")
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.OpenASiC(m)
	if err != nil {
		t.Fatalf("the kept message lost its container: %v", err)
	}
	defer r.Close()
	if b, _ := io.ReadAll(r); string(b) != "the container" {
		t.Errorf("container is %q, want %q", b, "the container")
	}
}

// TestStoreIncomingDuplicateWritesNoContainer: a message received again (downloaded again after a crash)
// is ErrDuplicate and leaves no second container behind.
func TestStoreIncomingDuplicateWritesNoContainer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, dir := newClock(), t.TempDir()
	s := open(t, dir, c)
	receive(t, s, c, "m1", "p", []byte("first"), nil)
	m := InMessage{MessageID: "m1", ConversationID: "conv-m1", SBD: []byte(`{}`)}
	_, err := s.StoreIncoming(ctx, m, []byte("second"), Conversation{ConversationID: "conv-m1"}, nil, nil)
	if !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second store: %v, want ErrDuplicate", err)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "incoming"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("%d container files after a duplicate, want 1", len(entries))
	}
}
