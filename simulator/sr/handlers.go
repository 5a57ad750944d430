package sr

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-jose/go-jose/v4"
	"github.com/gorilla/mux"

	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Content types of the register's answers.
const (
	ContentTypeJOSE = "application/jose"
	ContentTypeJSON = "application/json"
	ContentTypePEM  = "text/plain;charset=UTF-8"
)

// Scopes that allow digital-post (DPI and print) lookups.
const (
	ScopeDPI       = "eformidling:dpi"
	ScopeDPILegacy = "move/dpi.read"
)

// identifier serves GET /identifier/{identifier} and /identifier/{identifier}/process/{process}.
//
// An unregistered but valid fødselsnummer answers 404 {"message": "No service record found for citizen:
// <fnr>"} on both routes. The real register answers that on /identifier/{fnr} only and a 500 on the
// process route; a 500 is no help to a test, so this simulator deviates on purpose.
func (s *Server) identifier(r *http.Request) admin.Response {
	vars := mux.Vars(r)
	raw, process := vars["identifier"], vars["process"]
	c, aerr := s.authenticate(r)
	if aerr != nil {
		return s.errorResponse(r, aerr)
	}
	q, qerr := parseQuery(r)
	if qerr != nil {
		return s.errorResponse(r, qerr)
	}
	q.Process = process
	reg, lerr := s.lookup(raw)
	if lerr != nil {
		s.logLookup(r, raw, q, nil, lerr)
		return s.errorResponse(r, lerr)
	}
	if reg.Citizen != nil && s.opts.RequireAuth && !c.scopes[ScopeDPI] && !c.scopes[ScopeDPILegacy] {
		return s.errorResponse(r, unauthorized("Access is denied: digital post lookups need scope %s or %s", ScopeDPI, ScopeDPILegacy))
	}
	q.ReturnAddress = s.returnAddress(c.consumerOrgnr)
	recs, err := Route(reg, q, s.env)
	s.logLookup(r, raw, q, recs, err)
	if err != nil {
		return s.errorResponse(r, err)
	}
	body := marshal(wire.IdentifierResource{InfoRecord: InfoRecordOf(reg), ServiceRecords: recs})
	return s.ok(r, ContentTypeJSON, body)
}

func (s *Server) logLookup(r *http.Request, raw string, q Query, recs []wire.ServiceRecord, err error) {
	services := make([]string, 0, len(recs))
	for _, rec := range recs {
		services = append(services, string(rec.Service.Identifier))
	}
	level := ""
	if q.SecurityLevel != nil {
		level = strconv.Itoa(*q.SecurityLevel)
	}
	errText := ""
	if err != nil {
		errText = err.Error()
	}
	s.log.Info("lookup", "service", Name, "identifier", raw, "process", q.Process,
		"conversationId", r.URL.Query().Get("conversationId"), "securityLevel", level, "print", !q.NoPrint,
		"services", strings.Join(services, ","), "error", errText)
}

// parseQuery reads securityLevel and print (conversationId is only logged).
func parseQuery(r *http.Request) (Query, *Error) {
	var q Query
	v := r.URL.Query()
	if s := strings.TrimSpace(v.Get("securityLevel")); s != "" {
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return Query{}, badRequest("Invalid value '%s' for request parameter 'securityLevel': not an integer", v.Get("securityLevel"))
		}
		level := int(n)
		q.SecurityLevel = &level
	}
	if s := v.Get("print"); strings.TrimSpace(s) != "" {
		b, ok := springBool(s)
		if !ok {
			return Query{}, badRequest("Invalid value '%s' for request parameter 'print': not a boolean (true or false)", s)
		}
		q.NoPrint = !b
	}
	return q, nil
}

// springBool converts like Spring's StringToBooleanConverter.
func springBool(s string) (value, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "on", "yes", "1":
		return true, true
	case "false", "off", "no", "0":
		return false, true
	}
	return false, false
}

// lookup resolves a path identifier to its registration: 400 when it does not parse, 404 "Entity ... not
// found." for an unknown organisation (or a FIKS IO or NHN identifier, which this register does not
// simulate), the citizen 404 for an unknown fødselsnummer.
func (s *Server) lookup(raw string) (wire.Registration, *Error) {
	p, err := wire.ParseIdentifier(raw)
	if err != nil {
		return wire.Registration{}, badIdentifier(raw)
	}
	switch p.Kind {
	case wire.KindOrganization:
		if p.ICD == wire.ICDNorway {
			if reg, ok := s.registration(p.OrgID); ok {
				return reg, nil
			}
		}
		return wire.Registration{}, entityNotFound(p.Qualified())
	case wire.KindPerson:
		if reg, ok := s.registration(p.Value); ok {
			return reg, nil
		}
		return wire.Registration{}, citizenNotFound(p.Value)
	}
	return wire.Registration{}, entityNotFound(raw)
}

