package dpi

import (
	"archive/zip"
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"

	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Multipart part names and the file names and media types the integration point gives them.
const (
	PartForretningsmelding = "forretningsmelding"
	PartDokumentpakke      = "dokumentpakke"
	// maxJWSPart bounds the forretningsmelding part.
	maxJWSPart = 4 << 20
	// maxKanal bounds the kanal parameter.
	maxKanal = 200
	// manifestName is the SDP manifest's entry in the ASiC-E.
	manifestName = "manifest.xml"
)

var reXAdES = regexp.MustCompile(`(?i)^META-INF/signatures.*\.xml$`)

// orgOf is the organisation number of a "0192:<orgnr>" identifier value (the part after the last colon
// for other forms).
func orgOf(value string) string {
	if m := reOrgID.FindStringSubmatch(value); m != nil {
		return m[1]
	}
	if i := strings.LastIndexByte(value, ':'); i >= 0 {
		return value[i+1:]
	}
	return value
}

// headerOrg is the organisation number of the header's first sender or receiver.
func headerOrg(ps []wire.Partner) string {
	if len(ps) == 0 || ps[0].Identifier == nil {
		return ""
	}
	return orgOf(ps[0].Identifier.Value)
}

func avsenderOf(bm *wire.DPIMessage) wire.DPIAvsender {
	switch {
	case bm.Digital != nil:
		return bm.Digital.Avsender
	case bm.Utskrift != nil:
		return bm.Utskrift.Avsender
	}
	return wire.DPIAvsender{}
}

func fingeravtrykkOf(bm *wire.DPIMessage) wire.DPIFingeravtrykk {
	switch {
	case bm.Digital != nil:
		return bm.Digital.Dokumentpakkefingeravtrykk
	case bm.Utskrift != nil:
		return bm.Utskrift.Dokumentpakkefingeravtrykk
	}
	return wire.DPIFingeravtrykk{}
}

func tokenOf(bm *wire.DPIMessage) string {
	switch {
	case bm.Digital != nil:
		return bm.Digital.Maskinportentoken
	case bm.Utskrift != nil:
		return bm.Utskrift.Maskinportentoken
	}
	return ""
}

// keysFor are the private keys that may open a dokumentpakke for receiver: the print provider's first
// for utskrift, the mailbox provider's first for digital.
func (s *Server) keysFor(typ, receiver string) []*rsa.PrivateKey {
	var keys []*rsa.PrivateKey
	pp := s.opts.PrintProvider
	printKey := pp.Key != nil && pp.Orgnr == receiver
	if typ == wire.DPITypeUtskrift && printKey {
		keys = append(keys, pp.Key)
	}
	if k := s.opts.Providers[receiver]; k != nil {
		keys = append(keys, k)
	}
	if typ != wire.DPITypeUtskrift && printKey {
		keys = append(keys, pp.Key)
	}
	return keys
}

// upload is what the multipart body holds.
type upload struct {
	jws   []byte
	cms   []byte
	parts []part
}

// readUpload reads the multipart body: exactly one forretningsmelding and one dokumentpakke part; other
// parts are read past and recorded.
func (s *Server) readUpload(r *http.Request) (*upload, *admin.Response) {
	fail := func(resp admin.Response) (*upload, *admin.Response) { return nil, &resp }
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return fail(problem(http.StatusUnsupportedMediaType, "The request must be multipart/form-data with the parts forretningsmelding and dokumentpakke"))
	}
	body := http.MaxBytesReader(nil, r.Body, s.opts.MaxUploadSize)
	mr := multipart.NewReader(body, params["boundary"])
	u := &upload{}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(tooLargeOr(err, "Bad multipart body: "+err.Error()))
		}
		name := p.FormName()
		var data []byte
		switch name {
		case PartForretningsmelding:
			if u.jws != nil {
				return fail(problem(http.StatusBadRequest, "More than one forretningsmelding part"))
			}
			data, err = io.ReadAll(io.LimitReader(p, maxJWSPart+1))
			if err == nil && len(data) > maxJWSPart {
				return fail(problem(http.StatusRequestEntityTooLarge, fmt.Sprintf("The forretningsmelding part is larger than %d bytes", maxJWSPart)))
			}
			u.jws = data
			if u.jws == nil {
				u.jws = []byte{}
			}
		case PartDokumentpakke:
			if u.cms != nil {
				return fail(problem(http.StatusBadRequest, "More than one dokumentpakke part"))
			}
			data, err = io.ReadAll(p)
			u.cms = data
			if u.cms == nil {
				u.cms = []byte{}
			}
		default:
			var n int64
			n, err = io.Copy(io.Discard, p)
			u.parts = append(u.parts, part{name: name, filename: p.FileName(), contentType: p.Header.Get("Content-Type"), size: int(n)})
			if err != nil {
				return fail(tooLargeOr(err, "Bad multipart body: "+err.Error()))
			}
			continue
		}
		if err != nil {
			return fail(tooLargeOr(err, "Bad multipart body: "+err.Error()))
		}
		u.parts = append(u.parts, part{name: name, filename: p.FileName(), contentType: p.Header.Get("Content-Type"), size: len(data)})
	}
	var missing []string
	if len(u.jws) == 0 {
		missing = append(missing, PartForretningsmelding)
	}
	if len(u.cms) == 0 {
		missing = append(missing, PartDokumentpakke)
	}
	if len(missing) > 0 {
		return fail(problem(http.StatusBadRequest, "Missing or empty part(s): "+strings.Join(missing, ", ")))
	}
	return u, nil
}

