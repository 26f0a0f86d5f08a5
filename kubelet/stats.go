package kubelet

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minik8s/minik8s/api"
)

// Resource usage. Every MetricsInterval the kubelet reads the cgroup of each running container
// (CPU time used, memory working set), turns CPU time into cores over the time since the last
// sample (since the container started, for its first sample), sums each Pod's containers and
// sends the lot, with the node's own usage, to the API server, which keeps a short window of it
// (what `minik8s top` shows and the autoscaler reads). cgroup v1 and v2 are both read, from the
// paths /proc/PID/cgroup gives, so any cgroup driver works.

// cgroupFS is where the cgroup hierarchies and /proc are found: "/" on a machine; tests point it
// at a directory of fake files.
type cgroupFS struct {
	root string
}

// cgroupUsage is what one cgroup has used: CPU time in nanoseconds (cumulative) and the memory
// working set in bytes (usage less inactive file cache, as Kubernetes counts it).
type cgroupUsage struct {
	CPUNanos   uint64
	WorkingSet uint64
}

func (fs cgroupFS) path(p ...string) string {
	return filepath.Join(append([]string{fs.root}, p...)...)
}

// usageOf reads the cgroup usage of the process pid.
func (fs cgroupFS) usageOf(pid uint32) (cgroupUsage, error) {
	data, err := os.ReadFile(fs.path("proc", strconv.Itoa(int(pid)), "cgroup"))
	if err != nil {
		return cgroupUsage{}, err
	}
	v1 := map[string]string{} // controller → path
	v2 := ""
	hasV2 := false
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			v2, hasV2 = parts[2], true
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			v1[c] = parts[2]
		}
		// The hierarchy's directory is named after its controllers as mounted ("cpu,cpuacct").
		v1["dir:"+parts[1]] = parts[2]
	}
	if p, ok := v1["cpuacct"]; ok {
		return fs.usageV1(v1, p)
	}
	if hasV2 {
		return fs.usageV2(v2)
	}
	return cgroupUsage{}, fmt.Errorf("process %d is in no cpuacct (v1) or unified (v2) cgroup", pid)
}

// v1Dir finds the directory of controller's hierarchy: /sys/fs/cgroup/CONTROLLER, or the
// directory named after all the controllers mounted with it.
func (fs cgroupFS) v1Dir(v1 map[string]string, controller, rel string) string {
	dirs := []string{controller}
	for k := range v1 {
		if name, ok := strings.CutPrefix(k, "dir:"); ok && name != controller && strings.Contains(","+name+",", ","+controller+",") {
			dirs = append(dirs, name)
		}
	}
	for _, d := range dirs {
		p := fs.path("sys/fs/cgroup", d, rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return fs.path("sys/fs/cgroup", controller, rel)
}

func (fs cgroupFS) usageV1(v1 map[string]string, cpuPath string) (cgroupUsage, error) {
	var u cgroupUsage
	cpu, err := readUint(filepath.Join(fs.v1Dir(v1, "cpuacct", cpuPath), "cpuacct.usage"))
	if err != nil {
		return u, err
	}
	u.CPUNanos = cpu
	if mp, ok := v1["memory"]; ok {
		dir := fs.v1Dir(v1, "memory", mp)
		usage, err := readUint(filepath.Join(dir, "memory.usage_in_bytes"))
		if err != nil {
			return u, err
		}
		inactive := statField(filepath.Join(dir, "memory.stat"), "total_inactive_file")
		u.WorkingSet = subFloor(usage, inactive)
	}
	return u, nil
}

func (fs cgroupFS) usageV2(rel string) (cgroupUsage, error) {
	var u cgroupUsage
	dir := fs.path("sys/fs/cgroup", rel)
	usec, ok := statFieldOK(filepath.Join(dir, "cpu.stat"), "usage_usec")
	if !ok {
		return u, fmt.Errorf("no usage_usec in %s", filepath.Join(dir, "cpu.stat"))
	}
	u.CPUNanos = usec * 1000
	if cur, err := readUint(filepath.Join(dir, "memory.current")); err == nil {
		u.WorkingSet = subFloor(cur, statField(filepath.Join(dir, "memory.stat"), "inactive_file"))
	}
	return u, nil
}

func subFloor(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}

func readUint(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
}

// statField reads "key value" from a flat-keyed cgroup file; 0 when absent.
func statField(path, key string) uint64 {
	v, _ := statFieldOK(path, key)
	return v
}

func statFieldOK(path, key string) (uint64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if ok && k == key {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// machineUsage reads the machine's CPU time in use (all CPUs, nanoseconds, from /proc/stat:
// everything but idle and iowait) and memory in use (MemTotal less MemAvailable).
func (fs cgroupFS) machineUsage() (cgroupUsage, error) {
	var u cgroupUsage
	b, err := os.ReadFile(fs.path("proc/stat"))
	if err != nil {
		return u, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return u, errors.New("/proc/stat: no cpu line")
	}
	var busy uint64
	for i, s := range f[1:] {
		if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest time is already in user
			continue
		}
		n, _ := strconv.ParseUint(s, 10, 64)
		busy += n
	}
	u.CPUNanos = busy * uint64(time.Second/userHZ)
	total := statFieldKB(fs.path("proc/meminfo"), "MemTotal:")
	avail := statFieldKB(fs.path("proc/meminfo"), "MemAvailable:")
	u.WorkingSet = subFloor(total, avail)
	return u, nil
}

// userHZ is the unit of /proc/stat's times (USER_HZ, 100 on Linux).
const userHZ = 100

// processUsage reads one process's CPU time (utime+stime) and resident memory.
func (fs cgroupFS) processUsage(pid int) (cgroupUsage, error) {
	var u cgroupUsage
	b, err := os.ReadFile(fs.path("proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return u, err
	}
	// The command may hold spaces and parentheses: the fields start after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return u, errors.New("malformed /proc/PID/stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return u, errors.New("short /proc/PID/stat")
	}
	utime, _ := strconv.ParseUint(f[11], 10, 64)
	stime, _ := strconv.ParseUint(f[12], 10, 64)
	u.CPUNanos = (utime + stime) * uint64(time.Second/userHZ)
	u.WorkingSet = statFieldKB(fs.path("proc", strconv.Itoa(pid), "status"), "VmRSS:")
	return u, nil
}

// statFieldKB reads "Key:   123 kB" from /proc/meminfo or /proc/PID/status, in bytes.
func statFieldKB(path, key string) uint64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.ParseUint(f[0], 10, 64)
				return n * 1024
			}
		}
	}
	return 0
}

