package features_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cucumber/godog"

	"github.com/efm-harness/efm-harness/features"
	"github.com/efm-harness/efm-harness/simulator/stack"
	"github.com/efm-harness/efm-harness/steps"
	"github.com/efm-harness/efm-harness/steps/report"
)

// TestFeatures runs every scenario against an in-process stack on free ports. Each scenario is a subtest:
// go test ./features/ -run 'TestFeatures/<scenario name>'. Set EFM_TAGS to filter by tags.
func TestFeatures(t *testing.T) {
	st, err := stack.Start(context.Background(), stack.Config{Ports: stack.Ports(0), Fast: true, IPs: 2, LockTimeout: 2 * time.Second,
		IPAuth: "arkivsystem:hemmelig", AdminAuth: "harness:admin"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })

	reports := filepath.Join("..", "reports")
	if err := os.MkdirAll(reports, 0o755); err != nil {
		t.Fatal(err)
	}
	suite := godog.TestSuite{
		Name: "efm-harness",
		ScenarioInitializer: steps.Initialize(steps.Config{
			SRURL: st.URL(stack.SR), MaskinportenURL: st.URL(stack.Maskinporten), ControlURL: st.ControlURL(),
			IPURL: st.URL(stack.IP), IP2URL: st.URL(stack.IP2), DPOURL: st.URL(stack.DPO),
			DPVURL: st.URL(stack.DPV), DPFURL: st.URL(stack.DPF), DPIURL: st.URL(stack.DPI),
			Population: st.Population(), PKI: st.PKI(), Timeout: 10 * time.Second, ReferenceIP: true,
			// The integration points require HTTP Basic authentication, as the real one does by default.
			IPAuth: "arkivsystem:hemmelig", AdminAuth: "harness:admin",
			// @crash: the in-process integration point is crashed and restarted on its data directory and
			// port. This emulates a crash within one process; the real SIGKILL of a separate process is
			// proven by the crash tests of cmd/efm-harness.
			RestartIP: st.RestartIP,
		}),
		Options: &godog.Options{
			FS:        features.FS,
			Paths:     []string{"."},
			Strict:    true,
			Randomize: -1,
			NoColors:  true,
			Tags:      os.Getenv("EFM_TAGS"),
			Format: "pretty,junit:" + filepath.Join(reports, "features-junit.xml") +
				",cucumber:" + filepath.Join(reports, "features-cucumber.json"),
			TestingT: t,
		},
	}
	status := suite.Run()
	html := filepath.Join(reports, "features.html")
	if _, err := report.WriteFile(filepath.Join(reports, "features-cucumber.json"), html, "efm-harness scenarios"); err != nil {
		t.Errorf("HTML report: %v", err)
	} else {
		t.Logf("HTML report: %s", html)
	}
	if status != 0 {
		t.Fatalf("feature suite failed with status %d", status)
	}
}
