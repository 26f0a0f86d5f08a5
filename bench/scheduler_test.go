package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/testserver"
	"github.com/minik8s/minik8s/client"
	"github.com/minik8s/minik8s/ctrl/scheduler"
)

const (
	benchNodes            = 100
	benchSchedulerWorkers = 32
	benchSchedulerTimeout = 60 * time.Second
)

// BenchmarkScheduler measures how fast the scheduler binds a backlog: 100 simulated nodes
// (Node objects only, Ready, no kubelets) and 3000 Pods created through the API before the
// scheduler starts. The clock runs from the scheduler's start (its informers' first list
// included) to the last bind seen on a watch. Every bind is one API call, a compare-and-swap
// in etcd; the scheduler's Events are written in the background alongside.
func BenchmarkScheduler(b *testing.B) {
	for iter := 0; iter < b.N; iter++ {
		b.StopTimer()
		s := testserver.Start(b)
		c := s.Client
		ctx, cancel := context.WithCancel(context.Background())

		if _, _, err := run(benchNodes, benchClients, func(i int) error {
			return createBenchNode(ctx, c, fmt.Sprintf("node-%03d", i))
		}); err != nil {
			b.Fatal(err)
		}
		var lastRV atomic.Int64
		createRate, _, err := run(benchObjects, benchClients, func(i int) error {
			p, err := c.Pods("default").Create(ctx, benchPod(fmt.Sprintf("sched-%d", i)))
			if err != nil {
				return err
			}
			rv, _ := strconv.ParseInt(p.ResourceVersion, 10, 64)
			for cur := lastRV.Load(); rv > cur && !lastRV.CompareAndSwap(cur, rv); cur = lastRV.Load() {
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		events, err := c.Pods("default").Watch(ctx, client.ListOptions{ResourceVersion: strconv.FormatInt(lastRV.Load(), 10)})
		if err != nil {
			b.Fatal(err)
		}

		sched := scheduler.New(c, slog.New(slog.NewTextHandler(io.Discard, nil)))
		done := make(chan struct{})
		b.StartTimer()
		start := time.Now()
		go func() { sched.Run(ctx, benchSchedulerWorkers); close(done) }()

		bound := make(map[string]string, benchObjects)
		var first, last time.Time
		timeout := time.After(benchSchedulerTimeout)
		for len(bound) < benchObjects {
			select {
			case ev, ok := <-events:
				if !ok {
					b.Fatalf("the watch ended after %d binds", len(bound))
				}
				if p, isPod := ev.Object.(*api.Pod); isPod && p.Spec.NodeName != "" && bound[p.Name] == "" {
					bound[p.Name] = p.Spec.NodeName
					last = time.Now()
					if first.IsZero() {
						first = last
					}
				}
			case <-timeout:
				b.Fatalf("only %d of %d pods bound after %v", len(bound), benchObjects, benchSchedulerTimeout)
			}
		}
		b.StopTimer()
		elapsed := last.Sub(start)
		rate := float64(benchObjects) / elapsed.Seconds()
		perNode := map[string]int{}
		for _, n := range bound {
			perNode[n]++
		}
		lo, hi := benchObjects, 0
		for _, n := range perNode {
			lo, hi = min(lo, n), max(hi, n)
		}
		if len(perNode) < benchNodes {
			lo = 0
		}
		b.Logf("pods created before the scheduler started: %d at %.0f/s", benchObjects, createRate)
		b.Logf("scheduler: %d pods on %d nodes bound in %.2fs: %.0f pods/s (goal >= 1000/s); first bind after %dms (informers' first list); %d-%d pods per node",
			benchObjects, benchNodes, elapsed.Seconds(), rate, first.Sub(start).Milliseconds(), lo, hi)
		b.ReportMetric(rate, "pods-bound/s")
		cancel()
		<-done
	}
}

// createBenchNode makes a Ready node as a kubelet would register it, with room for far more
// than its share of the Pods.
func createBenchNode(ctx context.Context, c *client.Client, name string) error {
	n, err := c.Nodes().Create(ctx, &api.Node{ObjectMeta: api.ObjectMeta{Name: name,
		Labels: map[string]string{"kubernetes.io/hostname": name}}})
	if err != nil {
		return err
	}
	alloc := api.ResourceList{api.ResourceCPU: api.MustParseQuantity("32"), api.ResourceMemory: api.MustParseQuantity("64Gi"),
		api.ResourcePods: api.MustParseQuantity("110")}
	now := api.Now()
	n.Status = api.NodeStatus{Capacity: alloc, Allocatable: alloc, Conditions: []api.NodeCondition{{
		Type: api.NodeReady, Status: api.ConditionTrue, Reason: "KubeletReady", LastHeartbeatTime: now, LastTransitionTime: now}}}
	_, err = c.Nodes().UpdateStatus(ctx, n)
	return err
}
