package nodelifecycle_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/testserver"
	"github.com/minik8s/minik8s/client"
	"github.com/minik8s/minik8s/ctrl/nodelifecycle"
)

// fakeKubelet heartbeats a node as the kubelet does: read the Node, write its status with
// Ready=True and a fresh lastHeartbeatTime (keeping lastTransitionTime while it was True).
type fakeKubelet struct {
	t    *testing.T
	c    *client.Client
	name string

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
	last   api.Time // the last heartbeat written
}

func (k *fakeKubelet) beat(ctx context.Context) error {
	n, err := k.c.Nodes().Get(ctx, k.name)
	if err != nil {
		return err
	}
	now := api.Now()
	cond := api.NodeCondition{Type: api.NodeReady, Status: api.ConditionTrue, Reason: "KubeletReady",
		Message: "kubelet is posting ready status", LastHeartbeatTime: now, LastTransitionTime: now}
	for _, c := range n.Status.Conditions {
		if c.Type == api.NodeReady && c.Status == api.ConditionTrue {
			cond.LastTransitionTime = c.LastTransitionTime
		}
	}
	n.Status.Conditions = []api.NodeCondition{cond}
	if _, err := k.c.Nodes().UpdateStatus(ctx, n); err != nil {
		return err
	}
	k.mu.Lock()
	k.last = now
	k.mu.Unlock()
	return nil
}

// start heartbeats every 200 ms until stop; the first beat is written before it returns.
func (k *fakeKubelet) start(ctx context.Context) {
	k.t.Helper()
	if err := k.beat(ctx); err != nil {
		k.t.Fatalf("kubelet %s: first heartbeat: %v", k.name, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	k.cancel, k.done = cancel, make(chan struct{})
	go func() {
		defer close(k.done)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				_ = k.beat(ctx) // a conflict with the controller only loses one beat, as in the kubelet
			}
		}
	}()
}

// stop ends the heartbeats and returns once the last one is written.
func (k *fakeKubelet) stop() {
	k.cancel()
	<-k.done
}

func (k *fakeKubelet) lastBeat() api.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.last
}

func readyOf(n *api.Node) *api.NodeCondition {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == api.NodeReady {
			return &n.Status.Conditions[i]
		}
	}
	return nil
}

func hasTaint(n *api.Node, key string) bool {
	for _, t := range n.Spec.Taints {
		if t.Key == key && t.Effect == nodelifecycle.TaintEffectNoSchedule {
			return true
		}
	}
	return false
}

