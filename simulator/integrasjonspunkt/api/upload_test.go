package api

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

func TestParseContentDisposition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		header  string
		want    contentDisposition
		wantErr string
	}{
		{name: "quoted", header: `attachment; name="Before The Law"; filename="before_the_law.txt"`,
			want: contentDisposition{Type: "attachment", Name: "Before The Law", HasName: true, Filename: "before_the_law.txt", HasFilename: true}},
		{name: "unquoted", header: `attachment; name=Arkivmelding; filename=arkivmelding.xml`,
			want: contentDisposition{Type: "attachment", Name: "Arkivmelding", HasName: true, Filename: "arkivmelding.xml", HasFilename: true}},
		{name: "semicolon in quotes", header: `attachment; filename="a;b.pdf"; name="x; y"`,
			want: contentDisposition{Type: "attachment", Name: "x; y", HasName: true, Filename: "a;b.pdf", HasFilename: true}},
		{name: "filename* utf-8 wins", header: `attachment; filename*=UTF-8''bl%C3%A5b%C3%A6r.pdf; filename="blabaer.pdf"`,
			want: contentDisposition{Type: "attachment", Filename: "blåbær.pdf", HasFilename: true}},
		{name: "filename* iso-8859-1", header: `attachment; filename*=ISO-8859-1'no'%E6%F8%E5.txt`,
			want: contentDisposition{Type: "attachment", Filename: "æøå.txt", HasFilename: true}},
		{name: "name* overrides name", header: `attachment; name="plain"; name*=utf-8''Sm%C3%B8r; filename=a.txt`,
			want: contentDisposition{Type: "attachment", Name: "Smør", HasName: true, Filename: "a.txt", HasFilename: true}},
		{name: "raw iso-8859-1 bytes", header: "attachment; filename=\"s\xf8knad.pdf\"",
			want: contentDisposition{Type: "attachment", Filename: "søknad.pdf", HasFilename: true}},
		{name: "raw utf-8 bytes", header: `attachment; filename="søknad.pdf"`,
			want: contentDisposition{Type: "attachment", Filename: "søknad.pdf", HasFilename: true}},
		{name: "escaped quote", header: `attachment; filename="say \"hi\".txt"`,
			want: contentDisposition{Type: "attachment", Filename: `say "hi".txt`, HasFilename: true}},
		{name: "first filename wins", header: `attachment; filename=a.txt; filename=b.txt`,
			want: contentDisposition{Type: "attachment", Filename: "a.txt", HasFilename: true}},
		{name: "empty name", header: `attachment; name=""; filename=a.txt`,
			want: contentDisposition{Type: "attachment", HasName: true, Filename: "a.txt", HasFilename: true}},
		{name: "no filename", header: `attachment; name="x"`,
			want: contentDisposition{Type: "attachment", Name: "x", HasName: true}},
		{name: "trailing semicolon", header: `inline; filename=a.txt;`,
			want: contentDisposition{Type: "inline", Filename: "a.txt", HasFilename: true}},
		{name: "empty", header: ``, wantErr: "must not be empty"},
		{name: "parameter without value", header: `attachment; filename`, wantErr: "Invalid content disposition format"},
		{name: "bad charset", header: `attachment; filename*=US-ASCII''a.txt`, wantErr: "Charset should be UTF-8 or ISO-8859-1"},
		{name: "no charset", header: `attachment; filename*=a.txt`, wantErr: "no charset"},
		{name: "bad escape", header: `attachment; filename*=UTF-8''%G1.txt`, wantErr: "bad percent escape"},
		{name: "truncated escape", header: `attachment; filename*=UTF-8''a%4`, wantErr: "truncated"},
		{name: "not an attr-char", header: `attachment; filename*=UTF-8''a b.txt`, wantErr: "RFC 5987"},
		{name: "size not a number", header: `attachment; filename=a; size=big`, wantErr: "size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseContentDisposition(tt.header)
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, errDisposition) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestMimeType(t *testing.T) {
	t.Parallel()
	tests := []struct{ contentType, filename, want string }{
		{"", "a.xml", "text/xml"},
		{"application/octet-stream", "A.PDF", "application/pdf"},
		{"", "a.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
		{"", "a.zip", "application/octet-stream"},
		{"", "a.unknown", "application/pdf"},
		{"", "noextension", "application/pdf"},
		{"", "trailing.", "application/pdf"},
		{"", "x.tar.png", "image/png"},
		{"text/plain; charset=utf-8", "a.pdf", "text/plain; charset=utf-8"},
		{" application/json ", "a.xml", "application/json"},
	}
	for _, tt := range tests {
		if got := mimeType(tt.contentType, tt.filename); got != tt.want {
			t.Errorf("mimeType(%q, %q) = %q, want %q", tt.contentType, tt.filename, got, tt.want)
		}
	}
}

func TestGroupDigits(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 5242880: "5,242,880", -1234567: "-1,234,567"} {
		if got := groupDigits(n); got != want {
			t.Errorf("groupDigits(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestUploadValidation is the upload catalogue (spec ip-api §4.5, §4.7 upload rules).
func TestUploadValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, enable(wire.ServiceDPV, wire.ServiceDPI), func(o *Options) {
		o.UploadLimits = map[wire.ServiceIdentifier]int64{wire.ServiceDPO: 100, wire.ServiceDPV: 2 * mib}
	})
	dpo := e.mustCreate(sbdFor(t, wire.TypeArkivmelding, dpoOrg)).MessageID()
	e.mustUpload(dpo, "text/plain", `attachment; filename=first.txt`, []byte("0123456789"))
	dpv := e.mustCreate(sbdFor(t, wire.TypeArkivmelding, dpvOrg)).MessageID()
	e.mustUpload(dpv, "text/plain", `attachment; name=Stor; filename=big.bin`, bytes.Repeat([]byte("x"), mib+mib/2))
	digital := sbdFor(t, wire.TypeDigital, citizen)
	digital.Message.(*wire.Digital).MetadataFiler = map[string]string{"brev.pdf": "meta.xml"}
	dpi := e.mustCreate(digital).MessageID()
	print := sbdFor(t, wire.TypePrint, reservedFnr)
	print.Header.Receiver = nil
	dpiPrint := e.mustCreate(print).MessageID()

	tests := []struct {
		name, messageID, contentType, disposition, query string
		body                                             []byte
		status                                           int
		exception, message                               string
	}{
		{name: "no content type", messageID: dpo, disposition: `attachment; filename=a.txt`, status: 400,
			exception: exMissingHeader, message: "Required request header 'Content-Type' for method parameter type String is not present"},
		{name: "no content disposition", messageID: dpo, contentType: "text/plain", status: 400,
			exception: exMissingHeader, message: "Required request header 'Content-Disposition' for method parameter type String is not present"},
		{name: "unknown message", messageID: "4b6b4ff4-7a3a-4a2c-9b3b-64c2e7a3e4f0", contentType: "text/plain",
			disposition: `attachment; filename=a.txt`, status: 404, exception: exMessageNotFound,
			message: "Message with messageId = 4b6b4ff4-7a3a-4a2c-9b3b-64c2e7a3e4f0 was not found"},
		{name: "parameter without value (real 500)", messageID: dpo, contentType: "text/plain", disposition: `attachment; filename`,
			status: 400, exception: exIllegalArgument, message: "Invalid content disposition format"},
		{name: "no filename (real 500)", messageID: dpo, contentType: "text/plain", disposition: `attachment; name="x"`,
			status: 400, exception: exIllegalArgument, message: "Content-Disposition has no filename"},
		{name: "empty filename", messageID: dpo, contentType: "text/plain", disposition: `attachment; filename=""`,
			status: 400, exception: exIllegalArgument, message: "no filename"},
		{name: "duplicate filename", messageID: dpo, contentType: "text/plain", disposition: `attachment; filename=first.txt`,
			body: []byte("x"), status: 400, exception: exDuplicateFilename, message: "Filename already exists in message: first.txt."},
		{name: "over the limit in bytes", messageID: dpo, contentType: "text/plain", disposition: `attachment; filename=b.txt`,
			body: bytes.Repeat([]byte("y"), 91), status: 400, exception: exMaxFileSizeExceeded,
			message: "The combined file size for all attachments (101b) exceeds the maximum allowed upload size for the target service (DPO, 100b)"},
		{name: "over the limit in MB", messageID: dpv, contentType: "text/plain", disposition: `attachment; name=T; filename=c.bin`,
			body: bytes.Repeat([]byte("z"), mib), status: 400, exception: exMaxFileSizeExceeded,
			message: "The combined file size for all attachments (2MB) exceeds the maximum allowed upload size for the target service (DPV, 2MB)"},
		{name: "DPV needs a title", messageID: dpv, contentType: "text/plain", disposition: `attachment; filename=d.txt`,
			body: []byte("x"), status: 400, exception: exMissingFileTitle, message: "Title is required for the following capabilities: DPV"},
		{name: "DPV blank title from query", messageID: dpv, contentType: "text/plain", disposition: `attachment; name=T; filename=e.txt`,
			query: "?title=%20", body: []byte("x"), status: 400, exception: exMissingFileTitle, message: "DPV"},
		{name: "DPV title from query", messageID: dpv, contentType: "text/plain", disposition: `attachment; filename=f.txt`,
			query: "?title=Vedlegg", body: []byte("x"), status: 200},
		{name: "DPI digital untitled attachment", messageID: dpi, contentType: "application/pdf", disposition: `attachment; filename=vedlegg.pdf`,
			body: []byte("x"), status: 400, exception: exMissingFileTitle, message: "Title is required for the following capabilities: DPI"},
		{name: "DPI digital untitled metadata file", messageID: dpi, contentType: "text/xml", disposition: `attachment; filename=meta.xml`,
			body: []byte("<x/>"), status: 200},
		{name: "DPI digital untitled primary", messageID: dpi, contentType: "application/pdf", disposition: `attachment; filename=brev.pdf`,
			body: []byte("x"), status: 200},
		{name: "DPI digital titled attachment", messageID: dpi, contentType: "application/pdf", disposition: `attachment; name=V; filename=v2.pdf`,
			body: []byte("x"), status: 200},
		{name: "DPI print untitled attachment", messageID: dpiPrint, contentType: "application/pdf", disposition: `attachment; filename=v.pdf`,
			body: []byte("x"), status: 400, exception: exMissingFileTitle, message: "DPI"},
		{name: "DPI print untitled primary", messageID: dpiPrint, contentType: "application/pdf", disposition: `attachment; filename=brev.pdf`,
			body: []byte("x"), status: 200},
		{name: "arkivmelding.xml not XML (real 500)", messageID: dpv, contentType: "application/xml",
			disposition: `attachment; name=A; filename=arkivmelding.xml`, body: []byte("<arkivmelding>"), status: 400,
			exception: exNextMoveRuntime, message: "Failed to get Arkivmelding"},
		{name: "arkivmelding.xml without saksmappe (real 500)", messageID: dpv, contentType: "application/xml",
			disposition: `attachment; name=A; filename=arkivmelding.xml`,
			body:        []byte(`<arkivmelding xmlns="http://www.arkivverket.no/standarder/noark5/arkivmelding"><mappe><systemID>1</systemID></mappe></arkivmelding>`),
			status:      400, exception: exArkivmeldingRuntime, message: `No "Saksmappe" found in Arkivmelding`},
		{name: "arkivmelding.xml without journalpost (real 500)", messageID: dpv, contentType: "application/xml",
			disposition: `attachment; name=A; filename=arkivmelding.xml`,
			body:        []byte(`<arkivmelding xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><mappe xsi:type="saksmappe"><systemID>1</systemID></mappe></arkivmelding>`),
			status:      400, exception: exArkivmeldingRuntime, message: `No "Journalpost" found in Arkivmelding`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{}
			if tt.contentType != "" {
				h["Content-Type"] = tt.contentType
			}
			if tt.disposition != "" {
				h["Content-Disposition"] = tt.disposition
			}
			r := e.do(http.MethodPut, "/api/messages/out/"+tt.messageID+tt.query, h, bytes.NewReader(tt.body))
			if tt.status == http.StatusOK {
				if r.status != http.StatusOK || len(r.body) != 0 {
					t.Fatalf("status %d: %s", r.status, r.body)
				}
				return
			}
			expectError(t, r, tt.status, tt.exception, tt.message)
		})
	}
	// Refused uploads left nothing behind.
	m, err := e.store.Outgoing(context.Background(), dpv)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range m.Files {
		names = append(names, f.Filename+"|"+f.Title)
	}
	if diff := cmp.Diff([]string{"big.bin|Stor", "f.txt|Vedlegg"}, names); diff != "" {
		t.Errorf("DPV files (-want +got):\n%s", diff)
	}
}

// TestChunkedUploadLimit limits an upload without Content-Length while reading it.
func TestChunkedUploadLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.UploadLimits = map[wire.ServiceIdentifier]int64{wire.ServiceDPO: 100} })
	id := e.mustCreate(sbdFor(t, wire.TypeArkivmelding, dpoOrg)).MessageID()
	// A reader that is not a *bytes.Reader makes the client send the body chunked.
	body := struct{ *bytes.Reader }{bytes.NewReader(bytes.Repeat([]byte("x"), 500))}
	req, _ := http.NewRequest(http.MethodPut, e.srv.URL+"/api/messages/out/"+id, body)
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Content-Disposition", "attachment; filename=big.txt")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if m, _ := e.store.Outgoing(context.Background(), id); len(m.Files) != 0 {
		t.Errorf("files = %+v", m.Files)
	}
}

