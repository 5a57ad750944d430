package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"sort"
	"strings"
	"time"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/sample"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Flow names.
const (
	FlowDPOSmall   = "dpo-small"
	FlowDPOLarge   = "dpo-large"
	FlowDPV        = "dpv"
	FlowDPF        = "dpf"
	FlowDPIDigital = "dpi-digital"
	FlowPrint      = "print"
	FlowReceive    = "receive"
	// FlowGet is one GET of FlowConfig.URL: a single-endpoint run (the address register, a bare handler)
	// to compare with wrk or hey.
	FlowGet = "get"
)

// FlowNames lists every flow, in the order the help shows them.
func FlowNames() []string {
	return []string{FlowDPOSmall, FlowDPOLarge, FlowDPV, FlowDPF, FlowDPIDigital, FlowPrint, FlowReceive, FlowGet}
}

// FlowConfig is what the flows need to know about the target.
type FlowConfig struct {
	// IP is the sending integration point; IP2 the receiving one (the receive flow's). With IP2, DPO flows
	// send to its organisation; without, to one that no integration point serves.
	IP, IP2 *Client
	// Population names the receivers (fixtures.Default() when nil).
	Population *fixtures.Population
	// LargeSize is the size in bytes of dpo-large's attachment (default 5 MiB).
	LargeSize int
	// DPOLevert says that DPO messages get LEVERT (a receiving integration point downloads them).
	DPOLevert bool
	// URL is what the get flow fetches; HTTP does it (the IP client's when nil).
	URL  string
	HTTP *http.Client
}

// ErrUnknownFlow is wrapped when a flow name is not one of FlowNames.
var ErrUnknownFlow = errors.New("unknown flow")

// NewFlow builds the named flow.
func NewFlow(name string, cfg FlowConfig) (Flow, error) {
	if cfg.Population == nil {
		cfg.Population = fixtures.Default()
	}
	if cfg.LargeSize <= 0 {
		cfg.LargeSize = 5 << 20
	}
	pop := cfg.Population
	// DPO goes to the receiving integration point's organisation when there is one, else to an
	// organisation no integration point of the stack serves (its messages stay at the broker, and no
	// receipts come back to disturb anything else).
	dpoReceiver := pop.Org(fixtures.RolePartialDPO).Orgnr
	if cfg.IP2 != nil {
		dpoReceiver = pop.Org(fixtures.RoleReceiver).Orgnr
	}
	am, err := sample.BuildArkivmelding(sample.ArkivmeldingSpec{Documents: []sample.Document{{Filename: "brev.pdf", Primary: true}}})
	if err != nil {
		return nil, fmt.Errorf("build arkivmelding: %w", err)
	}
	pdf := sample.PDF("Vedtak i sak 2026/1234: søknaden er innvilget.")
	arkiv := []file{{title: "Arkivmelding", name: "arkivmelding.xml", ctype: "text/xml", body: am}, {title: "Brev", name: "brev.pdf", ctype: "application/pdf", body: pdf}}
	letter := []file{{title: "Brev", name: "brev.pdf", ctype: "application/pdf", body: pdf}}
	switch name {
	case FlowDPOSmall:
		return &sendFlow{name: name, ip: cfg.IP, mt: wire.TypeArkivmelding, receiver: dpoReceiver,
			files: arkiv, multipart: true, expect: Expect{Levert: cfg.DPOLevert}}, nil
	case FlowDPOLarge:
		big := file{title: "Vedlegg", name: "vedlegg.pdf", ctype: "application/pdf", body: largePDF(cfg.LargeSize)}
		amLarge, err := sample.BuildArkivmelding(sample.ArkivmeldingSpec{Documents: []sample.Document{{Filename: "brev.pdf", Primary: true}, {Filename: "vedlegg.pdf"}}})
		if err != nil {
			return nil, fmt.Errorf("build arkivmelding: %w", err)
		}
		files := []file{{title: "Arkivmelding", name: "arkivmelding.xml", ctype: "text/xml", body: amLarge}, arkiv[1], big}
		return &sendFlow{name: name, ip: cfg.IP, mt: wire.TypeArkivmelding, receiver: dpoReceiver,
			files: files, expect: Expect{Levert: cfg.DPOLevert}}, nil
	case FlowDPV:
		return &sendFlow{name: name, ip: cfg.IP, mt: wire.TypeArkivmelding, receiver: pop.Org(fixtures.RoleDPV).Orgnr,
			files: arkiv, expect: Expect{Levert: true}}, nil
	case FlowDPF:
		return &sendFlow{name: name, ip: cfg.IP, mt: wire.TypeArkivmelding, receiver: pop.Org(fixtures.RoleDPF).Orgnr,
			files: arkiv, expect: Expect{Levert: true}}, nil
	case FlowDPIDigital:
		return &sendFlow{name: name, ip: cfg.IP, mt: wire.TypeDigital, receiver: pop.Citizen(fixtures.RoleDigital).Fnr,
			files: letter, expect: Expect{Levert: true}}, nil
	case FlowPrint:
		return &sendFlow{name: name, ip: cfg.IP, mt: wire.TypePrint, receiver: pop.Citizen(fixtures.RoleReserved).Fnr,
			files: letter, expect: Expect{Levert: true}}, nil
	case FlowGet:
		if cfg.URL == "" {
			return nil, fmt.Errorf("flow %s needs a URL (--url)", name)
		}
		hc := cfg.HTTP
		if hc == nil && cfg.IP != nil {
			hc = cfg.IP.HTTP
		}
		if hc == nil {
			hc = NewHTTPClient(1000, 30*time.Second)
		}
		return &getFlow{c: &Client{BaseURL: cfg.URL, HTTP: hc}}, nil
	case FlowReceive:
		if cfg.IP2 == nil {
			return nil, fmt.Errorf("flow %s needs the receiving integration point (--ip2-url)", name)
		}
		return &receiveFlow{ip: cfg.IP2}, nil
	}
	return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownFlow, name, strings.Join(FlowNames(), ", "))
}

