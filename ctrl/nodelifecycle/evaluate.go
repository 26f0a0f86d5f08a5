package nodelifecycle

import (
	"slices"
	"time"

	"github.com/minik8s/minik8s/api"
)

// DefaultGracePeriod is how long a node may go without a heartbeat before the controller
// marks it Unknown, when New is given no period: two missed beats of a kubelet that reports
// every 5 s.
const DefaultGracePeriod = 10 * time.Second

// The taints the controller keeps on nodes that are not Ready, as Kubernetes names them.
const (
	// TaintUnreachable is on a node whose kubelet stopped reporting (Ready=Unknown).
	TaintUnreachable = "node.kubernetes.io/unreachable"
	// TaintNotReady is on a node whose kubelet reports it not ready (Ready=False).
	TaintNotReady = "node.kubernetes.io/not-ready"
	// TaintEffectNoSchedule keeps new Pods off a node, and leaves the Pods there alone.
	TaintEffectNoSchedule = "NoSchedule"
)

// The reasons and messages of the Ready condition the controller writes, as Kubernetes'
// node lifecycle controller words them.
const (
	ReasonNodeStatusUnknown       = "NodeStatusUnknown"
	MessageNodeStatusUnknown      = "Kubelet stopped posting node status."
	ReasonNodeStatusNeverUpdated  = "NodeStatusNeverUpdated"
	MessageNodeStatusNeverUpdated = "Kubelet never posted node status."
)

// Decision is what the controller changes on one Node.
type Decision struct {
	// Conditions is the node's new status.conditions, or nil when the status stays.
	Conditions []api.NodeCondition
	// Taints is the node's new spec.taints, when TaintsChanged.
	Taints        []api.Taint
	TaintsChanged bool
	// Stale reports that the node's kubelet stopped reporting: no heartbeat for grace.
	Stale bool
	// Deadline is when the node's last heartbeat goes stale, the moment to look again; zero
	// when it is stale already.
	Deadline time.Time
}

// Evaluate decides what the node controller changes on node at now. probe is when the
// controller last saw the node's heartbeat (its Ready condition's lastHeartbeatTime) change,
// by the controller's own clock; a zero probe stands for that heartbeat time itself, or, for
// a node that never reported a Ready condition, its creation. The node is stale from
// probe + grace on:
//
//   - every condition of a stale node that is not Unknown yet becomes Unknown, with reason
//     NodeStatusUnknown and lastTransitionTime now, its lastHeartbeatTime kept; a stale node
//     without a Ready condition gets Ready=Unknown with reason NodeStatusNeverUpdated;
//   - a node whose Ready condition is (or becomes) Unknown gets the TaintUnreachable
//     NoSchedule taint, one whose Ready condition is False TaintNotReady, and one that is
//     Ready neither; other taints are kept as they are.
//
// Evaluate is pure: it does not change node, and the slices it returns are its own.
func Evaluate(node *api.Node, probe, now time.Time, grace time.Duration) Decision {
	ready := readyCondition(node)
	if probe.IsZero() {
		probe = node.CreationTimestamp.Time
		if ready != nil {
			probe = ready.LastHeartbeatTime.Time
		}
	}
	var d Decision
	status := "" // the Ready status once the decision is applied; "" for none
	if ready != nil {
		status = ready.Status
	}
	if deadline := probe.Add(grace); now.Before(deadline) {
		d.Deadline = deadline
	} else {
		d.Stale = true
		d.Conditions = unknownConditions(node, now)
		status = api.ConditionUnknown
	}
	d.Taints, d.TaintsChanged = taintsFor(node.Spec.Taints, status)
	return d
}

// unknownConditions returns node's conditions with every one that is not Unknown made
// Unknown, or nil when there is nothing to change.
func unknownConditions(node *api.Node, now time.Time) []api.NodeCondition {
	at := api.NewTime(now)
	conds := slices.Clone(node.Status.Conditions)
	if readyCondition(node) == nil {
		return append(conds, api.NodeCondition{Type: api.NodeReady, Status: api.ConditionUnknown,
			Reason: ReasonNodeStatusNeverUpdated, Message: MessageNodeStatusNeverUpdated,
			LastHeartbeatTime: node.CreationTimestamp, LastTransitionTime: at})
	}
	changed := false
	for i := range conds {
		c := &conds[i]
		if c.Status == api.ConditionUnknown {
			continue
		}
		c.Status, c.Reason, c.Message, c.LastTransitionTime = api.ConditionUnknown, ReasonNodeStatusUnknown, MessageNodeStatusUnknown, at
		changed = true
	}
	if !changed {
		return nil
	}
	return conds
}

// taintsFor returns the taints a node with Ready status should have, keeping the ones the
// controller does not manage in their order, and whether they differ from taints. Status ""
// (no Ready condition yet) leaves the taints as they are.
func taintsFor(taints []api.Taint, status string) ([]api.Taint, bool) {
	var want string
	switch status {
	case "":
		return nil, false
	case api.ConditionUnknown:
		want = TaintUnreachable
	case api.ConditionFalse:
		want = TaintNotReady
	}
	out := make([]api.Taint, 0, len(taints)+1)
	changed, has := false, false
	for _, t := range taints {
		if managed(t) {
			if t.Key == want && !has {
				has = true
				out = append(out, t)
			} else {
				changed = true
			}
			continue
		}
		out = append(out, t)
	}
	if want != "" && !has {
		out = append(out, api.Taint{Key: want, Effect: TaintEffectNoSchedule})
		changed = true
	}
	if !changed {
		return nil, false
	}
	return out, true
}

// managed reports a taint that this controller adds and removes.
func managed(t api.Taint) bool {
	return (t.Key == TaintUnreachable || t.Key == TaintNotReady) && t.Effect == TaintEffectNoSchedule
}

// readyCondition returns node's Ready condition, or nil.
func readyCondition(node *api.Node) *api.NodeCondition {
	for i := range node.Status.Conditions {
		if node.Status.Conditions[i].Type == api.NodeReady {
			return &node.Status.Conditions[i]
		}
	}
	return nil
}
