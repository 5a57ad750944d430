// Package containers runs the efm-harness stack as Docker containers from Go tests, with
// testcontainers-go: one container per service (the address register, Maskinporten, DPO, DPV, DPF, DPI,
// the reference integration point and optionally a second one for a second organisation) on a network of
// their own, where each reaches the others by its service name (http://dpo:9101), as separate hosts do.
// It is for an archive-system vendor's CI, and for the harness's own tests of what only a real network
// shows: a firewall that drops a broker's traffic, a hung host, a process killed mid-write.
//
// Every container runs the one image that `make image` builds FROM scratch from the static binary
// (DefaultImage, or WithImage); Run pulls nothing. The role is the command: `sim --only dpo` for a
// simulator, `ip` for an integration point, with its data on a volume of its own.
//
// A vendor's test starts the stack, points the system under test at the integration point, makes the
// system send, and asks the simulators what arrived:
//
//	st, err := containers.Run(ctx, containers.WithFast())
//	containers.CleanupStack(t, st) // before checking err: Run returns what it started
//	if err != nil {
//		t.Fatal(err)
//	}
//	sut := archive.New(st.URL(stack.IP))        // the system under test, on the host
//	sut.Send(...)
//	var got dpo.TransferList
//	err = st.Admin(stack.DPO).Messages(ctx, &got) // what the broker holds
//
// URL gives a service's base URL from the host (a mapped port, which changes when a container is
// started again), InternalURL its URL from another container on Network, and Admin a client of its admin
// API (journal, decoded messages, inject, faults, behaviour; see package admin) through the control
// plane of its container.
//
// Network faults are made per service with Docker: Disconnect and Connect (a firewall: connections hang,
// the name stops resolving), Pause and Unpause (a hung host), Stop and Start (refused), Kill, Start and
// Restart (a crash; an integration point comes back on its volume and must lose and repeat nothing). The
// admin API's own faults (refuse, blackhole, latency, status) work too.
//
// Requirements: a Docker engine, the image in it, and, where no registry is reachable, the reaper
// disabled with TESTCONTAINERS_RYUK_DISABLED=true (its image cannot be pulled); without the reaper,
// terminate the stack yourself (CleanupStack). Where testcontainers takes the wrong address for the
// engine's published ports (a sandbox with /.dockerenv whose engine runs beside it), set
// TESTCONTAINERS_HOST_OVERRIDE=localhost. A test on a machine without an engine skips with
// testcontainers.SkipIfProviderIsNotHealthy.
package containers
