package proxy_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/proxy"
	"github.com/minik8s/minik8s/proxy/fake"
)

// The address plan of the tests: pods in 10.244.0.0/16, services in 10.96.0.0/16, nodes
// in 198.18.0.0/24 (this node is .11), a machine outside the cluster at 198.18.0.1.
const (
	clusterCIDR = "10.244.0.0/16"
	serviceCIDR = "10.96.0.0/16"
	nodeIP      = "198.18.0.11"
	outsideIP   = "198.18.0.1"
)

var testOpts = proxy.Options{ClusterCIDR: clusterCIDR, ServiceCIDR: serviceCIDR}

func service(ns, name, clusterIP string, ports ...api.ServicePort) *api.Service {
	s := &api.Service{ObjectMeta: api.ObjectMeta{Namespace: ns, Name: name},
		Spec: api.ServiceSpec{Type: api.ServiceTypeClusterIP, ClusterIP: clusterIP, Ports: ports}}
	for _, p := range ports {
		if p.NodePort != 0 {
			s.Spec.Type = api.ServiceTypeNodePort
		}
	}
	api.Default(s)
	return s
}

func port(name, protocol string, port, target, nodePort int32) api.ServicePort {
	return api.ServicePort{Name: name, Protocol: protocol, Port: port, TargetPort: api.FromInt(target), NodePort: nodePort}
}

func endpoints(ns, name string, ports []api.EndpointPort, ips ...string) *api.Endpoints {
	ss := api.EndpointSubset{Ports: ports}
	for _, ip := range ips {
		ss.Addresses = append(ss.Addresses, api.EndpointAddress{IP: ip})
	}
	return &api.Endpoints{ObjectMeta: api.ObjectMeta{Namespace: ns, Name: name}, Subsets: []api.EndpointSubset{ss}}
}

func epPort(name, protocol string, port int32) []api.EndpointPort {
	return []api.EndpointPort{{Name: name, Protocol: protocol, Port: port}}
}

// cluster is the state most tests run against.
func cluster() ([]*api.Service, []*api.Endpoints) {
	svcs := []*api.Service{
		service("default", "web", "10.96.0.10", port("", "TCP", 80, 8080, 0)),
		service("default", "empty", "10.96.0.11", port("", "TCP", 80, 8080, 0)),
		service("default", "np", "10.96.0.12", port("", "TCP", 80, 8080, 30080)),
		service("default", "np-empty", "10.96.0.13", port("", "TCP", 80, 8080, 30081)),
		service("kube-system", "dns", "10.96.0.53", port("dns", "UDP", 53, 5353, 0), port("dns-tcp", "TCP", 53, 5354, 0)),
		service("default", "multi", "10.96.0.20", port("http", "TCP", 80, 8080, 0), port("metrics", "TCP", 9090, 9100, 0)),
		service("default", "notready", "10.96.0.21", port("", "TCP", 80, 8080, 0)),
		service("default", "headless", "None", port("", "TCP", 80, 8080, 0)),
	}
	nr := endpoints("default", "notready", epPort("", "TCP", 8080))
	nr.Subsets[0].NotReadyAddresses = []api.EndpointAddress{{IP: "10.244.1.30"}}
	multi := endpoints("default", "multi", []api.EndpointPort{{Name: "http", Port: 8080}, {Name: "metrics", Port: 9100}}, "10.244.1.8", "10.244.2.9")
	eps := []*api.Endpoints{
		endpoints("default", "web", epPort("", "TCP", 8080), "10.244.3.4", "10.244.1.2", "10.244.2.3"),
		endpoints("default", "empty", nil),
		endpoints("default", "np", epPort("", "TCP", 8080), "10.244.1.5", "10.244.2.6"),
		endpoints("kube-system", "dns", []api.EndpointPort{{Name: "dns", Protocol: "UDP", Port: 5353}, {Name: "dns-tcp", Protocol: "TCP", Port: 5354}}, "10.244.1.7"),
		multi,
		nr,
		endpoints("default", "headless", epPort("", "TCP", 8080), "10.244.1.40"),
	}
	return svcs, eps
}

