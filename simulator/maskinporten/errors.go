package maskinporten

import (
	"net/http"
	"strings"
)

// OAuthError is a refusal of the token endpoint: the OAuth 2.0 error body Maskinporten answers with
// (RFC 6749 §5.2) plus the HTTP status it is sent with. The server answers with the sentinels below;
// RequestToken returns one when the endpoint refuses. errors.Is matches on Code and Description; a target
// whose Description ends in ":" matches as a prefix, so errors.Is(err, ErrUnsupportedGrantType) holds for
// "Invalid grant type: <any value>".
type OAuthError struct {
	// Status is the HTTP status (400 for every refusal of a grant).
	Status int `json:"-"`
	// Code is the OAuth error code, e.g. "invalid_grant".
	Code string `json:"error"`
	// Description is Maskinporten's human-readable text.
	Description string `json:"error_description,omitempty"`
}

// Error is "code: description".
func (e *OAuthError) Error() string {
	if e.Description == "" {
		return "maskinporten: " + e.Code
	}
	return "maskinporten: " + e.Code + ": " + e.Description
}

// Is reports whether target is an *OAuthError with the same code and description (or, when the target's
// description ends in ":", a description that starts with it).
func (e *OAuthError) Is(target error) bool {
	t, ok := target.(*OAuthError)
	if !ok || t == nil || t.Code != e.Code {
		return false
	}
	if strings.HasSuffix(t.Description, ":") {
		return strings.HasPrefix(e.Description, t.Description)
	}
	return t.Description == e.Description
}

// OAuth error codes the simulator answers with.
const (
	CodeInvalidRequest         = "invalid_request"
	CodeInvalidClient          = "invalid_client"
	CodeInvalidGrant           = "invalid_grant"
	CodeInvalidScope           = "invalid_scope"
	CodeUnsupportedGrantType   = "unsupported_grant_type"
	CodeTemporarilyUnavailable = "temporarily_unavailable"
)

const clientAuthFailed = "Invalid assertion. Client authentication failed."

func refusal(code, description string) *OAuthError {
	return &OAuthError{Status: http.StatusBadRequest, Code: code, Description: description}
}

// The refusals of the token endpoint, with Maskinporten's codes and texts.
var (
	// ErrUnsupportedGrantType: grant_type is missing or not the JWT-bearer grant. The description the
	// server sends is "Invalid grant type: <value>".
	ErrUnsupportedGrantType = refusal(CodeUnsupportedGrantType, "Invalid grant type:")
	// ErrInvalidAssertion: the assertion is missing, not a compact JWS, or lacks a required claim.
	ErrInvalidAssertion = refusal(CodeInvalidRequest, "Invalid assertion. Invalid parameter value")
	// ErrInvalidAudience: aud is not this issuer.
	ErrInvalidAudience = refusal(CodeInvalidGrant, clientAuthFailed+" Invalid JWT claim aud")
	// ErrInvalidCertificate: the x5c certificate is not issued by a trusted CA, is not valid yet, or has
	// no RSA key.
	ErrInvalidCertificate = refusal(CodeInvalidClient, clientAuthFailed+" The JWT is signed with an invalid certificate.")
	// ErrExpiredKey: the x5c certificate has expired.
	ErrExpiredKey = refusal(CodeInvalidClient, clientAuthFailed+" Expired key")
	// ErrInvalidX5C: the x5c header is not a non-empty array of base64 DER certificates.
	ErrInvalidX5C = refusal(CodeInvalidClient, clientAuthFailed+" Invalid JWT header x5c")
	// ErrClientNotFound: the kid is not registered (or belongs to another client), or an assertion with
	// neither x5c nor kid names a client with no registered key.
	ErrClientNotFound = refusal(CodeInvalidClient, clientAuthFailed+" Client not found")
	// ErrInvalidSignature: the signature does not verify with the certificate's or registered key, or
	// alg is not RS256, RS384 or RS512.
	ErrInvalidSignature = refusal(CodeInvalidGrant, clientAuthFailed+" Invalid JWT signature")
	// ErrExpired: exp has passed.
	ErrExpired = refusal(CodeInvalidGrant, "Invalid assertion. JWT is expired")
	// ErrIssuedInFuture: iat is more than the clock skew ahead of the simulator's clock.
	ErrIssuedInFuture = refusal(CodeInvalidGrant, "Invalid assertion. Issue time is after now")
	// ErrLifetimeTooLong: exp - iat is more than 120 seconds.
	ErrLifetimeTooLong = refusal(CodeInvalidGrant, "Invalid assertion. JWT lifetime exceeds 120 seconds")
	// ErrReplayed: the (iss, jti) pair was granted before.
	ErrReplayed = refusal(CodeInvalidGrant, "Invalid assertion. Grant is used before")
	// ErrMissingIssuer: iss is missing or empty.
	ErrMissingIssuer = refusal(CodeInvalidClient, clientAuthFailed)
	// ErrInvalidScope: scope is missing or names a scope the simulator does not grant.
	ErrInvalidScope = refusal(CodeInvalidScope, "Token request contains invalid scopes for client")
	// ErrBodyTooLarge: the form body is larger than MaxBodySize (status 413).
	ErrBodyTooLarge = &OAuthError{Status: http.StatusRequestEntityTooLarge, Code: CodeInvalidRequest,
		Description: "Request body too large"}
	// ErrInvalidForm: the body is not an application/x-www-form-urlencoded form.
	ErrInvalidForm = refusal(CodeInvalidRequest, "Invalid request. Expected an application/x-www-form-urlencoded body")
)

func unsupportedGrantType(value string) *OAuthError {
	return refusal(CodeUnsupportedGrantType, "Invalid grant type: "+value)
}
