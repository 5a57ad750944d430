package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// defaultHealthURL is what `efm-harness health` checks without arguments: the control port of `up` and
// `sim` on the default port base (the container image's HEALTHCHECK; docker-compose.yml checks each
// service's own port instead).
const defaultHealthURL = "http://127.0.0.1:9090/health"

// ErrUnhealthy is wrapped by the errors of `efm-harness health` when a URL does not answer 2xx.
var ErrUnhealthy = errors.New("unhealthy")

// healthConfig is the configuration of `efm-harness health`.
type healthConfig struct {
	URLs    []string
	Timeout time.Duration
	Wait    time.Duration
}

func loadHealth(args []string, out io.Writer) (healthConfig, error) {
	cfg := healthConfig{}
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.DurationVar(&cfg.Timeout, "timeout", 2*time.Second, "timeout of each request")
	fs.DurationVar(&cfg.Wait, "wait", 0, "keep asking until every URL answers 2xx or this much time has passed; 0 asks once")
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: efm-harness health [flags] [URL ...]\n\nExits 0 when every URL answers a GET with 2xx (default %s), 1 otherwise.\nA FROM scratch image has no shell or curl: this is its health check, e.g.\n  efm-harness health http://127.0.0.1:9101/__admin/health\n\nFlags:\n", defaultHealthURL)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	cfg.URLs = fs.Args()
	if len(cfg.URLs) == 0 {
		cfg.URLs = []string{defaultHealthURL}
	}
	for _, u := range cfg.URLs {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return cfg, fmt.Errorf("health: %q is not an http or https URL", u)
		}
	}
	if cfg.Timeout <= 0 {
		return cfg, fmt.Errorf("health: --timeout %s must be positive", cfg.Timeout)
	}
	return cfg, nil
}

// runHealth checks that every URL answers 2xx, asking again until --wait has passed.
func runHealth(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := loadHealth(args, stderr)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: cfg.Timeout}
	deadline := time.Now().Add(cfg.Wait)
	pending := cfg.URLs
	for {
		var still []string
		var errs []error
		for _, u := range pending {
			if err := checkHealth(ctx, client, u); err != nil {
				still, errs = append(still, u), append(errs, err)
			}
		}
		if len(still) == 0 {
			fmt.Fprintf(stdout, "healthy: %d URL(s)\n", len(cfg.URLs))
			return nil
		}
		pending = still
		if !time.Now().Before(deadline) || ctx.Err() != nil {
			return errors.Join(errs...)
		}
		select {
		case <-ctx.Done():
			return errors.Join(errs...)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func checkHealth(ctx context.Context, c *http.Client, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("health %s: %w", u, err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("health %s: %w: %w", u, ErrUnhealthy, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("health %s: %w: status %d", u, ErrUnhealthy, resp.StatusCode)
	}
	return nil
}
