package api

import (
	"strings"
	"testing"
	"time"
)

func decodeHPA(t *testing.T, doc string) *HorizontalPodAutoscaler {
	t.Helper()
	h := &HorizontalPodAutoscaler{}
	if err := DecodeStrict([]byte(doc), h); err != nil {
		t.Fatalf("decode: %v", err)
	}
	Default(h)
	return h
}

const hpaBase = `{"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"web","namespace":"default"},
 "spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web"},"minReplicas":1,"maxReplicas":5,
 "metrics":[{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":60}}},
            {"type":"Resource","resource":{"name":"memory","target":{"type":"AverageValue","averageValue":"500Mi"}}}]}}`

func TestHPADefaultsAndValid(t *testing.T) {
	h := decodeHPA(t, hpaBase)
	if errs := Validate(h); len(errs) != 0 {
		t.Fatalf("valid autoscaler refused: %v", errs)
	}
	up, down := h.Spec.Behavior.ScaleUp, h.Spec.Behavior.ScaleDown
	if *up.StabilizationWindowSeconds != 0 || *down.StabilizationWindowSeconds != 300 || len(up.Policies) != 2 ||
		*up.SelectPolicy != ScalingPolicySelectMax || down.Policies[0].Type != HPAScalingPolicyPercent {
		t.Errorf("behavior defaults = %+v / %+v", up, down)
	}

	bare := decodeHPA(t, `{"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"a","namespace":"default"},
		"spec":{"scaleTargetRef":{"kind":"ReplicaSet","name":"web"},"maxReplicas":3,
		"behavior":{"scaleUp":{"policies":[{"type":"Pods","value":1,"periodSeconds":15}]}}}}`)
	if errs := Validate(bare); len(errs) != 0 {
		t.Fatalf("bare autoscaler refused: %v", errs)
	}
	if *bare.Spec.MinReplicas != 1 || bare.Spec.ScaleTargetRef.APIVersion != "apps/v1" ||
		bare.Spec.Metrics[0].Resource.Name != "cpu" || *bare.Spec.Metrics[0].Resource.Target.AverageUtilization != 80 {
		t.Errorf("defaults = %+v", bare.Spec)
	}
	if p := bare.Spec.Behavior.ScaleUp; len(p.Policies) != 1 || p.Policies[0].Value != 1 || *p.StabilizationWindowSeconds != 0 {
		t.Errorf("a given scaleUp policy was not kept: %+v", p)
	}
}

func TestHPAValidationNamesTheField(t *testing.T) {
	cases := []struct{ from, to, field string }{
		{`"kind":"ReplicaSet"`, `"kind":"Pod"`, "spec.scaleTargetRef.kind"},
		{`"apiVersion":"apps/v1","kind"`, `"apiVersion":"apps/v2","kind"`, "spec.scaleTargetRef.apiVersion"},
		{`"minReplicas":1,"maxReplicas":5`, `"minReplicas":4,"maxReplicas":3`, "spec.maxReplicas"},
		{`"minReplicas":1,`, `"minReplicas":0,`, "spec.minReplicas"},
		{`"name":"cpu"`, `"name":"gpu"`, "spec.metrics[0].resource.name"},
		{`"averageUtilization":60`, `"averageValue":"1"`, "spec.metrics[0].resource.target"},
		{`"type":"AverageValue","averageValue":"500Mi"`, `"type":"AverageValue"`, "spec.metrics[1].resource.target.averageValue"},
		{`"type":"Utilization"`, `"type":"Percent"`, "spec.metrics[0].resource.target.type"},
		{`{"type":"Resource","resource":{"name":"memory"`, `{"type":"Resource","resource":{"name":"cpu"`, "spec.metrics[1].resource.name"},
		{`"metrics":[`, `"behavior":{"scaleDown":{"stabilizationWindowSeconds":-1,"policies":[{"type":"Pods","value":0,"periodSeconds":15}]}},"metrics":[`,
			"spec.behavior.scaleDown.stabilizationWindowSeconds"},
		{`"metrics":[`, `"behavior":{"scaleUp":{"selectPolicy":"Most"}},"metrics":[`, "spec.behavior.scaleUp.selectPolicy"},
		{`"metrics":[`, `"behavior":{"scaleUp":{"policies":[{"type":"Pods","value":1,"periodSeconds":0}]}},"metrics":[`,
			"spec.behavior.scaleUp.policies[0].periodSeconds"},
	}
	for _, c := range cases {
		doc := strings.Replace(hpaBase, c.from, c.to, 1)
		if doc == hpaBase {
			t.Fatalf("case %s: %q not in the base manifest", c.field, c.from)
		}
		errs := Validate(decodeHPA(t, doc))
		found := false
		for _, e := range errs {
			if e.Field == c.field {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: errors %v do not name the field", c.field, errs)
		}
	}
}

func TestHPATableCells(t *testing.T) {
	h := decodeHPA(t, hpaBase)
	now := time.Now()
	h.CreationTimestamp = NewTime(now.Add(-90 * time.Second))
	cells := TableCells(h, now)
	if got := cells[2]; got != "cpu: <unknown>/60%, memory: <unknown>/500Mi" {
		t.Errorf("targets before a measurement = %q", got)
	}
	util := int32(73)
	mem := MustParseQuantity("125829120")
	h.Status.CurrentReplicas = 2
	h.Status.CurrentMetrics = []MetricStatus{
		{Type: MetricSourceResource, Resource: &ResourceMetricStatus{Name: "cpu", Current: MetricValueStatus{AverageUtilization: &util, AverageValue: ptrTo(MustParseQuantity("73m"))}}},
		{Type: MetricSourceResource, Resource: &ResourceMetricStatus{Name: "memory", Current: MetricValueStatus{AverageValue: &mem}}},
	}
	cells = TableCells(h, now)
	want := []any{"web", "ReplicaSet/web", "cpu: 73%/60%, memory: 120Mi/500Mi", int64(1), int64(5), int64(2), "90s"}
	for i := range want {
		if cells[i] != want[i] {
			t.Errorf("cell %d = %v, want %v", i, cells[i], want[i])
		}
	}
}
