package admin

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync/atomic"
)

// callerOf is the organisation number a request's bearer token acts for, as the journal records it: the
// system user's organisation of an Altinn token (authorization_details[].systemuser_org), else the
// consumer's, else consumer_org. The token is read, not verified: the journal tells requests of one
// integration point from another's, it does not authenticate them. Anything that is not a readable JWT
// gives "".
func callerOf(authorization string) string {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || len(tok) > 64<<10 || strings.Count(tok, ".") != 2 {
		return ""
	}
	if v, ok := lastCaller.Load().(callerMemo); ok && v.token == tok {
		return v.caller // an integration point sends the same token for many requests
	}
	c := callerOfJWT(tok)
	lastCaller.Store(callerMemo{token: tok, caller: c})
	return c
}

// lastCaller remembers the last token read and its caller.
var lastCaller atomic.Value

type callerMemo struct{ token, caller string }

// callerOfJWT reads the caller from a compact JWS's payload.
func callerOfJWT(tok string) string {
	_, rest, _ := strings.Cut(tok, ".")
	mid, _, _ := strings.Cut(rest, ".")
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(mid, "="))
	if err != nil {
		return ""
	}
	type party struct {
		ID string `json:"ID"`
	}
	// Each claim on its own, so that one of an unexpected shape does not hide the others.
	var c struct {
		AuthorizationDetails json.RawMessage `json:"authorization_details"`
		Consumer             json.RawMessage `json:"consumer"`
		ConsumerOrg          json.RawMessage `json:"consumer_org"`
	}
	if json.Unmarshal(payload, &c) != nil {
		return ""
	}
	// authorization_details is a list in Maskinporten's tokens, an object in some hand-made ones.
	var details []struct {
		SystemUserOrg *party `json:"systemuser_org"`
	}
	if len(c.AuthorizationDetails) > 0 && json.Unmarshal(c.AuthorizationDetails, &details) != nil {
		details = details[:0]
		var one struct {
			SystemUserOrg *party `json:"systemuser_org"`
		}
		if json.Unmarshal(c.AuthorizationDetails, &one) == nil {
			details = append(details, one)
		}
	}
	for _, d := range details {
		if d.SystemUserOrg != nil && d.SystemUserOrg.ID != "" {
			return orgnrOf(d.SystemUserOrg.ID)
		}
	}
	var consumer party
	if len(c.Consumer) > 0 && json.Unmarshal(c.Consumer, &consumer) == nil && consumer.ID != "" {
		return orgnrOf(consumer.ID)
	}
	var org string
	if len(c.ConsumerOrg) > 0 && json.Unmarshal(c.ConsumerOrg, &org) == nil {
		return org
	}
	return ""
}

// orgnrOf strips the ICD prefix of an ISO 6523 identifier ("0192:991825827" → "991825827").
func orgnrOf(id string) string {
	if _, nr, ok := strings.Cut(id, ":"); ok {
		return nr
	}
	return id
}
