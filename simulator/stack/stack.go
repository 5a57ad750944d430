// Package stack starts any subset of the harness's services in-process, each on its own listener (so each
// can be refused or blackholed on its own, like separate hosts), plus the control port that serves every
// service's admin API. It is the one place that wires packages together; cmd, the feature tests and the
// load generator use it.
package stack

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/bearer"
	"github.com/efm-harness/efm-harness/simulator/dpf"
	"github.com/efm-harness/efm-harness/simulator/dpi"
	"github.com/efm-harness/efm-harness/simulator/dpo"
	"github.com/efm-harness/efm-harness/simulator/dpv"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt"
	dpfchannel "github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel/dpf"
	"github.com/efm-harness/efm-harness/simulator/maskinporten"
	"github.com/efm-harness/efm-harness/simulator/sr"
)

// Service names: the keys of Config.Ports, Stack.URL and the control port's /__admin/{service}.
const (
	Control      = "control"
	IP           = "ip"
	IP2          = "ip2"
	SR           = "sr"
	Maskinporten = "maskinporten"
	DPO          = "dpo"
	DPV          = "dpv"
	DPF          = "dpf"
	DPI          = "dpi"
)

// DefaultPortBase is the control port; the other default ports are fixed offsets from it
// (architecture §2: 9090 control, 9093 IP, 9099 address register, 9100 Maskinporten, 9101–9104 DPO–DPI).
const DefaultPortBase = 9090

var portOffsets = map[string]int{Control: 0, IP: 3, IP2: 5, SR: 9, Maskinporten: 10, DPO: 11, DPV: 12, DPF: 13, DPI: 14}

// Available lists the services this build can start, in start-up order.
func Available() []string { return []string{SR, Maskinporten, DPO, DPV, DPF, DPI, IP} }

// Planned lists services of the architecture that later versions add; asking for them is an error that
// says so.
func Planned() []string { return nil }

// Ports returns the port of every service for a port base (DefaultPortBase gives the documented ports;
// 0 gives 0 everywhere, i.e. free ports).
func Ports(base int) map[string]int {
	m := map[string]int{}
	for name, off := range portOffsets {
		if base == 0 {
			m[name] = 0
		} else {
			m[name] = base + off
		}
	}
	return m
}

// Config says what to start and where.
type Config struct {
	// Host is the address to listen on (127.0.0.1 when empty).
	Host string
	// Ports maps service names to ports; a missing name or 0 picks a free port.
	Ports map[string]int
	// Services to start (Available() when empty). The control port always starts.
	Services []string
	// Fast scales every interval of the simulators to milliseconds (used by tests and `up --fast`).
	Fast bool
	// Plain runs the integration points without cryptography on DPO (see integrasjonspunkt.Config.Plain):
	// only for load tests of the delivery core.
	Plain bool
	// RequireAuth makes the address register demand Maskinporten tokens, as the real one does.
	RequireAuth bool
	// Population and PKI are the test data (fixtures.Default() and the checked-in PKI when nil).
	Population *fixtures.Population
	PKI        *fixtures.PKI
	// DataDir keeps the reference integration point's database and files (in DataDir/ip); empty uses a
	// temporary directory that Close removes.
	DataDir string
	// IPOrg is the reference integration point's organisation (the population's "sender" when empty).
	IPOrg string
	// LockTimeout is how long a peek locks an incoming message at the integration points (5 min; 1 min
	// with Fast).
	LockTimeout time.Duration
	// SvarInnInterval is how often the integration points poll SvarInn: 15 s when 0 (the real IP's dev
	// profile; its base default, 15 min, is too slow to wait for at a desk), 0.9 s with Fast.
	SvarInnInterval time.Duration
	// GenerateArkivmeldingReceipts makes the integration points synthesise an incoming
	// arkivmelding_kvittering OK when a DPV arkivmelding is delivered (the real IP's base-profile default).
	GenerateArkivmeldingReceipts bool
	// IPAuth, "user:password", makes the integration points require HTTP Basic authentication on their
	// API as the real one can; empty leaves it open.
	IPAuth string
	// AdminAuth, "user:password", protects the admin API (every service's /__admin and the whole control
	// port) with HTTP Basic authentication; empty leaves it open, as for a harness on a developer's machine.
	AdminAuth string
	// Remote names the base URLs of services that run elsewhere (another efm-harness process, a
	// container), so that an integration point started here uses them: `efm-harness ip` next to
	// `efm-harness sim`. A service started here wins over a remote one.
	Remote map[string]string
	// Advertise names the base URLs by which other hosts reach services started here, such as
	// http://maskinporten:9100 for a container on a network where its service name resolves. A service
	// with one names it wherever it gives out its own URL (Maskinporten's issuer, DPF's download URLs, the
	// control port's overview) and Stack.URL returns it; without one, the listener's address is used.
	Advertise map[string]string
	// Join names the control URLs of other efm-harness processes (such as http://dpo:9090, one container
	// per service) whose services this stack's control port also serves under /__admin/{service}, so
	// that one control port reaches a whole stack spread over containers.
	Join []string
	// IPs is how many reference integration points to start (1 when 0; at most 2). The second, ip2, is
	// the population's "receiver" organisation, so that two integration points exchange messages.
	IPs int
	// Logger receives the services' request logs; nil logs nothing.
	Logger *slog.Logger
}

