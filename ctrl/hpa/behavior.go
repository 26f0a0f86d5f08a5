package hpa

import (
	"math"
	"time"

	"github.com/minik8s/minik8s/api"
)

// Reasons and messages of the AbleToScale and ScalingLimited conditions that behavior sets, as
// Kubernetes words them.
const (
	reasonReadyForNewScale    = "ReadyForNewScale"
	reasonScaleUpStabilized   = "ScaleUpStabilized"
	reasonScaleDownStabilized = "ScaleDownStabilized"
	reasonScaleUpLimit        = "ScaleUpLimit"
	reasonScaleDownLimit      = "ScaleDownLimit"
	reasonTooManyReplicas     = "TooManyReplicas"
	reasonTooFewReplicas      = "TooFewReplicas"
	reasonDesiredWithinRange  = "DesiredWithinRange"

	msgTooMany = "the desired replica count is more than the maximum replica count"
	msgTooFew  = "the desired replica count is less than the minimum replica count"
)

// recommendation is one unstabilized replica count the metrics asked for, and when.
type recommendation struct {
	replicas int32
	at       time.Time
}

// scaleEvent is one change of the target's replicas made by the controller.
type scaleEvent struct {
	change   int32 // always positive: how many Pods were added (or removed)
	at       time.Time
	outdated bool // older than the longest policy period: its slot may be reused
}

// history is what the controller remembers of one autoscaler between syncs, in memory as in
// Kubernetes: the recommendations within the stabilization windows and the scale events within
// the policy periods. After a restart it starts afresh (see recordInitial).
type history struct {
	recommendations []recommendation
	up, down        []scaleEvent
}

// recordInitial seeds an empty history with the current replicas, as Kubernetes'
// recordInitialRecommendation does, so that a new autoscaler (or a restarted controller) does
// not scale down before a whole scale-down window has been observed.
func (h *history) recordInitial(current int32, now time.Time) {
	if h.recommendations == nil {
		h.recommendations = []recommendation{{replicas: current, at: now}}
	}
}

// limits is the input of normalize.
type limits struct {
	current, desired int32
	min, max         int32
	up, down         *api.HPAScalingRules
}

// normalized is what normalize decided, with the conditions it explains itself by.
type normalized struct {
	replicas int32
	// stabilized is the recommendation after the stabilization windows.
	stabilized                    int32
	ableReason, ableMessage       string // AbleToScale (True)
	limited                       bool   // ScalingLimited
	limitedReason, limitedMessage string
}

// normalize is Kubernetes' normalizeDesiredReplicasWithBehaviors: it stabilizes the desired
// count over the windows (recording it), then bounds the change by the policies and the
// replicas by min and max.
func (h *history) normalize(l limits, now time.Time) normalized {
	var out normalized
	out.stabilized, out.ableReason, out.ableMessage = h.stabilize(l, now)
	if out.stabilized == l.desired {
		out.ableReason, out.ableMessage = reasonReadyForNewScale, "recommended size matches current size"
	}
	l.desired = out.stabilized
	out.replicas, out.limitedReason, out.limitedMessage = h.rateLimit(l, now)
	out.limited = out.replicas != out.stabilized
	return out
}

// stabilize returns the recommendation after the windows: at least the lowest recommendation
// within the scale-up window and at most the highest within the scale-down window, starting
// from the current count. It records l.desired, reusing the slot of a recommendation older
// than both windows.
func (h *history) stabilize(l limits, now time.Time) (int32, string, string) {
	upRec, downRec := l.desired, l.desired
	upCutoff := now.Add(-seconds(l.up.StabilizationWindowSeconds))
	downCutoff := now.Add(-seconds(l.down.StabilizationWindowSeconds))
	old := -1
	for i, r := range h.recommendations {
		if r.at.After(upCutoff) {
			upRec = min(upRec, r.replicas)
		}
		if r.at.After(downCutoff) {
			downRec = max(downRec, r.replicas)
		}
		if r.at.Before(upCutoff) && r.at.Before(downCutoff) {
			old = i
		}
	}
	rec := l.current
	if rec < upRec {
		rec = upRec
	}
	if rec > downRec {
		rec = downRec
	}
	if old >= 0 {
		h.recommendations[old] = recommendation{replicas: l.desired, at: now}
	} else {
		h.recommendations = append(h.recommendations, recommendation{replicas: l.desired, at: now})
	}
	if l.desired >= l.current {
		return rec, reasonScaleUpStabilized, "recent recommendations were lower than current one, applying the lowest recent recommendation"
	}
	return rec, reasonScaleDownStabilized, "recent recommendations were higher than current one, applying the highest recent recommendation"
}

// rateLimit is Kubernetes' convertDesiredReplicasWithBehaviorRate: the desired count bounded
// by what the policies allow from the current one, and by max (up) or min (down).
func (h *history) rateLimit(l limits, now time.Time) (int32, string, string) {
	switch {
	case l.desired > l.current:
		limit := max(scaleUpLimit(l.current, h.up, h.down, l.up, now), l.current)
		allowed, reason, msg := l.max, reasonTooManyReplicas, msgTooMany
		if allowed > limit {
			allowed, reason, msg = limit, reasonScaleUpLimit, "the desired replica count is increasing faster than the maximum scale rate"
		}
		if l.desired > allowed {
			return allowed, reason, msg
		}
	case l.desired < l.current:
		limit := min(scaleDownLimit(l.current, h.up, h.down, l.down, now), l.current)
		allowed, reason, msg := l.min, reasonTooFewReplicas, msgTooFew
		if allowed < limit {
			allowed, reason, msg = limit, reasonScaleDownLimit, "the desired replica count is decreasing faster than the maximum scale rate"
		}
		if l.desired < allowed {
			return allowed, reason, msg
		}
	}
	return l.desired, reasonDesiredWithinRange, "the desired count is within the acceptable range"
}

