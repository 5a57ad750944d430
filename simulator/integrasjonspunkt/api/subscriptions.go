package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/webhook"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Webhooks is what the subscription endpoints need besides the store (webhook.Dispatcher implements it).
type Webhooks interface {
	// Ping posts the ping event to pushEndpoint and waits for the answer. The API only logs its error:
	// a failing ping does not fail the request, as in the real IP.
	Ping(ctx context.Context, pushEndpoint string) error
	// SubscriptionsChanged is called after every create, update or delete of subscriptions.
	SubscriptionsChanged()
}

// The webhook exceptions (spec ip-api §2.2).
const (
	exSubscriptionNotFound = exPrefix + "SubscriptionNotFoundException"
	exSubscriptionExists   = exPrefix + "SubscriptionWithSameNameAndPushEndpointAlreadyExists"
)

// subscriptionObject is the Java class name Jackson names in its errors, and subscriptionBinding the
// object name of its binding errors.
const (
	subscriptionClass   = "no.difi.meldingsutveksling.domain.webhooks.Subscription"
	subscriptionBinding = "subscription"
	maxSubscriptionSize = 1 * mib
)

// subscriptionEntity is the pageable Subscription resource.
var subscriptionEntity = entity{name: "Subscription", sortable: props("id", "name", "pushEndpoint", "resource", "event", "filter")}

// subscriptionView is the Subscription JSON (spec ip-api §8.1); a subscription without filter has none.
type subscriptionView struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	PushEndpoint string `json:"pushEndpoint"`
	Resource     string `json:"resource"`
	Event        string `json:"event"`
	Filter       string `json:"filter,omitempty"`
}

func subscriptionViewOf(s store.Subscription) subscriptionView {
	return subscriptionView{ID: s.ID, Name: s.Name, PushEndpoint: s.PushEndpoint, Resource: s.Resource, Event: s.Event, Filter: s.Filter}
}

// subscriptionRoutes adds the /api/subscriptions endpoints (spec ip-api §8.1) to the route table.
func (a *API) subscriptionRoutes(r *mux.Router, h func(handlerFunc) http.Handler, get []string) {
	r.Handle("/api/subscriptions", h(a.listSubscriptions)).Methods(get...).Name("subscriptions.list")
	r.Handle("/api/subscriptions", h(a.createSubscription)).Methods(http.MethodPost).Name("subscriptions.create")
	r.Handle("/api/subscriptions", h(a.deleteAllSubscriptions)).Methods(http.MethodDelete).Name("subscriptions.delete.all")
	r.Handle("/api/subscriptions/{id}", h(a.getSubscription)).Methods(get...).Name("subscriptions.get")
	r.Handle("/api/subscriptions/{id}", h(a.updateSubscription)).Methods(http.MethodPut).Name("subscriptions.update")
	r.Handle("/api/subscriptions/{id}", h(a.deleteSubscription)).Methods(http.MethodDelete).Name("subscriptions.delete")
}

// errSubscriptionNotFound is 404 SubscriptionNotFoundException (the id with digit grouping, as
// MessageFormat prints a Long).
func errSubscriptionNotFound(id int64) *apiError {
	return newError(http.StatusNotFound, exSubscriptionNotFound, "Subscription with id = "+groupDigits(id)+" was not found")
}

// errSubscriptionExists is 400 SubscriptionWithSameNameAndPushEndpointAlreadyExists.
func errSubscriptionExists() *apiError {
	return newError(http.StatusBadRequest, exSubscriptionExists, "Subscription with same name and push endpoint already exists.")
}

// webhooks is Options.Webhooks, or a plain pinger when there is none.
func (a *API) webhooks() Webhooks {
	if a.opts.Webhooks != nil {
		return a.opts.Webhooks
	}
	return plainWebhooks{now: a.opts.Now}
}

// plainWebhooks pings with a client of its own (10 s timeout, no redirects) and ignores changes.
type plainWebhooks struct{ now func() time.Time }

var pingClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (p plainWebhooks) Ping(ctx context.Context, pushEndpoint string) error {
	return webhook.Post(ctx, pingClient, 10*time.Second, pushEndpoint, webhook.PingEvent(p.now()).JSON())
}

func (plainWebhooks) SubscriptionsChanged() {}

// ping pings pushEndpoint and logs a failure; the request goes on either way, as in the real IP. The
// ping outlives the client's request, as the real IP's does.
func (a *API) ping(r *http.Request, pushEndpoint string) {
	if err := a.webhooks().Ping(context.WithoutCancel(r.Context()), pushEndpoint); err != nil {
		a.log.Info("webhook ping failed", "pushEndpoint", pushEndpoint, "error", err)
	}
}

