//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
)

// getPod reads a Pod the way a user would: `minik8s get pod -o json`.
func getPod(t *testing.T, ns, name string) (*api.Pod, error) {
	t.Helper()
	r := minik8s(t, "get", "pod", name, "-n", ns, "-o", "json")
	if r.err != nil {
		return nil, fmt.Errorf("%s", strings.TrimSpace(r.stderr))
	}
	var p api.Pod
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// waitPod waits until cond holds for the Pod, and returns it.
func waitPod(t *testing.T, ns, name string, timeout time.Duration, what string, cond func(*api.Pod) bool) *api.Pod {
	t.Helper()
	var last *api.Pod
	eventually(t, timeout, fmt.Sprintf("pod %s/%s %s", ns, name, what), func() (bool, string) {
		p, err := getPod(t, ns, name)
		if err != nil {
			return false, err.Error()
		}
		last = p
		b, _ := json.MarshalIndent(p.Status, "", "  ")
		return cond(p), string(b)
	})
	return last
}

func running(p *api.Pod) bool {
	if p.Status.Phase != api.PodRunning || len(p.Status.ContainerStatuses) != len(p.Spec.Containers) {
		return false
	}
	for _, c := range p.Status.ContainerStatuses {
		if c.State.Running == nil {
			return false
		}
	}
	return true
}

// containerdCmd runs ctr against a node's containerd.
func containerdCmd(t *testing.T, node string, args ...string) string {
	t.Helper()
	sock := filepath.Join(nodeDir(node), "containerd", "containerd.sock")
	out, err := exec.Command("ctr", append([]string{"--address", sock, "--namespace", "minik8s"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ctr %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// pidOf finds the host PID of the process whose command line contains s.
func pidOf(t *testing.T, s string) int {
	t.Helper()
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		if strings.Contains(strings.ReplaceAll(string(b), "\x00", " "), s) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(d)))
			if pid != os.Getpid() {
				return pid
			}
		}
	}
	return 0
}

// TestPodTwoContainers: containers of one Pod talk over localhost, share an emptyDir, run the
// command and args they were given, and live within their memory limit.
func TestPodTwoContainers(t *testing.T) {
	ns := namespace(t)
	mustRun(t, "apply", "-f", fixture("pod-duo.yaml"), "-n", ns)
	p := waitPod(t, ns, "duo", 90*time.Second, "to run both containers", running)
	if p.Status.PodIP == "" || !strings.HasPrefix(p.Status.PodIP, "10.244.") {
		t.Fatalf("pod IP %q is not in the pod network", p.Status.PodIP)
	}

	out := mustRun(t, "get", "pod", "duo", "-n", ns, "-o", "wide")
	if !regexp.MustCompile(`(?m)^duo\s+2/2\s+Running\s+0\s+\d+s\s+` + regexp.QuoteMeta(p.Status.PodIP) + `\s+` + p.Spec.NodeName + `\s`).MatchString(out) {
		t.Fatalf("get pod -o wide:\n%s", out)
	}

	// The server wrote into the shared volume; the client reads it.
	if got := strings.TrimSpace(mustRun(t, "exec", "duo", "-c", "client", "-n", ns, "--", "cat", "/shared/hello.txt")); got != "written-by-server" {
		t.Fatalf("the client sees %q in the shared emptyDir", got)
	}
	// The client's args loop fetched from the server over localhost.
	eventually(t, 30*time.Second, "the client to reach the server on localhost", func() (bool, string) {
		r := minik8s(t, "exec", "duo", "-c", "client", "-n", ns, "--", "cat", "/shared/reply.json")
		return r.err == nil && strings.Contains(r.stdout, `"/from-client"`) && strings.Contains(r.stdout, p.Status.PodIP), r.String()
	})
	// Both containers share the Pod's IP.
	r := minik8s(t, "exec", "duo", "-c", "client", "-n", ns, "--", "wget", "-q", "-O", "-", "http://"+p.Status.PodIP+":8080/by-ip")
	if r.err != nil || !strings.Contains(r.stdout, `"/by-ip"`) {
		t.Fatalf("the server is not reachable on the pod IP from its sibling:\n%s", r)
	}

	// The memory limit is the container's cgroup limit.
	limit := strings.TrimSpace(minik8s(t, "exec", "duo", "-c", "client", "-n", ns, "--", "sh", "-c",
		"cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max").stdout)
	if limit != strconv.Itoa(48<<20) {
		t.Fatalf("memory limit in the container's cgroup is %q, want %d", limit, 48<<20)
	}

	// logs and exec exit codes.
	if out := mustRun(t, "logs", "duo", "-c", "server", "-n", ns); out != "" && strings.Contains(out, "panic") {
		t.Fatalf("server logs: %s", out)
	}
	r = minik8s(t, "exec", "duo", "-c", "client", "-n", ns, "--", "sh", "-c", "echo out; echo err >&2; exit 7")
	var exitErr *exec.ExitError
	if r.err == nil || !asExit(r.err, &exitErr) || exitErr.ExitCode() != 7 || !strings.Contains(r.stdout, "out") || !strings.Contains(r.stdout, "err") {
		t.Fatalf("exec exit code and output:\n%s", r)
	}
	r = minik8s(t, "logs", "duo", "-n", ns)
	if r.err == nil || !strings.Contains(r.stderr, "a container name must be specified") {
		t.Fatalf("logs of a two-container pod without -c:\n%s", r)
	}
}

func asExit(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*target = e
	}
	return ok
}

