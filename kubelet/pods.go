package kubelet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
)

// sync brings one Pod (by key) to its spec. It is idempotent.
func (k *Kubelet) sync(ctx context.Context, key string) error {
	obj, ok := k.pods.Get(key)
	if !ok {
		return nil // gone: housekeeping removes what is left of it
	}
	pod := obj.(*api.Pod)
	if pod.DeletionTimestamp != nil {
		return k.terminate(ctx, pod)
	}
	if pod.Status.Phase == api.PodSucceeded || pod.Status.Phase == api.PodFailed {
		// Finished for good: release the sandbox and the IP, keep the containers for logs.
		return k.releaseSandbox(ctx, pod)
	}
	cs, err := k.containersByName(ctx, string(pod.UID))
	if err != nil {
		return err
	}
	requeue, startSandbox, syncErr := k.ensure(ctx, pod, cs)
	// Status is written whatever happened, so that users see why a Pod does not run.
	cs, err = k.containersByName(ctx, string(pod.UID))
	if err != nil {
		return err
	}
	statusErr := k.writeStatus(ctx, pod, cs)
	// The pause container only holds the network namespace, which its mount holds already:
	// it starts once the Pod's own containers run and are reported, off the Pod's start path.
	if startSandbox != nil {
		if err := startSandbox(); err != nil && syncErr == nil {
			syncErr = err
		}
	}
	if statusErr != nil {
		return statusErr
	}
	if requeue > 0 {
		k.queue.AddAfter(key, requeue)
	}
	return syncErr
}

// containersByName returns the Pod's containers in containerd, by container name.
func (k *Kubelet) containersByName(ctx context.Context, uid string) (map[string]state, error) {
	list, err := k.rt.PodContainers(ctx, uid)
	if err != nil {
		return nil, err
	}
	out := map[string]state{}
	for _, c := range list {
		st, err := k.rt.Inspect(ctx, c)
		if errdefs.IsNotFound(err) {
			continue // removed since the listing
		}
		if err != nil {
			return nil, err
		}
		out[st.Labels[labelContainer]] = st
	}
	return out, nil
}