// listSubscriptions serves GET /api/subscriptions: a page of subscriptions (unsorted by default).
func (a *API) listSubscriptions(r *http.Request) response {
	p, sorted, err := pageRequest(r.URL.Query(), subscriptionEntity, nil)
	if err != nil {
		return fail(err)
	}
	subs, total, err := a.opts.Store.SubscriptionPage(r.Context(), p)
	if err != nil {
		return fail(errInternal(err))
	}
	content := make([]subscriptionView, 0, len(subs))
	for _, s := range subs {
		content = append(content, subscriptionViewOf(s))
	}
	return ok(wire.NewPage(content, p.Page, p.Size, total, sorted))
}

// getSubscription serves GET /api/subscriptions/{id}.
func (a *API) getSubscription(r *http.Request) response {
	id, err := pathLong("id", mux.Vars(r)["id"])
	if err != nil {
		return fail(err)
	}
	s, err := a.opts.Store.Subscription(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return fail(errSubscriptionNotFound(id))
	}
	if err != nil {
		return fail(errInternal(err))
	}
	return ok(subscriptionViewOf(s))
}

// createSubscription serves POST /api/subscriptions: validate (Create group), refuse a duplicate name
// and push endpoint, ping the push endpoint (its outcome is only logged), store, and answer the stored
// subscription.
func (a *API) createSubscription(r *http.Request) response {
	in, aerr := readSubscription(r)
	if aerr != nil {
		return fail(aerr)
	}
	if errs := in.validate(true); len(errs) > 0 {
		return fail(errSubscriptionNotValid(errs))
	}
	ctx := r.Context()
	_, err := a.opts.Store.SubscriptionByNameAndPushEndpoint(ctx, *in.name, *in.pushEndpoint)
	if err == nil {
		return fail(errSubscriptionExists())
	}
	if !errors.Is(err, store.ErrNotFound) {
		return fail(errInternal(err))
	}
	a.ping(r, *in.pushEndpoint)
	sub := store.Subscription{Name: *in.name, PushEndpoint: *in.pushEndpoint, Resource: *in.resource, Event: *in.event}
	if in.filter != nil {
		sub.Filter = *in.filter
	}
	sub, err = a.opts.Store.CreateSubscription(context.WithoutCancel(ctx), sub)
	if errors.Is(err, store.ErrDuplicate) {
		return fail(errSubscriptionExists())
	}
	if err != nil {
		return fail(errInternal(err))
	}
	a.webhooks().SubscriptionsChanged()
	return ok(subscriptionViewOf(sub))
}

// updateSubscription serves PUT /api/subscriptions/{id}: a partial update (absent or null fields are
// kept), validated with the Update group; the push endpoint is pinged when it changes. 200 without body.
func (a *API) updateSubscription(r *http.Request) response {
	id, err := pathLong("id", mux.Vars(r)["id"])
	if err != nil {
		return fail(err)
	}
	in, aerr := readSubscription(r)
	if aerr != nil {
		return fail(aerr)
	}
	if errs := in.validate(false); len(errs) > 0 {
		return fail(errSubscriptionNotValid(errs))
	}
	ctx := r.Context()
	cur, err := a.opts.Store.Subscription(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return fail(errSubscriptionNotFound(id))
	}
	if err != nil {
		return fail(errInternal(err))
	}
	name, endpoint := cur.Name, cur.PushEndpoint
	if in.name != nil {
		name = *in.name
	}
	if in.pushEndpoint != nil {
		endpoint = *in.pushEndpoint
	}
	other, err := a.opts.Store.SubscriptionByNameAndPushEndpoint(ctx, name, endpoint)
	if err == nil && other.ID != id {
		return fail(errSubscriptionExists())
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fail(errInternal(err))
	}
	if in.pushEndpoint != nil && *in.pushEndpoint != cur.PushEndpoint {
		a.ping(r, *in.pushEndpoint)
	}
	_, err = a.opts.Store.UpdateSubscription(context.WithoutCancel(ctx), id, store.SubscriptionPatch{Name: in.name,
		PushEndpoint: in.pushEndpoint, Resource: in.resource, Event: in.event, Filter: in.filter})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fail(errSubscriptionNotFound(id))
	case errors.Is(err, store.ErrDuplicate):
		return fail(errSubscriptionExists())
	case err != nil:
		return fail(errInternal(err))
	}
	a.webhooks().SubscriptionsChanged()
	return empty(http.StatusOK)
}

