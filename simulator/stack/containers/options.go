package containers

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/testcontainers/testcontainers-go"

	"github.com/efm-harness/efm-harness/simulator/stack"
)

// Option configures Run.
type Option func(*settings) error

// settings is what the options chose.
type settings struct {
	image          string
	services       []string
	orgs           map[string]string
	fast           bool
	args           map[string][]string
	env            map[string]string
	logs           io.Writer
	startupTimeout time.Duration
	customizers    []testcontainers.ContainerCustomizer
}

func defaultSettings() settings {
	return settings{
		image:          DefaultImage,
		services:       DefaultServices(),
		orgs:           map[string]string{},
		args:           map[string][]string{},
		env:            map[string]string{},
		startupTimeout: time.Minute,
	}
}

// WithImage runs the containers from image instead of DefaultImage (e.g. a tag made by
// `make image IMAGE=efm-harness:ci`). The image must be in the local engine: Run pulls nothing.
func WithImage(image string) Option {
	return func(s *settings) error {
		if image == "" {
			return fmt.Errorf("%w: empty image", ErrOption)
		}
		s.image = image
		return nil
	}
}

// WithServices starts only these services (names as in package stack: stack.SR, stack.Maskinporten,
// stack.DPO, stack.DPV, stack.DPF, stack.DPI, stack.IP, stack.IP2), one container each. An integration
// point needs stack.SR and stack.Maskinporten. The default is DefaultServices().
func WithServices(names ...string) Option {
	return func(s *settings) error {
		if len(names) == 0 {
			return fmt.Errorf("%w: no services", ErrOption)
		}
		for _, n := range names {
			if !slices.Contains(AllServices(), n) {
				return fmt.Errorf("%w: %q (known: %v)", ErrUnknownService, n, AllServices())
			}
		}
		s.services = slices.Clone(names)
		return nil
	}
}

// WithSecondIP adds the second integration point (stack.IP2), the test population's receiving
// organisation, so that the two exchange messages over DPO as two organisations do.
func WithSecondIP() Option {
	return func(s *settings) error {
		if !slices.Contains(s.services, stack.IP2) {
			s.services = append(s.services, stack.IP2)
		}
		return nil
	}
}

// WithOrganisation makes the integration point ip (stack.IP or stack.IP2) send and receive as the
// organisation orgnr, which the test PKI must hold a credential for (the population's organisations do).
// The defaults are the population's sender (910077473) for stack.IP and receiver (910075918) for
// stack.IP2. The DPF simulator knows those two and the organisation given for stack.IP.
func WithOrganisation(ip, orgnr string) Option {
	return func(s *settings) error {
		if ip != stack.IP && ip != stack.IP2 {
			return fmt.Errorf("%w: %q is not an integration point", ErrOption, ip)
		}
		if len(orgnr) != 9 {
			return fmt.Errorf("%w: organisation number %q is not nine digits", ErrOption, orgnr)
		}
		s.orgs[ip] = orgnr
		return nil
	}
}

// WithFast scales every interval of every service to milliseconds (efm-harness --fast): retries, polls
// and a message's 24-hour life play out in seconds. Tests want it.
func WithFast() Option {
	return func(s *settings) error { s.fast = true; return nil }
}

// WithArgs adds command-line flags to one service's container, e.g. WithArgs(stack.IP, "--auth",
// "user:pw") or WithArgs(stack.SR, "--require-auth").
func WithArgs(service string, args ...string) Option {
	return func(s *settings) error {
		if !slices.Contains(AllServices(), service) {
			return fmt.Errorf("%w: %q", ErrUnknownService, service)
		}
		s.args[service] = append(s.args[service], args...)
		return nil
	}
}

// WithEnv sets environment variables in every container (EFM_* variables are the flags' fallbacks).
func WithEnv(env map[string]string) Option {
	return func(s *settings) error { maps.Copy(s.env, env); return nil }
}

// WithLogs copies every container's output to w, each line prefixed with the service's name (for
// example t.Output() in a test).
func WithLogs(w io.Writer) Option {
	return func(s *settings) error { s.logs = w; return nil }
}

// WithStartupTimeout bounds how long Run, Start and Restart wait for a container to answer its health
// check (one minute by default).
func WithStartupTimeout(d time.Duration) Option {
	return func(s *settings) error {
		if d <= 0 {
			return fmt.Errorf("%w: startup timeout %s", ErrOption, d)
		}
		s.startupTimeout = d
		return nil
	}
}

// WithContainerCustomizers applies testcontainers options to every container after the module's own,
// as an escape hatch (for example testcontainers.WithHostConfigModifier).
func WithContainerCustomizers(opts ...testcontainers.ContainerCustomizer) Option {
	return func(s *settings) error { s.customizers = append(s.customizers, opts...); return nil }
}
