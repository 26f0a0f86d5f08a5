package replicaset_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/testserver"
	"github.com/minik8s/minik8s/client"
	"github.com/minik8s/minik8s/ctrl/replicaset"
)

const ns = "rs"

type env struct {
	t   *testing.T
	ctx context.Context
	c   *client.Client
}

// with is e for a subtest: its failures are the subtest's.
func (e *env) with(t *testing.T) *env { return &env{t: t, ctx: e.ctx, c: e.c} }

func start(t *testing.T) *env {
	t.Helper()
	s := testserver.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	if _, err := s.Client.Namespaces().Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		replicaset.New(s.Client, slog.New(slog.NewTextHandler(io.Discard, nil))).Run(ctx, 2)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return &env{t: t, ctx: ctx, c: s.Client}
}

// pods returns the Pods of the namespace that are not being deleted, by name.
func (e *env) pods() []*api.Pod {
	e.t.Helper()
	all, _, err := e.c.Pods(ns).List(e.ctx, client.ListOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return slices.DeleteFunc(all, func(p *api.Pod) bool { return p.DeletionTimestamp != nil })
}

func names(pods []*api.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

// waitPods waits until the namespace holds n Pods, all controlled by rs, and returns them.
func (e *env) waitPods(rs *api.ReplicaSet, n int) []*api.Pod {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		pods := e.pods()
		owned := 0
		for _, p := range pods {
			if ref := p.ControllerOf(); ref != nil && ref.UID == rs.UID && ref.Kind == "ReplicaSet" && ref.APIVersion == "apps/v1" &&
				ref.BlockOwnerDeletion != nil && *ref.BlockOwnerDeletion {
				owned++
			}
		}
		if len(pods) == n && owned == n {
			return pods
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("want %d Pods owned by %s, have %d (%d owned): %v", n, rs.Name, len(pods), owned, names(pods))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitStatus waits until the ReplicaSet's status reads as want.
func (e *env) waitStatus(name string, want api.ReplicaSetStatus) {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		rs, err := e.c.ReplicaSets(ns).Get(e.ctx, name)
		if err != nil {
			e.t.Fatal(err)
		}
		if rs.Status == want {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("status = %+v, want %+v", rs.Status, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// steady checks that the Pod count stays n for a while: no overshoot, no late creates.
func (e *env) steady(n int) {
	e.t.Helper()
	for range 15 {
		if got := len(e.pods()); got != n {
			e.t.Fatalf("Pods went from %d to %d: %v", n, got, names(e.pods()))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// runReady reports the Pods Running and Ready, as a kubelet would.
func (e *env) runReady(pods []*api.Pod) {
	e.t.Helper()
	for _, p := range pods {
		p = api.DeepCopy(p)
		p.Status.Phase = api.PodRunning
		p.Status.Conditions = []api.PodCondition{{Type: api.PodReady, Status: api.ConditionTrue, LastTransitionTime: api.Now()}}
		if _, err := e.c.Pods(ns).UpdateStatus(e.ctx, p); err != nil {
			e.t.Fatalf("status of %s: %v", p.Name, err)
		}
	}
}

func (e *env) scale(name string, n int) {
	e.t.Helper()
	if _, err := e.c.ReplicaSets(ns).Patch(e.ctx, name, fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, n)); err != nil {
		e.t.Fatal(err)
	}
}

func webRS(replicas int32) *api.ReplicaSet {
	return &api.ReplicaSet{
		ObjectMeta: api.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: api.ReplicaSetSpec{
			Replicas: &replicas,
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: api.PodTemplateSpec{
				ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       api.PodSpec{Containers: []api.Container{{Name: "c", Image: "echo:latest"}}},
			},
		},
	}
}

func TestReplicaSet(t *testing.T) {
	e := start(t)
	rs, err := e.c.ReplicaSets(ns).Create(e.ctx, webRS(3))
	if err != nil {
		t.Fatal(err)
	}
	pods := e.waitPods(rs, 3)
	for _, p := range pods {
		if len(p.Name) <= len("web-") || p.Name[:4] != "web-" || p.Labels["app"] != "web" || p.Spec.Containers[0].Image != "echo:latest" {
			t.Errorf("pod %s from the template: %+v", p.Name, p.ObjectMeta)
		}
	}
	e.steady(3)
	e.waitStatus("web", api.ReplicaSetStatus{Replicas: 3, FullyLabeledReplicas: 3, ObservedGeneration: 1})
	e.runReady(pods)
	e.waitStatus("web", api.ReplicaSetStatus{Replicas: 3, FullyLabeledReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 3, ObservedGeneration: 1})

	t.Run("a deleted Pod is replaced", func(t *testing.T) {
		e := e.with(t)
		if err := e.c.Pods(ns).Delete(e.ctx, pods[0].Name, nil); err != nil {
			t.Fatal(err)
		}
		after := e.waitPods(rs, 3)
		if slices.Contains(names(after), pods[0].Name) {
			t.Fatalf("pods = %v", names(after))
		}
		e.steady(3)
	})

	t.Run("scale up and down", func(t *testing.T) {
		e := e.with(t)
		e.scale("web", 5)
		e.waitPods(rs, 5)
		e.steady(5)
		e.waitStatus("web", api.ReplicaSetStatus{Replicas: 5, FullyLabeledReplicas: 5, ReadyReplicas: 2, AvailableReplicas: 2, ObservedGeneration: 2})
		// Ready Pods are kept before unready ones.
		unready := slices.DeleteFunc(e.pods(), func(p *api.Pod) bool { return p.Status.Phase == api.PodRunning })
		e.runReady(unready[:1])
		e.waitStatus("web", api.ReplicaSetStatus{Replicas: 5, FullyLabeledReplicas: 5, ReadyReplicas: 3, AvailableReplicas: 3, ObservedGeneration: 2})
		e.scale("web", 1)
		left := e.waitPods(rs, 1)
		e.steady(1)
		if !slices.ContainsFunc(left[0].Status.Conditions, func(c api.PodCondition) bool { return c.Type == api.PodReady && c.Status == api.ConditionTrue }) {
			t.Errorf("the Pod kept is not a ready one: %+v", left[0].Status)
		}
		e.waitStatus("web", api.ReplicaSetStatus{Replicas: 1, FullyLabeledReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1, ObservedGeneration: 3})
	})

	t.Run("a matching orphan is adopted and, in excess, deleted", func(t *testing.T) {
		e := e.with(t)
		kept := e.pods()[0].Name
		orphan := &api.Pod{ObjectMeta: api.ObjectMeta{Namespace: ns, Name: "stray", Labels: map[string]string{"app": "web"}},
			Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "echo:latest"}}}}
		if _, err := e.c.Pods(ns).Create(e.ctx, orphan); err != nil {
			t.Fatal(err)
		}
		left := e.waitPods(rs, 1)
		if left[0].Name != kept {
			t.Fatalf("pods = %v, want [%s]", names(left), kept)
		}
		e.steady(1)
	})

	t.Run("an orphan that fits is adopted, not replaced", func(t *testing.T) {
		e := e.with(t)
		e.scale("web", 2)
		orphan := &api.Pod{ObjectMeta: api.ObjectMeta{Namespace: ns, Name: "fits", Labels: map[string]string{"app": "web"}},
			Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "echo:latest"}}}}
		if _, err := e.c.Pods(ns).Create(e.ctx, orphan); err != nil {
			t.Fatal(err)
		}
		e.waitPods(rs, 2)
		e.steady(2)
	})

	t.Run("a Pod whose labels change is released", func(t *testing.T) {
		e := e.with(t)
		p := api.DeepCopy(e.pods()[0])
		p.Labels = map[string]string{"app": "debug"}
		if _, err := e.c.Pods(ns).Update(e.ctx, p); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(15 * time.Second)
		for {
			got, err := e.c.Pods(ns).Get(e.ctx, p.Name)
			if err != nil {
				t.Fatal(err)
			}
			if got.ControllerOf() == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("pod %s still owned: %+v", p.Name, got.OwnerReferences)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err := e.c.Pods(ns).Delete(e.ctx, p.Name, nil); err != nil {
			t.Fatal(err)
		}
		e.waitPods(rs, 2)
	})

	t.Run("template labels must match the selector", func(t *testing.T) {
		e := e.with(t)
		bad := webRS(1)
		bad.Name = "bad"
		bad.Spec.Template.Labels = map[string]string{"app": "other"}
		_, err := e.c.ReplicaSets(ns).Create(e.ctx, bad)
		var se *client.StatusError
		if !client.IsInvalid(err) || !asStatus(err, &se) || se.Status.Code != 400 {
			t.Fatalf("create with mismatched labels: %v", err)
		}
	})
}

func asStatus(err error, se **client.StatusError) bool {
	s, ok := err.(*client.StatusError)
	*se = s
	return ok
}