func tooLargeOr(err error, msg string) admin.Response {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return problem(http.StatusRequestEntityTooLarge, fmt.Sprintf("The request is larger than %d bytes", mbe.Limit))
	}
	return problem(http.StatusBadRequest, msg)
}

// send is POST {base}/messages/out?kanal=.
func (s *Server) send(r *http.Request, c caller) admin.Response {
	kanal := r.URL.Query().Get("kanal")
	if strings.TrimSpace(kanal) == "" {
		return problem(http.StatusBadRequest, "The query parameter kanal is required")
	}
	if len(kanal) > maxKanal {
		return problem(http.StatusBadRequest, fmt.Sprintf("kanal is longer than %d characters", maxKanal))
	}
	u, fail := s.readUpload(r)
	if fail != nil {
		return *fail
	}
	m, fail := s.unpack(u, c)
	if fail != nil {
		return *fail
	}
	m.kanal = kanal
	m.parts = u.parts

	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.byID[m.id]; old != nil {
		if !strings.EqualFold(old.conversationID, m.conversationID) || old.avsender != m.avsender || old.typ != m.typ {
			return problem(http.StatusConflict, fmt.Sprintf("A message with messageId %s was already received for another conversation or avsender", m.id))
		}
		old.resends++
		return admin.JSON(http.StatusOK, struct{}{})
	}
	now := s.now()
	m.received = now
	m.rules = s.rulesForLocked(m)
	m.addStatus(wire.DPICorner2StatusOpprettet, "", now)
	s.addLocked(m)
	s.startLocked(m)
	return admin.JSON(http.StatusOK, struct{}{})
}

