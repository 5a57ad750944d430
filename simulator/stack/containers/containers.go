package containers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/google/uuid"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/stack"
)

// DefaultImage is the image `make image` builds.
const DefaultImage = "efm-harness:local"

// Errors of this package; match them with errors.Is.
var (
	// ErrOption is wrapped by the errors of options given bad values.
	ErrOption = errors.New("containers: bad option")
	// ErrUnknownService is wrapped when a name is not a service of the stack.
	ErrUnknownService = errors.New("containers: unknown service")
	// ErrNotStarted is wrapped when a method names a service the stack did not start.
	ErrNotStarted = errors.New("containers: service not started")
	// ErrImageNotFound is wrapped by Run when the image is not in the local engine (build it with
	// `make image`; nothing is pulled).
	ErrImageNotFound = errors.New("containers: image not found")
)

// ControlPort is the port, inside each container, of the harness control plane of that container's
// process (/__admin/{service}/…), which keeps answering while the service's own port is faulted.
const ControlPort = stack.DefaultPortBase

// AllServices lists every service the module can start, in start-up order: the simulators, then the
// integration points.
func AllServices() []string {
	return []string{stack.SR, stack.Maskinporten, stack.DPO, stack.DPV, stack.DPF, stack.DPI, stack.IP, stack.IP2}
}

// DefaultServices is what Run starts without WithServices: every simulator and one integration point.
func DefaultServices() []string {
	return []string{stack.SR, stack.Maskinporten, stack.DPO, stack.DPV, stack.DPF, stack.DPI, stack.IP}
}

// Port is the port a service listens on inside its container (the architecture's default ports).
func Port(service string) int { return stack.Ports(stack.DefaultPortBase)[service] }

// isIP reports whether service is an integration point.
func isIP(service string) bool { return service == stack.IP || service == stack.IP2 }

// healthPath is what the wait strategy asks of a service.
func healthPath(service string) string {
	if isIP(service) {
		return "/manage/health"
	}
	return admin.Prefix + "/health"
}

// Stack is a running set of containers, one per service, on a network of their own where each is
// reached by its service name (http://dpo:9101). Its methods are safe for concurrent use.
type Stack struct {
	// Network is the Docker network of the stack; attach a system under test that runs in a container
	// to it (network.WithNetwork) to reach the services by InternalURL.
	Network *testcontainers.DockerNetwork

	id       string
	settings settings
	cli      *testcontainers.DockerClient

	mu         sync.Mutex
	containers map[string]*testcontainers.DockerContainer
	urls       map[string]string
	controls   map[string]string
	volumes    map[string]string
	paused     map[string]bool
	terminated bool
}

// Run starts the stack: a network, then the simulators' containers, then the integration points' (each
// with a volume of its own for its data), and returns when every one answers its health check. The
// image must be in the local engine (`make image`); with no registry, set
// TESTCONTAINERS_RYUK_DISABLED=true, since the reaper's image cannot be pulled, and terminate the stack
// yourself (CleanupStack in a test). On an error Run returns what it started with the error, so that
// the caller can terminate it.
func Run(ctx context.Context, opts ...Option) (*Stack, error) {
	s := defaultSettings()
	for _, o := range opts {
		if err := o(&s); err != nil {
			return nil, fmt.Errorf("run efm-harness stack: %w", err)
		}
	}
	if (slices.Contains(s.services, stack.IP) || slices.Contains(s.services, stack.IP2)) &&
		(!slices.Contains(s.services, stack.SR) || !slices.Contains(s.services, stack.Maskinporten)) {
		return nil, fmt.Errorf("run efm-harness stack: %w: an integration point needs %s and %s", ErrOption, stack.SR, stack.Maskinporten)
	}
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, fmt.Errorf("run efm-harness stack: docker: %w", err)
	}
	if _, err := cli.ImageInspect(ctx, s.image); err != nil {
		_ = cli.Close()
		if errdefs.IsNotFound(err) {
			return nil, fmt.Errorf("run efm-harness stack: %w: %s (build it with `make image`; nothing is pulled)", ErrImageNotFound, s.image)
		}
		return nil, fmt.Errorf("run efm-harness stack: inspect image %s: %w", s.image, err)
	}
	st := &Stack{id: uuid.NewString()[:8], settings: s, cli: cli, containers: map[string]*testcontainers.DockerContainer{},
		urls: map[string]string{}, controls: map[string]string{}, volumes: map[string]string{}, paused: map[string]bool{}}
	nw, err := network.New(ctx, network.WithLabels(map[string]string{labelStack: st.id}))
	if err != nil {
		return st, fmt.Errorf("run efm-harness stack: network: %w", err)
	}
	st.Network = nw
	var sims, ips []string
	for _, name := range AllServices() {
		switch {
		case !slices.Contains(s.services, name):
		case isIP(name):
			ips = append(ips, name)
		default:
			sims = append(sims, name)
		}
	}
	for _, group := range [][]string{sims, ips} {
		if err := st.startGroup(ctx, group); err != nil {
			return st, fmt.Errorf("run efm-harness stack: %w", err)
		}
	}
	return st, nil
}

