package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Spring Data's paging defaults.
const (
	defaultPageSize = 10
	maxPageSize     = 2000
)

// entity describes a pageable resource: its Java entity name (for error messages) and the properties it
// can be sorted by.
type entity struct {
	name     string
	sortable map[string]bool
}

// props makes a property set.
func props(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// The pageable resources.
var (
	outMessageEntity = entity{name: "NextMoveOutMessage", sortable: props("id", "messageId", "conversationId",
		"processIdentifier", "receiverIdentifier", "senderIdentifier", "serviceIdentifier", "lastUpdated", "created")}
	statusEntity       = entity{name: "MessageStatus", sortable: props("id", "lastUpdate", "status", "messageId", "conversationId")}
	conversationEntity = entity{name: "Conversation", sortable: props("id", "conversationId", "messageId", "direction",
		"sender", "senderIdentifier", "receiver", "receiverIdentifier", "processIdentifier", "documentIdentifier",
		"messageReference", "messageTitle", "serviceIdentifier", "lastUpdate", "expiry", "finished", "pollable")}
)

// pageRequest reads Spring Data's page, size and sort parameters. page and size are lenient as in Spring
// (unparseable or out of range → default, size capped at 2000); an unknown sort property is a 400 (the
// real IP answers 500). def is the endpoint's default sort; sorted reports whether the page is sorted.
func pageRequest(q url.Values, e entity, def []store.SortOrder) (p store.PageRequest, sorted bool, err error) {
	p.Page, p.Size = 0, defaultPageSize
	if n, err := strconv.Atoi(strings.TrimSpace(q.Get("page"))); err == nil && n > 0 {
		p.Page = n
	}
	if n, err := strconv.Atoi(strings.TrimSpace(q.Get("size"))); err == nil && n > 0 {
		p.Size = min(n, maxPageSize)
	}
	for _, s := range q["sort"] {
		var elems []string
		for _, e := range strings.Split(s, ",") {
			if e = strings.TrimSpace(e); e != "" {
				elems = append(elems, e)
			}
		}
		if len(elems) == 0 {
			continue
		}
		desc := false
		if last := strings.ToLower(elems[len(elems)-1]); len(elems) > 1 && (last == "asc" || last == "desc") {
			desc, elems = last == "desc", elems[:len(elems)-1]
		}
		for _, prop := range elems {
			if !e.sortable[prop] {
				return p, false, errBadProperty(prop, e.name)
			}
			p.Sort = append(p.Sort, store.SortOrder{Property: prop, Desc: desc})
		}
	}
	if len(p.Sort) == 0 && len(def) > 0 {
		p.Sort = def
	}
	return p, len(p.Sort) > 0, nil
}

// values returns the non-empty values of a query parameter.
func values(q url.Values, key string) []string {
	var out []string
	for _, v := range q[key] {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// equalsFilter collects exact-match filters for keys from q (repeated values match any).
func equalsFilter(q url.Values, keys ...string) map[string][]string {
	m := map[string][]string{}
	for _, k := range keys {
		if vs := values(q, k); len(vs) > 0 {
			m[k] = vs
		}
	}
	return m
}

// checkLongs refuses values of a Long property that are not integers, as Spring's binder does.
func checkLongs(object, field string, vs []string) error {
	for _, v := range vs {
		if _, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil {
			return errBinding(object, field, "java.lang.Long", v, fmt.Sprintf("For input string: \"%s\"", v))
		}
	}
	return nil
}

// checkServices refuses serviceIdentifier values that are not ServiceIdentifier constants (the real IP
// answers 500 with this message).
func checkServices(vs []string) error {
	for _, v := range vs {
		if !isService(v) {
			return newError(http.StatusBadRequest, exIllegalArgument,
				"No enum constant no.difi.meldingsutveksling.ServiceIdentifier."+v)
		}
	}
	return nil
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

// parseQueryDateTime reads an ISO date-time query value. A "+" that was not URL-encoded arrives as a
// space; it is put back.
func parseQueryDateTime(v string) (wire.OffsetDateTime, error) {
	return wire.ParseOffsetDateTime(strings.ReplaceAll(strings.TrimSpace(v), " ", "+"))
}

// pathLong reads a numeric path variable; a non-number is Spring's MethodArgumentTypeMismatchException.
func pathLong(name, v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, errLongPathVariable(name, v)
	}
	return n, nil
}

// outFilterKeys are the Querydsl bindings of GET /api/messages/out (lastUpdated is not supported).
var outFilterKeys = []string{"id", "messageId", "conversationId", "processIdentifier", "receiverIdentifier",
	"senderIdentifier", "serviceIdentifier"}

// listOutgoing serves GET /api/messages/out: a page of the outbox (spec ip-api §4.10).
func (a *API) listOutgoing(r *http.Request) response {
	q := r.URL.Query()
	f := store.Filter{Equals: equalsFilter(q, outFilterKeys...)}
	if err := checkLongs("nextMoveOutMessage", "id", f.Equals["id"]); err != nil {
		return fail(err)
	}
	if err := checkServices(f.Equals["serviceIdentifier"]); err != nil {
		return fail(err)
	}
	p, sorted, err := pageRequest(q, outMessageEntity, nil)
	if err != nil {
		return fail(err)
	}
	msgs, total, err := a.opts.Store.OutgoingPage(r.Context(), f, p)
	if err != nil {
		return fail(errInternal(err))
	}
	content := make([]json.RawMessage, 0, len(msgs))
	for _, m := range msgs {
		content = append(content, json.RawMessage(m.SBD))
	}
	return ok(wire.NewPage(content, p.Page, p.Size, total, sorted))
}

// isService reports whether s names a service identifier constant (DPO…DPH or UNKNOWN).
func isService(s string) bool {
	return s == string(wire.ServiceUnknown) || wire.ParseServiceIdentifier(s) != wire.ServiceUnknown
}
