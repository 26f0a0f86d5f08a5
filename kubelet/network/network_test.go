//go:build linux

package network

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minik8s/minik8s/kubelet/network/cniplugin"
)

// The tests that touch the network run in a network namespace and a mount
// namespace of their own: TestMain starts the test binary again inside fresh ones
// (when run as root), so the bridge, the veths and the netns mounts never appear
// on the real host and vanish with the process even if a test dies half-way. The
// pods' namespaces are children of nothing on the host; no default route exists
// anywhere in them, so nothing can leave the machine.

const isolatedEnv = "MINIK8S_NETWORK_TEST_ISOLATED"

var (
	isolated   bool
	skipReason = "needs root (it creates network namespaces, links and mounts); run: sudo go test ./kubelet/network/"
)

func TestMain(m *testing.M) {
	// New links the running executable, this test binary, as the minik8s-cni
	// plugin, as the kubelet links the minik8s binary: run as that, be the plugin.
	if filepath.Base(os.Args[0]) == cniplugin.BinaryName {
		cniplugin.Main()
		os.Exit(0)
	}
	switch {
	case os.Getenv(isolatedEnv) == "1":
		// Inside the private namespaces. Make every mount a slave, so that nothing
		// mounted here propagates back to the host's mount namespace.
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_SLAVE, ""); err != nil {
			fmt.Fprintf(os.Stderr, "network tests: make / a slave mount in the test's mount namespace: %v\n", err)
			os.Exit(2)
		}
		isolated = true
		os.Exit(m.Run())
	case os.Geteuid() == 0:
		os.Exit(runIsolated(m))
	default:
		os.Exit(m.Run())
	}
}

// runIsolated runs this test binary again in new network and mount namespaces and
// then checks, from the host's side, that nothing of it was left behind.
func runIsolated(m *testing.M) int {
	runtime.LockOSThread() // Pdeathsig follows the thread that started the child
	tmp, err := os.MkdirTemp("", "minik8s-network-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "network tests:", err)
		return 2
	}
	hostLinks := linkNames()
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	cmd.Env = append(os.Environ(), isolatedEnv+"=1", "TMPDIR="+tmp)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWNET | syscall.CLONE_NEWNS,
		Pdeathsig:  syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		// No private namespaces here (an unprivileged container?): the tests that
		// need them skip rather than touch the host's network.
		os.RemoveAll(tmp)
		skipReason = fmt.Sprintf("cannot make a private network and mount namespace for the test (%v)", err)
		return m.Run()
	}
	code := 0
	if err := cmd.Wait(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			fmt.Fprintln(os.Stderr, "network tests:", err)
			return 2
		}
		code = ee.ExitCode()
		if code <= 0 {
			code = 1
		}
	}
	// What the host sees afterwards: no mount under the tests' temporary
	// directory, no new pod-network link, and the directory removable.
	if mps, err := mountPoints(tmp); err != nil || len(mps) > 0 {
		fmt.Fprintf(os.Stderr, "network tests: left mounted on the host: %v %v\n", mps, err)
		code = 1
	}
	for l := range linkNames() {
		if !hostLinks[l] && (strings.HasPrefix(l, DefaultBridgeName) || strings.HasPrefix(l, "mk8st")) {
			fmt.Fprintf(os.Stderr, "network tests: link %s appeared on the host\n", l)
			code = 1
		}
	}
	if err := os.RemoveAll(tmp); err != nil {
		fmt.Fprintf(os.Stderr, "network tests: remove %s: %v\n", tmp, err)
		code = 1
	}
	return code
}

func linkNames() map[string]bool {
	out := map[string]bool{}
	ifs, _ := net.Interfaces()
	for _, i := range ifs {
		out[i.Name] = true
	}
	return out
}

const (
	testPodCIDR = "10.244.250.0/24"
	testGateway = "10.244.250.1"
)

var testClusterCIDRs = []string{"10.244.0.0/16", "10.96.0.0/16"}

func requirePlugins(t *testing.T) {
	t.Helper()
	for _, p := range requiredPlugins {
		found := false
		for _, d := range DefaultPluginDirs {
			if _, err := os.Stat(filepath.Join(d, p)); err == nil {
				found = true
			}
		}
		if !found {
			t.Skipf("CNI plugin %s not found in %v: apt-get install containernetworking-plugins", p, DefaultPluginDirs)
		}
	}
}

// requireIsolated skips unless the test runs as root inside the private namespaces.
func requireIsolated(t *testing.T) {
	t.Helper()
	if !isolated {
		t.Skip(skipReason)
	}
	requirePlugins(t)
	for _, tool := range []string{"ip", "nsenter"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found (iproute2, util-linux)", tool)
		}
	}
}

