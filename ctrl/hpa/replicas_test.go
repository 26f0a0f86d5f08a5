package hpa

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
)

var t0 = time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC)

// tpod describes one Pod of a replica-calculation case. The zero value is a Pod that started
// an hour ago, has been Ready since, requests 1 cpu in one container and has no metrics.
type tpod struct {
	usage      string        // the Pod's usage of the resource; "" for no metrics
	request    string        // per container; default "1" (cpu) or "100Mi" (memory)
	phase      string        // default Running
	ready      string        // Ready condition status: default True; "-" for no condition
	startedAgo time.Duration // default 1h
	readyAgo   time.Duration // when the Ready condition last changed; default startedAgo - 10s
	sampledAgo time.Duration // metric timestamp; default 5s ago, over a 30 s window
	deleted    bool
	noRequest  bool // a second container, "sidecar", without a request
}

func build(resource string, tp []tpod) ([]*api.Pod, podMetrics) {
	var pods []*api.Pod
	list := &api.PodMetricsList{}
	for i, d := range tp {
		name := fmt.Sprintf("p%d", i)
		req := d.request
		if req == "" {
			req = "1"
			if resource == api.ResourceMemory {
				req = "100Mi"
			}
		}
		p := &api.Pod{ObjectMeta: api.ObjectMeta{Namespace: "ns", Name: name, Labels: map[string]string{"app": "web"}},
			Spec: api.PodSpec{Containers: []api.Container{{Name: "app", Image: "echo",
				Resources: api.ResourceRequirements{Requests: api.ResourceList{resource: api.MustParseQuantity(req)}}}}}}
		if d.noRequest {
			p.Spec.Containers = append(p.Spec.Containers, api.Container{Name: "sidecar", Image: "echo"})
		}
		p.Status.Phase = api.PodRunning
		if d.phase != "" {
			p.Status.Phase = d.phase
		}
		started := d.startedAgo
		if started == 0 {
			started = time.Hour
		}
		st := api.NewTime(t0.Add(-started))
		p.Status.StartTime = &st
		readyAgo := d.readyAgo
		if readyAgo == 0 {
			readyAgo = started - 10*time.Second
		}
		switch d.ready {
		case "-":
		case "":
			p.Status.Conditions = []api.PodCondition{{Type: api.PodReady, Status: api.ConditionTrue, LastTransitionTime: api.NewTime(t0.Add(-readyAgo))}}
		default:
			p.Status.Conditions = []api.PodCondition{{Type: api.PodReady, Status: d.ready, LastTransitionTime: api.NewTime(t0.Add(-readyAgo))}}
		}
		if d.deleted {
			at := api.NewTime(t0)
			p.DeletionTimestamp = &at
		}
		pods = append(pods, p)
		if d.usage != "" {
			sampled := d.sampledAgo
			if sampled == 0 {
				sampled = 5 * time.Second
			}
			list.Items = append(list.Items, api.PodMetrics{ObjectMeta: api.ObjectMeta{Namespace: "ns", Name: name},
				Timestamp: api.NewTime(t0.Add(-sampled)), Window: api.Duration{Duration: 30 * time.Second},
				Containers: []api.ContainerMetrics{{Name: "app", Usage: api.ResourceList{resource: api.MustParseQuantity(d.usage)}}}})
		}
	}
	return pods, resourceMetrics(list, resource)
}

func testCalc() calculator {
	return calculator{tolerance: DefaultTolerance, cpuInitializationPeriod: DefaultCPUInitializationPeriod,
		delayOfInitialReadinessStatus: DefaultInitialReadinessDelay, now: t0}
}

func ready(usages ...string) []tpod {
	out := make([]tpod, len(usages))
	for i, u := range usages {
		out[i] = tpod{usage: u}
	}
	return out
}