// TestArkivmeldingMetaWithoutJournalpostnummer leaves messageReference alone when there is no
// journalpostnummer.
func TestArkivmeldingMetaWithoutJournalpostnummer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sbd := e.mustCreate(sbdFor(t, wire.TypeArkivmelding, dpoOrg))
	am := `<?xml version="1.0"?><arkivmelding xmlns="http://www.arkivverket.no/standarder/noark5/arkivmelding" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
	  <mappe xsi:type="saksmappe"><systemID>sak-1</systemID>
	    <basisregistrering xsi:type="journalpost"><systemID>jp</systemID><offentligTittel>Offentlig</offentligTittel></basisregistrering>
	  </mappe></arkivmelding>`
	e.mustUpload(sbd.MessageID(), "application/octet-stream", `attachment; filename=arkivmelding.xml`, []byte(am))
	c, err := e.store.ConversationByMessageID(context.Background(), sbd.MessageID(), store.Outgoing)
	if err != nil {
		t.Fatal(err)
	}
	if c.MessageTitle != "Offentlig" || c.MessageReference != sbd.ConversationID() {
		t.Errorf("title %q reference %q", c.MessageTitle, c.MessageReference)
	}
	m, _ := e.store.Outgoing(context.Background(), sbd.MessageID())
	if m.Files[0].MimeType != "text/xml" || !m.Files[0].Primary {
		t.Errorf("file = %+v", m.Files[0])
	}
}

