package scheduler

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/minik8s/minik8s/api"
)

// The reasons a node is filtered out, in Kubernetes' words: they make up FitError's message.
const (
	reasonNotReady      = "node(s) were not ready"
	reasonUnschedulable = "node(s) were unschedulable"
	reasonSelector      = "node(s) didn't match Pod's node affinity/selector"
	reasonCPU           = "Insufficient cpu"
	reasonMemory        = "Insufficient memory"
	reasonPods          = "Too many pods"
)

func reasonTaint(t api.Taint) string {
	return fmt.Sprintf("node(s) had untolerated taint {%s: %s}", t.Key, t.Value)
}

// Scoring weights, as kube-scheduler's defaults weigh NodeResourcesFit (1) and
// PodTopologySpread (2): spreading a group outweighs a small difference in load.
const (
	weightLeastAllocated = 1
	weightSpread         = 2
	maxNodeScore         = 100
)

// What a container without requests counts as when scoring (not when fitting), as in
// Kubernetes: otherwise Pods without requests would all score the same everywhere and pile up
// on the first node.
const (
	nonZeroMilliCPU = 100
	nonZeroMemory   = 200 << 20
)

// Result is a scheduling decision.
type Result struct {
	// Node is the chosen node's name.
	Node string
	// Feasible is how many nodes passed the filters.
	Feasible int
	// Reasons counts, by reason, the nodes that did not pass; a node may give several
	// reasons (Insufficient cpu and Insufficient memory).
	Reasons map[string]int
}

// FitError says that no node can take the Pod, and why, node by node. Its message has
// Kubernetes' shape, so users and tools recognise it:
//
//	0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector.
type FitError struct {
	// NumNodes is how many nodes were considered.
	NumNodes int
	// Reasons counts the nodes by the reason they were filtered out.
	Reasons map[string]int
}

// Error returns the message in Kubernetes' shape: the reasons with their counts, sorted as
// strings, as kube-scheduler sorts them.
func (e *FitError) Error() string {
	if e.NumNodes == 0 {
		return "no nodes available to schedule pods"
	}
	parts := make([]string, 0, len(e.Reasons))
	for r, n := range e.Reasons {
		parts = append(parts, fmt.Sprintf("%d %s", n, r))
	}
	sort.Strings(parts)
	msg := fmt.Sprintf("0/%d nodes are available", e.NumNodes)
	if len(parts) > 0 {
		msg += ": " + strings.Join(parts, ", ")
	}
	return msg + "."
}

// resources are amounts in the units the scheduler computes with.
type resources struct {
	milliCPU int64
	memory   int64 // bytes
}

func (r resources) add(o resources) resources {
	return resources{r.milliCPU + o.milliCPU, r.memory + o.memory}
}

func (r resources) sub(o resources) resources {
	return resources{r.milliCPU - o.milliCPU, r.memory - o.memory}
}

// podInfo is what the scheduler needs of a Pod, computed once.
type podInfo struct {
	// req is what the Pod asks for, for fitting: a container without requests asks 0.
	req resources
	// score is req with the non-zero defaults, for scoring.
	score resources
	// group is the Pod's spread group ("" for none).
	group string
}

func podInfoOf(pod *api.Pod) podInfo {
	req, score := podRequests(pod)
	return podInfo{req: req, score: score, group: spreadGroup(pod)}
}

// podRequests returns what a Pod requests (api.PodRequests), and the same with the non-zero
// defaults for scoring.
func podRequests(pod *api.Pod) (req, score resources) {
	req.milliCPU, req.memory = api.PodRequests(pod, 0, 0)
	score.milliCPU, score.memory = api.PodRequests(pod, nonZeroMilliCPU, nonZeroMemory)
	return req, score
}

// spreadGroup names the Pods that should spread across nodes together: those with the same
// controller (a ReplicaSet's Pods), or, for Pods without one, those with the same labels in
// the same namespace. A Pod with neither has no group.
func spreadGroup(pod *api.Pod) string {
	if ref := pod.ControllerOf(); ref != nil && ref.UID != "" {
		return "owner:" + ref.UID
	}
	if len(pod.Labels) == 0 {
		return ""
	}
	keys := make([]string, 0, len(pod.Labels))
	for k := range pod.Labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString("labels:")
	b.WriteString(pod.Namespace)
	for _, k := range keys {
		b.WriteByte(',')
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(pod.Labels[k])
	}
	return b.String()
}

// terminated reports a Pod that holds no resources any more.
func terminated(pod *api.Pod) bool {
	return pod.Status.Phase == api.PodSucceeded || pod.Status.Phase == api.PodFailed
}

// candidate is one node in a snapshot: the Node and what is already placed on it.
type candidate struct {
	node  *api.Node
	used  resources // requests of the Pods on it, for fitting
	score resources // the same with the non-zero defaults, for scoring
	pods  int       // how many Pods are on it
	same  int       // how many of them are in the scheduled Pod's group
}