// Stack is a running set of services.
type Stack struct {
	cfg          Config
	control      *admin.Control
	urls         map[string]string
	order        []string
	servers      []*http.Server
	listeners    []*admin.Listener
	SR           *sr.Server
	Maskinporten *maskinporten.Server
	DPO          *dpo.Server
	DPV          *dpv.Server
	DPF          *dpf.Server
	DPI          *dpi.Server
	// IP and IP2 are the reference integration points; RestartIP replaces IP (read it with IPServer
	// when a restart may run at the same time).
	IP        *integrasjonspunkt.Server
	IP2       *integrasjonspunkt.Server
	closeOnce sync.Once
	// mu guards IP and IP2 during a restart.
	mu sync.Mutex
	// ipSlots are the listener, admin service and handler of each integration point, kept for a restart.
	ipSlots map[string]*ipSlot
	// tempDir is the data directory made for the integration points when Config.DataDir is empty.
	tempDir string
}

// ipSlot is where an integration point is served: its listener and admin service outlive a restart,
// and its handler is swapped for the new process's.
type ipSlot struct {
	l       *admin.Listener
	svc     *admin.Service
	org     string
	handler atomic.Pointer[http.Handler]
}

func (s *ipSlot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*s.handler.Load()).ServeHTTP(w, r)
}