func TestParseArkivmelding(t *testing.T) {
	t.Parallel()
	am := `<arkivmelding xmlns="http://www.arkivverket.no/standarder/noark5/arkivmelding" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:a="http://www.arkivverket.no/standarder/noark5/arkivmelding">
	  <mappe xsi:type="a:moetemappe"><systemID>other</systemID></mappe>
	  <mappe xsi:type="a:saksmappe"><systemID> sak-9 </systemID>
	    <basisregistrering xsi:type="registrering"><systemID>r</systemID></basisregistrering>
	    <basisregistrering xsi:type="journalpost">
	      <dokumentbeskrivelse><dokumentnummer>2</dokumentnummer><dokumentobjekt><referanseDokumentfil>b.pdf</referanseDokumentfil></dokumentobjekt></dokumentbeskrivelse>
	      <dokumentbeskrivelse><dokumentnummer>1</dokumentnummer><dokumentobjekt><referanseDokumentfil>a.pdf</referanseDokumentfil></dokumentobjekt>
	        <dokumentobjekt><referanseDokumentfil>a2.pdf</referanseDokumentfil></dokumentobjekt></dokumentbeskrivelse>
	      <offentligTittel>Tittel</offentligTittel><journalpostnummer> 007 </journalpostnummer>
	    </basisregistrering>
	  </mappe></arkivmelding>`
	got, err := parseArkivmelding([]byte(am))
	if err != nil {
		t.Fatal(err)
	}
	want := arkivmelding{SaksmappeSystemID: "sak-9", OffentligTittel: "Tittel", Journalpostnummer: "7",
		Files: []string{"a.pdf", "a2.pdf", "b.pdf"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got.Reference() != "sak-9-7" {
		t.Errorf("reference = %q", got.Reference())
	}
}

// TestValidateFileRules covers the upload rules no request can reach today: a second primary document
// (the real IP's check, shadowed by the duplicate-filename rule) and the DPH rules.
func TestValidateFileRules(t *testing.T) {
	t.Parallel()
	a := &API{opts: Options{UploadLimits: map[wire.ServiceIdentifier]int64{wire.ServiceDPO: gib, wire.ServiceDPH: 18 * mib}}}
	dialog := &wire.Dialogmelding{Hoveddokument: "dialogmelding.xml",
		MetadataFiler: map[string]*wire.DialogmeldingMetadata{"vedlegg.pdf": {Description: "v"}}}
	tests := []struct {
		name      string
		state     outgoingState
		file      newFile
		exception string
	}{
		{name: "second primary", state: outgoingState{service: wire.ServiceDPO, message: &wire.Arkivmelding{Hoveddokument: "ny.pdf"},
			files: []store.File{{Filename: "gammel.pdf", Primary: true}}}, file: newFile{filename: "ny.pdf"}, exception: exMultiplePrimaryDocuments},
		{name: "DPH file not in metadataFiler", state: outgoingState{service: wire.ServiceDPH, message: dialog},
			file: newFile{filename: "annet.pdf", contentType: "application/pdf"}, exception: exMissingFileTitle},
		{name: "DPH wrong content type", state: outgoingState{service: wire.ServiceDPH, message: dialog},
			file: newFile{filename: "vedlegg.pdf", contentType: "text/plain"}, exception: exPrefix + "InvalidContentTypeException"},
		{name: "DPH attachment", state: outgoingState{service: wire.ServiceDPH, message: dialog},
			file: newFile{filename: "vedlegg.pdf", contentType: "application/pdf"}},
		{name: "DPH primary", state: outgoingState{service: wire.ServiceDPH, message: dialog},
			file: newFile{filename: "dialogmelding.xml", contentType: "text/xml"}},
	}
	for _, tt := range tests {
		err := a.validateFile(tt.state, tt.file)
		if tt.exception == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		ae, ok := asAPIError(err)
		if !ok || ae.exception != tt.exception || ae.status != http.StatusBadRequest {
			t.Errorf("%s: err = %v, want %s", tt.name, err, tt.exception)
		}
	}
}
