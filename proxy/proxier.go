package proxy

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
	"github.com/minik8s/minik8s/client/cache"
)

// Proxier keeps one node's Services working: it watches Services and Endpoints and, on
// every change (coalesced, at most once per Options.MinSyncPeriod) and every
// Options.SyncPeriod, writes the node's whole ruleset again. It runs in the node's network
// namespace.
type Proxier struct {
	// Runner reads and writes iptables; New sets ExecRunner. Tests replace it before Run.
	Runner Runner
	// IPVS is the kernel's IPVS in IPVS mode; Run opens it when nil.
	IPVS IPVS
	// Sysctl sets a kernel setting of the node's network namespace (a path under
	// /proc/sys); New sets the real one. Tests replace it.
	Sysctl func(path, value string) error

	opts      Options
	log       *slog.Logger
	services  *cache.Informer
	endpoints *cache.Informer
	runner    *boundedRunner
}

// New returns a Proxier that reads Services and Endpoints of every namespace through c.
func New(c *client.Client, opts Options, log *slog.Logger) *Proxier {
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "proxy")
	p := &Proxier{
		Runner:    ExecRunner{},
		Sysctl:    writeSysctl,
		opts:      opts,
		log:       log,
		services:  cache.New(c.Services("").Dynamic(), client.ListOptions{}, log),
		endpoints: cache.New(c.Endpoints("").Dynamic(), client.ListOptions{}, log),
	}
	p.runner = newBoundedRunner(p.syncLogged, opts.minSync(), opts.sync())
	request := func(api.Object) { p.runner.Request() }
	h := cache.Handler{OnAdd: request, OnUpdate: func(_, cur api.Object) { request(cur) }, OnDelete: request}
	p.services.AddHandler(h)
	p.endpoints.AddHandler(h)
	return p
}

// Run proxies until ctx ends, and then leaves the rules in place (as kube-proxy does), so
// that Services keep working while the proxy restarts; Cleanup removes them. Nothing is
// written before both caches are filled: an empty cache must not wipe a node's rules. It
// returns an error only when it cannot start (IPVS mode on a kernel without IPVS).
func (p *Proxier) Run(ctx context.Context) error {
	switch p.opts.ProxyMode {
	case ProxyModeIPVS:
		if p.IPVS == nil {
			h, err := NewKernelIPVS()
			if err != nil {
				return err
			}
			p.IPVS = h
		}
	case ProxyModeIPTables, "":
	default:
		return fmt.Errorf("proxy mode %q: resolve it with ModeFor first", p.opts.ProxyMode)
	}
	p.setSysctls()
	go p.services.Run(ctx)
	go p.endpoints.Run(ctx)
	if !p.services.WaitForSync(ctx) || !p.endpoints.WaitForSync(ctx) {
		return nil
	}
	p.log.Info("proxying Services", "mode", p.mode(), "balance", p.balance())
	p.runner.Loop(ctx)
	return nil
}

// setSysctls makes the kernel do what the rules assume. Packets between two Pods on one
// bridge are bridged, not routed: without bridge-nf-call-iptables the reply of a Pod that
// was reached through a Service skips conntrack, keeps the Pod's address as its source,
// and the client drops it. IPVS masquerades only what conntrack tracks.
func (p *Proxier) setSysctls() {
	settings := [][2]string{{"/proc/sys/net/bridge/bridge-nf-call-iptables", "1"}}
	if p.opts.ProxyMode == ProxyModeIPVS {
		settings = append(settings, [2]string{"/proc/sys/net/ipv4/vs/conntrack", "1"})
	}
	for _, s := range settings {
		if err := p.Sysctl(s[0], s[1]); err != nil {
			p.log.Warn("cannot set a kernel setting; Services may not work between Pods of one node", "setting", s[0], "err", err)
		}
	}
}

// writeSysctl writes value to path unless it holds it already.
func writeSysctl(path, value string) error {
	if cur, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(cur)) == value {
		return nil
	}
	return os.WriteFile(path, []byte(value), 0o644)
}

func (p *Proxier) mode() string {
	if p.opts.ProxyMode == "" {
		return ProxyModeIPTables
	}
	return p.opts.ProxyMode
}

func (p *Proxier) balance() string {
	if p.opts.Mode == "" {
		return ModeRandom
	}
	return p.opts.Mode
}

func (p *Proxier) syncLogged(ctx context.Context) error {
	start := time.Now()
	n, err := p.sync(ctx)
	if err != nil {
		if ctx.Err() == nil {
			p.log.Warn("sync service rules failed; retrying", "err", err)
		}
		return err
	}
	p.log.Debug("synced service rules", "servicePorts", n, "duration", time.Since(start))
	return nil
}

// sync writes the whole ruleset for what the caches hold now.
func (p *Proxier) sync(ctx context.Context) (int, error) {
	var svcs []*api.Service
	for _, o := range p.services.List() {
		if s, ok := o.(*api.Service); ok {
			svcs = append(svcs, s)
		}
	}
	var eps []*api.Endpoints
	for _, o := range p.endpoints.List() {
		if e, ok := o.(*api.Endpoints); ok {
			eps = append(eps, e)
		}
	}
	sps := servicePorts(svcs, eps)
	if p.opts.ProxyMode != ProxyModeIPVS {
		return len(sps), SyncIPTables(ctx, p.Runner, svcs, eps, p.opts)
	}
	if err := SyncIPVS(p.IPVS, ipvsRules(sps, p.opts)); err != nil {
		return len(sps), err
	}
	saved, err := save(ctx, p.Runner)
	if err != nil {
		return len(sps), err
	}
	return len(sps), p.Runner.Restore(ctx, buildIPVSRules(saved, sps, p.opts))
}