// The cases of Kubernetes' replica_calculator_test.go for resource utilization, where they
// apply, and the rules they stand for.
func TestUtilizationReplicas(t *testing.T) {
	hot := tpod{usage: "300m", startedAgo: time.Minute, readyAgo: 20 * time.Second} // Ready, but less than a window ago
	tests := []struct {
		name     string
		current  int32
		target   int32
		pods     []tpod
		want     int32
		wantUtil int32
		wantRaw  int64
	}{
		{name: "scale up", current: 3, target: 30, pods: ready("300m", "500m", "700m"), want: 5, wantUtil: 50, wantRaw: 500},
		{name: "at the target: unchanged", current: 3, target: 50, pods: ready("500m", "500m", "500m"), want: 3, wantUtil: 50, wantRaw: 500},
		{name: "within tolerance: unchanged", current: 3, target: 100,
			pods: []tpod{{usage: "1010m", request: "900m"}, {usage: "1030m", request: "1"}, {usage: "1020m", request: "1100m"}},
			want: 3, wantUtil: 102, wantRaw: 1020},
		{name: "scale down", current: 5, target: 50, pods: ready("100m", "300m", "500m", "250m", "250m"), want: 3, wantUtil: 28, wantRaw: 280},
		{name: "scale up, an unready Pod counts as 0", current: 3, target: 30,
			pods: []tpod{{usage: "300m", ready: api.ConditionFalse}, {usage: "500m"}, {usage: "700m"}},
			want: 4, wantUtil: 60, wantRaw: 600},
		{name: "scale up, a Pod still warming up counts as 0", current: 3, target: 30,
			pods: []tpod{hot, {usage: "500m"}, {usage: "700m"}}, want: 4, wantUtil: 60, wantRaw: 600},
		{name: "scale up, a Pod without Ready condition counts as 0", current: 3, target: 30,
			pods: []tpod{{usage: "300m", ready: "-"}, {usage: "500m"}, {usage: "700m"}}, want: 4, wantUtil: 60, wantRaw: 600},
		{name: "scale up, a Pending Pod counts as 0", current: 3, target: 30,
			pods: []tpod{{phase: api.PodPending}, {usage: "500m"}, {usage: "700m"}}, want: 4, wantUtil: 60, wantRaw: 600},
		{name: "unready Pods that would reverse the direction: unchanged", current: 3, target: 30,
			pods: []tpod{{usage: "400m"}, {usage: "500m", ready: api.ConditionFalse}, {usage: "700m", ready: api.ConditionFalse}},
			want: 3, wantUtil: 40, wantRaw: 400},
		{name: "a Pod that became unready after its start counts", current: 3, target: 30,
			pods: []tpod{{usage: "300m", ready: api.ConditionFalse, readyAgo: time.Minute}, {usage: "500m"}, {usage: "700m"}},
			want: 5, wantUtil: 50, wantRaw: 500},
		{name: "failed Pods are ignored", current: 2, target: 30,
			pods: []tpod{{usage: "500m"}, {usage: "700m"}, {phase: api.PodFailed, ready: api.ConditionFalse}, {phase: api.PodFailed, ready: api.ConditionFalse}},
			want: 4, wantUtil: 60, wantRaw: 600},
		{name: "deleted Pods are ignored", current: 2, target: 30,
			pods: []tpod{{usage: "500m"}, {usage: "700m"}, {usage: "900m", deleted: true}, {usage: "900m", deleted: true}},
			want: 4, wantUtil: 60, wantRaw: 600},
		{name: "scale down, unready Pods do not count", current: 5, target: 50,
			pods: []tpod{{usage: "100m"}, {usage: "300m"}, {usage: "500m"},
				{usage: "250m", ready: api.ConditionFalse}, {usage: "250m", ready: api.ConditionFalse}},
			want: 2, wantUtil: 30, wantRaw: 300},
		{name: "scale down, missing Pods count as their request", current: 4, target: 100,
			pods: []tpod{{usage: "400m"}, {usage: "95m"}, {}, {}}, want: 3, wantUtil: 24, wantRaw: 247},
		{name: "scale down, missing Pods count as the target above 100 %", current: 4, target: 200,
			pods: []tpod{{usage: "200m"}, {usage: "200m"}, {usage: "200m"}, {}}, want: 2, wantUtil: 20, wantRaw: 200},
		{name: "missing Pods at the target: unchanged", current: 2, target: 100, pods: []tpod{{usage: "1"}, {}}, want: 2, wantUtil: 100, wantRaw: 1000},
		{name: "scale up, missing Pods count as 0, within tolerance", current: 2, target: 100, pods: []tpod{{usage: "1900m"}, {}}, want: 2, wantUtil: 190, wantRaw: 1900},
		{name: "scale down, missing Pods count as 100 %", current: 2, target: 100, pods: []tpod{{usage: "600m"}, {}}, want: 2, wantUtil: 60, wantRaw: 600},
		{name: "scale up with unready and missing Pods", current: 3, target: 50,
			pods: []tpod{{usage: "100m", ready: api.ConditionFalse}, {usage: "2"}, {}}, want: 4, wantUtil: 200, wantRaw: 2000},
		{name: "scale down with unready and missing Pods", current: 4, target: 50,
			pods: []tpod{{usage: "100m", ready: api.ConditionFalse}, {usage: "100m"}, {usage: "100m"}, {}}, want: 3, wantUtil: 10, wantRaw: 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pods, metrics := build(api.ResourceCPU, tt.pods)
			got, util, raw, err := testCalc().utilizationReplicas(tt.current, tt.target, api.ResourceCPU, pods, metrics)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || util != tt.wantUtil || raw != tt.wantRaw {
				t.Errorf("replicas, utilization, raw = %d, %d%%, %dm; want %d, %d%%, %dm", got, util, raw, tt.want, tt.wantUtil, tt.wantRaw)
			}
		})
	}
}

