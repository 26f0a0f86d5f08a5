package hpa_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/testserver"
	"github.com/minik8s/minik8s/client"
	"github.com/minik8s/minik8s/ctrl/hpa"
	"github.com/minik8s/minik8s/ctrl/replicaset"
)

// fakeClock is the autoscaler's clock: the test moves it; nothing sleeps on it.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Step(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeMetrics serves, for every Running Pod of a namespace, the usage the test sets for that
// namespace, or the error it sets.
type fakeMetrics struct {
	c     *client.Client
	clock *fakeClock

	mu    sync.Mutex
	usage map[string]api.ResourceList // by namespace
	err   error
}

func (f *fakeMetrics) set(ns string, usage api.ResourceList, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.usage[ns] = usage
	f.err = err
}

func (f *fakeMetrics) PodMetrics(ctx context.Context, ns, selector string) (*api.PodMetricsList, error) {
	f.mu.Lock()
	usage, err := f.usage[ns], f.err
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	pods, _, err := f.c.Pods(ns).List(ctx, client.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, err
	}
	out := &api.PodMetricsList{}
	for _, p := range pods {
		if p.Status.Phase == api.PodRunning {
			out.Items = append(out.Items, podMetrics(p, usage, f.clock.Now()))
		}
	}
	return out, nil
}

func podMetrics(p *api.Pod, usage api.ResourceList, at time.Time) api.PodMetrics {
	return api.PodMetrics{
		ObjectMeta: api.ObjectMeta{Namespace: p.Namespace, Name: p.Name, UID: p.UID, Labels: p.Labels},
		Timestamp:  api.NewTime(at), Window: api.Duration{Duration: 15 * time.Second},
		Containers: []api.ContainerMetrics{{Name: "app", Usage: usage}},
	}
}

type env struct {
	t       *testing.T
	ctx     context.Context
	c       *client.Client
	clock   *fakeClock
	metrics *fakeMetrics
	wg      *sync.WaitGroup
}

// start runs an API server, the ReplicaSet controller, a fake kubelet that makes every Pod
// Running and Ready (started ten minutes ago on the autoscaler's clock, so its CPU samples
// count), and the autoscaler with a 100 ms sync period and metrics from source (nil: a
// fakeMetrics).
func start(t *testing.T, source func(*client.Client) hpa.MetricsSource) *env {
	t.Helper()
	s := testserver.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	clock := &fakeClock{t: time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC)}
	e := &env{t: t, ctx: ctx, c: s.Client, clock: clock, metrics: &fakeMetrics{c: s.Client, clock: clock, usage: map[string]api.ResourceList{}},
		wg: &sync.WaitGroup{}}
	opts := hpa.DefaultOptions()
	opts.SyncPeriod = 100 * time.Millisecond
	opts.Now = clock.Now
	opts.Metrics = e.metrics
	if source != nil {
		opts.Metrics = source(s.Client)
	}
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.wg.Go(func() { replicaset.New(s.Client, discard).Run(ctx, 2) })
	e.wg.Go(func() { hpa.New(s.Client, opts, discard).Run(ctx, 2) })
	e.every(50*time.Millisecond, e.kubelet)
	t.Cleanup(func() {
		cancel()
		e.wg.Wait()
	})
	return e
}

// every runs f every d until the test ends.
func (e *env) every(d time.Duration, f func()) {
	e.wg.Go(func() {
		for e.ctx.Err() == nil {
			f()
			select {
			case <-e.ctx.Done():
			case <-time.After(d):
			}
		}
	})
}

func (e *env) namespace(ns string) {
	e.t.Helper()
	if _, err := e.c.Namespaces().Create(e.ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: ns}}); err != nil {
		e.t.Fatal(err)
	}
}