// Start starts the services of cfg and returns when all of them listen.
func Start(ctx context.Context, cfg Config) (*Stack, error) {
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if len(cfg.Services) == 0 {
		cfg.Services = Available()
	}
	for _, s := range cfg.Services {
		if !slices.Contains(Available(), s) {
			if slices.Contains(Planned(), s) {
				return nil, fmt.Errorf("start stack: service %q is not in this version yet (available: %s)", s, strings.Join(Available(), ", "))
			}
			return nil, fmt.Errorf("start stack: unknown service %q (available: %s)", s, strings.Join(Available(), ", "))
		}
	}
	if cfg.Population == nil {
		cfg.Population = fixtures.Default()
	}
	if cfg.PKI == nil {
		p, err := fixtures.LoadPKI()
		if err != nil {
			return nil, fmt.Errorf("start stack: %w", err)
		}
		cfg.PKI = p
	}
	st := &Stack{cfg: cfg, control: admin.NewControl(), urls: map[string]string{}, ipSlots: map[string]*ipSlot{}}
	for _, u := range cfg.Join {
		if err := st.control.Join(u); err != nil {
			return nil, fmt.Errorf("start stack: %w", err)
		}
	}
	ok := false
	defer func() {
		if !ok {
			st.Close()
		}
	}()

	// Listen first, so that every service knows every URL before it is built.
	if cfg.IPs > 2 {
		return nil, fmt.Errorf("start stack: at most 2 integration points, not %d", cfg.IPs)
	}
	listen := append([]string{Control}, cfg.Services...)
	if cfg.IPs > 1 {
		if !slices.Contains(cfg.Services, IP) {
			return nil, fmt.Errorf("start stack: a second integration point needs the service ip")
		}
		listen = append(listen, IP2)
	}
	ls := map[string]*admin.Listener{}
	for _, name := range listen {
		l, err := admin.Listen(net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Ports[name])))
		if err != nil {
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
		ls[name] = l
		st.listeners = append(st.listeners, l)
		st.urls[name] = "http://" + l.Addr().String()
	}

	for name, u := range cfg.Remote {
		if _, local := st.urls[name]; !local {
			st.urls[name] = strings.TrimRight(u, "/")
		}
	}
	for name, u := range cfg.Advertise {
		if _, local := st.urls[name]; local && u != "" {
			st.urls[name] = strings.TrimRight(u, "/")
		}
	}
	// A Maskinporten simulator that runs elsewhere (another container) signs its tokens with the test
	// PKI's Maskinporten credential, so the simulators here check them as they check a local one's.
	remoteMP, err := st.remoteMaskinporten()
	if err != nil {
		return nil, err
	}

	if slices.Contains(cfg.Services, Maskinporten) {
		cred := cfg.PKI.MustGet(fixtures.CredMaskinporten)
		mp, err := maskinporten.New(maskinporten.Options{
			Signer: cred.Key, Certificate: cred.Certificate, Roots: cfg.PKI.Pool(),
			Issuer:         st.urls[Maskinporten] + "/",
			ExtraAudiences: []string{"https://test.maskinporten.no/"},
			Logger:         cfg.Logger,
		})
		if err != nil {
			return nil, fmt.Errorf("start maskinporten: %w", err)
		}
		st.Maskinporten = mp
		st.serve(Maskinporten, ls[Maskinporten], mp.Admin(), mp.Handler())
	}
	if slices.Contains(cfg.Services, DPO) {
		alt := cfg.PKI.MustGet(fixtures.CredAltinn)
		pki := cfg.PKI
		opts := dpo.Options{Signer: alt.Key, Certificate: alt.Certificate, Logger: cfg.Logger,
			// The reference IP accepts DPO messages up to 1 GiB (ip-api §4.6): the broker takes that plus
			// the package's overhead.
			MaxUploadSize: 1<<30 + 64<<20, MaxStoredBytes: 2 << 30,
			Keys: func(orgnr string) (*rsa.PrivateKey, bool) { c, ok := pki.Get(orgnr); return c.Key, ok },
			Credentials: func(orgnr string) (*rsa.PrivateKey, *x509.Certificate, bool) {
				c, ok := pki.Get(orgnr)
				return c.Key, c.Certificate, ok
			}}
		opts.Maskinporten = st.maskinportenVerifier(remoteMP)
		d, err := dpo.New(opts)
		if err != nil {
			return nil, fmt.Errorf("start dpo: %w", err)
		}
		st.DPO = d
		st.serve(DPO, ls[DPO], d.Admin(), d.Handler())
	}
	if slices.Contains(cfg.Services, DPV) {
		alt := cfg.PKI.MustGet(fixtures.CredAltinn)
		opts := dpv.Options{Signer: alt.Key, Certificate: alt.Certificate, Logger: cfg.Logger}
		opts.Maskinporten = st.maskinportenVerifier(remoteMP)
		d, err := dpv.New(opts)
		if err != nil {
			return nil, fmt.Errorf("start dpv: %w", err)
		}
		st.DPV = d
		st.serve(DPV, ls[DPV], d.Admin(), d.Handler())
	}
	if slices.Contains(cfg.Services, DPF) {
		pki := cfg.PKI
		// PublicURL: download URLs name the DPF port even when the inject comes through the control port.
		ipOrgs := []string{cfg.Population.Org(fixtures.RoleSender).Orgnr, cfg.Population.Org(fixtures.RoleReceiver).Orgnr}
		if cfg.IPOrg != "" && !slices.Contains(ipOrgs, cfg.IPOrg) {
			ipOrgs = append(ipOrgs, cfg.IPOrg)
		}
		integrations, users := map[string]string{}, map[string]dpf.SvarInnUser{}
		for _, org := range ipOrgs {
			a, u := SvarUtAccount(org), SvarInnUser(org)
			integrations[a.IntegrasjonID] = a.IntegrasjonPassord
			users[u.Username] = dpf.SvarInnUser{Password: u.Password, Orgnr: org}
		}
		opts := dpf.Options{Key: pki.MustGet(fixtures.CredSvarUt).Key, Logger: cfg.Logger, PublicURL: st.urls[DPF],
			Integrations: integrations, SvarInnUsers: users,
			// The stack's integration points receive through SvarInn.
			SvarInnOrgs:   ipOrgs,
			DefaultSender: cfg.Population.Org(fixtures.RoleDPF).Orgnr,
			Credentials: func(orgnr string) (*rsa.PrivateKey, *x509.Certificate, bool) {
				c, ok := pki.Get(orgnr)
				return c.Key, c.Certificate, ok
			}}
		opts.Maskinporten = st.maskinportenVerifier(remoteMP)
		d, err := dpf.New(opts)
		if err != nil {
			return nil, fmt.Errorf("start dpf: %w", err)
		}
		st.DPF = d
		st.serve(DPF, ls[DPF], d.Admin(), d.Handler())
	}
	if slices.Contains(cfg.Services, DPI) {
		pki := cfg.PKI
		printCred := pki.MustGet(fixtures.CredPrint)
		opts := dpi.Options{Logger: cfg.Logger,
			Providers: map[string]*rsa.PrivateKey{fixtures.DigipostOrgnr: pki.MustGet(fixtures.CredDigipost).Key,
				fixtures.EboksOrgnr: pki.MustGet(fixtures.CredEboks).Key},
			PrintProvider: dpi.PrintProvider{Orgnr: fixtures.PrintProviderOrgnr, Certificate: printCred.Certificate, Key: printCred.Key}}
		if !cfg.Fast {
			// At a desk, the simulated citizen opens a letter that asked for an opening receipt after a few
			// seconds; scenarios (Fast) send it when they want it.
			opts.AapningAfter = 5 * time.Second
		}
		opts.Maskinporten = st.maskinportenVerifier(remoteMP)
		d, err := dpi.New(opts)
		if err != nil {
			return nil, fmt.Errorf("start dpi: %w", err)
		}
		st.DPI = d
		st.serve(DPI, ls[DPI], d.Admin(), d.Handler())
	}
	if slices.Contains(cfg.Services, SR) {
		cred := cfg.PKI.MustGet(fixtures.CredSR)
		opts := sr.Options{
			Signer: cred.Key, Certificate: cred.Certificate,
			Registrations:     cfg.Population.Registrations(cfg.PKI),
			SvarUtCertificate: cfg.PKI.MustGet(fixtures.CredSvarUt).CertificatePEM(),
			PrintProvider:     sr.PrintProvider{Orgnr: fixtures.PrintProviderOrgnr, Certificate: cfg.PKI.MustGet(fixtures.CredPrint).CertificatePEM()},
			RequireAuth:       cfg.RequireAuth,
			Logger:            cfg.Logger,
		}
		if mp := st.Maskinporten; mp != nil {
			opts.TokenKeys = func() (*jose.JSONWebKeySet, error) { ks := mp.JWKS(); return &ks, nil }
		} else if remoteMP != nil {
			ks := remoteMP.JWKS()
			opts.TokenKeys = func() (*jose.JSONWebKeySet, error) { return &ks, nil }
		}
		srv, err := sr.New(opts)
		if err != nil {
			return nil, fmt.Errorf("start sr: %w", err)
		}
		st.SR = srv
		st.serve(SR, ls[SR], srv.Admin(), srv.Handler())
	}

	if slices.Contains(cfg.Services, IP) {
		if cfg.DataDir == "" {
			// One directory for the stack's lifetime (not the store's own temporary one), so that an
			// integration point restarted by RestartIP finds its data again.
			d, err := os.MkdirTemp("", "efm-stack-*")
			if err != nil {
				return nil, fmt.Errorf("start ip: %w", err)
			}
			st.tempDir = d
		}
		org := cfg.IPOrg
		if org == "" {
			org = cfg.Population.Org(fixtures.RoleSender).Orgnr
		}
		ip, err := st.startIP(ctx, IP, org, ls[IP])
		if err != nil {
			return nil, err
		}
		st.IP = ip
		if cfg.IPs > 1 {
			ip2, err := st.startIP(ctx, IP2, cfg.Population.Org(fixtures.RoleReceiver).Orgnr, ls[IP2])
			if err != nil {
				return nil, err
			}
			st.IP2 = ip2
		}
	}

	user, pw := st.adminAuth()
	ctl := &http.Server{Handler: admin.RequireBasic(user, pw, true, st.control.Handler()), ReadHeaderTimeout: 10 * time.Second}
	st.servers = append(st.servers, ctl)
	go func() { _ = ctl.Serve(ls[Control]) }()
	st.order = listen
	ok = true
	return st, nil
}

