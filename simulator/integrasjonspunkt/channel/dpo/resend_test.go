package dpo

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dposim "github.com/efm-harness/efm-harness/simulator/dpo"
)

// loseAnswer is a transport that makes the request and then reports it lost, as a firewall or a hung
// broker does to the answer, for the first `times` requests that match.
type loseAnswer struct {
	method, suffix string
	times          int32
	lost           atomic.Int32
}

var errLost = errors.New("answer lost on the way")

func (l *loseAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && r.Method == l.method && strings.HasSuffix(r.URL.Path, l.suffix) && l.lost.Add(1) <= l.times {
		resp.Body.Close()
		return nil, errLost
	}
	return resp, err
}

// An attempt whose answer from the broker was lost reached the broker anyway; the next attempt finds
// its transfer by the message's reference instead of making a second one: the broker holds the message
// once.
func TestALaterAttemptCarriesOnWithTheEarlierTransfer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		method, path  string
		wantReference bool // the earlier transfer is the one reported
	}{
		{name: "upload answered, answer lost", method: http.MethodPost, path: "/upload", wantReference: true},
		{name: "initialised, answer lost", method: http.MethodPost, path: "/filetransfer/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			lose := &loseAnswer{method: tt.method, suffix: tt.path, times: 1}
			ch := w.channel(orgA, func(o *Options) { o.HTTP = &http.Client{Timeout: 5 * time.Second, Transport: lose} })
			files := map[string][]byte{"arkivmelding.xml": []byte("<a/>"), "brev.pdf": []byte("%PDF")}
			m := message(t, files)
			ctx := context.Background()
			m.Attempt = 1
			if _, err := ch.Send(ctx, m); !errors.Is(err, errLost) {
				t.Fatalf("first attempt: %v, want the lost answer", err)
			}
			first := w.sim.Transfers()
			if len(first) != 1 {
				t.Fatalf("after the first attempt the broker holds %d transfers, want 1", len(first))
			}
			m.Attempt = 2
			res, err := ch.Send(ctx, m)
			if err != nil {
				t.Fatal(err)
			}
			all := w.sim.Transfers()
			if len(all) != 1 {
				t.Fatalf("after the second attempt the broker holds %d transfers, want the first one only: %+v", len(all), all)
			}
			if all[0].Status != dposim.StatusPublished || res.ExternalReference != all[0].ID {
				t.Errorf("transfer %s is %s, the attempt reported %s", all[0].ID, all[0].Status, res.ExternalReference)
			}
			if tt.wantReference && res.ExternalReference != first[0].ID {
				t.Errorf("reported %s, want the earlier transfer %s", res.ExternalReference, first[0].ID)
			}
		})
	}
}

// The reference of an ordinary message is a UUID (as the real IP's random one, so that receivers take
// the transfer as any other), the same on every attempt and different per message.
func TestTransferReference(t *testing.T) {
	t.Parallel()
	a, b := transferReference("4f9a37c1-0000-4000-8000-000000000001"), transferReference("4f9a37c1-0000-4000-8000-000000000002")
	if len(a) != 36 || a == b || a != transferReference("4f9a37c1-0000-4000-8000-000000000001") {
		t.Errorf("references %q and %q", a, b)
	}
}
