// Package features holds the harness's Gherkin scenarios, by capability (routing/, auth/, resilience/, …).
// They are embedded so that the binary's `test` command runs the same scenarios against any stack;
// `go test ./features/...` runs them against an in-process stack on free ports.
package features

import "embed"

// FS holds every .feature file, by capability directory.
//
//go:embed */*.feature
var FS embed.FS
