package admin

import (
	"encoding/base64"
	"testing"
)

func jwt(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc([]byte(payload)) + "." + enc([]byte("signature"))
}

func TestCallerOf(t *testing.T) {
	for _, tc := range []struct {
		name, authorization, want string
	}{
		{"altinn system user", "Bearer " + jwt(`{"authorization_details":[{"type":"urn:altinn:systemuser","systemuser_org":{"authority":"iso6523-actorid-upis","ID":"0192:910075918"}}],"consumer":{"ID":"0192:987464291"}}`), "910075918"},
		{"system user as an object", "Bearer " + jwt(`{"authorization_details":{"systemuser_org":{"ID":"0192:910075918"}}}`), "910075918"},
		{"maskinporten consumer", "Bearer " + jwt(`{"scope":"svarut:forsendelse","consumer":{"authority":"iso6523-actorid-upis","ID":"0192:987464291"}}`), "987464291"},
		{"consumer_org only", "bearer " + jwt(`{"consumer_org":"987464291"}`), "987464291"},
		{"consumer of another shape", "Bearer " + jwt(`{"consumer":"x","consumer_org":"987464291"}`), "987464291"},
		{"the same token again", "Bearer " + jwt(`{"consumer_org":"987464291"}`), "987464291"},
		{"no organisation", "Bearer " + jwt(`{"scope":"x"}`), ""},
		{"basic", "Basic dXNlcjpwdw==", ""},
		{"not a jwt", "Bearer abc", ""},
		{"payload not base64", "Bearer a.!!!.c", ""},
		{"payload not json", "Bearer " + "eyJ9." + base64.RawURLEncoding.EncodeToString([]byte("[")) + ".c", ""},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := callerOf(tc.authorization); got != tc.want {
				t.Errorf("callerOf = %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzCallerOf(f *testing.F) {
	f.Add("Bearer " + jwt(`{"authorization_details":[{"systemuser_org":{"ID":"0192:910075918"}}]}`))
	f.Add("Bearer " + jwt(`{"consumer":{"ID":"0192:987464291"}}`))
	f.Add("Bearer a.b.c")
	f.Fuzz(func(t *testing.T, authorization string) {
		_ = callerOf(authorization) // must not panic
	})
}
