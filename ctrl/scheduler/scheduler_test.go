package scheduler

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
)

// node returns a Ready node with the given allocatable cpu, memory and pods.
func node(name, cpu, mem, pods string, opts ...func(*api.Node)) *api.Node {
	n := &api.Node{
		ObjectMeta: api.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
		Status: api.NodeStatus{
			Allocatable: api.ResourceList{
				api.ResourceCPU: api.MustParseQuantity(cpu), api.ResourceMemory: api.MustParseQuantity(mem),
				api.ResourcePods: api.MustParseQuantity(pods),
			},
			Conditions: []api.NodeCondition{{Type: api.NodeReady, Status: api.ConditionTrue}},
		},
	}
	for _, o := range opts {
		o(n)
	}
	return n
}

func notReady(n *api.Node)     { n.Status.Conditions[0].Status = api.ConditionFalse }
func noConditions(n *api.Node) { n.Status.Conditions = nil }
func cordoned(n *api.Node)     { n.Spec.Unschedulable = true }
func labelled(k, v string) func(*api.Node) {
	return func(n *api.Node) { n.Labels[k] = v }
}
func tainted(key, value, effect string) func(*api.Node) {
	return func(n *api.Node) {
		n.Spec.Taints = append(n.Spec.Taints, api.Taint{Key: key, Value: value, Effect: effect})
	}
}

// pod returns a Pod in "default" with one container requesting cpu and memory ("" for none).
func pod(name, cpu, mem string, opts ...func(*api.Pod)) *api.Pod {
	req := api.ResourceList{}
	if cpu != "" {
		req[api.ResourceCPU] = api.MustParseQuantity(cpu)
	}
	if mem != "" {
		req[api.ResourceMemory] = api.MustParseQuantity(mem)
	}
	p := &api.Pod{
		ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default", UID: "uid-" + name},
		Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "busybox",
			Resources: api.ResourceRequirements{Requests: req}}}},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func on(node string) func(*api.Pod) { return func(p *api.Pod) { p.Spec.NodeName = node } }
func phase(ph string) func(*api.Pod) {
	return func(p *api.Pod) { p.Status.Phase = ph }
}
func selector(k, v string) func(*api.Pod) {
	return func(p *api.Pod) { p.Spec.NodeSelector = map[string]string{k: v} }
}
func tolerates(t api.Toleration) func(*api.Pod) {
	return func(p *api.Pod) { p.Spec.Tolerations = append(p.Spec.Tolerations, t) }
}
func ownedBy(uid string) func(*api.Pod) {
	yes := true
	return func(p *api.Pod) {
		p.OwnerReferences = []api.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs-" + uid, UID: uid, Controller: &yes}}
	}
}
func withLabels(kv ...string) func(*api.Pod) {
	return func(p *api.Pod) {
		p.Labels = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			p.Labels[kv[i]] = kv[i+1]
		}
	}
}
func initContainer(cpu string) func(*api.Pod) {
	return func(p *api.Pod) {
		p.Spec.InitContainers = append(p.Spec.InitContainers, api.Container{Name: "init", Image: "busybox",
			Resources: api.ResourceRequirements{Requests: api.ResourceList{api.ResourceCPU: api.MustParseQuantity(cpu)}}})
	}
}

