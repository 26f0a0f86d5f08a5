// Package cluster runs a whole minik8s cluster on one machine, for demos, development and the
// end-to-end tests: the control plane as a background process of the same binary, its data,
// logs and process IDs under one directory, and the admin's config installed for the CLI.
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

// Options say where the local cluster lives and how to reach it.
type Options struct {
	// Dir holds everything of the cluster: server data, logs, process IDs.
	Dir string
	// Binary is the minik8s binary to start the components with (default: this process's).
	Binary string
	// Listen is the API server's address (default 127.0.0.1:6443).
	Listen string
	// EtcdPort is the embedded etcd's client port; the peer port is the next one (default 2379).
	EtcdPort int
	// InstallConfig is where the admin's config is copied ("" for nowhere).
	InstallConfig string
	// NoNode runs only the control plane: no containerd, no kubelet.
	NoNode bool
	// NodeName is the name of the server's node (default "node-1").
	NodeName string
	// Images are OCI archives to push into the cluster's registry once it is up.
	Images []string
	// ServerArgs are passed on to `minik8s server`; NodeArgs to the node's `minik8s join`
	// (for example --restart-backoff=1s).
	ServerArgs, NodeArgs []string
	// KubeletPort is the node's kubelet port (default 10250).
	KubeletPort int
	// Progress receives one line per step.
	Progress io.Writer
}

func (o *Options) defaults() error {
	if o.Dir == "" {
		return errors.New("the cluster directory is not set (--dir)")
	}
	if o.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		o.Binary = exe
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:6443"
	}
	if o.EtcdPort == 0 {
		o.EtcdPort = 2379
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.NodeName == "" {
		o.NodeName = "node-1"
	}
	if o.KubeletPort == 0 {
		o.KubeletPort = 10250
	}
	return nil
}

func (o *Options) containerdDir() string  { return filepath.Join(o.Dir, "containerd") }
func (o *Options) containerdSock() string { return filepath.Join(o.containerdDir(), "containerd.sock") }
func (o *Options) nodeDir() string        { return filepath.Join(o.Dir, "node") }
func (o *Options) nodePidFile() string    { return filepath.Join(o.Dir, "node.pid") }
func (o *Options) nodeLogFile() string    { return filepath.Join(o.Dir, "node.log") }

func (o *Options) serverDir() string { return filepath.Join(o.Dir, "server") }
func (o *Options) pidFile() string   { return filepath.Join(o.Dir, "server.pid") }
func (o *Options) logFile() string   { return filepath.Join(o.Dir, "server.log") }

// AdminConfigPath is the admin's config of the local cluster.
func (o *Options) AdminConfigPath() string { return filepath.Join(o.serverDir(), "admin.yaml") }

// Up starts the control plane unless it already runs, waits until it answers, and installs the
// admin's config. It is idempotent.
func Up(ctx context.Context, o Options) error {
	if err := o.defaults(); err != nil {
		return err
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return fmt.Errorf("make %s: %w", o.Dir, err)
	}
	if !o.NoNode {
		if err := startContainerd(ctx, o); err != nil {
			return err
		}
	}
	args := []string{"server",
		"--data-dir", o.serverDir(),
		"--listen", o.Listen,
		"--etcd-client-url", fmt.Sprintf("http://127.0.0.1:%d", o.EtcdPort),
		"--etcd-peer-url", fmt.Sprintf("http://127.0.0.1:%d", o.EtcdPort+1),
		"--no-node"}
	if err := startProcess(o, "the control plane", o.pidFile(), o.logFile(), append(args, o.ServerArgs...)); err != nil {
		return err
	}
	fmt.Fprintln(o.Progress, "waiting for the API server")
	if err := waitReady(ctx, o); err != nil {
		return err
	}
	if !o.NoNode {
		token, err := os.ReadFile(filepath.Join(o.serverDir(), "tokens", "join"))
		if err != nil {
			return fmt.Errorf("read the join token: %w", err)
		}
		// The node runs apart from the control plane, as on a real machine: its Pods keep
		// running, and crashed containers are restarted, while the control plane is down. A
		// local cluster looks for images in its own registry only: nothing leaves the machine.
		args := []string{"join",
			"--server", "https://" + o.Listen,
			"--token", strings.TrimSpace(string(token)),
			"--ca-file", filepath.Join(o.serverDir(), "pki", "ca.crt"),
			"--node-name", o.NodeName,
			"--node-ip", "127.0.0.1",
			"--kubelet-port", strconv.Itoa(o.KubeletPort),
			"--containerd-socket", o.containerdSock(),
			"--data-dir", o.nodeDir(),
			"--fallback-registry="}
		if err := startProcess(o, "node "+o.NodeName, o.nodePidFile(), o.nodeLogFile(), append(args, o.NodeArgs...)); err != nil {
			return err
		}
	}
	if !o.NoNode {
		fmt.Fprintf(o.Progress, "waiting for node %s to be Ready\n", o.NodeName)
		if err := waitNodeReady(ctx, o); err != nil {
			return err
		}
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
	fmt.Fprintf(o.Progress, "cluster is up: https://%s\n", o.Listen)
	return nil
}

// waitReady polls the server's health and an authenticated request until both answer.
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
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("the API server did not answer within 90s (%v); see %s", last, o.logFile())
}

func ping(ctx context.Context, o Options) error {
	cfg, err := client.LoadConfig(o.AdminConfigPath())
	if err != nil {
		return err
	}
	c, err := client.New(cfg)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err = c.Namespaces().Get(rctx, "default")
	return err
}