// TestPodRestarts kills a container's process: the kubelet restarts it, RESTARTS goes up, and
// the back-off before each restart grows. Restarting the kubelet leaves the container alone.
func TestPodRestarts(t *testing.T) {
	ns := namespace(t)
	mustRun(t, "apply", "-f", fixture("pod-restarts.yaml"), "-n", ns)
	waitPod(t, ns, "restarts", 90*time.Second, "to run", running)

	var delays []time.Duration
	for i := 1; i <= 4; i++ {
		pid := pidOf(t, "sleep 987654")
		if pid == 0 {
			t.Fatal("the container's process is not on the host")
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		p := waitPod(t, ns, "restarts", 60*time.Second, fmt.Sprintf("to restart (restart %d)", i), func(p *api.Pod) bool {
			return running(p) && p.Status.ContainerStatuses[0].RestartCount == int32(i)
		})
		cs := p.Status.ContainerStatuses[0]
		last := cs.LastTerminationState.Terminated
		if last == nil || last.ExitCode != 137 {
			t.Fatalf("restart %d: last state %+v, want terminated with exit code 137", i, cs.LastTerminationState)
		}
		delays = append(delays, cs.State.Running.StartedAt.Sub(last.FinishedAt.Time))
	}
	t.Logf("back-off before restarts 1 to 4: %v", delays)
	// Base 1s (set by the suite): 1s, 2s, 4s, 8s, each within a second either way, since
	// timestamps have second precision.
	for i, d := range delays {
		want := time.Second << i
		if d < want-time.Second || d > want+2*time.Second {
			t.Fatalf("back-off before restart %d is %v, want about %v (all: %v)", i+1, d, want, delays)
		}
	}
	out := mustRun(t, "get", "pod", "restarts", "-n", ns)
	if !regexp.MustCompile(`(?m)^restarts\s+1/1\s+Running\s+4 \(\d+s ago\)\s+\d+s$`).MatchString(out) {
		t.Fatalf("get pod after 4 restarts:\n%s", out)
	}
	if out := mustRun(t, "logs", "restarts", "-n", ns, "--previous"); out != "" {
		t.Fatalf("logs --previous of a silent container: %q", out)
	}

	// Restart the node's kubelet: it adopts the running container and keeps its process.
	pid := pidOf(t, "sleep 987654")
	node := waitPod(t, ns, "restarts", time.Second, "to be bound", running).Spec.NodeName
	stopProcess(t, filepath.Join("nodes", node, "kubelet.pid"))
	t.Cleanup(func() { clusterUp(t) })
	clusterUp(t)
	p := waitPod(t, ns, "restarts", 60*time.Second, "to be reported again", running)
	if got := pidOf(t, "sleep 987654"); got != pid {
		t.Fatalf("the container was restarted by the kubelet's restart: pid %d, now %d", pid, got)
	}
	if p.Status.ContainerStatuses[0].RestartCount != 4 {
		t.Fatalf("restart count changed across a kubelet restart: %d", p.Status.ContainerStatuses[0].RestartCount)
	}

	// With the control plane down, the node still restarts a crashed container.
	stopProcess(t, "server.pid")
	t.Cleanup(func() { clusterUp(t) }) // whatever happens, the next tests get a cluster
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "the node to restart the container while the control plane is down", func() (bool, string) {
		got := pidOf(t, "sleep 987654")
		return got != 0 && got != pid, fmt.Sprintf("pid %d", got)
	})
	clusterUp(t)
	waitPod(t, ns, "restarts", 60*time.Second, "to report the restart made while the control plane was down", func(p *api.Pod) bool {
		return running(p) && p.Status.ContainerStatuses[0].RestartCount == 5
	})
}

