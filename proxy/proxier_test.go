package proxy_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/testserver"
	"github.com/minik8s/minik8s/proxy"
	"github.com/minik8s/minik8s/proxy/fake"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func testserverStart(t *testing.T) *testserver.Server {
	t.Helper()
	if testing.Short() {
		t.Skip("starts an API server on etcd")
	}
	return testserver.Start(t)
}

func eventually(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func createService(t *testing.T, s *testserver.Server, svc *api.Service, ep *api.Endpoints) {
	t.Helper()
	ctx := t.Context()
	if _, err := s.Client.Services(svc.Namespace).Create(ctx, svc); err != nil {
		t.Fatalf("create service: %v", err)
	}
	if ep != nil {
		if _, err := s.Client.Endpoints(ep.Namespace).Create(ctx, ep); err != nil {
			t.Fatalf("create endpoints: %v", err)
		}
	}
}

// The Proxier against a real API server: it follows Services and Endpoints as they change,
// coalesces bursts, and removes what is deleted.
func TestProxierFollowsTheCluster(t *testing.T) {
	s := testserverStart(t)
	ctx := t.Context()
	ft := fake.NewTables()
	p := proxy.New(s.Client, proxy.Options{ClusterCIDR: clusterCIDR, ServiceCIDR: serviceCIDR, MinSyncPeriod: 200 * time.Millisecond}, quietLog())
	p.Runner = ft
	var sysctls []string
	p.Sysctl = func(path, value string) error { sysctls = append(sysctls, path+"="+value); return nil }
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()

	// Nothing is written before the caches are filled, then the empty state once.
	eventually(t, func() bool { return ft.Restores() > 0 }, "the first sync")
	if !slices.Equal(sysctls, []string{"/proc/sys/net/bridge/bridge-nf-call-iptables=1"}) {
		t.Errorf("kernel settings: %v", sysctls)
	}
	vip := fake.Packet{Src: "10.244.5.9", Dst: "10.96.0.10", Port: 80}
	dests := func() []string {
		tr, err := ft.Trace(vip)
		if err != nil {
			t.Fatal(err)
		}
		return tr.Destinations()
	}
	createService(t, s, service("default", "web", "10.96.0.10", port("", "TCP", 80, 8080, 0)),
		endpoints("default", "web", epPort("", "TCP", 8080), "10.244.1.2"))
	eventually(t, func() bool { return slices.Equal(dests(), []string{"10.244.1.2:8080"}) }, "the endpoint to be reachable")

	// A burst of 20 endpoint changes is applied in a few syncs, ending in the last state.
	before := ft.Restores()
	ips := []string{"10.244.1.2"}
	for i := range 20 {
		ips = append(ips, fmt.Sprintf("10.244.2.%d", 10+i))
		ep, err := s.Client.Endpoints("default").Get(ctx, "web")
		if err != nil {
			t.Fatal(err)
		}
		ep.Subsets = endpoints("default", "web", epPort("", "TCP", 8080), ips...).Subsets
		if _, err := s.Client.Endpoints("default").Update(ctx, ep); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, func() bool { return len(dests()) == 21 }, "all 21 endpoints")
	time.Sleep(300 * time.Millisecond)
	if n := ft.Restores() - before; n > 10 {
		t.Errorf("20 quick changes took %d syncs; they should coalesce", n)
	}

	// Deleting the Service takes its rules away: the address is refused.
	if err := s.Client.Services("default").Delete(ctx, "web", nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool {
		tr, _ := ft.Trace(vip)
		return tr.Rejected()
	}, "the deleted Service to be refused")
	for _, c := range ft.Chains("nat") {
		if len(c) > len("MINIK8S-SVC-") && (c[:12] == "MINIK8S-SVC-" || c[:12] == "MINIK8S-SEP-") {
			t.Errorf("chain %s left after the Service went", c)
		}
	}

	// Stopping leaves the rules.
	stop()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if b, _ := ft.Save(ctx, "nat"); !slices.Contains(ft.Chains("nat"), "MINIK8S-SERVICES") {
		t.Errorf("rules removed on stop:\n%s", b)
	}
}

// A failing restore is retried; the periodic resync repairs rules removed behind the
// proxy's back.
func TestProxierRetriesAndResyncs(t *testing.T) {
	s := testserverStart(t)
	ft := fake.NewTables()
	flaky := &flakyRunner{Runner: ft}
	flaky.fail.Store(2)
	p := proxy.New(s.Client, proxy.Options{MinSyncPeriod: 20 * time.Millisecond, SyncPeriod: 200 * time.Millisecond}, quietLog())
	p.Runner, p.Sysctl = flaky, noSysctl
	go func() { _ = p.Run(t.Context()) }()
	eventually(t, func() bool { return ft.Restores() > 0 }, "a sync after two failures")
	if err := proxy.CleanupIPTables(t.Context(), ft); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool { return slices.Contains(ft.Chains("nat"), "MINIK8S-SERVICES") }, "the periodic resync to restore the rules")
}

func noSysctl(string, string) error { return nil }

type flakyRunner struct {
	proxy.Runner
	fail atomic.Int32
}

func (f *flakyRunner) Restore(ctx context.Context, data []byte) error {
	if f.fail.Add(-1) >= 0 {
		return errors.New("iptables-restore: resource temporarily unavailable")
	}
	return f.Runner.Restore(ctx, data)
}

func TestProxierRefusesIPVSWithoutIt(t *testing.T) {
	if _, err := proxy.NewKernelIPVS(); !errors.Is(err, proxy.ErrNoIPVS) {
		t.Skip("this kernel has IPVS")
	}
	p := proxy.New(nil, proxy.Options{ProxyMode: proxy.ProxyModeIPVS}, quietLog())
	if err := p.Run(t.Context()); !errors.Is(err, proxy.ErrNoIPVS) {
		t.Errorf("Run in IPVS mode without IPVS: %v", err)
	}
}

func TestBoundedRunner(t *testing.T) {
	var runs atomic.Int32
	var times []time.Time
	r := proxy.NewBoundedRunner(func(context.Context) error {
		runs.Add(1)
		times = append(times, time.Now())
		return nil
	}, 100*time.Millisecond, time.Hour)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { r.Loop(ctx); close(done) }()
	eventually(t, func() bool { return runs.Load() == 1 }, "the first run")
	for range 50 {
		r.Request()
		time.Sleep(time.Millisecond)
	}
	time.Sleep(250 * time.Millisecond)
	cancel()
	<-done
	if n := runs.Load(); n < 2 || n > 3 {
		t.Errorf("50 requests in ~50ms with a 100ms minimum gave %d runs (want the first, then 1 or 2)", n)
	}
	for i := 1; i < len(times); i++ {
		if d := times[i].Sub(times[i-1]); d < 95*time.Millisecond {
			t.Errorf("runs %d and %d only %v apart", i-1, i, d)
		}
	}
}
