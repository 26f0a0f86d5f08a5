package api

import "slices"

// GroupAutoscaling is the API group of the HorizontalPodAutoscaler.
const GroupAutoscaling = "autoscaling"

// HorizontalPodAutoscaler changes the replicas of a ReplicaSet with the CPU and memory its Pods
// use. It has the shape of Kubernetes' autoscaling/v2 kind; the metrics it reads are of type
// Resource (cpu, memory) only.
type HorizontalPodAutoscaler struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata"`
	Spec       HorizontalPodAutoscalerSpec   `json:"spec"`
	Status     HorizontalPodAutoscalerStatus `json:"status,omitempty"`
}

// HorizontalPodAutoscalerSpec is what to scale, between which bounds, on which metrics and how fast.
type HorizontalPodAutoscalerSpec struct {
	ScaleTargetRef CrossVersionObjectReference      `json:"scaleTargetRef"`
	MinReplicas    *int32                           `json:"minReplicas,omitempty"`
	MaxReplicas    int32                            `json:"maxReplicas"`
	Metrics        []MetricSpec                     `json:"metrics,omitempty"`
	Behavior       *HorizontalPodAutoscalerBehavior `json:"behavior,omitempty"`
}

// CrossVersionObjectReference names the object an autoscaler scales.
type CrossVersionObjectReference struct {
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	APIVersion string `json:"apiVersion,omitempty"`
}

// Metric source and target types.
const (
	MetricSourceResource = "Resource"

	MetricTargetUtilization  = "Utilization"
	MetricTargetAverageValue = "AverageValue"
	MetricTargetValue        = "Value"
)

// MetricSpec is one metric to scale on.
type MetricSpec struct {
	Type     string                `json:"type"`
	Resource *ResourceMetricSource `json:"resource,omitempty"`
}

// ResourceMetricSource is a resource (cpu or memory) of the target's Pods, as the kubelets measure it.
type ResourceMetricSource struct {
	Name   string       `json:"name"`
	Target MetricTarget `json:"target"`
}

// MetricTarget is the value a metric is held at: an average utilization in percent of the Pods'
// requests, or an average value per Pod.
type MetricTarget struct {
	Type               string    `json:"type"`
	Value              *Quantity `json:"value,omitempty"`
	AverageValue       *Quantity `json:"averageValue,omitempty"`
	AverageUtilization *int32    `json:"averageUtilization,omitempty"`
}

// HorizontalPodAutoscalerBehavior bounds how fast the target scales up and down.
type HorizontalPodAutoscalerBehavior struct {
	ScaleUp   *HPAScalingRules `json:"scaleUp,omitempty"`
	ScaleDown *HPAScalingRules `json:"scaleDown,omitempty"`
}

// Scaling policy types and selections.
const (
	HPAScalingPolicyPods    = "Pods"
	HPAScalingPolicyPercent = "Percent"

	ScalingPolicySelectMax      = "Max"
	ScalingPolicySelectMin      = "Min"
	ScalingPolicySelectDisabled = "Disabled"
)

// HPAScalingRules is one direction's stabilization window and rate policies.
type HPAScalingRules struct {
	StabilizationWindowSeconds *int32             `json:"stabilizationWindowSeconds,omitempty"`
	SelectPolicy               *string            `json:"selectPolicy,omitempty"`
	Policies                   []HPAScalingPolicy `json:"policies,omitempty"`
}

// HPAScalingPolicy allows a change of Value Pods, or Value percent of the current replicas, per
// PeriodSeconds.
type HPAScalingPolicy struct {
	Type          string `json:"type"`
	Value         int32  `json:"value"`
	PeriodSeconds int32  `json:"periodSeconds"`
}

// HorizontalPodAutoscalerStatus is what the autoscaler last observed and decided.
type HorizontalPodAutoscalerStatus struct {
	ObservedGeneration *int64                             `json:"observedGeneration,omitempty"`
	LastScaleTime      *Time                              `json:"lastScaleTime,omitempty"`
	CurrentReplicas    int32                              `json:"currentReplicas"`
	DesiredReplicas    int32                              `json:"desiredReplicas"`
	CurrentMetrics     []MetricStatus                     `json:"currentMetrics,omitempty"`
	Conditions         []HorizontalPodAutoscalerCondition `json:"conditions,omitempty"`
}

// MetricStatus is the current value of one metric.
type MetricStatus struct {
	Type     string                `json:"type"`
	Resource *ResourceMetricStatus `json:"resource,omitempty"`
}

// ResourceMetricStatus is the current value of a resource metric.
type ResourceMetricStatus struct {
	Name    string            `json:"name"`
	Current MetricValueStatus `json:"current"`
}

// MetricValueStatus is a metric's current average value, and utilization where a target asks for it.
type MetricValueStatus struct {
	Value              *Quantity `json:"value,omitempty"`
	AverageValue       *Quantity `json:"averageValue,omitempty"`
	AverageUtilization *int32    `json:"averageUtilization,omitempty"`
}