// deleteSubscription serves DELETE /api/subscriptions/{id}: 200, or 404 when there is no such subscription.
func (a *API) deleteSubscription(r *http.Request) response {
	id, err := pathLong("id", mux.Vars(r)["id"])
	if err != nil {
		return fail(err)
	}
	err = a.opts.Store.DeleteSubscription(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return fail(errSubscriptionNotFound(id))
	}
	if err != nil {
		return fail(errInternal(err))
	}
	a.webhooks().SubscriptionsChanged()
	return empty(http.StatusOK)
}

// deleteAllSubscriptions serves DELETE /api/subscriptions.
func (a *API) deleteAllSubscriptions(r *http.Request) response {
	if err := a.opts.Store.DeleteAllSubscriptions(r.Context()); err != nil {
		return fail(errInternal(err))
	}
	a.webhooks().SubscriptionsChanged()
	return empty(http.StatusOK)
}

// subscriptionInput is a posted Subscription; nil fields were absent or null.
type subscriptionInput struct {
	id                                          *int64
	name, pushEndpoint, resource, event, filter *string
}

// readSubscription reads a Subscription JSON body as Jackson does: unknown properties are ignored,
// numbers and booleans are accepted for strings, numbers and numeric strings for the id.
func readSubscription(r *http.Request) (subscriptionInput, *apiError) {
	var in subscriptionInput
	if err := requireJSON(r); err != nil {
		e, _ := asAPIError(err)
		return in, e
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSubscriptionSize+1))
	if err != nil {
		return in, errNotReadable("I/O error while reading input message: " + err.Error())
	}
	if len(body) > maxSubscriptionSize {
		return in, errNotReadable(fmt.Sprintf("I/O error while reading input message: the body is larger than %d bytes", maxSubscriptionSize))
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return in, errNotReadable("Required request body is missing")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return in, errNotReadable("JSON parse error: " + err.Error()).withCause(err)
	}
	obj, isObj := v.(map[string]any)
	if !isObj {
		return in, errNotReadable(fmt.Sprintf("JSON parse error: Cannot deserialize value of type `%s` from %s", subscriptionClass, jsonKind(v)))
	}
	strs := map[string]**string{"name": &in.name, "pushEndpoint": &in.pushEndpoint, "resource": &in.resource,
		"event": &in.event, "filter": &in.filter}
	for _, key := range []string{"name", "pushEndpoint", "resource", "event", "filter"} {
		s, ok := jacksonString(obj[key])
		if !ok {
			return in, errNotReadable(fmt.Sprintf("JSON parse error: Cannot deserialize value of type `java.lang.String` from %s (through reference chain: %s[\"%s\"])",
				jsonKind(obj[key]), subscriptionClass, key))
		}
		*strs[key] = s
	}
	id, msg := jacksonLong(obj["id"])
	if msg != "" {
		return in, errNotReadable(fmt.Sprintf("JSON parse error: Cannot deserialize value of type `java.lang.Long` from %s (through reference chain: %s[\"id\"])",
			msg, subscriptionClass))
	}
	in.id = id
	return in, nil
}

// jsonKind names a decoded JSON value as Jackson's messages do.
func jsonKind(v any) string {
	switch v := v.(type) {
	case map[string]any:
		return "Object value (token `JsonToken.START_OBJECT`)"
	case []any:
		return "Array value (token `JsonToken.START_ARRAY`)"
	case bool:
		if v {
			return "Boolean value (token `JsonToken.VALUE_TRUE`)"
		}
		return "Boolean value (token `JsonToken.VALUE_FALSE`)"
	case string:
		return fmt.Sprintf("String %q", v)
	case json.Number:
		return "Number value"
	}
	return "Null value"
}

// jacksonString converts a JSON value to a String property as Jackson does (scalars are coerced);
// ok is false for objects and arrays.
func jacksonString(v any) (s *string, ok bool) {
	var out string
	switch v := v.(type) {
	case nil:
		return nil, true
	case string:
		out = v
	case json.Number:
		out = v.String()
	case bool:
		out = strconv.FormatBool(v)
	default:
		return nil, false
	}
	return &out, true
}

// jacksonLong converts a JSON value to a Long property as Jackson does: integers, floats (truncated)
// and numeric strings; an empty string is null. msg describes a value that does not convert.
func jacksonLong(v any) (n *int64, msg string) {
	switch v := v.(type) {
	case nil:
		return nil, ""
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return &i, ""
		}
		if f, err := v.Float64(); err == nil && f >= -9.2e18 && f <= 9.2e18 {
			i := int64(f)
			return &i, ""
		}
		return nil, fmt.Sprintf("Number %s: out of range of `java.lang.Long`", v)
	case string:
		t := strings.TrimSpace(v)
		if t == "" {
			return nil, ""
		}
		if i, err := strconv.ParseInt(t, 10, 64); err == nil {
			return &i, ""
		}
		return nil, fmt.Sprintf("String %q: not a valid `java.lang.Long` value", v)
	}
	return nil, jsonKind(v)
}

