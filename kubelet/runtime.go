package kubelet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/oci"
	"github.com/containerd/containerd/remotes/docker"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/registry"
)

// Labels the kubelet puts on containerd containers: how a restarted kubelet finds what it runs.
const (
	labelPodUID       = "io.minik8s.pod.uid"
	labelPodName      = "io.minik8s.pod.name"
	labelPodNamespace = "io.minik8s.pod.namespace"
	labelContainer    = "io.minik8s.container.name"
	labelRestarts     = "io.minik8s.container.restarts"
	labelKind         = "io.minik8s.kind" // "sandbox" or "container"
	sandboxName       = "POD"
)

// ErrImagePull means an image could not be pulled; the message says why.
var ErrImagePull = errors.New("image pull failed")

// runtime is the kubelet's view of containerd: sandboxes and containers of Pods, labelled so
// that they can be found again after a restart. It is safe for concurrent use.
type runtime struct {
	client    *containerd.Client
	namespace string
	logDir    string // DATA_DIR/pods
	registry  registryAccess
}

// registryAccess says how to reach the cluster's registry.
type registryAccess struct {
	Host  string // host:port of the API server, which serves /v2/
	CA    []byte
	Token string
	// Fallback is where a name without a registry host is looked for after the cluster's
	// registry, as Kubernetes would ("docker.io"); "" for nowhere (a closed network).
	Fallback string
}

func newRuntime(ctx context.Context, socket, ns, podsDir string, reg registryAccess) (*runtime, error) {
	c, err := containerd.New(socket, containerd.WithDefaultNamespace(ns), containerd.WithTimeout(10*time.Second))
	if err != nil {
		return nil, fmt.Errorf("connect to containerd at %s: %w (is containerd running? `minik8s cluster up` starts one)", socket, err)
	}
	if _, err := c.Version(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("containerd at %s does not answer: %w", socket, err)
	}
	return &runtime{client: c, namespace: ns, logDir: podsDir, registry: reg}, nil
}

func (r *runtime) ctx(ctx context.Context) context.Context {
	return namespaces.WithNamespace(ctx, r.namespace)
}

// Version is containerd's version, for the Node's nodeInfo.
func (r *runtime) Version(ctx context.Context) string {
	v, err := r.client.Version(r.ctx(ctx))
	if err != nil {
		return "containerd://unknown"
	}
	return "containerd://" + v.Version
}

// pullSources are where an image is looked for, in order: the cluster's registry (which keeps
// images under their Docker-normalized names: busybox:latest is docker.io/library/busybox),
// then, if configured, the image's own registry on the network, as Kubernetes would look.
func (r *runtime) pullSources() ([]docker.ResolverOptions, error) {
	var out []docker.ResolverOptions
	if r.registry.Host != "" {
		opts, err := registry.ResolverOptions(r.registry.Host, r.registry.CA, r.registry.Token)
		if err != nil {
			return nil, err
		}
		out = append(out, opts)
	}
	if r.registry.Fallback != "" {
		out = append(out, docker.ResolverOptions{})
	}
	return out, nil
}

// EnsureImage makes the image available according to the pull policy and returns it. Errors
// wrap ErrImagePull with what was tried.
func (r *runtime) EnsureImage(ctx context.Context, image, policy string) (containerd.Image, error) {
	ctx = r.ctx(ctx)
	ref, err := registry.PullRef(image)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrImagePull, err)
	}
	if policy != api.PullAlways {
		if img, err := r.client.GetImage(ctx, ref); err == nil {
			if ok, _ := img.IsUnpacked(ctx, containerd.DefaultSnapshotter); !ok {
				if err := img.Unpack(ctx, containerd.DefaultSnapshotter); err != nil {
					return nil, fmt.Errorf("%w: unpack %s: %v", ErrImagePull, ref, err)
				}
			}
			return img, nil
		}
		if policy == api.PullNever {
			return nil, fmt.Errorf("%w: image %q is not present on the node and imagePullPolicy is Never", ErrImagePull, image)
		}
	}
	sources, err := r.pullSources()
	if err != nil {
		return nil, err
	}
	if len(sources) == 0 {
		return nil, fmt.Errorf("%w: no registry to pull %q from", ErrImagePull, image)
	}
	var msgs []string
	for i, opts := range sources {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		img, err := r.client.Pull(pctx, ref, containerd.WithPullUnpack, containerd.WithResolver(docker.NewResolver(opts)))
		cancel()
		if err == nil {
			return img, nil
		}
		where := "the cluster's registry"
		if i > 0 || r.registry.Host == "" {
			where = "its registry"
		}
		msgs = append(msgs, fmt.Sprintf("%s: %v", where, err))
	}
	if policy == api.PullAlways {
		// The cluster's registry lives on the control plane: while it is unreachable, a copy
		// the node already has is better than a container that cannot restart.
		if img, err := r.client.GetImage(ctx, ref); err == nil {
			return img, nil
		}
	}
	return nil, fmt.Errorf("%w: %q: %s (push it with `minik8s image push`)", ErrImagePull, image, strings.Join(msgs, "; "))
}