// waitFor polls cond every 50 ms until it holds or d passes; then it fails with describe().
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool, describe func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v, still not %s:\n%s", d, what, describe())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestNodeLifecycle(t *testing.T) {
	const grace = 2 * time.Second
	s := testserver.Start(t)
	c := s.Client
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	nodes := c.Nodes()
	for _, name := range []string{"steady", "flaky"} {
		if _, err := nodes.Create(ctx, &api.Node{ObjectMeta: api.ObjectMeta{Name: name},
			Spec: api.NodeSpec{Taints: []api.Taint{{Key: "dedicated", Value: name, Effect: "NoSchedule"}}}}); err != nil {
			t.Fatalf("create node %s: %v", name, err)
		}
	}
	steady := &fakeKubelet{t: t, c: c, name: "steady"}
	flaky := &fakeKubelet{t: t, c: c, name: "flaky"}
	steady.start(ctx)
	flaky.start(ctx)
	t.Cleanup(steady.stop)

	ctl := nodelifecycle.New(c, grace, slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})))
	done := make(chan struct{})
	go func() { ctl.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after its context ended")
		}
	})

	get := func(name string) *api.Node {
		n, err := nodes.Get(ctx, name)
		if err != nil {
			t.Fatalf("get node %s: %v", name, err)
		}
		return n
	}
	describe := func() string {
		var b strings.Builder
		for _, name := range []string{"steady", "flaky"} {
			n := get(name)
			fmt.Fprintf(&b, "  %s: conditions %+v taints %+v\n", name, n.Status.Conditions, n.Spec.Taints)
		}
		return b.String()
	}
	// steadyOK is what a node that keeps heartbeating looks like, whatever happens to the other.
	steadyOK := func() {
		t.Helper()
		n := get("steady")
		if r := readyOf(n); r == nil || r.Status != api.ConditionTrue || hasTaint(n, nodelifecycle.TaintUnreachable) {
			t.Fatalf("the node that heartbeats is not Ready, or tainted:\n%s", describe())
		}
	}

	// Both heartbeat for longer than the grace period: both stay Ready.
	until := time.Now().Add(grace + time.Second)
	for time.Now().Before(until) {
		steadyOK()
		if r := readyOf(get("flaky")); r == nil || r.Status != api.ConditionTrue {
			t.Fatalf("a node that heartbeats went NotReady:\n%s", describe())
		}
		time.Sleep(100 * time.Millisecond)
	}

	// flaky's kubelet stops: within grace + 2 s its Ready condition is Unknown, as Kubernetes
	// says it, and it is tainted unreachable; steady stays Ready throughout.
	flaky.stop()
	stopped := time.Now()
	lastBeat := flaky.lastBeat()
	waitFor(t, grace+2*time.Second, "flaky NotReady", func() bool {
		steadyOK()
		r := readyOf(get("flaky"))
		return r != nil && r.Status == api.ConditionUnknown
	}, describe)
	t.Logf("flaky NotReady %v after its last heartbeat", time.Since(stopped).Round(10*time.Millisecond))
	n := get("flaky")
	r := readyOf(n)
	if r.Reason != "NodeStatusUnknown" || r.Message != "Kubelet stopped posting node status." {
		t.Errorf("Ready condition %+v: want reason NodeStatusUnknown, message %q", r, "Kubelet stopped posting node status.")
	}
	if !r.LastHeartbeatTime.Equal(lastBeat.Time) {
		t.Errorf("lastHeartbeatTime %v, want the last heartbeat %v kept", r.LastHeartbeatTime, lastBeat)
	}
	if r.LastTransitionTime.Before(lastBeat.Time) {
		t.Errorf("lastTransitionTime %v is before the last heartbeat %v", r.LastTransitionTime, lastBeat)
	}
	if cells := api.TableCells(n, time.Now()); cells[2] != "NotReady" {
		t.Errorf("get nodes shows STATUS %q, want NotReady", cells[2])
	}
	waitFor(t, 5*time.Second, "flaky tainted unreachable", func() bool { return hasTaint(get("flaky"), nodelifecycle.TaintUnreachable) }, describe)
	if n := get("flaky"); len(n.Spec.Taints) != 2 || n.Spec.Taints[0].Key != "dedicated" {
		t.Errorf("flaky's own taint was not kept: %+v", n.Spec.Taints)
	}
	steadyOK()

	// The kubelet heartbeats again: its own write makes the node Ready, and the controller
	// removes the taint.
	flaky.start(ctx)
	t.Cleanup(flaky.stop)
	waitFor(t, 5*time.Second, "flaky Ready again without the unreachable taint", func() bool {
		n := get("flaky")
		r := readyOf(n)
		return r != nil && r.Status == api.ConditionTrue && !hasTaint(n, nodelifecycle.TaintUnreachable)
	}, describe)
	if n := get("flaky"); len(n.Spec.Taints) != 1 || n.Spec.Taints[0].Key != "dedicated" {
		t.Errorf("taints after recovery %+v, want only the node's own", n.Spec.Taints)
	}

	// Both transitions are Events on the node, as "describe node" shows them.
	waitFor(t, 5*time.Second, "NodeNotReady and NodeReady events for flaky", func() bool {
		evs, _, err := c.Events("default").List(ctx, client.ListOptions{FieldSelector: "involvedObject.kind=Node,involvedObject.name=flaky"})
		if err != nil {
			return false
		}
		seen := map[string]bool{}
		for _, e := range evs {
			if e.Source.Component == "node-controller" && e.Message == "Node flaky status is now: "+e.Reason {
				seen[e.Reason] = true
			}
		}
		return seen["NodeNotReady"] && seen["NodeReady"]
	}, func() string {
		evs, _, _ := c.Events("default").List(ctx, client.ListOptions{})
		var b strings.Builder
		for _, e := range evs {
			fmt.Fprintf(&b, "  %s %s/%s %s: %s (%s)\n", e.Type, e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Reason, e.Message, e.Source.Component)
		}
		return b.String()
	})
	steadyOK()
}
