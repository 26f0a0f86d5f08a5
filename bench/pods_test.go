package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/oci"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
)

const benchPods = 30

// BenchmarkPodStart compares a Pod's start (apply → Running, seen through a watch: the API
// server, the kubelet, the network namespace with CNI, the container; the Pod's pause container
// starts once the Pod is reported Running) with plain containerd starting the same image with
// the same snapshotter on the same containerd, in the same run. The two alternate, one start of
// each at a time, so that both meet the same machine; every start begins on a quiet node (the
// previous Pod's pause container running).
func BenchmarkPodStart(b *testing.B) {
	lc := startCluster(b)
	c := lc.client
	ctx := context.Background()

	sock := filepath.Join(lc.dir, "nodes", "node-1", "containerd", "containerd.sock")
	cc, err := containerd.New(sock)
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Close()
	rawStart, rawDone := rawContainerdStarter(b, ctx, cc, filepath.Join(lc.images, "busybox.tar"))
	defer rawDone()
	podStart, podDone := podStarter(b, ctx, c, cc)
	defer podDone()

	var raw, pods []time.Duration
	for i := 0; i < benchPods; i++ {
		// Which goes first alternates too, so that what a start leaves behind (the kubelet's
		// last status and event writes) weighs on both alike.
		if i%2 == 0 {
			raw = append(raw, rawStart(i))
			pods = append(pods, podStart(i))
		} else {
			pods = append(pods, podStart(i))
			raw = append(raw, rawStart(i))
		}
	}

	rawMed, podMed := median(raw), median(pods)
	b.Logf("plain containerd: %d containers: median %6.1fms  p99 %6.1fms", len(raw), ms(rawMed), ms(p99(raw)))
	b.Logf("minik8s Pods:     %d pods:       median %6.1fms  p99 %6.1fms", len(pods), ms(podMed), ms(p99(pods)))
	b.Logf("Pod start / plain containerd start (medians): %.2fx (goal <= 1.5x); Pod p99 %.0fms (goal < 1000ms)",
		float64(podMed)/float64(rawMed), ms(p99(pods)))
	b.ReportMetric(float64(podMed)/float64(rawMed), "ratio-vs-containerd")
	b.ReportMetric(ms(p99(pods)), "pod-p99-ms")
}

