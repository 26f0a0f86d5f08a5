package hpa

import (
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
)

// sim drives one autoscaler's history as the controller does, on a fake clock: each step is one
// sync, whose metrics ask for desired replicas.
type sim struct {
	t        *testing.T
	h        history
	now      time.Time
	current  int32
	min, max int32
	b        *api.HorizontalPodAutoscalerBehavior
}

func newSim(t *testing.T, current int32, b *api.HorizontalPodAutoscalerBehavior) *sim {
	h := &api.HorizontalPodAutoscaler{Spec: api.HorizontalPodAutoscalerSpec{Behavior: b}}
	s := &sim{t: t, now: t0, current: current, min: 1, max: 1000, b: behaviorOf(h)}
	s.h.recordInitial(current, s.now)
	return s
}

// at moves the clock to d after the start.
func (s *sim) at(d time.Duration) *sim {
	s.now = t0.Add(d)
	return s
}

// step syncs once and checks the replicas it scales to.
func (s *sim) step(desired, want int32) normalized {
	s.t.Helper()
	n := s.h.normalize(limits{current: s.current, desired: desired, min: s.min, max: s.max, up: s.b.ScaleUp, down: s.b.ScaleDown}, s.now)
	if n.replicas != want {
		s.t.Fatalf("at +%s from %d asking %d: scaled to %d, want %d (%+v)", s.now.Sub(t0), s.current, desired, n.replicas, want, n)
	}
	if n.replicas != s.current {
		s.h.recordScale(s.b, s.current, n.replicas, s.now)
		s.current = n.replicas
	}
	return n
}

func rules(window int32, sel string, policies ...api.HPAScalingPolicy) *api.HPAScalingRules {
	return &api.HPAScalingRules{StabilizationWindowSeconds: &window, SelectPolicy: &sel, Policies: policies}
}

func pods(n, period int32) api.HPAScalingPolicy {
	return api.HPAScalingPolicy{Type: api.HPAScalingPolicyPods, Value: n, PeriodSeconds: period}
}

func percent(n, period int32) api.HPAScalingPolicy {
	return api.HPAScalingPolicy{Type: api.HPAScalingPolicyPercent, Value: n, PeriodSeconds: period}
}

// Kubernetes' docs, "Scaling Policies": 4 Pods or 10 % per minute. With selectPolicy Max (the
// biggest change) 80 replicas lose 8 first, then 10 % (rounded up) while above 40 Pods, then 4.
func TestScaleDownPoliciesMax(t *testing.T) {
	s := newSim(t, 80, &api.HorizontalPodAutoscalerBehavior{
		ScaleDown: rules(0, api.ScalingPolicySelectMax, pods(4, 60), percent(10, 60))})
	n := s.step(10, 72)
	if !n.limited || n.limitedReason != reasonScaleDownLimit {
		t.Errorf("ScalingLimited: %+v", n)
	}
	s.at(30*time.Second).step(10, 72) // within the period: nothing more
	for i, want := range []int32{64, 57, 51, 45, 40, 36, 32, 28, 24, 20, 16, 12, 10} {
		s.at(time.Duration(i+1)*time.Minute).step(10, want)
	}
	n = s.at(20*time.Minute).step(10, 10)
	if n.limited || n.limitedReason != reasonDesiredWithinRange || n.ableReason != reasonReadyForNewScale {
		t.Errorf("at the target: %+v", n)
	}
}

// The same policies with selectPolicy Min (the smallest change): 4 Pods while 10 % is more.
func TestScaleDownPoliciesMin(t *testing.T) {
	s := newSim(t, 80, &api.HorizontalPodAutoscalerBehavior{
		ScaleDown: rules(0, api.ScalingPolicySelectMin, pods(4, 60), percent(10, 60))})
	s.step(10, 76)
	s.at(59*time.Second).step(10, 76)
	for i, want := range []int32{72, 68, 64, 60, 56, 52, 48, 44, 40, 36, 32, 28, 25, 22} {
		s.at(time.Duration(i+1)*time.Minute).step(10, want)
	}
}

// One Pod per 15 s, step by step, whatever the metrics ask for.
func TestScaleUpOnePodPer15s(t *testing.T) {
	s := newSim(t, 1, &api.HorizontalPodAutoscalerBehavior{ScaleUp: rules(0, api.ScalingPolicySelectMax, pods(1, 15))})
	s.step(5, 2)
	for _, d := range []time.Duration{5, 10, 14} {
		n := s.at(d*time.Second).step(5, 2)
		if !n.limited || n.limitedReason != reasonScaleUpLimit || n.limitedMessage != "the desired replica count is increasing faster than the maximum scale rate" {
			t.Errorf("+%ds: %+v", d, n)
		}
	}
	s.at(15*time.Second).step(5, 3)
	s.at(30*time.Second).step(5, 4)
	s.at(44*time.Second).step(5, 4)
	s.at(45*time.Second).step(5, 5)
	if n := s.at(60*time.Second).step(5, 5); n.limited || n.limitedReason != reasonDesiredWithinRange {
		t.Errorf("at the target: %+v", n)
	}
}

// Kubernetes' default scale-up: 4 Pods or 100 % per 15 s, whichever is more; max bounds it.
func TestScaleUpDefault(t *testing.T) {
	s := newSim(t, 1, nil)
	s.max = 15
	s.step(20, 5)
	s.at(10*time.Second).step(20, 5)
	s.at(15*time.Second).step(20, 10)
	n := s.at(30*time.Second).step(20, 15)
	if !n.limited || n.limitedReason != reasonTooManyReplicas || n.limitedMessage != msgTooMany {
		t.Errorf("at max: %+v", n)
	}
}

