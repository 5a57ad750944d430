// Package altinn holds the Altinn 3 platform pieces the Altinn-based simulators (DPO's Altinn 3 Broker,
// DPV's Altinn 3 Correspondence) share: RFC 7807 ProblemDetails as ASP.NET Core writes them, and the
// Altinn authentication platform — the Maskinporten token exchange, the Altinn key set and OpenID
// configuration, and the verification of the bearer tokens the simulated APIs are called with.
package altinn