// oneOfMessage is the real @OneOf message: "'<value>' is not expected. Allowed values are: [a, b]".
func oneOfMessage(value string, allowed ...string) string {
	return "'" + value + "' is not expected. Allowed values are: [" + strings.Join(allowed, ", ") + "]"
}

// validate is the bean validation of Subscription (spec ip-api §8.1): with create (group Create) id must
// be null and name, pushEndpoint, resource and event must be set; always (Default group) pushEndpoint
// must be a URL, resource and event one of their values, and filter a valid filter definition.
func (in subscriptionInput) validate(create bool) []wire.FieldError {
	var out []wire.FieldError
	notNull := func(field string, v *string) {
		if create && v == nil {
			out = append(out, wire.FieldError{Field: field, Code: "NotNull", Message: "must not be null"})
		}
	}
	if create && in.id != nil {
		out = append(out, wire.FieldError{Field: "id", Code: "Null", Message: "must be null", RejectedValue: *in.id})
	}
	notNull("name", in.name)
	notNull("pushEndpoint", in.pushEndpoint)
	if p := in.pushEndpoint; p != nil && !javaURL(*p) {
		out = append(out, wire.FieldError{Field: "pushEndpoint", Code: "URL", Message: "must be a valid URL", RejectedValue: *p})
	}
	for _, f := range []struct {
		field   string
		v       *string
		allowed []string
	}{
		{"resource", in.resource, []string{webhook.ResourceAll, webhook.ResourceMessages}},
		{"event", in.event, []string{webhook.EventAll, webhook.EventStatus}},
	} {
		notNull(f.field, f.v)
		if f.v != nil && *f.v != f.allowed[0] && *f.v != f.allowed[1] {
			out = append(out, wire.FieldError{Field: f.field, Code: "OneOf", Message: oneOfMessage(*f.v, f.allowed...), RejectedValue: *f.v})
		}
	}
	if f := in.filter; f != nil {
		if _, err := webhook.ParseFilter(*f); err != nil {
			out = append(out, wire.FieldError{Field: "filter", Code: "WebhookFilter", Message: "Must be a valid filter definition.", RejectedValue: *f})
		}
	}
	return out
}

// errSubscriptionNotValid is the subscription endpoints' answer to bean-validation errors (spec ip-api
// §2.3 shape 1): Spring's binding errors on the object "subscription".
func errSubscriptionNotValid(errs []wire.FieldError) *apiError {
	e := newError(http.StatusBadRequest, exMethodArgNotValid,
		fmt.Sprintf("Validation failed for object='%s'. Error count: %d", subscriptionBinding, len(errs)))
	for _, fe := range errs {
		e.errors = append(e.errors, wire.ValidationError{
			Codes:          messageCodes(fe.Code, subscriptionBinding, fe.Field),
			DefaultMessage: fe.Message,
			ObjectName:     subscriptionBinding,
			Field:          fe.Field,
			RejectedValue:  fe.RejectedValue,
			Code:           fe.Code,
		})
	}
	return e
}

// javaURLSchemes are the protocols java.net.URL has handlers for.
var javaURLSchemes = map[string]bool{"http": true, "https": true, "ftp": true, "file": true, "jar": true, "mailto": true, "jrt": true}

// javaURL is Hibernate Validator's @URL check: empty is valid, otherwise java.net.URL must accept the
// value: a known protocol, a numeric port when one is given, "!/" in a jar URL.
func javaURL(s string) bool {
	s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	if s == "" {
		return true
	}
	if len(s) > 4 && strings.EqualFold(s[:4], "url:") {
		s = s[4:]
	}
	i := strings.IndexByte(s, ':')
	if i <= 0 {
		return false
	}
	scheme := strings.ToLower(s[:i])
	for j, c := range scheme {
		if !(c >= 'a' && c <= 'z' || j > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	if !javaURLSchemes[scheme] {
		return false
	}
	rest := s[i+1:]
	if scheme == "jar" {
		return strings.Contains(rest, "!/")
	}
	if !strings.HasPrefix(rest, "//") {
		return true
	}
	authority := rest[2:]
	if j := strings.IndexAny(authority, "/?#"); j >= 0 {
		authority = authority[:j]
	}
	host := authority[strings.LastIndexByte(authority, '@')+1:]
	if strings.HasPrefix(host, "[") {
		j := strings.IndexByte(host, ']')
		if j < 0 {
			return false
		}
		host = host[j+1:]
		if host != "" && host[0] != ':' {
			return false
		}
	}
	if j := strings.LastIndexByte(host, ':'); j >= 0 {
		for _, c := range host[j+1:] {
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	return true
}
