package nodelifecycle

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
)

var (
	now     = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	grace   = 10 * time.Second
	created = api.NewTime(now.Add(-time.Hour))
)

func ago(d time.Duration) api.Time { return api.NewTime(now.Add(-d)) }

func node(taints []api.Taint, conds ...api.NodeCondition) *api.Node {
	return &api.Node{
		ObjectMeta: api.ObjectMeta{Name: "node-1", UID: "uid-1", CreationTimestamp: created},
		Spec:       api.NodeSpec{PodCIDR: "10.244.1.0/24", Taints: taints},
		Status:     api.NodeStatus{Conditions: conds},
	}
}

func ready(status string, heartbeat, transition api.Time) api.NodeCondition {
	c := api.NodeCondition{Type: api.NodeReady, Status: status, LastHeartbeatTime: heartbeat, LastTransitionTime: transition}
	if status == api.ConditionTrue {
		c.Reason, c.Message = "KubeletReady", "kubelet is posting ready status"
	}
	return c
}

var (
	unreachable = api.Taint{Key: TaintUnreachable, Effect: TaintEffectNoSchedule}
	notReady    = api.Taint{Key: TaintNotReady, Effect: TaintEffectNoSchedule}
	dedicated   = api.Taint{Key: "dedicated", Value: "gpu", Effect: TaintEffectNoSchedule}
	// evictUnreachable is the NoExecute form of the unreachable taint, which this controller
	// does not manage: it is left alone.
	evictUnreachable = api.Taint{Key: TaintUnreachable, Effect: "NoExecute"}
)

// unknownReady is the Ready condition of a node whose kubelet stopped posting: heartbeat kept,
// transition now.
func unknownReady(heartbeat api.Time) api.NodeCondition {
	return api.NodeCondition{Type: api.NodeReady, Status: api.ConditionUnknown, Reason: ReasonNodeStatusUnknown,
		Message: MessageNodeStatusUnknown, LastHeartbeatTime: heartbeat, LastTransitionTime: api.NewTime(now)}
}

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name  string
		node  *api.Node
		probe time.Time // zero: the heartbeat decides
		want  Decision
	}{
		{
			name: "fresh heartbeat: nothing to do, look again when it goes stale",
			node: node(nil, ready(api.ConditionTrue, ago(3*time.Second), ago(time.Hour))),
			want: Decision{Deadline: now.Add(7 * time.Second)},
		},
		{
			name:  "the controller's own probe time counts, not the kubelet's clock",
			node:  node(nil, ready(api.ConditionTrue, ago(time.Minute), ago(time.Hour))),
			probe: now.Add(-4 * time.Second),
			want:  Decision{Deadline: now.Add(6 * time.Second)},
		},
		{
			name: "stale: Ready Unknown, heartbeat kept, and the unreachable taint",
			node: node([]api.Taint{dedicated}, ready(api.ConditionTrue, ago(11*time.Second), ago(time.Hour))),
			want: Decision{Stale: true, Conditions: []api.NodeCondition{unknownReady(ago(11 * time.Second))},
				Taints: []api.Taint{dedicated, unreachable}, TaintsChanged: true},
		},
		{
			name: "stale exactly at the deadline",
			node: node(nil, ready(api.ConditionTrue, ago(grace), ago(time.Hour))),
			want: Decision{Stale: true, Conditions: []api.NodeCondition{unknownReady(ago(grace))},
				Taints: []api.Taint{unreachable}, TaintsChanged: true},
		},
		{
			name: "stale: the other conditions become Unknown too",
			node: node(nil, api.NodeCondition{Type: "MemoryPressure", Status: api.ConditionFalse, Reason: "KubeletHasSufficientMemory"},
				ready(api.ConditionTrue, ago(time.Minute), ago(time.Hour))),
			want: Decision{Stale: true, Conditions: []api.NodeCondition{
				{Type: "MemoryPressure", Status: api.ConditionUnknown, Reason: ReasonNodeStatusUnknown, Message: MessageNodeStatusUnknown,
					LastTransitionTime: api.NewTime(now)},
				unknownReady(ago(time.Minute)),
			}, Taints: []api.Taint{unreachable}, TaintsChanged: true},
		},
		{
			name: "stale and marked already: nothing to do",
			node: node([]api.Taint{unreachable}, unknownReady(ago(time.Minute))),
			want: Decision{Stale: true},
		},
		{
			name: "stale and marked, but the taint was removed: it comes back",
			node: node([]api.Taint{dedicated}, unknownReady(ago(time.Minute))),
			want: Decision{Stale: true, Taints: []api.Taint{dedicated, unreachable}, TaintsChanged: true},
		},
		{
			name: "Ready again: the taint goes, the others stay in order",
			node: node([]api.Taint{unreachable, dedicated, evictUnreachable},
				ready(api.ConditionTrue, ago(time.Second), ago(time.Second))),
			want: Decision{Deadline: now.Add(9 * time.Second), Taints: []api.Taint{dedicated, evictUnreachable}, TaintsChanged: true},
		},
		{
			name:  "fresh but Unknown (a restarted controller): the taint is kept",
			node:  node([]api.Taint{unreachable}, unknownReady(ago(time.Hour))),
			probe: now,
			want:  Decision{Deadline: now.Add(grace)},
		},
		{
			name: "the kubelet says not ready: not-ready instead of unreachable",
			node: node([]api.Taint{unreachable}, ready(api.ConditionFalse, ago(time.Second), ago(time.Second))),
			want: Decision{Deadline: now.Add(9 * time.Second), Taints: []api.Taint{notReady}, TaintsChanged: true},
		},
		{
			name: "a duplicate taint is dropped",
			node: node([]api.Taint{unreachable, unreachable}, unknownReady(ago(time.Hour))),
			want: Decision{Stale: true, Taints: []api.Taint{unreachable}, TaintsChanged: true},
		},
		{
			name: "never reported, within grace of its creation: nothing yet",
			node: &api.Node{ObjectMeta: api.ObjectMeta{Name: "new", CreationTimestamp: ago(5 * time.Second)}},
			want: Decision{Deadline: now.Add(5 * time.Second)},
		},
		{
			name: "never reported, for grace since its creation",
			node: node(nil),
			want: Decision{Stale: true, Conditions: []api.NodeCondition{{Type: api.NodeReady, Status: api.ConditionUnknown,
				Reason: ReasonNodeStatusNeverUpdated, Message: MessageNodeStatusNeverUpdated,
				LastHeartbeatTime: created, LastTransitionTime: api.NewTime(now)}},
				Taints: []api.Taint{unreachable}, TaintsChanged: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := json.Marshal(tt.node)
			got := Evaluate(tt.node, tt.probe, now, grace)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Evaluate:\n got %+v\nwant %+v", got, tt.want)
			}
			if after, _ := json.Marshal(tt.node); string(after) != string(before) {
				t.Errorf("Evaluate changed the node:\n%s\n%s", before, after)
			}
		})
	}
}

