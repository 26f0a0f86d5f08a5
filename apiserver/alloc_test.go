package apiserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver"
	"github.com/minik8s/minik8s/apiserver/testserver"
	"github.com/minik8s/minik8s/client"
)

// allocKeys returns the allocation keys in etcd under folder ("serviceips",
// "servicenodeports"), each with the owner it names.
func allocKeys(t *testing.T, cli *clientv3.Client, folder string) map[string]api.ObjectReference {
	t.Helper()
	prefix := "/registry/ranges/" + folder + "/"
	resp, err := cli.Get(context.Background(), prefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatalf("read %s: %v", prefix, err)
	}
	out := map[string]api.ObjectReference{}
	for _, kv := range resp.Kvs {
		var owner api.ObjectReference
		if err := json.Unmarshal(kv.Value, &owner); err != nil {
			t.Fatalf("%s holds %q, not an owner: %v", kv.Key, kv.Value, err)
		}
		out[strings.TrimPrefix(string(kv.Key), prefix)] = owner
	}
	return out
}

// wantInvalid checks that err refuses the Service with one cause on field whose message says
// detail.
func wantInvalid(t *testing.T, err error, field, detail string) {
	t.Helper()
	if err == nil {
		t.Fatalf("the create succeeded; want it refused on %s (%s)", field, detail)
	}
	if !client.IsInvalid(err) {
		t.Fatalf("error %v is not Invalid", err)
	}
	st := statusOf(t, err)
	if st.Details == nil || len(st.Details.Causes) != 1 || st.Details.Causes[0].Field != field ||
		!strings.Contains(st.Details.Causes[0].Message, detail) || !strings.Contains(st.Message, detail) {
		t.Fatalf("status = %+v (details %+v); want one cause on %s saying %q", st, st.Details, field, detail)
	}
}

func withIP(svc *api.Service, ip string) *api.Service {
	svc.Spec.ClusterIP = ip
	return svc
}

func nodePortService(ns, name string, nodePorts ...int32) *api.Service {
	svc := newService(ns, name)
	svc.Spec.Type = api.ServiceTypeNodePort
	svc.Spec.Ports = nil
	for i, np := range nodePorts {
		svc.Spec.Ports = append(svc.Spec.Ports, api.ServicePort{Name: fmt.Sprintf("p%d", i), Port: int32(80 + i), NodePort: np})
	}
	return svc
}

func nodePortsOf(svc *api.Service) []int32 {
	var out []int32
	for _, p := range svc.Spec.Ports {
		out = append(out, p.NodePort)
	}
	return out
}