// containerID is the containerd ID of a Pod's container (or its sandbox).
func containerID(podUID, name string) string { return podUID + "-" + strings.ToLower(name) }

// logPath is where a container's output goes for one run (restart count n).
func (r *runtime) logPath(podUID, name string, n int) string {
	return filepath.Join(r.logDir, podUID, "logs", name, strconv.Itoa(n)+".log")
}

// containerSpec is what the kubelet asks containerd to run.
type containerSpec struct {
	Pod       *api.Pod
	Name      string // container name, or sandboxName
	Image     containerd.Image
	Args      []string
	Env       []string
	Cwd       string
	NetNS     string
	Mounts    []specs.Mount
	Restarts  int
	Resources api.ResourceRequirements
	Security  *api.SecurityContext
	PodSec    *api.PodSecurityContext
}

// Create makes a container (not yet started) for spec, replacing a stopped one of the same ID.
func (r *runtime) Create(ctx context.Context, cs containerSpec) (containerd.Container, error) {
	ctx = r.ctx(ctx)
	id := containerID(string(cs.Pod.UID), cs.Name)
	if old, err := r.client.LoadContainer(ctx, id); err == nil {
		if err := r.remove(ctx, old); err != nil {
			return nil, err
		}
	}
	kind := "container"
	if cs.Name == sandboxName {
		kind = "sandbox"
	}
	labels := map[string]string{
		labelPodUID: string(cs.Pod.UID), labelPodName: cs.Pod.Name, labelPodNamespace: cs.Pod.Namespace,
		labelContainer: cs.Name, labelRestarts: strconv.Itoa(cs.Restarts), labelKind: kind,
	}
	specOpts := []oci.SpecOpts{
		oci.WithImageConfig(cs.Image),
		oci.WithHostname(podHostname(cs.Pod)),
		oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: cs.NetNS}),
		oci.WithCgroup(fmt.Sprintf("/minik8s/pod%s/%s", cs.Pod.UID, id)),
	}
	if len(cs.Args) > 0 {
		specOpts = append(specOpts, oci.WithProcessArgs(cs.Args...))
	}
	if len(cs.Env) > 0 {
		specOpts = append(specOpts, oci.WithEnv(cs.Env))
	}
	if cs.Cwd != "" {
		specOpts = append(specOpts, oci.WithProcessCwd(cs.Cwd))
	}
	// The container sees its own cgroup (read-only) at /sys/fs/cgroup, as under Kubernetes.
	mounts := append([]specs.Mount{{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup",
		Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}}}, cs.Mounts...)
	specOpts = append(specOpts, oci.WithMounts(mounts))
	specOpts = append(specOpts, resourceOpts(cs.Resources)...)
	specOpts = append(specOpts, securityOpts(cs.PodSec, cs.Security)...)
	c, err := r.client.NewContainer(ctx, id,
		containerd.WithImage(cs.Image),
		containerd.WithNewSnapshot(id+"-snapshot", cs.Image),
		containerd.WithNewSpec(specOpts...),
		containerd.WithContainerLabels(labels),
	)
	if err != nil {
		return nil, fmt.Errorf("create container %s: %w", id, err)
	}
	return c, nil
}

// Start starts a created container, its output going to its log file.
func (r *runtime) Start(ctx context.Context, c containerd.Container, podUID, name string, restarts int) error {
	task, err := r.NewTask(ctx, c, podUID, name, restarts, false)
	if err != nil {
		return err
	}
	return r.StartTask(ctx, task)
}

// NewTask prepares a container's process (runc create: namespaces, mounts, cgroup) without
// starting it, its output going to its log file. A task that an interrupted start left is
// taken over when it is still only created, and removed otherwise; fresh says that the
// container was just created, so that there is none to look for.
func (r *runtime) NewTask(ctx context.Context, c containerd.Container, podUID, name string, restarts int, fresh bool) (containerd.Task, error) {
	ctx = r.ctx(ctx)
	path := r.logPath(podUID, name, restarts)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if !fresh {
		if t, err := c.Task(ctx, nil); err == nil {
			if st, err := t.Status(ctx); err == nil && st.Status == containerd.Created {
				return t, nil
			}
			_, _ = t.Delete(ctx, containerd.WithProcessKill)
		}
	}
	task, err := c.NewTask(ctx, cio.LogFile(path))
	if err != nil {
		return nil, fmt.Errorf("create task: %w", err)
	}
	return task, nil
}

