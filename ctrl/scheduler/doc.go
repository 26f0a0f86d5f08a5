// Package scheduler assigns unbound Pods to nodes, as kube-scheduler does for the Pods that name
// "default-scheduler" (or no scheduler).
//
// Scheduling is filter → score → pick over a read-only snapshot of the nodes (Nomad's shape):
//
//	snapshot: per node, the Node object and the sums of the requests of the
//	          non-terminated Pods on it (bound, or assumed by this scheduler)
//	   │
//	   ▼
//	filter:   Ready=True, not unschedulable, nodeSelector matches, every
//	          NoSchedule/NoExecute taint tolerated, requests fit (cpu, memory, pods)
//	   │      (each node that fails gives one or more reasons; none left → *FitError)
//	   ▼
//	score:    least-allocated (0–100) + 2 × spread of the Pod's group (0–100)
//	   │
//	   ▼
//	pick:     the highest score; ties go to the first node name
//
// Schedule does this over plain lists and is pure; the Scheduler controller does it over state
// that it keeps up to date from its informers, so one decision costs O(nodes), not O(pods).
//
// The controller is level-triggered: informer handlers only enqueue the keys of Pods that need
// a node, and sync(key) reads the Pod from the cache, decides, and POSTs the binding. Decisions
// are made one at a time (under one lock) and the binds go out in parallel from several
// workers. A Pod whose bind is in flight, or whose bind the informer has not shown yet, is
// "assumed": it counts on its node for the next decisions until the informer shows it bound
// (or 30 s pass), so a burst of Pods does not all land on the node that looked emptiest.
package scheduler