// stopProcess stops one of the cluster's processes by its pid file (server.pid, node.pid).
func stopProcess(t *testing.T, pidFile string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(env.dir, pidFile))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, pidFile+" to stop", func() (bool, string) {
		return syscall.Kill(pid, 0) != nil, "still running"
	})
}

// clusterUp starts what is not running of the cluster again.
func clusterUp(t *testing.T) {
	t.Helper()
	up := exec.Command(env.bin, append([]string{"cluster", "up"}, env.upArgs...)...)
	if out, err := up.CombinedOutput(); err != nil {
		t.Fatalf("cluster up again: %v\n%s", err, out)
	}
}

// TestPodNeverAndMissingImage: a Pod that fails with restartPolicy Never ends Failed; a Pod
// whose image exists nowhere says so.
func TestPodNeverAndMissingImage(t *testing.T) {
	ns := namespace(t)
	mustRun(t, "apply", "-f", fixture("pod-never.yaml"), "-f", fixture("pod-missing-image.yaml"), "-n", ns)
	p := waitPod(t, ns, "never", 90*time.Second, "to fail", func(p *api.Pod) bool { return p.Status.Phase == api.PodFailed })
	if term := p.Status.ContainerStatuses[0].State.Terminated; term == nil || term.ExitCode != 3 || p.Status.ContainerStatuses[0].RestartCount != 0 {
		t.Fatalf("status of the failed pod: %+v", p.Status.ContainerStatuses[0])
	}
	out := mustRun(t, "get", "pod", "never", "-n", ns)
	if !regexp.MustCompile(`(?m)^never\s+0/1\s+Error\s+0\s+\d+s$`).MatchString(out) {
		t.Fatalf("get pod never:\n%s", out)
	}
	if out := mustRun(t, "logs", "never", "-n", ns); out != "about to fail\n" {
		t.Fatalf("logs of the failed pod: %q", out)
	}

	p = waitPod(t, ns, "missing-image", 60*time.Second, "to report the missing image", func(p *api.Pod) bool {
		if len(p.Status.ContainerStatuses) == 0 || p.Status.ContainerStatuses[0].State.Waiting == nil {
			return false
		}
		r := p.Status.ContainerStatuses[0].State.Waiting.Reason
		return r == "ErrImagePull" || r == "ImagePullBackOff"
	})
	if msg := p.Status.ContainerStatuses[0].State.Waiting.Message; !strings.Contains(msg, "no-such-image") {
		t.Fatalf("the waiting message does not name the image: %q", msg)
	}
	out = mustRun(t, "get", "pod", "missing-image", "-n", ns)
	if !regexp.MustCompile(`(?m)^missing-image\s+0/1\s+(ErrImagePull|ImagePullBackOff)\s+0\s+\d+s$`).MatchString(out) {
		t.Fatalf("get pod missing-image:\n%s", out)
	}
	out = mustRun(t, "describe", "pod", "missing-image", "-n", ns)
	if !strings.Contains(out, "Failed to pull image \"no-such-image:1.0\"") {
		t.Fatalf("describe does not show the pull failure event:\n%s", out)
	}
}

