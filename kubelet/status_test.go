package kubelet

import (
	"testing"
	"time"

	"github.com/containerd/containerd"

	"github.com/minik8s/minik8s/api"
)

// fakeContainer is a containerd.Container of which only ID works; computeStatus and
// terminatedState need nothing else.
type fakeContainer struct {
	containerd.Container
	id string
}

func (f fakeContainer) ID() string { return f.id }

var (
	statusNow   = time.Date(2025, 3, 1, 12, 0, 30, 0, time.UTC)
	statusStart = time.Date(2025, 3, 1, 12, 0, 10, 0, time.UTC)
	statusEnd   = time.Date(2025, 3, 1, 12, 0, 20, 0, time.UTC)
)

func running(name string, restarts string) state {
	return state{Container: fakeContainer{id: "uid-" + name}, Labels: map[string]string{labelRestarts: restarts},
		Running: true, StartedAt: statusStart}
}

func exited(name string, code uint32, restarts string) state {
	return state{Container: fakeContainer{id: "uid-" + name}, Labels: map[string]string{labelRestarts: restarts},
		Exited: true, ExitCode: code, StartedAt: statusStart, FinishedAt: statusEnd}
}

func created(name string) state {
	return state{Container: fakeContainer{id: "uid-" + name}, Labels: map[string]string{labelRestarts: "0"}}
}

func statusPod(policy string, names ...string) *api.Pod {
	p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p", Namespace: "ns", UID: "uid"}}
	p.Spec.RestartPolicy = policy
	for _, n := range names {
		p.Spec.Containers = append(p.Spec.Containers, api.Container{Name: n, Image: n + ":1"})
	}
	return p
}

func memory(m map[string]*containerMemory) *podState {
	if m == nil {
		m = map[string]*containerMemory{}
	}
	return &podState{containers: m}
}

func TestComputeStatusPhase(t *testing.T) {
	crashLoop := map[string]*containerMemory{"b": {waitingReason: "CrashLoopBackOff", waitingMessage: "back-off 10s"}}
	tests := []struct {
		name   string
		policy string
		cs     map[string]state
		mem    map[string]*containerMemory
		want   string
	}{
		{"nothing created yet", api.RestartPolicyAlways, nil, nil, api.PodPending},
		{"created, not started", api.RestartPolicyAlways, map[string]state{"a": created("a"), "b": created("b")}, nil, api.PodPending},
		{"image pull failing", api.RestartPolicyAlways, nil,
			map[string]*containerMemory{"a": {waitingReason: "ErrImagePull"}, "b": {waitingReason: "ContainerCreating"}}, api.PodPending},
		{"all running", api.RestartPolicyAlways, map[string]state{"a": running("a", "0"), "b": running("b", "0")}, nil, api.PodRunning},
		{"one running, one in CrashLoopBackOff", api.RestartPolicyAlways,
			map[string]state{"a": running("a", "0"), "b": exited("b", 1, "3")}, crashLoop, api.PodRunning},
		// b never started: as in Kubernetes, the Pod is still Pending.
		{"one in CrashLoopBackOff, one never started", api.RestartPolicyAlways,
			map[string]state{"a": exited("a", 1, "3")}, map[string]*containerMemory{"a": {waitingReason: "CrashLoopBackOff"}}, api.PodPending},
		{"all exited 0 under Never", api.RestartPolicyNever,
			map[string]state{"a": exited("a", 0, "0"), "b": exited("b", 0, "0")}, nil, api.PodSucceeded},
		{"all exited 0 under OnFailure", api.RestartPolicyOnFailure,
			map[string]state{"a": exited("a", 0, "0"), "b": exited("b", 0, "0")}, nil, api.PodSucceeded},
		{"all exited, one non-zero, under Never", api.RestartPolicyNever,
			map[string]state{"a": exited("a", 0, "0"), "b": exited("b", 2, "0")}, nil, api.PodFailed},
		{"one non-zero under OnFailure restarts", api.RestartPolicyOnFailure,
			map[string]state{"a": exited("a", 0, "0"), "b": exited("b", 2, "0")}, nil, api.PodRunning},
		{"one still running under Never", api.RestartPolicyNever,
			map[string]state{"a": running("a", "0"), "b": exited("b", 0, "0")}, nil, api.PodRunning},
		{"all exited 0 under Always restart", api.RestartPolicyAlways,
			map[string]state{"a": exited("a", 0, "0"), "b": exited("b", 0, "0")}, nil, api.PodRunning},
		{"all exited non-zero under Always restart", api.RestartPolicyAlways,
			map[string]state{"a": exited("a", 1, "0"), "b": exited("b", 137, "0")}, nil, api.PodRunning},
		{"default policy is Always", "",
			map[string]state{"a": exited("a", 0, "0"), "b": exited("b", 0, "0")}, nil, api.PodRunning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := computeStatus(statusPod(tt.policy, "a", "b"), tt.cs, memory(tt.mem), "10.244.0.5", "192.168.0.2", statusNow)
			if st.Phase != tt.want {
				t.Fatalf("phase = %s, want %s (statuses %+v)", st.Phase, tt.want, st.ContainerStatuses)
			}
		})
	}
}