// rawContainerdStarter returns a function that creates and starts busybox container i straight
// on containerd and says how long it took, and one that removes them all.
func rawContainerdStarter(b *testing.B, ctx context.Context, cc *containerd.Client, archive string) (func(int) time.Duration, func()) {
	ctx = namespaces.WithNamespace(ctx, "bench-raw")
	f, err := os.Open(archive)
	if err != nil {
		b.Fatal(err)
	}
	imgs, err := cc.Import(ctx, f)
	f.Close()
	if err != nil || len(imgs) == 0 {
		b.Fatalf("import %s: %v", archive, err)
	}
	img := containerd.NewImage(cc, imgs[0])
	if err := img.Unpack(ctx, containerd.DefaultSnapshotter); err != nil {
		b.Fatal(err)
	}
	var started []containerd.Container
	done := func() {
		for _, ctr := range started {
			if t, err := ctr.Task(ctx, nil); err == nil {
				_, _ = t.Delete(ctx, containerd.WithProcessKill)
			}
			_ = ctr.Delete(ctx, containerd.WithSnapshotCleanup)
		}
		_ = cc.ImageService().Delete(ctx, imgs[0].Name)
	}
	start := func(i int) time.Duration {
		id := fmt.Sprintf("raw-%d", i)
		t0 := time.Now()
		ctr, err := cc.NewContainer(ctx, id, containerd.WithImage(img), containerd.WithNewSnapshot(id, img),
			containerd.WithNewSpec(oci.WithImageConfig(img), oci.WithProcessArgs("sleep", "3600")))
		if err != nil {
			b.Fatal(err)
		}
		started = append(started, ctr)
		task, err := ctr.NewTask(ctx, cio.NullIO)
		if err != nil {
			b.Fatal(err)
		}
		if err := task.Start(ctx); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	return start, done
}

// podStarter returns a function that creates Pod i and times it from the create to the watch
// event that shows it Running, then waits for its pause container to run; and one that deletes
// the Pods.
func podStarter(b *testing.B, ctx context.Context, c *client.Client, cc *containerd.Client) (func(int) time.Duration, func()) {
	ns := "bench-pods"
	if _, err := c.Namespaces().Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: ns}}); err != nil {
		b.Fatal(err)
	}
	_, rv, err := c.Pods(ns).List(ctx, client.ListOptions{})
	if err != nil {
		b.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	done := func() {
		cancel()
		_ = c.Namespaces().Delete(ctx, ns, nil)
	}
	events, err := c.Pods(ns).Watch(wctx, client.ListOptions{ResourceVersion: rv})
	if err != nil {
		b.Fatal(err)
	}
	waitRunning := func(name string) *api.Pod {
		deadline := time.After(2 * time.Minute)
		for {
			select {
			case ev, ok := <-events:
				if !ok {
					b.Fatal("the watch ended")
				}
				if p, ok := ev.Object.(*api.Pod); ok && p.Name == name && p.Status.Phase == api.PodRunning {
					return p
				}
			case <-deadline:
				b.Fatalf("pod %s did not run within 2 minutes", name)
			}
		}
	}
	// The pause container is the kubelet's "<pod UID>-pod" in its containerd namespace.
	kctx := namespaces.WithNamespace(ctx, "minik8s")
	waitPause := func(p *api.Pod) {
		deadline := time.Now().Add(time.Minute)
		for time.Now().Before(deadline) {
			if ctr, err := cc.LoadContainer(kctx, string(p.UID)+"-pod"); err == nil {
				if t, err := ctr.Task(kctx, nil); err == nil {
					if st, err := t.Status(kctx); err == nil && st.Status == containerd.Running {
						return
					}
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
		b.Fatalf("the pause container of %s did not run within a minute", p.Name)
	}
	create := func(name string) {
		if _, err := c.Pods(ns).Create(ctx, benchPodSpec(name)); err != nil {
			b.Fatal(err)
		}
	}
	// Warm the node: the first Pod pulls the images, which plain containerd had imported.
	create("warm")
	waitPause(waitRunning("warm"))
	start := func(i int) time.Duration {
		name := fmt.Sprintf("p-%d", i)
		t0 := time.Now()
		create(name)
		p := waitRunning(name)
		d := time.Since(t0)
		waitPause(p)
		return d
	}
	return start, done
}

func benchPodSpec(name string) *api.Pod {
	grace := int64(0)
	return &api.Pod{
		ObjectMeta: api.ObjectMeta{Name: name},
		Spec: api.PodSpec{NodeName: "node-1", TerminationGracePeriodSeconds: &grace,
			Containers: []api.Container{{Name: "main", Image: "busybox:latest", Command: []string{"sleep", "3600"}, ImagePullPolicy: api.PullIfNotPresent}}},
	}
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(a, b int) bool { return s[a] < s[b] })
	return s[len(s)/2]
}

func p99(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(a, b int) bool { return s[a] < s[b] })
	return pct(s, 0.99)
}

// localCluster is a one-node local cluster for a benchmark, removed when it ends.
type localCluster struct {
	dir    string
	images string
	client *client.Client
}

// startCluster brings up a one-node cluster with the images pushed, or skips the benchmark
// when it cannot run here (not root, not started by `make bench`).
func startCluster(b *testing.B) *localCluster {
	b.Helper()
	if os.Geteuid() != 0 {
		b.Skip("needs root: it runs a real cluster (sudo make bench)")
	}
	bin, images := os.Getenv("MINIK8S_BIN"), os.Getenv("MINIK8S_IMAGES")
	if bin == "" || images == "" {
		b.Skip("run it with `make bench`, which builds the binary and the images (MINIK8S_BIN, MINIK8S_IMAGES)")
	}
	dir := b.TempDir()
	if out, err := exec.Command(bin, "cluster", "up", "--dir", dir, "--nodes", "1", "--config-out", "", "--images", images).CombinedOutput(); err != nil {
		b.Fatalf("cluster up: %v\n%s", err, out)
	}
	b.Cleanup(func() {
		if out, err := exec.Command(bin, "cluster", "down", "--dir", dir, "--purge").CombinedOutput(); err != nil {
			b.Errorf("cluster down: %v\n%s", err, out)
		}
	})
	cfg, err := client.LoadConfig(filepath.Join(dir, "server", "admin.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	c, err := client.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return &localCluster{dir: dir, images: images, client: c}
}
