package replicaset

import (
	"slices"
	"strings"
	"time"

	"github.com/minik8s/minik8s/api"
)

// GroupVersion is the apiVersion of the owner references this controller writes.
const GroupVersion = "apps/v1"

// isRSRef reports an owner reference to a ReplicaSet.
func isRSRef(r *api.OwnerReference) bool {
	return r != nil && r.Kind == "ReplicaSet" && strings.HasPrefix(r.APIVersion, api.GroupApps+"/")
}

// ownerRef is the controller reference a ReplicaSet puts on its Pods.
func ownerRef(rs *api.ReplicaSet) api.OwnerReference {
	yes := true
	return api.OwnerReference{APIVersion: GroupVersion, Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: &yes, BlockOwnerDeletion: &yes}
}

// ownedBy reports whether rs is pod's controller.
func ownedBy(pod *api.Pod, rs *api.ReplicaSet) bool {
	ref := pod.ControllerOf()
	return isRSRef(ref) && ref.UID == rs.UID
}

func terminal(pod *api.Pod) bool {
	return pod.Status.Phase == api.PodSucceeded || pod.Status.Phase == api.PodFailed
}

// active reports a Pod that counts toward replicas: not finished, not being deleted.
func active(pod *api.Pod) bool { return !terminal(pod) && pod.DeletionTimestamp == nil }

// canAdopt reports whether rs may take pod as its own: an orphan of its namespace, alive, whose
// labels match the selector, while rs itself is not being deleted.
func canAdopt(rs *api.ReplicaSet, sel api.Selector, pod *api.Pod) bool {
	return rs.DeletionTimestamp == nil && pod.Namespace == rs.Namespace && pod.ControllerOf() == nil &&
		active(pod) && sel.Matches(pod.Labels)
}

// mustRelease reports an owned Pod whose labels no longer match rs's selector.
func mustRelease(rs *api.ReplicaSet, sel api.Selector, pod *api.Pod) bool {
	return ownedBy(pod, rs) && !sel.Matches(pod.Labels)
}

// podReadyCond returns the Pod's Ready condition, or nil.
func podReadyCond(pod *api.Pod) *api.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == api.PodReady {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

func podReady(pod *api.Pod) bool {
	c := podReadyCond(pod)
	return c != nil && c.Status == api.ConditionTrue
}

// podAvailable reports a Pod Ready for at least minReady seconds at now.
func podAvailable(pod *api.Pod, minReady int32, now time.Time) bool {
	c := podReadyCond(pod)
	if c == nil || c.Status != api.ConditionTrue {
		return false
	}
	return minReady == 0 || (!c.LastTransitionTime.IsZero() && !c.LastTransitionTime.Add(time.Duration(minReady)*time.Second).After(now))
}

func phaseRank(p string) int {
	switch p {
	case api.PodPending, "":
		return 0
	case api.PodUnknown:
		return 1
	case api.PodRunning:
		return 2
	}
	return 3
}

func restarts(pod *api.Pod) int32 {
	var n int32
	for _, cs := range pod.Status.ContainerStatuses {
		n = max(n, cs.RestartCount)
	}
	return n
}

// deleteFirst reports whether a should be deleted before b, as Kubernetes ranks Pods when it
// scales down: unscheduled before scheduled, Pending before Unknown before Running, not ready
// before ready, ready for less time before ready for longer, more restarts before fewer, newer
// before older; the name breaks ties.
func deleteFirst(a, b *api.Pod) bool {
	if (a.Spec.NodeName == "") != (b.Spec.NodeName == "") {
		return a.Spec.NodeName == ""
	}
	if ra, rb := phaseRank(a.Status.Phase), phaseRank(b.Status.Phase); ra != rb {
		return ra < rb
	}
	if ra, rb := podReady(a), podReady(b); ra != rb {
		return !ra
	}
	if podReady(a) {
		ta, tb := podReadyCond(a).LastTransitionTime, podReadyCond(b).LastTransitionTime
		if !ta.Equal(tb.Time) {
			return ta.After(tb.Time)
		}
	}
	if ra, rb := restarts(a), restarts(b); ra != rb {
		return ra > rb
	}
	if !a.CreationTimestamp.Equal(b.CreationTimestamp.Time) {
		return a.CreationTimestamp.After(b.CreationTimestamp.Time)
	}
	return a.Name < b.Name
}

// rankForDeletion returns the n Pods to delete first, by deleteFirst.
func rankForDeletion(pods []*api.Pod, n int) []*api.Pod {
	sorted := slices.Clone(pods)
	slices.SortFunc(sorted, func(a, b *api.Pod) int {
		switch {
		case deleteFirst(a, b):
			return -1
		case deleteFirst(b, a):
			return 1
		}
		return 0
	})
	return sorted[:min(n, len(sorted))]
}

// replicas is the ReplicaSet's desired count (1 when unset, Kubernetes' default).
func replicas(rs *api.ReplicaSet) int {
	if rs.Spec.Replicas == nil {
		return 1
	}
	return int(*rs.Spec.Replicas)
}

// diff is how many Pods to create (positive) or delete (negative): the active Pods (those just
// deleted left out) plus those just created that the cache does not show yet, against want.
func diff(activePods, pendingCreates, want int) int {
	return want - (activePods + pendingCreates)
}

// calculateStatus is the status rs should have with the active Pods it owns.
func calculateStatus(rs *api.ReplicaSet, pods []*api.Pod, now time.Time) api.ReplicaSetStatus {
	st := api.ReplicaSetStatus{Replicas: int32(len(pods)), ObservedGeneration: rs.Generation}
	tmpl := api.SelectorFromSet(rs.Spec.Template.Labels)
	for _, p := range pods {
		if tmpl.Matches(p.Labels) {
			st.FullyLabeledReplicas++
		}
		if podReady(p) {
			st.ReadyReplicas++
		}
		if podAvailable(p, rs.Spec.MinReadySeconds, now) {
			st.AvailableReplicas++
		}
	}
	return st
}

// newPod is the Pod rs creates from its template.
func newPod(rs *api.ReplicaSet) *api.Pod {
	t := rs.Spec.Template
	pod := api.DeepCopy(&api.Pod{
		ObjectMeta: api.ObjectMeta{
			GenerateName: rs.Name + "-",
			Namespace:    rs.Namespace,
			Labels:       t.Labels,
			Annotations:  t.Annotations,
			Finalizers:   t.Finalizers,
		},
		Spec: t.Spec,
	})
	pod.OwnerReferences = []api.OwnerReference{ownerRef(rs)}
	return pod
}
