// Package integrasjonspunkt is the reference integration point: the eFormidling 2 (Next Move) API of
// Digdir's IP v4 over a durable store and delivery queue, sending through channel adapters that speak the
// real upstream protocols over HTTP only. Server wires the parts: store, address-register client,
// Maskinporten client, channels, delivery engine and the HTTP API.
package integrasjonspunkt

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/api"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel/dpo"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/delivery"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/oidc"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/registry"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Server is a running reference integration point.
type Server struct {
	cfg      Config
	store    *store.Store
	api      *api.API
	delivery *delivery.Deliverer
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
	if cfg.DPOBrokerURL != "" {
		if tokens == nil {
			st.Close()
			return nil, fmt.Errorf("config: DPO needs Maskinporten (MaskinportenURL)")
		}
		channels = append(channels, dpo.New(dpo.Options{BrokerURL: cfg.DPOBrokerURL, TokenExchangeURL: cfg.DPOTokenExchangeURL,
			Resource: cfg.DPOResource, OrgNumber: cfg.OrgNumber, Key: cfg.Key, Certificate: cfg.Certificate,
			Tokens: tokens, HTTP: upstream, Now: cfg.Now}))
		enabled[wire.ServiceDPO] = true
	}
	statusQueue := func(service string) bool {
		return slices.Contains(cfg.StatusQueueIncludes, wire.ServiceIdentifier(service))
	}
	s := &Server{cfg: cfg, store: st}
	s.delivery = delivery.New(delivery.Options{
		Store: st, Registry: reg, Channels: channels, Workers: cfg.Workers, Retry: cfg.Retry,
		AttemptTimeout: 4 * cfg.UpstreamTimeout, PollInterval: cfg.PollInterval, TTLScanInterval: cfg.TTLScanInterval,
		StatusQueue: statusQueue, Logger: cfg.Logger.With("component", "delivery"), Now: cfg.Now,
		OnStatus: func(ev store.StatusEvent) { s.api.CountStatus(ev) },
	})
	s.api, err = api.New(api.Options{
		OrgNumber: cfg.OrgNumber, Store: st, Registry: reg, EnabledServices: enabled, DefaultTTL: cfg.DefaultTTL,
		UploadLimits: cfg.UploadLimits, StatusQueue: statusQueue, OnSend: s.delivery.Wake,
		Logger: cfg.Logger.With("component", "api"), Now: cfg.Now,
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	return s, nil
}

// Handler serves the client API.
func (s *Server) Handler() http.Handler { return s.api.Handler() }

// Start runs delivery and the periodic jobs until Close.
func (s *Server) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan struct{})
	go func() {
		defer close(s.done)
		s.delivery.Run(ctx)
	}()
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
		err = s.store.Close()
	})
	return err
}

// OrgNumber is the organisation this integration point is.
func (s *Server) OrgNumber() string { return s.cfg.OrgNumber }

// DataDir is where the store keeps its database and files.
func (s *Server) DataDir() string { return s.store.Dir() }