// kubelet reports every Pending Pod Running and Ready, as a kubelet would.
func (e *env) kubelet() {
	pods, _, err := e.c.Pods("").List(e.ctx, client.ListOptions{})
	if err != nil {
		return
	}
	for _, p := range pods {
		if p.Status.Phase != api.PodPending || p.DeletionTimestamp != nil {
			continue
		}
		since := api.NewTime(e.clock.Now().Add(-10 * time.Minute))
		p.Status.Phase = api.PodRunning
		p.Status.StartTime = &since
		p.Status.Conditions = []api.PodCondition{{Type: api.PodReady, Status: api.ConditionTrue, LastTransitionTime: since}}
		_, _ = e.c.Pods(p.Namespace).UpdateStatus(e.ctx, p)
	}
}

func webRS(ns string, replicas int32, requests api.ResourceList) *api.ReplicaSet {
	return &api.ReplicaSet{
		ObjectMeta: api.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: api.ReplicaSetSpec{
			Replicas: &replicas,
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: api.PodTemplateSpec{
				ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: api.PodSpec{Containers: []api.Container{{Name: "app", Image: "echo:latest",
					Resources: api.ResourceRequirements{Requests: requests}}}},
			},
		},
	}
}

func ptr[T any](v T) *T { return &v }

func cpuHPA(ns string, maxReplicas int32, b *api.HorizontalPodAutoscalerBehavior) *api.HorizontalPodAutoscaler {
	return &api.HorizontalPodAutoscaler{
		ObjectMeta: api.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: api.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: api.CrossVersionObjectReference{Kind: "ReplicaSet", Name: "web", APIVersion: "apps/v1"},
			MaxReplicas:    maxReplicas,
			Metrics: []api.MetricSpec{{Type: api.MetricSourceResource, Resource: &api.ResourceMetricSource{
				Name: api.ResourceCPU, Target: api.MetricTarget{Type: api.MetricTargetUtilization, AverageUtilization: ptr(int32(50))}}}},
			Behavior: b,
		},
	}
}

// onePodPer15s scales up by one Pod per 15 s, as in Kubernetes' docs.
func onePodPer15s() *api.HorizontalPodAutoscalerBehavior {
	return &api.HorizontalPodAutoscalerBehavior{ScaleUp: &api.HPAScalingRules{
		StabilizationWindowSeconds: ptr(int32(0)),
		Policies:                   []api.HPAScalingPolicy{{Type: api.HPAScalingPolicyPods, Value: 1, PeriodSeconds: 15}},
	}}
}

