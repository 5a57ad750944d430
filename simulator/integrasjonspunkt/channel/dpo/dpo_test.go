package dpo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/admin"
	dposim "github.com/efm-harness/efm-harness/simulator/dpo"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/sample"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// upstreams starts the real Maskinporten and DPO simulators (newWorld) and a channel for orgA pointed at them.
func upstreams(t *testing.T) (*Channel, *dposim.Server, string) {
	t.Helper()
	w := newWorld(t)
	return w.channel(orgA), w.sim, w.dpoURL
}

// message is an arkivmelding to the receiver with arkivmelding.xml and a PDF.
func message(t *testing.T, files map[string][]byte) channel.Message {
	t.Helper()
	pki := fixtures.MustLoadPKI()
	sbd := fixtures.MustSBD(wire.TypeArkivmelding, fixtures.SBDSpec{TTL: time.Hour})
	var fs []store.File
	n := 0
	for _, name := range []string{"arkivmelding.xml", "brev.pdf"} {
		n++
		mime := "application/pdf"
		if name == "arkivmelding.xml" {
			mime = "text/xml"
		}
		fs = append(fs, store.File{MessageID: sbd.MessageID(), Filename: name, MimeType: mime, Primary: name == "arkivmelding.xml",
			Dokumentnummer: n, Size: int64(len(files[name]))})
	}
	return channel.Message{SBD: sbd, Files: fs,
		Open: func(f store.File) (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(files[f.Filename])), nil
		},
		Record: wire.ServiceRecord{PEMCertificate: pki.MustGet("910075918").CertificatePEM(), Service: wire.Service{Identifier: wire.ServiceDPO}}}
}

func TestSendArrivesDecryptableAtTheBroker(t *testing.T) {
	t.Parallel()
	ch, sim, base := upstreams(t)
	am, _ := sample.BuildArkivmelding(sample.ArkivmeldingSpec{Documents: []sample.Document{{Filename: "brev.pdf"}}})
	files := map[string][]byte{"arkivmelding.xml": am, "brev.pdf": sample.PDF("Hei")}
	m := message(t, files)
	res, err := ch.Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	transfers := sim.Transfers()
	if len(transfers) != 1 || transfers[0].ID != res.ExternalReference || transfers[0].Sender != "0192:910077473" {
		t.Fatalf("transfers at the broker: %+v", transfers)
	}
	var view dposim.MessageView
	if err := admin.NewClient(base+"/__admin", nil).Message(context.Background(), res.ExternalReference, &view); err != nil {
		t.Fatal(err)
	}
	if view.SBDError != "" || view.ASiC == nil || view.ASiC.Error != "" || !view.ASiC.Signed {
		t.Fatalf("decoded view: sbd error %q, asic %+v", view.SBDError, view.ASiC)
	}
	var sbd wire.StandardBusinessDocument
	if err := json.Unmarshal(view.SBD, &sbd); err != nil || sbd.MessageID() != m.SBD.MessageID() {
		t.Errorf("sbd.json: %v %s", err, view.SBD)
	}
	got := map[string]string{}
	for _, f := range view.ASiC.Files {
		got[f.Name] = f.SHA256
	}
	want := map[string]string{"arkivmelding.xml": sum(am), "brev.pdf": sum(files["brev.pdf"])}
	delete(got, "manifest.xml")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decrypted files (-want +got):\n%s", diff)
	}
	if view.ASiC.Files[0].Name != "manifest.xml" || view.ASiC.Files[1].Name != "arkivmelding.xml" {
		t.Errorf("package order: %s, %s; want manifest.xml, then the primary document", view.ASiC.Files[0].Name, view.ASiC.Files[1].Name)
	}
}

func TestBrokerErrorsArePermanentOrTransient(t *testing.T) {
	t.Parallel()
	ch, _, base := upstreams(t)
	ctl := admin.NewClient(base+"/__admin", nil)
	files := map[string][]byte{"arkivmelding.xml": []byte("<a/>"), "brev.pdf": []byte("%PDF")}
	ctx := context.Background()

	if err := ctl.SetFault(ctx, admin.Fault{Mode: admin.ModeStatus, Status: 503, Paths: []string{"/broker/"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Send(ctx, message(t, files)); err == nil {
		t.Fatal("send through a 503 succeeded")
	} else if _, perm := channel.AsPermanent(err); perm {
		t.Errorf("503 was treated as permanent: %v", err)
	}
	if err := ctl.SetFault(ctx, admin.Fault{Mode: admin.ModeStatus, Status: 400, Paths: []string{"/broker/"}}); err != nil {
		t.Fatal(err)
	}
	_, err := ch.Send(ctx, message(t, files))
	if p, perm := channel.AsPermanent(err); !perm || p.RawReceipt == "" {
		t.Errorf("400: %v, want permanent with the raw answer", err)
	}
	if err := ctl.ClearFault(ctx); err != nil {
		t.Fatal(err)
	}
	// A receiver certificate that is not a certificate cannot be fixed by retrying.
	m := message(t, files)
	m.Record.PEMCertificate = "garbage"
	if _, err := ch.Send(ctx, m); !isPermanent(err) {
		t.Errorf("bad receiver certificate: %v", err)
	}
	// Sending for an organisation without a system user is permanent too.
	m = message(t, files)
	m.SBD.Header.Sender[0].Identifier.Value = "0192:910076787"
	if _, err := ch.Send(ctx, m); !isPermanent(err) {
		t.Errorf("foreign sender: %v", err)
	}
}

func isPermanent(err error) bool {
	var p *channel.PermanentError
	return errors.As(err, &p)
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
