//go:build e2e

// Package e2e tests minik8s as its users run it: the real binary, a real local cluster started
// with `minik8s cluster up`, and the CLI (and Kubernetes' own kubectl) driving it.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
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
	env.listenAddr = fmt.Sprintf("127.0.0.1:%d", freePort())
	etcdPort := freePortPair()
	env.config = filepath.Join(tmp, "config")
	env.upArgs = []string{"--dir", env.dir, "--listen", env.listenAddr, "--etcd-port", fmt.Sprint(etcdPort),
		"--config-out", env.config, "--kubelet-port", fmt.Sprint(freePort()),
		"--node-arg=--restart-backoff=1s", "--node-arg=--heartbeat-interval=2s"}
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
	defer func() {
		down := exec.Command(env.bin, "cluster", "down", "--dir", env.dir, "--purge")
		down.Stdout, down.Stderr = os.Stderr, os.Stderr
		_ = down.Run()
	}()
	os.Setenv("MINIK8S_CONFIG", env.config)
	code := m.Run()
	if code != 0 {
		dumpLogs()
	}
	return code
}

func dumpLogs() {
	for _, f := range []string{"server.log", "node.log"} {
		fmt.Fprintf(os.Stderr, "--- last lines of %s:\n%s\n", f, lastLines(filepath.Join(env.dir, f), 40))
	}
}

func lastLines(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// freePortPair returns a port p such that p and p+1 are free (etcd's client and peer ports).
func freePortPair() int {
	for i := 0; i < 50; i++ {
		p := freePort()
		if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+1)); err == nil {
			l.Close()
			return p
		}
	}
	panic("no two free ports in a row")
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
			t.Logf("last lines of the node's log:\n%s", lastLines(filepath.Join(env.dir, "node.log"), 30))
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
