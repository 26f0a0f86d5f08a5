package kubelet

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
)

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCgroupUsageV1(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"proc/42/cgroup": "12:pids:/minik8s/c1\n4:cpu,cpuacct:/minik8s/c1\n3:memory:/minik8s/c1\n1:name=systemd:/minik8s/c1\n0::/\n",
		"sys/fs/cgroup/cpu,cpuacct/minik8s/c1/cpuacct.usage":    "2500000000\n",
		"sys/fs/cgroup/memory/minik8s/c1/memory.usage_in_bytes": "10485760\n",
		"sys/fs/cgroup/memory/minik8s/c1/memory.stat":           "cache 4096\ninactive_file 1\ntotal_inactive_file 2097152\n",
	})
	u, err := cgroupFS{root: root}.usageOf(42)
	if err != nil {
		t.Fatal(err)
	}
	if u.CPUNanos != 2500000000 || u.WorkingSet != 8<<20 {
		t.Errorf("usage = %+v, want 2.5 s of CPU and 8 MiB working set", u)
	}
}

func TestCgroupUsageV2(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"proc/7/cgroup":                           "0::/minik8s/c2\n",
		"sys/fs/cgroup/minik8s/c2/cpu.stat":       "usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n",
		"sys/fs/cgroup/minik8s/c2/memory.current": "4194304\n",
		"sys/fs/cgroup/minik8s/c2/memory.stat":    "anon 3000000\nfile 1000000\ninactive_file 1048576\n",
	})
	u, err := cgroupFS{root: root}.usageOf(7)
	if err != nil {
		t.Fatal(err)
	}
	if u.CPUNanos != 1500000000 || u.WorkingSet != 3<<20 {
		t.Errorf("usage = %+v, want 1.5 s of CPU and 3 MiB working set", u)
	}
	if _, err := (cgroupFS{root: root}).usageOf(8); err == nil {
		t.Error("a process that does not exist has usage")
	}
}

func TestMachineAndProcessUsage(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		// user nice system idle iowait irq softirq steal guest guest_nice
		"proc/stat":     "cpu  100 0 50 1000 20 5 5 0 30 0\ncpu0 1 2 3\n",
		"proc/meminfo":  "MemTotal:       1000 kB\nMemFree:         100 kB\nMemAvailable:    400 kB\n",
		"proc/9/stat":   "9 (a (b) c) S 1 1 1 0 -1 0 0 0 0 0 30 20 0 0 20 0 1 0 100 0 0\n",
		"proc/9/status": "Name:\tx\nVmRSS:\t    2048 kB\n",
	})
	fs := cgroupFS{root: root}
	m, err := fs.machineUsage()
	if err != nil {
		t.Fatal(err)
	}
	if m.CPUNanos != 160*uint64(time.Second/userHZ) || m.WorkingSet != 600*1024 {
		t.Errorf("machine = %+v, want 160 ticks busy and 600 KiB used", m)
	}
	p, err := fs.processUsage(9)
	if err != nil {
		t.Fatal(err)
	}
	if p.CPUNanos != 50*uint64(time.Second/userHZ) || p.WorkingSet != 2<<20 {
		t.Errorf("process = %+v, want 50 ticks and 2 MiB", p)
	}
}

