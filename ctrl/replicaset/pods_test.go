package replicaset

import (
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
)

var t0 = time.Date(2025, 1, 2, 15, 0, 0, 0, time.UTC)

func testRS() *api.ReplicaSet {
	n := int32(3)
	return &api.ReplicaSet{
		ObjectMeta: api.ObjectMeta{Namespace: "default", Name: "web", UID: "rs-uid", Generation: 4},
		Spec: api.ReplicaSetSpec{Replicas: &n, Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: api.PodTemplateSpec{ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": "web", "tier": "front"}},
				Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "echo:1"}}}}},
	}
}

type podOpt func(*api.Pod)

func mkPod(name string, opts ...podOpt) *api.Pod {
	p := &api.Pod{ObjectMeta: api.ObjectMeta{Namespace: "default", Name: name, UID: name + "-uid",
		Labels: map[string]string{"app": "web"}, CreationTimestamp: api.NewTime(t0)}}
	for _, o := range opts {
		o(p)
	}
	return p
}

func onNode(p *api.Pod)  { p.Spec.NodeName = "n1" }
func running(p *api.Pod) { p.Status.Phase = api.PodRunning }
func readyAt(at time.Time) podOpt {
	return func(p *api.Pod) {
		p.Status.Conditions = []api.PodCondition{{Type: api.PodReady, Status: api.ConditionTrue, LastTransitionTime: api.NewTime(at)}}
	}
}
func createdAt(at time.Time) podOpt {
	return func(p *api.Pod) { p.CreationTimestamp = api.NewTime(at) }
}
func phase(ph string) podOpt { return func(p *api.Pod) { p.Status.Phase = ph } }
func labels(l map[string]string) podOpt {
	return func(p *api.Pod) { p.Labels = l }
}
func ownedByRS(uid string) podOpt {
	return func(p *api.Pod) {
		yes := true
		p.OwnerReferences = []api.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web", UID: uid, Controller: &yes}}
	}
}
func deleting(p *api.Pod) { now := api.NewTime(t0); p.DeletionTimestamp = &now }

func TestDiff(t *testing.T) {
	tests := []struct {
		active, pending, want, diff int
	}{
		{0, 0, 3, 3},
		{3, 0, 3, 0},
		{1, 2, 3, 0}, // two created, not in the cache yet: no more
		{1, 1, 3, 1},
		{5, 0, 1, -4},
		{2, 1, 0, -3}, // scaled to 0 while creates are in flight: delete what exists, the rest follows
	}
	for _, tt := range tests {
		if got := diff(tt.active, tt.pending, tt.want); got != tt.diff {
			t.Errorf("diff(%d active, %d pending, want %d) = %d, want %d", tt.active, tt.pending, tt.want, got, tt.diff)
		}
	}
}

func TestRankForDeletion(t *testing.T) {
	pods := []*api.Pod{
		mkPod("ready-old", onNode, running, readyAt(t0.Add(-time.Hour)), createdAt(t0.Add(-2*time.Hour))),
		mkPod("ready-recent", onNode, running, readyAt(t0.Add(-time.Minute)), createdAt(t0.Add(-3*time.Hour))),
		mkPod("running-unready", onNode, running),
		mkPod("pending-scheduled", onNode),
		mkPod("unscheduled-old", createdAt(t0.Add(-time.Hour))),
		mkPod("unscheduled-new", createdAt(t0)),
		mkPod("unknown", onNode, phase(api.PodUnknown)),
	}
	want := []string{"unscheduled-new", "unscheduled-old", "pending-scheduled", "unknown", "running-unready", "ready-recent", "ready-old"}
	got := rankForDeletion(pods, len(pods))
	for i := range want {
		if got[i].Name != want[i] {
			var names []string
			for _, p := range got {
				names = append(names, p.Name)
			}
			t.Fatalf("order = %v, want %v", names, want)
		}
	}
	if got := rankForDeletion(pods, 2); len(got) != 2 || got[0].Name != "unscheduled-new" {
		t.Errorf("first two = %v", got)
	}
	restartsA := mkPod("a", onNode, running)
	restartsA.Status.ContainerStatuses = []api.ContainerStatus{{RestartCount: 5}}
	if got := rankForDeletion([]*api.Pod{mkPod("b", onNode, running), restartsA}, 1); got[0].Name != "a" {
		t.Errorf("with equal rank, the Pod with more restarts goes first; got %s", got[0].Name)
	}
}

func TestAdoptionRules(t *testing.T) {
	rs := testRS()
	sel, _ := api.LabelSelectorAsSelector(rs.Spec.Selector)
	other := mkPod("x")
	other.Namespace = "other"
	beingDeleted := testRS()
	now := api.NewTime(t0)
	beingDeleted.DeletionTimestamp = &now
	tests := []struct {
		name           string
		rs             *api.ReplicaSet
		pod            *api.Pod
		adopt, release bool
	}{
		{"matching orphan", rs, mkPod("p"), true, false},
		{"orphan, other labels", rs, mkPod("p", labels(map[string]string{"app": "db"})), false, false},
		{"orphan in another namespace", rs, other, false, false},
		{"orphan being deleted", rs, mkPod("p", onNode, deleting), false, false},
		{"orphan that succeeded", rs, mkPod("p", phase(api.PodSucceeded)), false, false},
		{"orphan that failed", rs, mkPod("p", phase(api.PodFailed)), false, false},
		{"owned by another controller", rs, mkPod("p", ownedByRS("other-uid")), false, false},
		{"owned and matching", rs, mkPod("p", ownedByRS("rs-uid")), false, false},
		{"owned, labels changed", rs, mkPod("p", ownedByRS("rs-uid"), labels(map[string]string{"app": "debug"})), false, true},
		{"replicaset being deleted", beingDeleted, mkPod("p"), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := canAdopt(tt.rs, sel, tt.pod); got != tt.adopt {
				t.Errorf("canAdopt = %v, want %v", got, tt.adopt)
			}
			if got := mustRelease(tt.rs, sel, tt.pod); got != tt.release {
				t.Errorf("mustRelease = %v, want %v", got, tt.release)
			}
		})
	}
}

func TestCalculateStatus(t *testing.T) {
	rs := testRS()
	rs.Spec.MinReadySeconds = 30
	pods := []*api.Pod{
		mkPod("full-ready-long", running, readyAt(t0.Add(-time.Minute)), labels(map[string]string{"app": "web", "tier": "front"})),
		mkPod("ready-short", running, readyAt(t0.Add(-10*time.Second))),
		mkPod("starting"),
	}
	got := calculateStatus(rs, pods, t0)
	want := api.ReplicaSetStatus{Replicas: 3, FullyLabeledReplicas: 1, ReadyReplicas: 2, AvailableReplicas: 1, ObservedGeneration: 4}
	if got != want {
		t.Errorf("status = %+v, want %+v", got, want)
	}
}

func TestNewPod(t *testing.T) {
	rs := testRS()
	p := newPod(rs)
	if p.GenerateName != "web-" || p.Name != "" || p.Namespace != "default" || p.Labels["tier"] != "front" ||
		len(p.Spec.Containers) != 1 || !ownedBy(p, rs) || *p.OwnerReferences[0].BlockOwnerDeletion != true {
		t.Fatalf("pod = %+v", p)
	}
	p.Labels["x"] = "y"
	p.Spec.Containers[0].Image = "changed"
	if rs.Spec.Template.Labels["x"] != "" || rs.Spec.Template.Spec.Containers[0].Image != "echo:1" {
		t.Error("the new Pod shares memory with the template")
	}
}