// unpack checks what corner 2 can check (the JWS, the business message, the token, the receiver and the
// dokumentpakke's fingerprint) and opens the dokumentpakke as the provider would. Its answers: 400 for any
// broken rule, 403 when the token's consumer_org is not the avsender. What is wrong inside the
// dokumentpakke does not refuse the message: it is recorded in message.packageProblems.
func (s *Server) unpack(u *upload, c caller) (*message, *admin.Response) {
	fail := func(resp admin.Response) (*message, *admin.Response) { return nil, &resp }
	jws := strings.TrimSpace(string(u.jws))
	info, err := dokumentpakke.ParseJWSUnverified(jws)
	if err != nil {
		return fail(problem(http.StatusBadRequest, "The forretningsmelding is not a compact JWS: "+err.Error()))
	}
	if len(info.Certificates) == 0 {
		return fail(problem(http.StatusBadRequest, "The forretningsmelding JWS has no x5c header with the signer's certificate"))
	}
	payload, signer, err := dokumentpakke.VerifyJWS(jws, dokumentpakke.VerifyOptions{Roots: s.opts.SignerRoots, CurrentTime: s.now()})
	if err != nil {
		return fail(problem(http.StatusBadRequest, "The forretningsmelding JWS does not verify with its x5c certificate: "+err.Error()))
	}
	if now := s.now(); now.Before(signer.NotBefore) || now.After(signer.NotAfter) {
		return fail(problem(http.StatusBadRequest, fmt.Sprintf("The forretningsmelding's x5c certificate is valid only from %s to %s",
			signer.NotBefore.UTC().Format(timeLayout), signer.NotAfter.UTC().Format(timeLayout))))
	}
	hraw, err := rawHeader(payload)
	if err != nil {
		return fail(problem(http.StatusBadRequest, "Bad forretningsmelding: "+err.Error()))
	}
	bm := &wire.DPIMessage{}
	if err := json.Unmarshal(payload, bm); err != nil {
		return fail(problem(http.StatusBadRequest, "Bad forretningsmelding: "+err.Error()))
	}
	typ := bm.Type()
	if typ != wire.DPITypeDigital && typ != wire.DPITypeUtskrift {
		return fail(problem(http.StatusBadRequest, fmt.Sprintf("Corner 2 takes forretningsmeldinger of type digital or utskrift, not %q", typ)))
	}
	av := avsenderOf(bm)
	avOrg := orgOf(av.Virksomhetsidentifikator.Value)
	switch {
	case c.consumerOrg == "":
		return fail(problem(http.StatusForbidden, fmt.Sprintf("The token has no consumer_org; sending needs consumer_org = the avsender's organisation number (%s)", avOrg)))
	case c.consumerOrg != avOrg:
		return fail(problem(http.StatusForbidden, fmt.Sprintf("The token's consumer_org %s is not the avsender %s", c.consumerOrg, av.Virksomhetsidentifikator.Value)))
	}

	var v violations
	checkHeader(hraw, typ, &v)
	if bm.Digital != nil {
		checkDigital(&v, bm.Digital)
	} else {
		mottaker, retur := utskriftAddresses(payload)
		checkUtskrift(&v, bm.Utskrift, mottaker, retur)
	}
	if len(v) > 0 {
		return fail(invalid("The forretningsmelding breaks the innbyggerpost schema", v))
	}

	receiver := headerOrg(bm.Header.Receiver)
	keys := s.keysFor(typ, receiver)
	if len(keys) == 0 {
		return fail(invalid("Unknown receiver", violations{{Path: hp + ".receiver", Message: fmt.Sprintf(
			"no mailbox or print provider with organisation number %s is connected to this corner 2", receiver)}}))
	}
	sum := sha256.Sum256(u.cms)
	digest := base64.StdEncoding.EncodeToString(sum[:])
	if fp := fingeravtrykkOf(bm); fp.DigestValue != digest {
		return fail(invalid("The dokumentpakke does not match its fingerprint", violations{{Path: typ + ".dokumentpakkefingeravtrykk.digestValue",
			Message: fmt.Sprintf("is %q; base64(SHA-256(asic.cms)) is %q", fp.DigestValue, digest)}}))
	}
	m := &message{
		id: strings.ToLower(bm.MessageID()), conversationID: bm.ConversationID(), typ: typ, msg: bm,
		jws: jws, sender: headerOrg(bm.Header.Sender), receiver: receiver, avsender: av.Virksomhetsidentifikator.Value,
		avsenderID: av.Avsenderidentifikator, caller: c, tokenIsBearer: tokenOf(bm) == c.token, signer: signer,
		cmsSize: len(u.cms), cmsDigest: digest,
	}
	if bm.Digital != nil {
		m.postkasse = bm.Digital.Mottaker.Postkasseadresse
	}
	s.openPackage(m, u.cms, keys)
	if len(m.packageProblems) > 0 {
		s.log.Info("dpi: accepted a message whose dokumentpakke the provider cannot use; it will answer with a feil receipt",
			"messageId", m.id, "problems", m.packageProblems.String())
	}
	m.bytes = int64(len(jws))
	for _, d := range m.docs {
		m.bytes += int64(len(d.content))
	}
	m.caller.token = "" // not kept
	return m, nil
}