// labelStack labels the stack's containers and network with its id.
const labelStack = "org.efm-harness.stack"

// startGroup starts the containers of names at once and waits for all of them.
func (st *Stack) startGroup(ctx context.Context, names []string) error {
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = st.runContainer(ctx, name)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// command is the efm-harness command line of a service's container.
func (st *Stack) command(name string) []string {
	var cmd []string
	switch name {
	case stack.IP:
		cmd = []string{"ip", "--control-port", strconv.Itoa(ControlPort)}
	case stack.IP2:
		cmd = []string{"ip", "--ip-port", strconv.Itoa(Port(stack.IP2)), "--control-port", strconv.Itoa(ControlPort)}
	default:
		cmd = []string{"sim", "--only", name}
	}
	if name == stack.SR {
		// The register's control plane is the stack's: it serves every other container's admin API too
		// (not ip2's, which is "ip" in its own process).
		var join []string
		for _, other := range st.settings.services {
			if other != stack.SR && other != stack.IP2 {
				join = append(join, fmt.Sprintf("http://%s:%d", other, ControlPort))
			}
		}
		if len(join) > 0 {
			cmd = append(cmd, "--join", strings.Join(join, ","))
		}
	}
	if o := st.settings.orgs[stack.IP]; name == stack.DPF && o != "" {
		cmd = append(cmd, "--ip-org", o) // its SvarUt account and SvarInn user
	}
	if isIP(name) {
		cmd = append(cmd, "--org", st.IPOrg(name))
	}
	return append(cmd, st.settings.args[name]...)
}

// env is the environment of every container: where each simulator of the stack is, and the options.
func (st *Stack) env() map[string]string {
	env := map[string]string{"EFM_QUIET": "true", "EFM_FAST": strconv.FormatBool(st.settings.fast)}
	for _, name := range st.settings.services {
		if !isIP(name) {
			env["EFM_"+strings.ToUpper(name)+"_URL"] = internalURL(name)
		}
	}
	for k, v := range st.settings.env {
		env[k] = v
	}
	return env
}

func internalURL(name string) string { return fmt.Sprintf("http://%s:%d", name, Port(name)) }

func portSpec(port int) string { return fmt.Sprintf("%d/tcp", port) }

// runContainer starts the container of one service.
func (st *Stack) runContainer(ctx context.Context, name string) error {
	s := st.settings
	port := portSpec(Port(name))
	opts := []testcontainers.ContainerCustomizer{
		testcontainers.WithCmd(st.command(name)...),
		testcontainers.WithEnv(st.env()),
		testcontainers.WithExposedPorts(port, portSpec(ControlPort)),
		testcontainers.WithLabels(map[string]string{labelStack: st.id, "org.efm-harness.service": name}),
		network.WithNetwork([]string{name}, st.Network),
		testcontainers.WithWaitStrategyAndDeadline(s.startupTimeout,
			wait.ForHTTP(healthPath(name)).WithPort(port).WithPollInterval(100*time.Millisecond)),
	}
	if isIP(name) {
		vol := fmt.Sprintf("efm-%s-%s-data", st.id, name)
		st.mu.Lock()
		st.volumes[name] = vol
		st.mu.Unlock()
		opts = append(opts, testcontainers.WithMounts(testcontainers.VolumeMount(vol, "/data")))
	}
	if s.logs != nil {
		opts = append(opts, testcontainers.WithLogConsumers(&prefixLogs{w: s.logs, prefix: name + " | "}))
	}
	opts = append(opts, s.customizers...)
	ctr, err := testcontainers.Run(ctx, s.image, opts...)
	if ctr != nil {
		st.mu.Lock()
		st.containers[name] = ctr
		st.mu.Unlock()
	}
	if err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	return st.refresh(ctx, name)
}

// refresh reads the host ports of a service's container again (they change when it is started again).
func (st *Stack) refresh(ctx context.Context, name string) error {
	ctr, err := st.container(name)
	if err != nil {
		return err
	}
	u, err := ctr.PortEndpoint(ctx, portSpec(Port(name)), "http")
	if err != nil {
		return fmt.Errorf("%s: host port: %w", name, err)
	}
	c, err := ctr.PortEndpoint(ctx, portSpec(ControlPort), "http")
	if err != nil {
		return fmt.Errorf("%s: host port of the control plane: %w", name, err)
	}
	st.mu.Lock()
	st.urls[name], st.controls[name] = u, c
	st.mu.Unlock()
	return nil
}

func (st *Stack) container(name string) (*testcontainers.DockerContainer, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	ctr := st.containers[name]
	if ctr == nil {
		return nil, fmt.Errorf("%w: %q", ErrNotStarted, name)
	}
	return ctr, nil
}

// Services lists the services the stack runs, in start-up order.
func (st *Stack) Services() []string {
	var out []string
	for _, n := range AllServices() {
		if slices.Contains(st.settings.services, n) {
			out = append(out, n)
		}
	}
	return out
}

// URL is the base URL of a service from the host running the test (a mapped port on localhost), e.g.
// the integration point's for the system under test. It changes when the container is stopped and
// started again; "" for a service the stack does not run.
func (st *Stack) URL(name string) string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.urls[name]
}

