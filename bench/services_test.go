package bench

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
)

// BenchmarkServices compares HTTP through a Service's cluster IP with HTTP straight to the Pod
// IP behind it (wrk from Debian, from the node's own network, same run, same Pod), and measures
// the time from a Pod turning Ready to the first request it serves through its Service.
func BenchmarkServices(b *testing.B) {
	if _, err := exec.LookPath("wrk"); err != nil {
		b.Skip("wrk is not installed: apt-get install wrk")
	}
	c := startCluster(b).client
	ctx := context.Background()
	ns := "default"
	svc, err := c.Services(ns).Create(ctx, &api.Service{ObjectMeta: api.ObjectMeta{Name: "web"}, Spec: api.ServiceSpec{
		Selector: map[string]string{"app": "web"}, Ports: []api.ServicePort{{Port: 80, TargetPort: api.FromInt(8080)}}}})
	if err != nil {
		b.Fatal(err)
	}
	pod := waitReady(b, ctx, c, ns, echoBenchPod("web-0", "web"))
	netns := "minik8s-node-1"
	// Let the proxy see the endpoint before measuring.
	if _, err := firstAnswer(netns, "http://"+svc.Spec.ClusterIP+"/", 30*time.Second); err != nil {
		b.Fatal(err)
	}
	// Interleaved runs, the median of each measure, so that warm-up and the noise of a small
	// shared machine fall on both alike.
	var directs, viaSvcs []wrkResult
	for i := 0; i < 7; i++ {
		directs = append(directs, runWrk(b, netns, "http://"+pod.Status.PodIP+":8080/"))
		viaSvcs = append(viaSvcs, runWrk(b, netns, "http://"+svc.Spec.ClusterIP+"/"))
	}
	direct, viaSvc := medianResult(directs), medianResult(viaSvcs)
	b.Logf("straight to the Pod IP: %8.0f req/s, p99 %6.2fms", direct.rps, direct.p99ms)
	b.Logf("through the cluster IP: %8.0f req/s, p99 %6.2fms", viaSvc.rps, viaSvc.p99ms)
	b.Logf("cluster IP / Pod IP: throughput %.2fx (goal >= 0.95x), p99 %.2fx (goal <= 1.1x)", viaSvc.rps/direct.rps, viaSvc.p99ms/direct.p99ms)
	b.ReportMetric(viaSvc.rps/direct.rps, "throughput-ratio")
	b.ReportMetric(viaSvc.p99ms/direct.p99ms, "p99-ratio")

	// Ready → first request served through a Service of its own.
	var lat []time.Duration
	for i := 0; i < 10; i++ {
		app := fmt.Sprintf("late-%d", i)
		s, err := c.Services(ns).Create(ctx, &api.Service{ObjectMeta: api.ObjectMeta{Name: app}, Spec: api.ServiceSpec{
			Selector: map[string]string{"app": app}, Ports: []api.ServicePort{{Port: 80, TargetPort: api.FromInt(8080)}}}})
		if err != nil {
			b.Fatal(err)
		}
		done := make(chan time.Time, 1)
		go func() {
			t, err := firstAnswer(netns, "http://"+s.Spec.ClusterIP+"/", time.Minute)
			if err != nil {
				b.Error(err)
			}
			done <- t
		}()
		p := waitReady(b, ctx, c, ns, echoBenchPod(app, app))
		served := <-done
		// From when a watch showed the Pod Ready; a request served before that counts as 0.
		lat = append(lat, max(0, served.Sub(p.readyAt)))
	}
	sort.Slice(lat, func(a, c int) bool { return lat[a] < lat[c] })
	p99 := pct(lat, 0.99)
	b.Logf("Pod Ready → first request through its Service: median %v, p99 %v (goal p99 < 300ms)", lat[len(lat)/2].Round(time.Millisecond), p99.Round(time.Millisecond))
	b.ReportMetric(ms(p99), "ready-to-served-p99-ms")
}

type readyPod struct {
	*api.Pod
	readyAt time.Time
}

func echoBenchPod(name, app string) *api.Pod {
	grace := int64(1)
	return &api.Pod{ObjectMeta: api.ObjectMeta{Name: name, Labels: map[string]string{"app": app}},
		Spec: api.PodSpec{TerminationGracePeriodSeconds: &grace, Containers: []api.Container{{Name: "echo", Image: "echo:latest", ImagePullPolicy: api.PullIfNotPresent}}}}
}

// waitReady creates a Pod and waits (by watch) until it is Ready.
func waitReady(b *testing.B, ctx context.Context, c *client.Client, ns string, p *api.Pod) readyPod {
	_, rv, err := c.Pods(ns).List(ctx, client.ListOptions{})
	if err != nil {
		b.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	events, err := c.Pods(ns).Watch(wctx, client.ListOptions{ResourceVersion: rv, FieldSelector: "metadata.name=" + p.Name})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Pods(ns).Create(ctx, p); err != nil {
		b.Fatal(err)
	}
	for ev := range events {
		got, ok := ev.Object.(*api.Pod)
		if !ok {
			continue
		}
		for _, cond := range got.Status.Conditions {
			if cond.Type == api.PodReady && cond.Status == api.ConditionTrue {
				return readyPod{got, time.Now()}
			}
		}
	}
	b.Fatalf("pod %s did not become Ready", p.Name)
	return readyPod{}
}

// firstAnswer polls url from inside the node's network until it answers, and says when.
func firstAnswer(netns, url string, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		err := exec.Command("nsenter", "--net=/run/netns/"+netns, "busybox", "wget", "-q", "-O", "/dev/null", url).Run()
		if err == nil {
			return time.Now(), nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Time{}, fmt.Errorf("%s did not answer within %s", url, timeout)
}

type wrkResult struct{ rps, p99ms float64 }

// runWrk runs wrk from the node's network namespace.
func runWrk(b *testing.B, netns, url string) wrkResult {
	out, err := exec.Command("nsenter", "--net=/run/netns/"+netns, "wrk", "-t2", "-c16", "-d2s", "--latency", url).CombinedOutput()
	if err != nil {
		b.Fatalf("wrk %s: %v\n%s", url, err, out)
	}
	rps := regexp.MustCompile(`Requests/sec:\s+([\d.]+)`).FindSubmatch(out)
	p99 := regexp.MustCompile(`\s99%\s+([\d.]+)(us|ms|s)`).FindSubmatch(out)
	if rps == nil || p99 == nil {
		b.Fatalf("cannot read wrk's output:\n%s", out)
	}
	r, _ := strconv.ParseFloat(string(rps[1]), 64)
	p, _ := strconv.ParseFloat(string(p99[1]), 64)
	switch strings.TrimSpace(string(p99[2])) {
	case "us":
		p /= 1000
	case "s":
		p *= 1000
	}
	return wrkResult{r, p}
}

// medianResult is the median throughput and the median p99 of several runs.
func medianResult(rs []wrkResult) wrkResult {
	rps := make([]float64, len(rs))
	p99 := make([]float64, len(rs))
	for i, r := range rs {
		rps[i], p99[i] = r.rps, r.p99ms
	}
	sort.Float64s(rps)
	sort.Float64s(p99)
	return wrkResult{rps: rps[len(rps)/2], p99ms: p99[len(p99)/2]}
}
