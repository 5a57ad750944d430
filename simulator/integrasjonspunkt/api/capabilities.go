package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/registry"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// capabilities serves GET /api/capabilities/{receiverIdentifier}?securityLevel=&process= (spec ip-api §5):
// one capability per service record of the receiver, in the register's order.
func (a *API) capabilities(r *http.Request) response {
	id := mux.Vars(r)["receiverIdentifier"]
	q := r.URL.Query()
	var level *int
	if v := q.Get("securityLevel"); v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fail(errTypeMismatch("securityLevel", "java.lang.Integer", v, fmt.Sprintf("For input string: \"%s\"", v)))
		}
		level = &n
	}
	process := q.Get("process")
	param := srParameter(id, process, level, "")
	if !pathSafe(process) {
		// No register has a process by that name; the real IP would send it encoded and get a 404.
		return fail(newError(http.StatusNotFound, exIdentifierNotFound,
			noEntry(exIdentifierNotFound, "Service record not found for parameters: "+param)))
	}
	res, err := a.opts.Registry.Lookup(r.Context(), registry.Query{Identifier: id, Process: process, SecurityLevel: level})
	if err != nil {
		var re *registry.Error
		switch {
		case errors.Is(err, registry.ErrNotFound):
			return fail(newError(http.StatusNotFound, exIdentifierNotFound,
				noEntry(exIdentifierNotFound, "Service record not found for parameters: "+param)).withCause(err))
		case errors.Is(err, registry.ErrRefused) && errors.As(err, &re):
			// The real IP lets this escape as a 500; it is the client's identifier or security level.
			return fail(newError(http.StatusBadRequest, exMURuntime, fmt.Sprintf(
				"no.difi.meldingsutveksling.serviceregistry.ServiceRegistryLookupException: Caught exception when looking up service record with parameter %s, http status %s: %s",
				param, javaHTTPStatus(re.Status), re.Description)).withCause(err))
		}
		return fail(errRegistryUnavailable(err))
	}
	out := wire.Capabilities{Capabilities: make([]wire.Capability, 0, len(res.ServiceRecords))}
	for _, rec := range res.ServiceRecords {
		out.Capabilities = append(out.Capabilities, wire.CapabilityOf(rec))
	}
	return ok(out)
}
