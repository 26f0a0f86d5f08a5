package kubelet

import (
	"bufio"
	"context"
	"fmt"
	"os"
	goruntime "runtime"
	"strings"
	"syscall"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
)

// Version is the kubelet's version, reported in the Node's nodeInfo.
var Version = "v0.1.0-dev"

// register creates or updates the Node and waits until the cluster gave it a pod subnet.
func (k *Kubelet) register(ctx context.Context) (*api.Node, error) {
	nodes := k.client.Nodes()
	want := k.nodeStatus(ctx, nil)
	for {
		node, err := nodes.Get(ctx, k.cfg.NodeName)
		switch {
		case client.IsNotFound(err):
			n := &api.Node{ObjectMeta: api.ObjectMeta{Name: k.cfg.NodeName, Labels: k.nodeLabels()}}
			n.Status = want
			node, err = nodes.Create(ctx, n)
			if err != nil && !client.IsAlreadyExists(err) {
				return nil, fmt.Errorf("register node %s: %w", k.cfg.NodeName, err)
			}
			if err != nil {
				continue
			}
			if _, err := k.updateNodeStatus(ctx, node); err != nil {
				return nil, err
			}
		case err != nil:
			k.log.Warn("read own node", "err", err)
			if !sleepCtx(ctx, time.Second) {
				return nil, ctx.Err()
			}
			continue
		default:
			changed := false
			for key, v := range k.nodeLabels() {
				if node.Labels[key] != v {
					if node.Labels == nil {
						node.Labels = map[string]string{}
					}
					node.Labels[key], changed = v, true
				}
			}
			if changed {
				if node, err = nodes.Update(ctx, node); err != nil {
					continue
				}
			}
			if node, err = k.updateNodeStatus(ctx, node); err != nil {
				k.log.Warn("update node status", "err", err)
			}
		}
		if node != nil && node.Spec.PodCIDR != "" {
			return node, nil
		}
		k.log.Info("waiting for the cluster to give this node a pod subnet")
		if !sleepCtx(ctx, time.Second) {
			return nil, ctx.Err()
		}
	}
}

func (k *Kubelet) nodeLabels() map[string]string {
	l := map[string]string{
		"kubernetes.io/hostname": k.cfg.NodeName,
		"kubernetes.io/os":       goruntime.GOOS,
		"kubernetes.io/arch":     goruntime.GOARCH,
	}
	for key, v := range k.cfg.Labels {
		l[key] = v
	}
	return l
}

// nodeStatus is what the kubelet reports about its machine.
func (k *Kubelet) nodeStatus(ctx context.Context, old *api.Node) api.NodeStatus {
	cpu := api.NewQuantity(int64(goruntime.NumCPU()), false)
	mem := api.NewQuantity(memTotal(), true)
	pods := api.NewQuantity(110, false)
	now := api.Now()
	ready := api.NodeCondition{Type: api.NodeReady, Status: api.ConditionTrue, Reason: "KubeletReady",
		Message: "kubelet is posting ready status", LastHeartbeatTime: now, LastTransitionTime: now}
	if old != nil {
		for _, c := range old.Status.Conditions {
			if c.Type == api.NodeReady && c.Status == api.ConditionTrue {
				ready.LastTransitionTime = c.LastTransitionTime
			}
		}
	}
	host, _ := os.Hostname()
	capacity := api.ResourceList{api.ResourceCPU: cpu, api.ResourceMemory: mem, api.ResourcePods: pods}
	for k, v := range k.cfg.Capacity {
		capacity[k] = v
	}
	allocatable := api.ResourceList{}
	for k, v := range capacity {
		allocatable[k] = v
	}
	return api.NodeStatus{
		Capacity:        capacity,
		Allocatable:     allocatable,
		Conditions:      []api.NodeCondition{ready},
		Addresses:       []api.NodeAddress{{Type: "InternalIP", Address: k.cfg.Address}, {Type: "Hostname", Address: host}},
		DaemonEndpoints: api.NodeDaemonEndpoints{KubeletEndpoint: api.DaemonEndpoint{Port: int32(k.cfg.Port)}},
		NodeInfo: api.NodeSystemInfo{
			KernelVersion: kernelVersion(), OSImage: osImage(), ContainerRuntimeVersion: k.rt.Version(ctx),
			KubeletVersion: Version, OperatingSystem: goruntime.GOOS, Architecture: goruntime.GOARCH,
		},
	}
}

func (k *Kubelet) updateNodeStatus(ctx context.Context, node *api.Node) (*api.Node, error) {
	cp := api.DeepCopy(node)
	cp.Status = k.nodeStatus(ctx, node)
	return k.client.Nodes().UpdateStatus(ctx, cp)
}

// heartbeat reports the node Ready every interval, re-reading the Node each time so that a
// conflict only delays one beat.
func (k *Kubelet) heartbeat(ctx context.Context) {
	t := time.NewTicker(k.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		node, err := k.client.Nodes().Get(ctx, k.cfg.NodeName)
		if err == nil {
			_, err = k.updateNodeStatus(ctx, node)
		}
		if err != nil && ctx.Err() == nil {
			k.log.Debug("heartbeat", "err", err)
		}
	}
}

func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var kb int64
		if n, _ := fmt.Sscanf(sc.Text(), "MemTotal: %d kB", &kb); n == 1 {
			return kb * 1024
		}
	}
	return 0
}

func kernelVersion() string {
	var u syscall.Utsname
	if syscall.Uname(&u) != nil {
		return ""
	}
	b := make([]byte, 0, len(u.Release))
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}

func osImage() string {
	b, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return goruntime.GOOS
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return goruntime.GOOS
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// event records an Event about a Pod, for `describe`. Failures are only logged.
func (k *Kubelet) event(ctx context.Context, pod *api.Pod, typ, reason, msg string) {
	now := api.Now()
	ev := &api.Event{
		ObjectMeta: api.ObjectMeta{GenerateName: pod.Name + ".", Namespace: pod.Namespace},
		InvolvedObject: api.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: string(pod.UID),
			APIVersion: "v1"},
		Reason: reason, Message: msg, Type: typ, Count: 1, FirstTimestamp: now, LastTimestamp: now,
		Source: api.EventSource{Component: "kubelet", Host: k.cfg.NodeName}, ReportingComponent: "kubelet", ReportingInstance: k.cfg.NodeName,
	}
	// Off the caller's path: an event is for people to read, and must not slow a Pod's start.
	go func() {
		if _, err := k.client.Events(pod.Namespace).Create(ctx, ev); err != nil {
			k.log.Debug("record event", "pod", pod.Namespace+"/"+pod.Name, "reason", reason, "err", err)
		}
	}()
}
