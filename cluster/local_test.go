package cluster

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

func TestNodesPlan(t *testing.T) {
	o := Options{Dir: "/tmp/c", Nodes: 3, Name: "demo"}
	if err := o.defaults(); err != nil {
		t.Fatal(err)
	}
	ns := o.nodes()
	if len(ns) != 3 {
		t.Fatalf("%d nodes", len(ns))
	}
	want := []node{
		{Name: "node-1", IP: "198.18.0.11", NetNS: "demo-node-1", Veth: "mk8sv1", Dir: "/tmp/c/nodes/node-1"},
		{Name: "node-2", IP: "198.18.0.12", NetNS: "demo-node-2", Veth: "mk8sv2", Dir: "/tmp/c/nodes/node-2"},
		{Name: "node-3", IP: "198.18.0.13", NetNS: "demo-node-3", Veth: "mk8sv3", Dir: "/tmp/c/nodes/node-3"},
	}
	for i := range want {
		if ns[i] != want[i] {
			t.Errorf("node %d = %+v, want %+v", i, ns[i], want[i])
		}
	}
	if got := o.apiURL(); got != "https://198.18.0.11:6443" {
		t.Errorf("API URL %s", got)
	}
}

func TestOptionsRefused(t *testing.T) {
	for _, o := range []Options{
		{Dir: ""},
		{Dir: "/tmp/c", Nodes: 51},
		{Dir: "/tmp/c", Nodes: -1},
		{Dir: "/tmp/c", Name: "Bad_Name"},
		{Dir: "/tmp/c", Name: "-x"},
	} {
		if err := o.defaults(); err == nil {
			t.Errorf("%+v was accepted", o)
		}
	}
}

func TestKillShims(t *testing.T) {
	dir := t.TempDir()
	shim := filepath.Join(dir, "containerd-shim-fake")
	data, err := os.ReadFile("/bin/sh")
	if err != nil {
		t.Skip("no /bin/sh")
	}
	if err := os.WriteFile(shim, data, 0o755); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "containerd.sock")
	start := func(address string) *exec.Cmd {
		cmd := exec.Command(shim, "-c", "read x; :", "-address", address)
		if _, err := cmd.StdinPipe(); err != nil { // kept open: the shell waits on it
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd
	}
	mine, other := start(sock), start(sock+".other")
	if n := killShims(sock); n != 1 {
		t.Fatalf("killed %d shims, want the one of %s", n, sock)
	}
	if err := mine.Wait(); err == nil {
		t.Error("the shim of the socket is still running")
	}
	if err := other.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("the shim of another containerd was killed: %v", err)
	}
}