// ensure starts what should run. It returns when to look again (0: not needed).
//
// A Pod starts in two steps, each done in parallel: first the network (netns and CNI) beside
// the images and containers of the sandbox and of every container to start (their specs only
// need the netns path), and each container's task, prepared as soon as the netns exists (runc
// create: its process is not running yet); then, with the network wired, the processes start.
func (k *Kubelet) ensure(ctx context.Context, pod *api.Pod, cs map[string]state) (time.Duration, func() error, error) {
	uid := string(pod.UID)
	ps := k.state(uid)
	mounts, err := k.volumeMounts(pod)
	if err != nil {
		return 0, nil, err
	}
	var requeue time.Duration
	soonest := func(d time.Duration) {
		if d > 0 && (requeue == 0 || d < requeue) {
			requeue = d
		}
	}
	type job struct {
		c        *api.Container
		restarts int
		mem      *containerMemory
		ctr      containerd.Container
		task     containerd.Task // prepared while the network is wired, started in step 2
		taskErr  error           // preparing the task failed
		err      error
	}
	var jobs []*job
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		mem := ps.containers[c.Name]
		if mem == nil {
			mem = &containerMemory{}
			ps.containers[c.Name] = mem
		}
		st, exists := cs[c.Name]
		restarts := 0
		if exists {
			restarts, _ = strconv.Atoi(st.Labels[labelRestarts])
		}
		switch {
		case exists && st.Running:
			mem.waitingReason = ""
			continue
		case exists && !st.Exited:
			// Created but never started (a kubelet stopped in between): start it.
			jobs = append(jobs, &job{c: c, restarts: restarts, mem: mem, ctr: st.Container})
			continue
		case exists && st.Exited:
			if !shouldRestart(pod.Spec.RestartPolicy, st.ExitCode) {
				continue
			}
			delay := backoff(k.cfg.BackoffBase, k.cfg.BackoffMax, restarts)
			if wait := time.Until(st.FinishedAt.Add(delay)); wait > 0 {
				mem.waitingReason = "CrashLoopBackOff"
				mem.waitingMessage = fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", delay.Round(time.Second), c.Name, pod.Name, pod.Namespace, uid)
				soonest(wait)
				continue
			}
			mem.lastTermination = terminatedState(st)
			restarts++
		}
		if time.Now().Before(mem.nextPull) {
			mem.waitingReason = "ImagePullBackOff"
			soonest(time.Until(mem.nextPull))
			continue
		}
		jobs = append(jobs, &job{c: c, restarts: restarts, mem: mem})
	}
	sb, ok := cs[sandboxName]
	needSandbox := !ok || !sb.Running
	netnsPath := k.net.NetNSPath(uid)

	// Step 1: network, sandbox container, containers, and the containers' tasks (runc create),
	// which only need the network namespace to exist: they are prepared while the CNI plugins
	// wire it, and their processes start in step 2, once it is wired.
	var netRes networkResult
	var netErr, sbErr error
	var sbCtr containerd.Container
	var wg sync.WaitGroup
	nsReady := make(chan struct{})
	markNS := sync.OnceFunc(func() { close(nsReady) })
	createJobs := func(ip string) {
		for _, j := range jobs {
			if j.ctr != nil {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				j.ctr, j.err = k.createContainer(ctx, pod, j.c, mounts[j.c.Name], netnsPath, ip, j.restarts, j.mem)
				if j.err != nil {
					return
				}
				select {
				case <-nsReady:
				case <-ctx.Done():
					return
				}
				if _, err := os.Stat(netnsPath); err != nil {
					return // the network failed: nothing to join
				}
				j.task, j.taskErr = k.rt.NewTask(ctx, j.ctr, uid, j.c.Name, j.restarts, true)
			}()
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer markNS()
		netRes, netErr = k.net.SetUpNotify(ctx, uid, pod.Namespace, pod.Name, markNS)
	}()
	if needSandbox {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sbCtr, sbErr = k.createSandbox(ctx, pod, netnsPath)
		}()
	}
	usesPodIP := needsPodIP(pod)
	if !usesPodIP {
		createJobs("")
	}
	wg.Wait()
	if netErr != nil || sbErr != nil {
		for _, j := range jobs {
			if j.task != nil {
				k.rt.DropTask(ctx, j.task)
				j.task = nil
			}
		}
	}
	if netErr != nil {
		k.event(ctx, pod, api.EventTypeWarning, "FailedCreatePodSandBox", fmt.Sprintf("network: %v", netErr))
		return 0, nil, fmt.Errorf("set up the network: %w", netErr)
	}
	if sbErr != nil {
		k.event(ctx, pod, api.EventTypeWarning, "FailedCreatePodSandBox", sbErr.Error())
		return 0, nil, fmt.Errorf("start the sandbox: %w", sbErr)
	}
	if usesPodIP {
		createJobs(netRes.IP.String())
		wg.Wait()
	}

	// Step 2: start the tasks; the sandbox's after the Pod's status is written (see sync).
	var startSandbox func() error
	if needSandbox {
		startSandbox = func() error {
			if err := k.rt.Start(ctx, sbCtr, uid, sandboxName, 0); err != nil {
				k.event(ctx, pod, api.EventTypeWarning, "FailedCreatePodSandBox", err.Error())
				return fmt.Errorf("start the sandbox: %w", err)
			}
			return nil
		}
	}
	for _, j := range jobs {
		if j.err != nil || j.ctr == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := j.taskErr
			switch {
			case err != nil:
			case j.task != nil:
				err = k.rt.StartTask(ctx, j.task)
			default:
				err = k.rt.Start(ctx, j.ctr, uid, j.c.Name, j.restarts)
			}
			if err != nil {
				j.mem.waitingReason, j.mem.waitingMessage = "RunContainerError", err.Error()
				j.err = err
				k.event(ctx, pod, api.EventTypeWarning, "Failed", err.Error())
				return
			}
			j.mem.waitingReason, j.mem.waitingMessage = "", ""
			k.event(ctx, pod, api.EventTypeNormal, "Started", fmt.Sprintf("Started container %s", j.c.Name))
		}()
	}
	wg.Wait()
	for _, j := range jobs {
		if j.err == nil {
			continue
		}
		if errors.Is(j.err, ErrImagePull) {
			soonest(time.Until(j.mem.nextPull))
			continue
		}
		return requeue, startSandbox, j.err
	}
	return requeue, startSandbox, nil
}

// needsPodIP reports whether a container's environment needs the Pod's IP, which is known only
// once the network is set up.
func needsPodIP(pod *api.Pod) bool {
	for _, c := range pod.Spec.Containers {
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "status.podIP" {
				return true
			}
		}
	}
	return false
}

// shouldRestart applies the restart policy to an exited container.
func shouldRestart(policy string, exitCode uint32) bool {
	switch policy {
	case api.RestartPolicyNever:
		return false
	case api.RestartPolicyOnFailure:
		return exitCode != 0
	}
	return true
}

// backoff is Kubernetes' CrashLoopBackOff delay: base doubled per restart, capped.
func backoff(base, max time.Duration, restarts int) time.Duration {
	d := base
	for i := 0; i < restarts && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return d
}

