package containers_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/efm-harness/efm-harness/simulator/dpo"
	"github.com/efm-harness/efm-harness/simulator/stack"
	"github.com/efm-harness/efm-harness/simulator/stack/containers"
	"github.com/efm-harness/efm-harness/simulator/stack/stacktest"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// waitFor asks the integration point at ipURL for the statuses of a message until one is want.
func waitFor(ctx context.Context, ipURL, id, want string) error {
	for {
		got, err := stacktest.Statuses(ctx, http.DefaultClient, ipURL, id)
		if err == nil && slices.Contains(got, want) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("message %s did not reach %s: %v %v", id, want, got, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// A vendor's test: start the stack, point the system under test at the integration point, make it send,
// and ask the broker what arrived. Here stacktest.SendArkivmelding stands in for the archive system: it
// makes the four requests an archive system makes (create, two uploads, send).
func ExampleRun() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := containers.Run(ctx,
		containers.WithImage(testImage()), // containers.DefaultImage, built by `make image`
		containers.WithServices(stack.SR, stack.Maskinporten, stack.DPO, stack.IP),
		containers.WithFast())
	defer func() { _ = st.Terminate(context.Background()) }() // in a test: containers.CleanupStack(t, st)
	if err != nil {
		fmt.Println(err)
		return
	}

	ipURL := st.URL(stack.IP) // configure the system under test with this
	id, err := stacktest.SendArkivmelding(ctx, http.DefaultClient, ipURL, "910075918")
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := waitFor(ctx, ipURL, id, "SENDT"); err != nil {
		fmt.Println(err)
		return
	}

	// What the DPO broker holds, decoded.
	var list dpo.TransferList
	if err := st.Admin(stack.DPO).Messages(ctx, &list); err != nil {
		fmt.Println(err)
		return
	}
	var view dpo.MessageView
	if err := st.Admin(stack.DPO).Message(ctx, list.Transfers[0].ID, &view); err != nil {
		fmt.Println(err)
		return
	}
	sbd, err := wire.ParseSBD(view.SBD)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("transfers at DPO:", len(list.Transfers))
	fmt.Println("the message sent:", sbd.MessageID() == id)
	fmt.Println("to:", view.Transfer.Recipients[0].Recipient)
	fmt.Println("signature verified:", view.ASiC.Signed)
	// Output:
	// transfers at DPO: 1
	// the message sent: true
	// to: 0192:910075918
	// signature verified: true
}

// The firewall case: DPO's container is taken off the network, a message is sent, and it reaches the
// broker once the network is back.
func ExampleStack_Disconnect() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := containers.Run(ctx, containers.WithImage(testImage()),
		containers.WithServices(stack.SR, stack.Maskinporten, stack.DPO, stack.IP), containers.WithFast())
	defer func() { _ = st.Terminate(context.Background()) }()
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := st.Disconnect(ctx, stack.DPO); err != nil {
		fmt.Println(err)
		return
	}
	id, err := stacktest.SendArkivmelding(ctx, http.DefaultClient, st.URL(stack.IP), "910075918")
	if err != nil {
		fmt.Println(err)
		return
	}
	time.Sleep(3 * time.Second)
	statuses, _ := stacktest.Statuses(ctx, http.DefaultClient, st.URL(stack.IP), id)
	fmt.Println("while DPO is cut off:", statuses)

	if err := st.Connect(ctx, stack.DPO); err != nil {
		fmt.Println(err)
		return
	}
	if err := waitFor(ctx, st.URL(stack.IP), id, "SENDT"); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("after the network is back: SENDT")
	// Output:
	// while DPO is cut off: [OPPRETTET]
	// after the network is back: SENDT
}