// Status says whether the control plane runs and answers.
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
	fmt.Fprintf(w, "control plane: running (pid %d), https://%s\n", pid, o.Listen)
	if npid, ok := running(o.nodePidFile()); ok {
		fmt.Fprintf(w, "node %s:     running (pid %d)\n", o.NodeName, npid)
	} else if !o.NoNode {
		fmt.Fprintf(w, "node %s:     stopped (start it again with `minik8s cluster up`)\n", o.NodeName)
	}
	fmt.Fprintf(w, "admin config:  %s\n", o.AdminConfigPath())
	return nil
}

// Down stops the control plane (SIGTERM, then SIGKILL after 20s), removes every container,
// Pod network and cgroup of the node (`minik8s node reset`), and stops containerd. With purge,
// it also deletes the cluster's directory. It is idempotent.
func Down(o Options, purge bool) error {
	if err := o.defaults(); err != nil {
		return err
	}
	stopProcess(o.Progress, "node "+o.NodeName, o.nodePidFile())
	stopProcess(o.Progress, "the control plane", o.pidFile())
	if _, ok := running(o.containerdPidFile()); ok {
		fmt.Fprintln(o.Progress, "removing the node's containers and pod networks")
		reset := exec.Command(o.Binary, "node", "reset", "--data-dir", o.nodeDir(), "--containerd-socket", o.containerdSock())
		reset.Stdout, reset.Stderr = o.Progress, o.Progress
		if err := reset.Run(); err != nil {
			return fmt.Errorf("node reset: %w", err)
		}
	}
	stopProcess(o.Progress, "containerd", o.containerdPidFile())
	unmountUnder(o.Dir)
	if purge {
		fmt.Fprintf(o.Progress, "removing %s\n", o.Dir)
		return os.RemoveAll(o.Dir)
	}
	return nil
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

func (o *Options) containerdPidFile() string { return filepath.Join(o.Dir, "containerd.pid") }

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

// containerdConfig is a containerd of the cluster's own: its root, state and sockets under the
// cluster directory, so that it runs beside any other containerd of the machine.
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

// startContainerd starts the cluster's containerd unless it runs, and waits for its socket.
func startContainerd(ctx context.Context, o Options) error {
	dir := o.containerdDir()
	if pid, ok := running(o.containerdPidFile()); ok {
		fmt.Fprintf(o.Progress, "containerd already running (pid %d)\n", pid)
		return nil
	}
	bin, err := exec.LookPath("containerd")
	if err != nil {
		return errors.New("containerd is not installed: `apt-get install containerd runc containernetworking-plugins`")
	}
	if err := os.MkdirAll(dir, 0o711); err != nil {
		return err
	}
	cfg := filepath.Join(dir, "config.toml")
	conf := fmt.Sprintf(containerdConfig, filepath.Join(dir, "root"), filepath.Join(dir, "state"), o.containerdSock(), o.containerdSock()+".ttrpc")
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		return err
	}
	logPath := filepath.Join(o.Dir, "containerd.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	fmt.Fprintf(o.Progress, "starting containerd (logs: %s)\n", logPath)
	cmd := exec.Command(bin, "--config", cfg)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start containerd: %w", err)
	}
	if err := os.WriteFile(o.containerdPidFile(), []byte(strconv.Itoa(cmd.Process.Pid)), 0o600); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("unix", o.containerdSock()); err == nil {
			c.Close()
			return nil
		}
		if _, ok := running(o.containerdPidFile()); !ok {
			return fmt.Errorf("containerd exited; last lines of %s:\n%s", logPath, tail(logPath, 15))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("containerd did not open %s within 30s; see %s", o.containerdSock(), logPath)
}

// waitNodeReady waits until the server's node reports Ready.
func waitNodeReady(ctx context.Context, o Options) error {
	cfg, err := client.LoadConfig(o.AdminConfigPath())
	if err != nil {
		return err
	}
	c, err := client.New(cfg)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if n, err := c.Nodes().Get(ctx, o.NodeName); err == nil {
			for _, cond := range n.Status.Conditions {
				if cond.Type == "Ready" && cond.Status == "True" {
					return nil
				}
			}
		}
		if _, ok := running(o.pidFile()); !ok {
			return fmt.Errorf("the control plane exited; last lines of %s:\n%s", o.logFile(), tail(o.logFile(), 15))
		}
		if _, ok := running(o.nodePidFile()); !ok {
			return fmt.Errorf("node %s exited; last lines of %s:\n%s", o.NodeName, o.nodeLogFile(), tail(o.nodeLogFile(), 15))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("node %s did not become Ready within 90s; see %s", o.NodeName, o.nodeLogFile())
}

// unmountUnder lazily unmounts whatever is still mounted below dir (deepest first), so that
// the directory can be removed.
func unmountUnder(dir string) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return
	}
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var points []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && (f[4] == abs || strings.HasPrefix(f[4], abs+"/")) {
			points = append(points, f[4])
		}
	}
	sort.Slice(points, func(a, b int) bool { return len(points[a]) > len(points[b]) })
	for _, p := range points {
		_ = syscall.Unmount(p, syscall.MNT_DETACH)
	}
}

// startProcess starts one of the cluster's processes in the background unless its pid file
// names a running one.
func startProcess(o Options, what, pidFile, logFile string, args []string) error {
	if pid, ok := running(pidFile); ok {
		fmt.Fprintf(o.Progress, "%s already running (pid %d)\n", what, pid)
		return nil
	}
	fmt.Fprintf(o.Progress, "starting %s (logs: %s)\n", what, logFile)
	logf, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(o.Binary, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", what, err)
	}
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)), 0o600); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }()
	return nil
}