// InternalURL is the base URL of a service from another container on Network, such as
// http://dpo:9101; "" for a service the stack does not run.
func (st *Stack) InternalURL(name string) string {
	if !slices.Contains(st.settings.services, name) {
		return ""
	}
	return internalURL(name)
}

// ControlURL is, from the host, the base URL of the control plane of the process in the service's
// container (its /__admin/{service}/… answers while the service's own port is faulted). The address
// register's, ControlURL(stack.SR), is the stack's: it serves every service's admin API but ip2's.
func (st *Stack) ControlURL(name string) string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.controls[name]
}

// Admin is an admin client for a service (journal, received messages, inject, faults, behaviour), through
// its container's control plane. It cannot reach a container that is paused, stopped or disconnected.
func (st *Stack) Admin(name string) *admin.Client {
	svc := name
	if isIP(name) {
		svc = stack.IP // the second integration point is "ip" in its own process
	}
	return admin.ControlClient(st.ControlURL(name), svc)
}

// IPOrg is the organisation number the integration point ip (stack.IP or stack.IP2) sends and receives as.
func (st *Stack) IPOrg(ip string) string {
	if o := st.settings.orgs[ip]; o != "" {
		return o
	}
	role := fixtures.RoleSender
	if ip == stack.IP2 {
		role = fixtures.RoleReceiver
	}
	return fixtures.Default().Org(role).Orgnr
}

// Container is the testcontainers container of a service, nil if the stack does not run it.
func (st *Stack) Container(name string) *testcontainers.DockerContainer {
	ctr, _ := st.container(name)
	return ctr
}

// Terminate removes every container, the integration points' volumes and the network. It may be called
// more than once.
func (st *Stack) Terminate(ctx context.Context) error {
	if st == nil {
		return nil
	}
	st.mu.Lock()
	if st.terminated {
		st.mu.Unlock()
		return nil
	}
	st.terminated = true
	ctrs := st.containers
	st.containers = map[string]*testcontainers.DockerContainer{}
	vols, paused := st.volumes, st.paused
	st.mu.Unlock()
	var errs []error
	for name, ctr := range ctrs {
		if paused[name] { // a frozen process cannot take the stop signal
			_, _ = st.cli.ContainerUnpause(ctx, ctr.GetContainerID(), client.ContainerUnpauseOptions{})
		}
		var opts []testcontainers.TerminateOption
		if v := vols[name]; v != "" {
			opts = append(opts, testcontainers.RemoveVolumes(v))
		}
		if err := testcontainers.TerminateContainer(ctr, append(opts, testcontainers.StopContext(ctx))...); err != nil {
			errs = append(errs, fmt.Errorf("terminate %s: %w", name, err))
		}
	}
	if st.Network != nil {
		if err := st.Network.Remove(ctx); err != nil {
			errs = append(errs, fmt.Errorf("remove network: %w", err))
		}
	}
	if st.cli != nil {
		_ = st.cli.Close()
	}
	return errors.Join(errs...)
}

// prefixLogs is a LogConsumer that writes each line with a prefix.
type prefixLogs struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
}

// Accept writes one log record.
func (p *prefixLogs) Accept(l testcontainers.Log) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, line := range bytes.SplitAfter(l.Content, []byte("\n")) {
		if len(line) > 0 {
			_, _ = fmt.Fprintf(p.w, "%s%s", p.prefix, line)
		}
	}
}

// CleanupStack terminates st when the test ends and fails the test if that fails. Call it before checking
// Run's error (as testcontainers.CleanupContainer), since Run returns what it started with the error.
func CleanupStack(tb testing.TB, st *Stack) {
	tb.Helper()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := st.Terminate(ctx); err != nil {
			tb.Errorf("terminate the efm-harness stack: %v", err)
		}
	})
}
