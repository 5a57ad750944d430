package admin

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// callerOf is the organisation number a request's bearer token acts for, as the journal records it: the
// system user's organisation of an Altinn token (authorization_details[].systemuser_org), else the
// consumer's, else consumer_org. The token is read, not verified: the journal tells requests of one
// integration point from another's, it does not authenticate them. Anything that is not a readable JWT
// gives "".
func callerOf(authorization string) string {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || len(tok) > 64<<10 {
		return ""
	}
	parts := strings.Split(strings.TrimSpace(tok), ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return ""
	}
	type party struct {
		ID string `json:"ID"`
	}
	var c struct {
		AuthorizationDetails json.RawMessage `json:"authorization_details"`
		Consumer             *party          `json:"consumer"`
		ConsumerOrg          string          `json:"consumer_org"`
	}
	if json.Unmarshal(payload, &c) != nil {
		return ""
	}
	// authorization_details is a list in Maskinporten's tokens, an object in some hand-made ones.
	var details []struct {
		SystemUserOrg *party `json:"systemuser_org"`
	}
	if json.Unmarshal(c.AuthorizationDetails, &details) != nil {
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
	if c.Consumer != nil && c.Consumer.ID != "" {
		return orgnrOf(c.Consumer.ID)
	}
	return c.ConsumerOrg
}

// orgnrOf strips the ICD prefix of an ISO 6523 identifier ("0192:991825827" → "991825827").
func orgnrOf(id string) string {
	if _, nr, ok := strings.Cut(id, ":"); ok {
		return nr
	}
	return id
}