// ParseMix reads "dpo-small=3,dpf=1" (weights default to 1) into flow names and weights.
func ParseMix(s string) (map[string]int, error) {
	out := map[string]int{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, w, ok := strings.Cut(part, "=")
		weight := 1
		if ok {
			if _, err := fmt.Sscan(w, &weight); err != nil || weight <= 0 {
				return nil, fmt.Errorf("%w: weight %q of %s is not a positive whole number", ErrUnknownFlow, w, name)
			}
		}
		if !knownFlow(name) {
			return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownFlow, name, strings.Join(FlowNames(), ", "))
		}
		out[name] += weight
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no flow named", ErrUnknownFlow)
	}
	return out, nil
}

// SortedNames returns a mix's names in FlowNames order.
func SortedNames(mix map[string]int) []string {
	names := make([]string, 0, len(mix))
	for n := range mix {
		names = append(names, n)
	}
	order := map[string]int{}
	for i, n := range FlowNames() {
		order[n] = i
	}
	sort.Slice(names, func(i, j int) bool { return order[names[i]] < order[names[j]] })
	return names
}

func knownFlow(name string) bool {
	for _, n := range FlowNames() {
		if n == name {
			return true
		}
	}
	return false
}

type file struct {
	title, name, ctype string
	body               []byte
}

// largePDF is a PDF of about size bytes: a one-page document followed by a comment block, which PDF
// readers skip, so that the attachment is a valid PDF of the size asked for.
func largePDF(size int) []byte {
	b := bytes.NewBuffer(sample.PDF("Vedlegg"))
	line := []byte("% efm-harness load padding: lorem ipsum dolor sit amet, consectetur adipiscing elit\n")
	for b.Len() < size {
		b.Write(line)
	}
	return b.Bytes()[:max(size, len(sample.PDF("Vedlegg")))]
}

// sendFlow sends one message through the integration point, in three steps (create, upload each file,
// send) or in one multipart request.
type sendFlow struct {
	name      string
	ip        *Client
	mt        wire.MessageType
	receiver  string
	files     []file
	multipart bool
	expect    Expect
}

func (f *sendFlow) Name() string { return f.name }

