package loadtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/efm-harness/efm-harness/simulator/admin"
)

// SimulatorsOf names the simulators the flows send to (dpo, dpv, dpf, dpi).
func SimulatorsOf(flows []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range flows {
		var s string
		switch f {
		case FlowDPOSmall, FlowDPOLarge:
			s = "dpo"
		case FlowDPV:
			s = "dpv"
		case FlowDPF:
			s = "dpf"
		case FlowDPIDigital, FlowPrint:
			s = "dpi"
		}
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Arrivals reads from the harness's control port when each simulator received each message it keeps, by
// messageId: the DPO upload's publication (the broker's sbd.json messageId), the DPV correspondence
// (sendersReference), the DPF forsendelse (eksternReferanse) and the DPI message. auth is "user:password"
// for a protected admin API, or "". Services that cannot be read are reported in the error and left out.
func Arrivals(ctx context.Context, controlURL, auth string, services []string) (map[string]time.Time, error) {
	user, pw, _ := strings.Cut(auth, ":")
	out := map[string]time.Time{}
	var errs []error
	for _, svc := range services {
		c := admin.ControlClient(controlURL, svc).WithBasicAuth(user, pw)
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		var err error
		switch svc {
		case "dpo":
			var list struct {
				Transfers []struct {
					MessageID string     `json:"messageId"`
					Published *time.Time `json:"published"`
				} `json:"transfers"`
			}
			if err = c.Messages(cctx, &list); err == nil {
				for _, t := range list.Transfers {
					if t.MessageID != "" && t.Published != nil {
						keepEarliest(out, t.MessageID, *t.Published)
					}
				}
			}
		case "dpv":
			var list struct {
				Correspondences []struct {
					SendersReference string    `json:"sendersReference"`
					Created          time.Time `json:"created"`
				} `json:"correspondences"`
			}
			if err = c.Messages(cctx, &list); err == nil {
				for _, m := range list.Correspondences {
					keepEarliest(out, m.SendersReference, m.Created)
				}
			}
		case "dpf":
			var list struct {
				Forsendelser []struct {
					EksternRef string    `json:"eksternReferanse"`
					Received   time.Time `json:"received"`
				} `json:"forsendelser"`
			}
			if err = c.Messages(cctx, &list); err == nil {
				for _, f := range list.Forsendelser {
					keepEarliest(out, f.EksternRef, f.Received)
				}
			}
		case "dpi":
			var list struct {
				Messages []struct {
					MessageID string    `json:"messageId"`
					Received  time.Time `json:"received"`
				} `json:"messages"`
			}
			if err = c.Messages(cctx, &list); err == nil {
				for _, m := range list.Messages {
					keepEarliest(out, m.MessageID, m.Received)
				}
			}
		default:
			err = fmt.Errorf("no arrival list for %q", svc)
		}
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("arrivals at %s: %w", svc, err))
		}
	}
	return out, errors.Join(errs...)
}

// keepEarliest records at as id's arrival unless an earlier one is known (a retried upload arrives twice).
func keepEarliest(out map[string]time.Time, id string, at time.Time) {
	if id == "" {
		return
	}
	if old, ok := out[id]; !ok || at.Before(old) {
		out[id] = at
	}
}
