package hpa

import (
	"github.com/minik8s/minik8s/api"
)

// Reasons of the conditions and Events the controller writes, as Kubernetes names them (and
// UnsupportedTarget, for a scaleTargetRef that is not a ReplicaSet).
const (
	reasonFailedGetScale               = "FailedGetScale"
	reasonSucceededGetScale            = "SucceededGetScale"
	reasonUnsupportedTarget            = "UnsupportedTarget"
	reasonSucceededRescale             = "SucceededRescale"
	reasonSuccessfulRescale            = "SuccessfulRescale"
	reasonFailedRescale                = "FailedRescale"
	reasonFailedUpdateScale            = "FailedUpdateScale"
	reasonScalingDisabled              = "ScalingDisabled"
	reasonValidMetricFound             = "ValidMetricFound"
	reasonFailedGetResourceMetric      = "FailedGetResourceMetric"
	reasonInvalidMetricSourceType      = "InvalidMetricSourceType"
	reasonInvalidSelector              = "InvalidSelector"
	reasonAmbiguousSelector            = "AmbiguousSelector"
	reasonFailedComputeMetricsReplicas = "FailedComputeMetricsReplicas"
)

// setCondition sets the condition of type typ in list and returns the list. The
// lastTransitionTime changes only when the status does, so that it tells since when the
// condition holds.
func setCondition(list []api.HorizontalPodAutoscalerCondition, typ, status, reason, message string, now api.Time) []api.HorizontalPodAutoscalerCondition {
	i := -1
	for j := range list {
		if list[j].Type == typ {
			i = j
			break
		}
	}
	if i < 0 {
		list = append(list, api.HorizontalPodAutoscalerCondition{Type: typ})
		i = len(list) - 1
	}
	c := &list[i]
	if c.Status != status || c.LastTransitionTime.IsZero() {
		c.LastTransitionTime = now
	}
	c.Status, c.Reason, c.Message = status, reason, message
	return list
}

// condition is a condition to set later: the one of the first metric that failed.
type condition struct {
	typ, status, reason, message string
}

func boolStatus(b bool) string {
	if b {
		return api.ConditionTrue
	}
	return api.ConditionFalse
}
