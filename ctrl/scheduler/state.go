package scheduler

import (
	"sync"
	"time"

	"github.com/minik8s/minik8s/api"
)

// nodeState is one node and the sums of what is placed on it. The sums are kept as Pods come
// and go, so that a snapshot costs O(nodes) and not O(pods).
type nodeState struct {
	node   *api.Node // nil while Pods name a node that the informer has not shown (or deleted)
	used   resources
	score  resources
	pods   int
	groups map[string]int // Pods on the node by spread group
}

// placed is a Pod counted on a node: bound (seen so by the informer) or assumed (bound by this
// scheduler, or about to be, and not yet seen so).
type placed struct {
	node    string
	info    podInfo
	assumed bool
	expires time.Time // for assumed Pods
}

// state is what the controller schedules against: the nodes, and the Pods on them, including
// its own decisions that the informer does not show yet. It is safe for concurrent use.
type state struct {
	mu        sync.Mutex
	nodes     map[string]*nodeState
	pods      map[string]*placed // by Pod key
	assumed   map[string]*placed // the assumed subset of pods
	ttl       time.Duration
	now       func() time.Time
	nextSweep time.Time
}

func newState(ttl time.Duration) *state {
	return &state{
		nodes:   map[string]*nodeState{},
		pods:    map[string]*placed{},
		assumed: map[string]*placed{},
		ttl:     ttl,
		now:     time.Now,
	}
}

func (s *state) nodeLocked(name string) *nodeState {
	ns := s.nodes[name]
	if ns == nil {
		ns = &nodeState{groups: map[string]int{}}
		s.nodes[name] = ns
	}
	return ns
}

// setNode records a Node as the informer shows it.
func (s *state) setNode(n *api.Node) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nodeLocked(n.Name).node = n
}

// deleteNode forgets a Node; the Pods still bound to it stay counted, in case it comes back.
func (s *state) deleteNode(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ns := s.nodes[name]; ns != nil {
		ns.node = nil
		if ns.pods == 0 {
			delete(s.nodes, name)
		}
	}
}

// putLocked counts key as p, replacing what was counted for key before.
func (s *state) putLocked(key string, p *placed) {
	s.removeLocked(key)
	s.pods[key] = p
	if p.assumed {
		s.assumed[key] = p
	}
	ns := s.nodeLocked(p.node)
	ns.used = ns.used.add(p.info.req)
	ns.score = ns.score.add(p.info.score)
	ns.pods++
	if p.info.group != "" {
		ns.groups[p.info.group]++
	}
}

// removeLocked stops counting key; it reports whether key was counted.
func (s *state) removeLocked(key string) bool {
	p := s.pods[key]
	if p == nil {
		return false
	}
	delete(s.pods, key)
	delete(s.assumed, key)
	ns := s.nodes[p.node]
	ns.used = ns.used.sub(p.info.req)
	ns.score = ns.score.sub(p.info.score)
	ns.pods--
	if g := p.info.group; g != "" {
		if ns.groups[g]--; ns.groups[g] <= 0 {
			delete(ns.groups, g)
		}
	}
	if ns.pods == 0 && ns.node == nil {
		delete(s.nodes, p.node)
	}
	return true
}

// updatePod records a Pod as the informer shows it. A bound, non-terminated Pod counts on its
// node (and stops being assumed); an unbound one that this scheduler assumed stays counted,
// because the informer is only behind; any other stops counting. It reports whether the Pod
// stopped counting, which frees room for others.
func (s *state) updatePod(pod *api.Pod) (freed bool) {
	key := pod.Key()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case pod.Spec.NodeName != "" && !terminated(pod):
		if p := s.pods[key]; p != nil && !p.assumed && p.node == pod.Spec.NodeName {
			return false // counted already; requests do not change once bound
		}
		s.putLocked(key, &placed{node: pod.Spec.NodeName, info: podInfoOf(pod)})
		return false
	case pod.Spec.NodeName == "" && !terminated(pod) && pod.DeletionTimestamp == nil && s.assumed[key] != nil:
		return false
	default:
		return s.removeLocked(key)
	}
}

// deletePod stops counting a Pod; it reports whether it was counted.
func (s *state) deletePod(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.removeLocked(key)
}

// assumedOn returns the node a Pod is assumed on, or "".
func (s *state) assumedOn(key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked()
	if p := s.assumed[key]; p != nil {
		return p.node
	}
	return ""
}

// forget drops an assumption, after a failed bind.
func (s *state) forget(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.assumed[key] != nil {
		s.removeLocked(key)
	}
}

// schedule decides for one Pod against the current state and, on success, assumes the Pod on
// the chosen node before anyone else decides: decisions are serialised, binds are not.
func (s *state) schedule(pod *api.Pod) (Result, error) {
	info := podInfoOf(pod)
	key := pod.Key()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked()
	cands := make([]candidate, 0, len(s.nodes))
	for _, ns := range s.nodes {
		if ns.node == nil {
			continue
		}
		c := candidate{node: ns.node, used: ns.used, score: ns.score, pods: ns.pods}
		if info.group != "" {
			c.same = ns.groups[info.group]
		}
		cands = append(cands, c)
	}
	res, err := pick(pod, info, cands)
	if err != nil {
		return res, err
	}
	s.putLocked(key, &placed{node: res.Node, info: info, assumed: true, expires: s.now().Add(s.ttl)})
	return res, nil
}

// sweepLocked drops assumptions the informer has not confirmed in time; it looks at most once
// a second.
func (s *state) sweepLocked() {
	now := s.now()
	if now.Before(s.nextSweep) {
		return
	}
	s.nextSweep = now.Add(time.Second)
	for key, p := range s.assumed {
		if now.After(p.expires) {
			s.removeLocked(key)
		}
	}
}
