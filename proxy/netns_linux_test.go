//go:build linux

package proxy_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/proxy"
)

// The test that writes real iptables rules runs in a network namespace (and a mount
// namespace) of its own: as root, TestMain starts the test binary again inside fresh ones,
// so the rules, the veth pair and the "pod" namespace exist only there and vanish with the
// process, even if a test dies half-way. The namespace has no route off the machine: only
// its loopback and a veth pair to a pod namespace it made. Afterwards TestMain checks,
// from the host's side, that the host's tables hold no more MINIK8S rules than before and
// that no test link appeared.

const isolatedEnv = "MINIK8S_PROXY_TEST_ISOLATED"

var (
	isolated   bool
	skipReason = "needs root (it makes network namespaces and writes iptables rules in one); run: sudo go test ./proxy/"
)

func TestMain(m *testing.M) {
	switch {
	case os.Getenv(isolatedEnv) == "1":
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_SLAVE, ""); err != nil {
			fmt.Fprintf(os.Stderr, "proxy tests: make / a slave mount in the test's mount namespace: %v\n", err)
			os.Exit(2)
		}
		// A fresh network namespace has its loopback down; the API server tests need it.
		if lo, err := netlink.LinkByName("lo"); err == nil {
			_ = netlink.LinkSetUp(lo)
		}
		isolated = true
		os.Exit(m.Run())
	case os.Geteuid() == 0:
		os.Exit(runIsolated(m))
	default:
		os.Exit(m.Run())
	}
}

func runIsolated(m *testing.M) int {
	runtime.LockOSThread() // Pdeathsig follows the thread that started the child
	before := hostRules()
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	cmd.Env = append(os.Environ(), isolatedEnv+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWNET | syscall.CLONE_NEWNS,
		Pdeathsig:  syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		skipReason = fmt.Sprintf("cannot make a private network and mount namespace for the test (%v)", err)
		return m.Run()
	}
	code := 0
	if err := cmd.Wait(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			fmt.Fprintln(os.Stderr, "proxy tests:", err)
			return 2
		}
		code = max(ee.ExitCode(), 1)
	}
	if after := hostRules(); after != before {
		fmt.Fprintf(os.Stderr, "proxy tests: the host's MINIK8S rules changed:\nbefore:\n%s\nafter:\n%s\n", before, after)
		code = 1
	}
	if ifs, _ := net.Interfaces(); true {
		for _, i := range ifs {
			if strings.HasPrefix(i.Name, "mk8sp") {
				fmt.Fprintf(os.Stderr, "proxy tests: link %s appeared on the host\n", i.Name)
				code = 1
			}
		}
	}
	return code
}

// hostRules returns the MINIK8S lines of the host's tables (read only).
func hostRules() string {
	var b strings.Builder
	for _, t := range []string{"nat", "filter"} {
		out, _ := exec.Command("iptables-save", "-t", t).Output()
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, "MINIK8S") {
				b.WriteString(l + "\n")
			}
		}
	}
	return b.String()
}

func requireIsolated(t *testing.T) {
	t.Helper()
	if !isolated {
		t.Skip(skipReason)
	}
	for _, tool := range []string{"iptables-restore", "iptables-save"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found: apt-get install iptables", tool)
		}
	}
}

// The addresses of the test: the node's end of the veth and the pod behind it.
const (
	realNodeIP = "10.244.0.1"
	realPodIP  = "10.244.0.5"
	realVIP    = "10.96.0.10"
)

