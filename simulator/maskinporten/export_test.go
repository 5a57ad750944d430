package maskinporten

import "time"

// SetVerifierClock replaces a Verifier's clock (tests only).
func SetVerifierClock(v *Verifier, now func() time.Time) { v.now = now }
