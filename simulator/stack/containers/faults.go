package containers

import (
	"context"
	"fmt"
	"time"

	mobynetwork "github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// Disconnect takes a service's container off the stack's network, as a firewall that drops its traffic
// would: the others' open connections to it hang until they time out, and its name stops resolving.
// Its host ports go too (the engine publishes them on that network), so URL, ControlURL and Admin do not
// reach it either until Connect undoes it.
func (st *Stack) Disconnect(ctx context.Context, name string) error {
	ctr, err := st.container(name)
	if err != nil {
		return fmt.Errorf("disconnect: %w", err)
	}
	if _, err := st.cli.NetworkDisconnect(ctx, st.Network.ID, client.NetworkDisconnectOptions{Container: ctr.GetContainerID(), Force: true}); err != nil {
		return fmt.Errorf("disconnect %s: %w", name, err)
	}
	return nil
}

// Connect puts a disconnected service's container back on the stack's network under its service name.
// Its host ports may have changed: read URL again.
func (st *Stack) Connect(ctx context.Context, name string) error {
	ctr, err := st.container(name)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	if _, err := st.cli.NetworkConnect(ctx, st.Network.ID, client.NetworkConnectOptions{Container: ctr.GetContainerID(),
		EndpointConfig: &mobynetwork.EndpointSettings{Aliases: []string{name}}}); err != nil {
		return fmt.Errorf("connect %s: %w", name, err)
	}
	// The engine published the container's ports again, maybe on other host ports.
	if err := st.refresh(ctx, name); err != nil {
		return fmt.Errorf("connect %s: %w", name, err)
	}
	return nil
}

// Pause freezes every process of a service's container, as a hung host: connections to it are accepted
// by the kernel and never answered. Unpause undoes it.
func (st *Stack) Pause(ctx context.Context, name string) error {
	ctr, err := st.container(name)
	if err != nil {
		return fmt.Errorf("pause: %w", err)
	}
	if _, err := st.cli.ContainerPause(ctx, ctr.GetContainerID(), client.ContainerPauseOptions{}); err != nil {
		return fmt.Errorf("pause %s: %w", name, err)
	}
	st.setPaused(name, true)
	return nil
}

// Unpause lets a paused service's container run again.
func (st *Stack) Unpause(ctx context.Context, name string) error {
	ctr, err := st.container(name)
	if err != nil {
		return fmt.Errorf("unpause: %w", err)
	}
	if _, err := st.cli.ContainerUnpause(ctx, ctr.GetContainerID(), client.ContainerUnpauseOptions{}); err != nil {
		return fmt.Errorf("unpause %s: %w", name, err)
	}
	st.setPaused(name, false)
	return nil
}

// Stop stops a service's container gracefully (SIGTERM, then SIGKILL after timeout): connections to it
// are refused. Start starts it again.
func (st *Stack) Stop(ctx context.Context, name string, timeout time.Duration) error {
	ctr, err := st.container(name)
	if err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	if err := ctr.Stop(ctx, &timeout); err != nil {
		return fmt.Errorf("stop %s: %w", name, err)
	}
	return nil
}

// Kill kills the process of a service's container with SIGKILL: no shutdown, nothing flushed. An
// integration point's data stays on its volume for Start.
func (st *Stack) Kill(ctx context.Context, name string) error {
	ctr, err := st.container(name)
	if err != nil {
		return fmt.Errorf("kill: %w", err)
	}
	if _, err := st.cli.ContainerKill(ctx, ctr.GetContainerID(), client.ContainerKillOptions{Signal: "SIGKILL"}); err != nil {
		return fmt.Errorf("kill %s: %w", name, err)
	}
	// Wait until the engine has seen the process end, so that Start starts a new one.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		state, err := ctr.State(ctx)
		if err != nil {
			return fmt.Errorf("kill %s: %w", name, err)
		}
		if !state.Running {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kill %s: %w", name, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("kill %s: still running 10 s after SIGKILL", name)
}

// Start starts a stopped or killed service's container again (an integration point on its volume, so it
// takes up what it had accepted) and waits until it answers its health check. Its host ports may have
// changed: read URL again.
func (st *Stack) Start(ctx context.Context, name string) error {
	ctr, err := st.container(name)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	if err := ctr.Start(ctx); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	if err := st.refresh(ctx, name); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	return nil
}

// Restart kills a service's container with SIGKILL and starts it again (Kill, then Start): for an
// integration point, a crash and a restart on the same data.
func (st *Stack) Restart(ctx context.Context, name string) error {
	if err := st.Kill(ctx, name); err != nil {
		return err
	}
	return st.Start(ctx, name)
}

func (st *Stack) setPaused(name string, paused bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.paused[name] = paused
}