// newPod makes a network namespace for a "pod" with a veth pair to the test's namespace
// (the node): the pod at 10.244.0.5/24 routes the service range to the node at
// 10.244.0.1, and the node routes it to the pod's link, as a node with Pods does. It is
// removed when the test ends.
func newPod(t *testing.T) netns.NsHandle {
	t.Helper()
	pod, err := newNetns()
	if err != nil {
		t.Fatalf("new network namespace: %v", err)
	}
	t.Cleanup(func() {
		if l, err := netlink.LinkByName("mk8sp-node"); err == nil {
			_ = netlink.LinkDel(l)
		}
		pod.Close()
	})
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "mk8sp-node"}, PeerName: "mk8sp-pod"}
	if err := netlink.LinkAdd(veth); err != nil {
		t.Fatalf("add veth: %v", err)
	}
	peer, err := netlink.LinkByName("mk8sp-pod")
	if err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetNsFd(peer, int(pod)); err != nil {
		t.Fatalf("move veth into the pod: %v", err)
	}
	node, err := netlink.LinkByName("mk8sp-node")
	if err != nil {
		t.Fatal(err)
	}
	must(t, netlink.AddrAdd(node, mustAddr(t, realNodeIP+"/24")))
	must(t, netlink.LinkSetUp(node))
	_, svcNet, _ := net.ParseCIDR(serviceCIDR)
	must(t, netlink.RouteAdd(&netlink.Route{LinkIndex: node.Attrs().Index, Dst: svcNet, Scope: netlink.SCOPE_LINK}))
	must(t, os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1"), 0o644))

	h, err := netlink.NewHandleAt(pod)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Delete()
	for _, name := range []string{"lo", "mk8sp-pod"} {
		l, err := h.LinkByName(name)
		if err != nil {
			t.Fatal(err)
		}
		if name != "lo" {
			must(t, h.AddrAdd(l, mustAddr(t, realPodIP+"/24")))
		}
		must(t, h.LinkSetUp(l))
	}
	l, _ := h.LinkByName("mk8sp-pod")
	must(t, h.RouteAdd(&netlink.Route{LinkIndex: l.Attrs().Index, Dst: svcNet, Gw: net.ParseIP(realNodeIP)}))
	return pod
}

func newNetns() (netns.NsHandle, error) {
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return 0, err
	}
	defer orig.Close()
	pod, err := netns.New()
	if err != nil {
		runtime.UnlockOSThread()
		return 0, err
	}
	if err := netns.Set(orig); err != nil {
		return 0, err // stay locked: the thread is dropped
	}
	runtime.UnlockOSThread()
	return pod, nil
}

// inNetns runs fn on an OS thread in ns; sockets made there stay in ns.
func inNetns(ns netns.NsHandle, fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			done <- err
			return
		}
		defer orig.Close()
		if err := netns.Set(ns); err != nil {
			runtime.UnlockOSThread()
			done <- err
			return
		}
		fnErr := fn()
		if err := netns.Set(orig); err != nil {
			done <- fmt.Errorf("back to the test's namespace: %w", err) // stay locked
			return
		}
		runtime.UnlockOSThread()
		done <- fnErr
	}()
	return <-done
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustAddr(t *testing.T, s string) *netlink.Addr {
	a, err := netlink.ParseAddr(s)
	must(t, err)
	return a
}

// serve answers each TCP connection with "hello ME YOU" and echoes UDP datagrams, in the
// pod.
func serve(t *testing.T, pod netns.NsHandle) {
	t.Helper()
	var ln net.Listener
	var pc net.PacketConn
	err := inNetns(pod, func() error {
		var err error
		if ln, err = net.Listen("tcp", net.JoinHostPort(realPodIP, "8080")); err != nil {
			return err
		}
		pc, err = net.ListenPacket("udp", net.JoinHostPort(realPodIP, "5353"))
		return err
	})
	must(t, err)
	t.Cleanup(func() { ln.Close(); pc.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintf(c, "hello %s %s\n", c.LocalAddr(), c.RemoteAddr())
			c.Close()
		}
	}()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo(append([]byte("echo "), buf[:n]...), from)
		}
	}()
}

// ask connects to addr over TCP and returns the server's line: the listener's address
// and the peer it saw.
func ask(addr string) (local, peer string, err error) {
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		return "", "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", "", err
	}
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "hello" {
		return "", "", fmt.Errorf("odd answer %q", line)
	}
	return f[1], f[2], nil
}

func askFromPod(pod netns.NsHandle, addr string) (local, peer string, err error) {
	err = inNetns(pod, func() error {
		var err error
		local, peer, err = ask(addr)
		return err
	})
	return local, peer, err
}

func askUDP(addr string) (string, error) {
	c, err := net.DialTimeout("udp", addr, 3*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write([]byte("ping")); err != nil {
		return "", err
	}
	buf := make([]byte, 100)
	n, err := c.Read(buf)
	return string(buf[:n]), err
}

func ruleLines(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, table := range []string{"nat", "filter"} {
		out, err := proxy.ExecRunner{}.Save(t.Context(), table)
		must(t, err)
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "-A ") || strings.HasPrefix(l, ":MINIK8S") {
				b.WriteString(l + "\n")
			}
		}
	}
	return b.String()
}

