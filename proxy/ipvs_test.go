package proxy_test

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/minik8s/minik8s/proxy"
	"github.com/minik8s/minik8s/proxy/fake"
)

func TestModeFor(t *testing.T) {
	tests := []struct {
		flag    string
		hasIPVS bool
		want    string
		err     string
	}{
		{"auto", false, proxy.ProxyModeIPTables, ""},
		{"", false, proxy.ProxyModeIPTables, ""},
		{"auto", true, proxy.ProxyModeIPVS, ""},
		{"iptables", true, proxy.ProxyModeIPTables, ""},
		{"iptables", false, proxy.ProxyModeIPTables, ""},
		{"ipvs", true, proxy.ProxyModeIPVS, ""},
		{"ipvs", false, "", "the kernel has no IPVS; use --proxy-mode=iptables"},
		{"userspace", true, "", `unknown proxy mode "userspace"`},
	}
	for _, tc := range tests {
		got, err := proxy.ModeForKernel(tc.flag, tc.hasIPVS)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ModeFor(%q) with IPVS %v: err %v, want %q", tc.flag, tc.hasIPVS, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ModeFor(%q) with IPVS %v = %q, %v; want %q", tc.flag, tc.hasIPVS, got, err, tc.want)
		}
	}
	if _, err := proxy.ModeForKernel("ipvs", false); !errors.Is(err, proxy.ErrNoIPVS) {
		t.Errorf("want ErrNoIPVS, got %v", err)
	}
}

// This machine's kernel: ModeFor and the real IPVS agree with what /proc says.
func TestKernelIPVS(t *testing.T) {
	h, err := proxy.NewKernelIPVS()
	if errors.Is(err, proxy.ErrNoIPVS) {
		if m, _ := proxy.ModeFor("auto"); m != proxy.ProxyModeIPTables {
			t.Errorf("auto on a kernel without IPVS chose %s", m)
		}
		if _, err := proxy.ModeFor("ipvs"); !errors.Is(err, proxy.ErrNoIPVS) {
			t.Errorf("ipvs on a kernel without IPVS: %v", err)
		}
		t.Skip("the kernel has no IPVS (/proc/net/ip_vs): the real IPVS cannot be tested here")
	}
	if err != nil {
		t.Skipf("IPVS: %v", err)
	}
	_ = h // listing is harmless; changing the host's IPVS table is not done here
	if _, err := h.VirtualServers(); err != nil {
		t.Errorf("list IPVS services: %v", err)
	}
}

func TestBuildIPVS(t *testing.T) {
	svcs, eps := cluster()
	got := proxy.BuildIPVS(svcs, eps, proxy.Options{NodeIPs: []string{nodeIP}})
	vs := func(ip string, port uint16, proto string) proxy.VirtualServer {
		return proxy.VirtualServer{IP: ip, Port: port, Protocol: proto, Scheduler: "rr"}
	}
	rs := func(port uint16, ips ...string) []proxy.RealServer {
		var out []proxy.RealServer
		for _, ip := range ips {
			out = append(out, proxy.RealServer{IP: ip, Port: port, Weight: 1})
		}
		return out
	}
	want := map[proxy.VirtualServer][]proxy.RealServer{
		vs("10.96.0.10", 80, "tcp"):   rs(8080, "10.244.1.2", "10.244.2.3", "10.244.3.4"),
		vs("10.96.0.11", 80, "tcp"):   nil,
		vs("10.96.0.12", 80, "tcp"):   rs(8080, "10.244.1.5", "10.244.2.6"),
		vs(nodeIP, 30080, "tcp"):      rs(8080, "10.244.1.5", "10.244.2.6"),
		vs("10.96.0.13", 80, "tcp"):   nil,
		vs(nodeIP, 30081, "tcp"):      nil,
		vs("10.96.0.53", 53, "udp"):   rs(5353, "10.244.1.7"),
		vs("10.96.0.53", 53, "tcp"):   rs(5354, "10.244.1.7"),
		vs("10.96.0.20", 80, "tcp"):   rs(8080, "10.244.1.8", "10.244.2.9"),
		vs("10.96.0.20", 9090, "tcp"): rs(9100, "10.244.1.8", "10.244.2.9"),
		vs("10.96.0.21", 80, "tcp"):   nil,
	}
	if !maps.EqualFunc(got.Servers, want, func(a, b []proxy.RealServer) bool { return slices.Equal(a, b) }) {
		t.Errorf("servers:\n got %v\nwant %v", got.Servers, want)
	}
	wantAddrs := []string{"10.96.0.10", "10.96.0.11", "10.96.0.12", "10.96.0.13", "10.96.0.20", "10.96.0.21", "10.96.0.53"}
	if !slices.Equal(got.Addresses, wantAddrs) {
		t.Errorf("addresses %v, want %v", got.Addresses, wantAddrs)
	}
}

