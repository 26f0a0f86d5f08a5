package bench

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
)

const autoscaleTrials = 3

// BenchmarkAutoscaleReaction measures how long an autoscaler takes to react to load: from the
// moment a ReplicaSet's one stress Pod starts burning CPU (four times its 50 % target) to a
// second replica Running, with the defaults a user gets (the autoscaler syncs every 15 s, the
// kubelets sample every 5 s). Goal: at most 20 s. Each trial ends by stopping the load and
// waiting for the autoscaler to go back to one replica (no scale-down window in this manifest).
func BenchmarkAutoscaleReaction(b *testing.B) {
	lc := startCluster(b)
	c := lc.client
	ctx := context.Background()
	ns := "default"

	loadDir := b.TempDir()
	setLoad := func(s string) {
		if err := os.WriteFile(filepath.Join(loadDir, "now"), []byte(s), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	setLoad("cpu=0")
	one, dirType := int32(1), "DirectoryOrCreate"
	rs := &api.ReplicaSet{
		ObjectMeta: api.ObjectMeta{Name: "burn"},
		Spec: api.ReplicaSetSpec{
			Replicas: &one,
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "burn"}},
			Template: api.PodTemplateSpec{
				ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": "burn"}},
				Spec: api.PodSpec{
					TerminationGracePeriodSeconds: ptr(int64(1)),
					Containers: []api.Container{{Name: "stress", Image: "stress:latest", Args: []string{"--control", "/load/now"},
						Resources:    api.ResourceRequirements{Requests: api.ResourceList{"cpu": api.MustParseQuantity("100m")}},
						VolumeMounts: []api.VolumeMount{{Name: "load", MountPath: "/load"}}}},
					Volumes: []api.Volume{{Name: "load", HostPath: &api.HostPathVolumeSource{Path: loadDir, Type: &dirType}}},
				},
			},
		},
	}
	if _, err := c.ReplicaSets(ns).Create(ctx, rs); err != nil {
		b.Fatal(err)
	}
	zero := int32(0)
	hpa := &api.HorizontalPodAutoscaler{
		ObjectMeta: api.ObjectMeta{Name: "burn"},
		Spec: api.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: api.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "burn"},
			MinReplicas:    &one, MaxReplicas: 3,
			Metrics: []api.MetricSpec{{Type: api.MetricSourceResource, Resource: &api.ResourceMetricSource{Name: "cpu",
				Target: api.MetricTarget{Type: api.MetricTargetUtilization, AverageUtilization: ptr(int32(50))}}}},
			Behavior: &api.HorizontalPodAutoscalerBehavior{ScaleDown: &api.HPAScalingRules{StabilizationWindowSeconds: &zero}},
		},
	}
	if _, err := c.HorizontalPodAutoscalers(ns).Create(ctx, hpa); err != nil {
		b.Fatal(err)
	}

	var reactions []time.Duration
	for trial := 0; trial < autoscaleTrials; trial++ {
		// Idle, measured, at one replica.
		waitFor(b, 3*time.Minute, "the autoscaler to settle at one measured replica", func() bool {
			h, err := c.HorizontalPodAutoscalers(ns).Get(ctx, "burn")
			if err != nil || h.Status.CurrentReplicas != 1 || h.Status.DesiredReplicas != 1 || len(h.Status.CurrentMetrics) == 0 {
				return false
			}
			return runningPods(ctx, c, ns) == 1
		})
		// Start the load at a different point of the autoscaler's 15 s cycle in each trial (the
		// settle above ends just after a sync): 0, 5 and 10 s into it.
		time.Sleep(time.Duration(trial%3) * 5 * time.Second)
		setLoad("cpu=200m")
		t0 := time.Now()
		waitFor(b, 2*time.Minute, "a second replica Running", func() bool { return runningPods(ctx, c, ns) >= 2 })
		d := time.Since(t0)
		reactions = append(reactions, d)
		b.Logf("trial %d: load start -> second replica Running in %.1fs", trial+1, d.Seconds())
		setLoad("cpu=0")
		waitFor(b, 3*time.Minute, "the autoscaler to scale back to one replica", func() bool {
			r, err := c.ReplicaSets(ns).Get(ctx, "burn")
			return err == nil && *r.Spec.Replicas == 1
		})
	}
	med, worst := median(reactions), reactions[0]
	for _, d := range reactions {
		worst = max(worst, d)
	}
	b.Logf("autoscaler reaction (load start -> first new replica Running), %d trials: median %.1fs, worst %.1fs (goal <= 20s with a 15s sync)",
		len(reactions), med.Seconds(), worst.Seconds())
	b.ReportMetric(med.Seconds(), "reaction-median-s")
	b.ReportMetric(worst.Seconds(), "reaction-worst-s")
}

func ptr[T any](v T) *T { return &v }

// runningPods counts the Running, not deleted Pods of the benchmark's ReplicaSet.
func runningPods(ctx context.Context, c *client.Client, ns string) int {
	pods, _, err := c.Pods(ns).List(ctx, client.ListOptions{LabelSelector: "app=burn"})
	if err != nil {
		return -1
	}
	n := 0
	for _, p := range pods {
		if p.Status.Phase == api.PodRunning && p.DeletionTimestamp == nil {
			n++
		}
	}
	return n
}

// waitFor polls cond every 100 ms until it holds, or fails the benchmark after timeout.
func waitFor(b *testing.B, timeout time.Duration, what string, cond func() bool) {
	b.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