func TestComputeStatusContainerStates(t *testing.T) {
	lastTerm := &api.ContainerStateTerminated{ExitCode: 1, Reason: "Error", ContainerID: "containerd://old"}
	tests := []struct {
		name   string
		policy string
		cs     map[string]state
		mem    *containerMemory
		check  func(t *testing.T, s api.ContainerStatus)
	}{
		{"running", api.RestartPolicyAlways, map[string]state{"a": running("a", "2")}, nil, func(t *testing.T, s api.ContainerStatus) {
			if s.State.Running == nil || !s.State.Running.StartedAt.Equal(statusStart) || s.State.Waiting != nil || s.State.Terminated != nil {
				t.Errorf("state = %+v, want running since %v", s.State, statusStart)
			}
			if !s.Ready || s.Started == nil || !*s.Started {
				t.Errorf("ready = %v, started = %v; want both true", s.Ready, s.Started)
			}
			if s.RestartCount != 2 {
				t.Errorf("restartCount = %d, want 2", s.RestartCount)
			}
			if s.ContainerID != "containerd://uid-a" {
				t.Errorf("containerID = %q", s.ContainerID)
			}
		}},
		{"waiting without memory is ContainerCreating", api.RestartPolicyAlways, nil, nil, func(t *testing.T, s api.ContainerStatus) {
			if s.State.Waiting == nil || s.State.Waiting.Reason != "ContainerCreating" || s.State.Waiting.Message != "" {
				t.Errorf("state = %+v, want waiting ContainerCreating", s.State)
			}
			if s.Ready || s.Started == nil || *s.Started || s.RestartCount != 0 || s.ContainerID != "" {
				t.Errorf("status = %+v, want not ready, not started, no restarts, no ID", s)
			}
		}},
		{"waiting with reason and message from memory", api.RestartPolicyAlways, nil,
			&containerMemory{waitingReason: "ErrImagePull", waitingMessage: `image "x:1" not found`}, func(t *testing.T, s api.ContainerStatus) {
				if s.State.Waiting == nil || s.State.Waiting.Reason != "ErrImagePull" || s.State.Waiting.Message != `image "x:1" not found` {
					t.Errorf("state = %+v, want waiting ErrImagePull with its message", s.State)
				}
			}},
		{"created but not started waits", api.RestartPolicyAlways, map[string]state{"a": created("a")}, nil, func(t *testing.T, s api.ContainerStatus) {
			if s.State.Waiting == nil || s.State.Waiting.Reason != "ContainerCreating" {
				t.Errorf("state = %+v, want waiting ContainerCreating", s.State)
			}
		}},
		{"terminated 0 is Completed", api.RestartPolicyNever, map[string]state{"a": exited("a", 0, "0")}, nil, func(t *testing.T, s api.ContainerStatus) {
			term := s.State.Terminated
			if term == nil || term.ExitCode != 0 || term.Reason != "Completed" {
				t.Fatalf("state = %+v, want terminated Completed", s.State)
			}
			if !term.StartedAt.Equal(statusStart) || !term.FinishedAt.Equal(statusEnd) || term.ContainerID != "containerd://uid-a" {
				t.Errorf("terminated = %+v", term)
			}
			if s.Ready || *s.Started {
				t.Errorf("a terminated container is neither ready nor started: %+v", s)
			}
		}},
		{"terminated non-zero is Error", api.RestartPolicyNever, map[string]state{"a": exited("a", 3, "0")}, nil, func(t *testing.T, s api.ContainerStatus) {
			if term := s.State.Terminated; term == nil || term.ExitCode != 3 || term.Reason != "Error" {
				t.Errorf("state = %+v, want terminated Error 3", s.State)
			}
		}},
		{"killed is Error 137", api.RestartPolicyNever, map[string]state{"a": exited("a", 137, "0")}, nil, func(t *testing.T, s api.ContainerStatus) {
			if term := s.State.Terminated; term == nil || term.ExitCode != 137 || term.Reason != "Error" {
				t.Errorf("state = %+v, want terminated Error 137", s.State)
			}
		}},
		{"CrashLoopBackOff waits and shows the last run", api.RestartPolicyAlways, map[string]state{"a": exited("a", 1, "4")},
			&containerMemory{waitingReason: "CrashLoopBackOff", waitingMessage: "back-off 2m40s restarting failed container", lastTermination: lastTerm},
			func(t *testing.T, s api.ContainerStatus) {
				if s.State.Waiting == nil || s.State.Waiting.Reason != "CrashLoopBackOff" || s.State.Waiting.Message != "back-off 2m40s restarting failed container" {
					t.Errorf("state = %+v, want waiting CrashLoopBackOff", s.State)
				}
				last := s.LastTerminationState.Terminated
				if last == nil || last.ExitCode != 1 || last.Reason != "Error" || last.ContainerID != "containerd://uid-a" || !last.FinishedAt.Equal(statusEnd) {
					t.Errorf("lastState = %+v, want the exited container's termination", last)
				}
				if s.RestartCount != 4 {
					t.Errorf("restartCount = %d, want 4", s.RestartCount)
				}
			}},
		{"CrashLoopBackOff memory ignored under Never", api.RestartPolicyNever, map[string]state{"a": exited("a", 1, "0")},
			&containerMemory{waitingReason: "CrashLoopBackOff"}, func(t *testing.T, s api.ContainerStatus) {
				if s.State.Terminated == nil || s.State.Waiting != nil {
					t.Errorf("state = %+v, want terminated", s.State)
				}
			}},
		{"exited, restart due but not in back-off, is terminated", api.RestartPolicyAlways, map[string]state{"a": exited("a", 1, "0")}, nil,
			func(t *testing.T, s api.ContainerStatus) {
				if s.State.Terminated == nil || s.State.Terminated.Reason != "Error" {
					t.Errorf("state = %+v, want terminated Error", s.State)
				}
			}},
		{"lastState from memory while running", api.RestartPolicyAlways, map[string]state{"a": running("a", "1")},
			&containerMemory{lastTermination: lastTerm}, func(t *testing.T, s api.ContainerStatus) {
				if s.LastTerminationState.Terminated != lastTerm {
					t.Errorf("lastState = %+v, want %+v", s.LastTerminationState.Terminated, lastTerm)
				}
				if s.RestartCount != 1 {
					t.Errorf("restartCount = %d, want 1", s.RestartCount)
				}
			}},
		{"no lastState without memory", api.RestartPolicyAlways, map[string]state{"a": running("a", "0")}, nil,
			func(t *testing.T, s api.ContainerStatus) {
				if s.LastTerminationState.Terminated != nil {
					t.Errorf("lastState = %+v, want none", s.LastTerminationState)
				}
			}},
		{"unparsable restart label counts 0", api.RestartPolicyAlways, map[string]state{"a": running("a", "x")}, nil,
			func(t *testing.T, s api.ContainerStatus) {
				if s.RestartCount != 0 {
					t.Errorf("restartCount = %d, want 0", s.RestartCount)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := map[string]*containerMemory{}
			if tt.mem != nil {
				mem["a"] = tt.mem
			}
			pod := statusPod(tt.policy, "a")
			st := computeStatus(pod, tt.cs, memory(mem), "", "", statusNow)
			if len(st.ContainerStatuses) != 1 {
				t.Fatalf("%d container statuses, want 1", len(st.ContainerStatuses))
			}
			s := st.ContainerStatuses[0]
			if s.Name != "a" || s.Image != "a:1" {
				t.Errorf("name, image = %q, %q", s.Name, s.Image)
			}
			tt.check(t, s)
		})
	}
}

func conditionsByType(st api.PodStatus) map[string]api.PodCondition {
	out := map[string]api.PodCondition{}
	for _, c := range st.Conditions {
		out[c.Type] = c
	}
	return out
}

func TestComputeStatusConditions(t *testing.T) {
	tests := []struct {
		name  string
		cs    map[string]state
		ready string
	}{
		{"all running", map[string]state{"a": running("a", "0"), "b": running("b", "0")}, api.ConditionTrue},
		{"one running", map[string]state{"a": running("a", "0")}, api.ConditionFalse},
		{"one exited", map[string]state{"a": running("a", "0"), "b": exited("b", 0, "0")}, api.ConditionFalse},
		{"none", nil, api.ConditionFalse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := computeStatus(statusPod(api.RestartPolicyAlways, "a", "b"), tt.cs, memory(nil), "", "", statusNow)
			conds := conditionsByType(st)
			if len(st.Conditions) != 4 {
				t.Fatalf("conditions = %+v, want 4", st.Conditions)
			}
			for _, typ := range []string{api.PodScheduled, "Initialized"} {
				if conds[typ].Status != api.ConditionTrue {
					t.Errorf("%s = %q, want True", typ, conds[typ].Status)
				}
			}
			for _, typ := range []string{api.PodReady, "ContainersReady"} {
				if conds[typ].Status != tt.ready {
					t.Errorf("%s = %q, want %s", typ, conds[typ].Status, tt.ready)
				}
			}
			for _, c := range st.Conditions {
				if !c.LastTransitionTime.Equal(statusNow) {
					t.Errorf("%s: lastTransitionTime = %v, want now", c.Type, c.LastTransitionTime)
				}
			}
		})
	}
}