func (f *sendFlow) Run(ctx context.Context, it *Iteration) error {
	sbd, err := fixtures.NewSBD(f.mt, fixtures.SBDSpec{Receiver: f.receiver, Hoveddokument: f.files[0].name})
	if err != nil {
		return err
	}
	id := sbd.MessageID()
	body, err := json.Marshal(sbd)
	if err != nil {
		return err
	}
	expect := f.expect
	expect.Flow = f.name
	if f.multipart {
		mp, ctype, err := multipartBody(body, f.files)
		if err != nil {
			return err
		}
		it.Sending(id, expect)
		err = it.Step("multipart", func() error {
			_, _, err := f.ip.Do(ctx, http.MethodPost, "/api/messages/out/multipart", http.Header{"Content-Type": {ctype}}, mp)
			return err
		})
		if err != nil {
			it.NotSent(id)
		}
		return err
	}
	if err := it.Step("create", func() error {
		_, _, err := f.ip.Do(ctx, http.MethodPost, "/api/messages/out", http.Header{"Content-Type": {"application/json"}}, body)
		return err
	}); err != nil {
		return err
	}
	for _, fl := range f.files {
		h := http.Header{"Content-Type": {fl.ctype},
			"Content-Disposition": {fmt.Sprintf(`attachment; name=%q; filename=%q`, fl.title, fl.name)}}
		if err := it.Step("upload", func() error {
			_, _, err := f.ip.Do(ctx, http.MethodPut, "/api/messages/out/"+id, h, fl.body)
			return err
		}); err != nil {
			return err
		}
	}
	it.Sending(id, expect)
	err = it.Step("send", func() error {
		_, _, err := f.ip.Do(ctx, http.MethodPost, "/api/messages/out/"+id, nil, nil)
		return err
	})
	if err != nil {
		it.NotSent(id)
	}
	return err
}

// multipartBody is the form of POST /api/messages/out/multipart: the SBD as the field "sbd", then one
// part per file named by its title (ip-api §4.9).
func multipartBody(sbd []byte, files []file) ([]byte, string, error) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="sbd"`)
	h.Set("Content-Type", "application/json")
	p, err := w.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	if _, err := p.Write(sbd); err != nil {
		return nil, "", err
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, f.title, f.name))
		h.Set("Content-Type", f.ctype)
		p, err := w.CreatePart(h)
		if err != nil {
			return nil, "", err
		}
		if _, err := p.Write(f.body); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return b.Bytes(), w.FormDataContentType(), nil
}

// receiveFlow is an archive system reading its incoming queue: peek (which locks the oldest message),
// pop (download its ASiC-E) and delete. An empty queue (204) is a successful, empty iteration.
type receiveFlow struct{ ip *Client }

func (f *receiveFlow) Name() string { return FlowReceive }

func (f *receiveFlow) Run(ctx context.Context, it *Iteration) error {
	var status int
	var raw []byte
	if err := it.Step("peek", func() error {
		var err error
		status, raw, err = f.ip.Do(ctx, http.MethodGet, "/api/messages/in/peek", nil, nil)
		return err
	}); err != nil {
		return err
	}
	if status == http.StatusNoContent {
		return nil
	}
	var sbd wire.StandardBusinessDocument
	if err := json.Unmarshal(raw, &sbd); err != nil {
		return fmt.Errorf("peek: not an SBD: %w", err)
	}
	id := sbd.MessageID()
	if err := it.Step("pop", func() error {
		_, _, err := f.ip.Do(ctx, http.MethodGet, "/api/messages/in/pop/"+id, nil, nil)
		return err
	}); err != nil {
		return err
	}
	if err := it.Step("delete", func() error {
		_, _, err := f.ip.Do(ctx, http.MethodDelete, "/api/messages/in/"+id, nil, nil)
		return err
	}); err != nil {
		return err
	}
	it.Received(id)
	return nil
}

// getFlow fetches one URL: a step named "get".
type getFlow struct{ c *Client }

func (f *getFlow) Name() string { return FlowGet }

func (f *getFlow) Run(ctx context.Context, it *Iteration) error {
	return it.Step("get", func() error {
		_, _, err := f.c.Do(ctx, http.MethodGet, "", nil, nil)
		return err
	})
}
