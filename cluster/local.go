// Package cluster runs a whole minik8s cluster on one machine, for demos, development and the
// end-to-end tests. Each node lives in a network namespace of its own, with its own address on
// a bridge of the host (198.18.0.0/24), its own containerd and its kubelet; the control plane
// runs on the first node. Everything (data, logs, process IDs) is under one directory, and
// `Down` leaves the machine as it was.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/minik8s/minik8s/client"
)

// Options say how the local cluster is made.
type Options struct {
	// Name names the cluster: its nodes' network namespaces are NAME-node-1, … (default
	// "minik8s"). One local cluster runs on a machine at a time: they share the address plan.
	Name string
	// Dir holds everything of the cluster: server data, node data, logs, process IDs.
	Dir string
	// Binary is the minik8s binary to start the components with (default: this process's).
	Binary string
	// Nodes is the number of nodes (default 1); the first also runs the control plane.
	Nodes int
	// APIPort is the API server's port on the first node (default 6443).
	APIPort int
	// InstallConfig is where the admin's config is copied ("" for nowhere).
	InstallConfig string
	// Images are OCI archives to push into the cluster's registry once it is up.
	Images []string
	// ServerArgs are passed on to `minik8s server`; NodeArgs to every node's `minik8s join`
	// (for example --restart-backoff=1s).
	ServerArgs, NodeArgs []string
	// Progress receives one line per step.
	Progress io.Writer
}

// node is one node of a local cluster.
type node struct {
	Name  string
	IP    string
	NetNS string
	Veth  string
	Dir   string
}

func (n node) containerdSock() string { return filepath.Join(n.Dir, "containerd", "containerd.sock") }
func (n node) dataDir() string        { return filepath.Join(n.Dir, "data") }
func (n node) netnsPath() string      { return "/run/netns/" + n.NetNS }

func (o *Options) defaults() error {
	if o.Dir == "" {
		return errors.New("the cluster directory is not set (--dir)")
	}
	abs, err := filepath.Abs(o.Dir)
	if err != nil {
		return err
	}
	o.Dir = abs
	if o.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		o.Binary = exe
	}
	if o.Name == "" {
		o.Name = "minik8s"
	}
	if err := validName(o.Name); err != nil {
		return err
	}
	if o.Nodes == 0 {
		o.Nodes = 1
	}
	if o.Nodes < 1 || o.Nodes > 50 {
		return fmt.Errorf("--nodes %d: a local cluster has 1 to 50 nodes", o.Nodes)
	}
	if o.APIPort == 0 {
		o.APIPort = 6443
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	return nil
}

// nodes are node-1 … node-N.
func (o *Options) nodes() []node {
	out := make([]node, o.Nodes)
	for i := range out {
		name := fmt.Sprintf("node-%d", i+1)
		out[i] = node{Name: name, IP: fmt.Sprintf("198.18.0.%d", firstNodeOct+i), NetNS: o.Name + "-" + name,
			Veth: fmt.Sprintf("%s%d", vethPrefix, i+1), Dir: filepath.Join(o.Dir, "nodes", name)}
	}
	return out
}

// existingNodes are the nodes whose directories exist (for Down and Status).
func (o *Options) existingNodes() []node {
	dirs, _ := filepath.Glob(filepath.Join(o.Dir, "nodes", "node-*"))
	n := o.Nodes
	if len(dirs) > n {
		n = len(dirs)
	}
	cp := *o
	cp.Nodes = n
	return cp.nodes()
}

// validName accepts what can prefix a network namespace name: a DNS label of at most 40
// characters.
func validName(n string) error {
	if len(n) > 40 {
		return fmt.Errorf("--name %q: at most 40 characters", n)
	}
	for i, c := range n {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' && i > 0 && i < len(n)-1) {
			return fmt.Errorf("--name %q: use lower-case letters, digits and inner '-'", n)
		}
	}
	return nil
}