// remoteMaskinporten is, when Maskinporten is not started here but Config.Remote names one, a stand-in
// with the same signing credential (never served): its verifier and key set check the remote one's
// tokens. Nil otherwise.
func (st *Stack) remoteMaskinporten() (*maskinporten.Server, error) {
	if slices.Contains(st.cfg.Services, Maskinporten) || st.cfg.Remote[Maskinporten] == "" {
		return nil, nil
	}
	cred := st.cfg.PKI.MustGet(fixtures.CredMaskinporten)
	mp, err := maskinporten.New(maskinporten.Options{Signer: cred.Key, Certificate: cred.Certificate, Roots: st.cfg.PKI.Pool()})
	if err != nil {
		return nil, fmt.Errorf("start stack: the remote maskinporten's key set: %w", err)
	}
	return mp, nil
}

// maskinportenVerifier checks Maskinporten tokens for a simulator: the local Maskinporten's, else the
// remote one's stand-in's, else nil (tokens are read without checking their signature).
func (st *Stack) maskinportenVerifier(remote *maskinporten.Server) *bearer.Verifier {
	switch {
	case st.Maskinporten != nil:
		return st.Maskinporten.Verifier()
	case remote != nil:
		return remote.Verifier()
	}
	return nil
}

// startIP starts a reference integration point named name for organisation org, configured against the
// simulators of the stack.
func (st *Stack) startIP(ctx context.Context, name, org string, l *admin.Listener) (*integrasjonspunkt.Server, error) {
	ip, err := st.newIP(ctx, name, org)
	if err != nil {
		return nil, err
	}
	slot := &ipSlot{l: l, svc: admin.New(name, admin.Hooks{}, admin.Options{}), org: org}
	h := slot.svc.Middleware(ip.Handler())
	slot.handler.Store(&h)
	st.ipSlots[name] = slot
	st.serve(name, l, slot.svc, slot)
	ip.Start()
	return ip, nil
}