func TestComputeStatusKeepsTransitionTimes(t *testing.T) {
	earlier := api.NewTime(statusNow.Add(-time.Hour))
	pod := statusPod(api.RestartPolicyAlways, "a")
	pod.Status.Conditions = []api.PodCondition{
		{Type: api.PodScheduled, Status: api.ConditionTrue, LastTransitionTime: earlier},
		{Type: "Initialized", Status: api.ConditionTrue, LastTransitionTime: earlier},
		{Type: "ContainersReady", Status: api.ConditionFalse, LastTransitionTime: earlier},
		{Type: api.PodReady, Status: api.ConditionFalse, LastTransitionTime: earlier},
	}
	// Nothing changed: every time is kept.
	st := computeStatus(pod, nil, memory(nil), "", "", statusNow)
	for _, c := range st.Conditions {
		if !c.LastTransitionTime.Equal(earlier.Time) {
			t.Errorf("unchanged %s: lastTransitionTime = %v, want %v", c.Type, c.LastTransitionTime, earlier)
		}
	}
	// The container runs: Ready and ContainersReady turn True now, the others keep theirs.
	st = computeStatus(pod, map[string]state{"a": running("a", "0")}, memory(nil), "", "", statusNow)
	for typ, c := range conditionsByType(st) {
		want := earlier.Time
		if typ == api.PodReady || typ == "ContainersReady" {
			want = statusNow
			if c.Status != api.ConditionTrue {
				t.Errorf("%s = %s, want True", typ, c.Status)
			}
		}
		if !c.LastTransitionTime.Equal(want) {
			t.Errorf("%s: lastTransitionTime = %v, want %v", typ, c.LastTransitionTime, want)
		}
	}
}