// TestObserve checks the probe times the controller keeps: the first sight of a node, and
// each heartbeat it sees change, start its grace period by the controller's clock.
func TestObserve(t *testing.T) {
	c := &Controller{probes: map[string]*probe{}}
	n := node(nil, ready(api.ConditionTrue, ago(time.Hour), ago(time.Hour)))
	// A heartbeat an hour old on first sight (the control plane was down): grace starts now.
	if at, was := c.observe(n, now); !at.Equal(now) || was != "" {
		t.Errorf("first sight: probe %v, was %q; want now and \"\"", at, was)
	}
	// The same heartbeat later: the probe time stays.
	if at, was := c.observe(n, now.Add(5*time.Second)); !at.Equal(now) || was != api.ConditionTrue {
		t.Errorf("same heartbeat: probe %v, was %q; want %v and True", at, was, now)
	}
	// A new heartbeat: the probe time moves, whatever the heartbeat's own time says.
	n.Status.Conditions[0].LastHeartbeatTime = ago(30 * time.Minute)
	if at, _ := c.observe(n, now.Add(8*time.Second)); !at.Equal(now.Add(8 * time.Second)) {
		t.Errorf("new heartbeat: probe %v, want %v", at, now.Add(8*time.Second))
	}
	// The node deleted and made again under its name: a new node.
	n.UID = "uid-2"
	if at, was := c.observe(n, now.Add(9*time.Second)); !at.Equal(now.Add(9*time.Second)) || was != "" {
		t.Errorf("recreated node: probe %v, was %q", at, was)
	}
	// A node that never reported is timed from its creation.
	fresh := node(nil)
	fresh.Name = "node-2"
	if at, _ := c.observe(fresh, now); !at.Equal(created.Time) {
		t.Errorf("never reported: probe %v, want its creation %v", at, created)
	}
}
