//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
)

// stressSet is a ReplicaSet of stress Pods whose load follows a file on the host: every node of a
// local cluster shares the machine's file system, so one write sets the load of every replica.
const stressSet = `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: %[1]s
spec:
  replicas: 1
  selector:
    matchLabels:
      app: %[1]s
  template:
    metadata:
      labels:
        app: %[1]s
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: stress
          image: stress:latest
          args: ["--control", "/load/now"]
          resources:
            requests:
              cpu: 100m
              memory: 32Mi
          volumeMounts:
            - name: load
              mountPath: /load
      volumes:
        - name: load
          hostPath:
            path: %[2]s
            type: DirectoryOrCreate
`

const cpuAutoscaler = `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: burn
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: ReplicaSet
    name: burn
  minReplicas: 1
  maxReplicas: 3
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 50
  behavior:
    scaleUp:
      stabilizationWindowSeconds: 0
      policies:
        - type: Pods
          value: 1
          periodSeconds: 15
    scaleDown:
      stabilizationWindowSeconds: 20
      policies:
        - type: Percent
          value: 100
          periodSeconds: 15
`

const memAutoscaler = `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: hold
spec:
  scaleTargetRef:
    kind: ReplicaSet
    name: hold
  maxReplicas: 2
  metrics:
    - type: Resource
      resource:
        name: memory
        target:
          type: AverageValue
          averageValue: 40Mi
`

// getHPA reads an autoscaler as `get -o json` shows it.
func getHPA(t *testing.T, ns, name string) *api.HorizontalPodAutoscaler {
	t.Helper()
	h := &api.HorizontalPodAutoscaler{}
	if err := json.Unmarshal([]byte(mustRun(t, "get", "hpa", name, "-n", ns, "-o", "json")), h); err != nil {
		t.Fatal(err)
	}
	return h
}

func desiredReplicas(t *testing.T, ns, name string) int32 {
	t.Helper()
	rs := &api.ReplicaSet{}
	if err := json.Unmarshal([]byte(mustRun(t, "get", "rs", name, "-n", ns, "-o", "json")), rs); err != nil {
		t.Fatal(err)
	}
	return *rs.Spec.Replicas
}

func condition(h *api.HorizontalPodAutoscaler, typ string) string {
	for _, c := range h.Status.Conditions {
		if c.Type == typ {
			return c.Status + " " + c.Reason
		}
	}
	return ""
}