// tables applies the ruleset for svcs and eps to fresh fake tables.
func tables(t *testing.T, svcs []*api.Service, eps []*api.Endpoints, opts proxy.Options) *fake.Tables {
	t.Helper()
	ft := fake.NewTables()
	if err := proxy.SyncIPTables(context.Background(), ft, svcs, eps, opts); err != nil {
		t.Fatalf("sync: %v\n%s", err, proxy.BuildIPTables(svcs, eps, opts))
	}
	return ft
}

func addrs(ips []string, port int) []string {
	var out []string
	for _, ip := range ips {
		out = append(out, fake.Addr(ip, port))
	}
	slices.Sort(out)
	return out
}

func TestPacketFlow(t *testing.T) {
	svcs, eps := cluster()
	ft := tables(t, svcs, eps, testOpts)
	web := addrs([]string{"10.244.1.2", "10.244.2.3", "10.244.3.4"}, 8080)
	np := addrs([]string{"10.244.1.5", "10.244.2.6"}, 8080)

	const (
		masqAll  = "all"
		masqNone = "none"
	)
	tests := []struct {
		name   string
		pkt    fake.Packet
		want   []string // reachable endpoints, each equally likely
		masq   string   // masqAll, masqNone, or "" not to check
		reject bool
		same   bool // passes untouched
	}{
		{name: "pod to ClusterIP reaches all 3 endpoints, not masqueraded",
			pkt: fake.Packet{Src: "10.244.5.9", Dst: "10.96.0.10", Port: 80}, want: web, masq: masqNone},
		{name: "node process to ClusterIP is masqueraded (its source is outside the pod network)",
			pkt: fake.Packet{Src: nodeIP, Dst: "10.96.0.10", Port: 80, FromNode: true}, want: web, masq: masqAll},
		{name: "outside machine routed to a ClusterIP is masqueraded",
			pkt: fake.Packet{Src: outsideIP, Dst: "10.96.0.10", Port: 80}, want: web, masq: masqAll},
		{name: "Service without endpoints rejects",
			pkt: fake.Packet{Src: "10.244.5.9", Dst: "10.96.0.11", Port: 80}, reject: true},
		{name: "Service without endpoints rejects a node process too",
			pkt: fake.Packet{Src: nodeIP, Dst: "10.96.0.11", Port: 80, FromNode: true}, reject: true},
		{name: "only not-ready endpoints: rejects",
			pkt: fake.Packet{Src: "10.244.5.9", Dst: "10.96.0.21", Port: 80}, reject: true},
		{name: "NodePort on the node's address reaches the endpoints, masqueraded",
			pkt: fake.Packet{Src: outsideIP, Dst: nodeIP, Port: 30080, Local: true}, want: np, masq: masqAll},
		{name: "NodePort from a process on the node, masqueraded",
			pkt: fake.Packet{Src: nodeIP, Dst: nodeIP, Port: 30080, Local: true, FromNode: true}, want: np, masq: masqAll},
		{name: "NodePort from a pod, masqueraded",
			pkt: fake.Packet{Src: "10.244.5.9", Dst: nodeIP, Port: 30080, Local: true}, want: np, masq: masqAll},
		{name: "the NodePort's ClusterIP works as well",
			pkt: fake.Packet{Src: "10.244.5.9", Dst: "10.96.0.12", Port: 80}, want: np, masq: masqNone},
		{name: "NodePort port on an address that is not the node's is left alone",
			pkt: fake.Packet{Src: outsideIP, Dst: "198.18.0.99", Port: 30080}, same: true},
		{name: "NodePort on loopback is left alone (it cannot reach a pod)",
			pkt: fake.Packet{Src: "127.0.0.1", Dst: "127.0.0.1", Port: 30080, Local: true, FromNode: true}, same: true},
		{name: "NodePort without endpoints rejects",
			pkt: fake.Packet{Src: outsideIP, Dst: nodeIP, Port: 30081, Local: true}, reject: true},
		{name: "UDP service port",
			pkt: fake.Packet{Src: "10.244.5.9", Dst: "10.96.0.53", Port: 53, Proto: "udp"}, want: []string{"10.244.1.7:5353"}, masq: masqNone},
		{name: "TCP port of the same number goes to its own target port",
			pkt: fake.Packet{Src: "10.244.5.9", Dst: "10.96.0.53", Port: 53, Proto: "tcp"}, want: []string{"10.244.1.7:5354"}, masq: masqNone},
		{name: "first of two ports of a Service",
			pkt: fake.Packet{Src: "10.244.5.9", Dst: "10.96.0.20", Port: 80}, want: addrs([]string{"10.244.1.8", "10.244.2.9"}, 8080)},
		{name: "second of two ports of a Service",
			pkt: fake.Packet{Src: "10.244.5.9", Dst: "10.96.0.20", Port: 9090}, want: addrs([]string{"10.244.1.8", "10.244.2.9"}, 9100)},
		{name: "a port the Service does not have is refused on the node",
			pkt: fake.Packet{Src: "10.244.5.9", Dst: "10.96.0.10", Port: 81}, reject: true},
		{name: "UDP to a TCP-only service port is refused on the node",
			pkt: fake.Packet{Src: "10.244.5.9", Dst: "10.96.0.10", Port: 80, Proto: "udp"}, reject: true},
		{name: "a service address without a Service is refused on the node",
			pkt: fake.Packet{Src: nodeIP, Dst: "10.96.7.7", Port: 80, FromNode: true}, reject: true},
		{name: "headless Service: no rules, refused like any unused service address",
			pkt: fake.Packet{Src: "10.244.5.9", Dst: "10.96.0.22", Port: 80}, reject: true},
		{name: "pod to pod is untouched",
			pkt: fake.Packet{Src: "10.244.5.9", Dst: "10.244.1.2", Port: 8080}, same: true},
		{name: "pod to an endpoint's port directly is untouched",
			pkt: fake.Packet{Src: "10.244.1.2", Dst: "10.244.1.2", Port: 8080}, same: true},
		{name: "node to another node is untouched",
			pkt: fake.Packet{Src: nodeIP, Dst: "198.18.0.12", Port: 10250, FromNode: true}, same: true},
		{name: "traffic to the node itself on another port is untouched",
			pkt: fake.Packet{Src: outsideIP, Dst: nodeIP, Port: 22, Local: true}, same: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := ft.Trace(tc.pkt)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.reject:
				if !tr.Rejected() {
					t.Fatalf("want rejected, got %v", tr)
				}
				return
			case tc.same:
				if !tr.Untouched() {
					t.Fatalf("want untouched, got %v", tr)
				}
				return
			}
			if got := tr.Destinations(); !slices.Equal(got, tc.want) {
				t.Fatalf("reachable endpoints = %v, want %v (%v)", got, tc.want, tr)
			}
			for _, d := range tc.want {
				if p := tr.Prob(d); math.Abs(p-1/float64(len(tc.want))) > 1e-6 {
					t.Errorf("P(%s) = %.6f, want 1/%d (%v)", d, p, len(tc.want), tr)
				}
			}
			switch tc.masq {
			case masqAll:
				if !tr.Masqueraded() {
					t.Errorf("want masqueraded, got %v", tr)
				}
			case masqNone:
				if !tr.NotMasqueraded() {
					t.Errorf("want not masqueraded, got %v", tr)
				}
			}
		})
	}
}

