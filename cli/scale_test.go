package cli_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/testserver"
)

func createRS(t *testing.T, s *testserver.Server, name string, replicas int32) *api.ReplicaSet {
	t.Helper()
	rs := &api.ReplicaSet{
		ObjectMeta: api.ObjectMeta{Namespace: "default", Name: name, Labels: map[string]string{"tier": "front"}},
		Spec: api.ReplicaSetSpec{Replicas: &replicas, Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: api.PodTemplateSpec{ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "echo:latest"}}}}},
	}
	out, err := s.Client.ReplicaSets("default").Create(context.Background(), rs)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestScaleAndGetReplicaSets checks `scale` and `get rs` as a user sees them.
func TestScaleAndGetReplicaSets(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	rs := createRS(t, s, "web", 3)
	rs.Status = api.ReplicaSetStatus{Replicas: 2, ReadyReplicas: 1}
	if _, err := s.Client.ReplicaSets("default").UpdateStatus(ctx, rs); err != nil {
		t.Fatal(err)
	}

	out := mustRun(t, s, "get", "rs")
	if !regexp.MustCompile(`^NAME   REPLICAS   READY   AGE\nweb    2/3        1       \d+s\n$`).MatchString(out) {
		t.Fatalf("get rs:\n%s", out)
	}
	out = mustRun(t, s, "get", "rs", "-A", "-o", "wide", "--show-labels")
	if !regexp.MustCompile(`(?m)^NAMESPACE\s+NAME\s+REPLICAS\s+READY\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR\s+LABELS$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^default\s+web\s+2/3\s+1\s+\d+s\s+c\s+echo:latest\s+app=web\s+tier=front$`).MatchString(out) {
		t.Fatalf("get rs -A -o wide --show-labels:\n%s", out)
	}

	for _, args := range [][]string{{"rs", "web", "--replicas", "5"}, {"replicaset/web", "--replicas=5"}} {
		if out := mustRun(t, s, append([]string{"scale"}, args...)...); out != "replicaset.apps/web scaled\n" {
			t.Errorf("scale %v printed %q", args, out)
		}
	}
	got, err := s.Client.ReplicaSets("default").Get(ctx, "web")
	if err != nil || *got.Spec.Replicas != 5 || got.Generation != 2 {
		t.Fatalf("after scale: %v %+v", err, got)
	}
	if out := mustRun(t, s, "scale", "rs", "web", "--replicas", "0"); out != "replicaset.apps/web scaled\n" {
		t.Errorf("scale to 0 printed %q", out)
	}
	if got, _ := s.Client.ReplicaSets("default").Get(ctx, "web"); *got.Spec.Replicas != 0 {
		t.Errorf("replicas = %d, want 0", *got.Spec.Replicas)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"rs", "web", "--replicas", "-1"}, "--replicas must be 0 or more"},
		{[]string{"rs", "web"}, "--replicas=COUNT is required"},
		{[]string{"pod", "web", "--replicas", "2"}, "only replicasets can be scaled"},
		{[]string{"rs", "--replicas", "2"}, "say which replicaset"},
		{[]string{"rs", "nope", "--replicas", "2"}, "not found"},
	} {
		_, _, err := run(t, s, "", append([]string{"scale"}, tt.args...)...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("scale %v: %v, want an error with %q", tt.args, err, tt.want)
		}
	}
	if out := mustRun(t, s, "scale", "--help"); !strings.Contains(out, "minik8s scale rs web --replicas 5") {
		t.Errorf("scale --help lacks its example:\n%s", out)
	}
}

// TestDeleteReplicaSetCascadeOrphan checks that --cascade=orphan deletes the ReplicaSet and
// leaves its Pods without the owner reference, other owners kept.
func TestDeleteReplicaSetCascadeOrphan(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	rs := createRS(t, s, "web", 1)
	yes := true
	other := api.OwnerReference{APIVersion: "v1", Kind: "Service", Name: "x", UID: "other"}
	pod := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "web-1", Labels: map[string]string{"app": "web"},
		OwnerReferences: []api.OwnerReference{other, {APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web", UID: rs.UID, Controller: &yes}}},
		Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "echo:latest"}}}}
	if _, err := s.Client.Pods("default").Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run(t, s, "", "delete", "rs", "web", "--cascade=sideways"); err == nil || !strings.Contains(err.Error(), "--cascade must be") {
		t.Errorf("a bad --cascade: %v", err)
	}
	if out := mustRun(t, s, "delete", "rs", "web", "--cascade=orphan"); out != "replicaset \"web\" deleted\n" {
		t.Errorf("delete printed %q", out)
	}
	if _, err := s.Client.ReplicaSets("default").Get(ctx, "web"); err == nil {
		t.Error("the ReplicaSet is still there")
	}
	got, err := s.Client.Pods("default").Get(ctx, "web-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.OwnerReferences) != 1 || got.OwnerReferences[0].UID != "other" {
		t.Errorf("owner references = %+v", got.OwnerReferences)
	}
}