func TestServiceIPAllocationConcurrent(t *testing.T) {
	s := testserver.Start(t)
	ctx := ctxFor(t)
	ns := newNamespace(t, s)
	const n = 100
	ips := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			out, err := s.Client.Services(ns).Create(ctx, newService(ns, fmt.Sprintf("svc-%d", i)))
			if err != nil {
				errs <- err
				return
			}
			ips[i] = out.Spec.ClusterIP
			if len(out.Spec.ClusterIPs) != 1 || out.Spec.ClusterIPs[0] != out.Spec.ClusterIP {
				errs <- fmt.Errorf("svc-%d: clusterIPs = %v, clusterIP %s", i, out.Spec.ClusterIPs, out.Spec.ClusterIP)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[string]string{}
	dynamic := netip.MustParseAddr("10.96.1.0") // the top of the static band, which random picks avoid
	for i, ip := range ips {
		a, err := netip.ParseAddr(ip)
		if err != nil || !netip.MustParsePrefix(apiserver.ServiceCIDR).Contains(a) {
			t.Fatalf("svc-%d got %q, not an address of %s", i, ip, apiserver.ServiceCIDR)
		}
		if a.Compare(dynamic) <= 0 || ip == "10.96.255.255" {
			t.Errorf("svc-%d got %s: a random pick must be above the static band and not the broadcast address", i, ip)
		}
		if prev, ok := seen[ip]; ok {
			t.Fatalf("svc-%d and %s both got %s", i, prev, ip)
		}
		seen[ip] = fmt.Sprintf("svc-%d", i)
	}
	// The Services as stored agree, and each IP is one key in etcd naming its Service.
	list, _, err := s.Client.Services(ns).List(ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	keys := allocKeys(t, s.Etcd(), "serviceips")
	if len(list) != n || len(keys) != n {
		t.Fatalf("%d services and %d IP keys; want %d of each", len(list), len(keys), n)
	}
	for _, svc := range list {
		owner, ok := keys[svc.Spec.ClusterIP]
		if !ok || owner.Kind != "Service" || owner.Namespace != ns || owner.Name != svc.Name || owner.UID != svc.UID {
			t.Errorf("key of %s (service %s) = %+v, %v", svc.Spec.ClusterIP, svc.Name, owner, ok)
		}
	}
}

func TestServiceExplicitClusterIP(t *testing.T) {
	s := testserver.Start(t)
	ctx := ctxFor(t)
	ns := newNamespace(t, s)
	svcs := s.Client.Services(ns)

	// Reserved addresses are never picked at random, but may be asked for.
	dns, err := svcs.Create(ctx, withIP(newService(ns, "dns"), apiserver.DNSServiceIP))
	if err != nil {
		t.Fatalf("create with the DNS address: %v", err)
	}
	if dns.Spec.ClusterIP != "10.96.0.10" || !slices.Equal(dns.Spec.ClusterIPs, []string{"10.96.0.10"}) {
		t.Fatalf("clusterIP %q, clusterIPs %v; want 10.96.0.10", dns.Spec.ClusterIP, dns.Spec.ClusterIPs)
	}
	if _, err := svcs.Create(ctx, withIP(newService(ns, "web"), "10.96.0.42")); err != nil {
		t.Fatal(err)
	}
	_, err = svcs.Create(ctx, withIP(newService(ns, "web2"), "10.96.0.42"))
	wantInvalid(t, err, "spec.clusterIP", "failed to allocate IP 10.96.0.42: provided IP is already allocated")
	if st := statusOf(t, err); st.Code != http.StatusBadRequest || st.Details.Name != "web2" || st.Details.Kind != "Service" {
		t.Errorf("status %d, details %+v; want 400 naming Service web2", st.Code, st.Details)
	}
	for _, ip := range []string{"10.97.0.1", "10.96.0.0", "10.96.255.255", "192.168.1.1"} {
		_, err := svcs.Create(ctx, withIP(newService(ns, "out"), ip))
		wantInvalid(t, err, "spec.clusterIP", fmt.Sprintf("the provided IP (%s) is not in the valid range. The range of valid IPs is 10.96.0.0/16", ip))
	}
	// Kubernetes clients may send only clusterIPs.
	viaList := newService(ns, "vialist")
	viaList.Spec.ClusterIPs = []string{"10.96.0.43"}
	if out, err := svcs.Create(ctx, viaList); err != nil || out.Spec.ClusterIP != "10.96.0.43" {
		t.Fatalf("create with clusterIPs only: %v, clusterIP %q", err, out.Spec.ClusterIP)
	}
	// Headless: no address, nothing allocated.
	headless, err := svcs.Create(ctx, withIP(newService(ns, "headless"), api.ClusterIPNone))
	if err != nil || headless.Spec.ClusterIP != api.ClusterIPNone {
		t.Fatalf("headless: %v, clusterIP %q", err, headless.Spec.ClusterIP)
	}
	keys := allocKeys(t, s.Etcd(), "serviceips")
	if len(keys) != 3 || keys["10.96.0.10"].Name != "dns" || keys["10.96.0.42"].Name != "web" || keys["10.96.0.43"].Name != "vialist" {
		t.Fatalf("IP keys = %v; want 10.96.0.10 (dns), 10.96.0.42 (web), 10.96.0.43 (vialist), and no key for the refused ones", keys)
	}

	// An update keeps the address (the client may leave it out) and cannot change it.
	web, err := svcs.Get(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	web.Spec.ClusterIP, web.Spec.ClusterIPs = "", nil
	web.Labels = map[string]string{"tier": "front"}
	if out, err := svcs.Update(ctx, web); err != nil || out.Spec.ClusterIP != "10.96.0.42" {
		t.Fatalf("update without clusterIP: %v, %+v", err, out)
	}

	// Delete frees the address: the same explicit choice can be taken again.
	if err := svcs.Delete(ctx, "web", nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := allocKeys(t, s.Etcd(), "serviceips")["10.96.0.42"]; ok {
		t.Fatal("the key of 10.96.0.42 is still there after its Service was deleted")
	}
	again, err := svcs.Create(ctx, withIP(newService(ns, "web2"), "10.96.0.42"))
	if err != nil || again.Spec.ClusterIP != "10.96.0.42" {
		t.Fatalf("take 10.96.0.42 again after the delete: %v", err)
	}
	if owner := allocKeys(t, s.Etcd(), "serviceips")["10.96.0.42"]; owner.Name != "web2" || owner.UID != again.UID {
		t.Fatalf("key of 10.96.0.42 names %+v; want web2 (uid %s)", owner, again.UID)
	}
}

func TestServiceDryRunAllocatesNothing(t *testing.T) {
	s := testserver.Start(t)
	ns := newNamespace(t, s)
	path := "/api/v1/namespaces/" + ns + "/services"
	r := admin(t, s, http.MethodPost, path+"?dryRun=All", mustJSON(t, withIP(newService(ns, "dry"), "10.96.0.50")))
	if r.Code != http.StatusCreated {
		t.Fatalf("dry-run create: %d %s", r.Code, r.Body)
	}
	var out api.Service
	if err := json.Unmarshal(r.Body, &out); err != nil || out.Spec.ClusterIP != "10.96.0.50" {
		t.Fatalf("dry-run answer %s (%v); want the Service with its clusterIP", r.Body, err)
	}
	r = admin(t, s, http.MethodPost, path+"?dryRun=All", mustJSON(t, newService(ns, "dry2")))
	if r.Code != http.StatusCreated {
		t.Fatalf("dry-run create: %d %s", r.Code, r.Body)
	}
	if keys := allocKeys(t, s.Etcd(), "serviceips"); len(keys) != 0 {
		t.Fatalf("dry runs left allocations: %v", keys)
	}
	if _, err := s.Client.Services(ns).Create(ctxFor(t), withIP(newService(ns, "real"), "10.96.0.50")); err != nil {
		t.Fatalf("the IP of a dry run must stay free: %v", err)
	}
}

func TestServiceNodePorts(t *testing.T) {
	s := testserver.Start(t)
	ctx := ctxFor(t)
	ns := newNamespace(t, s)
	svcs := s.Client.Services(ns)

	auto, err := svcs.Create(ctx, nodePortService(ns, "auto", 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	ports := nodePortsOf(auto)
	for _, p := range ports {
		// Random picks stay above the static band (30000-30085) while there is room.
		if p < 30086 || p > api.NodePortMax {
			t.Errorf("nodePort %d is not a random pick of 30086-32767", p)
		}
	}
	if ports[0] == ports[1] {
		t.Fatalf("both ports got nodePort %d", ports[0])
	}

	fixed, err := svcs.Create(ctx, nodePortService(ns, "fixed", 30080, 0))
	if err != nil {
		t.Fatalf("explicit nodePort: %v", err)
	}
	if got := nodePortsOf(fixed); got[0] != 30080 || got[1] == 0 || got[1] == 30080 {
		t.Fatalf("nodePorts = %v; want 30080 and another", got)
	}
	ipKeys := len(allocKeys(t, s.Etcd(), "serviceips"))
	portKeys := len(allocKeys(t, s.Etcd(), "servicenodeports"))
	_, err = svcs.Create(ctx, nodePortService(ns, "clash", 0, 30080))
	wantInvalid(t, err, "spec.ports[1].nodePort", "provided port is already allocated")
	if n, m := len(allocKeys(t, s.Etcd(), "serviceips")), len(allocKeys(t, s.Etcd(), "servicenodeports")); n != ipKeys || m != portKeys {
		t.Fatalf("the refused create left allocations: %d IP keys (was %d), %d port keys (was %d)", n, ipKeys, m, portKeys)
	}

	// TCP and UDP may share one node port within a Service.
	dual := nodePortService(ns, "dual", 30053, 30053)
	dual.Spec.Ports[1].Port = 80
	dual.Spec.Ports[1].Protocol = api.ProtocolUDP
	if _, err := svcs.Create(ctx, dual); err != nil {
		t.Fatalf("TCP and UDP on one nodePort: %v", err)
	}
	if owner := allocKeys(t, s.Etcd(), "servicenodeports")["30053"]; owner.Name != "dual" {
		t.Fatalf("key of 30053 names %+v", owner)
	}

	// A nodePort on a ClusterIP Service is refused by validation, before any allocation.
	bad := newService(ns, "bad")
	bad.Spec.Ports[0].NodePort = 30999
	if _, err := svcs.Create(ctx, bad); !client.IsInvalid(err) {
		t.Fatalf("nodePort on a ClusterIP Service: %v; want Invalid", err)
	}
	if _, ok := allocKeys(t, s.Etcd(), "servicenodeports")["30999"]; ok {
		t.Fatal("30999 was allocated for a refused Service")
	}
}

func TestServiceNodePortUpdates(t *testing.T) {
	s := testserver.Start(t)
	ctx := ctxFor(t)
	ns := newNamespace(t, s)
	svcs := s.Client.Services(ns)
	held := func() []string {
		var out []string
		for k, o := range allocKeys(t, s.Etcd(), "servicenodeports") {
			if o.Name == "web" {
				out = append(out, k)
			}
		}
		slices.Sort(out)
		return out
	}
	strs := func(ps []int32) []string {
		var out []string
		for _, p := range ps {
			out = append(out, fmt.Sprint(p))
		}
		slices.Sort(out)
		return out
	}

	web, err := svcs.Create(ctx, nodePortService(ns, "web", 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	orig := nodePortsOf(web)

	// An update that leaves the node ports out (kubectl apply of the first manifest) keeps them.
	upd := nodePortService(ns, "web", 0, 0)
	upd.Spec.ClusterIP = web.Spec.ClusterIP
	web, err = svcs.Update(ctx, upd)
	if err != nil {
		t.Fatal(err)
	}
	if got := nodePortsOf(web); !slices.Equal(got, orig) || web.Generation != 1 {
		t.Fatalf("nodePorts after an update without them = %v, generation %d; want %v kept, generation 1", got, web.Generation, orig)
	}

	// Adding a port allocates one; removing a port frees its node port.
	web.Spec.Ports = append(web.Spec.Ports[1:], api.ServicePort{Name: "extra", Port: 90, NodePort: 31500})
	web, err = svcs.Update(ctx, web)
	if err != nil {
		t.Fatal(err)
	}
	want := []int32{orig[1], 31500}
	if got := nodePortsOf(web); !slices.Equal(got, want) {
		t.Fatalf("nodePorts = %v; want %v", got, want)
	}
	if got := held(); !slices.Equal(got, strs(want)) {
		t.Fatalf("keys of web = %v; want %v (the removed port's %d freed)", got, strs(want), orig[0])
	}

	// A stale update that would add a port loses with 409 and allocates nothing.
	stale := api.DeepCopy(web)
	web.Labels = map[string]string{"v": "2"}
	if web, err = svcs.Update(ctx, web); err != nil {
		t.Fatal(err)
	}
	stale.Spec.Ports = append(stale.Spec.Ports, api.ServicePort{Name: "late", Port: 91, NodePort: 31600})
	if _, err := svcs.Update(ctx, stale); !client.IsConflict(err) {
		t.Fatalf("stale update: %v; want a conflict", err)
	}
	if got := held(); !slices.Equal(got, strs(want)) {
		t.Fatalf("keys of web after a lost update = %v; want %v", got, strs(want))
	}

	// A merge patch that asks for a port another Service holds is refused.
	if _, err := svcs.Create(ctx, nodePortService(ns, "other", 31700)); err != nil {
		t.Fatal(err)
	}
	_, err = svcs.Patch(ctx, "web", []byte(`{"spec":{"ports":[{"name":"p1","port":81,"nodePort":31700}]}}`))
	wantInvalid(t, err, "spec.ports[0].nodePort", "provided port is already allocated")

	// Turning it into a ClusterIP Service frees every node port.
	web.Spec.Type = api.ServiceTypeClusterIP
	for i := range web.Spec.Ports {
		web.Spec.Ports[i].NodePort = 0
	}
	if _, err := svcs.Update(ctx, web); err != nil {
		t.Fatal(err)
	}
	if got := held(); len(got) != 0 {
		t.Fatalf("keys of web after the switch to ClusterIP = %v; want none", got)
	}
	if _, err := svcs.Create(ctx, nodePortService(ns, "reuse", 31500)); err != nil {
		t.Fatalf("take 31500 again: %v", err)
	}

	// As in Kubernetes, a patch of the type alone drops the node ports it leaves unchanged.
	other, err := svcs.Patch(ctx, "other", []byte(`{"spec":{"type":"ClusterIP"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := nodePortsOf(other); got[0] != 0 {
		t.Fatalf("nodePorts after the switch to ClusterIP = %v", got)
	}
	if _, ok := allocKeys(t, s.Etcd(), "servicenodeports")["31700"]; ok {
		t.Fatal("31700 is still allocated after its Service became a ClusterIP Service")
	}
}

// TestServiceNodePortRangeFull fills the node port range with one Service: the static band is
// used last, and then the range is full.
func TestServiceNodePortRangeFull(t *testing.T) {
	s := testserver.Start(t)
	ctx := ctxFor(t)
	ns := newNamespace(t, s)
	size := api.NodePortMax - api.NodePortMin + 1
	big := nodePortService(ns, "big", make([]int32, size)...)
	out, err := s.Client.Services(ns).Create(ctx, big)
	if err != nil {
		t.Fatal(err)
	}
	ports := nodePortsOf(out)
	seen := map[int32]bool{}
	for i, p := range ports {
		if seen[p] || p < api.NodePortMin || p > api.NodePortMax {
			t.Fatalf("port %d got %d: a duplicate or out of range", i, p)
		}
		seen[p] = true
		if static := p < 30086; static != (i >= size-86) {
			t.Fatalf("port %d got %d: the static band 30000-30085 must be the last used", i, p)
		}
	}
	_, err = s.Client.Services(ns).Create(ctx, nodePortService(ns, "more", 0))
	if err == nil || !strings.Contains(err.Error(), "failed to allocate a nodePort: range is full") {
		t.Fatalf("create with the range full: %v", err)
	}
	if err := s.Client.Services(ns).Delete(ctx, "big", nil); err != nil {
		t.Fatal(err)
	}
	if keys := allocKeys(t, s.Etcd(), "servicenodeports"); len(keys) != 0 {
		t.Fatalf("%d node port keys left after the delete", len(keys))
	}
}

// TestServiceAllocationsFreedWithNamespace: a namespace's deletion deletes its Services, and
// with them their allocations; a Service with a finalizer frees them when it finally goes.
func TestServiceAllocationsFreedOnEveryDeletePath(t *testing.T) {
	s := testserver.Start(t)
	ctx := ctxFor(t)
	ns := newNamespace(t, s)
	if _, err := s.Client.Services(ns).Create(ctx, withIP(nodePortService(ns, "doomed", 30400), "10.96.0.60")); err != nil {
		t.Fatal(err)
	}
	if err := s.Client.Namespaces().Delete(ctx, ns, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() (bool, string) {
		_, err := s.Client.Namespaces().Get(ctx, ns)
		return client.IsNotFound(err), fmt.Sprintf("namespace %s still there (%v)", ns, err)
	})
	if ips, ports := allocKeys(t, s.Etcd(), "serviceips"), allocKeys(t, s.Etcd(), "servicenodeports"); len(ips)+len(ports) != 0 {
		t.Fatalf("allocations left after the namespace went: %v %v", ips, ports)
	}

	ns2 := newNamespace(t, s)
	svcs := s.Client.Services(ns2)
	held := withIP(newService(ns2, "held"), "10.96.0.60")
	held.Finalizers = []string{"example.com/hold"}
	if _, err := svcs.Create(ctx, held); err != nil {
		t.Fatalf("take 10.96.0.60 again: %v", err)
	}
	if err := svcs.Delete(ctx, "held", nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := allocKeys(t, s.Etcd(), "serviceips")["10.96.0.60"]; !ok {
		t.Fatal("a Service waiting for its finalizer lost its IP")
	}
	cur, err := svcs.Get(ctx, "held")
	if err != nil {
		t.Fatal(err)
	}
	cur.Finalizers = nil
	if _, err := svcs.Update(ctx, cur); err != nil {
		t.Fatal(err)
	}
	if _, err := svcs.Get(ctx, "held"); !client.IsNotFound(err) {
		t.Fatalf("the Service is still there after its last finalizer went: %v", err)
	}
	if keys := allocKeys(t, s.Etcd(), "serviceips"); len(keys) != 0 {
		t.Fatalf("allocations left after the finalized delete: %v", keys)
	}
}

// TestServiceAllocationsSurviveRestart restarts a server on the same data directory.
func TestServiceAllocationsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := apiserver.Config{
		DataDir:       dir,
		Listen:        "127.0.0.1:0",
		EtcdClientURL: fmt.Sprintf("http://127.0.0.1:%d", freeTCPPort(t)),
		EtcdPeerURL:   fmt.Sprintf("http://127.0.0.1:%d", freeTCPPort(t)),
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	start := func() (*apiserver.Server, *client.Client) {
		srv, err := apiserver.Start(context.Background(), cfg)
		if err != nil {
			t.Fatalf("start: %v", err)
		}
		c, err := client.New(srv.AdminConfig())
		if err != nil {
			srv.Stop()
			t.Fatal(err)
		}
		return srv, c
	}
	ctx := ctxFor(t)
	srv, c := start()
	first, err := c.Services("default").Create(ctx, withIP(nodePortService("default", "web", 30500, 0), "10.96.0.70"))
	if err != nil {
		srv.Stop()
		t.Fatal(err)
	}
	auto, err := c.Services("default").Create(ctx, newService("default", "auto"))
	srv.Stop()
	if err != nil {
		t.Fatal(err)
	}

	srv, c = start()
	defer srv.Stop()
	ips, ports := allocKeys(t, srv.Etcd(), "serviceips"), allocKeys(t, srv.Etcd(), "servicenodeports")
	if ips["10.96.0.70"].UID != first.UID || ips[auto.Spec.ClusterIP].UID != auto.UID || len(ips) != 2 {
		t.Fatalf("IP keys after the restart = %v", ips)
	}
	if ports["30500"].UID != first.UID || ports[fmt.Sprint(first.Spec.Ports[1].NodePort)].UID != first.UID || len(ports) != 2 {
		t.Fatalf("node port keys after the restart = %v", ports)
	}
	_, err = c.Services("default").Create(ctx, withIP(newService("default", "again"), "10.96.0.70"))
	wantInvalid(t, err, "spec.clusterIP", "provided IP is already allocated")
	_, err = c.Services("default").Create(ctx, withIP(newService("default", "again"), auto.Spec.ClusterIP))
	wantInvalid(t, err, "spec.clusterIP", "provided IP is already allocated")
	_, err = c.Services("default").Create(ctx, nodePortService("default", "again", 30500))
	wantInvalid(t, err, "spec.ports[0].nodePort", "provided port is already allocated")
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
