// Package maskinporten simulates Digdir's Maskinporten as the eFormidling integration point uses it
// (upstreams §2, §12.1): the OAuth 2.0 JWT-bearer grant (RFC 7523) at POST /token, the JWK set of the
// token signing key at GET /jwk, the authorization server metadata at GET
// /.well-known/oauth-authorization-server, and the shared admin API under /__admin.
//
// # What is simulated
//
// The token endpoint takes grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer and an assertion
// signed RS256, RS384 or RS512, authenticated either by a business certificate in the x5c header
// (client_amr "virksomhetssertifikat"; the chain must lead to Options.Roots) or by a registered client key
// named by kid (client_amr "private_key_jwt"; keys are registered with Server.RegisterKey or
// PUT /__admin/keys/{kid}). It checks aud, iat, exp, the 120 s assertion lifetime, jti replay, and the
// scopes, and refuses with Maskinporten's error codes and texts (see the Err* variables). A granted
// request is answered with an RS256 access token whose claims name the client (client_id), the scopes,
// and the organisation the token acts for: consumer = "0192:<orgnr>" from consumer_org when given (the
// certificate's owner then becomes the supplier), else from the certificate's serialNumber (or the
// organisation registered with the key). consumer_org, authorization_details and resource (as aud) are
// copied. Verifier checks such tokens for the other simulators; MakeAssertion and RequestToken are the
// client side.
//
// # Deviations from the real Maskinporten
//
//   - There is no client registration for certificate clients: any iss is accepted with any certificate
//     from a trusted CA, and every client may have every scope in Options.Scopes. Delegations are not
//     checked: any client may name any consumer_org.
//   - With Options.Roots nil every certificate is trusted (only its validity period is checked);
//     revocation is never checked.
//   - The issuer is taken from Options.Issuer or SetIssuer, else from each request's Host.
//   - Tokens are always self-contained JWTs (never by-reference tokens); their lifetime is
//     Options.TokenLifetime (120 s by default). The claims iss, client_id, client_amr, token_type,
//     scope, consumer, supplier, consumer_org, authorization_details, aud, iat, exp and jti are issued;
//     Maskinporten's other claims (pid, delegation_source, …) are not.
//   - Error descriptions are the fixed texts of the Err* variables, without the correlation id the real
//     service appends.
//   - An assertion with neither x5c nor kid is checked against the keys registered for its iss.
//   - iat may be ClockSkew (10 s) ahead of the simulator's clock and exp ClockSkew behind it. The jti
//     replay memory is per iss and bounded (MaxReplay entries, each forgotten after exp + ClockSkew).
//   - Admin reset forgets the issued tokens, the replay memory and the registered keys.
package maskinporten