// setLoad writes the load file that the stress Pods follow.
func setLoad(t *testing.T, dir, load string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "now"), []byte(load+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestAutoscaling: an autoscaler on CPU (50 % of requests) over stress Pods adds one replica per
// 15 s, up to its maximum, once their load starts, spreads them over the nodes, and scales back
// down once the load stops and the scale-down window has passed; an autoscaler on memory
// (AverageValue) scales on memory; `top` and `get hpa` show the load. The cluster's autoscaler
// syncs every 5 s (see TestMain).
func TestAutoscaling(t *testing.T) {
	ns := namespace(t)
	loadDir, err := os.MkdirTemp("", "minik8s-e2e-load-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(loadDir) })
	cpuDir, memDir := filepath.Join(loadDir, "cpu"), filepath.Join(loadDir, "mem")
	for _, d := range []string{cpuDir, memDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	setLoad(t, cpuDir, "cpu=0")
	setLoad(t, memDir, "memory=0")
	applyText(t, ns, fmt.Sprintf(stressSet, "burn", cpuDir))
	applyText(t, ns, fmt.Sprintf(stressSet, "hold", memDir))
	applyText(t, ns, cpuAutoscaler)
	applyText(t, ns, memAutoscaler)

	// Idle: both measured, both at one replica.
	eventually(t, 60*time.Second, "both autoscalers to measure their idle Pods", func() (bool, string) {
		b, h := getHPA(t, ns, "burn"), getHPA(t, ns, "hold")
		ok := condition(b, api.HPAScalingActive) == "True ValidMetricFound" && condition(h, api.HPAScalingActive) == "True ValidMetricFound"
		return ok && b.Status.CurrentReplicas == 1 && h.Status.CurrentReplicas == 1,
			fmt.Sprintf("burn %+v\nhold %+v", b.Status, h.Status)
	})
	out := mustRun(t, "get", "hpa", "-n", ns)
	if !regexp.MustCompile(`(?m)^NAME\s+REFERENCE\s+TARGETS\s+MIN\s+MAX\s+REPLICAS\s+AGE$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^burn\s+ReplicaSet/burn\s+cpu: \d+%/50%\s+1\s+3\s+1\s+\d+s$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^hold\s+ReplicaSet/hold\s+memory: \d+Mi/40Mi\s+1\s+2\s+1\s+\d+s$`).MatchString(out) {
		t.Errorf("get hpa while idle:\n%s", out)
	}

	// Record every change of the CPU target's replicas while the load runs.
	type change struct {
		at       time.Time
		replicas int32
	}
	var mu sync.Mutex
	changes := []change{{time.Now(), 1}}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(250 * time.Millisecond):
			}
			r := minik8s(t, "get", "rs", "burn", "-n", ns, "-o", "json")
			rs := &api.ReplicaSet{}
			if r.err != nil || json.Unmarshal([]byte(r.stdout), rs) != nil || rs.Spec.Replicas == nil {
				continue
			}
			n := *rs.Spec.Replicas
			mu.Lock()
			if changes[len(changes)-1].replicas != n {
				changes = append(changes, change{time.Now(), n})
			}
			mu.Unlock()
		}
	}()
	stopRecording := sync.OnceFunc(func() { close(stop); <-done })
	t.Cleanup(stopRecording)

	// Load starts: each replica burns 200m, four times its 50 % target.
	setLoad(t, cpuDir, "cpu=200m")
	setLoad(t, memDir, "memory=80Mi")
	eventually(t, 120*time.Second, "the CPU autoscaler to reach its maximum of 3, on 3 nodes", func() (bool, string) {
		names, nodes := runningNames(podsOf(t, ns, "app=burn"))
		return len(names) == 3 && len(nodes) == 3, fmt.Sprintf("%v on %v", names, nodes)
	})
	eventually(t, 60*time.Second, "the memory autoscaler to scale to 2", func() (bool, string) {
		names, _ := runningNames(podsOf(t, ns, "app=hold"))
		return len(names) == 2, fmt.Sprintf("%v; hpa %+v", names, getHPA(t, ns, "hold").Status)
	})
	stopRecording()
	mu.Lock()
	seen := append([]change(nil), changes...)
	mu.Unlock()
	var steps []string
	for i, c := range seen {
		steps = append(steps, fmt.Sprintf("%d at +%s", c.replicas, c.at.Sub(seen[0].at).Round(100*time.Millisecond)))
		if i == 0 {
			continue
		}
		if c.replicas != seen[i-1].replicas+1 {
			t.Errorf("replicas went from %d to %d: the policy allows one more at a time", seen[i-1].replicas, c.replicas)
		}
		if i >= 2 && c.at.Sub(seen[i-1].at) < 14*time.Second {
			t.Errorf("replicas %d came %s after %d: the policy allows one Pod per 15 s", c.replicas, c.at.Sub(seen[i-1].at), seen[i-1].replicas)
		}
	}
	t.Logf("CPU autoscaler steps: %s", strings.Join(steps, ", "))
	if len(seen) != 3 {
		t.Errorf("expected the steps 1, 2, 3; saw %s", strings.Join(steps, ", "))
	}

	// The load shows in top and in get hpa.
	eventually(t, 30*time.Second, "top pods to show the load", func() (bool, string) {
		out := mustRun(t, "top", "pods", "-n", ns, "-l", "app=burn")
		busy := 0
		for _, m := range regexp.MustCompile(`(?m)^burn-\S+\s+(\d+)m\s+\d+Mi$`).FindAllStringSubmatch(out, -1) {
			var milli int
			fmt.Sscan(m[1], &milli)
			if milli >= 120 {
				busy++
			}
		}
		return busy == 3, out
	})
	eventually(t, 30*time.Second, "top pods to show the memory held", func() (bool, string) {
		out := mustRun(t, "top", "pods", "-n", ns, "-l", "app=hold")
		held := 0
		for _, m := range regexp.MustCompile(`(?m)^hold-\S+\s+\d+m\s+(\d+)Mi$`).FindAllStringSubmatch(out, -1) {
			var mib int
			fmt.Sscan(m[1], &mib)
			if mib >= 70 {
				held++
			}
		}
		return held == 2, out
	})
	if out := mustRun(t, "top", "nodes"); !regexp.MustCompile(`(?m)^NAME\s+CPU\(cores\)\s+CPU%\s+MEMORY\(bytes\)\s+MEMORY%\n(\S+\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%\n){3}$`).MatchString(out) {
		t.Errorf("top nodes:\n%s", out)
	}
	// The autoscaler's status catches up with its last scale at its next sync.
	eventually(t, 30*time.Second, "get hpa to show the load and 3 replicas", func() (bool, string) {
		out := mustRun(t, "get", "hpa", "-n", ns)
		return regexp.MustCompile(`(?m)^burn\s+ReplicaSet/burn\s+cpu: (1\d\d|[2-9]\d\d)%/50%\s+1\s+3\s+3\s+`).MatchString(out), out
	})
	if b := getHPA(t, ns, "burn"); condition(b, api.HPAScalingLimited) != "True TooManyReplicas" {
		t.Errorf("at its maximum, ScalingLimited = %q, want True TooManyReplicas", condition(b, api.HPAScalingLimited))
	}

	// Load stops: back to one replica once the 20 s scale-down window has passed.
	stopped := time.Now()
	setLoad(t, cpuDir, "cpu=0")
	eventually(t, 90*time.Second, "the CPU autoscaler to scale back to 1", func() (bool, string) {
		return desiredReplicas(t, ns, "burn") == 1, fmt.Sprintf("%+v", getHPA(t, ns, "burn").Status)
	})
	// The window runs from the last recommendation made under load, which the autoscaler (syncing
	// every 5 s) may have made up to one sync before the load stopped.
	if d := time.Since(stopped); d < 15*time.Second {
		t.Errorf("scaled down %s after the load stopped, within the 20 s stabilization window", d)
	}
	events := mustRun(t, "get", "events", "-n", ns)
	if !strings.Contains(events, "SuccessfulRescale") {
		t.Errorf("no SuccessfulRescale event:\n%s", events)
	}
}
