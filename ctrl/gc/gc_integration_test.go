package gc_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/testserver"
	"github.com/minik8s/minik8s/client"
	"github.com/minik8s/minik8s/ctrl/gc"
	"github.com/minik8s/minik8s/ctrl/replicaset"
)

// TestDeleteReplicaSetDeletesItsPods runs the ReplicaSet controller and the collector: deleting
// a ReplicaSet takes its Pods, and only those; a ReplicaSet made again under the same name does
// not save the Pods of the old one.
func TestDeleteReplicaSetDeletesItsPods(t *testing.T) {
	s := testserver.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := s.Client
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	done := make(chan struct{}, 2)
	go func() { replicaset.New(c, log).Run(ctx, 2); done <- struct{}{} }()
	go func() { gc.New(c, log).Run(ctx); done <- struct{}{} }()
	t.Cleanup(func() { cancel(); <-done; <-done })

	n := int32(3)
	rs := &api.ReplicaSet{
		ObjectMeta: api.ObjectMeta{Namespace: "default", Name: "web"},
		Spec: api.ReplicaSetSpec{Replicas: &n, Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: api.PodTemplateSpec{ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "echo:latest"}}}}},
	}
	if _, err := c.ReplicaSets("default").Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	// A bystander: a Pod with an owner of a kind the collector does not know, and one without.
	yes := true
	for _, p := range []*api.Pod{
		{ObjectMeta: api.ObjectMeta{Name: "bystander", Labels: map[string]string{"app": "db"}}},
		{ObjectMeta: api.ObjectMeta{Name: "foreign", Labels: map[string]string{"app": "db"},
			OwnerReferences: []api.OwnerReference{{APIVersion: "example.com/v1", Kind: "Thing", Name: "x", UID: "u", Controller: &yes}}}},
	} {
		p.Spec.Containers = []api.Container{{Name: "c", Image: "echo:latest"}}
		if _, err := c.Pods("default").Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	waitCount(t, ctx, c, "app=web", 3)

	if err := c.ReplicaSets("default").Delete(ctx, "web", nil); err != nil {
		t.Fatal(err)
	}
	waitCount(t, ctx, c, "app=web", 0)
	waitCount(t, ctx, c, "app=db", 2)
}

func waitCount(t *testing.T, ctx context.Context, c *client.Client, sel string, n int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		pods, _, err := c.Pods("default").List(ctx, client.ListOptions{LabelSelector: sel})
		if err != nil {
			t.Fatal(err)
		}
		if len(pods) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d Pods with %s, want %d", len(pods), sel, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