// scaleUpLimit is the most replicas the scale-up policies allow now: for each policy, the
// count at the start of its period plus its Pods or Percent (rounded up, so that a small
// target still grows); the largest of them for selectPolicy Max, the smallest for Min, and
// the current count when Disabled.
func scaleUpLimit(current int32, up, down []scaleEvent, rules *api.HPAScalingRules, now time.Time) int32 {
	sel := selectPolicy(rules)
	if sel == api.ScalingPolicySelectDisabled {
		return current
	}
	result, pick := int32(math.MinInt32), maxInt32
	if sel == api.ScalingPolicySelectMin {
		result, pick = math.MaxInt32, minInt32
	}
	for _, p := range rules.Policies {
		start := current - changeInPeriod(p.PeriodSeconds, up, now) + changeInPeriod(p.PeriodSeconds, down, now)
		var proposed int32
		switch p.Type {
		case api.HPAScalingPolicyPods:
			proposed = start + p.Value
		case api.HPAScalingPolicyPercent:
			proposed = int32(math.Ceil(float64(start) * (1 + float64(p.Value)/100)))
		default:
			continue
		}
		result = pick(result, proposed)
	}
	return result
}

// scaleDownLimit is the fewest replicas the scale-down policies allow now: for each policy,
// the count at the start of its period less its Pods or Percent (the remainder rounded down);
// the smallest of them for selectPolicy Max (the biggest change), the largest for Min, and
// the current count when Disabled.
func scaleDownLimit(current int32, up, down []scaleEvent, rules *api.HPAScalingRules, now time.Time) int32 {
	sel := selectPolicy(rules)
	if sel == api.ScalingPolicySelectDisabled {
		return current
	}
	result, pick := int32(math.MaxInt32), minInt32
	if sel == api.ScalingPolicySelectMin {
		result, pick = math.MinInt32, maxInt32
	}
	for _, p := range rules.Policies {
		start := current - changeInPeriod(p.PeriodSeconds, up, now) + changeInPeriod(p.PeriodSeconds, down, now)
		var proposed int32
		switch p.Type {
		case api.HPAScalingPolicyPods:
			proposed = start - p.Value
		case api.HPAScalingPolicyPercent:
			proposed = int32(float64(start) * (1 - float64(p.Value)/100))
		default:
			continue
		}
		result = pick(result, proposed)
	}
	return result
}

func minInt32(a, b int32) int32 { return min(a, b) }
func maxInt32(a, b int32) int32 { return max(a, b) }

func selectPolicy(r *api.HPAScalingRules) string {
	if r.SelectPolicy == nil {
		return api.ScalingPolicySelectMax
	}
	return *r.SelectPolicy
}

// changeInPeriod sums the changes of the events newer than periodSeconds ago.
func changeInPeriod(periodSeconds int32, events []scaleEvent, now time.Time) int32 {
	cutoff := now.Add(-time.Duration(periodSeconds) * time.Second)
	var n int32
	for _, e := range events {
		if e.at.After(cutoff) {
			n += e.change
		}
	}
	return n
}

// recordScale remembers a change from prev to next replicas made now, reusing the slot of an
// event older than the longest policy period of its direction.
func (h *history) recordScale(b *api.HorizontalPodAutoscalerBehavior, prev, next int32, now time.Time) {
	switch {
	case next > prev:
		h.up = addScaleEvent(h.up, longestPeriod(b.ScaleUp), next-prev, now)
	case next < prev:
		h.down = addScaleEvent(h.down, longestPeriod(b.ScaleDown), prev-next, now)
	}
}

func addScaleEvent(events []scaleEvent, longest int32, change int32, now time.Time) []scaleEvent {
	cutoff := now.Add(-time.Duration(longest) * time.Second)
	old := -1
	for i := range events {
		if events[i].at.Before(cutoff) {
			events[i].outdated = true
		}
		if events[i].outdated {
			old = i
		}
	}
	e := scaleEvent{change: change, at: now}
	if old >= 0 {
		events[old] = e
		return events
	}
	return append(events, e)
}

func longestPeriod(r *api.HPAScalingRules) int32 {
	var longest int32
	for _, p := range r.Policies {
		longest = max(longest, p.PeriodSeconds)
	}
	return longest
}

func seconds(s *int32) time.Duration {
	if s == nil {
		return 0
	}
	return time.Duration(*s) * time.Second
}

// behaviorOf returns hpa's behavior with every field the API server defaults filled, so that
// an object stored before defaulting (or written straight into etcd) still works.
func behaviorOf(h *api.HorizontalPodAutoscaler) *api.HorizontalPodAutoscalerBehavior {
	b := &api.HorizontalPodAutoscalerBehavior{}
	if h.Spec.Behavior != nil {
		*b = *h.Spec.Behavior
	}
	b.ScaleUp = rulesOrDefault(b.ScaleUp, api.DefaultHPAScaleUp())
	b.ScaleDown = rulesOrDefault(b.ScaleDown, api.DefaultHPAScaleDown())
	return b
}

func rulesOrDefault(r, def *api.HPAScalingRules) *api.HPAScalingRules {
	if r == nil {
		return def
	}
	out := *r
	if out.StabilizationWindowSeconds == nil {
		out.StabilizationWindowSeconds = def.StabilizationWindowSeconds
	}
	if out.SelectPolicy == nil {
		out.SelectPolicy = def.SelectPolicy
	}
	if len(out.Policies) == 0 {
		out.Policies = def.Policies
	}
	return &out
}