// newTestNetwork makes a Network on a fresh StateDir and, whatever happens in the
// test, tears down every pod it still has, releases its mounts and deletes its
// bridge.
func newTestNetwork(t *testing.T, podCIDR string) *Network {
	t.Helper()
	n, err := New(Config{StateDir: t.TempDir(), PodCIDR: podCIDR, ClusterCIDRs: testClusterCIDRs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, uid := range n.Pods() {
			if err := n.TearDown(ctx, uid); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
		if err := n.Close(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		// Anything still mounted would make t.TempDir's removal fail: say what.
		if mps, _ := mountPoints(n.cfg.StateDir); len(mps) > 0 {
			t.Errorf("cleanup: still mounted: %v", mps)
			for _, mp := range mps {
				_ = unix.Unmount(mp, unix.MNT_DETACH)
			}
		}
		_ = exec.Command("ip", "link", "del", n.cfg.BridgeName).Run()
	})
	return n
}

func cmdOut(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// inPod runs fn on an OS thread that has entered the pod's network namespace,
// and returns the thread to the test's namespace afterwards.
func inPod(nsPath string, fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			runtime.UnlockOSThread()
			done <- err
			return
		}
		defer orig.Close()
		f, err := os.Open(nsPath)
		if err != nil {
			runtime.UnlockOSThread()
			done <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("setns %s: %w", nsPath, err)
			return
		}
		fnErr := fn()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- fmt.Errorf("back to the test's namespace: %w", err) // stay locked: the thread is dropped
			return
		}
		runtime.UnlockOSThread()
		done <- fnErr
	}()
	return <-done
}

// bridgePorts lists the links enslaved to the bridge.
func bridgePorts(t *testing.T, bridge string) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(cmdOut(t, "ip", "-o", "link", "show", "master", bridge)), "\n") {
		if f := strings.Fields(line); len(f) > 1 {
			out = append(out, strings.SplitN(strings.TrimSuffix(f[1], ":"), "@", 2)[0])
		}
	}
	return out
}