// xadesPath is where a problem with the dokumentpakke's XAdES signature is reported.
const xadesPath = "META-INF/signatures.xml"

// openPackage opens the dokumentpakke as the provider would and records in m what it holds (the
// signature files, whether the XAdES signature verifies and who made it, the SDP manifest, the
// documents) and what is wrong with it (m.packageProblems): it does not decrypt with the receiver's key,
// is not an ASiC-E, its XAdES signature does not verify, or its SDP manifest is missing, invalid, does not
// match the forretningsmelding or names a file the container does not hold. Corner 2 cannot see any of
// this, so none of it refuses the message.
func (s *Server) openPackage(m *message, cms []byte, keys []*rsa.PrivateKey) {
	var v violations
	defer func() { m.packageProblems = v }()
	var (
		plain []byte
		err   error
	)
	for _, k := range keys {
		if plain, err = dokumentpakke.Decrypt(cms, k); err == nil {
			break
		}
	}
	if err != nil {
		v.add(PartDokumentpakke, "cannot be decrypted: not CMS EnvelopedData for the certificate of %s: %v", m.receiver, err)
		return
	}
	opts := dokumentpakke.ReadOptions{AllowUnsigned: true, MaxSize: 4 * s.opts.MaxUploadSize}
	container, err := dokumentpakke.ReadASiCE(plain, opts)
	if err != nil {
		v.add(PartDokumentpakke, "is not a valid ASiC-E: %v", err)
		return
	}
	if zr, err := zip.NewReader(bytes.NewReader(plain), int64(len(plain))); err == nil {
		for _, f := range zr.File {
			if reXAdES.MatchString(f.Name) {
				m.signatures = append(m.signatures, f.Name)
			}
		}
	}
	opts.AllowUnsigned, opts.Roots = false, s.opts.SignerRoots
	switch signed, err := dokumentpakke.ReadXAdES(plain, opts); {
	case errors.Is(err, dokumentpakke.ErrUnsigned) && len(m.signatures) == 0:
		v.add(xadesPath, "is missing: a DPI dokumentpakke carries a XAdES signature (%v)", err)
	case err != nil:
		v.add(xadesPath, "the XAdES signature does not verify: %v", err)
	default:
		m.xadesSigner = signed.SignerCertificate
	}
	files := map[string]bool{}
	for _, f := range container.Files {
		files[f.Name] = true
	}
	defer func() { m.docs = documents(container, m.manifest) }()
	mf := container.File(manifestName)
	if mf == nil {
		v.add(manifestName, "the SDP manifest is not in the dokumentpakke")
		return
	}
	manifest, err := wire.ParseSDPManifest(mf.Content)
	if err != nil {
		v.add(manifestName, "the SDP manifest cannot be read: %v", err)
		return
	}
	m.manifest = manifest
	checkManifest(&v, manifest, m.msg, files)
}

// documents are the container's files with their role in the manifest (m, which may be nil), in
// container order.
func documents(c *dokumentpakke.Container, m *wire.SDPManifest) []document {
	type info struct{ role, mime, tittel, lang string }
	roles := map[string]info{manifestName: {role: RoleManifest, mime: "application/xml"}}
	add := func(role string, d wire.SDPDokument) {
		roles[d.Href] = info{role: role, mime: d.Mime, tittel: strings.TrimSpace(d.Tittel.Value), lang: d.Tittel.Lang}
		if d.Data != nil {
			roles[d.Data.Href] = info{role: RoleMetadata, mime: d.Data.Mime}
		}
	}
	if m != nil {
		add(RoleHoveddokument, m.Hoveddokument)
		for _, v := range m.Vedlegg {
			add(RoleVedlegg, v)
		}
	}
	out := make([]document, 0, len(c.Files))
	for _, f := range c.Files {
		in, ok := roles[f.Name]
		if !ok {
			in = info{role: RoleUnlisted, mime: f.MimeType}
		}
		if in.mime == "" {
			in.mime = f.MimeType
		}
		out = append(out, document{name: f.Name, mime: in.mime, role: in.role, tittel: in.tittel, lang: in.lang, content: f.Content})
	}
	return out
}