// newIP makes (without starting) the reference integration point named name for organisation org,
// configured against the simulators of the stack, on its data directory.
func (st *Stack) newIP(ctx context.Context, name, org string) (*integrasjonspunkt.Server, error) {
	cfg := st.cfg
	if st.urls[SR] == "" || st.urls[Maskinporten] == "" {
		return nil, fmt.Errorf("start %s: the reference integration point needs the address register (sr) and maskinporten", name)
	}
	cred, ok := cfg.PKI.Get(org)
	if !ok {
		return nil, fmt.Errorf("start %s: the test PKI has no credential for %s", name, org)
	}
	dir := ""
	switch {
	case cfg.DataDir != "":
		dir = filepath.Join(cfg.DataDir, name)
	case st.tempDir != "":
		dir = filepath.Join(st.tempDir, name)
	}
	ipCfg := integrasjonspunkt.Config{
		OrgNumber: org, Key: cred.Key, Certificate: cred.Certificate, DataDir: dir,
		ServiceRegistryURL: st.urls[SR], SignedLookups: true,
		MaskinportenURL: st.urls[Maskinporten] + "/token", MaskinportenAudience: st.urls[Maskinporten] + "/",
		Fast: cfg.Fast, Plain: cfg.Plain, Logger: cfg.Logger, LockTimeout: cfg.LockTimeout, DPFPollInterval: cfg.SvarInnInterval,
		GenerateArkivmeldingReceipts: cfg.GenerateArkivmeldingReceipts,
	}
	if user, pw, ok := strings.Cut(cfg.IPAuth, ":"); ok && user != "" {
		ipCfg.BasicAuthUser, ipCfg.BasicAuthPassword = user, pw
	}
	if st.urls[DPV] != "" {
		ipCfg.DPVCorrespondenceURL = st.urls[DPV] + "/correspondence/api/v1"
		ipCfg.DPVTokenExchangeURL = st.urls[DPV] + "/authentication/api/v1/exchange/maskinporten"
	}
	if st.urls[DPF] != "" {
		if ipCfg.DPFPollInterval == 0 && !cfg.Fast {
			ipCfg.DPFPollInterval = 15 * time.Second
		}
		ipCfg.DPFSvarUtURL = st.urls[DPF]
		ipCfg.DPFSvarInnURL = st.urls[DPF] + dpf.SvarInnBase
		ipCfg.DPFAccounts = map[string]dpfchannel.Account{org: SvarUtAccount(org)}
		ipCfg.DPFSvarInnUsers = map[string]dpfchannel.BasicAuth{org: SvarInnUser(org)}
	}
	if st.urls[DPI] != "" {
		ipCfg.DPIURI = st.urls[DPI] + dpi.DefaultBasePath
		ipCfg.DPIKRRPrintURL = st.urls[DPI] + dpi.KRRPrintPath
		// Each integration point its own corner-2 channel, so that they do not take each other's receipts.
		ipCfg.DPIMpcID = "no.difi.move.integrasjonspunkt-" + org
	}
	if st.urls[DPO] != "" {
		ipCfg.DPOBrokerURL = st.urls[DPO] + "/broker/api/v1"
		ipCfg.DPOTokenExchangeURL = st.urls[DPO] + "/authentication/api/v1/exchange/maskinporten"
	}
	if ipCfg.Logger == nil {
		ipCfg.Logger = slog.New(slog.DiscardHandler)
	} else {
		ipCfg.Logger = ipCfg.Logger.With("service", name, "org", org)
	}
	ip, err := integrasjonspunkt.New(ctx, ipCfg)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return ip, nil
}