func TestSampleRatesAndGroupsByPod(t *testing.T) {
	root := t.TempDir()
	set := func(pid, cpuNanos, mem string) {
		writeFiles(t, root, map[string]string{
			"proc/" + pid + "/cgroup":                    "0::/k/" + pid + "\n",
			"sys/fs/cgroup/k/" + pid + "/cpu.stat":       "usage_usec " + cpuNanos + "\n",
			"sys/fs/cgroup/k/" + pid + "/memory.current": mem + "\n",
		})
	}
	writeFiles(t, root, map[string]string{"proc/stat": "cpu  0 0 0 0 0 0 0 0 0 0\n", "proc/meminfo": "MemTotal: 10 kB\nMemAvailable: 10 kB\n"})
	set("1", "0", "1048576")
	set("2", "0", "2097152")
	set("3", "0", "1048576")
	start := time.Unix(1000, 0)
	cs := []containerSample{
		{id: "a", podUID: "u1", podName: "web-1", podNamespace: "default", name: "app", pid: 1, started: start},
		{id: "b", podUID: "u1", podName: "web-1", podNamespace: "default", name: "side", pid: 2, started: start},
		{id: "c", podUID: "u2", podName: "web-2", podNamespace: "default", name: "app", pid: 3, started: start},
	}
	labels := func(ns, name string) map[string]string { return map[string]string{"app": "web"} }
	s := &usageSampler{fs: cgroupFS{root: root}, fresh: 30 * time.Second}

	// First sample: the rate is over the container's life (10 s), here 0.
	rep := s.sample(start.Add(10*time.Second), "n1", cs, labels, false)
	if len(rep.Pods) != 2 || len(rep.Pods[0].Containers) != 2 || rep.Pods[0].Labels["app"] != "web" {
		t.Fatalf("report = %+v", rep)
	}
	if w := rep.Pods[0].Window.Duration; w != 10*time.Second {
		t.Errorf("first window = %s, want the 10 s since the start", w)
	}

	// 5 s later: app used 2.5 s of CPU (500m), side 0.5 s (100m), web-2 5 s (1000m).
	set("1", "2500000", "1048576")
	set("2", "500000", "2097152")
	set("3", "5000000", "1048576")
	rep = s.sample(start.Add(15*time.Second), "n1", cs, labels, false)
	cpu, mem := api.PodUsage(&rep.Pods[0])
	if cpu != 600 || mem != 3<<20 {
		t.Errorf("web-1 = %dm %d bytes, want 600m and 3 MiB", cpu, mem)
	}
	if cpu, _ := api.PodUsage(&rep.Pods[1]); cpu != 1000 {
		t.Errorf("web-2 = %dm, want 1000m", cpu)
	}
	if w := rep.Pods[0].Window.Duration; w != 5*time.Second {
		t.Errorf("window = %s, want 5s", w)
	}

	// On a shared host the node is what its Pods (and its kubelet) use.
	writeFiles(t, root, map[string]string{
		"proc/" + itoa(os.Getpid()) + "/stat":   "1 (k) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0\n",
		"proc/" + itoa(os.Getpid()) + "/status": "VmRSS: 1024 kB\n",
	})
	rep = s.sample(start.Add(20*time.Second), "n1", cs[:1], labels, true)
	q := rep.Node.Usage[api.ResourceMemory]
	if q.Value() != 1<<20+1024*1024 {
		t.Errorf("shared-host node memory = %d, want the Pod's 1 MiB and the kubelet's 1 MiB", q.Value())
	}
	if _, ok := s.prev["b"]; ok {
		t.Error("a container no longer running is still remembered")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// An old container without a previous reading (the kubelet restarted) waits for a second
// reading rather than report its lifetime average, and its Pod is left out until then; a
// restarted container starts a new counter.
func TestSampleAfterKubeletRestart(t *testing.T) {
	root := t.TempDir()
	set := func(pid, usec string) {
		writeFiles(t, root, map[string]string{
			"proc/" + pid + "/cgroup":                    "0::/k/" + pid + "\n",
			"sys/fs/cgroup/k/" + pid + "/cpu.stat":       "usage_usec " + usec + "\n",
			"sys/fs/cgroup/k/" + pid + "/memory.current": "1048576\n",
		})
	}
	writeFiles(t, root, map[string]string{"proc/stat": "cpu  0 0 0 0 0 0 0 0 0 0\n", "proc/meminfo": "MemTotal: 10 kB\nMemAvailable: 10 kB\n"})
	now := time.Unix(100000, 0)
	long := now.Add(-24 * time.Hour)
	// Busy for an hour long ago: 3600 s of CPU over a day of life.
	set("1", "3600000000")
	set("2", "0")
	cs := []containerSample{
		{id: "a", podUID: "u1", podName: "old", podNamespace: "default", name: "app", pid: 1, started: long},
		{id: "b", podUID: "u1", podName: "old", podNamespace: "default", name: "side", pid: 2, started: now.Add(-2 * time.Second)},
	}
	s := &usageSampler{fs: cgroupFS{root: root}, fresh: 10 * time.Second}
	if rep := s.sample(now, "n1", cs, nil, false); len(rep.Pods) != 0 || len(rep.Unmeasured) != 1 || rep.Unmeasured[0] != "default/old" {
		t.Fatalf("first sample after a restart reported %+v, unmeasured %v; want the Pod left out (and named) until a second reading", rep.Pods, rep.Unmeasured)
	}
	// Idle since: the second reading gives the current rate, 0.
	rep := s.sample(now.Add(5*time.Second), "n1", cs, nil, false)
	if len(rep.Pods) != 1 || len(rep.Pods[0].Containers) != 2 {
		t.Fatalf("second sample: %+v", rep.Pods)
	}
	if cpu, _ := api.PodUsage(&rep.Pods[0]); cpu != 0 {
		t.Errorf("an idle Pod shows %dm", cpu)
	}
	// The container restarts (same ID, new start, counter from zero): a fresh counter, whose
	// first reading is a rate over its short life.
	set("1", "500000")
	cs[0].started = now.Add(9 * time.Second)
	rep = s.sample(now.Add(10*time.Second), "n1", cs, nil, false)
	if len(rep.Pods) != 1 {
		t.Fatalf("after a restart: %+v", rep.Pods)
	}
	if cpu, _ := api.PodUsage(&rep.Pods[0]); cpu != 500 {
		t.Errorf("restarted container: %dm, want 500m (0.5 s over its 1 s of life)", cpu)
	}
}
