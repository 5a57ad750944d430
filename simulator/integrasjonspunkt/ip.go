// Package integrasjonspunkt is the reference integration point: the eFormidling 2 (Next Move) API of
// Digdir's IP v4 over a durable store and delivery queue, sending through channel adapters that speak the
// real upstream protocols over HTTP only. Server wires the parts: store, address-register client,
// Maskinporten client, channels, delivery engine and the HTTP API.
package integrasjonspunkt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/api"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel/dpf"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel/dpi"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel/dpo"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel/dpv"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/delivery"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/inbound"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/oidc"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/polling"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/registry"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/webhook"
	"github.com/efm-harness/efm-harness/simulator/wire"
	"github.com/google/uuid"
)

// Server is a running reference integration point.
type Server struct {
	cfg      Config
	store    *store.Store
	api      *api.API
	delivery *delivery.Deliverer
	webhooks *webhook.Dispatcher
	inbound  *inbound.Service
	poller   *dpo.Poller
	svarInn  *dpf.Receiver
	receipts *dpi.Receipts
	statuses *polling.Poller
	cancel   context.CancelFunc
	done     chan struct{}
	once     sync.Once
}

// New opens the store and wires the integration point; Start runs its background work.
func New(ctx context.Context, cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, store.Options{Dir: cfg.DataDir, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	if n, err := st.ReleaseLeases(ctx); err != nil {
		st.Close()
		return nil, err
	} else if n > 0 {
		cfg.Logger.Warn("messages an earlier process was delivering when it stopped are retried", "count", n)
	}
	upstream := &http.Client{Timeout: cfg.UpstreamTimeout}
	var tokens *oidc.Client
	if cfg.MaskinportenURL != "" {
		tokens = oidc.New(oidc.Options{TokenURL: cfg.MaskinportenURL, Audience: cfg.MaskinportenAudience, ClientID: cfg.ClientID,
			Key: cfg.Key, Certificate: cfg.Certificate, HTTP: upstream, Now: cfg.Now})
	}
	regOpts := registry.Options{BaseURL: cfg.ServiceRegistryURL, Signed: cfg.SignedLookups, HTTP: upstream,
		CacheTTL: cfg.LookupCacheTTL, Now: cfg.Now}
	if tokens != nil {
		regOpts.Tokens = oidc.Scoped{Client: tokens}
	}
	reg := registry.New(regOpts)

	enabled := map[wire.ServiceIdentifier]bool{}
	var channels []channel.Channel
	var dpoCh *dpo.Channel
	var dpvCh *dpv.Channel
	if cfg.DPOBrokerURL != "" {
		if tokens == nil {
			st.Close()
			return nil, fmt.Errorf("config: DPO needs Maskinporten (MaskinportenURL)")
		}
		dpoCh = dpo.New(dpo.Options{BrokerURL: cfg.DPOBrokerURL, TokenExchangeURL: cfg.DPOTokenExchangeURL,
			Resource: cfg.DPOResource, OrgNumber: cfg.OrgNumber, Reportees: cfg.DPOReportees, Key: cfg.Key,
			Certificate: cfg.Certificate, Tokens: tokens, HTTP: upstream, Now: cfg.Now, Plain: cfg.Plain,
			MessageChannel: cfg.DPOMessageChannel, CallTimeout: cfg.UpstreamTimeout, Logger: cfg.Logger.With("component", "dpo")})
		channels = append(channels, dpoCh)
		enabled[wire.ServiceDPO] = true
	}
	if cfg.DPVCorrespondenceURL != "" {
		if tokens == nil {
			st.Close()
			return nil, fmt.Errorf("config: DPV needs Maskinporten (MaskinportenURL)")
		}
		dpvCh = dpv.New(dpv.Options{CorrespondenceURL: cfg.DPVCorrespondenceURL, TokenExchangeURL: cfg.DPVTokenExchangeURL,
			Tokens: tokens, HTTP: upstream, OrgNumber: cfg.OrgNumber, Now: cfg.Now, Logger: cfg.Logger.With("component", "dpv"),
			SenderName: func(ctx context.Context, org string) (string, error) {
				i, err := reg.Info(ctx, org)
				return i.OrganizationName, err
			}})
		channels = append(channels, dpvCh)
		enabled[wire.ServiceDPV] = true
	}
	var dpfCh *dpf.Channel
	if cfg.DPFSvarUtURL != "" {
		if tokens == nil {
			st.Close()
			return nil, fmt.Errorf("config: DPF needs Maskinporten (MaskinportenURL)")
		}
		dpfCh = dpf.New(dpf.Options{SvarUtURL: cfg.DPFSvarUtURL, SvarInnURL: cfg.DPFSvarInnURL, OrgNumber: cfg.OrgNumber,
			Accounts: cfg.DPFAccounts, SvarInnUsers: cfg.DPFSvarInnUsers, Key: cfg.Key, Certificate: cfg.Certificate,
			Tokens: tokens, HTTP: upstream, Info: reg.Info, DefaultTTL: cfg.DefaultTTL, Now: cfg.Now,
			Logger: cfg.Logger.With("component", "dpf")})
		channels = append(channels, dpfCh)
		enabled[wire.ServiceDPF] = true
	}
	var dpiCh *dpi.Channel
	if cfg.DPIURI != "" {
		if tokens == nil {
			st.Close()
			return nil, fmt.Errorf("config: DPI needs Maskinporten (MaskinportenURL)")
		}
		dpiCh = dpi.New(dpi.Options{URI: cfg.DPIURI, KRRPrintURL: cfg.DPIKRRPrintURL, MpcID: cfg.DPIMpcID, OrgNumber: cfg.OrgNumber,
			Key: cfg.Key, Certificate: cfg.Certificate, Tokens: tokens, HTTP: upstream, Now: cfg.Now,
			Logger: cfg.Logger.With("component", "dpi")})
		channels = append(channels, dpiCh)
		enabled[wire.ServiceDPI] = true
	}
	statusQueue := func(service string) bool {
		return slices.Contains(cfg.StatusQueueIncludes, wire.ServiceIdentifier(service))
	}
	s := &Server{cfg: cfg, store: st}
	hookTimeout, hookRetry := 10*time.Second, time.Second
	if cfg.Fast {
		hookTimeout, hookRetry = 2*time.Second, 10*time.Millisecond
	}
	s.webhooks, err = webhook.New(webhook.Options{Store: st, Timeout: hookTimeout, RetryInitial: hookRetry,
		Logger: cfg.Logger.With("component", "webhooks"), Now: cfg.Now})
	if err != nil {
		st.Close()
		return nil, err
	}
	s.delivery = delivery.New(delivery.Options{
		Store: st, Registry: reg, Channels: channels, Workers: cfg.Workers, Retry: cfg.Retry,
		// Large packages take real time, --fast or not; each upstream call still has its own timeout.
		AttemptTimeout: max(4*cfg.UpstreamTimeout, 2*time.Minute),
		PollInterval:   cfg.PollInterval, TTLScanInterval: cfg.TTLScanInterval,
		StatusQueue: statusQueue, Logger: cfg.Logger.With("component", "delivery"), Now: cfg.Now,
		OnStatus: s.onStatus,
	})
	pollers := map[wire.ServiceIdentifier]polling.StatusPoller{}
	if dpvCh != nil {
		pollers[wire.ServiceDPV] = dpvCh.Poller()
	}
	if dpfCh != nil {
		pollers[wire.ServiceDPF] = dpfCh.Poller()
	}
	if dpiCh != nil {
		pollers[wire.ServiceDPI] = dpiCh.Poller()
		s.receipts = dpiCh.Receipts(dpi.SinkFunc(s.dpiReceipt))
	}
	if len(pollers) > 0 {
		s.statuses = polling.New(polling.Options{Store: st, Pollers: pollers, Interval: cfg.StatusPollInterval, StatusQueue: statusQueue, OnStatus: s.onStatus,
			Logger: cfg.Logger.With("component", "status-polling"), Now: cfg.Now})
	}
	s.inbound = inbound.New(inbound.Options{Store: st, DefaultTTL: cfg.DefaultTTL, StatusQueue: statusQueue,
		OnStatus: s.onStatus, Wake: s.delivery.Wake, Logger: cfg.Logger.With("component", "inbound"), Now: cfg.Now})
	if dpoCh != nil {
		s.poller = dpo.NewPoller(dpoCh, s.inbound).WithPendingStore(st)
	}
	if dpfCh != nil && cfg.DPFSvarInnURL != "" {
		s.svarInn = dpfCh.Receiver(s.inbound)
	}
	s.api, err = api.New(api.Options{
		OrgNumber: cfg.OrgNumber, Store: st, Registry: reg, EnabledServices: enabled, DefaultTTL: cfg.DefaultTTL,
		UploadLimits: cfg.UploadLimits, StatusQueue: statusQueue, OnSend: s.delivery.Wake,
		OnStatus: s.webhooks.Publish, Webhooks: s.webhooks, LockTimeout: cfg.LockTimeout, DPF: dpfChecker(dpfCh),
		Logger: cfg.Logger.With("component", "api"), Now: cfg.Now, Plain: cfg.Plain,
		BasicAuth: api.BasicAuth{User: cfg.BasicAuthUser, Password: cfg.BasicAuthPassword},
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	return s, nil
}

// onStatus reports a status registered outside the API (delivery, inbound) to metrics and webhooks.
func (s *Server) onStatus(ev store.StatusEvent) {
	s.api.CountStatus(ev)
	s.webhooks.Publish(ev)
	c := ev.Conversation
	if !s.cfg.GenerateArkivmeldingReceipts || c.Direction != store.Outgoing || c.DocumentIdentifier != wire.StandardArkivmelding {
		return
	}
	if ev.Status.Status == wire.StatusLevert && c.ServiceIdentifier == string(wire.ServiceDPV) ||
		ev.Status.Status == wire.StatusLest && c.ServiceIdentifier == string(wire.ServiceDPF) {
		s.synthesiseKvittering(c)
	}
}

// dpiReceipt registers a DPI receipt's statuses on the outgoing DPI conversation it names.
func (s *Server) dpiReceipt(ctx context.Context, conversationID string, changes []store.StatusChange) (bool, error) {
	c, err := s.store.ConversationByConversationID(ctx, conversationID, store.Outgoing, string(wire.ServiceDPI))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !c.Finished && !slices.ContainsFunc(c.Statuses, func(st store.Status) bool { return st.Status == wire.StatusSendt }) {
		// Corner 2 can answer faster than delivery registers SENDT; the receipt waits for the next round
		// so that the statuses keep their order. A finished conversation (LEVETID_UTLOPT, FEIL) takes it
		// at once, so that it never waits for good.
		return true, fmt.Errorf("message %s is not registered SENDT yet; the receipt waits", c.MessageID)
	}
	statusQueue := func(service string) bool {
		return slices.Contains(s.cfg.StatusQueueIncludes, wire.ServiceIdentifier(service))
	}
	for _, ch := range changes {
		ev, err := s.store.RegisterStatus(ctx, c.MessageID, store.Outgoing, ch, statusQueue)
		if err != nil {
			return true, err
		}
		if ev != nil {
			s.onStatus(*ev)
		}
	}
	return true, nil
}

// dpfChecker is the API's create-time DPF check, nil when DPF is off.
func dpfChecker(ch *dpf.Channel) api.DPFChecker {
	if ch == nil {
		return nil
	}
	return ch
}

// synthesiseKvittering queues an incoming arkivmelding_kvittering OK for a DPV arkivmelding that was
// delivered or a DPF one that was read, as the real IP's generate-arkivmelding-receipts does, so that an
// archive system gets the same receipt whatever the channel. Like any incoming kvittering it gives the
// message LEST.
func (s *Server) synthesiseKvittering(c store.Conversation) {
	now := s.cfg.Now().In(wire.Oslo()).Truncate(time.Second)
	created, expires := wire.NewOffsetDateTime(now), wire.NewOffsetDateTime(now.Add(s.cfg.DefaultTTL))
	party := func(id string) []wire.Partner {
		return []wire.Partner{{Identifier: &wire.PartnerIdentification{Value: id, Authority: wire.AuthorityISO6523}}}
	}
	sbd := &wire.StandardBusinessDocument{
		Header: wire.StandardBusinessDocumentHeader{HeaderVersion: "1.0", Sender: party(c.Receiver), Receiver: party(c.Sender),
			DocumentIdentification: &wire.DocumentIdentification{Standard: wire.StandardArkivmeldingKvittering, TypeVersion: "2.0",
				InstanceIdentifier: uuid.NewString(), Type: string(wire.TypeArkivmeldingKvittering), CreationDateAndTime: &created},
			BusinessScope: &wire.BusinessScope{Scope: []wire.Scope{{Type: wire.ScopeConversationID, InstanceIdentifier: c.ConversationID,
				Identifier:       wire.ProcessArkivmeldingResponse,
				ScopeInformation: []wire.CorrelationInformation{{ExpectedResponseDateTime: &expires}}}}}},
		Message: &wire.ArkivmeldingKvittering{ReceiptType: "OK", RelatedToMessageID: c.MessageID},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.inbound.Handle(ctx, sbd, nil, wire.ParseServiceIdentifier(c.ServiceIdentifier)); err != nil {
		s.cfg.Logger.Error("synthesise arkivmelding_kvittering", "message_id", c.MessageID, "err", err)
	}
}

// Handler serves the client API.
func (s *Server) Handler() http.Handler { return s.api.Handler() }

// Start runs delivery and the periodic jobs until Close.
func (s *Server) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.delivery.Run(ctx) }()
	go func() { defer wg.Done(); s.inbound.RunLockExpiry(ctx, s.cfg.LockExpiryInterval) }()
	if s.poller != nil {
		wg.Add(1)
		go func() { defer wg.Done(); s.poller.Run(ctx, s.cfg.DPOPollInterval) }()
	}
	if s.receipts != nil {
		wg.Add(1)
		go func() { defer wg.Done(); s.receipts.Run(ctx, s.cfg.DPIReceiptInterval) }()
	}
	if s.svarInn != nil {
		wg.Add(1)
		go func() { defer wg.Done(); s.svarInn.Run(ctx, s.cfg.DPFPollInterval) }()
	}
	if s.statuses != nil {
		wg.Add(1)
		go func() { defer wg.Done(); s.statuses.Run(ctx) }()
	}
	go func() { wg.Wait(); close(s.done) }()
}

// Close stops the background work (waiting for attempts in flight) and closes the store.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		if s.cancel != nil {
			s.cancel()
			select {
			case <-s.done:
			case <-time.After(2 * s.cfg.UpstreamTimeout):
			}
		}
		s.webhooks.Close()
		err = s.store.Close()
	})
	return err
}

// Kill stops the integration point abruptly, as close to a crash as one process can play it: its
// background work is cancelled without waiting for attempts in flight, undelivered webhook events are
// dropped and the store is closed, so that whatever was not committed is lost (transactions in flight
// are rolled back when their context ends). The caller closes the listener first. A new Server on the
// same data directory then starts as after a crash. Use Close for an orderly stop.
func (s *Server) Kill() error {
	var err error
	s.once.Do(func() {
		if s.cancel != nil {
			s.cancel()
		}
		s.webhooks.Close()
		err = s.store.Close()
	})
	return err
}

// OrgNumber is the organisation this integration point is.
func (s *Server) OrgNumber() string { return s.cfg.OrgNumber }

// DataDir is where the store keeps its database and files.
func (s *Server) DataDir() string { return s.store.Dir() }
