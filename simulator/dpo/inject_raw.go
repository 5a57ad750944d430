package dpo

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// RawInjectRequest is the body of POST /__admin/inject/raw: a transfer whose bytes are given as they
// are, for testing what an integration point does with packages no real sender builds (not a zip, a zip
// bomb, an sbd.json that does not parse, an asic.zip that does not decrypt, an ASiC-E with hostile entry
// names or a bad signature). Byte fields are base64 in JSON.
//
// Either Package is given (the uploaded file, used as it is), or SBD with at most one of Container and
// ASiC, from which the simulator writes sbd.zip as an integration point does.
type RawInjectRequest struct {
	// Sender and Receiver are organisation numbers ("910076787" or "0192:910076787"); both required.
	Sender   string `json:"sender"`
	Receiver string `json:"receiver"`
	// Package is the whole uploaded file (sbd.zip), as it is.
	Package []byte `json:"package,omitempty"`
	// SBD is the sbd.json entry, as it is: it need not parse.
	SBD []byte `json:"sbd,omitempty"`
	// Container is a document package (normally an ASiC-E; it need not be one or be signed) that the
	// simulator CMS-encrypts (AES-256-CBC, RSA-OAEP) to the receiver's certificate as asic.zip.
	Container []byte `json:"container,omitempty"`
	// ASiC is the asic.zip entry, as it is (not encrypted by the simulator).
	ASiC []byte `json:"asic,omitempty"`
	// SendersFileTransferReference is the transfer's reference (a new UUID when empty).
	SendersFileTransferReference string `json:"sendersFileTransferReference,omitempty"`
}

// RawInjectResult is the answer of POST /__admin/inject/raw.
type RawInjectResult struct {
	FileTransferID string `json:"fileTransferId"`
	// Size is the size of the stored file (sbd.zip).
	Size int `json:"size"`
}

// adminInjectRaw serves POST /__admin/inject/raw.
func (s *Server) adminInjectRaw(r *http.Request) admin.Response {
	limit := s.opts.MaxUploadSize/3*4 + 1<<20
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return admin.ErrorResponse(http.StatusBadRequest, "inject/raw: the body could not be read: "+err.Error())
	}
	if int64(len(body)) > limit {
		return admin.ErrorResponse(http.StatusRequestEntityTooLarge, fmt.Sprintf("inject/raw: the body is larger than %d bytes", limit))
	}
	var in RawInjectRequest
	if err := decodeStrict(body, &in); err != nil {
		return admin.ErrorResponse(http.StatusBadRequest, "inject/raw: "+err.Error())
	}
	res, err := s.InjectRaw(in)
	if err != nil {
		var ie *InjectError
		if errors.As(err, &ie) {
			return admin.ErrorResponse(http.StatusBadRequest, "inject/raw: "+ie.Message)
		}
		return admin.ErrorResponse(http.StatusInternalServerError, "inject/raw: "+err.Error())
	}
	return admin.JSON(http.StatusOK, res)
}

// InjectRaw stores a Published transfer from in.Sender to in.Receiver whose file is in.Package, or an
// sbd.zip of in.SBD and, when given, in.ASiC or in.Container encrypted to the receiver's certificate.
// Nothing is parsed or checked beyond that. Errors about in are *InjectError.
func (s *Server) InjectRaw(in RawInjectRequest) (RawInjectResult, error) {
	s.mu.Lock()
	gen := s.gen
	s.mu.Unlock()
	party := func(field, v string) (string, error) {
		p, err := wire.ParseIdentifier(strings.TrimSpace(v))
		if err != nil || !p.IsOrganization() {
			return "", injectErr("%s: %q is not an organisation number", field, v)
		}
		return p.OrgID, nil
	}
	sender, err := party("sender", in.Sender)
	if err != nil {
		return RawInjectResult{}, err
	}
	receiver, err := party("receiver", in.Receiver)
	if err != nil {
		return RawInjectResult{}, err
	}
	data := in.Package
	switch {
	case in.Package != nil && (in.SBD != nil || in.Container != nil || in.ASiC != nil):
		return RawInjectResult{}, injectErr("give either package, or sbd with container or asic")
	case in.Package == nil && in.SBD == nil:
		return RawInjectResult{}, injectErr("package or sbd is required")
	case in.Container != nil && in.ASiC != nil:
		return RawInjectResult{}, injectErr("give container or asic, not both")
	case in.Package == nil:
		asic := in.ASiC
		if in.Container != nil {
			if asic, err = s.encryptTo(receiver, in.Container); err != nil {
				return RawInjectResult{}, err
			}
		}
		if data, err = rawZip(in.SBD, asic); err != nil {
			return RawInjectResult{}, err
		}
	}
	ref := in.SendersFileTransferReference
	if ref == "" {
		ref = uuid.NewString()
	}
	id, ok := s.publish(wire.ICDNorway+":"+sender, wire.ICDNorway+":"+receiver, ref, data, gen, false)
	if !ok {
		return RawInjectResult{}, errors.New("the simulator was reset or closed while the package was injected")
	}
	s.log.Info("dpo: raw package injected", "fileTransferId", id, "sender", sender, "receiver", receiver, "bytes", len(data))
	return RawInjectResult{FileTransferID: id, Size: len(data)}, nil
}

// encryptTo CMS-encrypts data to the certificate of organisation orgnr.
func (s *Server) encryptTo(orgnr string, data []byte) ([]byte, error) {
	if s.opts.Credentials == nil {
		return nil, injectErr("the simulator has no credentials (Options.Credentials) to encrypt the container with")
	}
	_, cert, ok := s.opts.Credentials(orgnr)
	if !ok || cert == nil {
		return nil, injectErr("receiver: no certificate for organisation %s to encrypt the container to", orgnr)
	}
	out, err := dokumentpakke.Encrypt(data, cert, dokumentpakke.RSAOAEP)
	if err != nil {
		return nil, fmt.Errorf("encrypt the container: %w", err)
	}
	return out, nil
}

// rawZip is sbd.zip holding sbdJSON as sbd.json and, when not nil, asic as asic.zip, both as they are.
func rawZip(sbdJSON, asic []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	put := func(name string, b []byte) error {
		w, err := zw.Create(name)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	if err := put(EntrySBD, sbdJSON); err != nil {
		return nil, fmt.Errorf("write sbd.zip: %w", err)
	}
	if asic != nil {
		if err := put(EntryASiC, asic); err != nil {
			return nil, fmt.Errorf("write sbd.zip: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("write sbd.zip: %w", err)
	}
	return buf.Bytes(), nil
}