func (o *Options) serverDir() string { return filepath.Join(o.Dir, "server") }
func (o *Options) pidFile() string   { return filepath.Join(o.Dir, "server.pid") }
func (o *Options) logFile() string   { return filepath.Join(o.Dir, "server.log") }
func (o *Options) apiURL() string {
	return fmt.Sprintf("https://%s", net.JoinHostPort(o.nodes()[0].IP, strconv.Itoa(o.APIPort)))
}

// AdminConfigPath is the admin's config of the local cluster.
func (o *Options) AdminConfigPath() string { return filepath.Join(o.serverDir(), "admin.yaml") }

// Up starts what is not running of the cluster and waits until every node is Ready. It is
// idempotent: run it again to restart a stopped control plane or node.
func Up(ctx context.Context, o Options) error {
	if err := o.defaults(); err != nil {
		return err
	}
	for _, tool := range []string{"ip", "nsenter", "containerd", "runc", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is not installed: `apt-get install iproute2 util-linux containerd runc iptables containernetworking-plugins`", tool)
		}
	}
	if err := os.MkdirAll(o.Dir, 0o711); err != nil {
		return fmt.Errorf("make %s: %w", o.Dir, err)
	}
	nodes := o.nodes()
	fmt.Fprintf(o.Progress, "setting up the network: bridge %s %s/24, %d node namespaces\n", hostBridge, hostAddress, len(nodes))
	if err := setUpNetwork(nodes); err != nil {
		return fmt.Errorf("cluster network: %w", err)
	}
	first := nodes[0]
	args := []string{"server",
		"--data-dir", o.serverDir(),
		"--listen", net.JoinHostPort(first.IP, strconv.Itoa(o.APIPort)),
		"--advertise-address", first.IP,
		"--etcd-client-url", "http://127.0.0.1:2379",
		"--etcd-peer-url", "http://127.0.0.1:2380",
		"--no-node"}
	if err := startProcess(o.Progress, "the control plane on "+first.Name, first.NetNS, o.pidFile(), o.logFile(),
		o.Binary, append(args, o.ServerArgs...)); err != nil {
		return err
	}
	fmt.Fprintln(o.Progress, "waiting for the API server")
	if err := waitReady(ctx, o); err != nil {
		return err
	}
	token, err := os.ReadFile(filepath.Join(o.serverDir(), "tokens", "join"))
	if err != nil {
		return fmt.Errorf("read the join token: %w", err)
	}
	startedAt := map[string]time.Time{} // kubelets started now must report after their start
	for i, n := range nodes {
		if err := startContainerd(ctx, o.Progress, n); err != nil {
			return err
		}
		if err := os.MkdirAll(n.dataDir(), 0o755); err != nil {
			return err
		}
		manifest := filepath.Join(n.Dir, "node.yaml")
		labels := ""
		if i == 0 {
			labels = "\n  labels:\n    node-role.kubernetes.io/control-plane: \"\""
		}
		if err := os.WriteFile(manifest, []byte(fmt.Sprintf(nodeManifest, n.Name, labels, n.IP)), 0o644); err != nil {
			return err
		}
		// A local cluster looks for images in its own registry only: nothing leaves the machine.
		args := []string{"join",
			"--server", o.apiURL(),
			"--token", strings.TrimSpace(string(token)),
			"--ca-file", filepath.Join(o.serverDir(), "pki", "ca.crt"),
			"-f", manifest,
			"--containerd-socket", n.containerdSock(),
			"--data-dir", n.dataDir(),
			"--node-cidr", nodeNetwork,
			"--fallback-registry=",
			"--shared-host"}
		started, err := startProcessNew(o.Progress, "node "+n.Name, n.NetNS, filepath.Join(n.Dir, "kubelet.pid"), filepath.Join(n.Dir, "kubelet.log"),
			o.Binary, append(args, o.NodeArgs...))
		if err != nil {
			return err
		}
		if started {
			startedAt[n.Name] = time.Now().Truncate(time.Second)
		}
	}
	fmt.Fprintf(o.Progress, "waiting for %d node(s) to be Ready\n", len(nodes))
	if err := waitNodesReady(ctx, o, nodes, startedAt); err != nil {
		return err
	}
	for _, img := range o.Images {
		fmt.Fprintf(o.Progress, "pushing %s\n", filepath.Base(img))
		push := exec.CommandContext(ctx, o.Binary, "image", "push", img, "--config", o.AdminConfigPath())
		push.Stdout, push.Stderr = o.Progress, o.Progress
		if err := push.Run(); err != nil {
			return fmt.Errorf("push %s: %w", img, err)
		}
	}
	if o.InstallConfig != "" {
		b, err := os.ReadFile(o.AdminConfigPath())
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(o.InstallConfig), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(o.InstallConfig, b, 0o600); err != nil {
			return err
		}
		fmt.Fprintf(o.Progress, "admin config installed as %s\n", o.InstallConfig)
	}
	fmt.Fprintf(o.Progress, "cluster is up: %s, %d node(s) on %s\n", o.apiURL(), len(nodes), nodeNetwork)
	cfgHint := "--config " + o.AdminConfigPath()
	if o.InstallConfig != "" {
		cfgHint = ""
		if home, _ := os.UserHomeDir(); o.InstallConfig != filepath.Join(home, ".minik8s", "config") {
			cfgHint = "--config " + o.InstallConfig
		}
	}
	fmt.Fprintf(o.Progress, "try: %s\n", strings.Join(strings.Fields("minik8s "+cfgHint+" get nodes -o wide"), " "))
	return nil
}