func TestHairpinIsMasqueraded(t *testing.T) {
	svcs, eps := cluster()
	ft := tables(t, svcs, eps, testOpts)
	self := "10.244.1.2"
	tr, err := ft.Trace(fake.Packet{Src: self, Dst: "10.96.0.10", Port: 80})
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Destinations()) != 3 {
		t.Fatalf("want all 3 endpoints reachable, got %v", tr)
	}
	for _, o := range tr {
		// Back to itself the reply would not come through the node without SNAT.
		if hairpin := o.Dst == fake.Addr(self, 8080); o.Masquerade != hairpin {
			t.Errorf("to %s: masquerade = %v, want %v", o.Dst, o.Masquerade, hairpin)
		}
	}
}

func TestWithoutClusterCIDROnlyHairpinAndNodePortMasquerade(t *testing.T) {
	svcs, eps := cluster()
	ft := tables(t, svcs, eps, proxy.Options{})
	tr, _ := ft.Trace(fake.Packet{Src: nodeIP, Dst: "10.96.0.10", Port: 80, FromNode: true})
	if len(tr.Destinations()) != 3 || !tr.NotMasqueraded() {
		t.Errorf("node to ClusterIP: %v", tr)
	}
	tr, _ = ft.Trace(fake.Packet{Src: outsideIP, Dst: nodeIP, Port: 30080, Local: true})
	if len(tr.Destinations()) != 2 || !tr.Masqueraded() {
		t.Errorf("NodePort: %v", tr)
	}
	// Without a service range an unknown port of a ClusterIP is not the proxy's business.
	tr, _ = ft.Trace(fake.Packet{Src: "10.244.5.9", Dst: "10.96.0.10", Port: 81})
	if !tr.Untouched() {
		t.Errorf("unknown port without ServiceCIDR: %v", tr)
	}
}

