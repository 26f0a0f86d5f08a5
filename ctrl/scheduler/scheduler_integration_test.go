package scheduler_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/testserver"
	"github.com/minik8s/minik8s/client"
	"github.com/minik8s/minik8s/ctrl/scheduler"
)

// createNode makes a Ready node as a kubelet would: the object, then its status.
func createNode(t *testing.T, ctx context.Context, c *client.Client, name, cpu string) {
	t.Helper()
	n, err := c.Nodes().Create(ctx, &api.Node{ObjectMeta: api.ObjectMeta{Name: name,
		Labels: map[string]string{"kubernetes.io/hostname": name}}})
	if err != nil {
		t.Fatalf("create node %s: %v", name, err)
	}
	alloc := api.ResourceList{api.ResourceCPU: api.MustParseQuantity(cpu), api.ResourceMemory: api.MustParseQuantity("4Gi"),
		api.ResourcePods: api.MustParseQuantity("110")}
	n.Status = api.NodeStatus{Capacity: alloc, Allocatable: alloc, Conditions: []api.NodeCondition{{
		Type: api.NodeReady, Status: api.ConditionTrue, Reason: "KubeletReady", LastHeartbeatTime: api.Now(), LastTransitionTime: api.Now()}}}
	if _, err := c.Nodes().UpdateStatus(ctx, n); err != nil {
		t.Fatalf("node %s status: %v", name, err)
	}
}

func newPod(name, cpu string, owner *api.OwnerReference) *api.Pod {
	p := &api.Pod{
		ObjectMeta: api.ObjectMeta{Name: name, Labels: map[string]string{"app": "web"}},
		Spec: api.PodSpec{Containers: []api.Container{{Name: "web", Image: "busybox:latest",
			Resources: api.ResourceRequirements{Requests: api.ResourceList{
				api.ResourceCPU: api.MustParseQuantity(cpu), api.ResourceMemory: api.MustParseQuantity("64Mi")}}}}},
	}
	if owner != nil {
		p.OwnerReferences = []api.OwnerReference{*owner}
	}
	return p
}

// eventually polls cond every 50 ms until it holds or the deadline passes; then it fails with
// what describe() says.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool, describe func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v, still not %s:\n%s", d, what, describe())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSchedulerBindsAndReportsUnschedulable(t *testing.T) {
	s := testserver.Start(t)
	c := s.Client
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for _, n := range []string{"node-a", "node-b", "node-c"} {
		createNode(t, ctx, c, n, "2")
	}
	sched := scheduler.New(c, slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})))
	done := make(chan struct{})
	go func() { sched.Run(ctx, 4); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after its context ended")
		}
	})

	pods := c.Pods("default")
	yes := true
	owner := &api.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web", UID: "6b1f4e1c-rs-web", Controller: &yes}
	for i := range 6 {
		if _, err := pods.Create(ctx, newPod(fmt.Sprintf("web-%d", i), "100m", owner)); err != nil {
			t.Fatal(err)
		}
	}
	var placement map[string]int
	listPods := func() string {
		list, _, err := pods.List(ctx, client.ListOptions{})
		if err != nil {
			return err.Error()
		}
		var b strings.Builder
		for _, p := range list {
			fmt.Fprintf(&b, "  %s node=%q phase=%s conditions=%+v\n", p.Name, p.Spec.NodeName, p.Status.Phase, p.Status.Conditions)
		}
		return b.String()
	}
	eventually(t, 20*time.Second, "all 6 pods bound", func() bool {
		list, _, err := pods.List(ctx, client.ListOptions{LabelSelector: "app=web"})
		if err != nil {
			return false
		}
		placement = map[string]int{}
		for _, p := range list {
			if p.Spec.NodeName == "" {
				return false
			}
			placement[p.Spec.NodeName]++
		}
		return len(list) == 6
	}, listPods)
	if want := map[string]int{"node-a": 2, "node-b": 2, "node-c": 2}; !maps.Equal(placement, want) {
		t.Errorf("placement %v, want %v", placement, want)
	}

	events := func() []*api.Event {
		list, _, err := c.Events("default").List(ctx, client.ListOptions{})
		if err != nil {
			t.Fatalf("list events: %v", err)
		}
		return list
	}
	describeEvents := func() string {
		var b strings.Builder
		for _, e := range events() {
			fmt.Fprintf(&b, "  %s %s %s/%s: %s (x%d, from %s)\n", e.Type, e.Reason, e.InvolvedObject.Kind, e.InvolvedObject.Name,
				e.Message, e.Count, e.Source.Component)
		}
		return b.String()
	}
	web0, err := pods.Get(ctx, "web-0")
	if err != nil {
		t.Fatal(err)
	}
	wantScheduled := fmt.Sprintf("Successfully assigned default/web-0 to %s", web0.Spec.NodeName)
	eventually(t, 10*time.Second, "a Scheduled event for web-0", func() bool {
		for _, e := range events() {
			if e.Reason == "Scheduled" && e.Type == api.EventTypeNormal && e.InvolvedObject.Kind == "Pod" &&
				e.InvolvedObject.Name == "web-0" && e.Message == wantScheduled && e.Source.Component == "default-scheduler" {
				return true
			}
		}
		return false
	}, describeEvents)

	// A pod that fits nowhere: each node has 2 cpus, less the 200m already placed.
	if _, err := pods.Create(ctx, newPod("big", "3", nil)); err != nil {
		t.Fatal(err)
	}
	const wantMsg = "0/3 nodes are available: 3 Insufficient cpu."
	eventually(t, 10*time.Second, "big marked unschedulable", func() bool {
		p, err := pods.Get(ctx, "big")
		if err != nil || p.Spec.NodeName != "" || p.Status.Phase != api.PodPending {
			return false
		}
		for _, c := range p.Status.Conditions {
			if c.Type == api.PodScheduled && c.Status == api.ConditionFalse && c.Reason == "Unschedulable" && c.Message == wantMsg {
				return true
			}
		}
		return false
	}, listPods)
	eventually(t, 10*time.Second, "a FailedScheduling event for big", func() bool {
		for _, e := range events() {
			if e.Reason == "FailedScheduling" && e.Type == api.EventTypeWarning && e.InvolvedObject.Name == "big" &&
				e.Message == wantMsg && e.Source.Component == "default-scheduler" {
				return true
			}
		}
		return false
	}, describeEvents)
	// The retry after the back-off (1 s) fails the same way: the same Event counts it.
	eventually(t, 10*time.Second, "the FailedScheduling event for big counted twice, and only one such event", func() bool {
		n, count := 0, int32(0)
		for _, e := range events() {
			if e.Reason == "FailedScheduling" && e.InvolvedObject.Name == "big" {
				n, count = n+1, e.Count
			}
		}
		return n == 1 && count >= 2
	}, describeEvents)

	// A node that can take it arrives: the pending pod is tried again at once, not after its
	// back-off, and lands there.
	createNode(t, ctx, c, "node-d", "4")
	eventually(t, 10*time.Second, "big bound to node-d", func() bool {
		p, err := pods.Get(ctx, "big")
		return err == nil && p.Spec.NodeName == "node-d"
	}, listPods)
	eventually(t, 10*time.Second, "big's PodScheduled condition True", func() bool {
		p, err := pods.Get(ctx, "big")
		if err != nil {
			return false
		}
		for _, c := range p.Status.Conditions {
			if c.Type == api.PodScheduled {
				return c.Status == api.ConditionTrue
			}
		}
		return false
	}, listPods)
}
