package kubelet

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/kubelet/network"
)

type networkResult = network.Result

// computeStatus derives a Pod's status from what containerd runs and what the kubelet
// remembers. It is a pure function of its arguments.
func computeStatus(pod *api.Pod, cs map[string]state, ps *podState, podIP, hostIP string, now time.Time) api.PodStatus {
	st := api.PodStatus{HostIP: hostIP, PodIP: podIP, StartTime: pod.Status.StartTime, QOSClass: qosClass(pod)}
	if podIP != "" {
		st.PodIPs = []api.PodIP{{IP: podIP}}
	}
	if st.StartTime == nil {
		t := api.NewTime(now)
		st.StartTime = &t
	}
	var running, waiting, succeeded, failed, restartable int
	for _, c := range pod.Spec.Containers {
		cst := api.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: ""}
		mem := ps.containers[c.Name]
		s, ok := cs[c.Name]
		if ok {
			cst.RestartCount = int32(atoi(s.Labels[labelRestarts]))
			cst.ContainerID = "containerd://" + s.Container.ID()
		}
		if mem != nil && mem.lastTermination != nil {
			cst.LastTerminationState = api.ContainerState{Terminated: mem.lastTermination}
		}
		started := false
		switch {
		case ok && s.Running:
			cst.State.Running = &api.ContainerStateRunning{StartedAt: api.NewTime(s.StartedAt)}
			cst.Ready = true
			started = true
			running++
		case ok && s.Exited && mem != nil && mem.waitingReason == "CrashLoopBackOff" && shouldRestart(pod.Spec.RestartPolicy, s.ExitCode):
			cst.State.Waiting = &api.ContainerStateWaiting{Reason: mem.waitingReason, Message: mem.waitingMessage}
			cst.LastTerminationState = api.ContainerState{Terminated: terminatedState(s)}
			restartable++
		case ok && s.Exited:
			cst.State.Terminated = terminatedState(s)
			if shouldRestart(pod.Spec.RestartPolicy, s.ExitCode) {
				restartable++
			} else if s.ExitCode == 0 {
				succeeded++
			} else {
				failed++
			}
		default:
			reason, msg := "ContainerCreating", ""
			if mem != nil && mem.waitingReason != "" {
				reason, msg = mem.waitingReason, mem.waitingMessage
			}
			cst.State.Waiting = &api.ContainerStateWaiting{Reason: reason, Message: msg}
			waiting++
		}
		cst.Started = &started
		st.ContainerStatuses = append(st.ContainerStatuses, cst)
	}
	n := len(pod.Spec.Containers)
	switch {
	case waiting > 0:
		// As Kubernetes: a Pod with a container that never started is still Pending.
		st.Phase = api.PodPending
	case succeeded+failed == n && failed > 0:
		st.Phase = api.PodFailed
	case succeeded == n:
		st.Phase = api.PodSucceeded
	default:
		st.Phase = api.PodRunning
	}
	ready := running == n
	st.Conditions = []api.PodCondition{
		condition(pod, api.PodScheduled, true, now),
		condition(pod, "Initialized", true, now),
		condition(pod, "ContainersReady", ready, now),
		condition(pod, api.PodReady, ready, now),
	}
	return st
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// condition keeps the transition time of an unchanged condition.
func condition(pod *api.Pod, typ string, ok bool, now time.Time) api.PodCondition {
	status := api.ConditionFalse
	if ok {
		status = api.ConditionTrue
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == typ && c.Status == status {
			return c
		}
	}
	return api.PodCondition{Type: typ, Status: status, LastTransitionTime: api.NewTime(now)}
}

// qosClass is Kubernetes' QoS class of a Pod.
func qosClass(pod *api.Pod) string {
	guaranteed, any := true, false
	for _, c := range pod.Spec.Containers {
		for _, r := range []string{api.ResourceCPU, api.ResourceMemory} {
			req, hasReq := c.Resources.Requests[r]
			lim, hasLim := c.Resources.Limits[r]
			if hasReq || hasLim {
				any = true
			}
			if !hasLim || (hasReq && req.Cmp(lim) != 0) {
				guaranteed = false
			}
		}
	}
	switch {
	case guaranteed:
		return "Guaranteed"
	case any:
		return "Burstable"
	}
	return "BestEffort"
}

// writeStatus writes the Pod's status if it changed.
func (k *Kubelet) writeStatus(ctx context.Context, pod *api.Pod, cs map[string]state) error {
	ip := ""
	if res, ok := k.net.Status(string(pod.UID)); ok && res.IP != nil {
		ip = res.IP.String()
	}
	st := computeStatus(pod, cs, k.state(string(pod.UID)), ip, k.cfg.Address, time.Now())
	if sameStatus(pod.Status, st) {
		return nil
	}
	cp := api.DeepCopy(pod)
	cp.Status = st
	if _, err := k.client.Pods(pod.Namespace).UpdateStatus(ctx, cp); err != nil {
		return fmt.Errorf("write status: %w", err)
	}
	return nil
}

func sameStatus(a, b api.PodStatus) bool {
	aj, _ := json.Marshal(a)
	bj, _ := json.Marshal(b)
	var am, bm any
	_ = json.Unmarshal(aj, &am)
	_ = json.Unmarshal(bj, &bm)
	return reflect.DeepEqual(am, bm)
}