const nodeManifest = `apiVersion: v1
kind: Node
metadata:
  name: %s%s
status:
  addresses:
    - type: InternalIP
      address: %s
`

// waitReady polls an authenticated request until it answers.
func waitReady(ctx context.Context, o Options) error {
	deadline := time.Now().Add(90 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		if _, ok := running(o.pidFile()); !ok {
			return fmt.Errorf("the control plane exited; last lines of %s:\n%s", o.logFile(), tail(o.logFile(), 15))
		}
		if last = ping(ctx, o); last == nil {
			return nil
		}
		if !sleep(ctx, 200*time.Millisecond) {
			return ctx.Err()
		}
	}
	return fmt.Errorf("the API server did not answer within 90s (%v); see %s", last, o.logFile())
}

func adminClient(o Options) (*client.Client, error) {
	cfg, err := client.LoadConfig(o.AdminConfigPath())
	if err != nil {
		return nil, err
	}
	return client.New(cfg)
}

func ping(ctx context.Context, o Options) error {
	c, err := adminClient(o)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err = c.Namespaces().Get(rctx, "default")
	return err
}

// waitNodesReady waits until every node reports Ready (a kubelet started at startedAt[node]
// with a heartbeat since then), and routes the host to their pods.
func waitNodesReady(ctx context.Context, o Options, nodes []node, startedAt map[string]time.Time) error {
	c, err := adminClient(o)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(2 * time.Minute)
	for _, n := range nodes {
		for {
			if got, err := c.Nodes().Get(ctx, n.Name); err == nil && got.Spec.PodCIDR != "" {
				ready := false
				for _, cond := range got.Status.Conditions {
					ready = ready || (cond.Type == "Ready" && cond.Status == "True" && !cond.LastHeartbeatTime.Before(startedAt[n.Name]))
				}
				if ready {
					if err := routePodSubnet(got.Spec.PodCIDR, n.IP); err != nil {
						return err
					}
					break
				}
			}
			if _, ok := running(filepath.Join(n.Dir, "kubelet.pid")); !ok {
				log := filepath.Join(n.Dir, "kubelet.log")
				return fmt.Errorf("node %s exited; last lines of %s:\n%s", n.Name, log, tail(log, 15))
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("node %s did not become Ready within 2 minutes; see %s", n.Name, filepath.Join(n.Dir, "kubelet.log"))
			}
			if !sleep(ctx, 200*time.Millisecond) {
				return ctx.Err()
			}
		}
	}
	return nil
}