// Kubernetes' default scale-down: the highest recommendation of the last 300 s, starting
// with the replicas the controller found.
func TestScaleDownStabilizationWindow(t *testing.T) {
	s := newSim(t, 5, nil)
	n := s.step(2, 5)
	if n.ableReason != reasonScaleDownStabilized || n.stabilized != 5 || n.limited {
		t.Errorf("held: %+v", n)
	}
	s.at(60*time.Second).step(3, 5)
	s.at(120*time.Second).step(2, 5)
	s.at(299*time.Second).step(2, 5)
	// The initial recommendation (5, at 0 s) has left the window; the highest left is 3.
	n = s.at(301*time.Second).step(2, 3)
	if n.ableReason != reasonScaleDownStabilized || n.stabilized != 3 {
		t.Errorf("at 301 s: %+v", n)
	}
	s.at(361*time.Second).step(2, 2)
	// A higher recommendation is followed at once (no scale-up window)...
	s.at(362*time.Second).step(4, 4)
	// ...and held for the scale-down window.
	s.at(400*time.Second).step(1, 4)
	s.at(662*time.Second).step(1, 1)
	if len(s.h.recommendations) > 10 {
		t.Errorf("recommendations are reused, not piled up: %d", len(s.h.recommendations))
	}
}

// A scale-up window holds the lowest recommendation of the window.
func TestScaleUpStabilizationWindow(t *testing.T) {
	s := newSim(t, 2, &api.HorizontalPodAutoscalerBehavior{ScaleUp: rules(60, api.ScalingPolicySelectMax, pods(4, 15))})
	n := s.step(6, 2)
	if n.ableReason != reasonScaleUpStabilized || n.ableMessage != "recent recommendations were lower than current one, applying the lowest recent recommendation" {
		t.Errorf("held: %+v", n)
	}
	s.at(30*time.Second).step(8, 2)
	s.at(61*time.Second).step(8, 6) // the recommendations of 0 s have left the window; 4 Pods per 15 s
	s.at(91*time.Second).step(8, 8)
}

func TestDisabled(t *testing.T) {
	s := newSim(t, 10, &api.HorizontalPodAutoscalerBehavior{ScaleDown: rules(0, api.ScalingPolicySelectDisabled, percent(100, 15))})
	n := s.step(2, 10)
	if !n.limited || n.limitedReason != reasonScaleDownLimit {
		t.Errorf("scale-down disabled: %+v", n)
	}
	s.at(time.Hour).step(2, 10)
	s.at(2*time.Hour).step(14, 14) // scale-up still works

	s = newSim(t, 3, &api.HorizontalPodAutoscalerBehavior{ScaleUp: rules(0, api.ScalingPolicySelectDisabled, pods(4, 15))})
	if n := s.step(9, 3); !n.limited || n.limitedReason != reasonScaleUpLimit {
		t.Errorf("scale-up disabled: %+v", n)
	}
	s.at(6*time.Minute).step(1, 1) // scale-down still works, once its window has passed
}

func TestMinMax(t *testing.T) {
	s := newSim(t, 3, &api.HorizontalPodAutoscalerBehavior{ScaleDown: rules(0, api.ScalingPolicySelectMax, percent(100, 15))})
	s.min = 2
	n := s.step(0, 2)
	if !n.limited || n.limitedReason != reasonTooFewReplicas || n.limitedMessage != msgTooFew {
		t.Errorf("below min: %+v", n)
	}
}

// The start of a period counts the changes of both directions within it.
func TestPeriodCountsBothDirections(t *testing.T) {
	s := newSim(t, 5, &api.HorizontalPodAutoscalerBehavior{
		ScaleUp:   rules(0, api.ScalingPolicySelectMax, pods(1, 60)),
		ScaleDown: rules(0, api.ScalingPolicySelectMax, pods(10, 60)),
	})
	s.step(10, 6)
	s.at(10*time.Second).step(4, 4)
	// The period began at 5 Pods (5 = 4 − 1 added + 2 removed): one more is allowed.
	s.at(20*time.Second).step(10, 6)
	s.at(30*time.Second).step(10, 6)
	// The period began at 6 Pods (6 = 6 − 2 added + 2 removed since 1 s).
	s.at(61*time.Second).step(10, 7)
	s.at(81*time.Second).step(10, 7)
	s.at(121*time.Second).step(10, 8)
}

func TestBehaviorDefaults(t *testing.T) {
	up := int32(30)
	b := behaviorOf(&api.HorizontalPodAutoscaler{Spec: api.HorizontalPodAutoscalerSpec{Behavior: &api.HorizontalPodAutoscalerBehavior{
		ScaleUp: &api.HPAScalingRules{StabilizationWindowSeconds: &up}}}})
	if *b.ScaleUp.StabilizationWindowSeconds != 30 || *b.ScaleUp.SelectPolicy != api.ScalingPolicySelectMax || len(b.ScaleUp.Policies) != 2 {
		t.Errorf("scaleUp = %+v", b.ScaleUp)
	}
	if *b.ScaleDown.StabilizationWindowSeconds != 300 || len(b.ScaleDown.Policies) != 1 {
		t.Errorf("scaleDown = %+v", b.ScaleDown)
	}
}
