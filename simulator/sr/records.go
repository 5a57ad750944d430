package sr

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// maxRegistrationBody bounds the body of PUT /__admin/records/{identifier}.
const maxRegistrationBody = 1 << 20

// RecordView is the admin API's answer for one registration: what is stored, and what a plain
// /identifier/{identifier} lookup (no securityLevel, print on, anonymous caller) derives from it now.
type RecordView struct {
	Registration   wire.Registration    `json:"registration"`
	InfoRecord     wire.InfoRecord      `json:"infoRecord"`
	ServiceRecords []wire.ServiceRecord `json:"serviceRecords"`
	// Error is the register's error body when the lookup fails (e.g. a DPO organisation without a
	// certificate, which the real register answers 404 certificate_not_found).
	Error *wire.RegisterError `json:"error,omitempty"`
}

// adminRoutes adds the register's own admin routes: the registrations behind its answers.
func (s *Server) adminRoutes(r *mux.Router) {
	r.Handle("/records", admin.Handler(s.listRecords)).Methods(http.MethodGet).Name("sr.admin.records")
	r.Handle("/records/{identifier}", admin.Handler(s.getRecord)).Methods(http.MethodGet).Name("sr.admin.record")
	r.Handle("/records/{identifier}", admin.Handler(s.putRecord)).Methods(http.MethodPut).Name("sr.admin.record.put")
	r.Handle("/records/{identifier}", admin.Handler(s.deleteRecord)).Methods(http.MethodDelete).Name("sr.admin.record.delete")
}

// View derives the RecordView of a registration.
func (s *Server) View(reg wire.Registration) RecordView {
	v := RecordView{Registration: clone(reg), InfoRecord: InfoRecordOf(reg), ServiceRecords: []wire.ServiceRecord{}}
	recs, err := Route(reg, Query{}, s.env)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			v.Error = &wire.RegisterError{ErrorCode: e.Code, ErrorDescription: e.Description}
		} else {
			v.Error = &wire.RegisterError{ErrorDescription: err.Error()}
		}
		return v
	}
	v.ServiceRecords = recs
	return v
}

// listRecords is GET /__admin/records: every registration, sorted by identifier, as a JSON array.
func (s *Server) listRecords(*http.Request) admin.Response {
	return admin.JSON(http.StatusOK, s.Registrations())
}

func (s *Server) getRecord(r *http.Request) admin.Response {
	key, err := registrationKey(mux.Vars(r)["identifier"])
	if err != nil {
		return admin.ErrorResponse(http.StatusBadRequest, err.Error())
	}
	reg, ok := s.registration(key)
	if !ok {
		return admin.ErrorResponse(http.StatusNotFound, "no registration for "+key)
	}
	return admin.JSON(http.StatusOK, s.View(reg))
}

// putRecord is PUT /__admin/records/{identifier}: the body is a wire.Registration whose identifier, if any,
// the path overrides. Unknown fields are refused so that a misspelt fact does not pass silently.
func (s *Server) putRecord(r *http.Request) admin.Response {
	id := mux.Vars(r)["identifier"]
	var reg wire.Registration
	dec := json.NewDecoder(io.LimitReader(r.Body, maxRegistrationBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&reg); err != nil {
		return admin.ErrorResponse(http.StatusBadRequest, "registration body is not a registration: "+err.Error())
	}
	if dec.More() {
		return admin.ErrorResponse(http.StatusBadRequest, "registration body has more than one JSON value")
	}
	reg.Identifier = id
	stored, err := s.put(reg)
	if err != nil {
		return admin.ErrorResponse(http.StatusBadRequest, err.Error())
	}
	return admin.JSON(http.StatusOK, s.View(stored))
}

func (s *Server) deleteRecord(r *http.Request) admin.Response {
	key, err := registrationKey(mux.Vars(r)["identifier"])
	if err != nil {
		return admin.ErrorResponse(http.StatusBadRequest, err.Error())
	}
	reg, ok := s.registration(key)
	if !ok || !s.Delete(key) {
		return admin.ErrorResponse(http.StatusNotFound, "no registration for "+key)
	}
	return admin.JSON(http.StatusOK, clone(reg))
}