func TestNodeIPsRestrictNodePorts(t *testing.T) {
	svcs, eps := cluster()
	ft := tables(t, svcs, eps, proxy.Options{ClusterCIDR: clusterCIDR, NodeIPs: []string{nodeIP}})
	tr, _ := ft.Trace(fake.Packet{Src: outsideIP, Dst: nodeIP, Port: 30080, Local: true})
	if len(tr.Destinations()) != 2 || !tr.Masqueraded() {
		t.Errorf("NodePort on the node IP: %v", tr)
	}
	tr, _ = ft.Trace(fake.Packet{Src: "10.244.5.9", Dst: "10.244.0.1", Port: 30080, Local: true})
	if !tr.Untouched() {
		t.Errorf("NodePort on another local address: %v", tr)
	}
	tr, _ = ft.Trace(fake.Packet{Src: outsideIP, Dst: nodeIP, Port: 30081, Local: true})
	if !tr.Rejected() {
		t.Errorf("NodePort without endpoints: %v", tr)
	}
}

// Every endpoint of a service port gets the same share, whatever their number.
func TestRandomSpreadsEvenly(t *testing.T) {
	for n := 1; n <= 7; n++ {
		var ips []string
		for i := range n {
			ips = append(ips, fmt.Sprintf("10.244.%d.%d", i, 10+i))
		}
		for _, mode := range []string{proxy.ModeRandom, proxy.ModeRoundRobin} {
			ft := tables(t, []*api.Service{service("default", "s", "10.96.1.1", port("", "TCP", 80, 80, 0))},
				[]*api.Endpoints{endpoints("default", "s", epPort("", "TCP", 80), ips...)}, proxy.Options{Mode: mode})
			tr, err := ft.Trace(fake.Packet{Src: "10.244.9.9", Dst: "10.96.1.1", Port: 80})
			if err != nil {
				t.Fatal(err)
			}
			if got := tr.Destinations(); len(got) != n {
				t.Fatalf("%s, %d endpoints: reachable %v", mode, n, got)
			}
			for _, ip := range ips {
				if p := tr.Prob(fake.Addr(ip, 80)); math.Abs(p-1/float64(n)) > 1e-6 {
					t.Errorf("%s, %d endpoints: P(%s) = %f", mode, n, ip, p)
				}
			}
		}
	}
}

func TestRoundRobinTakesTurns(t *testing.T) {
	svcs, eps := cluster()
	opts := testOpts
	opts.Mode = proxy.ModeRoundRobin
	ft := tables(t, svcs, eps, opts)
	pkt := fake.Packet{Src: "10.244.5.9", Dst: "10.96.0.10", Port: 80}
	var seq []string
	for range 12 {
		o, err := ft.Connect(pkt)
		if err != nil {
			t.Fatal(err)
		}
		seq = append(seq, o.Dst)
	}
	// Strict rotation: every window of 3 holds each endpoint once.
	for i := 0; i+3 <= len(seq); i++ {
		w := slices.Clone(seq[i : i+3])
		slices.Sort(w)
		if !slices.Equal(w, addrs([]string{"10.244.1.2", "10.244.2.3", "10.244.3.4"}, 8080)) {
			t.Fatalf("not round robin: %v", seq)
		}
	}
}

