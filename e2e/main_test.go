//go:build e2e

// Package e2e tests minik8s as its users run it: the real binary, a real local cluster started
// with `minik8s cluster up`, and the CLI (and Kubernetes' own kubectl) driving it.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// env is the cluster every test shares.
var env struct {
	bin        string // the minik8s binary
	dir        string // the cluster's directory
	config     string // the admin's client config
	repo       string // the repository root (for fixtures)
	listenAddr string
	upArgs     []string // the arguments of `cluster up`, for tests that restart the control plane
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	wd, _ := os.Getwd()
	env.repo = filepath.Dir(wd)
	env.bin = os.Getenv("MINIK8S_BIN")
	tmp, err := os.MkdirTemp("", "minik8s-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	if env.bin == "" {
		env.bin = filepath.Join(tmp, "minik8s")
		build := exec.Command("go", "build", "-o", env.bin, "./cmd/minik8s")
		build.Dir = env.repo
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build minik8s:", err)
			return 1
		}
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "the e2e tests run real containers and networks: run them as root (sudo make test-e2e)")
		return 1
	}
	images := os.Getenv("MINIK8S_IMAGES")
	if images == "" {
		images = filepath.Join(tmp, "images")
		build := exec.Command("go", "run", "./cmd/mkimage", "--out", images, "--minik8s", env.bin)
		build.Dir = env.repo
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build images:", err)
			return 1
		}
	}
	env.dir = filepath.Join(tmp, "cluster")
	env.listenAddr = "198.18.0.11:6443"
	env.config = filepath.Join(tmp, "config")
	env.upArgs = []string{"--dir", env.dir, "--nodes", "3", "--config-out", env.config,
		"--node-arg=--restart-backoff=1s", "--node-arg=--heartbeat-interval=2s", "--server-arg=--node-grace-period=6s",
		"--node-arg=--metrics-interval=2s", "--server-arg=--hpa-sync-period=5s"}
	up := exec.Command(env.bin, append([]string{"cluster", "up", "--images", images}, env.upArgs...)...)
	up.Stdout, up.Stderr = os.Stderr, os.Stderr
	if err := up.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "cluster up:", err)
		dumpLogs()
		down := exec.Command(env.bin, "cluster", "down", "--dir", env.dir, "--purge")
		down.Stdout, down.Stderr = os.Stderr, os.Stderr
		_ = down.Run()
		return 1
	}
	os.Setenv("MINIK8S_CONFIG", env.config)
	code := m.Run()
	if code != 0 {
		dumpLogs()
	}
	down := exec.Command(env.bin, "cluster", "down", "--dir", env.dir, "--purge")
	down.Stdout, down.Stderr = os.Stderr, os.Stderr
	if err := down.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "cluster down:", err)
		code = 1
	}
	// `cluster down` leaves the machine as it was.
	if left := leftovers(); left != "" {
		fmt.Fprintf(os.Stderr, "cluster down left this behind:\n%s\n", left)
		code = 1
	}
	return code
}

func dumpLogs() {
	logs, _ := filepath.Glob(filepath.Join(env.dir, "nodes", "*", "kubelet.log"))
	for _, f := range append([]string{filepath.Join(env.dir, "server.log")}, logs...) {
		fmt.Fprintf(os.Stderr, "--- last lines of %s:\n%s\n", f, lastLines(f, 40))
	}
}

// nodeDir is where the local cluster keeps a node's files.
func nodeDir(node string) string { return filepath.Join(env.dir, "nodes", node) }

func lastLines(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// result is what a command printed.
type result struct {
	stdout, stderr string
	err            error
}

func (r result) String() string {
	return fmt.Sprintf("err: %v\nstdout:\n%s\nstderr:\n%s", r.err, r.stdout, r.stderr)
}

// minik8s runs the CLI with a deadline.
func minik8s(t *testing.T, args ...string) result {
	t.Helper()
	return runCmd(t, env.bin, nil, args...)
}

func runCmd(t *testing.T, bin string, stdin []byte, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = env.repo
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	return result{out.String(), errb.String(), err}
}

// mustRun runs the CLI and fails the test if it fails.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	r := minik8s(t, args...)
	if r.err != nil {
		t.Fatalf("minik8s %s failed:\n%s", strings.Join(args, " "), r)
	}
	return r.stdout
}

// namespace makes a namespace for one test and deletes it (and everything in it) afterwards,
// even when the test fails.
func namespace(t *testing.T) string {
	t.Helper()
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if len(name) > 50 {
		name = name[:50]
	}
	name = strings.Trim(name, "-") + fmt.Sprintf("-%d", time.Now().UnixNano()%100000)
	mustRun(t, "create", "namespace", name)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("objects in %s:\n%s", name, minik8s(t, "get", "pods,svc,rs,ep,secrets,events", "-n", name, "-o", "wide").stdout)
			logs, _ := filepath.Glob(filepath.Join(env.dir, "nodes", "*", "kubelet.log"))
			for _, l := range logs {
				t.Logf("last lines of %s:\n%s", l, lastLines(l, 80))
			}
		}
		r := minik8s(t, "delete", "namespace", name, "--timeout", "60s")
		if r.err != nil {
			t.Errorf("clean up namespace %s:\n%s", name, r)
		}
	})
	return name
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; last state:\n%s", timeout, what, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func fixture(name string) string { return filepath.Join(env.repo, "fixtures", name) }

// leftovers lists what of a local cluster is still on the machine: network namespaces, links,
// routes, iptables rules, mounts, processes.
func leftovers() string {
	var out []string
	if b, _ := exec.Command("ip", "netns", "list").Output(); strings.Contains(string(b), "minik8s-") {
		out = append(out, "network namespaces:\n"+string(b))
	}
	if b, _ := exec.Command("ip", "-o", "link").Output(); strings.Contains(string(b), "mk8s") {
		out = append(out, "links:\n"+string(b))
	}
	if b, _ := exec.Command("ip", "route").Output(); strings.Contains(string(b), "10.244.") || strings.Contains(string(b), "10.96.") || strings.Contains(string(b), "198.18.") {
		out = append(out, "routes:\n"+string(b))
	}
	if b, _ := exec.Command("iptables-save").Output(); strings.Contains(string(b), "mk8s") || strings.Contains(string(b), "CNI-") {
		out = append(out, "iptables rules mention the cluster")
	}
	if b, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(b), env.dir) {
		out = append(out, "mounts under "+env.dir)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), env.dir) {
			out = append(out, "process "+p+": "+strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return strings.Join(out, "\n")
}