// StartTask starts a prepared task's process; a task that fails to start is removed.
func (r *runtime) StartTask(ctx context.Context, task containerd.Task) error {
	ctx = r.ctx(ctx)
	if err := task.Start(ctx); err != nil {
		_, _ = task.Delete(ctx, containerd.WithProcessKill)
		return fmt.Errorf("start task: %w", err)
	}
	return nil
}

// DropTask removes a prepared task that will not start.
func (r *runtime) DropTask(ctx context.Context, task containerd.Task) {
	_, _ = task.Delete(r.ctx(ctx), containerd.WithProcessKill)
}

// state is what containerd says of one container.
type state struct {
	Container  containerd.Container
	Labels     map[string]string
	Running    bool
	Exited     bool
	ExitCode   uint32
	StartedAt  time.Time
	FinishedAt time.Time
	Pid        uint32
}

// Inspect reads the state of a container.
func (r *runtime) Inspect(ctx context.Context, c containerd.Container) (state, error) {
	ctx = r.ctx(ctx)
	st := state{Container: c}
	info, err := c.Info(ctx, containerd.WithoutRefreshedMetadata)
	if err != nil {
		return st, err
	}
	st.Labels = info.Labels
	task, err := c.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return st, nil // created, never started (or its task was removed)
	}
	if err != nil {
		return st, err
	}
	ts, err := task.Status(ctx)
	if errdefs.IsNotFound(err) {
		return st, nil // removed meanwhile (a Pod's sandbox released as it finishes)
	}
	if err != nil {
		return st, err
	}
	st.Pid = task.Pid()
	st.StartedAt = startTime(st.Pid, info.CreatedAt)
	switch ts.Status {
	case containerd.Running, containerd.Paused, containerd.Pausing:
		st.Running = true
	case containerd.Stopped:
		st.Exited, st.ExitCode, st.FinishedAt = true, ts.ExitStatus, ts.ExitTime
	}
	return st, nil
}

// startTime is when the process started, from /proc, else fallback.
func startTime(pid uint32, fallback time.Time) time.Time {
	if pid == 0 {
		return fallback
	}
	fi, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	if err != nil {
		return fallback
	}
	return fi.ModTime()
}

// PodContainers lists the containers of one Pod (by UID), or of every Pod (uid "").
func (r *runtime) PodContainers(ctx context.Context, podUID string) ([]containerd.Container, error) {
	ctx = r.ctx(ctx)
	filter := fmt.Sprintf(`labels."%s"`, labelPodUID)
	if podUID != "" {
		filter = fmt.Sprintf(`labels."%s"==%s`, labelPodUID, podUID)
	}
	return r.client.Containers(ctx, filter)
}

// Stop stops a container's task: SIGTERM, then SIGKILL after grace. It is idempotent.
func (r *runtime) Stop(ctx context.Context, c containerd.Container, grace time.Duration) error {
	ctx = r.ctx(ctx)
	task, err := c.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	st, err := task.Status(ctx)
	if err == nil && st.Status == containerd.Stopped {
		return nil
	}
	exitCh, err := task.Wait(ctx)
	if err != nil {
		return err
	}
	if err := task.Kill(ctx, syscall.SIGTERM); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("SIGTERM: %w", err)
	}
	select {
	case <-exitCh:
		return nil
	case <-time.After(grace):
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := task.Kill(ctx, syscall.SIGKILL, containerd.WithKillAll); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("SIGKILL: %w", err)
	}
	select {
	case <-exitCh:
	case <-time.After(10 * time.Second):
		return errors.New("the container did not die after SIGKILL")
	}
	return nil
}

// Remove stops nothing: it deletes a (stopped) container's task, the container and its
// snapshot. It is idempotent.
func (r *runtime) Remove(ctx context.Context, c containerd.Container) error {
	return r.remove(r.ctx(ctx), c)
}

func (r *runtime) remove(ctx context.Context, c containerd.Container) error {
	if task, err := c.Task(ctx, nil); err == nil {
		if _, err := task.Delete(ctx, containerd.WithProcessKill); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("delete task of %s: %w", c.ID(), err)
		}
	}
	if err := c.Delete(ctx, containerd.WithSnapshotCleanup); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("delete container %s: %w", c.ID(), err)
	}
	return nil
}

