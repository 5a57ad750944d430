package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	psnet "github.com/shirou/gopsutil/v4/net"
	"github.com/shirou/gopsutil/v4/process"
)

// ProcessSample is one second of one process's resource use.
type ProcessSample struct {
	PID int32 `json:"pid"`
	// CPU is the share of one core used since the last sample, in percent.
	CPU float64 `json:"cpuPercent"`
	// RSS is the resident set size in bytes.
	RSS uint64 `json:"rssBytes"`
	// Conns counts the process's established TCP connections; FDs its open file descriptors.
	Conns int `json:"connections"`
	FDs   int `json:"fds"`
	// Goroutines comes from the process's /manage/prometheus (go_goroutines), or -1 when it has none.
	Goroutines int `json:"goroutines"`
}

// ProcessSeries is one process's samples over the run.
type ProcessSeries struct {
	PID     int32           `json:"pid"`
	Roles   []string        `json:"roles"`
	Command string          `json:"command"`
	Samples []ProcessSample `json:"samples"`
	PeakRSS uint64          `json:"peakRssBytes"`
	MaxCPU  float64         `json:"maxCpuPercent"`
}

// Sampler samples the processes that serve the target's ports, found through the machine's socket
// table (so it works on this machine only, which the loopback rule ensures). It reads CPU, RSS, open
// descriptors and established connections with gopsutil, and goroutines from the Prometheus page of an
// integration point that offers one.
type Sampler struct {
	procs []*sampled
	http  *http.Client
}

type sampled struct {
	proc       *process.Process
	ports      []uint32 // the listening ports it was found by, to find it again after a restart
	roles      []string
	command    string
	metricsURL string
	lastCPU    float64
	lastAt     time.Time
	mu         sync.Mutex
	samples    []ProcessSample
}

// NewSampler finds the process listening on each URL's port. roles names each URL (e.g. "ip", "dpo");
// metrics maps a role to a Prometheus URL to read goroutines from. URLs whose process cannot be found
// (another user's, or on another machine) are left out; an error is returned only when none is found.
func NewSampler(roles map[string]string, metrics map[string]string) (*Sampler, error) {
	ports := map[uint32][]string{}
	for role, raw := range roles {
		u, err := url.Parse(raw)
		if err != nil {
			continue
		}
		p, err := strconv.Atoi(u.Port())
		if err != nil {
			continue
		}
		ports[uint32(p)] = append(ports[uint32(p)], role)
	}
	conns, err := psnet.Connections("tcp")
	if err != nil {
		return nil, fmt.Errorf("read the socket table: %w", err)
	}
	byPID := map[int32]*sampled{}
	for _, c := range conns {
		if c.Status != "LISTEN" || c.Pid == 0 {
			continue
		}
		rs, ok := ports[c.Laddr.Port]
		if !ok {
			continue
		}
		s := byPID[c.Pid]
		if s == nil {
			p, err := process.NewProcess(c.Pid)
			if err != nil {
				continue
			}
			cmd, _ := p.Cmdline()
			s = &sampled{proc: p, command: cmd}
			byPID[c.Pid] = s
		}
		s.roles = append(s.roles, rs...)
		s.ports = append(s.ports, c.Laddr.Port)
		delete(ports, c.Laddr.Port)
	}
	if len(byPID) == 0 {
		return nil, fmt.Errorf("found no process listening on the target's ports (another user's, or not on this machine)")
	}
	sm := &Sampler{http: &http.Client{Timeout: 500 * time.Millisecond}}
	for _, s := range byPID {
		sort.Strings(s.roles)
		for _, r := range s.roles {
			if m, ok := metrics[r]; ok && s.metricsURL == "" {
				s.metricsURL = m
			}
		}
		if t, err := s.proc.Times(); err == nil {
			s.lastCPU, s.lastAt = t.User+t.System, time.Now()
		}
		sm.procs = append(sm.procs, s)
	}
	sort.Slice(sm.procs, func(i, j int) bool { return sm.procs[i].proc.Pid < sm.procs[j].proc.Pid })
	return sm, nil
}

// Sample reads every process once and keeps the samples.
func (sm *Sampler) Sample() []ProcessSample {
	out := make([]ProcessSample, 0, len(sm.procs))
	for _, s := range sm.procs {
		if running, err := s.proc.IsRunning(); err != nil || !running {
			s.refind() // killed and started again (a crash test): follow the new process
		}
		ps := ProcessSample{PID: s.proc.Pid, Goroutines: -1}
		now := time.Now()
		if t, err := s.proc.Times(); err == nil {
			cpu := t.User + t.System
			if el := now.Sub(s.lastAt).Seconds(); el > 0 && !s.lastAt.IsZero() {
				ps.CPU = (cpu - s.lastCPU) / el * 100
			}
			s.lastCPU, s.lastAt = cpu, now
		}
		if m, err := s.proc.MemoryInfo(); err == nil {
			ps.RSS = m.RSS
		}
		if n, err := s.proc.NumFDs(); err == nil {
			ps.FDs = int(n)
		}
		if cs, err := psnet.ConnectionsPid("tcp", s.proc.Pid); err == nil {
			for _, c := range cs {
				if c.Status == "ESTABLISHED" {
					ps.Conns++
				}
			}
		}
		if s.metricsURL != "" {
			ps.Goroutines = sm.goroutines(s.metricsURL)
		}
		s.mu.Lock()
		s.samples = append(s.samples, ps)
		s.mu.Unlock()
		out = append(out, ps)
	}
	return out
}

// goroutines reads go_goroutines from a Prometheus page, or -1.
func (sm *Sampler) goroutines(u string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return -1
	}
	resp, err := sm.http.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			if n, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				return int(n)
			}
		}
	}
	return -1
}

// Series returns every process's samples with its peaks.
func (sm *Sampler) Series() []ProcessSeries {
	out := make([]ProcessSeries, 0, len(sm.procs))
	for _, s := range sm.procs {
		s.mu.Lock()
		ser := ProcessSeries{PID: s.proc.Pid, Roles: s.roles, Command: s.command, Samples: append([]ProcessSample(nil), s.samples...)}
		s.mu.Unlock()
		for _, x := range ser.Samples {
			ser.PeakRSS = max(ser.PeakRSS, x.RSS)
			ser.MaxCPU = max(ser.MaxCPU, x.CPU)
		}
		out = append(out, ser)
	}
	return out
}

// refind looks for the process now listening on s's ports, keeping the old one when there is none.
func (s *sampled) refind() {
	conns, err := psnet.Connections("tcp")
	if err != nil {
		return
	}
	for _, c := range conns {
		if c.Status != "LISTEN" || c.Pid == 0 || !slices.Contains(s.ports, c.Laddr.Port) {
			continue
		}
		if p, err := process.NewProcess(c.Pid); err == nil {
			s.proc, s.lastAt = p, time.Time{}
			if t, err := p.Times(); err == nil {
				s.lastCPU, s.lastAt = t.User+t.System, time.Now()
			}
			return
		}
	}
}