// cpuSample is a cumulative CPU time, when it was read, and when the container it was read
// from started (a restarted container has a new counter).
type cpuSample struct {
	nanos   uint64
	at      time.Time
	started time.Time
}

// cpuRate turns two cumulative CPU readings into millicores. A counter that went back (a new
// cgroup under the same key) or no time between gives ok false.
func cpuRate(prev, cur cpuSample) (milli int64, window time.Duration, ok bool) {
	window = cur.at.Sub(prev.at)
	if window <= 0 || cur.nanos < prev.nanos {
		return 0, 0, false
	}
	return int64(float64(cur.nanos-prev.nanos) / float64(window.Nanoseconds()) * 1000), window, true
}

// usageSampler holds the previous readings between samples.
type usageSampler struct {
	fs   cgroupFS
	prev map[string]cpuSample // by container ID, "node" for the node
	// fresh is how recently a container must have started for its first reading to count as
	// a rate (its whole life is then short); an older container without a previous reading (the
	// kubelet restarted) waits for a second one, rather than report its lifetime average.
	fresh time.Duration
}

// containerSample is one running container as the sampler sees it.
type containerSample struct {
	id, podUID, podName, podNamespace, name string
	pid                                     uint32
	started                                 time.Time
}

// sample measures the given containers and the node. Pods are grouped by UID; labels give
// each Pod's labels (by namespace/name) when known. sharedHost says that the machine runs
// several nodes: the node's usage is then its Pods' and its own process's, not the machine's.
func (s *usageSampler) sample(now time.Time, node string, cs []containerSample, labels func(ns, name string) map[string]string, sharedHost bool) *api.UsageReport {
	if s.prev == nil {
		s.prev = map[string]cpuSample{}
	}
	seen := map[string]bool{}
	type podAcc struct {
		pm     *api.PodMetrics
		window time.Duration
	}
	pods := map[string]*podAcc{}
	incomplete := map[string]bool{} // Pods with a running container not measured this time
	var order []string
	for _, c := range cs {
		u, err := s.fs.usageOf(c.pid)
		if err != nil {
			incomplete[c.podUID] = true // exited between the listing and the reading
			continue
		}
		cur := cpuSample{nanos: u.CPUNanos, at: now, started: c.started}
		prev, had := s.prev[c.id]
		if had && !prev.started.Equal(c.started) {
			had = false // restarted: a new counter
		}
		s.prev[c.id] = cur
		seen[c.id] = true
		if !had {
			if now.Sub(c.started) > s.fresh {
				incomplete[c.podUID] = true
				continue
			}
			prev = cpuSample{nanos: 0, at: c.started}
		}
		milli, window, ok := cpuRate(prev, cur)
		if !ok {
			incomplete[c.podUID] = true
			continue
		}
		acc := pods[c.podUID]
		if acc == nil {
			pm := &api.PodMetrics{ObjectMeta: api.ObjectMeta{Name: c.podName, Namespace: c.podNamespace, UID: c.podUID}}
			if labels != nil {
				pm.Labels = labels(c.podNamespace, c.podName)
			}
			acc = &podAcc{pm: pm}
			pods[c.podUID] = acc
			order = append(order, c.podUID)
		}
		if window > acc.window {
			acc.window = window
		}
		acc.pm.Containers = append(acc.pm.Containers, api.ContainerMetrics{Name: c.name, Usage: api.ResourceList{
			api.ResourceCPU:    api.NewMilliQuantity(milli),
			api.ResourceMemory: api.NewQuantity(int64(u.WorkingSet), true),
		}})
	}
	for id := range s.prev {
		if !seen[id] && id != "node" && id != "self" {
			delete(s.prev, id)
		}
	}
	rep := &api.UsageReport{TypeMeta: api.TypeMeta{APIVersion: "minik8s.io/v1", Kind: "UsageReport"}}
	ts := api.NewTime(now)
	// A Pod is reported whole or not at all: one without some of its containers would look
	// idler than it is.
	var podCPU, podMem int64
	for _, c := range cs {
		if incomplete[c.podUID] {
			key := c.podNamespace + "/" + c.podName
			if !slices.Contains(rep.Unmeasured, key) {
				rep.Unmeasured = append(rep.Unmeasured, key)
			}
		}
	}
	for _, uid := range order {
		if incomplete[uid] {
			continue
		}
		acc := pods[uid]
		cpu, mem := api.PodUsage(acc.pm)
		podCPU, podMem = podCPU+cpu, podMem+mem
		acc.pm.Timestamp = ts
		acc.pm.Window = api.Duration{Duration: acc.window.Round(time.Millisecond)}
		rep.Pods = append(rep.Pods, *acc.pm)
	}

	rep.Node = api.NodeMetrics{ObjectMeta: api.ObjectMeta{Name: node}, Timestamp: ts}
	var nodeU cgroupUsage
	var err error
	key := "node"
	if sharedHost {
		key = "self"
		nodeU, err = s.fs.processUsage(os.Getpid())
	} else {
		nodeU, err = s.fs.machineUsage()
	}
	if err == nil {
		cur := cpuSample{nanos: nodeU.CPUNanos, at: now}
		prev, had := s.prev[key]
		s.prev[key] = cur
		cpu, mem := int64(0), int64(nodeU.WorkingSet)
		if milli, window, ok := cpuRate(prev, cur); had && ok {
			cpu = milli
			rep.Node.Window = api.Duration{Duration: window.Round(time.Millisecond)}
		}
		if sharedHost {
			cpu, mem = cpu+podCPU, mem+podMem
		}
		rep.Node.Usage = api.ResourceList{api.ResourceCPU: api.NewMilliQuantity(cpu), api.ResourceMemory: api.NewQuantity(mem, true)}
	}
	return rep
}