func TestUtilizationTolerance(t *testing.T) {
	pods, metrics := build(api.ResourceCPU, ready("540m", "540m", "540m")) // 54 % of a 50 % target: 8 % off
	c := testCalc()
	if got, _, _, _ := c.utilizationReplicas(3, 50, api.ResourceCPU, pods, metrics); got != 3 {
		t.Errorf("tolerance 0.1: %d replicas, want 3", got)
	}
	c.tolerance = 0.05
	if got, _, _, _ := c.utilizationReplicas(3, 50, api.ResourceCPU, pods, metrics); got != 4 {
		t.Errorf("tolerance 0.05: %d replicas, want 4", got)
	}
}

func TestUtilizationErrors(t *testing.T) {
	c := testCalc()
	pods, metrics := build(api.ResourceCPU, []tpod{{usage: "500m"}, {usage: "500m", noRequest: true}})
	_, _, _, err := c.utilizationReplicas(2, 50, api.ResourceCPU, pods, metrics)
	if err == nil || !strings.Contains(err.Error(), "missing request for cpu in container sidecar of Pod p1") {
		t.Errorf("a container without a request: %v", err)
	}
	if _, _, _, err := c.utilizationReplicas(2, 50, api.ResourceCPU, nil, nil); !errors.Is(err, errNoPods) {
		t.Errorf("no Pods: %v", err)
	}
	pods, metrics = build(api.ResourceCPU, []tpod{{}, {usage: "500m", ready: api.ConditionFalse}})
	if _, _, _, err := c.utilizationReplicas(2, 50, api.ResourceCPU, pods, metrics); !errors.Is(err, errNoReadyMetrics) {
		t.Errorf("no metrics of ready Pods: %v", err)
	}
}

// Memory ignores readiness (only cpu has a start-up burst) and AverageValue targets are a
// quantity per Pod.
func TestAverageValueReplicas(t *testing.T) {
	tests := []struct {
		name     string
		resource string
		current  int32
		target   string
		pods     []tpod
		want     int32
		wantAvg  int64 // thousandths
	}{
		// Kubernetes' docs: currentMetricValue 200m and desiredMetricValue 100m double the replicas.
		{name: "the docs' 200m over 100m doubles", resource: api.ResourceCPU, current: 2, target: "100m", pods: ready("200m", "200m"), want: 4, wantAvg: 200},
		{name: "the docs' 50m over 100m halves", resource: api.ResourceCPU, current: 4, target: "100m", pods: ready("50m", "50m", "50m", "50m"), want: 2, wantAvg: 50},
		{name: "memory scale up", resource: api.ResourceMemory, current: 3, target: "20Mi",
			pods: ready("20Mi", "40Mi", "60Mi"), want: 6, wantAvg: 40 << 20 * 1000},
		{name: "memory within tolerance", resource: api.ResourceMemory, current: 3, target: "40Mi",
			pods: ready("38Mi", "40Mi", "42Mi"), want: 3, wantAvg: 40 << 20 * 1000},
		{name: "memory counts unready Pods", resource: api.ResourceMemory, current: 2, target: "20Mi",
			pods: []tpod{{usage: "40Mi", ready: api.ConditionFalse, startedAgo: time.Minute}, {usage: "40Mi"}}, want: 4, wantAvg: 40 << 20 * 1000},
		{name: "memory scale down, missing Pods count as the target", resource: api.ResourceMemory, current: 4, target: "100Mi",
			pods: []tpod{{usage: "10Mi"}, {usage: "10Mi"}, {}, {}}, want: 3, wantAvg: 10 << 20 * 1000},
		{name: "cpu scale up, unready Pods count as 0", resource: api.ResourceCPU, current: 3, target: "100m",
			pods: []tpod{{usage: "500m", ready: api.ConditionFalse}, {usage: "300m"}, {usage: "300m"}}, want: 6, wantAvg: 300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pods, metrics := build(tt.resource, tt.pods)
			target := api.MustParseQuantity(tt.target)
			got, avg, err := testCalc().averageValueReplicas(tt.current, target.MilliValue(), tt.resource, pods, metrics)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || avg != tt.wantAvg {
				t.Errorf("replicas, average = %d, %d; want %d, %d", got, avg, tt.want, tt.wantAvg)
			}
		})
	}
}