// Real iptables in a throwaway namespace: a ClusterIP (and NodePort) Service in front of a
// Pod answers from the node and from the Pod itself (hairpin, masqueraded), UDP included;
// without endpoints connections are refused; Cleanup leaves no MINIK8S chain.
func TestRealIPTables(t *testing.T) {
	requireIsolated(t)
	ctx := t.Context()
	r := proxy.ExecRunner{}
	pod := newPod(t)
	serve(t, pod)
	t.Cleanup(func() { _ = proxy.CleanupIPTables(ctx, r) })

	svcs := []*api.Service{service("default", "web", realVIP, port("http", "TCP", 80, 8080, 30080), port("dns", "UDP", 53, 5353, 0))}
	eps := []*api.Endpoints{endpoints("default", "web", []api.EndpointPort{{Name: "http", Port: 8080}, {Name: "dns", Protocol: "UDP", Port: 5353}}, realPodIP)}
	opts := proxy.Options{ClusterCIDR: clusterCIDR, ServiceCIDR: serviceCIDR}
	if err := proxy.SyncIPTables(ctx, r, svcs, eps, opts); err != nil {
		t.Fatal(err)
	}
	first := ruleLines(t)
	if err := proxy.SyncIPTables(ctx, r, svcs, eps, opts); err != nil {
		t.Fatal(err)
	}
	if again := ruleLines(t); again != first {
		t.Errorf("a second sync changed the tables:\n%s\nthen:\n%s", first, again)
	}

	vip := net.JoinHostPort(realVIP, "80")
	local, _, err := ask(vip)
	if err != nil || local != net.JoinHostPort(realPodIP, "8080") {
		t.Fatalf("node to %s: %q, %v\n%s", vip, local, err, first)
	}
	// The Pod reaching itself through its Service: the reply must come back through the
	// node, so the Pod sees the node's address, not its own.
	local, peer, err := askFromPod(pod, vip)
	if err != nil || local != net.JoinHostPort(realPodIP, "8080") {
		t.Fatalf("pod to %s (hairpin): %q, %v", vip, local, err)
	}
	if host, _, _ := net.SplitHostPort(peer); host != realNodeIP {
		t.Errorf("hairpin connection seen from %s, want the node's %s (masqueraded)", peer, realNodeIP)
	}
	if _, _, err := askFromPod(pod, net.JoinHostPort(realNodeIP, "30080")); err != nil {
		t.Errorf("pod to the NodePort: %v", err)
	}
	if got, err := askUDP(net.JoinHostPort(realVIP, "53")); err != nil || got != "echo ping" {
		t.Errorf("UDP through the ClusterIP: %q, %v", got, err)
	}

	// The endpoint goes: connections are refused at once, from the node and from the pod.
	if err := proxy.SyncIPTables(ctx, r, svcs, nil, opts); err != nil {
		t.Fatal(err)
	}
	if rules := ruleLines(t); strings.Contains(rules, "MINIK8S-SVC-") || strings.Contains(rules, "MINIK8S-SEP-") {
		t.Errorf("chains of the endpoint left behind:\n%s", rules)
	}
	if _, _, err := ask(vip); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("node to a Service without endpoints: %v, want connection refused", err)
	}
	if _, _, err := askFromPod(pod, vip); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("pod to a Service without endpoints: %v, want connection refused", err)
	}
	if _, _, err := ask(net.JoinHostPort("10.96.0.99", "80")); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("node to a service address without a Service: %v, want connection refused", err)
	}

	// Cleanup leaves nothing of ours.
	if err := proxy.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"nat", "filter"} {
		out, err := r.Save(ctx, table)
		must(t, err)
		if bytes.Contains(out, []byte("MINIK8S")) {
			t.Errorf("after Cleanup the %s table holds:\n%s", table, out)
		}
	}
	if err := proxy.Cleanup(ctx); err != nil {
		t.Errorf("a second Cleanup: %v", err)
	}
}
