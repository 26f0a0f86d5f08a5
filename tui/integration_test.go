package tui

import (
	"context"
	"io"
	"os/exec"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/testserver"
	"github.com/minik8s/minik8s/client"
)

// TestProgramOnRealAPIServer runs the real program headless against a real API server on a
// real embedded etcd, through ClientSource: the table follows the watch, a filter, a delete
// with confirmation, a drill-down with a field selector, a scale and an edit reach the API.
func TestProgramOnRealAPIServer(t *testing.T) {
	s := testserver.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := s.Client
	mkPod := func(name, app, nodeName string) {
		t.Helper()
		p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: name, Labels: map[string]string{"app": app}},
			Spec: api.PodSpec{NodeName: nodeName, Containers: []api.Container{{Name: "c", Image: "busybox:latest"}}}}
		if _, err := c.Pods("default").Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	mkPod("web-1", "web", "")
	mkPod("db-1", "db", "")
	replicas := int32(2)
	rs := &api.ReplicaSet{ObjectMeta: api.ObjectMeta{Name: "web"},
		Spec: api.ReplicaSetSpec{Replicas: &replicas, Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: api.PodTemplateSpec{ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "busybox:latest"}}}}}}
	if _, err := c.ReplicaSets("default").Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	ed, _ := editor(t, "s/replicas: 5/replicas: 6/")

	m := New(ctx, Options{Source: ClientSource{C: c}, Metrics: c, Server: c.Server(), Cluster: "test", Namespace: "default",
		Editor: ed, Exec: func(cmd *exec.Cmd, done tea.ExecCallback) tea.Cmd { return func() tea.Msg { return done(cmd.Run()) } }})
	in, keys := io.Pipe()
	out := &syncBuffer{}
	p := tea.NewProgram(m, tea.WithInput(in), tea.WithOutput(out), tea.WithoutSignals(), tea.WithContext(ctx))
	done := make(chan error, 1)
	go func() {
		_, err := p.Run()
		done <- err
	}()
	p.Send(tea.WindowSizeMsg{Width: 140, Height: 30})
	type_ := func(s string) {
		t.Helper()
		if _, err := keys.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}

	// do types keys and waits for the screen to show each of want since it typed them (in
	// any order: the renderer redraws only the lines that changed).
	do := func(keys string, want ...string) {
		t.Helper()
		mark := len(out.String())
		type_(keys)
		for _, w := range want {
			waitFor(t, out, mark, w)
		}
	}
	do("", "web-1", "db-1", "rows:2", "cluster:test")

	// A Pod created now appears: the table follows the watch.
	mark := len(out.String())
	mkPod("web-2", "web", "node-9")
	waitFor(t, out, mark, "rows:3")

	// Filter, then delete db-1 after confirming.
	do("/db\r", "filter:/db")
	do("\x04", "Delete pod/default/db-1?")
	do("y", "deleted pod/default/db-1", "rows:0")
	deadline := time.Now().Add(10 * time.Second)
	for {
		pods, _, err := c.Pods("default").List(ctx, client.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(pods) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("db-1 is still there: %d pods", len(pods))
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A node's Pods, by field selector: node-9 runs web-2 only.
	do("\x1b", "rows:2") // esc clears the filter
	if _, err := c.Nodes().Create(ctx, &api.Node{ObjectMeta: api.ObjectMeta{Name: "node-9"}}); err != nil {
		t.Fatal(err)
	}
	do(":no\r", "kind:nodes", "node-9")
	do("\r", "of:node/node-9", "web-2", "rows:1")
	do("\x1b", "kind:nodes")

	// Scale the ReplicaSet to 5, then edit it to 6.
	do(":rs\r", "kind:replicasets", "0/2")
	do("s", "Scale replicaset/default/web")
	do("\x7f5\r", "scaled replicaset/default/web to 5", "0/5")
	do("e", "edited replicaset/default/web", "0/6")
	got, err := c.ReplicaSets("default").Get(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	if *got.Spec.Replicas != 6 {
		t.Errorf("replicas %d after scale and edit, want 6", *got.Spec.Replicas)
	}

	// enter on the ReplicaSet opens its Pods.
	do("\r", "of:replicaset/web", "web-2", "rows:2")
	type_("q")
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("program: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("q did not quit the program")
	}
}

// TestUsageOnRealAPIServer reports usage as a kubelet does and reads it back in the header and
// the pulse view, from the API server's metrics endpoints.
func TestUsageOnRealAPIServer(t *testing.T) {
	s := testserver.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := s.Client
	n := &api.Node{ObjectMeta: api.ObjectMeta{Name: "node-1"}, Status: api.NodeStatus{
		Conditions:  []api.NodeCondition{{Type: api.NodeReady, Status: api.ConditionTrue}},
		Allocatable: api.ResourceList{api.ResourceCPU: api.MustParseQuantity("4"), api.ResourceMemory: api.MustParseQuantity("8Gi")}}}
	created, err := c.Nodes().Create(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	created.Status = n.Status
	if _, err := c.Nodes().UpdateStatus(ctx, created); err != nil {
		t.Fatal(err)
	}
	for _, milli := range []int64{500, 1000, 2000} {
		rep := &api.UsageReport{Node: api.NodeMetrics{ObjectMeta: api.ObjectMeta{Name: "node-1"}, Timestamp: api.NewTime(time.Now()),
			Window: api.Duration{Duration: 10 * time.Second},
			Usage:  api.ResourceList{api.ResourceCPU: api.NewMilliQuantity(milli), api.ResourceMemory: api.MustParseQuantity("1Gi")}}}
		if err := c.ReportUsage(ctx, rep); err != nil {
			t.Fatalf("report usage: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	m := New(ctx, Options{Source: ClientSource{C: c}, Metrics: c, Server: c.Server(), Namespace: "default", Resource: api.LookupResource("nodes")})
	in, keys := io.Pipe()
	out := &syncBuffer{}
	p := tea.NewProgram(m, tea.WithInput(in), tea.WithOutput(out), tea.WithoutSignals(), tea.WithContext(ctx))
	done := make(chan error, 1)
	go func() {
		_, err := p.Run()
		done <- err
	}()
	p.Send(tea.WindowSizeMsg{Width: 140, Height: 30})
	waitFor(t, out, 0, "nodes:1/1 ready")
	waitFor(t, out, 0, "cpu:2/4 (50%)")
	waitFor(t, out, 0, "mem:1.0Gi/8.0Gi (12%)")
	mark := len(out.String())
	if _, err := keys.Write([]byte("u")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, out, mark, "Pulse node/node-1")
	waitFor(t, out, mark, "now 2")
	if _, err := keys.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	mark = len(out.String())
	if _, err := keys.Write([]byte(":pods\r")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, out, mark, "kind:pods")
	if _, err := keys.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("program: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("q did not quit the program")
	}
}