func terminatedState(st state) *api.ContainerStateTerminated {
	reason := "Completed"
	if st.ExitCode != 0 {
		reason = "Error"
	}
	if st.ExitCode == 137 {
		reason = "Error"
	}
	return &api.ContainerStateTerminated{
		ExitCode: int32(st.ExitCode), Reason: reason,
		StartedAt: api.NewTime(st.StartedAt), FinishedAt: api.NewTime(st.FinishedAt),
		ContainerID: "containerd://" + st.Container.ID(),
	}
}

// createSandbox creates (not starts) the Pod's pause container, which holds its network
// namespace for as long as the Pod lives.
func (k *Kubelet) createSandbox(ctx context.Context, pod *api.Pod, netns string) (containerd.Container, error) {
	img, err := k.rt.EnsureImage(ctx, k.cfg.PauseImage, api.PullIfNotPresent)
	if err != nil {
		return nil, fmt.Errorf("pause image: %w", err)
	}
	return k.rt.Create(ctx, containerSpec{Pod: pod, Name: sandboxName, Image: img, NetNS: netns,
		Resources: api.ResourceRequirements{Requests: api.ResourceList{api.ResourceCPU: api.MustParseQuantity("2m")}}})
}

// createContainer pulls (with back-off) and creates one container.
func (k *Kubelet) createContainer(ctx context.Context, pod *api.Pod, c *api.Container, mounts []specs.Mount, netns, podIP string, restarts int, mem *containerMemory) (containerd.Container, error) {
	if mem.waitingReason == "" {
		mem.waitingReason = "ContainerCreating"
	}
	img, err := k.rt.EnsureImage(ctx, c.Image, c.ImagePullPolicy)
	if err != nil {
		mem.pullFailures++
		mem.nextPull = time.Now().Add(backoff(time.Second, 5*time.Minute, mem.pullFailures-1))
		mem.waitingReason = "ErrImagePull"
		mem.waitingMessage = err.Error()
		k.event(ctx, pod, api.EventTypeWarning, "Failed", fmt.Sprintf("Failed to pull image %q: %v", c.Image, err))
		return nil, err
	}
	if mem.pullFailures > 0 {
		k.event(ctx, pod, api.EventTypeNormal, "Pulled", fmt.Sprintf("Successfully pulled image %q", c.Image))
	}
	mem.pullFailures = 0
	args, err := containerArgs(ctx, img, c)
	if err != nil {
		mem.waitingReason, mem.waitingMessage = "CreateContainerConfigError", err.Error()
		return nil, err
	}
	ctr, err := k.rt.Create(ctx, containerSpec{
		Pod: pod, Name: c.Name, Image: img, Args: args, Env: k.containerEnv(pod, c, podIP), Cwd: c.WorkingDir, NetNS: netns,
		Mounts: mounts, Restarts: restarts, Resources: c.Resources, Security: c.SecurityContext, PodSec: pod.Spec.SecurityContext,
	})
	if err != nil {
		mem.waitingReason, mem.waitingMessage = "CreateContainerError", err.Error()
		k.event(ctx, pod, api.EventTypeWarning, "Failed", err.Error())
		return nil, err
	}
	return ctr, nil
}

// containerArgs applies Kubernetes' rule: command replaces the image's entrypoint, args
// replace its cmd.
func containerArgs(ctx context.Context, img containerd.Image, c *api.Container) ([]string, error) {
	if len(c.Command) > 0 {
		return append(append([]string{}, c.Command...), c.Args...), nil
	}
	spec, err := img.Spec(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the image config of %s: %w", c.Image, err)
	}
	args := append([]string{}, spec.Config.Entrypoint...)
	if len(c.Args) > 0 {
		return append(args, c.Args...), nil
	}
	args = append(args, spec.Config.Cmd...)
	if len(args) == 0 {
		return nil, fmt.Errorf("image %s has no entrypoint or command, and the container gives none", c.Image)
	}
	return args, nil
}

// containerEnv resolves env values, including the Downward API fields Kubernetes offers.
func (k *Kubelet) containerEnv(pod *api.Pod, c *api.Container, podIP string) []string {
	var env []string
	for _, e := range c.Env {
		v := e.Value
		if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil {
			switch e.ValueFrom.FieldRef.FieldPath {
			case "metadata.name":
				v = pod.Name
			case "metadata.namespace":
				v = pod.Namespace
			case "metadata.uid":
				v = string(pod.UID)
			case "spec.nodeName":
				v = pod.Spec.NodeName
			case "status.podIP":
				v = podIP
			case "status.hostIP":
				v = k.cfg.Address
			}
		}
		env = append(env, e.Name+"="+v)
	}
	return env
}

