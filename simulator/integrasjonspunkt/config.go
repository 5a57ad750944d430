package integrasjonspunkt

import (
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"log/slog"
	"time"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel/dpf"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/delivery"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Config is everything the reference integration point needs; zero fields get the real IP's defaults
// (spec ip-api §4.4, §4.6, §9; upstreams §1.1).
type Config struct {
	// OrgNumber is the integration point's own organisation (difi.move.org.number), 9 digits.
	OrgNumber string
	// Key and Certificate are the organisation's business certificate (difi.move.org.keystore): it signs
	// ASiC-E packages and Maskinporten assertions and decrypts what arrives.
	Key         *rsa.PrivateKey
	Certificate *x509.Certificate
	// DataDir holds the database and the files of outgoing messages (a temporary directory when empty).
	DataDir string

	// ServiceRegistryURL is the address register (difi.move.serviceregistryEndpoint), without a trailing slash.
	ServiceRegistryURL string
	// SignedLookups asks the register for JWS answers and verifies them against its /jwk (difi.move.sign.enable).
	SignedLookups bool
	// MaskinportenURL is the token endpoint (difi.move.oidc.url) and MaskinportenAudience the assertion's
	// aud (difi.move.oidc.audience). Empty MaskinportenURL sends no token to the register.
	MaskinportenURL      string
	MaskinportenAudience string
	// ClientID is the Maskinporten client id (MOVE_IP_<orgnr> when empty).
	ClientID string

	// DPOBrokerURL is the Altinn 3 Broker base (difi.move.dpo.brokerserviceUrl), DPOTokenExchangeURL the
	// Altinn token exchange, DPOResource the broker resource. Empty DPOBrokerURL disables DPO.
	DPOBrokerURL        string
	DPOTokenExchangeURL string
	DPOResource         string
	// DPOReportees are further organisations the IP sends and receives for (difi.move.dpo.reportees);
	// DPOMessageChannel is its own message channel (difi.move.dpo.messageChannel).
	DPOReportees      []string
	DPOMessageChannel string
	// DPOPollInterval is how often the broker is polled for incoming messages (15 s).
	DPOPollInterval time.Duration
	// LockTimeout is how long a peek locks an incoming message (5 min); LockExpiryInterval how often
	// expired locks are cleared (5 s).
	LockTimeout        time.Duration
	LockExpiryInterval time.Duration

	// DPVCorrespondenceURL is the Altinn 3 Correspondence API base (difi.move.dpv.correspondenceServiceUrl,
	// …/correspondence/api/v1) and DPVTokenExchangeURL its token exchange. Empty DPVCorrespondenceURL
	// disables DPV.
	DPVCorrespondenceURL string
	DPVTokenExchangeURL  string
	// StatusPollInterval is the base interval of channel status polling (1 min, backing off linearly to
	// 60 min for conversations not updated for 30 days).
	StatusPollInterval time.Duration
	// GenerateArkivmeldingReceipts synthesises an incoming arkivmelding_kvittering OK when a DPV
	// arkivmelding reaches LEVERT or a DPF one LEST (difi.move.arkivmelding.generate-arkivmelding-receipts;
	// true in the real IP's base profile, false in staging and production — and here by default).
	GenerateArkivmeldingReceipts bool

	// DPFSvarUtURL is KS SvarUt's REST base (difi.move.fiks.ut.rest.endpointUrl) and DPFSvarInnURL SvarInn's
	// (difi.move.fiks.inn.baseUrl, …/tjenester/svarinn). Empty DPFSvarUtURL disables DPF; empty
	// DPFSvarInnURL receives nothing over DPF.
	DPFSvarUtURL  string
	DPFSvarInnURL string
	// DPFAccounts are the SvarUt REST accounts (kontoid, integrasjon-id, integrasjon-passord) by sender
	// organisation: the own organisation and each on-behalf-of one (difi.move.fiks.ut.rest.* and
	// paaVegneAv). A sender without one gets 400 MissingSvarUtCredentialsException at create.
	DPFAccounts map[string]dpf.Account
	// DPFSvarInnUsers are the SvarInn users by receiving organisation (difi.move.fiks.inn.username and
	// paaVegneAv); each is polled.
	DPFSvarInnUsers map[string]dpf.BasicAuth
	// DPFPollInterval is how often SvarInn is polled (difi.move.fiks.pollingrate, 15 min).
	DPFPollInterval time.Duration

	// DPIURI is the DPI corner-2 base (difi.move.dpi.uri, …/api/v2/dpi) and DPIKRRPrintURL KRR's print
	// certificate endpoint (difi.move.dpi.krr-print-url). Empty DPIURI disables DPI.
	DPIURI         string
	DPIKRRPrintURL string
	// DPIMpcID is the integration point's corner-2 channel (difi.move.dpi.mpcId,
	// no.difi.move.integrasjonspunkt; the kanal replaces '.' with '_'). Integration points sharing a
	// corner 2 need different ones, or they take each other's receipts.
	DPIMpcID string
	// DPIReceiptInterval is how often corner 2 is polled for receipts (difi.move.dpi.pollingrate, 10 s).
	DPIReceiptInterval time.Duration

	// BasicAuthUser and BasicAuthPassword, when the user is set, make the API require HTTP Basic
	// authentication (difi.security.enable, difi.security.user.name and .password); /manage/health,
	// /manage/info and /manage/prometheus stay open.
	BasicAuthUser     string
	BasicAuthPassword string

	// DefaultTTL is the time to live of a message without expectedResponseDateTime (24 h).
	DefaultTTL time.Duration
	// Retry is the back-off between delivery attempts: Initial, ×Multiplier, at most Max, and MaxAttempts
	// attempts in all (the real IP: 20 s ×3 capped at 1 h, 105 attempts).
	Retry delivery.RetryPolicy
	// Workers is the number of concurrent delivery attempts (difi.move.queue.concurrency, 10).
	Workers int
	// UpstreamTimeout bounds every call to an upstream service (30 s).
	UpstreamTimeout time.Duration
	// TTLScanInterval is how often expired conversations get LEVETID_UTLOPT (30 s); PollInterval how
	// often idle delivery workers look for due jobs (1 s).
	TTLScanInterval time.Duration
	PollInterval    time.Duration
	// LookupCacheTTL is how long address-register answers are cached (5 min).
	LookupCacheTTL time.Duration
	// UploadLimits are the per-channel limits of a message's total file size (§4.6).
	UploadLimits map[wire.ServiceIdentifier]int64
	// StatusQueueIncludes lists the channels whose statuses go to the status queue (empty by default).
	StatusQueueIncludes []wire.ServiceIdentifier
	// Fast scales every interval down to milliseconds, for tests.
	Fast bool
	// Plain sends and accepts DPO packages without signature or encryption (the --plain load mode, which
	// measures the delivery core alone). The other channels keep their cryptography.
	Plain bool

	// Logger receives the integration point's log; nil discards it.
	Logger *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Size units as Spring's DataSize counts them.
const (
	MB = 1024 * 1024
	GB = 1024 * MB
)

// withDefaults fills the zero fields and checks the rest.
func (c Config) withDefaults() (Config, error) {
	if !wire.ValidOrgNumber(c.OrgNumber) {
		return c, fmt.Errorf("config: org number %q is not a valid 9-digit organisation number", c.OrgNumber)
	}
	if c.Key == nil || c.Certificate == nil {
		return c, fmt.Errorf("config: the organisation's key and certificate are required")
	}
	if c.ServiceRegistryURL == "" {
		return c, fmt.Errorf("config: the address register URL is required")
	}
	if c.ClientID == "" {
		c.ClientID = "MOVE_IP_" + c.OrgNumber
	}
	if c.DPOResource == "" {
		c.DPOResource = wire.ResourceDPO
	}
	scale := time.Duration(1)
	if c.Fast {
		scale = 1000 // a second becomes a millisecond
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v / scale
		}
	}
	def(&c.DefaultTTL, 24*time.Hour)
	def(&c.Retry.Initial, 20*time.Second)
	def(&c.Retry.Max, time.Hour)
	def(&c.UpstreamTimeout, 30*time.Second)
	def(&c.TTLScanInterval, 30*time.Second)
	def(&c.PollInterval, time.Second)
	def(&c.LookupCacheTTL, 5*time.Minute)
	def(&c.DPOPollInterval, 15*time.Second)
	def(&c.StatusPollInterval, time.Minute)
	def(&c.DPFPollInterval, 15*time.Minute)
	def(&c.DPIReceiptInterval, 10*time.Second)
	if c.LockTimeout == 0 {
		c.LockTimeout = 5 * time.Minute
		if c.Fast {
			c.LockTimeout = time.Minute // a person with curl still has time between peek and delete
		}
	}
	def(&c.LockExpiryInterval, 5*time.Second)
	for _, d := range []*time.Duration{&c.DPOPollInterval, &c.DPFPollInterval, &c.DPIReceiptInterval, &c.LockExpiryInterval, &c.TTLScanInterval, &c.StatusPollInterval} {
		if *d < 10*time.Millisecond {
			*d = 10 * time.Millisecond // no job needs to spin faster than this
		}
	}
	if c.Fast {
		// Scaled down a thousandfold, the broker and corner-2 polls would ask 60–100 times a second per
		// integration point; a tenth of a second keeps scenarios quick without the load.
		for _, d := range []*time.Duration{&c.DPOPollInterval, &c.DPIReceiptInterval} {
			if *d < 100*time.Millisecond {
				*d = 100 * time.Millisecond
			}
		}
	}
	if c.PollInterval < 10*time.Millisecond {
		c.PollInterval = 10 * time.Millisecond // idle workers need not spin; a send wakes them anyway
	}
	if c.Fast && c.UpstreamTimeout < 2*time.Second {
		c.UpstreamTimeout = 2 * time.Second // a real network round trip still takes real time
	}
	if c.Retry.Multiplier == 0 {
		c.Retry.Multiplier = 3
	}
	if c.Retry.MaxAttempts == 0 {
		c.Retry.MaxAttempts = 105
	}
	if c.Workers == 0 {
		c.Workers = 10
	}
	limits := map[wire.ServiceIdentifier]int64{wire.ServiceDPO: GB, wire.ServiceDPV: 250 * MB, wire.ServiceDPI: 50 * MB,
		wire.ServiceDPF: GB, wire.ServiceDPE: 2 * MB, wire.ServiceDPH: 18 * MB}
	for k, v := range c.UploadLimits {
		limits[k] = v
	}
	c.UploadLimits = limits
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}