func TestScheduleFilters(t *testing.T) {
	tests := []struct {
		name  string
		pod   *api.Pod
		nodes []*api.Node
		pods  []*api.Pod
		want  string // the node, or "error: MESSAGE"
	}{
		{
			name:  "cpu: the node with room",
			pod:   pod("p", "500m", ""),
			nodes: []*api.Node{node("a", "1", "4Gi", "110"), node("b", "1", "4Gi", "110")},
			pods:  []*api.Pod{pod("x", "600m", "", on("a"))},
			want:  "b",
		},
		{
			name:  "cpu: an exact fit fits",
			pod:   pod("p", "400m", ""),
			nodes: []*api.Node{node("a", "1", "4Gi", "110")},
			pods:  []*api.Pod{pod("x", "600m", "", on("a"))},
			want:  "a",
		},
		{
			name:  "memory: the node with room",
			pod:   pod("p", "", "1Gi"),
			nodes: []*api.Node{node("a", "1", "2Gi", "110"), node("b", "1", "2Gi", "110")},
			pods:  []*api.Pod{pod("x", "", "1536Mi", on("b"))},
			want:  "a",
		},
		{
			name:  "pods: a full node is skipped",
			pod:   pod("p", "", ""),
			nodes: []*api.Node{node("a", "4", "4Gi", "1"), node("b", "4", "4Gi", "2")},
			pods:  []*api.Pod{pod("x", "", "", on("a")), pod("y", "", "", on("b"))},
			want:  "b",
		},
		{
			name:  "terminated pods hold nothing",
			pod:   pod("p", "1", "1Gi"),
			nodes: []*api.Node{node("a", "1", "1Gi", "1")},
			pods:  []*api.Pod{pod("x", "1", "1Gi", on("a"), phase(api.PodSucceeded)), pod("y", "1", "1Gi", on("a"), phase(api.PodFailed))},
			want:  "a",
		},
		{
			name:  "running and pending pods hold their requests",
			pod:   pod("p", "1", ""),
			nodes: []*api.Node{node("a", "2", "1Gi", "110")},
			pods:  []*api.Pod{pod("x", "500m", "", on("a"), phase(api.PodRunning)), pod("y", "500m", "", on("a"), phase(api.PodPending))},
			want:  "a",
		},
		{
			name:  "containers without requests count as 0",
			pod:   pod("p", "1", "1Gi"),
			nodes: []*api.Node{node("a", "1", "1Gi", "110")},
			pods:  []*api.Pod{pod("x", "", "", on("a")), pod("y", "", "", on("a"))},
			want:  "a",
		},
		{
			name:  "a pod without requests fits on a full node",
			pod:   pod("p", "", ""),
			nodes: []*api.Node{node("a", "1", "1Gi", "110")},
			pods:  []*api.Pod{pod("x", "1", "1Gi", on("a"))},
			want:  "a",
		},
		{
			name:  "unbound pods and pods on other nodes do not count",
			pod:   pod("p", "1", ""),
			nodes: []*api.Node{node("a", "1", "1Gi", "110")},
			pods:  []*api.Pod{pod("x", "1", ""), pod("y", "1", "", on("gone"))},
			want:  "a",
		},
		{
			name:  "an init container larger than the containers decides",
			pod:   pod("p", "100m", "", initContainer("1500m")),
			nodes: []*api.Node{node("a", "1", "1Gi", "110"), node("b", "2", "1Gi", "110")},
			pods:  nil,
			want:  "b",
		},
		{
			name: "nodeSelector",
			pod:  pod("p", "", "", selector("disk", "ssd")),
			nodes: []*api.Node{node("a", "1", "1Gi", "110", labelled("disk", "hdd")), node("b", "1", "1Gi", "110"),
				node("c", "1", "1Gi", "110", labelled("disk", "ssd"))},
			want: "c",
		},
		{
			name:  "not ready nodes are skipped",
			pod:   pod("p", "", ""),
			nodes: []*api.Node{node("a", "1", "1Gi", "110", notReady), node("b", "1", "1Gi", "110", noConditions), node("c", "1", "1Gi", "110")},
			want:  "c",
		},
		{
			name:  "unschedulable nodes are skipped",
			pod:   pod("p", "", ""),
			nodes: []*api.Node{node("a", "1", "1Gi", "110", cordoned), node("b", "1", "1Gi", "110")},
			want:  "b",
		},
		{
			name: "taints: NoSchedule and NoExecute keep a pod off, PreferNoSchedule does not",
			pod:  pod("p", "", ""),
			nodes: []*api.Node{node("a", "1", "1Gi", "110", tainted("dedicated", "gpu", "NoSchedule")),
				node("b", "1", "1Gi", "110", tainted("dedicated", "gpu", "NoExecute")),
				node("c", "1", "1Gi", "110", tainted("dedicated", "gpu", "PreferNoSchedule"))},
			want: "c",
		},
		{
			name:  "taints: tolerated with Equal",
			pod:   pod("p", "", "", tolerates(api.Toleration{Key: "dedicated", Operator: "Equal", Value: "gpu", Effect: "NoSchedule"})),
			nodes: []*api.Node{node("a", "1", "1Gi", "110", tainted("dedicated", "gpu", "NoSchedule"))},
			want:  "a",
		},
		{
			name:  "taints: tolerated with Exists and no effect",
			pod:   pod("p", "", "", tolerates(api.Toleration{Key: "dedicated", Operator: "Exists"})),
			nodes: []*api.Node{node("a", "1", "1Gi", "110", tainted("dedicated", "gpu", "NoExecute"))},
			want:  "a",
		},
		{
			name:  "taints: an empty key with Exists tolerates everything",
			pod:   pod("p", "", "", tolerates(api.Toleration{Operator: "Exists"})),
			nodes: []*api.Node{node("a", "1", "1Gi", "110", tainted("x", "", "NoSchedule"), tainted("y", "z", "NoExecute"))},
			want:  "a",
		},
		{
			name:  "taints: a different value is not tolerated",
			pod:   pod("p", "", "", tolerates(api.Toleration{Key: "dedicated", Value: "cpu"})),
			nodes: []*api.Node{node("a", "1", "1Gi", "110", tainted("dedicated", "gpu", "NoSchedule"))},
			want:  "error: 0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}.",
		},
		{
			name:  "taints: a different effect is not tolerated",
			pod:   pod("p", "", "", tolerates(api.Toleration{Key: "dedicated", Operator: "Exists", Effect: "NoSchedule"})),
			nodes: []*api.Node{node("a", "1", "1Gi", "110", tainted("dedicated", "", "NoExecute"))},
			want:  "error: 0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: }.",
		},
		{
			name: "error: cpu and selector",
			pod:  pod("p", "2", "", selector("zone", "a")),
			nodes: []*api.Node{node("a", "1", "4Gi", "110", labelled("zone", "a")), node("b", "4", "4Gi", "110"),
				node("c", "4", "4Gi", "110", labelled("zone", "b"))},
			want: "error: 0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector.",
		},
		{
			name:  "error: every node short of cpu",
			pod:   pod("p", "3", ""),
			nodes: []*api.Node{node("a", "2", "4Gi", "110"), node("b", "2", "4Gi", "110"), node("c", "2", "4Gi", "110")},
			want:  "error: 0/3 nodes are available: 3 Insufficient cpu.",
		},
		{
			name:  "error: one node short of both cpu and memory, one of pods",
			pod:   pod("p", "2", "2Gi"),
			nodes: []*api.Node{node("a", "1", "1Gi", "110"), node("b", "4", "4Gi", "1")},
			pods:  []*api.Pod{pod("x", "", "", on("b"))},
			want:  "error: 0/2 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 Too many pods.",
		},
		{
			name: "error: every kind of node",
			pod:  pod("p", "", "", selector("disk", "ssd")),
			nodes: []*api.Node{node("a", "1", "1Gi", "110", notReady), node("b", "1", "1Gi", "110", cordoned),
				node("c", "1", "1Gi", "110", labelled("disk", "ssd"), tainted("dedicated", "gpu", "NoSchedule")),
				node("d", "1", "1Gi", "110"), node("e", "1", "1Gi", "110", noConditions)},
			want: "error: 0/5 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, " +
				"1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) were unschedulable, 2 node(s) were not ready.",
		},
		{
			name: "error: reasons sort as strings, counts included",
			pod:  pod("p", "3", ""),
			nodes: []*api.Node{node("a", "1", "1Gi", "110"), node("b", "1", "1Gi", "110", cordoned),
				node("c", "1", "1Gi", "110", cordoned), node("d", "1", "1Gi", "110", cordoned)},
			want: "error: 0/4 nodes are available: 1 Insufficient cpu, 3 node(s) were unschedulable.",
		},
		{
			name:  "error: no nodes",
			pod:   pod("p", "", ""),
			nodes: nil,
			want:  "error: no nodes available to schedule pods",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Schedule(tt.pod, tt.nodes, tt.pods)
			got := res.Node
			if err != nil {
				if _, ok := errors.AsType[*FitError](err); !ok {
					t.Fatalf("error %v is a %T, want *FitError", err, err)
				}
				got = "error: " + err.Error()
			}
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestScheduleResult(t *testing.T) {
	nodes := []*api.Node{node("a", "1", "1Gi", "110"), node("b", "1", "1Gi", "110", cordoned),
		node("c", "4", "4Gi", "110"), node("d", "1", "1Gi", "110", notReady)}
	res, err := Schedule(pod("p", "2", ""), nodes, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"Insufficient cpu": 1, "node(s) were unschedulable": 1, "node(s) were not ready": 1}
	if res.Node != "c" || res.Feasible != 1 || !maps.Equal(res.Reasons, want) {
		t.Errorf("got %+v, want node c, 1 feasible, reasons %v", res, want)
	}
	_, err = Schedule(pod("p", "8", ""), nodes, nil)
	fe, ok := errors.AsType[*FitError](err)
	if !ok || fe.NumNodes != 4 || fe.Reasons["Insufficient cpu"] != 2 {
		t.Errorf("got %#v, want a FitError over 4 nodes, 2 short of cpu", err)
	}
}

// place schedules pods one by one, each seeing the ones placed before, and returns how many
// went to each node.
func place(t *testing.T, nodes []*api.Node, bound []*api.Pod, pods ...*api.Pod) map[string]int {
	t.Helper()
	count := map[string]int{}
	for _, p := range pods {
		res, err := Schedule(p, nodes, bound)
		if err != nil {
			t.Fatalf("schedule %s: %v", p.Name, err)
		}
		p.Spec.NodeName = res.Node
		bound = append(bound, p)
		count[res.Node]++
	}
	return count
}

func equalNodes(n int) []*api.Node {
	var nodes []*api.Node
	for i := range n {
		nodes = append(nodes, node(fmt.Sprintf("node-%d", i), "2", "4Gi", "110"))
	}
	return nodes
}

func TestSpread(t *testing.T) {
	t.Run("one ReplicaSet's 6 pods on 3 equal nodes go 2/2/2", func(t *testing.T) {
		var pods []*api.Pod
		for i := range 6 {
			pods = append(pods, pod(fmt.Sprintf("web-%d", i), "100m", "64Mi", ownedBy("rs-1"), withLabels("app", "web")))
		}
		got := place(t, equalNodes(3), nil, pods...)
		if want := map[string]int{"node-0": 2, "node-1": 2, "node-2": 2}; !maps.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("ownerless pods with the same labels spread", func(t *testing.T) {
		var pods []*api.Pod
		for i := range 6 {
			pods = append(pods, pod(fmt.Sprintf("web-%d", i), "100m", "64Mi", withLabels("app", "web", "tier", "front")))
		}
		got := place(t, equalNodes(3), nil, pods...)
		if want := map[string]int{"node-0": 2, "node-1": 2, "node-2": 2}; !maps.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("spread outweighs a small difference in load", func(t *testing.T) {
		// node-0 already runs one of the group and is the emptier node; the next goes to node-1
		// even though node-1 carries another group's load.
		nodes := equalNodes(2)
		bound := []*api.Pod{
			pod("web-0", "100m", "64Mi", ownedBy("rs-1"), on("node-0")),
			pod("db-0", "300m", "512Mi", ownedBy("rs-2"), on("node-1")),
		}
		got := place(t, nodes, bound, pod("web-1", "100m", "64Mi", ownedBy("rs-1")))
		if got["node-1"] != 1 {
			t.Errorf("got %v, want web-1 on node-1", got)
		}
	})
	t.Run("other owners' pods do not count as the same group", func(t *testing.T) {
		nodes := equalNodes(2)
		bound := []*api.Pod{pod("other", "", "", ownedBy("rs-2"), on("node-0"), withLabels("app", "web"))}
		got := place(t, nodes, bound, pod("web-0", "", "", ownedBy("rs-1"), withLabels("app", "web")))
		// The other owner's pod makes node-0 the fuller node (non-zero defaults), nothing else.
		if got["node-1"] != 1 {
			t.Errorf("got %v, want node-1", got)
		}
	})
	t.Run("pods without requests spread by the non-zero defaults", func(t *testing.T) {
		var pods []*api.Pod
		for i := range 3 {
			pods = append(pods, pod(fmt.Sprintf("solo-%d", i), "", "", withLabels("run", fmt.Sprintf("solo-%d", i))))
		}
		got := place(t, equalNodes(3), nil, pods...)
		if want := map[string]int{"node-0": 1, "node-1": 1, "node-2": 1}; !maps.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
}

func TestLeastAllocated(t *testing.T) {
	tests := []struct {
		name  string
		nodes []*api.Node
		bound []*api.Pod
		want  string
	}{
		{
			name:  "the emptier node",
			nodes: []*api.Node{node("a", "2", "4Gi", "110"), node("b", "2", "4Gi", "110")},
			bound: []*api.Pod{pod("x", "1", "1Gi", on("a"))},
			want:  "b",
		},
		{
			name:  "the larger node when both are empty",
			nodes: []*api.Node{node("a", "2", "4Gi", "110"), node("b", "8", "16Gi", "110")},
			want:  "b",
		},
		{
			name:  "cpu and memory weigh the same",
			nodes: []*api.Node{node("a", "2", "4Gi", "110"), node("b", "2", "4Gi", "110")},
			// a: 50% cpu used, 0% memory; b: 0% cpu, 75% memory.
			bound: []*api.Pod{pod("x", "1", "", on("a")), pod("y", "", "3Gi", on("b"))},
			want:  "a",
		},
		{
			name:  "a tie goes to the first name",
			nodes: []*api.Node{node("c", "2", "4Gi", "110"), node("a", "2", "4Gi", "110"), node("b", "2", "4Gi", "110")},
			want:  "a",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Schedule(pod("p", "100m", "128Mi"), tt.nodes, tt.bound)
			if err != nil {
				t.Fatal(err)
			}
			if res.Node != tt.want {
				t.Errorf("got %s, want %s", res.Node, tt.want)
			}
		})
	}
}

// TestStateMatchesSchedule checks the controller's incremental state against Schedule over
// plain lists, through random binds, assumptions, terminations and deletions.
func TestStateMatchesSchedule(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	nodes := []*api.Node{node("a", "4", "8Gi", "20"), node("b", "4", "8Gi", "20"), node("c", "2", "4Gi", "10", labelled("disk", "ssd"))}
	st := newState(time.Hour)
	for _, n := range nodes {
		st.setNode(n)
	}
	live := map[string]*api.Pod{} // what the informer would show
	for i := range 400 {
		name := fmt.Sprintf("p-%d", rng.IntN(40))
		key := "default/" + name
		cur := live[key]
		switch op := rng.IntN(6); {
		case cur == nil || op == 0: // a new pod, scheduled and bound
			p := pod(name, fmt.Sprintf("%dm", 100*rng.IntN(5)), fmt.Sprintf("%dMi", 64*rng.IntN(5)),
				ownedBy(fmt.Sprintf("rs-%d", rng.IntN(3))))
			if cur != nil {
				st.deletePod(key)
			}
			live[key] = p
			st.updatePod(p)
			res, err := st.schedule(p)
			if err != nil {
				delete(live, key)
				st.deletePod(key)
				continue
			}
			if rng.IntN(2) == 0 { // the informer shows the bind
				b := *p
				b.Spec.NodeName = res.Node
				live[key] = &b
				st.updatePod(&b)
			}
		case op == 1: // terminated
			b := *cur
			b.Status.Phase = api.PodSucceeded
			live[key] = &b
			st.updatePod(&b)
		case op == 2: // deleted
			delete(live, key)
			st.deletePod(key)
		default: // an unrelated status update
			b := *cur
			b.ResourceVersion = fmt.Sprint(i)
			live[key] = &b
			st.updatePod(&b)
		}
		// Every pod the state assumed counts as bound to its node in the lists.
		var pods []*api.Pod
		for k, p := range live {
			if n := st.assumedOn(k); n != "" && p.Spec.NodeName == "" {
				b := *p
				b.Spec.NodeName = n
				p = &b
			}
			pods = append(pods, p)
		}
		probe := pod("probe", fmt.Sprintf("%dm", 100*rng.IntN(30)), "256Mi", ownedBy(fmt.Sprintf("rs-%d", rng.IntN(3))))
		if rng.IntN(3) == 0 {
			probe.Spec.NodeSelector = map[string]string{"disk": "ssd"}
		}
		want, wantErr := Schedule(probe, nodes, pods)
		st.mu.Lock()
		var cands []candidate
		for _, name := range slices.Sorted(maps.Keys(st.nodes)) {
			ns := st.nodes[name]
			cands = append(cands, candidate{node: ns.node, used: ns.used, score: ns.score, pods: ns.pods, same: ns.groups[podInfoOf(probe).group]})
		}
		st.mu.Unlock()
		got, gotErr := pick(probe, podInfoOf(probe), cands)
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || got.Node != want.Node || !maps.Equal(got.Reasons, want.Reasons) {
			t.Fatalf("step %d: state gives %+v %v, lists give %+v %v", i, got, gotErr, want, wantErr)
		}
	}
}

func TestStateAssume(t *testing.T) {
	now := time.Unix(1000, 0)
	st := newState(30 * time.Second)
	st.now = func() time.Time { return now }
	st.setNode(node("a", "1", "1Gi", "110"))
	st.setNode(node("b", "1", "1Gi", "110"))

	p := pod("p", "1", "")
	if res, err := st.schedule(p); err != nil || res.Node != "a" {
		t.Fatalf("first pod: %+v %v, want node a", res, err)
	}
	// The informer still shows p unbound (say, after a status write): it stays assumed.
	st.updatePod(p)
	if n := st.assumedOn(p.Key()); n != "a" {
		t.Fatalf("assumed on %q, want a", n)
	}
	q := pod("q", "1", "")
	if res, err := st.schedule(q); err != nil || res.Node != "b" {
		t.Fatalf("second pod: %+v %v, want node b (a holds the assumed pod)", res, err)
	}
	if _, err := st.schedule(pod("r", "1", "")); err == nil || err.Error() != "0/2 nodes are available: 2 Insufficient cpu." {
		t.Fatalf("third pod: %v, want both nodes full", err)
	}
	// A failed bind forgets the assumption.
	st.forget(q.Key())
	if res, err := st.schedule(pod("r", "1", "")); err != nil || res.Node != "b" {
		t.Fatalf("after forget: %+v %v, want node b", res, err)
	}
	// The informer shows p bound to b (another scheduler won): it moves.
	b := *p
	b.Spec.NodeName = "b"
	st.updatePod(&b)
	if n := st.assumedOn(p.Key()); n != "" {
		t.Fatalf("still assumed on %q after the informer showed it bound", n)
	}
	st.mu.Lock()
	gotA, gotB := st.nodes["a"].pods, st.nodes["b"].pods
	st.mu.Unlock()
	if gotA != 0 || gotB != 2 {
		t.Fatalf("pods on a, b = %d, %d; want 0, 2", gotA, gotB)
	}
	// An assumption the informer never confirms expires.
	st.deletePod("default/r")
	st.deletePod(p.Key())
	if res, err := st.schedule(pod("s", "1", "")); err != nil || res.Node != "a" {
		t.Fatalf("pod s: %+v %v", res, err)
	}
	now = now.Add(31 * time.Second)
	if n := st.assumedOn("default/s"); n != "" {
		t.Fatalf("assumption outlived its ttl: on %q", n)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if ns := st.nodes["a"]; ns.pods != 0 || ns.used != (resources{}) {
		t.Fatalf("node a still holds %d pods, %+v", ns.pods, ns.used)
	}
}

func TestNeedsScheduling(t *testing.T) {
	deleting := api.Now()
	tests := []struct {
		pod  *api.Pod
		want bool
	}{
		{pod("p", "", ""), true},
		{pod("p", "", "", func(p *api.Pod) { p.Spec.SchedulerName = api.DefaultSchedulerName }), true},
		{pod("p", "", "", func(p *api.Pod) { p.Spec.SchedulerName = "other" }), false},
		{pod("p", "", "", on("a")), false},
		{pod("p", "", "", func(p *api.Pod) { p.DeletionTimestamp = &deleting }), false},
		{pod("p", "", "", phase(api.PodFailed)), false},
	}
	for i, tt := range tests {
		if got := needsScheduling(tt.pod); got != tt.want {
			t.Errorf("case %d: got %v, want %v", i, got, tt.want)
		}
	}
}

func TestNodeChanged(t *testing.T) {
	base := node("a", "1", "1Gi", "110")
	heartbeat := node("a", "1", "1Gi", "110", func(n *api.Node) { n.Status.Conditions[0].LastHeartbeatTime = api.Now() })
	if nodeChanged(base, heartbeat) {
		t.Error("a heartbeat counts as a change")
	}
	for name, cur := range map[string]*api.Node{
		"not ready":   node("a", "1", "1Gi", "110", notReady),
		"cordoned":    node("a", "1", "1Gi", "110", cordoned),
		"labelled":    node("a", "1", "1Gi", "110", labelled("disk", "ssd")),
		"tainted":     node("a", "1", "1Gi", "110", tainted("k", "v", "NoSchedule")),
		"allocatable": node("a", "2", "1Gi", "110"),
	} {
		if !nodeChanged(base, cur) {
			t.Errorf("%s: not seen as a change", name)
		}
	}
}