// leases returns host-local's leases: IP -> pod UID.
func leases(t *testing.T, n *Network) map[string]string {
	t.Helper()
	dir := filepath.Join(n.cfg.StateDir, "ipam", NetworkName)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range ents {
		if net.ParseIP(e.Name()) == nil {
			continue // host-local's lock and last_reserved_ip files
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = strings.TrimSpace(strings.SplitN(string(data), "\n", 2)[0])
	}
	return out
}

// assertThreadsHome checks that every thread of the process is in the process's
// (the node's) network namespace: none was left in a pod's, where it would keep
// the pod's namespace alive after TearDown.
func assertThreadsHome(t *testing.T) {
	t.Helper()
	home, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	tasks, _ := filepath.Glob("/proc/self/task/*/ns/net")
	for _, p := range tasks {
		if l, err := os.Readlink(p); err == nil && l != home {
			t.Errorf("thread %s is in %s, not in the node's %s", p, l, home)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// assertNothingLeft checks the node's side after every pod is torn down: no veth
// on the bridge, no pod netns or mount, no lease, no cache entry; then Close
// leaves no mount under StateDir at all.
func assertNothingLeft(t *testing.T, n *Network) {
	t.Helper()
	assertThreadsHome(t)
	waitFor(t, "the bridge to have no ports", func() bool { return len(bridgePorts(t, n.cfg.BridgeName)) == 0 })
	if l := leases(t, n); len(l) > 0 {
		t.Errorf("leases left: %v", l)
	}
	if p := n.Pods(); len(p) > 0 {
		t.Errorf("pods left: %v", p)
	}
	for _, d := range []string{"netns", "cache/results"} {
		ents, _ := os.ReadDir(filepath.Join(n.cfg.StateDir, d))
		for _, e := range ents {
			t.Errorf("left in %s: %s", d, e.Name())
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(cmdOut(t, "ip", "-o", "link", "show")), "\n") {
		if strings.Contains(line, "veth") {
			t.Errorf("veth left: %s", line)
		}
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if mps, err := mountPoints(n.cfg.StateDir); err != nil || len(mps) > 0 {
		t.Errorf("mounts left under %s: %v %v", n.cfg.StateDir, mps, err)
	}
	if path, err := exec.LookPath("iptables-save"); err == nil {
		out, _ := exec.Command(path).CombinedOutput()
		if s := string(out); strings.Contains(s, "CNI") || strings.Contains(s, "MASQUERADE") {
			t.Errorf("iptables rules appeared:\n%s", s)
		}
	}
}

func TestPodNetwork(t *testing.T) {
	requireIsolated(t)
	n := newTestNetwork(t, testPodCIDR)
	ctx := context.Background()
	_, podNet, _ := net.ParseCIDR(testPodCIDR)
	if got := n.Gateway().String(); got != testGateway {
		t.Fatalf("Gateway() = %s, want %s", got, testGateway)
	}

	// Two pods, set up at the same time.
	uids := []string{"0b5ad5e2-aaaa-4c1e-9d7a-000000000001", "0b5ad5e2-bbbb-4c1e-9d7a-000000000002"}
	res := make([]Result, 2)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range uids {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			res[i], errs[i] = n.SetUp(ctx, uids[i], "default", fmt.Sprintf("pod-%d", i))
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	a, b := res[0], res[1]
	t.Logf("pod A %s at %s, pod B %s at %s", uids[0], a.IP, uids[1], b.IP)
	if a.IP.Equal(b.IP) || !podNet.Contains(a.IP) || !podNet.Contains(b.IP) || a.IP.String() == testGateway || b.IP.String() == testGateway {
		t.Fatalf("pod IPs %s and %s: want two distinct addresses of %s other than the gateway", a.IP, b.IP, testPodCIDR)
	}
	for i, r := range res {
		if want := filepath.Join(n.cfg.StateDir, "netns", uids[i]); r.NetNSPath != want || !isNetNS(want) {
			t.Fatalf("NetNSPath %q: want a mounted netns at %s", r.NetNSPath, want)
		}
	}
	if got := leases(t, n); len(got) != 2 || got[a.IP.String()] != uids[0] || got[b.IP.String()] != uids[1] {
		t.Fatalf("host-local leases %v, want %s->%s and %s->%s", got, a.IP, uids[0], b.IP, uids[1])
	}

	// The node side: the bridge holds the gateway address and both veths.
	if ports := bridgePorts(t, DefaultBridgeName); len(ports) != 2 || !strings.HasPrefix(ports[0], "veth") || !strings.HasPrefix(ports[1], "veth") {
		t.Fatalf("bridge ports %v, want two veths", ports)
	}
	if out := cmdOut(t, "ip", "-o", "-4", "addr", "show", "dev", DefaultBridgeName); !strings.Contains(out, testGateway+"/24") {
		t.Fatalf("bridge addresses: %s, want %s/24", out, testGateway)
	}

	// The bridge plugin turns forwarding on in the node's namespace (the test's).
	if fwd, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); err != nil || strings.TrimSpace(string(fwd)) != "1" {
		t.Errorf("net.ipv4.ip_forward in the node's namespace = %q (%v), want 1", fwd, err)
	}

	// The pod side: lo up, eth0 with the IP, routes to the cluster ranges only.
	for i, r := range res {
		if out := cmdOut(t, "nsenter", "--net="+r.NetNSPath, "ip", "-o", "link", "show", "lo"); !strings.Contains(out, "UP") {
			t.Errorf("pod %d: lo is not up: %s", i, out)
		}
		if out := cmdOut(t, "nsenter", "--net="+r.NetNSPath, "ip", "-o", "-4", "addr", "show", "dev", PodInterface); !strings.Contains(out, r.IP.String()+"/24") {
			t.Errorf("pod %d: eth0 addresses %s, want %s/24", i, out, r.IP)
		}
		routes := cmdOut(t, "nsenter", "--net="+r.NetNSPath, "ip", "-4", "route", "show")
		for _, c := range testClusterCIDRs {
			if !strings.Contains(routes, c+" via "+testGateway+" dev "+PodInterface) {
				t.Errorf("pod %d: no route to %s via %s:\n%s", i, c, testGateway, routes)
			}
		}
		routes += cmdOut(t, "nsenter", "--net="+r.NetNSPath, "ip", "-6", "route", "show")
		for _, line := range strings.Split(routes, "\n") {
			if strings.HasPrefix(line, "default") || strings.HasPrefix(line, "0.0.0.0") {
				t.Errorf("pod %d has a default route: %s", i, line)
			}
		}
		// An address outside the cluster has no route at all (asking sends nothing).
		if out, err := exec.Command("nsenter", "--net="+r.NetNSPath, "ip", "route", "get", "198.51.100.1").CombinedOutput(); err == nil {
			t.Errorf("pod %d has a route out of the cluster: %s", i, out)
		}
	}

	// Pod A reaches pod B over TCP, and B sees A's own address (no NAT).
	var ln net.Listener
	if err := inPod(b.NetNSPath, func() (err error) {
		ln, err = net.Listen("tcp", net.JoinHostPort(b.IP.String(), "0"))
		return err
	}); err != nil {
		t.Fatalf("listen in pod B: %v", err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		line, _ := bufio.NewReader(c).ReadString('\n')
		host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
		fmt.Fprintf(c, "%s from %s\n", strings.TrimSpace(line), host)
	}()
	var reply string
	if err := inPod(a.NetNSPath, func() error {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintln(c, "hello")
		reply, err = bufio.NewReader(c).ReadString('\n')
		return err
	}); err != nil {
		t.Fatalf("pod A -> pod B %s: %v", ln.Addr(), err)
	}
	if want := "hello from " + a.IP.String() + "\n"; reply != want {
		t.Fatalf("pod B answered %q, want %q", reply, want)
	}
	ln.Close()

	// SetUp again: the same network, no second ADD (no new lease).
	again, err := n.SetUp(ctx, uids[0], "default", "pod-0")
	if err != nil {
		t.Fatal(err)
	}
	if !again.IP.Equal(a.IP) || again.NetNSPath != a.NetNSPath {
		t.Fatalf("second SetUp gave %+v, want %+v", again, a)
	}
	if got := leases(t, n); len(got) != 2 {
		t.Fatalf("leases after second SetUp: %v", got)
	}
	// A new Network on the same StateDir (a restarted kubelet) adopts the pods.
	n2, err := New(n.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if st, ok := n2.Status(uids[1]); !ok || !st.IP.Equal(b.IP) {
		t.Fatalf("Status after restart = %+v, %v; want %s", st, ok, b.IP)
	}
	if got := n2.Pods(); strings.Join(got, ",") != strings.Join(uids, ",") {
		t.Fatalf("Pods() = %v, want %v", got, uids)
	}

	// The netns directory is a shared mount point and each pod's netns is mounted
	// once; a mount namespace copied from ours (a slave, as systemd and container
	// runtimes make them) sees the pod's mount, and loses it at TearDown, so it
	// does not keep the pod's namespace alive. (Removing the file alone already
	// detaches copies of the mount on Linux >= 3.18; the shared propagation makes
	// the unmount itself reach them too.)
	netnsDir := filepath.Join(n.cfg.StateDir, "netns")
	if mi, err := findMount(netnsDir); err != nil || mi == nil || !mi.shared {
		t.Fatalf("%s is not a shared mount point: %+v %v", netnsDir, mi, err)
	}
	if mps, _ := mountPoints(a.NetNSPath); len(mps) != 1 {
		t.Fatalf("pod A's netns is mounted %d times: %v", len(mps), mps)
	}
	copied := exec.Command("unshare", "--mount", "--propagation", "slave", "sleep", "60")
	if err := copied.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = copied.Process.Kill(); _ = copied.Wait() }()
	copiedSees := func(path string) bool {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", copied.Process.Pid))
		return strings.Contains(string(data), " "+path+" ")
	}
	waitFor(t, "the copied mount namespace to see pod A's netns", func() bool { return copiedSees(a.NetNSPath) })

	// TearDown A: lease, netns and veth gone; twice is fine.
	if err := n.TearDown(ctx, uids[0]); err != nil {
		t.Fatal(err)
	}
	if copiedSees(a.NetNSPath) {
		t.Fatal("the copied mount namespace still holds pod A's netns after TearDown")
	}
	if _, ok := leases(t, n)[a.IP.String()]; ok {
		t.Fatalf("lease of %s kept after TearDown", a.IP)
	}
	if _, err := os.Lstat(a.NetNSPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("netns file %s kept after TearDown (%v)", a.NetNSPath, err)
	}
	if ports := bridgePorts(t, DefaultBridgeName); len(ports) != 1 {
		t.Fatalf("bridge ports after TearDown of A: %v, want one", ports)
	}
	if _, ok := n.Status(uids[0]); ok {
		t.Fatal("Status of a torn-down pod says it has a network")
	}
	if err := n.TearDown(ctx, uids[0]); err != nil {
		t.Fatalf("second TearDown: %v", err)
	}

	// B's namespace vanishes first (as after a reboot: the file stays, unmounted);
	// TearDown still releases its lease.
	if err := unix.Unmount(b.NetNSPath, unix.MNT_DETACH); err != nil {
		t.Fatal(err)
	}
	if _, ok := n.Status(uids[1]); ok {
		t.Fatal("Status of a pod without its netns says it has a network")
	}
	if got := n.Pods(); len(got) != 1 || got[0] != uids[1] {
		t.Fatalf("Pods() = %v, want the orphan %s", got, uids[1])
	}
	if err := n.TearDown(ctx, uids[1]); err != nil {
		t.Fatal(err)
	}
	if err := n.TearDown(ctx, uids[1]); err != nil {
		t.Fatalf("second TearDown: %v", err)
	}
	assertNothingLeft(t, n)
}

// After a reboot the netns file is a plain file and the lease and cache are still
// there: SetUp must release the old lease and start over.
func TestSetUpAfterReboot(t *testing.T) {
	requireIsolated(t)
	n := newTestNetwork(t, testPodCIDR)
	ctx := context.Background()
	uid := "reboot-pod"
	first, err := n.SetUp(ctx, uid, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Unmount(first.NetNSPath, unix.MNT_DETACH); err != nil {
		t.Fatal(err)
	}
	second, err := n.SetUp(ctx, uid, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	if !isNetNS(second.NetNSPath) {
		t.Fatal("SetUp after reboot left no mounted netns")
	}
	got := leases(t, n)
	if len(got) != 1 || got[second.IP.String()] != uid {
		t.Fatalf("leases %v, want only %s->%s", got, second.IP, uid)
	}
	if st, ok := n.Status(uid); !ok || !st.IP.Equal(second.IP) {
		t.Fatalf("Status = %+v, %v", st, ok)
	}
	if err := n.TearDown(ctx, uid); err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t, n)
}

func TestConcurrentPods(t *testing.T) {
	requireIsolated(t)
	n := newTestNetwork(t, testPodCIDR)
	ctx := context.Background()
	const pods = 12
	var wg sync.WaitGroup
	ips := make([]string, pods)
	errs := make([]error, pods)
	for i := 0; i < pods; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			uid := fmt.Sprintf("pod-%02d", i)
			// The same pod twice at once: serialized, one network.
			var r1, r2 Result
			var e1, e2 error
			var inner sync.WaitGroup
			inner.Add(2)
			go func() { defer inner.Done(); r1, e1 = n.SetUp(ctx, uid, "ns", uid) }()
			go func() { defer inner.Done(); r2, e2 = n.SetUp(ctx, uid, "ns", uid) }()
			inner.Wait()
			if errs[i] = errors.Join(e1, e2); errs[i] == nil && !r1.IP.Equal(r2.IP) {
				errs[i] = fmt.Errorf("pod %s: concurrent SetUps gave %s and %s", uid, r1.IP, r2.IP)
			}
			ips[i] = r1.IP.String()
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	sorted := append([]string(nil), ips...)
	sort.Strings(sorted)
	for i := 1; i < len(sorted); i++ {
		if sorted[i] == sorted[i-1] {
			t.Fatalf("IP %s given twice: %v", sorted[i], ips)
		}
	}
	assertThreadsHome(t)
	if got := leases(t, n); len(got) != pods {
		t.Fatalf("%d leases, want %d: %v", len(got), pods, got)
	}
	if got := bridgePorts(t, DefaultBridgeName); len(got) != pods {
		t.Fatalf("%d bridge ports, want %d", len(got), pods)
	}
	for _, uid := range n.Pods() {
		wg.Add(1)
		go func(uid string) {
			defer wg.Done()
			if err := n.TearDown(ctx, uid); err != nil {
				t.Error(err)
			}
		}(uid)
	}
	wg.Wait()
	assertNothingLeft(t, n)
}

// A failed SetUp leaves nothing: here the node's bridge already carries another
// subnet's gateway (a second network on the same bridge name), so the bridge
// plugin fails after host-local gave out an address.
func TestSetUpFailureLeavesNothing(t *testing.T) {
	requireIsolated(t)
	ctx := context.Background()
	n := newTestNetwork(t, testPodCIDR)
	if _, err := n.SetUp(ctx, "first", "default", "first"); err != nil {
		t.Fatal(err)
	}
	other := newTestNetwork(t, "10.244.251.0/24")
	_, err := other.SetUp(ctx, "second", "default", "second")
	if err == nil {
		t.Fatal("SetUp on a bridge with another subnet's address succeeded")
	}
	t.Logf("SetUp failed as expected: %v", err)
	if !strings.Contains(err.Error(), "default/second") {
		t.Errorf("error does not name the pod: %v", err)
	}
	if p := other.Pods(); len(p) > 0 {
		t.Errorf("failed SetUp left pods: %v", p)
	}
	if l := leases(t, other); len(l) > 0 {
		t.Errorf("failed SetUp left leases: %v", l)
	}
	if _, err := os.Lstat(other.NetNSPath("second")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("failed SetUp left its netns file (%v)", err)
	}
	if ports := bridgePorts(t, DefaultBridgeName); len(ports) != 1 {
		t.Errorf("bridge ports %v, want only the first pod's", ports)
	}
	if err := other.Close(); err != nil {
		t.Error(err)
	}
	if mps, _ := mountPoints(other.cfg.StateDir); len(mps) > 0 {
		t.Errorf("failed SetUp left mounts: %v", mps)
	}
	if err := n.TearDown(ctx, "first"); err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t, n)
}

// The pods' addresses come from the subnet in StateDir/subnet.env, which the
// project's plugin, the only one in the conflist, reads at every ADD: here the
// file is changed behind New's back and the next pod is on the new subnet. CNI
// CHECK goes through the plugin to bridge too.
func TestPodIPFromSubnetFile(t *testing.T) {
	requireIsolated(t)
	ctx := context.Background()
	n := newTestNetwork(t, testPodCIDR)
	var list struct {
		Plugins []struct {
			Type       string `json:"type"`
			SubnetFile string `json:"subnetFile"`
		} `json:"plugins"`
	}
	if data, err := os.ReadFile(n.ConfigPath()); err != nil || json.Unmarshal(data, &list) != nil || len(list.Plugins) != 1 ||
		list.Plugins[0].Type != cniplugin.BinaryName || list.Plugins[0].SubnetFile != filepath.Join(n.cfg.StateDir, "subnet.env") {
		t.Fatalf("conflist %s (%v) does not name %s with the node's subnet file", data, err, cniplugin.BinaryName)
	}
	if data, err := os.ReadFile(filepath.Join(n.cfg.StateDir, "subnet.env")); err != nil || !strings.Contains(string(data), "\nMINIK8S_SUBNET="+testPodCIDR+"\n") {
		t.Fatalf("subnet.env: %q, %v; want MINIK8S_SUBNET=%s", data, err, testPodCIDR)
	}

	const otherCIDR, otherGateway = "10.244.77.0/24", "10.244.77.1"
	_, otherNet, _ := net.ParseCIDR(otherCIDR)
	if err := os.WriteFile(filepath.Join(n.cfg.StateDir, "subnet.env"), []byte("MINIK8S_SUBNET="+otherCIDR+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := n.SetUp(ctx, "from-subnet-file", "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	if !otherNet.Contains(res.IP) || res.IP.String() == otherGateway {
		t.Fatalf("pod IP %s, want one of subnet.env's %s", res.IP, otherCIDR)
	}
	if out := cmdOut(t, "ip", "-o", "-4", "addr", "show", "dev", DefaultBridgeName); !strings.Contains(out, otherGateway+"/24") {
		t.Fatalf("bridge addresses: %s, want %s/24", out, otherGateway)
	}
	routes := cmdOut(t, "nsenter", "--net="+res.NetNSPath, "ip", "-4", "route", "show")
	for _, c := range testClusterCIDRs {
		if !strings.Contains(routes, c+" via "+otherGateway+" dev "+PodInterface) {
			t.Errorf("no route to %s via %s:\n%s", c, otherGateway, routes)
		}
	}
	if strings.Contains(routes, "default") {
		t.Errorf("the pod has a default route:\n%s", routes)
	}
	if err := n.cni.CheckNetworkList(ctx, n.list, n.runtimeConf("from-subnet-file", res.NetNSPath, PodInterface, "default", "web")); err != nil {
		t.Fatalf("CNI CHECK: %v", err)
	}
	if err := n.TearDown(ctx, "from-subnet-file"); err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t, n)
}

// Without the subnet file an ADD fails and says why, and leaves nothing; a DEL
// does not need the file (the lease is released by container ID).
func TestMissingSubnetFile(t *testing.T) {
	requireIsolated(t)
	ctx := context.Background()
	n := newTestNetwork(t, testPodCIDR)
	subnetFile := filepath.Join(n.cfg.StateDir, "subnet.env")

	// A pod set up with the file, torn down without it.
	res, err := n.SetUp(ctx, "before", "default", "before")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(subnetFile); err != nil {
		t.Fatal(err)
	}
	if err := n.TearDown(ctx, "before"); err != nil {
		t.Fatalf("TearDown without the subnet file: %v", err)
	}
	if l := leases(t, n); len(l) > 0 {
		t.Fatalf("lease of %s kept: %v", res.IP, l)
	}

	_, err = n.SetUp(ctx, "without", "default", "without")
	if err == nil || !strings.Contains(err.Error(), subnetFile+" does not exist") || strings.Contains(err.Error(), "cleaning up") {
		t.Fatalf("SetUp without the subnet file: %v; want an error about %s and a clean clean-up", err, subnetFile)
	}
	for _, bad := range []string{"", "MINIK8S_SUBNET=10.244.1.0\n", "MINIK8S_SUBNET=0.0.0.0/0\n", "garbage\n"} {
		if err := os.WriteFile(subnetFile, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := n.SetUp(ctx, "without", "default", "without"); err == nil || !strings.Contains(err.Error(), "subnet file "+subnetFile) {
			t.Fatalf("SetUp with subnet file %q: %v", bad, err)
		}
	}
	assertNothingLeft(t, n)
}

// The tests below need neither root nor namespaces.

func TestNewWritesConflist(t *testing.T) {
	requirePlugins(t)
	dir := t.TempDir()
	n, err := New(Config{StateDir: dir, PodCIDR: "10.244.3.7/24", ClusterCIDRs: []string{"10.244.0.0/16", "10.96.0.0/16", "10.244.0.0/16"}, MTU: 1400})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "net.d", "10-minik8s.conflist"); n.ConfigPath() != want {
		t.Fatalf("ConfigPath() = %s, want %s", n.ConfigPath(), want)
	}
	data, err := os.ReadFile(n.ConfigPath())
	if err != nil {
		t.Fatal(err)
	}
	var conf struct {
		CNIVersion string            `json:"cniVersion"`
		Name       string            `json:"name"`
		Plugins    []json.RawMessage `json:"plugins"`
	}
	if err := json.Unmarshal(data, &conf); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	if conf.CNIVersion != "1.0.0" || conf.Name != NetworkName || len(conf.Plugins) != 1 {
		t.Fatalf("conflist:\n%s", data)
	}

	// The one plugin is the project's, with the node's subnet file.
	plugin, err := cniplugin.ParseNetConf(conf.Plugins[0])
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	subnetFile := filepath.Join(dir, "subnet.env")
	if plugin.Type != cniplugin.BinaryName || plugin.SubnetFile != subnetFile || plugin.DataDir != filepath.Join(dir, "ipam") {
		t.Fatalf("plugin config:\n%s", data)
	}
	if strings.Join(plugin.Routes, ",") != "10.244.0.0/16,10.96.0.0/16" {
		t.Fatalf("routes %v, want the cluster CIDRs once each and no default route", plugin.Routes)
	}
	want := map[string]any{"bridge": DefaultBridgeName, "isGateway": true, "isDefaultGateway": false, "ipMasq": false, "hairpinMode": true, "mtu": float64(1400)}
	if fmt.Sprint(plugin.Delegate) != fmt.Sprint(want) {
		t.Fatalf("delegate %v, want %v", plugin.Delegate, want)
	}
	subnet, err := cniplugin.ReadSubnetFile(subnetFile)
	if err != nil || subnet.String() != "10.244.3.0/24" {
		t.Fatalf("subnet file: %v, %v; want 10.244.3.0/24", subnet, err)
	}
	exe, _ := os.Executable()
	link := filepath.Join(dir, "bin", cniplugin.BinaryName)
	if got, err := os.Readlink(link); err != nil || got != exe {
		t.Fatalf("%s -> %q (%v), want a link to %s", link, got, err, exe)
	}

	// What the plugin hands to bridge is what the conflist held before the
	// plugin: host-local on the PodCIDR, the bridge's first address as gateway.
	plugin.Name, plugin.CNIVersion = conf.Name, conf.CNIVersion
	delegate, err := cniplugin.DelegateConfig(plugin, subnet)
	if err != nil {
		t.Fatal(err)
	}
	var bridge struct {
		Type             string `json:"type"`
		Name             string `json:"name"`
		Bridge           string `json:"bridge"`
		IsGateway        bool   `json:"isGateway"`
		IsDefaultGateway bool   `json:"isDefaultGateway"`
		IPMasq           bool   `json:"ipMasq"`
		HairpinMode      bool   `json:"hairpinMode"`
		MTU              int    `json:"mtu"`
		IPAM             struct {
			Type   string `json:"type"`
			Ranges [][]struct {
				Subnet  string `json:"subnet"`
				Gateway string `json:"gateway"`
			} `json:"ranges"`
			Routes []struct {
				Dst string `json:"dst"`
				GW  string `json:"gw"`
			} `json:"routes"`
			DataDir string `json:"dataDir"`
		} `json:"ipam"`
	}
	if err := json.Unmarshal(delegate, &bridge); err != nil {
		t.Fatal(err)
	}
	if bridge.Type != "bridge" || bridge.Name != NetworkName || bridge.Bridge != DefaultBridgeName || !bridge.IsGateway || bridge.IsDefaultGateway || bridge.IPMasq || !bridge.HairpinMode || bridge.MTU != 1400 {
		t.Fatalf("bridge plugin config:\n%s", delegate)
	}
	if p := bridge.IPAM; p.Type != "host-local" || p.DataDir != filepath.Join(dir, "ipam") ||
		len(p.Ranges) != 1 || len(p.Ranges[0]) != 1 || p.Ranges[0][0].Subnet != "10.244.3.0/24" || p.Ranges[0][0].Gateway != "10.244.3.1" ||
		len(p.Routes) != 2 || p.Routes[0].Dst != "10.244.0.0/16" || p.Routes[1].Dst != "10.96.0.0/16" || p.Routes[0].GW != "10.244.3.1" || p.Routes[1].GW != "10.244.3.1" {
		t.Fatalf("ipam config:\n%s", delegate)
	}
	if n.Gateway().String() != "10.244.3.1" {
		t.Fatalf("Gateway() = %s", n.Gateway())
	}

	// New again on the same dir (a restarted kubelet) is fine; it puts back a
	// stale link, and a new subnet goes to the subnet file.
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/nonexistent/minik8s", link); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{StateDir: dir, PodCIDR: "10.244.4.0/24", ClusterCIDRs: []string{"10.244.0.0/16", "10.96.0.0/16"}, MTU: 1400}); err != nil {
		t.Fatal(err)
	}
	if got, err := os.Readlink(link); err != nil || got != exe {
		t.Fatalf("after New again: %s -> %q (%v), want %s", link, got, err, exe)
	}
	if subnet, err := cniplugin.ReadSubnetFile(subnetFile); err != nil || subnet.String() != "10.244.4.0/24" {
		t.Fatalf("subnet file after New with another PodCIDR: %v, %v", subnet, err)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "bin")); len(ents) != 1 {
		t.Fatalf("bin/ holds %d entries, want the link only", len(ents))
	}
	if got := n.Pods(); len(got) != 0 {
		t.Fatalf("Pods() on a fresh node = %v", got)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	requirePlugins(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{PodCIDR: "10.244.0.0/24"}, "StateDir is required"},
		{Config{StateDir: dir}, "PodCIDR is required"},
		{Config{StateDir: dir, PodCIDR: "10.244.0.0/33"}, `PodCIDR "10.244.0.0/33"`},
		{Config{StateDir: dir, PodCIDR: "10.244.0.0/31"}, "no addresses for pods"},
		{Config{StateDir: dir, PodCIDR: "10.244.0.0/24", ClusterCIDRs: []string{"0.0.0.0/0"}}, "default route"},
		{Config{StateDir: dir, PodCIDR: "10.244.0.0/24", ClusterCIDRs: []string{"fd00::/64"}}, "IP family"},
		{Config{StateDir: dir, PodCIDR: "10.244.0.0/24", ClusterCIDRs: []string{"10.96.0.0"}}, `ClusterCIDRs "10.96.0.0"`},
		{Config{StateDir: dir, PodCIDR: "10.244.0.0/24", BridgeName: "a-very-long-bridge-name"}, "BridgeName"},
		{Config{StateDir: dir, PodCIDR: "10.244.0.0/24", MTU: 10}, "MTU"},
		{Config{StateDir: dir, PodCIDR: "10.244.0.0/24", PluginDirs: []string{dir}}, "CNI plugin(s) bridge, host-local, loopback not found in " + dir + ": `apt-get install containernetworking-plugins` provides them"},
		{Config{StateDir: dir, PodCIDR: "10.244.0.0/24", PluginBinary: filepath.Join(dir, "nonexistent")}, "PluginBinary"},
		{Config{StateDir: dir, PodCIDR: "10.244.0.0/24", PluginBinary: dir}, "is not an executable file"},
		// A binary that does not act as minik8s-cni (here: answers nothing).
		{Config{StateDir: dir, PodCIDR: "10.244.0.0/24", PluginBinary: "/bin/true"}, "minik8s-cni is /bin/true"},
	} {
		_, err := New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want an error with %q", tc.cfg, err, tc.want)
		}
	}
	// New in a process run as a CNI plugin (a PluginBinary that is not the
	// plugin) stops there instead of running that binary again.
	t.Setenv("CNI_COMMAND", "VERSION")
	if _, err := New(Config{StateDir: dir, PodCIDR: "10.244.0.0/24"}); err == nil || !strings.Contains(err.Error(), "CNI_COMMAND=VERSION") {
		t.Errorf("New with CNI_COMMAND set = %v", err)
	}
}

func TestRefusesBadPodUID(t *testing.T) {
	requirePlugins(t)
	n, err := New(Config{StateDir: t.TempDir(), PodCIDR: testPodCIDR})
	if err != nil {
		t.Fatal(err)
	}
	for _, uid := range []string{"", "../etc", "a/b", ".hidden"} {
		if _, err := n.SetUp(context.Background(), uid, "default", "x"); err == nil {
			t.Errorf("SetUp(%q) succeeded", uid)
		}
		if err := n.TearDown(context.Background(), uid); err == nil {
			t.Errorf("TearDown(%q) succeeded", uid)
		}
		if _, ok := n.Status(uid); ok {
			t.Errorf("Status(%q) ok", uid)
		}
	}
	if _, err := n.SetUp(context.Background(), "ok-uid", "default", "a;b"); err == nil {
		t.Error("SetUp with ';' in the pod name succeeded")
	}
}

func TestUnescapeMountPath(t *testing.T) {
	for in, want := range map[string]string{`/a\040b`: "/a b", `/plain`: "/plain", `/x\134y`: `/x\y`, `/end\04`: `/end\04`} {
		if got := unescapeMountPath(in); got != want {
			t.Errorf("unescapeMountPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkSetUpTearDown measures one pod's network set up and torn down, and
// the idempotent SetUp that a kubelet's every sync makes.
func BenchmarkSetUpTearDown(b *testing.B) {
	if !isolated {
		b.Skip(skipReason)
	}
	n, err := New(Config{StateDir: b.TempDir(), PodCIDR: testPodCIDR, ClusterCIDRs: testClusterCIDRs})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		_ = n.Close()
		_ = exec.Command("ip", "link", "del", n.cfg.BridgeName).Run()
	}()
	ctx := context.Background()
	b.Run("SetUp+TearDown", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := n.SetUp(ctx, "bench", "default", "bench"); err != nil {
				b.Fatal(err)
			}
			if err := n.TearDown(ctx, "bench"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("SetUp-again", func(b *testing.B) {
		if _, err := n.SetUp(ctx, "bench", "default", "bench"); err != nil {
			b.Fatal(err)
		}
		defer n.TearDown(ctx, "bench")
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := n.SetUp(ctx, "bench", "default", "bench"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