// returnAddress is the sender's Brønnøysund postal address, named after the sender; nil when the sender
// is not known (the real register then answers 404 BrregNotFoundException; this one writes an empty
// address instead, so that unauthenticated lookups work).
func (s *Server) returnAddress(orgnr string) *wire.PostAddress {
	if orgnr == "" {
		return nil
	}
	reg, ok := s.registration(orgnr)
	if !ok || reg.Organization == nil {
		return nil
	}
	a := wire.PostAddress{Name: reg.Organization.Name}
	if p := reg.Organization.Postadresse; p != nil {
		a.Street, a.PostalCode, a.PostalArea, a.Country = p.Adresse, p.Postnummer, p.Poststed, p.Land
	}
	return &a
}

// info serves GET /info/{identifier}: the infoRecord and no service records; an unknown organisation is a
// 404 with an empty body. A valid fødselsnummer always has an infoRecord, as in the real register, which
// asks nobody about citizens at this stage.
func (s *Server) info(r *http.Request) admin.Response {
	if _, err := s.authenticate(r); err != nil {
		return s.errorResponse(r, err)
	}
	raw := mux.Vars(r)["identifier"]
	p, err := wire.ParseIdentifier(raw)
	if err != nil {
		return s.errorResponse(r, badIdentifier(raw))
	}
	var reg wire.Registration
	switch p.Kind {
	case wire.KindOrganization:
		found, ok := s.registration(p.OrgID)
		if !ok || p.ICD != wire.ICDNorway {
			return admin.NoContent(http.StatusNotFound)
		}
		reg = found
	case wire.KindPerson:
		reg = wire.Registration{Identifier: p.Value, Citizen: &wire.CitizenFacts{}}
	default:
		return admin.NoContent(http.StatusNotFound)
	}
	body := marshal(wire.IdentifierResource{InfoRecord: InfoRecordOf(reg), ServiceRecords: []wire.ServiceRecord{}})
	return s.ok(r, ContentTypeJSON, body)
}

// virksert serves GET /virksert/{identifier}: the organisation's business certificate as PEM. One
// certificate serves both DPO and DPE, so the token's scopes do not choose between certificates here.
func (s *Server) virksert(r *http.Request) admin.Response {
	if _, err := s.authenticate(r); err != nil {
		return s.errorResponse(r, err)
	}
	raw := mux.Vars(r)["identifier"]
	orgnr := raw
	if p, err := wire.ParseIdentifier(raw); err == nil && p.Kind == wire.KindOrganization && p.ICD == wire.ICDNorway {
		orgnr = p.OrgID
		if reg, ok := s.registration(orgnr); ok && reg.Organization != nil && reg.Organization.Certificate != "" {
			return s.ok(r, ContentTypePEM, []byte(reg.Organization.Certificate))
		}
	}
	return s.errorResponse(r, certificateNotFound(orgnr))
}

// jwk serves GET /jwk: the one RSA key that verifies the register's JWS answers. It needs no token.
func (s *Server) jwk(*http.Request) admin.Response {
	return jsonResponse(http.StatusOK, s.jwks)
}

// ok answers 200 with body, or with a compact RS256 JWS of body when the client accepts application/jose.
func (s *Server) ok(r *http.Request, contentType string, body []byte) admin.Response {
	if !acceptsJOSE(r) {
		return admin.Text(http.StatusOK, contentType, body)
	}
	jws, err := s.Sign(body)
	if err != nil {
		return jsonResponse(http.StatusInternalServerError, marshal(wire.RegisterError{ErrorDescription: "signing failed: " + err.Error()}))
	}
	return admin.Text(http.StatusOK, ContentTypeJOSE, []byte(jws))
}

// Sign returns payload as a compact RS256 JWS with the register's kid and x5c headers.
func (s *Server) Sign(payload []byte) (string, error) {
	obj, err := s.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return obj.CompactSerialize()
}

// KeyID is the RFC 7638 thumbprint of the signing key, the kid of /jwk and of every JWS header.
func (s *Server) KeyID() string { return s.kid }

// PublicKeys is the JWK set served at /jwk.
func (s *Server) PublicKeys() jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: append([]jose.JSONWebKey(nil), s.jwkSet.Keys...)}
}

func acceptsJOSE(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		if strings.Contains(strings.ToLower(v), ContentTypeJOSE) {
			return true
		}
	}
	return false
}

func (s *Server) notFound(r *http.Request) admin.Response {
	if isAdminPath(r.URL.Path) {
		return admin.ErrorResponse(http.StatusNotFound, fmt.Sprintf("no admin route %s %s", r.Method, r.URL.Path))
	}
	return jsonResponse(http.StatusNotFound, marshal(wire.RegisterError{
		ErrorDescription: fmt.Sprintf("No endpoint %s %s", r.Method, r.URL.Path)}))
}

func (s *Server) methodNotAllowed(r *http.Request) admin.Response {
	if isAdminPath(r.URL.Path) {
		return admin.ErrorResponse(http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s", r.Method, r.URL.Path))
	}
	return jsonResponse(http.StatusMethodNotAllowed, marshal(wire.RegisterError{
		ErrorDescription: fmt.Sprintf("Request method '%s' is not supported on %s", r.Method, r.URL.Path)}))
}

func isAdminPath(p string) bool { return p == admin.Prefix || strings.HasPrefix(p, admin.Prefix+"/") }