func TestResourceMetrics(t *testing.T) {
	list := &api.PodMetricsList{Items: []api.PodMetrics{
		{ObjectMeta: api.ObjectMeta{Name: "two"}, Containers: []api.ContainerMetrics{
			{Name: "a", Usage: api.ResourceList{api.ResourceCPU: api.MustParseQuantity("250m"), api.ResourceMemory: api.MustParseQuantity("10Mi")}},
			{Name: "b", Usage: api.ResourceList{api.ResourceCPU: api.MustParseQuantity("1")}}}},
		{ObjectMeta: api.ObjectMeta{Name: "partial"}, Containers: []api.ContainerMetrics{
			{Name: "a", Usage: api.ResourceList{api.ResourceCPU: api.MustParseQuantity("250m"), api.ResourceMemory: api.MustParseQuantity("1Mi")}},
			{Name: "b", Usage: api.ResourceList{api.ResourceMemory: api.MustParseQuantity("1Mi")}}}},
		{ObjectMeta: api.ObjectMeta{Name: "empty"}},
	}}
	cpu := resourceMetrics(list, api.ResourceCPU)
	if len(cpu) != 1 || cpu["two"].value != 1250 {
		t.Errorf("cpu = %+v, want two: 1250m only (a Pod with a container that reports none is missing)", cpu)
	}
	mem := resourceMetrics(list, api.ResourceMemory)
	if len(mem) != 1 || mem["partial"].value != 2<<20*1000 {
		t.Errorf("memory = %+v", mem)
	}
}

func TestCombineProposals(t *testing.T) {
	ok := func(n int32, metric string) proposal {
		return proposal{replicas: n, metric: metric, status: api.MetricStatus{Type: api.MetricSourceResource, Resource: &api.ResourceMetricStatus{Name: metric}}}
	}
	bad := proposal{reason: reasonFailedGetResourceMetric, err: errors.New("no metrics")}
	tests := []struct {
		name       string
		props      []proposal
		current    int32
		want       int32
		wantMetric string
		wantErr    bool
		statuses   int
	}{
		{name: "the largest wins", props: []proposal{ok(3, "cpu"), ok(5, "memory")}, current: 4, want: 5, wantMetric: "memory", statuses: 2},
		{name: "the largest wins, even below current", props: []proposal{ok(2, "cpu"), ok(1, "memory")}, current: 4, want: 2, wantMetric: "cpu", statuses: 2},
		{name: "a failed metric does not stop a scale up", props: []proposal{bad, ok(6, "memory")}, current: 4, want: 6, wantMetric: "memory", wantErr: true, statuses: 1},
		{name: "a failed metric stops a scale down", props: []proposal{ok(2, "cpu"), bad}, current: 4, want: -1, wantErr: true, statuses: 1},
		{name: "all failed", props: []proposal{bad, bad}, current: 4, want: -1, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, metric, statuses, cond, err := combineProposals(tt.props, tt.current)
			if got != tt.want || metric != tt.wantMetric || (err != nil) != tt.wantErr || len(statuses) != tt.statuses {
				t.Errorf("got %d %q %d statuses, err %v; want %d %q %d statuses, error %v", got, metric, len(statuses), err, tt.want, tt.wantMetric, tt.statuses, tt.wantErr)
			}
			if got < 0 && (cond == nil || cond.reason != reasonFailedGetResourceMetric || cond.status != api.ConditionFalse ||
				cond.message != "the HPA was unable to compute the replica count: no metrics") {
				t.Errorf("condition = %+v", cond)
			}
			if err != nil && !strings.Contains(err.Error(), "invalid metrics (") {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func TestSetCondition(t *testing.T) {
	at1, at2 := api.NewTime(t0), api.NewTime(t0.Add(time.Minute))
	list := setCondition(nil, api.HPAAbleToScale, api.ConditionTrue, reasonSucceededGetScale, "got it", at1)
	list = setCondition(list, api.HPAScalingActive, api.ConditionTrue, reasonValidMetricFound, "m", at1)
	list = setCondition(list, api.HPAAbleToScale, api.ConditionTrue, reasonSucceededRescale, "rescaled", at2)
	if len(list) != 2 || list[0].Reason != reasonSucceededRescale || list[0].Message != "rescaled" || !list[0].LastTransitionTime.Equal(at1.Time) {
		t.Errorf("same status: the transition time is kept: %+v", list[0])
	}
	list = setCondition(list, api.HPAAbleToScale, api.ConditionFalse, reasonFailedUpdateScale, "no", at2)
	if !list[0].LastTransitionTime.Equal(at2.Time) || list[0].Status != api.ConditionFalse {
		t.Errorf("a new status: a new transition time: %+v", list[0])
	}
}