// RestartIP crashes the integration point IP and starts it again on the same data directory and port,
// as a process killed with SIGKILL and started again would be. In one process this is an emulation:
// the port is closed and every open connection dropped at once, the integration point's background work
// is cancelled without waiting for attempts in flight and its database closed (transactions in flight
// roll back as their contexts end), and a new integration point opens the same data directory before
// the port opens again. Work that had already reached the network cannot be stopped half-way as a
// kill would; the real SIGKILL is proven by the tests of cmd/efm-harness, which run the binary.
func (st *Stack) RestartIP(ctx context.Context) error {
	slot := st.ipSlots[IP]
	if slot == nil {
		return errors.New("restart ip: the stack runs no integration point")
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := slot.l.SetRefuse(true); err != nil {
		return fmt.Errorf("restart ip: close the port: %w", err)
	}
	_ = st.IP.Kill()
	ip, err := st.newIP(ctx, IP, slot.org)
	if err != nil {
		return fmt.Errorf("restart ip: %w", err)
	}
	h := slot.svc.Middleware(ip.Handler())
	slot.handler.Store(&h)
	st.IP = ip
	ip.Start()
	// A refuse fault set on the integration point stays in force.
	if fs := slot.svc.FaultState(); !fs.Active || fs.Fault == nil || fs.Fault.Mode != admin.ModeRefuse {
		if err := slot.l.SetRefuse(false); err != nil {
			return fmt.Errorf("restart ip: re-open the port: %w", err)
		}
	}
	return nil
}

// IPServer is the running integration point named ip (IP or IP2), nil if none.
func (st *Stack) IPServer(ip string) *integrasjonspunkt.Server {
	st.mu.Lock()
	defer st.mu.Unlock()
	switch ip {
	case IP:
		return st.IP
	case IP2:
		return st.IP2
	}
	return nil
}

func (st *Stack) serve(name string, l *admin.Listener, svc *admin.Service, h http.Handler) {
	svc.Attach(l)
	st.control.Register(svc, st.urls[name])
	user, pw := st.adminAuth()
	srv := &http.Server{Handler: admin.RequireBasic(user, pw, false, h), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	st.servers = append(st.servers, srv)
	go func() { _ = srv.Serve(l) }()
}

// SvarUtAccount is the SvarUt REST account the stack gives an integration point's organisation: a
// kontoId and IntegrasjonId derived from the organisation number, and a password the DPF simulator
// checks.
func SvarUtAccount(org string) dpfchannel.Account {
	return dpfchannel.Account{
		KontoID:            uuid.NewSHA1(uuid.NameSpaceOID, []byte("svarut-konto:"+org)).String(),
		IntegrasjonID:      uuid.NewSHA1(uuid.NameSpaceOID, []byte("svarut-integrasjon:"+org)).String(),
		IntegrasjonPassord: "integrasjonspassord-" + org,
	}
}

// SvarInnUser is the SvarInn user the stack gives an integration point's organisation.
func SvarInnUser(org string) dpfchannel.BasicAuth {
	return dpfchannel.BasicAuth{Username: "svarinn-" + org, Password: "svarinnpassord-" + org}
}

// URL is the base URL of a running service, "" if it is not running.
func (st *Stack) URL(name string) string { return st.urls[name] }

// ControlURL is the control port's base URL.
func (st *Stack) ControlURL() string { return st.urls[Control] }

// Admin is an admin client for the service, through the control port (so it works during port faults).
func (st *Stack) Admin(name string) *admin.Client {
	user, pw := st.adminAuth()
	return admin.ControlClient(st.ControlURL(), name).WithBasicAuth(user, pw)
}

// adminAuth splits Config.AdminAuth.
func (st *Stack) adminAuth() (user, password string) {
	user, password, _ = strings.Cut(st.cfg.AdminAuth, ":")
	return user, password
}

// Services lists the running services (control first) with their URLs.
func (st *Stack) Services() []ServiceURL {
	out := make([]ServiceURL, 0, len(st.order))
	for _, n := range st.order {
		out = append(out, ServiceURL{Name: n, URL: st.urls[n]})
	}
	return out
}

// ServiceURL names a running service's base URL.
type ServiceURL struct {
	Name string
	URL  string
}

// IPOrg is the organisation number of the integration point named ip (IP or IP2), "" if not running.
func (st *Stack) IPOrg(ip string) string {
	if s := st.IPServer(ip); s != nil {
		return s.OrgNumber()
	}
	return ""
}

// Population is the test population the stack serves.
func (st *Stack) Population() *fixtures.Population { return st.cfg.Population }

// PKI is the test PKI the stack uses.
func (st *Stack) PKI() *fixtures.PKI { return st.cfg.PKI }

// Shutdown stops every service gracefully, waiting for requests in flight until ctx ends.
func (st *Stack) Shutdown(ctx context.Context) error {
	var errs []error
	st.closeOnce.Do(func() {
		for _, l := range st.listeners {
			l.SetBlackhole(false) // release held connections so that shutdown does not wait on them
		}
		for _, s := range st.servers {
			if err := s.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs = append(errs, err)
				_ = s.Close()
			}
		}
		for _, l := range st.listeners {
			_ = l.Close()
		}
		st.mu.Lock()
		for _, ip := range []*integrasjonspunkt.Server{st.IP, st.IP2} {
			if ip != nil {
				_ = ip.Close()
			}
		}
		st.mu.Unlock()
		if st.tempDir != "" {
			_ = os.RemoveAll(st.tempDir)
		}
		if st.Maskinporten != nil {
			_ = st.Maskinporten.Close()
		}
		if st.DPO != nil {
			_ = st.DPO.Close()
		}
		if st.DPV != nil {
			_ = st.DPV.Close()
		}
		if st.DPF != nil {
			_ = st.DPF.Close()
		}
		if st.DPI != nil {
			_ = st.DPI.Close()
		}
	})
	return errors.Join(errs...)
}

// Close stops every service within five seconds.
func (st *Stack) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return st.Shutdown(ctx)
}