// Status says what of the cluster runs.
func Status(ctx context.Context, o Options, w io.Writer) error {
	if err := o.defaults(); err != nil {
		return err
	}
	pid, ok := running(o.pidFile())
	if !ok {
		fmt.Fprintln(w, "control plane: stopped")
		return errors.New("the cluster is not running; start it with `minik8s cluster up`")
	}
	if err := ping(ctx, o); err != nil {
		fmt.Fprintf(w, "control plane: running (pid %d) but not answering: %v\n", pid, err)
		return errors.New("the API server does not answer; see " + o.logFile())
	}
	fmt.Fprintf(w, "control plane: running (pid %d), %s\n", pid, o.apiURL())
	for _, n := range o.existingNodes() {
		state := "stopped (start it again with `minik8s cluster up`)"
		if p, ok := running(filepath.Join(n.Dir, "kubelet.pid")); ok {
			state = fmt.Sprintf("running (pid %d)", p)
		}
		fmt.Fprintf(w, "%-13s  %s at %s: %s\n", n.Name, n.NetNS, n.IP, state)
	}
	fmt.Fprintf(w, "admin config:  %s\n", o.AdminConfigPath())
	return nil
}

// Down stops the nodes and the control plane, removes every container, Pod network and cgroup
// of each node (`minik8s node reset`), stops containerd, and removes the cluster's network
// namespaces, links, routes and rules. With purge, it also deletes the cluster's directory. It
// is idempotent.
func Down(o Options, purge bool) error {
	if err := o.defaults(); err != nil {
		return err
	}
	nodes := o.existingNodes()
	for _, n := range nodes {
		stopProcess(o.Progress, "node "+n.Name, filepath.Join(n.Dir, "kubelet.pid"))
	}
	stopProcess(o.Progress, "the control plane", o.pidFile())
	var first error
	for _, n := range nodes {
		if _, ok := running(filepath.Join(n.Dir, "containerd.pid")); ok {
			fmt.Fprintf(o.Progress, "removing the containers and pod networks of %s\n", n.Name)
			reset := exec.Command("nsenter", "--net="+n.netnsPath(), "--", o.Binary, "node", "reset",
				"--data-dir", n.dataDir(), "--containerd-socket", n.containerdSock())
			reset.Stdout, reset.Stderr = o.Progress, o.Progress
			if err := reset.Run(); err != nil && first == nil {
				first = fmt.Errorf("node reset of %s: %w", n.Name, err)
			}
		}
		stopProcess(o.Progress, "containerd of "+n.Name, filepath.Join(n.Dir, "containerd.pid"))
		// A task whose creation a stopped kubelet interrupted can leave its shim behind,
		// unknown to containerd and so to the reset.
		if k := killShims(n.containerdSock()); k > 0 {
			fmt.Fprintf(o.Progress, "stopped %d container shim(s) of %s that containerd no longer knew\n", k, n.Name)
		}
	}
	fmt.Fprintln(o.Progress, "removing the cluster's network")
	if err := tearDownNetwork(nodes); err != nil && first == nil {
		first = err
	}
	unmountUnder(o.Dir)
	if first != nil {
		return first
	}
	if purge {
		fmt.Fprintf(o.Progress, "removing %s\n", o.Dir)
		return os.RemoveAll(o.Dir)
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// containerdConfig is a node's own containerd: its root, state and sockets in the node's
// directory, so that several run side by side.
const containerdConfig = `version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = %q

[ttrpc]
  address = %q

[debug]
  address = ""

[metrics]
  address = ""
`

// startContainerd starts a node's containerd in the node's network namespace unless it runs,
// and waits for its socket.
func startContainerd(ctx context.Context, progress io.Writer, n node) error {
	dir := filepath.Join(n.Dir, "containerd")
	if err := os.MkdirAll(dir, 0o711); err != nil {
		return err
	}
	cfg := filepath.Join(dir, "config.toml")
	conf := fmt.Sprintf(containerdConfig, filepath.Join(dir, "root"), filepath.Join(dir, "state"), n.containerdSock(), n.containerdSock()+".ttrpc")
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		return err
	}
	pidFile, logFile := filepath.Join(n.Dir, "containerd.pid"), filepath.Join(n.Dir, "containerd.log")
	if err := startProcess(progress, "containerd of "+n.Name, n.NetNS, pidFile, logFile, "containerd", []string{"--config", cfg}); err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("unix", n.containerdSock()); err == nil {
			c.Close()
			return nil
		}
		if _, ok := running(pidFile); !ok {
			return fmt.Errorf("containerd of %s exited; last lines of %s:\n%s", n.Name, logFile, tail(logFile, 15))
		}
		if !sleep(ctx, 100*time.Millisecond) {
			return ctx.Err()
		}
	}
	return fmt.Errorf("containerd of %s did not open %s within 30s; see %s", n.Name, n.containerdSock(), logFile)
}

