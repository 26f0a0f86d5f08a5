// Package hpa scales the ReplicaSets that HorizontalPodAutoscalers (autoscaling/v2) point at,
// on the CPU and memory their Pods use, as Kubernetes' horizontal pod autoscaler does.
//
//	HPAs ─ informer ─ add / spec change ─┐
//	                  every sync period ──┴─ queue ─ sync(ns/name)
//	                                                   │
//	  GET the target ReplicaSet (spec.replicas = current)
//	  Pods by its selector (informer) + usage (MetricsSource: the metrics.k8s.io endpoint)
//	  per metric: ready / unready / missing / ignored Pods → ceil(ratio × Pods), within
//	              tolerance → current; the largest proposal wins
//	  behavior:   stabilization windows over the recent recommendations, then the Pods /
//	              Percent policies over the recent scale events, then min / max
//	  PATCH spec.replicas (pinned to the resourceVersion read), Event SuccessfulRescale
//	  PUT status: replicas, current metrics, conditions, lastScaleTime
//
// The arithmetic follows Kubernetes' replica_calculator.go and horizontal.go, so an
// autoscaler's manifest and its conditions (AbleToScale, ScalingActive, ScalingLimited) mean
// what they mean in Kubernetes. Only Resource metrics (cpu, memory) of a ReplicaSet target
// exist in minik8s; any other target is reported in the conditions and left alone.
//
// The recent recommendations and scale events live in memory, per autoscaler, as in
// Kubernetes: a restarted controller starts with the current replicas as its only
// recommendation, so it does not scale down before one scale-down window has passed. The
// decisions read their time from a clock seam (Options.Now), so tests step through windows and
// periods without sleeping.
package hpa
