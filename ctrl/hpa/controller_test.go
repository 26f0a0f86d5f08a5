package hpa

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/testserver"
	"github.com/minik8s/minik8s/client"
)

// A target that is not a ReplicaSet (the API refuses one; an object stored before that rule,
// or written around the API, may still hold one) is reported, not scaled.
func TestUnsupportedTarget(t *testing.T) {
	s := testserver.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Client.Namespaces().Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "k"}}); err != nil {
		t.Fatal(err)
	}
	u := int32(50)
	stored, err := s.Client.HorizontalPodAutoscalers("k").Create(ctx, &api.HorizontalPodAutoscaler{
		ObjectMeta: api.ObjectMeta{Namespace: "k", Name: "web"},
		Spec: api.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: api.CrossVersionObjectReference{Kind: "ReplicaSet", Name: "web"},
			MaxReplicas:    3,
			Metrics: []api.MetricSpec{{Type: api.MetricSourceResource, Resource: &api.ResourceMetricSource{
				Name: api.ResourceCPU, Target: api.MetricTarget{Type: api.MetricTargetUtilization, AverageUtilization: &u}}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()
	opts.Now = func() time.Time { return t0 }
	c := New(s.Client, opts, slog.New(slog.NewTextHandler(io.Discard, nil)))
	h := api.DeepCopy(stored)
	h.Spec.ScaleTargetRef = api.CrossVersionObjectReference{Kind: "Deployment", Name: "web", APIVersion: "apps/v1"}
	if err := c.reconcile(ctx, h.Key(), h); err != nil {
		t.Fatal(err)
	}
	got, err := s.Client.HorizontalPodAutoscalers("k").Get(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	var able, active api.HorizontalPodAutoscalerCondition
	for _, cd := range got.Status.Conditions {
		switch cd.Type {
		case api.HPAAbleToScale:
			able = cd
		case api.HPAScalingActive:
			active = cd
		}
	}
	const why = `Deployment "web" (apps/v1) cannot be scaled: the autoscaler scales ReplicaSets (apps/v1) only`
	if able.Status != api.ConditionFalse || able.Reason != reasonFailedGetScale || !strings.HasSuffix(able.Message, why) || !able.LastTransitionTime.Equal(t0) {
		t.Errorf("AbleToScale = %+v", able)
	}
	if active.Status != api.ConditionFalse || active.Reason != reasonUnsupportedTarget || !strings.HasSuffix(active.Message, why) {
		t.Errorf("ScalingActive = %+v", active)
	}
	evs, _, err := s.Client.Events("k").List(ctx, client.ListOptions{FieldSelector: "involvedObject.name=web"})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Reason != reasonFailedGetScale || evs[0].Type != api.EventTypeWarning || evs[0].Source.Component != component {
		t.Errorf("events = %+v", evs)
	}
}
