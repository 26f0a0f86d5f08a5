// Package nodelifecycle is the node controller: it notices nodes whose kubelet stopped
// reporting and says so on the Node, as Kubernetes' node lifecycle controller does.
//
// A kubelet heartbeats by writing its Node's Ready condition (status True, a fresh
// lastHeartbeatTime) every few seconds. The controller watches the Nodes and remembers, by its
// own clock, when it last saw each node's heartbeat change (the "probe time"), so that a
// kubelet whose clock is off, or a control plane that was down for a while, does not make a
// node look dead:
//
//	heartbeat seen at T ──► Ready as the kubelet says, requeued for T + grace
//	                                   │
//	              no newer heartbeat by T + grace
//	                                   ▼
//	Ready=Unknown, reason NodeStatusUnknown, "Kubelet stopped posting node status."
//	(lastHeartbeatTime kept, lastTransitionTime now), taint node.kubernetes.io/unreachable:NoSchedule
//	                                   │
//	          the kubelet heartbeats again: its own write sets Ready=True
//	                                   ▼
//	the taint is removed
//
// A node whose kubelet reports Ready=False gets node.kubernetes.io/not-ready:NoSchedule
// instead, and a node that never reported gets Ready=Unknown with reason
// NodeStatusNeverUpdated once grace has passed since its creation. The scheduler already keeps
// Pods off nodes that are not Ready; the taints say the same in Kubernetes' words, for users
// and for tools that read them.
//
// Evaluate is the decision as a pure function; the Controller runs it level-triggered: the
// informer's handlers only enqueue node names, sync(name) evaluates the cached Node and writes
// what changed (the status, then the taints, each a compare-and-swap on resourceVersion), and
// a node that is still fresh is queued again for the moment its heartbeat goes stale.
package nodelifecycle