func TestComputeStatusAddressesAndStartTime(t *testing.T) {
	pod := statusPod(api.RestartPolicyAlways, "a")
	st := computeStatus(pod, nil, memory(nil), "10.244.1.7", "192.168.0.2", statusNow)
	if st.PodIP != "10.244.1.7" || len(st.PodIPs) != 1 || st.PodIPs[0].IP != "10.244.1.7" || st.HostIP != "192.168.0.2" {
		t.Errorf("podIP %q, podIPs %+v, hostIP %q", st.PodIP, st.PodIPs, st.HostIP)
	}
	if st.StartTime == nil || !st.StartTime.Equal(statusNow) {
		t.Errorf("startTime = %v, want now", st.StartTime)
	}

	// No IP yet: no podIPs either.
	st = computeStatus(pod, nil, memory(nil), "", "192.168.0.2", statusNow)
	if st.PodIP != "" || st.PodIPs != nil {
		t.Errorf("podIP %q, podIPs %+v, want none", st.PodIP, st.PodIPs)
	}

	// The start time, once set, stays.
	started := api.NewTime(statusNow.Add(-time.Minute))
	pod.Status.StartTime = &started
	st = computeStatus(pod, nil, memory(nil), "", "", statusNow)
	if st.StartTime == nil || !st.StartTime.Equal(started.Time) {
		t.Errorf("startTime = %v, want %v", st.StartTime, started)
	}
}

