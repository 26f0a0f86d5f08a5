package hpa

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/minik8s/minik8s/api"
)

// podMetric is one Pod's usage of one resource, in thousandths of a unit (millicores, or
// millibytes for memory, as Kubernetes' metrics client counts both), with when and over how
// long it was measured.
type podMetric struct {
	value     int64
	timestamp time.Time
	window    time.Duration
}

// podMetrics are the usages of the Pods of one target, by Pod name.
type podMetrics map[string]podMetric

// resourceMetrics picks the usage of resource out of list, by Pod name. A Pod with a
// container that reports no usage of the resource is left out, as Kubernetes' metrics client
// leaves it out: it counts as a Pod without metrics.
func resourceMetrics(list *api.PodMetricsList, resource string) podMetrics {
	out := podMetrics{}
	if list == nil {
		return out
	}
	for i := range list.Items {
		m := &list.Items[i]
		var sum int64
		complete := len(m.Containers) > 0
		for _, c := range m.Containers {
			q, ok := c.Usage[resource]
			if !ok {
				complete = false
				break
			}
			sum += q.MilliValue()
		}
		if complete {
			out[m.Name] = podMetric{value: sum, timestamp: m.Timestamp.Time, window: m.Window.Duration}
		}
	}
	return out
}

// calculator computes replica counts from Pods and their usage, as Kubernetes'
// ReplicaCalculator does. It is a value: every field is an input, now included.
type calculator struct {
	tolerance                     float64
	cpuInitializationPeriod       time.Duration
	delayOfInitialReadinessStatus time.Duration
	now                           time.Time
}

// Errors of the replica calculation.
var (
	errNoPods         = errors.New("no pods returned by selector while calculating replica count")
	errNoReadyMetrics = errors.New("did not receive metrics for targeted pods (pods might be unready)")
	errNoMatched      = errors.New("no metrics returned matched known pods")
)

// podGroups is how groupPods sorts the Pods of a target.
type podGroups struct {
	ready   int             // Pods whose metrics count
	unready map[string]bool // pending, or (for cpu) not ready or still warming up: 0 on a scale-up
	missing map[string]bool // running but without metrics
	ignored map[string]bool // deleted or failed: never counted
}

// groupPods sorts pods as Kubernetes' groupPods does. For cpu, a Pod that is not Ready, or
// whose Ready condition or start time is unknown, is unready while it is within
// cpuInitializationPeriod of its start; and so is a Ready one whose metric was sampled less
// than one window after it became Ready (its start-up burst would inflate the average).
// After that period, only a Pod that is not Ready and never was (its Ready condition turned
// False within delayOfInitialReadinessStatus of its start) is unready.
func (c calculator) groupPods(pods []*api.Pod, metrics podMetrics, resource string) podGroups {
	g := podGroups{unready: map[string]bool{}, missing: map[string]bool{}, ignored: map[string]bool{}}
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil || pod.Status.Phase == api.PodFailed {
			g.ignored[pod.Name] = true
			continue
		}
		if pod.Status.Phase == api.PodPending {
			g.unready[pod.Name] = true
			continue
		}
		m, found := metrics[pod.Name]
		if !found {
			g.missing[pod.Name] = true
			continue
		}
		if resource == api.ResourceCPU {
			var unready bool
			cond := readyCondition(pod)
			switch {
			case cond == nil || pod.Status.StartTime == nil:
				unready = true
			case pod.Status.StartTime.Add(c.cpuInitializationPeriod).After(c.now):
				unready = cond.Status == api.ConditionFalse || m.timestamp.Before(cond.LastTransitionTime.Add(m.window))
			default:
				unready = cond.Status == api.ConditionFalse && pod.Status.StartTime.Add(c.delayOfInitialReadinessStatus).After(cond.LastTransitionTime.Time)
			}
			if unready {
				g.unready[pod.Name] = true
				continue
			}
		}
		g.ready++
	}
	return g
}