// TestPodDeleteLeavesNothing: deleting a Pod stops it gracefully and removes its containers,
// tasks, snapshots, network namespace, veth and IP lease.
func TestPodDeleteLeavesNothing(t *testing.T) {
	ns := namespace(t)
	mustRun(t, "apply", "-f", fixture("pod-duo.yaml"), "-n", ns)
	p := waitPod(t, ns, "duo", 90*time.Second, "to run", running)
	uid := string(p.UID)
	node := p.Spec.NodeName
	dataDir := filepath.Join(nodeDir(node), "data")
	if !strings.Contains(containerdCmd(t, node, "containers", "ls", "-q"), uid) {
		t.Fatal("the pod's containers are not in containerd")
	}
	netns := filepath.Join(dataDir, "cni", "netns", uid)
	if _, err := os.Stat(netns); err != nil {
		t.Fatalf("the pod's network namespace is not where expected: %v", err)
	}
	vethsBefore := countVeths(t, node)

	mustRun(t, "delete", "pod", "duo", "-n", ns)
	for what, out := range map[string]string{
		"containers": containerdCmd(t, node, "containers", "ls", "-q"),
		"tasks":      containerdCmd(t, node, "tasks", "ls"),
		"snapshots":  containerdCmd(t, node, "snapshots", "ls"),
	} {
		if strings.Contains(out, uid) {
			t.Errorf("%s of the deleted pod remain:\n%s", what, out)
		}
	}
	if _, err := os.Stat(netns); !os.IsNotExist(err) {
		t.Errorf("the network namespace remains: %v", err)
	}
	if n := countVeths(t, node); n != vethsBefore-1 {
		t.Errorf("veths: %d before the delete, %d after", vethsBefore, n)
	}
	leases, _ := filepath.Glob(filepath.Join(dataDir, "cni", "ipam", "*", p.Status.PodIP))
	if len(leases) != 0 {
		t.Errorf("the IP lease of %s remains: %v", p.Status.PodIP, leases)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "pods", uid)); !os.IsNotExist(err) {
		t.Errorf("the pod's directory remains: %v", err)
	}
}

// countVeths counts the veths in a node's network namespace.
func countVeths(t *testing.T, node string) int {
	t.Helper()
	out, err := exec.Command("ip", "-n", "minik8s-"+node, "-o", "link", "show", "type", "veth").CombinedOutput()
	if err != nil {
		t.Fatalf("ip link: %v\n%s", err, out)
	}
	return strings.Count(string(out), "\n")
}

// TestInvalidPodRefused: an invalid Pod is refused with the field named, and not created.
func TestInvalidPodRefused(t *testing.T) {
	ns := namespace(t)
	bad := strings.Replace(readFile(t, fixture("pod-never.yaml")), "restartPolicy: Never", "restartPolicy: Sometimes", 1)
	r := runCmd(t, env.bin, []byte(bad), "apply", "-f", "-", "-n", ns)
	if r.err == nil || !strings.Contains(r.stderr, "<stdin>:7: spec.restartPolicy: Unsupported value: \"Sometimes\"") {
		t.Fatalf("an invalid pod was not refused as expected:\n%s", r)
	}
	if _, err := getPod(t, ns, "never"); err == nil {
		t.Fatal("the invalid pod was created")
	}
}