func TestRandomConnectionsReachEveryEndpoint(t *testing.T) {
	svcs, eps := cluster()
	ft := tables(t, svcs, eps, testOpts)
	count := map[string]int{}
	const n = 3000
	for range n {
		o, err := ft.Connect(fake.Packet{Src: "10.244.5.9", Dst: "10.96.0.10", Port: 80})
		if err != nil {
			t.Fatal(err)
		}
		count[o.Dst]++
	}
	if len(count) != 3 {
		t.Fatalf("reached %v", count)
	}
	for d, c := range count {
		if c < n/4 {
			t.Errorf("%s got %d of %d connections", d, c, n)
		}
	}
}

func TestSessionAffinityKeepsTheClient(t *testing.T) {
	s := service("default", "sticky", "10.96.0.30", port("", "TCP", 80, 8080, 0))
	s.Spec.SessionAffinity = api.ServiceAffinityClientIP
	ft := tables(t, []*api.Service{s}, []*api.Endpoints{endpoints("default", "sticky", epPort("", "TCP", 8080), "10.244.1.2", "10.244.2.3")}, testOpts)
	pkt := fake.Packet{Src: "10.244.5.9", Dst: "10.96.0.30", Port: 80}
	first, err := ft.Trace(pkt)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Destinations()) != 2 {
		t.Fatalf("a new client may go anywhere: %v", first)
	}
	for _, o := range first {
		if len(o.Recent) != 1 {
			t.Fatalf("the choice is not remembered: %v", first)
		}
		again := pkt
		again.Recent = o.Recent
		tr, _ := ft.Trace(again)
		if got := tr.Destinations(); !slices.Equal(got, []string{o.Dst}) {
			t.Errorf("client that went to %s comes back to %v", o.Dst, got)
		}
	}
}

func TestExternalIPs(t *testing.T) {
	s := service("default", "ext", "10.96.0.40", port("", "TCP", 80, 8080, 0))
	s.Spec.ExternalIPs = []string{"198.18.0.200"}
	ft := tables(t, []*api.Service{s}, []*api.Endpoints{endpoints("default", "ext", epPort("", "TCP", 8080), "10.244.1.2")}, testOpts)
	tr, _ := ft.Trace(fake.Packet{Src: outsideIP, Dst: "198.18.0.200", Port: 80})
	if !slices.Equal(tr.Destinations(), []string{"10.244.1.2:8080"}) || !tr.Masqueraded() {
		t.Errorf("external IP: %v", tr)
	}
}

func TestRulesetIsDeterministic(t *testing.T) {
	svcs, eps := cluster()
	want := proxy.BuildIPTables(svcs, eps, testOpts)
	r := rand.New(rand.NewPCG(7, 7))
	for range 20 {
		s2, e2 := slices.Clone(svcs), slices.Clone(eps)
		r.Shuffle(len(s2), func(i, j int) { s2[i], s2[j] = s2[j], s2[i] })
		r.Shuffle(len(e2), func(i, j int) { e2[i], e2[j] = e2[j], e2[i] })
		if got := proxy.BuildIPTables(s2, e2, testOpts); !bytes.Equal(got, want) {
			t.Fatalf("order of the objects changed the ruleset")
		}
	}
}

var chainName = regexp.MustCompile(`^MINIK8S-(SERVICES|NODEPORTS|POSTROUTING|MARK-MASQ|(SVC|SEP)-[A-Z2-7]{16})$`)

func ours(ft *fake.Tables, table string) []string {
	var out []string
	for _, c := range ft.Chains(table) {
		if strings.HasPrefix(c, proxy.ChainPrefix) {
			out = append(out, c)
		}
	}
	return out
}