// Schedule picks a node for pod among nodes, counting the requests of the non-terminated Pods
// in pods that are bound to them. It is pure and deterministic: the same input gives the same
// node. When no node fits, the error is a *FitError.
func Schedule(pod *api.Pod, nodes []*api.Node, pods []*api.Pod) (Result, error) {
	info := podInfoOf(pod)
	byName := make(map[string]*candidate, len(nodes))
	cands := make([]candidate, len(nodes))
	for i, n := range nodes {
		cands[i].node = n
		byName[n.Name] = &cands[i]
	}
	for _, p := range pods {
		if p.Spec.NodeName == "" || terminated(p) || (p.Namespace == pod.Namespace && p.Name == pod.Name) {
			continue
		}
		c := byName[p.Spec.NodeName]
		if c == nil {
			continue
		}
		pi := podInfoOf(p)
		c.used = c.used.add(pi.req)
		c.score = c.score.add(pi.score)
		c.pods++
		if info.group != "" && pi.group == info.group {
			c.same++
		}
	}
	return pick(pod, info, cands)
}

// pick filters, scores and picks among the candidates.
func pick(pod *api.Pod, info podInfo, cands []candidate) (Result, error) {
	res := Result{Reasons: map[string]int{}}
	feasible := make([]*candidate, 0, len(cands))
	maxSame := 0
	for i := range cands {
		c := &cands[i]
		reasons := filter(pod, info, c)
		if len(reasons) > 0 {
			for _, r := range reasons {
				res.Reasons[r]++
			}
			continue
		}
		feasible = append(feasible, c)
		maxSame = max(maxSame, c.same)
	}
	res.Feasible = len(feasible)
	if len(feasible) == 0 {
		return res, &FitError{NumNodes: len(cands), Reasons: res.Reasons}
	}
	var best *candidate
	bestScore := int64(-1)
	for _, c := range feasible {
		s := weightLeastAllocated*leastAllocated(info, c) + weightSpread*spread(c, maxSame)
		if s > bestScore || (s == bestScore && c.node.Name < best.node.Name) {
			best, bestScore = c, s
		}
	}
	res.Node = best.node.Name
	return res, nil
}

// filter returns why the Pod cannot go to the node, or nothing when it can. As in
// kube-scheduler, the first failing check decides, except that the resource check reports
// every resource that is short.
func filter(pod *api.Pod, info podInfo, c *candidate) []string {
	n := c.node
	if !nodeReady(n) {
		return []string{reasonNotReady}
	}
	if n.Spec.Unschedulable {
		return []string{reasonUnschedulable}
	}
	for k, v := range pod.Spec.NodeSelector {
		if lv, ok := n.Labels[k]; !ok || lv != v {
			return []string{reasonSelector}
		}
	}
	for _, t := range n.Spec.Taints {
		if t.Effect != "NoSchedule" && t.Effect != "NoExecute" {
			continue
		}
		if !tolerated(pod.Spec.Tolerations, t) {
			return []string{reasonTaint(t)}
		}
	}
	var reasons []string
	alloc := n.Status.Allocatable
	if maxPods := alloc[api.ResourcePods]; int64(c.pods+1) > maxPods.Value() {
		reasons = append(reasons, reasonPods)
	}
	if cpu := alloc[api.ResourceCPU]; info.req.milliCPU > 0 && info.req.milliCPU > cpu.MilliValue()-c.used.milliCPU {
		reasons = append(reasons, reasonCPU)
	}
	if mem := alloc[api.ResourceMemory]; info.req.memory > 0 && info.req.memory > mem.Value()-c.used.memory {
		reasons = append(reasons, reasonMemory)
	}
	return reasons
}

func nodeReady(n *api.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == api.NodeReady {
			return c.Status == api.ConditionTrue
		}
	}
	return false
}

// tolerated reports whether one of tols tolerates t, with Kubernetes' rules: an empty effect
// matches every effect, an empty key with operator Exists matches every key, and operator
// Equal (the default) also needs the same value.
func tolerated(tols []api.Toleration, t api.Taint) bool {
	for _, tol := range tols {
		if tol.Effect != "" && tol.Effect != t.Effect {
			continue
		}
		if tol.Key != "" && tol.Key != t.Key {
			continue
		}
		switch tol.Operator {
		case "Exists":
			return true
		case "", "Equal":
			if tol.Value == t.Value {
				return true
			}
		}
	}
	return false
}

// leastAllocated scores 0–100 by the mean fraction of the node's cpu and memory that would be
// free with the Pod placed, counting containers without requests at the non-zero defaults.
func leastAllocated(info podInfo, c *candidate) int64 {
	alloc := c.node.Status.Allocatable
	cpu, mem := alloc[api.ResourceCPU], alloc[api.ResourceMemory]
	after := c.score.add(info.score)
	return (freeScore(cpu.MilliValue(), after.milliCPU) + freeScore(mem.Value(), after.memory)) / 2
}

func freeScore(capacity, requested int64) int64 {
	if capacity <= 0 || requested >= capacity {
		return 0
	}
	// Divide first where the product could overflow.
	if capacity > math.MaxInt64/maxNodeScore {
		return min((capacity-requested)/(capacity/maxNodeScore), maxNodeScore)
	}
	return (capacity - requested) * maxNodeScore / capacity
}

// spread scores 0–100: 100 for a node without Pods of the group, 0 for the nodes with the
// most, in proportion in between (kube-scheduler's SelectorSpread).
func spread(c *candidate, maxSame int) int64 {
	if maxSame == 0 {
		return maxNodeScore
	}
	return int64(maxSame-c.same) * maxNodeScore / int64(maxSame)
}