func readyCondition(pod *api.Pod) *api.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == api.PodReady {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

// requests sums each Pod's requests of resource, in thousandths. A container without a request
// for it makes utilization meaningless: that is an error naming the container.
func requests(pods []*api.Pod, resource string) (map[string]int64, error) {
	out := make(map[string]int64, len(pods))
	for _, pod := range pods {
		var sum int64
		for _, ct := range pod.Spec.Containers {
			q, ok := ct.Resources.Requests[resource]
			if !ok || q.IsZero() {
				return nil, fmt.Errorf("missing request for %s in container %s of Pod %s", resource, ct.Name, pod.Name)
			}
			sum += q.MilliValue()
		}
		out[pod.Name] = sum
	}
	return out, nil
}

// usable copies metrics without the Pods that are not in pods or are in one of the skip sets.
// Kubernetes keeps usage reported for Pods its lister does not show; minik8s counts only the
// Pods it can see, so the count it multiplies by is the count it averaged over.
func usable(metrics podMetrics, pods []*api.Pod, skip ...map[string]bool) podMetrics {
	known := make(map[string]bool, len(pods))
	for _, p := range pods {
		known[p.Name] = true
	}
	out := podMetrics{}
outer:
	for name, m := range metrics {
		if !known[name] {
			continue
		}
		for _, s := range skip {
			if s[name] {
				continue outer
			}
		}
		out[name] = m
	}
	return out
}

// utilizationRatio is Kubernetes' GetResourceUtilizationRatio: the usage of the Pods with
// requests over their requests, in whole percent, over the target; and the average raw usage.
func utilizationRatio(metrics podMetrics, req map[string]int64, target int32) (ratio float64, utilization int32, rawAverage int64, err error) {
	var total, reqTotal int64
	n := 0
	for name, m := range metrics {
		r, ok := req[name]
		if !ok {
			continue
		}
		total += m.value
		reqTotal += r
		n++
	}
	if reqTotal == 0 {
		return 0, 0, 0, errNoMatched
	}
	utilization = int32(total * 100 / reqTotal)
	return float64(utilization) / float64(target), utilization, total / int64(n), nil
}

// usageRatio is Kubernetes' GetMetricUsageRatio: the average usage over the target.
func usageRatio(metrics podMetrics, target int64) (float64, int64) {
	var total int64
	for _, m := range metrics {
		total += m.value
	}
	avg := total / int64(len(metrics))
	return float64(avg) / float64(target), avg
}

// utilizationReplicas is the replica count that brings the average utilization of resource
// (percent of the Pods' requests) to target, as Kubernetes' GetResourceReplicas computes it. It
// also returns the current utilization and average usage (thousandths), for the status.
//
// Within tolerance of the target nothing changes. Otherwise, with every Pod measured and
// ready, the answer is ceil(ratio × ready Pods). Pods without metrics count as using 100 % of
// their request (or the target, when it is above 100 %) on a scale-down and 0 on a scale-up;
// unready Pods count as 0 on a scale-up; and if that guess reverses the direction, or the
// change falls within tolerance, nothing changes.
func (c calculator) utilizationReplicas(current, target int32, resource string, pods []*api.Pod, metrics podMetrics) (int32, int32, int64, error) {
	if len(pods) == 0 {
		return 0, 0, 0, errNoPods
	}
	g := c.groupPods(pods, metrics, resource)
	metrics = usable(metrics, pods, g.ignored, g.unready)
	if len(metrics) == 0 {
		return 0, 0, 0, errNoReadyMetrics
	}
	req, err := requests(pods, resource)
	if err != nil {
		return 0, 0, 0, err
	}
	ratio, utilization, raw, err := utilizationRatio(metrics, req, target)
	if err != nil {
		return 0, 0, 0, err
	}
	scaleUpWithUnready := len(g.unready) > 0 && ratio > 1.0
	if !scaleUpWithUnready && len(g.missing) == 0 {
		if math.Abs(1.0-ratio) <= c.tolerance {
			return current, utilization, raw, nil
		}
		return int32(math.Ceil(ratio * float64(g.ready))), utilization, raw, nil
	}
	if len(g.missing) > 0 {
		switch {
		case ratio < 1.0:
			fallback := int64(max(100, target))
			for name := range g.missing {
				metrics[name] = podMetric{value: req[name] * fallback / 100}
			}
		case ratio > 1.0:
			for name := range g.missing {
				metrics[name] = podMetric{}
			}
		}
	}
	if scaleUpWithUnready {
		for name := range g.unready {
			metrics[name] = podMetric{}
		}
	}
	newRatio, _, _, err := utilizationRatio(metrics, req, target)
	if err != nil {
		return 0, utilization, raw, err
	}
	if math.Abs(1.0-newRatio) <= c.tolerance || (ratio < 1.0 && newRatio > 1.0) || (ratio > 1.0 && newRatio < 1.0) {
		return current, utilization, raw, nil
	}
	n := int32(math.Ceil(newRatio * float64(len(metrics))))
	if (newRatio < 1.0 && n > current) || (newRatio > 1.0 && n < current) {
		return current, utilization, raw, nil
	}
	return n, utilization, raw, nil
}

// averageValueReplicas is the replica count that brings the average usage of resource per Pod
// to target (thousandths), as Kubernetes' GetRawResourceReplicas computes it, with the same
// rules for missing and unready Pods as utilizationReplicas (a missing Pod counts as the
// target on a scale-down). It also returns the current average usage.
func (c calculator) averageValueReplicas(current int32, target int64, resource string, pods []*api.Pod, metrics podMetrics) (int32, int64, error) {
	if len(pods) == 0 {
		return 0, 0, errNoPods
	}
	g := c.groupPods(pods, metrics, resource)
	metrics = usable(metrics, pods, g.ignored, g.unready)
	if len(metrics) == 0 {
		return 0, 0, errNoReadyMetrics
	}
	ratio, avg := usageRatio(metrics, target)
	scaleUpWithUnready := len(g.unready) > 0 && ratio > 1.0
	if !scaleUpWithUnready && len(g.missing) == 0 {
		if math.Abs(1.0-ratio) <= c.tolerance {
			return current, avg, nil
		}
		return int32(math.Ceil(ratio * float64(g.ready))), avg, nil
	}
	if len(g.missing) > 0 {
		v := int64(0)
		if ratio < 1.0 {
			v = target
		}
		for name := range g.missing {
			metrics[name] = podMetric{value: v}
		}
	}
	if scaleUpWithUnready {
		for name := range g.unready {
			metrics[name] = podMetric{}
		}
	}
	newRatio, _ := usageRatio(metrics, target)
	if math.Abs(1.0-newRatio) <= c.tolerance || (ratio < 1.0 && newRatio > 1.0) || (ratio > 1.0 && newRatio < 1.0) {
		return current, avg, nil
	}
	n := int32(math.Ceil(newRatio * float64(len(metrics))))
	if (newRatio < 1.0 && n > current) || (newRatio > 1.0 && n < current) {
		return current, avg, nil
	}
	return n, avg, nil
}