// waitReplicas waits until the ReplicaSet asks for n replicas and has n Running Pods.
func (e *env) waitReplicas(ns string, n int32) {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		rs, err := e.c.ReplicaSets(ns).Get(e.ctx, "web")
		if err != nil {
			e.t.Fatal(err)
		}
		pods, _, err := e.c.Pods(ns).List(e.ctx, client.ListOptions{LabelSelector: "app=web"})
		if err != nil {
			e.t.Fatal(err)
		}
		running := 0
		for _, p := range pods {
			if p.Status.Phase == api.PodRunning && p.DeletionTimestamp == nil {
				running++
			}
		}
		if *rs.Spec.Replicas == n && running == int(n) {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("replicas = %d with %d Running Pods, want %d", *rs.Spec.Replicas, running, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// steady checks that the ReplicaSet keeps asking for n replicas over a dozen syncs.
func (e *env) steady(ns string, n int32) {
	e.t.Helper()
	for range 12 {
		rs, err := e.c.ReplicaSets(ns).Get(e.ctx, "web")
		if err != nil {
			e.t.Fatal(err)
		}
		if *rs.Spec.Replicas != n {
			e.t.Fatalf("replicas went from %d to %d while the clock stood still", n, *rs.Spec.Replicas)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitStatus waits until the autoscaler's status satisfies ok, and returns it.
func (e *env) waitStatus(ns string, what string, ok func(*api.HorizontalPodAutoscalerStatus) bool) *api.HorizontalPodAutoscaler {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		h, err := e.c.HorizontalPodAutoscalers(ns).Get(e.ctx, "web")
		if err != nil {
			e.t.Fatal(err)
		}
		if ok(&h.Status) {
			return h
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("autoscaler status: want %s, have %s", what, show(&h.Status))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func show(st *api.HorizontalPodAutoscalerStatus) string {
	var b strings.Builder
	fmt.Fprintf(&b, "current %d desired %d", st.CurrentReplicas, st.DesiredReplicas)
	for _, c := range st.Conditions {
		fmt.Fprintf(&b, "; %s=%s %s: %s", c.Type, c.Status, c.Reason, c.Message)
	}
	return b.String()
}

func cond(st *api.HorizontalPodAutoscalerStatus, typ string) api.HorizontalPodAutoscalerCondition {
	for _, c := range st.Conditions {
		if c.Type == typ {
			return c
		}
	}
	return api.HorizontalPodAutoscalerCondition{}
}

func hasCond(typ, status, reason string) func(*api.HorizontalPodAutoscalerStatus) bool {
	return func(st *api.HorizontalPodAutoscalerStatus) bool {
		c := cond(st, typ)
		return c.Status == status && c.Reason == reason
	}
}

// events returns the messages of the autoscaler's Events with reason.
func (e *env) events(ns, reason string) []string {
	e.t.Helper()
	evs, _, err := e.c.Events(ns).List(e.ctx, client.ListOptions{FieldSelector: "involvedObject.kind=HorizontalPodAutoscaler,involvedObject.name=web"})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		if ev.Reason == reason {
			out = append(out, ev.Message)
		}
	}
	slices.Sort(out)
	return out
}

func TestScaleUpAtThePolicyRate(t *testing.T) {
	e := start(t, nil)
	const ns = "up"
	e.namespace(ns)
	// Each Pod uses 200m of the 100m it requests: 200 % of a 50 % target asks for 4× the Pods.
	e.metrics.set(ns, api.ResourceList{api.ResourceCPU: api.MustParseQuantity("200m")}, nil)
	if _, err := e.c.ReplicaSets(ns).Create(e.ctx, webRS(ns, 1, api.ResourceList{api.ResourceCPU: api.MustParseQuantity("100m")})); err != nil {
		t.Fatal(err)
	}
	e.waitReplicas(ns, 1)
	if _, err := e.c.HorizontalPodAutoscalers(ns).Create(e.ctx, cpuHPA(ns, 4, onePodPer15s())); err != nil {
		t.Fatal(err)
	}
	first := e.clock.Now()

	// A new autoscaler is synced at once: one more Pod, then no more until 15 s have passed.
	e.waitReplicas(ns, 2)
	e.steady(ns, 2)
	h := e.waitStatus(ns, "2 replicas, limited by the scale-up rate", func(st *api.HorizontalPodAutoscalerStatus) bool {
		return st.CurrentReplicas == 2 && hasCond(api.HPAScalingLimited, api.ConditionTrue, "ScaleUpLimit")(st)
	})
	if h.Status.LastScaleTime == nil || !h.Status.LastScaleTime.Equal(first) {
		t.Errorf("lastScaleTime = %v, want %v", h.Status.LastScaleTime, first)
	}
	if c := cond(&h.Status, api.HPAScalingActive); c.Status != api.ConditionTrue || c.Reason != "ValidMetricFound" ||
		c.Message != "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)" {
		t.Errorf("ScalingActive = %+v", c)
	}
	if h.Status.ObservedGeneration == nil || *h.Status.ObservedGeneration != h.Generation {
		t.Errorf("observedGeneration = %v, want %d", h.Status.ObservedGeneration, h.Generation)
	}
	if m := h.Status.CurrentMetrics; len(m) != 1 || m[0].Resource == nil || m[0].Resource.Name != api.ResourceCPU ||
		m[0].Resource.Current.AverageUtilization == nil || *m[0].Resource.Current.AverageUtilization != 200 ||
		m[0].Resource.Current.AverageValue == nil || m[0].Resource.Current.AverageValue.MilliValue() != 200 {
		t.Errorf("currentMetrics = %+v", m)
	}
	if got := api.FormatHPATargets(h); got != "cpu: 200%/50%" {
		t.Errorf("targets = %q", got)
	}

	e.clock.Step(15 * time.Second)
	e.waitReplicas(ns, 3)
	e.steady(ns, 3)
	e.clock.Step(15 * time.Second)
	e.waitReplicas(ns, 4)
	// At maxReplicas the limit is max, not the rate.
	e.clock.Step(15 * time.Second)
	h = e.waitStatus(ns, "4 replicas, at maxReplicas", func(st *api.HorizontalPodAutoscalerStatus) bool {
		return st.CurrentReplicas == 4 && st.DesiredReplicas == 4 && hasCond(api.HPAScalingLimited, api.ConditionTrue, "TooManyReplicas")(st)
	})
	e.steady(ns, 4)
	if c := cond(&h.Status, api.HPAAbleToScale); c.Status != api.ConditionTrue {
		t.Errorf("AbleToScale = %+v", c)
	}
	if h.Status.LastScaleTime == nil || !h.Status.LastScaleTime.Equal(first.Add(30*time.Second)) {
		t.Errorf("lastScaleTime = %v, want %v", h.Status.LastScaleTime, first.Add(30*time.Second))
	}
	const why = "reason: cpu resource utilization (percentage of request) above target"
	want := []string{"New size: 2; " + why, "New size: 3; " + why, "New size: 4; " + why}
	if got := e.events(ns, "SuccessfulRescale"); !slices.Equal(got, want) {
		t.Errorf("SuccessfulRescale events = %q, want %q", got, want)
	}

	t.Run("scale down waits for the stabilization window", func(t *testing.T) {
		e := *e
		e.t = t
		// 20 % of a 50 % target: 2 Pods would do, but the last 300 s asked for 4.
		e.metrics.set(ns, api.ResourceList{api.ResourceCPU: api.MustParseQuantity("20m")}, nil)
		e.waitStatus(ns, "held by the scale-down window", hasCond(api.HPAAbleToScale, api.ConditionTrue, "ScaleDownStabilized"))
		e.steady(ns, 4)
		e.clock.Step(5 * time.Minute)
		e.waitReplicas(ns, 2)
		e.steady(ns, 2)
		if got := e.events(ns, "SuccessfulRescale"); !slices.Contains(got, "New size: 2; reason: All metrics below target") {
			t.Errorf("SuccessfulRescale events = %q", got)
		}
	})

	t.Run("failing metrics stop scaling and say why", func(t *testing.T) {
		e := *e
		e.t = t
		e.metrics.set(ns, nil, errors.New("metrics endpoint down"))
		h := e.waitStatus(ns, "ScalingActive=False FailedGetResourceMetric", hasCond(api.HPAScalingActive, api.ConditionFalse, "FailedGetResourceMetric"))
		if c := cond(&h.Status, api.HPAScalingActive); !strings.Contains(c.Message, "unable to get metrics for resource cpu: metrics endpoint down") {
			t.Errorf("ScalingActive = %+v", c)
		}
		e.steady(ns, 2)
		if len(e.events(ns, "FailedGetResourceMetric")) == 0 {
			t.Error("no FailedGetResourceMetric event")
		}
		// A sample a Pod never reported is missing, not zero.
		e.metrics.set(ns, api.ResourceList{api.ResourceMemory: api.MustParseQuantity("1Mi")}, nil)
		h = e.waitStatus(ns, "no cpu metrics", func(st *api.HorizontalPodAutoscalerStatus) bool {
			return strings.Contains(cond(st, api.HPAScalingActive).Message, "did not receive metrics for targeted pods")
		})
		e.metrics.set(ns, api.ResourceList{api.ResourceCPU: api.MustParseQuantity("50m")}, nil)
		e.waitStatus(ns, "ScalingActive=True", hasCond(api.HPAScalingActive, api.ConditionTrue, "ValidMetricFound"))
	})

	t.Run("a target scaled to zero disables scaling", func(t *testing.T) {
		e := *e
		e.t = t
		if _, err := e.c.ReplicaSets(ns).Patch(e.ctx, "web", []byte(`{"spec":{"replicas":0}}`)); err != nil {
			t.Fatal(err)
		}
		e.waitStatus(ns, "ScalingActive=False ScalingDisabled", func(st *api.HorizontalPodAutoscalerStatus) bool {
			return hasCond(api.HPAScalingActive, api.ConditionFalse, "ScalingDisabled")(st) && st.CurrentReplicas == 0 && st.DesiredReplicas == 0
		})
		e.steady(ns, 0)
	})

	t.Run("a missing target is reported", func(t *testing.T) {
		e := *e
		e.t = t
		h, err := e.c.HorizontalPodAutoscalers(ns).Get(e.ctx, "web")
		if err != nil {
			t.Fatal(err)
		}
		h.Spec.ScaleTargetRef.Name = "nope"
		if _, err := e.c.HorizontalPodAutoscalers(ns).Update(e.ctx, h); err != nil {
			t.Fatal(err)
		}
		h = e.waitStatus(ns, "AbleToScale=False FailedGetScale", hasCond(api.HPAAbleToScale, api.ConditionFalse, "FailedGetScale"))
		if c := cond(&h.Status, api.HPAAbleToScale); !strings.Contains(c.Message, "the HPA controller was unable to get the target's current scale") ||
			!strings.Contains(c.Message, "nope") {
			t.Errorf("AbleToScale = %+v", c)
		}
	})
}

// Two metrics: the larger proposal wins; memory is an AverageValue per Pod.
func TestLargestMetricWins(t *testing.T) {
	e := start(t, nil)
	const ns = "two"
	e.namespace(ns)
	// cpu at 60 % of a 50 % target asks for 3 Pods, memory at 300Mi per Pod for 100Mi asks for 6.
	e.metrics.set(ns, api.ResourceList{api.ResourceCPU: api.MustParseQuantity("60m"), api.ResourceMemory: api.MustParseQuantity("300Mi")}, nil)
	if _, err := e.c.ReplicaSets(ns).Create(e.ctx, webRS(ns, 2, api.ResourceList{api.ResourceCPU: api.MustParseQuantity("100m")})); err != nil {
		t.Fatal(err)
	}
	e.waitReplicas(ns, 2)
	h := cpuHPA(ns, 10, nil)
	h.Spec.Metrics = append(h.Spec.Metrics, api.MetricSpec{Type: api.MetricSourceResource, Resource: &api.ResourceMetricSource{
		Name: api.ResourceMemory, Target: api.MetricTarget{Type: api.MetricTargetAverageValue, AverageValue: ptr(api.MustParseQuantity("100Mi"))}}})
	if _, err := e.c.HorizontalPodAutoscalers(ns).Create(e.ctx, h); err != nil {
		t.Fatal(err)
	}
	// Kubernetes' default scale-up allows 4 Pods or 100 % per 15 s: 2 → 6 at once.
	e.waitReplicas(ns, 6)
	got := e.waitStatus(ns, "6 replicas", func(st *api.HorizontalPodAutoscalerStatus) bool { return st.CurrentReplicas == 6 })
	if targets := api.FormatHPATargets(got); targets != "cpu: 60%/50%, memory: 300Mi/100Mi" {
		t.Errorf("targets = %q", targets)
	}
	if ev := e.events(ns, "SuccessfulRescale"); len(ev) != 1 || ev[0] != "New size: 6; reason: memory resource above target" {
		t.Errorf("SuccessfulRescale events = %q", ev)
	}

	t.Run("above maxReplicas: back to max at once", func(t *testing.T) {
		e := *e
		e.t = t
		if _, err := e.c.ReplicaSets(ns).Patch(e.ctx, "web", []byte(`{"spec":{"replicas":12}}`)); err != nil {
			t.Fatal(err)
		}
		e.waitReplicas(ns, 10)
		if ev := e.events(ns, "SuccessfulRescale"); !slices.Contains(ev, "New size: 10; reason: Current number of replicas above Spec.MaxReplicas") {
			t.Errorf("SuccessfulRescale events = %q", ev)
		}
	})

	t.Run("two autoscalers of one target disable each other", func(t *testing.T) {
		e := *e
		e.t = t
		other := cpuHPA(ns, 10, nil)
		other.Name = "web2"
		if _, err := e.c.HorizontalPodAutoscalers(ns).Create(e.ctx, other); err != nil {
			t.Fatal(err)
		}
		h := e.waitStatus(ns, "ScalingActive=False AmbiguousSelector", hasCond(api.HPAScalingActive, api.ConditionFalse, "AmbiguousSelector"))
		if c := cond(&h.Status, api.HPAScalingActive); c.Message != "pods by selector app=web are controlled by multiple HPAs: [two/web two/web2]" {
			t.Errorf("ScalingActive = %+v", c)
		}
	})
}

// The real metrics path: kubelets' usage reports through the API server, read back by the
// autoscaler with the client.
func TestScaleOnReportedUsage(t *testing.T) {
	e := start(t, func(c *client.Client) hpa.MetricsSource { return c })
	const ns = "real"
	e.namespace(ns)
	// A node's kubelet reports 200Mi for each of its Pods, every 100 ms.
	e.every(100*time.Millisecond, func() {
		pods, _, err := e.c.Pods(ns).List(e.ctx, client.ListOptions{})
		if err != nil {
			return
		}
		r := &api.UsageReport{Node: api.NodeMetrics{ObjectMeta: api.ObjectMeta{Name: "n1"}, Timestamp: api.NewTime(e.clock.Now()),
			Window: api.Duration{Duration: 15 * time.Second}, Usage: api.ResourceList{api.ResourceCPU: api.MustParseQuantity("1")}}}
		for _, p := range pods {
			if p.Status.Phase == api.PodRunning {
				r.Pods = append(r.Pods, podMetrics(p, api.ResourceList{api.ResourceMemory: api.MustParseQuantity("200Mi")}, e.clock.Now()))
			}
		}
		if err := e.c.ReportUsage(e.ctx, r); err != nil && e.ctx.Err() == nil {
			e.t.Logf("report usage: %v", err)
		}
	})
	if _, err := e.c.ReplicaSets(ns).Create(e.ctx, webRS(ns, 1, api.ResourceList{api.ResourceMemory: api.MustParseQuantity("128Mi")})); err != nil {
		t.Fatal(err)
	}
	e.waitReplicas(ns, 1)
	h := cpuHPA(ns, 3, onePodPer15s())
	h.Spec.Metrics = []api.MetricSpec{{Type: api.MetricSourceResource, Resource: &api.ResourceMetricSource{
		Name: api.ResourceMemory, Target: api.MetricTarget{Type: api.MetricTargetAverageValue, AverageValue: ptr(api.MustParseQuantity("100Mi"))}}}}
	if _, err := e.c.HorizontalPodAutoscalers(ns).Create(e.ctx, h); err != nil {
		t.Fatal(err)
	}
	e.waitReplicas(ns, 2)
	e.steady(ns, 2)
	e.clock.Step(15 * time.Second)
	e.waitReplicas(ns, 3)
	got := e.waitStatus(ns, "3 replicas at max", func(st *api.HorizontalPodAutoscalerStatus) bool {
		return st.CurrentReplicas == 3 && hasCond(api.HPAScalingActive, api.ConditionTrue, "ValidMetricFound")(st)
	})
	if targets := api.FormatHPATargets(got); targets != "memory: 200Mi/100Mi" {
		t.Errorf("targets = %q", targets)
	}
}