// reportUsage samples and reports every interval until ctx ends.
func (k *Kubelet) reportUsage(ctx context.Context) {
	s := &usageSampler{fs: cgroupFS{root: "/"}, fresh: 2 * k.cfg.MetricsInterval}
	t := time.NewTicker(k.cfg.MetricsInterval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cs, err := k.runningContainers(ctx)
		if err != nil {
			k.log.Debug("list containers for usage", "err", err)
			continue
		}
		rep := s.sample(time.Now(), k.cfg.NodeName, cs, k.podLabels, k.cfg.SharedHost)
		rctx, cancel := context.WithTimeout(ctx, k.cfg.MetricsInterval)
		err = k.client.ReportUsage(rctx, rep)
		cancel()
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			k.log.Warn("report usage to the API server (retrying every interval)", "err", err)
			failing = true
		case err == nil && failing:
			k.log.Info("reporting usage again")
			failing = false
		}
	}
}

// runningContainers lists the running containers of Pods (sandboxes left out).
func (k *Kubelet) runningContainers(ctx context.Context) ([]containerSample, error) {
	list, err := k.rt.PodContainers(ctx, "")
	if err != nil {
		return nil, err
	}
	var out []containerSample
	for _, c := range list {
		st, err := k.rt.Inspect(ctx, c)
		if err != nil || !st.Running || st.Pid == 0 || st.Labels[labelKind] != "container" {
			continue
		}
		out = append(out, containerSample{
			id: c.ID(), podUID: st.Labels[labelPodUID], podName: st.Labels[labelPodName], podNamespace: st.Labels[labelPodNamespace],
			name: st.Labels[labelContainer], pid: st.Pid, started: st.StartedAt,
		})
	}
	return out, nil
}

// podLabels returns the labels of a Pod the kubelet knows, for the metrics' label selectors.
func (k *Kubelet) podLabels(ns, name string) map[string]string {
	if k.pods == nil {
		return nil
	}
	obj, ok := k.pods.Get(ns + "/" + name)
	if !ok {
		return nil
	}
	return obj.GetObjectMeta().Labels
}