// startProcess starts one of the cluster's processes in the background, in network namespace
// netns (via nsenter, which keeps the host's mount namespace so that mounts are seen by all),
// unless its pid file names a running one.
func startProcess(progress io.Writer, what, netns, pidFile, logFile, bin string, args []string) error {
	_, err := startProcessNew(progress, what, netns, pidFile, logFile, bin, args)
	return err
}

// startProcessNew is startProcess that also says whether it started a new process.
func startProcessNew(progress io.Writer, what, netns, pidFile, logFile, bin string, args []string) (bool, error) {
	if pid, ok := running(pidFile); ok {
		fmt.Fprintf(progress, "%s already running (pid %d)\n", what, pid)
		return false, nil
	}
	fmt.Fprintf(progress, "starting %s (logs: %s)\n", what, logFile)
	if err := os.MkdirAll(filepath.Dir(pidFile), 0o711); err != nil {
		return false, err
	}
	logf, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return false, err
	}
	defer logf.Close()
	cmd := exec.Command("nsenter", append([]string{"--net=/run/netns/" + netns, "--", bin}, args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return false, fmt.Errorf("start %s: %w", what, err)
	}
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)), 0o600); err != nil {
		return false, err
	}
	go func() { _ = cmd.Wait() }()
	return true, nil
}

// stopProcess stops the process of a pid file: SIGTERM, then SIGKILL after 20s.
func stopProcess(progress io.Writer, what, pidFile string) {
	if pid, ok := running(pidFile); ok {
		fmt.Fprintf(progress, "stopping %s (pid %d)\n", what, pid)
		_ = syscall.Kill(pid, syscall.SIGTERM)
		deadline := time.Now().Add(20 * time.Second)
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	_ = os.Remove(pidFile)
}

func running(pidFile string) (int, bool) {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, alive(pid)
}

// alive reports whether pid runs and is not a zombie.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// unmountUnder lazily unmounts whatever is still mounted below dir (deepest first), so that
// the directory can be removed.
func unmountUnder(dir string) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var points []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			points = append(points, f[4])
		}
	}
	sort.Slice(points, func(a, b int) bool { return len(points[a]) > len(points[b]) })
	for _, p := range points {
		_ = syscall.Unmount(p, syscall.MNT_DETACH)
	}
}

// killShims kills the containerd shims that serve the containerd at sock (their -address
// argument), and says how many there were.
func killShims(sock string) int {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	n := 0
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if len(args) == 0 || !strings.HasPrefix(filepath.Base(args[0]), "containerd-shim") {
			continue
		}
		for i := 0; i+1 < len(args); i++ {
			if args[i] == "-address" && args[i+1] == sock {
				pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
				if err == nil && syscall.Kill(pid, syscall.SIGKILL) == nil {
					n++
				}
				break
			}
		}
	}
	return n
}