// Condition types of a HorizontalPodAutoscaler, as in Kubernetes.
const (
	HPAScalingActive  = "ScalingActive"
	HPAAbleToScale    = "AbleToScale"
	HPAScalingLimited = "ScalingLimited"
)

// HorizontalPodAutoscalerCondition says why the autoscaler does or does not scale.
type HorizontalPodAutoscalerCondition struct {
	Type               string `json:"type"`
	Status             string `json:"status"`
	LastTransitionTime Time   `json:"lastTransitionTime,omitempty"`
	Reason             string `json:"reason,omitempty"`
	Message            string `json:"message,omitempty"`
}

// HorizontalPodAutoscalerList is a list of HorizontalPodAutoscalers.
type HorizontalPodAutoscalerList struct {
	TypeMeta `json:",inline"`
	ListMeta `json:"metadata"`
	Items    []HorizontalPodAutoscaler `json:"items"`
}

// DefaultHPAScaleUp is Kubernetes' default scale-up rule: at most 4 Pods or 100 % more every
// 15 s, whichever is more, without stabilization.
func DefaultHPAScaleUp() *HPAScalingRules {
	return &HPAScalingRules{
		StabilizationWindowSeconds: ptrTo(int32(0)),
		SelectPolicy:               ptrTo(ScalingPolicySelectMax),
		Policies: []HPAScalingPolicy{
			{Type: HPAScalingPolicyPods, Value: 4, PeriodSeconds: 15},
			{Type: HPAScalingPolicyPercent, Value: 100, PeriodSeconds: 15},
		},
	}
}

// DefaultHPAScaleDown is Kubernetes' default scale-down rule: up to 100 % fewer every 15 s, the
// highest recommendation of the last 300 s.
func DefaultHPAScaleDown() *HPAScalingRules {
	return &HPAScalingRules{
		StabilizationWindowSeconds: ptrTo(int32(300)),
		SelectPolicy:               ptrTo(ScalingPolicySelectMax),
		Policies:                   []HPAScalingPolicy{{Type: HPAScalingPolicyPercent, Value: 100, PeriodSeconds: 15}},
	}
}

// defHPA fills Kubernetes' defaults: minReplicas 1, a cpu metric at 80 % when none is given,
// apiVersion apps/v1 for a ReplicaSet target, and each behavior field left out.
func defHPA(h *HorizontalPodAutoscaler) {
	s := &h.Spec
	if s.MinReplicas == nil {
		s.MinReplicas = ptrTo(int32(1))
	}
	if s.ScaleTargetRef.APIVersion == "" && s.ScaleTargetRef.Kind == "ReplicaSet" {
		s.ScaleTargetRef.APIVersion = GroupApps + "/v1"
	}
	if len(s.Metrics) == 0 {
		s.Metrics = []MetricSpec{{Type: MetricSourceResource, Resource: &ResourceMetricSource{
			Name: ResourceCPU, Target: MetricTarget{Type: MetricTargetUtilization, AverageUtilization: ptrTo(int32(80))}}}}
	}
	if s.Behavior == nil {
		s.Behavior = &HorizontalPodAutoscalerBehavior{}
	}
	s.Behavior.ScaleUp = defHPARules(s.Behavior.ScaleUp, DefaultHPAScaleUp())
	s.Behavior.ScaleDown = defHPARules(s.Behavior.ScaleDown, DefaultHPAScaleDown())
}

func defHPARules(r, def *HPAScalingRules) *HPAScalingRules {
	if r == nil {
		return def
	}
	if r.StabilizationWindowSeconds == nil {
		r.StabilizationWindowSeconds = def.StabilizationWindowSeconds
	}
	if r.SelectPolicy == nil {
		r.SelectPolicy = def.SelectPolicy
	}
	if len(r.Policies) == 0 {
		r.Policies = def.Policies
	}
	return r
}

func ptrTo[T any](v T) *T { return &v }