func TestQOSClass(t *testing.T) {
	q := api.MustParseQuantity
	res := func(req, lim api.ResourceList) api.ResourceRequirements {
		return api.ResourceRequirements{Requests: req, Limits: lim}
	}
	tests := []struct {
		name string
		res  []api.ResourceRequirements
		want string
	}{
		{"nothing", []api.ResourceRequirements{{}}, "BestEffort"},
		{"nothing in two containers", []api.ResourceRequirements{{}, {}}, "BestEffort"},
		{"only other resources", []api.ResourceRequirements{res(api.ResourceList{"ephemeral-storage": q("1Gi")}, nil)}, "BestEffort"},
		{"limits equal requests", []api.ResourceRequirements{res(
			api.ResourceList{api.ResourceCPU: q("500m"), api.ResourceMemory: q("128Mi")},
			api.ResourceList{api.ResourceCPU: q("500m"), api.ResourceMemory: q("128Mi")})}, "Guaranteed"},
		{"limits only (requests default to them)", []api.ResourceRequirements{res(nil,
			api.ResourceList{api.ResourceCPU: q("1"), api.ResourceMemory: q("1Gi")})}, "Guaranteed"},
		{"equal amounts spelled differently", []api.ResourceRequirements{res(
			api.ResourceList{api.ResourceCPU: q("1"), api.ResourceMemory: q("1Gi")},
			api.ResourceList{api.ResourceCPU: q("1000m"), api.ResourceMemory: q("1073741824")})}, "Guaranteed"},
		{"every container guaranteed", []api.ResourceRequirements{
			res(nil, api.ResourceList{api.ResourceCPU: q("1"), api.ResourceMemory: q("1Gi")}),
			res(nil, api.ResourceList{api.ResourceCPU: q("2"), api.ResourceMemory: q("2Gi")})}, "Guaranteed"},
		{"requests below limits", []api.ResourceRequirements{res(
			api.ResourceList{api.ResourceCPU: q("100m"), api.ResourceMemory: q("128Mi")},
			api.ResourceList{api.ResourceCPU: q("500m"), api.ResourceMemory: q("128Mi")})}, "Burstable"},
		{"requests only", []api.ResourceRequirements{res(api.ResourceList{api.ResourceCPU: q("100m")}, nil)}, "Burstable"},
		{"cpu limit without memory limit", []api.ResourceRequirements{res(nil, api.ResourceList{api.ResourceCPU: q("1")})}, "Burstable"},
		{"one guaranteed, one best effort", []api.ResourceRequirements{
			res(nil, api.ResourceList{api.ResourceCPU: q("1"), api.ResourceMemory: q("1Gi")}), {}}, "Burstable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &api.Pod{}
			for i, r := range tt.res {
				pod.Spec.Containers = append(pod.Spec.Containers, api.Container{Name: string(rune('a' + i)), Resources: r})
			}
			if got := qosClass(pod); got != tt.want {
				t.Errorf("qosClass = %s, want %s", got, tt.want)
			}
			if got := computeStatus(pod, nil, memory(nil), "", "", statusNow).QOSClass; got != tt.want {
				t.Errorf("status.qosClass = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestSameStatus(t *testing.T) {
	pod := statusPod(api.RestartPolicyAlways, "a")
	cs := map[string]state{"a": running("a", "0")}
	a := computeStatus(pod, cs, memory(nil), "10.244.0.5", "192.168.0.2", statusNow)
	b := computeStatus(pod, cs, memory(nil), "10.244.0.5", "192.168.0.2", statusNow)
	if !sameStatus(a, b) {
		t.Errorf("two computations of one state differ")
	}
	c := computeStatus(pod, map[string]state{"a": exited("a", 1, "0")}, memory(nil), "10.244.0.5", "192.168.0.2", statusNow)
	if sameStatus(a, c) {
		t.Errorf("a running and an exited container compare the same")
	}
}
