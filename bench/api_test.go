// Package bench measures minik8s against the layer beneath it, and reports ratios: run with
// `make bench`. Absolute times depend on the machine; the ratios are what the goals are about.
package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/testserver"
)

const (
	benchObjects = 3000
	benchClients = 16
)

// run calls op(i) for i in [0, n) from the given number of goroutines and returns the
// throughput and the latencies.
func run(n, clients int, op func(i int) error) (float64, []time.Duration, error) {
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t0 := time.Now()
				if err := op(i); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	return float64(n) / elapsed.Seconds(), lat, firstErr
}

func pct(lat []time.Duration, p float64) time.Duration {
	return lat[int(float64(len(lat)-1)*p)]
}

func benchPod(name string) *api.Pod {
	return &api.Pod{
		ObjectMeta: api.ObjectMeta{Name: name, Labels: map[string]string{"app": "bench"}},
		Spec: api.PodSpec{Containers: []api.Container{{
			Name: "main", Image: "busybox:latest", Command: []string{"sleep", "3600"},
			Resources: api.ResourceRequirements{Requests: api.ResourceList{"cpu": api.MustParseQuantity("100m"), "memory": api.MustParseQuantity("16Mi")}},
		}}},
	}
}

// BenchmarkAPICreate compares Pod creates through the API server (HTTPS, token, strict
// decoding, validation, a compare-and-swap transaction) with plain puts of the Pod's JSON
// straight into the same etcd, at the same concurrency, in the same run. Client, server and
// etcd share the machine's cores in both cases.
func BenchmarkAPICreate(b *testing.B) {
	s := testserver.Start(b)
	ctx := context.Background()
	pods := s.Client.Pods("default")
	// Warm up connections on both paths.
	if _, err := pods.Create(ctx, benchPod("warmup")); err != nil {
		b.Fatal(err)
	}
	// The baseline is what any program that keeps objects in etcd does: etcd's own client,
	// over its gRPC endpoint. (The API server reaches its embedded etcd in-process.)
	etcd, err := clientv3.New(clientv3.Config{Endpoints: []string{s.EtcdURL}, DialTimeout: 10 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer etcd.Close()
	if _, err := etcd.Put(ctx, "/bench/warmup", "x"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for iter := 0; iter < b.N; iter++ {
		// The raw side encodes the Pod too, as any program that keeps Pods in etcd must.
		rawRate, rawLat, err := run(benchObjects, benchClients, func(i int) error {
			name := fmt.Sprintf("raw-%d-%d", iter, i)
			value, err := json.Marshal(benchPod(name))
			if err != nil {
				return err
			}
			_, err = etcd.Put(ctx, "/bench/"+name, string(value))
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		apiRate, apiLat, err := run(benchObjects, benchClients, func(i int) error {
			_, err := pods.Create(ctx, benchPod(fmt.Sprintf("bench-%d-%d", iter, i)))
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		ratio := apiRate / rawRate
		b.Logf("etcd put:   %d objects, %d clients: %7.0f/s  p50 %6.2fms  p99 %6.2fms",
			benchObjects, benchClients, rawRate, ms(pct(rawLat, 0.5)), ms(pct(rawLat, 0.99)))
		b.Logf("API create: %d objects, %d clients: %7.0f/s  p50 %6.2fms  p99 %6.2fms",
			benchObjects, benchClients, apiRate, ms(pct(apiLat, 0.5)), ms(pct(apiLat, 0.99)))
		b.Logf("API create / etcd put throughput: %.2fx (goal >= 0.5x); API p99 %.1fms (goal < 50ms)", ratio, ms(pct(apiLat, 0.99)))
		b.ReportMetric(ratio, "ratio-vs-etcd")
		b.ReportMetric(ms(pct(apiLat, 0.99)), "api-p99-ms")
		b.ReportMetric(ms(pct(rawLat, 0.99)), "etcd-p99-ms")
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