// volumeMounts prepares the Pod's volumes and returns each container's mounts.
func (k *Kubelet) volumeMounts(pod *api.Pod) (map[string][]specs.Mount, error) {
	sources := map[string]string{}
	for _, v := range pod.Spec.Volumes {
		switch {
		case v.EmptyDir != nil:
			dir := filepath.Join(k.rt.logDir, string(pod.UID), "volumes", v.Name)
			if err := os.MkdirAll(dir, 0o777); err != nil {
				return nil, err
			}
			_ = os.Chmod(dir, 0o777)
			sources[v.Name] = dir
		case v.HostPath != nil:
			if v.HostPath.Type != nil && *v.HostPath.Type == "DirectoryOrCreate" {
				if err := os.MkdirAll(v.HostPath.Path, 0o755); err != nil {
					return nil, err
				}
			}
			sources[v.Name] = v.HostPath.Path
		default:
			return nil, fmt.Errorf("volume %q: only emptyDir and hostPath volumes are supported on this node", v.Name)
		}
	}
	out := map[string][]specs.Mount{}
	for _, c := range pod.Spec.Containers {
		for _, m := range c.VolumeMounts {
			src, ok := sources[m.Name]
			if !ok {
				return nil, fmt.Errorf("container %s mounts unknown volume %q", c.Name, m.Name)
			}
			if m.SubPath != "" {
				src = filepath.Join(src, m.SubPath)
				if err := os.MkdirAll(src, 0o777); err != nil {
					return nil, err
				}
			}
			opts := []string{"rbind", "rw"}
			if m.ReadOnly {
				opts = []string{"rbind", "ro"}
			}
			out[c.Name] = append(out[c.Name], specs.Mount{Type: "bind", Source: src, Destination: m.MountPath, Options: opts})
		}
	}
	return out, nil
}

// terminate stops a Pod that is being deleted: SIGTERM to every container, SIGKILL after the
// grace period, then everything is removed and the Pod object deleted for good.
func (k *Kubelet) terminate(ctx context.Context, pod *api.Pod) error {
	grace := 30 * time.Second
	if pod.DeletionGracePeriodSeconds != nil {
		grace = time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second
	}
	if err := k.removePod(ctx, string(pod.UID), grace); err != nil {
		return err
	}
	uid := string(pod.UID)
	zero := int64(0)
	err := k.client.Pods(pod.Namespace).Delete(ctx, pod.Name, &api.DeleteOptions{GracePeriodSeconds: &zero, Preconditions: &api.Preconditions{UID: &uid}})
	if err != nil && !client.IsNotFound(err) && !client.IsConflict(err) {
		return fmt.Errorf("delete the pod object: %w", err)
	}
	return nil
}

// removePod stops and removes everything of a Pod: containers, sandbox, network, files.
func (k *Kubelet) removePod(ctx context.Context, uid string, grace time.Duration) error {
	cs, err := k.rt.PodContainers(ctx, uid)
	if err != nil {
		return err
	}
	errs := make(chan error, len(cs))
	for _, c := range cs {
		go func() { errs <- k.rt.Stop(ctx, c, grace) }()
	}
	for range cs {
		if err := <-errs; err != nil {
			return err
		}
	}
	for _, c := range cs {
		if err := k.rt.Remove(ctx, c); err != nil {
			return err
		}
	}
	if err := k.net.TearDown(ctx, uid); err != nil {
		return fmt.Errorf("tear down the network: %w", err)
	}
	if err := os.RemoveAll(filepath.Join(k.rt.logDir, uid)); err != nil {
		return err
	}
	k.forget(uid)
	return nil
}

// releaseSandbox stops the pause container and frees the IP of a finished Pod.
func (k *Kubelet) releaseSandbox(ctx context.Context, pod *api.Pod) error {
	cs, err := k.containersByName(ctx, string(pod.UID))
	if err != nil {
		return err
	}
	if sb, ok := cs[sandboxName]; ok {
		if err := k.rt.Stop(ctx, sb.Container, time.Second); err != nil {
			return err
		}
		if err := k.rt.Remove(ctx, sb.Container); err != nil {
			return err
		}
	}
	return k.net.TearDown(ctx, string(pod.UID))
}

// cleanupOrphans removes containers and networks of Pods that no longer exist.
func (k *Kubelet) cleanupOrphans(ctx context.Context, known map[string]bool) {
	cs, err := k.rt.PodContainers(ctx, "")
	if err != nil {
		return
	}
	orphans := map[string]bool{}
	for _, c := range cs {
		labels, err := c.Labels(k.rt.ctx(ctx))
		if err == nil && !known[labels[labelPodUID]] {
			orphans[labels[labelPodUID]] = true
		}
	}
	for _, uid := range k.net.Pods() {
		if !known[uid] {
			orphans[uid] = true
		}
	}
	for uid := range orphans {
		k.log.Info("removing what is left of a deleted pod", "uid", uid)
		if err := k.removePod(ctx, uid, 2*time.Second); err != nil {
			k.log.Warn("remove orphaned pod", "uid", uid, "err", err)
		}
	}
}