func TestChainsAndResync(t *testing.T) {
	ctx := context.Background()
	svcs, eps := cluster()
	ft := fake.NewTables()
	// Someone else's rules, which the proxy must leave alone.
	if err := ft.Restore(ctx, []byte("*nat\n:OTHER - [0:0]\n-A OTHER -j RETURN\n-A PREROUTING -j OTHER\nCOMMIT\n")); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := proxy.SyncIPTables(ctx, ft, svcs, eps, testOpts); err != nil {
			t.Fatal(err)
		}
	}
	nat := ours(ft, "nat")
	// web, np, dns x2, multi x2: 6 service ports with endpoints, 3+2+1+1+2+2 endpoints.
	if len(nat) != 4+6+11 {
		t.Errorf("nat chains: %d %v", len(nat), nat)
	}
	for _, c := range nat {
		if !chainName.MatchString(c) {
			t.Errorf("chain name %q", c)
		}
	}
	for _, c := range []string{"PREROUTING", "OUTPUT", "POSTROUTING"} {
		if n := len(jumpsTo(ft, "nat", c)); n != 1 {
			t.Errorf("nat %s: %d jumps into our chains after 3 syncs", c, n)
		}
	}
	for _, c := range []string{"INPUT", "FORWARD", "OUTPUT"} {
		if n := len(jumpsTo(ft, "filter", c)); n != 1 {
			t.Errorf("filter %s: %d jumps into our chains after 3 syncs", c, n)
		}
	}

	// The web Service goes, and an endpoint of np: their chains go too.
	svcs2 := slices.DeleteFunc(slices.Clone(svcs), func(s *api.Service) bool { return s.Name == "web" })
	eps2 := slices.Clone(eps)
	for i, e := range eps2 {
		if e.Name == "np" {
			eps2[i] = endpoints("default", "np", epPort("", "TCP", 8080), "10.244.1.5")
		}
	}
	if err := proxy.SyncIPTables(ctx, ft, svcs2, eps2, testOpts); err != nil {
		t.Fatal(err)
	}
	if got := len(ours(ft, "nat")); got != 4+5+7 {
		t.Errorf("after removal: %d nat chains %v", got, ours(ft, "nat"))
	}
	tr, _ := ft.Trace(fake.Packet{Src: "10.244.5.9", Dst: "10.96.0.10", Port: 80})
	if !tr.Rejected() {
		t.Errorf("deleted Service: %v", tr)
	}
	tr, _ = ft.Trace(fake.Packet{Src: outsideIP, Dst: nodeIP, Port: 30080, Local: true})
	if !slices.Equal(tr.Destinations(), []string{"10.244.1.5:8080"}) {
		t.Errorf("np after losing an endpoint: %v", tr)
	}
	if !slices.Contains(ft.Chains("nat"), "OTHER") || len(ft.Rules("nat", "OTHER")) != 1 || !slices.Contains(ft.Rules("nat", "PREROUTING"), "-j OTHER") {
		t.Errorf("someone else's rules were touched")
	}

	// Cleanup leaves nothing of ours and everything of others.
	if err := proxy.CleanupIPTables(ctx, ft); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"nat", "filter"} {
		b, _ := ft.Save(ctx, table)
		if bytes.Contains(b, []byte("MINIK8S")) {
			t.Errorf("after cleanup %s holds:\n%s", table, b)
		}
	}
	if !slices.Equal(ft.Rules("nat", "PREROUTING"), []string{"-j OTHER"}) {
		t.Errorf("cleanup touched someone else's rules: %v", ft.Rules("nat", "PREROUTING"))
	}
	n := ft.Restores()
	if err := proxy.CleanupIPTables(ctx, ft); err != nil || ft.Restores() != n {
		t.Errorf("a second cleanup: err %v, %d restores", err, ft.Restores()-n)
	}
}

// The ruleset for fresh tables applies as it is.
func TestBuildIPTablesOnFreshTables(t *testing.T) {
	svcs, eps := cluster()
	ft := fake.NewTables()
	if err := ft.Restore(context.Background(), proxy.BuildIPTables(svcs, eps, testOpts)); err != nil {
		t.Fatal(err)
	}
	tr, _ := ft.Trace(fake.Packet{Src: "10.244.5.9", Dst: "10.96.0.10", Port: 80})
	if len(tr.Destinations()) != 3 {
		t.Errorf("%v", tr)
	}
}

func jumpsTo(ft *fake.Tables, table, chain string) []string {
	var out []string
	for _, r := range ft.Rules(table, chain) {
		if strings.Contains(r, "-j "+proxy.ChainPrefix) {
			out = append(out, r)
		}
	}
	return out
}
