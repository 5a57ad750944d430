// Package bearer is the bearer-token verification the simulators share: the address register, DPO, DPV,
// DPF and DPI all learn who calls them from a Maskinporten access token (or from the Altinn token the DPO
// and DPV simulators exchange it for), and they all check such tokens the same way.
//
// This package extends the architecture's import rule (architecture §3: simulators import wire,
// dokumentpakke and admin) with one more shared package: simulators may also import bearer. Like wire and
// dokumentpakke it imports nothing else of this module, so that no simulator has to import another.
//
// A Verifier checks an RS256 JWS against a JWK set and the token's time claims (exp required unless
// AllowMissingExpiry; nbf and iat must not lie in the future), then reads the claims Maskinporten and Altinn
// put in their tokens (Claims). The keys come from one of four sources:
//
//   - NewVerifier: a JWKS URL (Maskinporten's /jwk), cached for JWKSCacheTTL, refreshed in the background,
//     fetched again at once (at most once a second) when a token names an unknown kid;
//   - NewStaticVerifier: a fixed set (a simulator's own keys);
//   - NewFuncVerifier: a function called for every token (an in-process key source, e.g. the Maskinporten
//     simulator of the same stack);
//   - NewUnverifiedVerifier: none at all; the signature is not checked, only the token's shape and time
//     claims (for hand-made tokens in a lenient simulator; never where the signature matters).
//
// Errors wrap ErrInvalidToken (the caller's fault: answer 401) or ErrKeysUnavailable (the key source's
// fault: answer 503, or whatever the simulator's counterpart answers).
package bearer