// Exec runs a command in a running container and returns its exit code; output goes to the
// writers.
func (r *runtime) Exec(ctx context.Context, c containerd.Container, args []string, stdin *os.File, stdout, stderr interface{ Write([]byte) (int, error) }, execID string) (int, error) {
	ctx = r.ctx(ctx)
	task, err := c.Task(ctx, nil)
	if err != nil {
		return -1, fmt.Errorf("the container is not running: %w", err)
	}
	spec, err := c.Spec(ctx)
	if err != nil {
		return -1, err
	}
	pspec := *spec.Process
	pspec.Args = args
	pspec.Terminal = false
	opts := []cio.Opt{cio.WithStreams(nil, stdout, stderr)}
	if stdin != nil {
		opts = []cio.Opt{cio.WithStreams(stdin, stdout, stderr)}
	}
	proc, err := task.Exec(ctx, execID, &pspec, cio.NewCreator(opts...))
	if err != nil {
		return -1, fmt.Errorf("exec: %w", err)
	}
	defer func() { _, _ = proc.Delete(context.WithoutCancel(ctx), containerd.WithProcessKill) }()
	exitCh, err := proc.Wait(ctx)
	if err != nil {
		return -1, err
	}
	if err := proc.Start(ctx); err != nil {
		return -1, fmt.Errorf("exec start: %w", err)
	}
	select {
	case st := <-exitCh:
		proc.IO().Wait()
		return int(st.ExitCode()), nil
	case <-ctx.Done():
		_ = proc.Kill(context.WithoutCancel(ctx), syscall.SIGKILL)
		return -1, ctx.Err()
	}
}

func podHostname(pod *api.Pod) string {
	if pod.Spec.Hostname != "" {
		return pod.Spec.Hostname
	}
	h := pod.Name
	if len(h) > 63 {
		// As Kubernetes: a hostname does not end with '-' or '.'.
		h = strings.TrimRight(h[:63], "-.")
	}
	return h
}

// resourceOpts turns requests and limits into cgroup settings: CPU shares from the request
// (or limit), a CFS quota from the CPU limit, and a memory limit.
func resourceOpts(res api.ResourceRequirements) []oci.SpecOpts {
	var opts []oci.SpecOpts
	cpu, ok := res.Requests[api.ResourceCPU]
	if !ok {
		cpu, ok = res.Limits[api.ResourceCPU]
	}
	if ok {
		shares := uint64(cpu.MilliValue() * 1024 / 1000)
		if shares < 2 {
			shares = 2
		}
		opts = append(opts, oci.WithCPUShares(shares))
	}
	if lim, ok := res.Limits[api.ResourceCPU]; ok && lim.MilliValue() > 0 {
		const period = 100000
		quota := lim.MilliValue() * period / 1000
		if quota < 1000 {
			quota = 1000
		}
		opts = append(opts, oci.WithCPUCFS(quota, period))
	}
	if lim, ok := res.Limits[api.ResourceMemory]; ok && lim.Value() > 0 {
		opts = append(opts, oci.WithMemoryLimit(uint64(lim.Value())))
	}
	return opts
}

// securityOpts applies runAsUser/runAsGroup and supplemental groups.
func securityOpts(pod *api.PodSecurityContext, c *api.SecurityContext) []oci.SpecOpts {
	var uid, gid *int64
	var groups []int64
	if pod != nil {
		uid, gid = pod.RunAsUser, pod.RunAsGroup
		groups = append(groups, pod.SupplementalGroups...)
		if pod.FSGroup != nil {
			groups = append(groups, *pod.FSGroup)
		}
	}
	if c != nil {
		if c.RunAsUser != nil {
			uid = c.RunAsUser
		}
		if c.RunAsGroup != nil {
			gid = c.RunAsGroup
		}
	}
	var opts []oci.SpecOpts
	if uid != nil {
		if gid != nil {
			opts = append(opts, oci.WithUIDGID(uint32(*uid), uint32(*gid)))
		} else {
			opts = append(opts, oci.WithUserID(uint32(*uid)))
		}
	} else if gid != nil {
		opts = append(opts, oci.WithUIDGID(0, uint32(*gid)))
	}
	if len(groups) > 0 {
		g := make([]uint32, len(groups))
		for i, x := range groups {
			g[i] = uint32(x)
		}
		opts = append(opts, func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
			s.Process.User.AdditionalGids = append(s.Process.User.AdditionalGids, g...)
			return nil
		})
	}
	return opts
}
