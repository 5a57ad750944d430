package containers_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/testcontainers/testcontainers-go"

	"github.com/efm-harness/efm-harness/simulator/stack/containers"
)

// testImage is the image the tests run: EFM_IMAGE, or what `make image` builds.
func testImage() string {
	if img := os.Getenv("EFM_IMAGE"); img != "" {
		return img
	}
	return containers.DefaultImage
}

// inCI reports whether the tests run in CI, where they must not skip.
func inCI() bool { return os.Getenv("CI") == "true" }

// TestMain sets up testcontainers for a machine with an engine and no registry (no reaper; the
// engine's published ports on localhost), and, where there is no engine or no image, skips the
// examples too (they cannot skip themselves), except in CI, which fails.
func TestMain(m *testing.M) {
	flag.Parse()
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		_ = os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true") // the reaper's image cannot be pulled here
	}
	if dh := os.Getenv("DOCKER_HOST"); os.Getenv("TESTCONTAINERS_HOST_OVERRIDE") == "" && (dh == "" || strings.HasPrefix(dh, "unix://")) {
		// An engine on a local socket publishes ports on this machine; inside a sandbox with /.dockerenv,
		// testcontainers would otherwise take the default gateway for it.
		_ = os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "localhost")
	}
	if reason := unavailable(); reason != "" {
		if inCI() {
			fmt.Fprintf(os.Stderr, "containers: CI runs the container tests, but %s\n", reason)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "containers: %s; the container tests and examples skip\n", reason)
		if f := flag.Lookup("test.skip"); f != nil && f.Value.String() == "" {
			_ = f.Value.Set("^Example")
		}
	}
	os.Exit(m.Run())
}

// unavailable says why the container tests cannot run here ("" when they can).
func unavailable() (reason string) {
	defer func() {
		if r := recover(); r != nil {
			reason = fmt.Sprintf("Docker is not running (%v)", r)
		}
	}()
	ctx := context.Background()
	p, err := testcontainers.ProviderDocker.GetProvider()
	if err != nil {
		return fmt.Sprintf("Docker is not running (%v)", err)
	}
	if err := p.Health(ctx); err != nil {
		return fmt.Sprintf("Docker is not running (%v)", err)
	}
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return fmt.Sprintf("Docker is not reachable (%v)", err)
	}
	defer cli.Close()
	if _, err := cli.ImageInspect(ctx, testImage()); err != nil {
		return fmt.Sprintf("the image %s is not in the engine (build it with `make image`): %v", testImage(), err)
	}
	return ""
}

// requireContainers skips a test that needs Docker and the image when they are missing, except in CI,
// where it fails.
func requireContainers(t *testing.T) {
	t.Helper()
	if inCI() {
		if reason := unavailable(); reason != "" {
			t.Fatalf("CI runs the container tests, but %s", reason)
		}
		return
	}
	testcontainers.SkipIfProviderIsNotHealthy(t)
	if reason := unavailable(); reason != "" {
		t.Skip(reason)
	}
}