// valHPA checks an autoscaler: a ReplicaSet target in apps/v1, 1 ≤ minReplicas ≤ maxReplicas,
// Resource metrics on cpu or memory with one target each, and sane behavior rules.
func valHPA(h *HorizontalPodAutoscaler) ErrorList {
	var errs ErrorList
	s := &h.Spec
	spec := Path("spec")
	ref := spec.Child("scaleTargetRef")
	switch {
	case s.ScaleTargetRef.Kind == "":
		errs = append(errs, Required(ref.Child("kind").String(), "the kind to scale: ReplicaSet"))
	case s.ScaleTargetRef.Kind != "ReplicaSet":
		errs = append(errs, NotSupported(ref.Child("kind").String(), s.ScaleTargetRef.Kind, []string{"ReplicaSet"}))
	}
	if v := s.ScaleTargetRef.APIVersion; v != "" && v != GroupApps+"/v1" {
		errs = append(errs, NotSupported(ref.Child("apiVersion").String(), v, []string{GroupApps + "/v1"}))
	}
	if s.ScaleTargetRef.Name == "" {
		errs = append(errs, Required(ref.Child("name").String(), ""))
	} else if err := IsDNS1123Subdomain(s.ScaleTargetRef.Name); err != nil {
		errs = append(errs, Invalid(ref.Child("name").String(), s.ScaleTargetRef.Name, valDetail(err)))
	}
	minR := int32(1)
	if s.MinReplicas != nil {
		minR = *s.MinReplicas
		if minR < 1 {
			errs = append(errs, Invalid(spec.Child("minReplicas").String(), minR, "must be greater than or equal to 1"))
		}
	}
	if s.MaxReplicas < minR {
		errs = append(errs, Invalid(spec.Child("maxReplicas").String(), s.MaxReplicas, "must be greater than or equal to `minReplicas`"))
	}
	seen := map[string]bool{}
	for i, m := range s.Metrics {
		mp := spec.Child("metrics").Index(i)
		if m.Type != MetricSourceResource {
			errs = append(errs, NotSupported(mp.Child("type").String(), m.Type, []string{MetricSourceResource}))
			continue
		}
		if m.Resource == nil {
			errs = append(errs, Required(mp.Child("resource").String(), "must populate information for the given metric source"))
			continue
		}
		rp := mp.Child("resource")
		if n := m.Resource.Name; n != ResourceCPU && n != ResourceMemory {
			errs = append(errs, NotSupported(rp.Child("name").String(), n, []string{ResourceCPU, ResourceMemory}))
		} else if seen[n] {
			errs = append(errs, Duplicate(rp.Child("name").String(), n))
		}
		seen[m.Resource.Name] = true
		errs = append(errs, valMetricTarget(&m.Resource.Target, rp.Child("target"))...)
	}
	if b := s.Behavior; b != nil {
		bp := spec.Child("behavior")
		errs = append(errs, valHPARules(b.ScaleUp, bp.Child("scaleUp"))...)
		errs = append(errs, valHPARules(b.ScaleDown, bp.Child("scaleDown"))...)
	}
	return errs
}

func valMetricTarget(t *MetricTarget, path Path) ErrorList {
	var errs ErrorList
	tp := path.Child("type").String()
	switch t.Type {
	case MetricTargetUtilization:
		if t.AverageUtilization == nil {
			errs = append(errs, Required(path.Child("averageUtilization").String(), "a percent of the Pods' requests, for example 50"))
		} else if *t.AverageUtilization < 1 {
			errs = append(errs, Invalid(path.Child("averageUtilization").String(), *t.AverageUtilization, "must be greater than 0"))
		}
		if t.AverageValue != nil || t.Value != nil {
			errs = append(errs, Forbidden(path.String(), "a Utilization target takes averageUtilization only"))
		}
	case MetricTargetAverageValue:
		if t.AverageValue == nil {
			errs = append(errs, Required(path.Child("averageValue").String(), "a quantity per Pod, for example 500Mi or 200m"))
		} else if t.AverageValue.MilliValue() <= 0 {
			errs = append(errs, Invalid(path.Child("averageValue").String(), t.AverageValue.String(), "must be positive"))
		}
		if t.AverageUtilization != nil || t.Value != nil {
			errs = append(errs, Forbidden(path.String(), "an AverageValue target takes averageValue only"))
		}
	case "":
		errs = append(errs, Required(tp, "Utilization or AverageValue"))
	default:
		errs = append(errs, NotSupported(tp, t.Type, []string{MetricTargetUtilization, MetricTargetAverageValue}))
	}
	return errs
}

func valHPARules(r *HPAScalingRules, path Path) ErrorList {
	if r == nil {
		return nil
	}
	var errs ErrorList
	if w := r.StabilizationWindowSeconds; w != nil && (*w < 0 || *w > 3600) {
		errs = append(errs, Invalid(path.Child("stabilizationWindowSeconds").String(), *w, "must be between 0 and 3600"))
	}
	sel := []string{ScalingPolicySelectMax, ScalingPolicySelectMin, ScalingPolicySelectDisabled}
	if p := r.SelectPolicy; p != nil && !slices.Contains(sel, *p) {
		errs = append(errs, NotSupported(path.Child("selectPolicy").String(), *p, sel))
	}
	for i, p := range r.Policies {
		pp := path.Child("policies").Index(i)
		if p.Type != HPAScalingPolicyPods && p.Type != HPAScalingPolicyPercent {
			errs = append(errs, NotSupported(pp.Child("type").String(), p.Type, []string{HPAScalingPolicyPods, HPAScalingPolicyPercent}))
		}
		if p.Value <= 0 {
			errs = append(errs, Invalid(pp.Child("value").String(), p.Value, "must be greater than zero"))
		}
		if p.PeriodSeconds <= 0 || p.PeriodSeconds > 1800 {
			errs = append(errs, Invalid(pp.Child("periodSeconds").String(), p.PeriodSeconds, "must be between 1 and 1800"))
		}
	}
	return errs
}