func TestSyncIPVS(t *testing.T) {
	svcs, eps := cluster()
	h := fake.NewIPVS()
	// Left from before: a Service that is gone, and a real server that is gone.
	stale := proxy.VirtualServer{IP: "10.96.9.9", Port: 80, Protocol: "tcp", Scheduler: "rr"}
	web := proxy.VirtualServer{IP: "10.96.0.10", Port: 80, Protocol: "tcp", Scheduler: "rr"}
	for _, vs := range []proxy.VirtualServer{stale, web} {
		if err := h.AddVirtualServer(vs); err != nil {
			t.Fatal(err)
		}
	}
	kept := proxy.RealServer{IP: "10.244.1.2", Port: 8080, Weight: 1}
	for _, r := range []proxy.RealServer{kept, {IP: "10.244.9.9", Port: 8080, Weight: 1}} {
		if err := h.AddRealServer(web, r); err != nil {
			t.Fatal(err)
		}
	}
	want := proxy.BuildIPVS(svcs, eps, proxy.Options{})
	if err := proxy.SyncIPVS(h, want); err != nil {
		t.Fatal(err)
	}
	got := h.State()
	if !maps.EqualFunc(got.Servers, want.Servers, func(a, b []proxy.RealServer) bool {
		a, b = slices.Clone(a), slices.Clone(b)
		cmp := func(x, y proxy.RealServer) int { return strings.Compare(x.String(), y.String()) }
		slices.SortFunc(a, cmp)
		slices.SortFunc(b, cmp)
		return slices.Equal(a, b)
	}) {
		t.Errorf("after sync:\n got %v\nwant %v", got.Servers, want.Servers)
	}
	if !slices.Equal(got.Addresses, want.Addresses) {
		t.Errorf("bound %v, want %v", got.Addresses, want.Addresses)
	}
	if rs := got.Servers[web]; len(rs) == 0 || rs[0] != kept {
		t.Errorf("the real server that stays was replaced: %v", rs)
	}
	n := h.Changes()
	if err := proxy.SyncIPVS(h, want); err != nil || h.Changes() != n {
		t.Errorf("a second sync changed %d things (err %v)", h.Changes()-n, err)
	}
}

// In IPVS mode iptables only masquerades: no DNAT, and no catch-all reject that would
// refuse what IPVS is about to take.
func TestIPVSModeProxier(t *testing.T) {
	s := testserverStart(t)
	ctx := t.Context()
	createService(t, s, service("default", "web", "10.96.0.10", port("", "TCP", 80, 8080, 0)),
		endpoints("default", "web", epPort("", "TCP", 8080), "10.244.1.2"))
	ft, h := fake.NewTables(), fake.NewIPVS()
	p := proxy.New(s.Client, proxy.Options{ProxyMode: proxy.ProxyModeIPVS, ClusterCIDR: clusterCIDR, ServiceCIDR: serviceCIDR, MinSyncPeriod: 20e6}, quietLog())
	p.Runner, p.IPVS, p.Sysctl = ft, h, noSysctl
	go func() { _ = p.Run(ctx) }()
	web := proxy.VirtualServer{IP: "10.96.0.10", Port: 80, Protocol: "tcp", Scheduler: "rr"}
	eventually(t, func() bool { return len(h.State().Servers[web]) == 1 }, "the IPVS service")
	eventually(t, func() bool { return ft.Restores() > 0 }, "the iptables rules")
	tr, err := ft.Trace(fake.Packet{Src: nodeIP, Dst: "10.96.0.10", Port: 80, FromNode: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(tr) != 1 || tr[0].DNAT || !tr[0].Masquerade || tr[0].Verdict != fake.Accept {
		t.Errorf("node to a ClusterIP in IPVS mode: %v (want accepted, marked for masquerade, no DNAT)", tr)
	}
}
