package dokumentpakke

import (
	"archive/zip"
	"bytes"
	"cmp"
	"compress/flate"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Names and media types of an ASiC-E container as commons-asic writes it.
const (
	// MimeTypeASiCE is the content of the mimetype entry and the media type of "/" in META-INF/manifest.xml.
	MimeTypeASiCE = "application/vnd.etsi.asic-e+zip"
	// MimeTypeCAdES is the MimeType of the SigReference in the ASiC manifest.
	MimeTypeCAdES = "application/x-pkcs7-signature"
	// ASiCManifestName is the entry commons-asic writes the ETSI ASiCManifest to. (Early commons-asic
	// releases wrote META-INF/asicmanifest.xml; readers, ours included, match META-INF/ASiCManifest*.xml
	// case-insensitively.)
	ASiCManifestName = "META-INF/ASiCManifest.xml"
	// OASISManifestName is the OASIS OpenDocument manifest entry.
	OASISManifestName = "META-INF/manifest.xml"
	// DefaultMaxEntries is the ReadOptions.MaxEntries used when it is zero.
	DefaultMaxEntries = 10_000
	// DefaultMaxSize is the ReadOptions.MaxSize used when it is zero: 1 GiB uncompressed in total.
	DefaultMaxSize int64 = 1 << 30
	// MaxMetadataSize bounds each META-INF/* entry (commons-asic bounds them too).
	MaxMetadataSize = 16 << 20

	mimetypeEntry = "mimetype"
	metaInf       = "META-INF/"
	defaultSigRef = "META-INF/signature.p7s"
)

// Entry-name patterns of commons-asic's reader (AsicUtils), matched case-insensitively.
var (
	patCAdESManifest  = regexp.MustCompile(`(?i)^META-INF/ASiCManifest.*\.xml$`)
	patXAdESSignature = regexp.MustCompile(`(?i)^META-INF/signatures.*\.xml$`)
	patCAdESSignature = regexp.MustCompile(`(?i)^META-INF/signature.*\.p7s$`)
)

// File is a data object of an ASiC-E container.
type File struct {
	// Name is the zip entry name, e.g. "arkivmelding.xml". It may not start with "META-INF/".
	Name string
	// MimeType is the media type recorded for the file in the ASiC manifest, e.g. "application/xml".
	MimeType string
	// Content is the file's bytes.
	Content []byte
}

// Signer is the key and business certificate a container is signed with.
type Signer struct {
	// Key is the private key of Certificate.
	Key *rsa.PrivateKey
	// Certificate is the signer's certificate, included in the signature.
	Certificate *x509.Certificate
	// Chain holds further certificates (intermediates, CA) to include in the signature; may be empty.
	Chain []*x509.Certificate
}

// ReadOptions controls ReadASiCE and Open.
type ReadOptions struct {
	// Roots, when set, must be where the signer's certificate chain leads (checked at the signing time).
	// When nil only the signature itself is checked, like the real integration point.
	Roots *x509.CertPool
	// AllowUnsigned accepts containers without a CAdES signature (for example DPI's XAdES containers,
	// whose META-INF/signatures.xml is then accepted but not verified). Container.Signed tells which.
	AllowUnsigned bool
	// MaxEntries bounds the number of zip entries (DefaultMaxEntries when zero).
	MaxEntries int
	// MaxSize bounds the total uncompressed size of all entries (DefaultMaxSize when zero).
	MaxSize int64
}

// Container is an opened ASiC-E container.
type Container struct {
	// Files are the data objects in zip order, each with the MIME type the ASiC manifest gives it (or,
	// for an unsigned container, META-INF/manifest.xml, else application/octet-stream).
	Files []File
	// SignerCertificate is the certificate of the CAdES signer; nil when not Signed.
	SignerCertificate *x509.Certificate
	// Signed is true when a CAdES signature over the ASiC manifest was verified and every data object's
	// digest matched it.
	Signed bool
}

// File returns the data object with the given name, or nil.
func (c *Container) File(name string) *File {
	for i := range c.Files {
		if c.Files[i].Name == name {
			return &c.Files[i]
		}
	}
	return nil
}

// CreateASiCE builds a CAdES-signed ASiC-E container the way commons-asic does for the integration point:
// the stored mimetype entry first, then the files in the given order (deflated), META-INF/ASiCManifest.xml
// listing every file with its MIME type and SHA-256 digest, META-INF/signature-<uuid>.p7s (a detached CMS
// SignedData over the exact manifest bytes, SHA-256 with RSA, with the signer's certificates), and the
// OASIS META-INF/manifest.xml.
func CreateASiCE(files []File, s Signer) ([]byte, error) {
	if err := checkSigner(s); err != nil {
		return nil, err
	}
	if err := checkFiles(files); err != nil {
		return nil, err
	}
	sigName := "META-INF/signature-" + uuid.NewString() + ".p7s"
	manifest := buildASiCManifest(files, sigName)
	sig, err := signDetached(manifest, s)
	if err != nil {
		return nil, err
	}

	var buf bytes.Buffer
	zw := newZipWriter(&buf)
	if err := zw.SetComment("mimetype=" + MimeTypeASiCE); err != nil {
		return nil, fmt.Errorf("create asic-e: %w", err)
	}
	now := time.Now()
	if err := writeMimetype(zw, now); err != nil {
		return nil, fmt.Errorf("create asic-e: %w", err)
	}
	for _, f := range files {
		if err := writeDeflated(zw, f.Name, f.Content, now); err != nil {
			return nil, fmt.Errorf("create asic-e: %w", err)
		}
	}
	for _, e := range []struct {
		name string
		data []byte
	}{
		{ASiCManifestName, manifest},
		{sigName, sig},
		{OASISManifestName, buildOASISManifest(files)},
	} {
		if err := writeDeflated(zw, e.name, e.data, now); err != nil {
			return nil, fmt.Errorf("create asic-e: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("create asic-e: %w", err)
	}
	return buf.Bytes(), nil
}

// CreatePlainASiCE builds an ASiC-E container with no signature: the stored mimetype entry, the files
// (deflated) and the OASIS META-INF/manifest.xml. It exists only for the harness's --plain load mode,
// which measures the delivery core without cryptography; no real integration point accepts it.
func CreatePlainASiCE(files []File) ([]byte, error) {
	if err := checkFiles(files); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw := newZipWriter(&buf)
	now := time.Now()
	if err := writeMimetype(zw, now); err != nil {
		return nil, fmt.Errorf("create asic-e: %w", err)
	}
	for _, f := range files {
		if err := writeDeflated(zw, f.Name, f.Content, now); err != nil {
			return nil, fmt.Errorf("create asic-e: %w", err)
		}
	}
	if err := writeDeflated(zw, OASISManifestName, buildOASISManifest(files), now); err != nil {
		return nil, fmt.Errorf("create asic-e: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("create asic-e: %w", err)
	}
	return buf.Bytes(), nil
}

// writeMimetype writes the mimetype entry STORED, with CRC and sizes in the local header, no extra field
// and no data descriptor: Java's ZipInputStream (which commons-asic reads with) refuses a STORED entry
// with a data descriptor, and archive/zip's CreateHeader would add one.
func writeMimetype(zw *zip.Writer, modified time.Time) error {
	content := []byte(MimeTypeASiCE)
	fh := &zip.FileHeader{
		Name:               mimetypeEntry,
		Comment:            "mimetype=" + MimeTypeASiCE,
		CreatorVersion:     20,
		ReaderVersion:      10, // stored, no data descriptor: what Java's ZipOutputStream writes
		Method:             zip.Store,
		CRC32:              crc32.ChecksumIEEE(content),
		CompressedSize64:   uint64(len(content)),
		UncompressedSize64: uint64(len(content)),
	}
	//lint:ignore SA1019 CreateRaw ignores Modified; the MS-DOS fields date the entry without an extra field.
	fh.ModifiedDate, fh.ModifiedTime = msDosTime(modified)
	w, err := zw.CreateRaw(fh)
	if err != nil {
		return err
	}
	_, err = w.Write(content)
	return err
}

// msDosTime converts t to the MS-DOS date and time of a zip header (without an extra field, unlike
// FileHeader.Modified).
func msDosTime(t time.Time) (date, tod uint16) {
	if t.Year() < 1980 {
		t = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	date = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
	tod = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)
	return date, tod
}

// newZipWriter is a zip writer that deflates at flate.BestSpeed: readers do not care about the level,
// and the default level cost a DPO load run 8% of its CPU for a few percent of size on documents that
// are mostly compressed already (PDF).
func newZipWriter(w io.Writer) *zip.Writer {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	return zw
}

func writeDeflated(zw *zip.Writer, name string, content []byte, modified time.Time) error {
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: modified})
	if err != nil {
		return err
	}
	_, err = w.Write(content)
	return err
}

func checkSigner(s Signer) error {
	if s.Key == nil || s.Certificate == nil {
		return fmt.Errorf("signer: %w: key and certificate are required", ErrInvalidInput)
	}
	pub, ok := s.Certificate.PublicKey.(*rsa.PublicKey)
	if !ok || !pub.Equal(&s.Key.PublicKey) {
		return fmt.Errorf("signer: %w: certificate does not belong to the key", ErrInvalidInput)
	}
	return nil
}

func checkFiles(files []File) error {
	if len(files) == 0 {
		return fmt.Errorf("create asic-e: %w: no files", ErrInvalidInput)
	}
	seen := make(map[string]bool, len(files))
	for _, f := range files {
		switch {
		case f.Name == "" || f.Name == mimetypeEntry || strings.HasPrefix(f.Name, "/") ||
			strings.HasSuffix(f.Name, "/") || strings.Contains(f.Name, "\\"):
			return fmt.Errorf("create asic-e: %w: illegal file name %q", ErrInvalidInput, f.Name)
		case len(f.Name) >= len(metaInf) && strings.EqualFold(f.Name[:len(metaInf)], metaInf):
			return fmt.Errorf("create asic-e: %w: file name %q is in META-INF/", ErrInvalidInput, f.Name)
		case seen[f.Name]:
			return fmt.Errorf("create asic-e: %w: duplicate file name %q", ErrInvalidInput, f.Name)
		case strings.TrimSpace(f.MimeType) == "":
			return fmt.Errorf("create asic-e: %w: no MIME type for %q", ErrInvalidInput, f.Name)
		}
		seen[f.Name] = true
	}
	return nil
}

// ReadASiCE opens an ASiC-E container and checks it as commons-asic's reader does: the mimetype entry
// comes first with the right content, only known META-INF/* entries are present, the CAdES signature over
// the ASiC manifest verifies (and, with opts.Roots, chains to a root), and every data object is listed in
// the manifest with a matching SHA-256 digest.
func ReadASiCE(data []byte, opts ReadOptions) (*Container, error) {
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultMaxEntries
	}
	if opts.MaxSize <= 0 {
		opts.MaxSize = DefaultMaxSize
	}
	entries, err := readZip(data, opts)
	if err != nil {
		return nil, err
	}

	var (
		dataObjects                 []File
		asicManifest, oasisManifest *zipEntry
		signatures                  = map[string]*zipEntry{}
		xadesSignatures             bool
	)
	for i := range entries {
		e := &entries[i]
		if !strings.HasPrefix(e.name, metaInf) {
			dataObjects = append(dataObjects, File{Name: e.name, Content: e.content})
			continue
		}
		switch {
		case patCAdESManifest.MatchString(e.name):
			if asicManifest != nil {
				return nil, fmt.Errorf("read asic-e: %w: more than one ASiC manifest (%s)", ErrUnexpectedEntry, e.name)
			}
			asicManifest = e
		case patXAdESSignature.MatchString(e.name):
			xadesSignatures = true
		case patCAdESSignature.MatchString(e.name):
			signatures[e.name] = e
		case strings.EqualFold(e.name[len(metaInf):], "manifest.xml"):
			oasisManifest = e
		default:
			return nil, fmt.Errorf("read asic-e: %w: unknown metadata file %s", ErrUnexpectedEntry, e.name)
		}
	}

	c := &Container{Files: dataObjects}
	var oasisTypes map[string]string
	if oasisManifest != nil {
		if oasisTypes, err = parseOASISManifest(oasisManifest.content); err != nil {
			return nil, fmt.Errorf("read asic-e: %w", err)
		}
	}

	if asicManifest == nil {
		if len(signatures) > 0 {
			return nil, fmt.Errorf("read asic-e: %w: signature without ASiC manifest", ErrBadSignature)
		}
		if !opts.AllowUnsigned {
			if xadesSignatures {
				return nil, fmt.Errorf("read asic-e: %w: XAdES signatures are not verified", ErrUnsigned)
			}
			return nil, fmt.Errorf("read asic-e: %w", ErrUnsigned)
		}
		for i := range c.Files {
			c.Files[i].MimeType = oasisTypes[c.Files[i].Name]
			if c.Files[i].MimeType == "" {
				c.Files[i].MimeType = "application/octet-stream"
			}
		}
		return c, nil
	}

	m, err := parseASiCManifest(asicManifest.content)
	if err != nil {
		return nil, fmt.Errorf("read asic-e: %w", err)
	}
	sig := signatures[m.sigRef]
	if sig == nil {
		return nil, fmt.Errorf("read asic-e: %w: signature file %q not in container", ErrBadSignature, m.sigRef)
	}
	delete(signatures, m.sigRef)
	if len(signatures) > 0 {
		name := slices.Sorted(maps.Keys(signatures))[0]
		return nil, fmt.Errorf("read asic-e: %w: signature %s not referenced by a manifest", ErrBadSignature, name)
	}
	cert, err := verifyDetached(sig.content, asicManifest.content, opts.Roots)
	if err != nil {
		return nil, fmt.Errorf("read asic-e: %s: %w", m.sigRef, err)
	}

	listed := make(map[string]bool, len(m.refs))
	for i := range c.Files {
		f := &c.Files[i]
		ref, ok := m.refs[f.Name]
		if !ok {
			return nil, fmt.Errorf("read asic-e: %w: %s is not listed", ErrManifest, f.Name)
		}
		if sum := sha256.Sum256(f.Content); !bytes.Equal(sum[:], ref.digest) {
			return nil, fmt.Errorf("read asic-e: %w: %s", ErrDigestMismatch, f.Name)
		}
		listed[f.Name] = true
		f.MimeType = ref.mimeType
		if f.MimeType == "" {
			f.MimeType = oasisTypes[f.Name]
		}
		if f.MimeType == "" {
			f.MimeType = "application/octet-stream"
		}
	}
	for name := range m.refs {
		if !listed[name] {
			return nil, fmt.Errorf("read asic-e: %w: listed file %s is not in the container", ErrManifest, name)
		}
	}
	c.SignerCertificate = cert
	c.Signed = true
	return c, nil
}

type zipEntry struct {
	name    string
	content []byte
}

// readZip returns the entries after the mimetype entry, in local-header order, with their content.
func readZip(data []byte, opts ReadOptions) ([]zipEntry, error) {
	if !startsWithMimetype(data) {
		return nil, fmt.Errorf("read asic-e: %w: first entry is not mimetype", ErrNotASiC)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, fmt.Errorf("read asic-e: %w: %w", ErrNotASiC, err)
	}
	if len(zr.File) > opts.MaxEntries {
		return nil, fmt.Errorf("read asic-e: %w: %d entries (limit %d)", ErrTooLarge, len(zr.File), opts.MaxEntries)
	}
	var declared uint64
	type located struct {
		f      *zip.File
		offset int64
	}
	files := make([]located, 0, len(zr.File))
	for _, f := range zr.File {
		declared += f.UncompressedSize64
		if declared > uint64(opts.MaxSize) || f.UncompressedSize64 > uint64(opts.MaxSize) {
			return nil, fmt.Errorf("read asic-e: %w: more than %d bytes uncompressed", ErrTooLarge, opts.MaxSize)
		}
		off, err := f.DataOffset()
		if err != nil {
			return nil, fmt.Errorf("read asic-e: %w: %s: %w", ErrNotASiC, f.Name, err)
		}
		files = append(files, located{f, off})
	}
	slices.SortStableFunc(files, func(a, b located) int { return cmp.Compare(a.offset, b.offset) })
	if len(files) == 0 || files[0].f.Name != mimetypeEntry {
		return nil, fmt.Errorf("read asic-e: %w: first entry is not mimetype", ErrNotASiC)
	}
	if files[0].f.Method != zip.Store {
		return nil, fmt.Errorf("read asic-e: %w: mimetype is compressed", ErrNotASiC)
	}
	mt, err := readEntry(files[0].f, int64(len(MimeTypeASiCE)))
	if err != nil || string(mt) != MimeTypeASiCE {
		return nil, fmt.Errorf("read asic-e: %w: mimetype is not %s", ErrNotASiC, MimeTypeASiCE)
	}

	remaining := opts.MaxSize - int64(len(mt))
	seen := make(map[string]bool, len(files))
	out := make([]zipEntry, 0, len(files)-1)
	for _, l := range files[1:] {
		f := l.f
		switch {
		case f.Name == mimetypeEntry:
			return nil, fmt.Errorf("read asic-e: %w: second mimetype entry", ErrUnexpectedEntry)
		case seen[f.Name]:
			return nil, fmt.Errorf("read asic-e: %w: duplicate entry %s", ErrUnexpectedEntry, f.Name)
		case f.Name == "" || strings.HasSuffix(f.Name, "/"):
			return nil, fmt.Errorf("read asic-e: %w: directory entry %q", ErrUnexpectedEntry, f.Name)
		}
		seen[f.Name] = true
		limit := remaining
		if strings.HasPrefix(f.Name, metaInf) {
			limit = min(limit, MaxMetadataSize)
		}
		content, err := readEntry(f, limit)
		if err != nil {
			return nil, fmt.Errorf("read asic-e: %s: %w", f.Name, err)
		}
		remaining -= int64(len(content))
		out = append(out, zipEntry{name: f.Name, content: content})
	}
	return out, nil
}

// startsWithMimetype reports whether data begins with a local file header named "mimetype".
func startsWithMimetype(data []byte) bool {
	const hdr = 30
	if len(data) < hdr+len(mimetypeEntry) || string(data[:4]) != "PK\x03\x04" {
		return false
	}
	n := int(binary.LittleEndian.Uint16(data[26:28]))
	return n == len(mimetypeEntry) && string(data[hdr:hdr+n]) == mimetypeEntry
}

// readEntry reads a zip entry, refusing more than limit bytes.
func readEntry(f *zip.File, limit int64) ([]byte, error) {
	if f.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotASiC, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotASiC, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	return b, nil
}
