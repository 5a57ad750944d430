// Package loadtest is the open-model load generator behind `efm-harness load`.
//
// It follows k6's arrival-rate executors (conventions/go-style.md §A3): a Schedule fixes the intended start
// of every iteration from the test's start time, so the schedule never drifts; each start is handed to a
// free virtual user without blocking, a new one is started when none is free, and when MaxVUs are all busy
// the iteration is counted as dropped instead of being queued. Latency is measured from the intended start,
// so a slow target shows up as latency and drops, never as a lower arrival rate (no coordinated omission).
//
// An iteration runs one Flow: the archive-system side of a channel (create, upload, send through the
// integration point's Next Move API, or multipart in one request), or the receiving side (peek, pop,
// delete at a second integration point). Every step is timed into HDR histograms (one set per virtual
// user, merged for the live line and the summary), and a webhook subscription at the integration point
// gives the end-to-end times accepted→SENDT and accepted→LEVERT. Results are printed as a live line each
// second and a summary table, written as JSON and as an HTML report with charts, and checked against
// k6-style thresholds (Threshold).
//
// The package reaches the integration point and the simulators only through their URLs, as
// architecture §3 requires of loadtest.
package loadtest
