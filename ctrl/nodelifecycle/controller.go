package nodelifecycle

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
	"github.com/minik8s/minik8s/client/cache"
	"github.com/minik8s/minik8s/client/workqueue"
)

// component is the name the controller reports Events under, as Kubernetes' does.
const component = "node-controller"

// Event reasons, as Kubernetes spells them.
const (
	reasonNodeNotReady = "NodeNotReady"
	reasonNodeReady    = "NodeReady"
)

// workers is how many nodes are synced at once; a sync is a cache read and, rarely, a write.
const workers = 2

// minRequeue is the shortest wait before looking at a node again, so that a deadline that
// the clock reaches a little late never makes the queue spin.
const minRequeue = 10 * time.Millisecond

// Controller marks nodes whose kubelet stopped heartbeating: Ready=Unknown and the
// unreachable taint (see Evaluate). It is level-triggered and safe to restart at any time:
// after a restart it gives every node a full grace period from the moment it first sees it.
// Its writes are compare-and-swaps on resourceVersion, so a heartbeat that lands first always
// wins.
type Controller struct {
	client *client.Client
	grace  time.Duration
	log    *slog.Logger
	nodes  *cache.Informer
	queue  *workqueue.Queue

	mu     sync.Mutex
	probes map[string]*probe // by node name

	// now is the controller's clock; a field so that tests can replace it.
	now func() time.Time
}

// probe is what the controller remembers of a node between syncs.
type probe struct {
	uid       string
	heartbeat time.Time // the Ready condition's lastHeartbeatTime when last seen (zero: none)
	at        time.Time // when that heartbeat was first seen, by the controller's clock
	ready     string    // the Ready status when last seen ("" for none)
}

// New returns a node controller that works through c and marks a node Unknown once grace
// has passed without a heartbeat (DefaultGracePeriod when grace <= 0). Call Run to start it.
func New(c *client.Client, grace time.Duration, log *slog.Logger) *Controller {
	if grace <= 0 {
		grace = DefaultGracePeriod
	}
	if log == nil {
		log = slog.Default()
	}
	ctl := &Controller{
		client: c,
		grace:  grace,
		log:    log,
		nodes:  cache.New(c.Nodes().Dynamic(), client.ListOptions{}, log),
		probes: map[string]*probe{},
		now:    time.Now,
	}
	ctl.queue = workqueue.New(workqueue.WithName("nodelifecycle"), workqueue.WithBackoff(100*time.Millisecond, 10*time.Second),
		workqueue.WithErrorHandler(func(key string, err error) {
			ctl.log.Warn("node controller: sync failed", "node", key, "err", err)
		}))
	ctl.nodes.AddHandler(cache.EnqueueHandler(ctl.queue))
	return ctl
}

// Run watches the nodes until ctx ends. Call it once.
func (c *Controller) Run(ctx context.Context) {
	cache.RunAll(ctx, []*cache.Informer{c.nodes}, func() {
		c.log.Info("node controller: started", "grace", c.grace)
		c.queue.Run(ctx, workers, c.sync)
	})
	c.queue.ShutDown()
}

// sync brings the node named key in line with Evaluate: it writes the status, then the taints,
// and queues the node again for when its heartbeat goes stale. It is idempotent. A write that
// loses to a newer version of the node is dropped: the informer brings that version, and with
// it another sync.
func (c *Controller) sync(ctx context.Context, key string) error {
	obj, ok := c.nodes.Get(key)
	if !ok {
		c.mu.Lock()
		delete(c.probes, key)
		c.mu.Unlock()
		return nil
	}
	node := obj.(*api.Node)
	now := c.now()
	seen, was := c.observe(node, now)
	d := Evaluate(node, seen, now, c.grace)

	if d.Conditions != nil {
		cp := api.DeepCopy(node)
		cp.Status.Conditions = d.Conditions
		out, err := c.client.Nodes().UpdateStatus(ctx, cp)
		if client.IsConflict(err) || client.IsNotFound(err) {
			c.log.Debug("node controller: node changed before its status was written", "node", key, "err", err)
			return nil
		}
		if err != nil {
			return fmt.Errorf("mark node %s unknown: %w", key, err)
		}
		hb := time.Time{}
		if r := readyCondition(node); r != nil {
			hb = r.LastHeartbeatTime.Time
		}
		c.log.Info("node controller: kubelet stopped posting node status", "node", key, "lastHeartbeat", hb)
		node = out
	}
	if d.TaintsChanged {
		cp := api.DeepCopy(node)
		cp.Spec.Taints = d.Taints
		if _, err := c.client.Nodes().Update(ctx, cp); client.IsConflict(err) || client.IsNotFound(err) {
			c.log.Debug("node controller: node changed before its taints were written", "node", key, "err", err)
			return nil
		} else if err != nil {
			return fmt.Errorf("set the taints of node %s: %w", key, err)
		}
	}
	c.recordTransition(ctx, node, was)
	if !d.Deadline.IsZero() {
		c.queue.AddAfter(key, max(d.Deadline.Sub(now), minRequeue))
	}
	return nil
}

// observe records node as seen at now and returns when its current heartbeat was first seen
// (for a node that never reported, its creation time), and its Ready status when last seen
// ("" the first time).
func (c *Controller) observe(node *api.Node, now time.Time) (time.Time, string) {
	var hb time.Time
	ready := ""
	if r := readyCondition(node); r != nil {
		hb, ready = r.LastHeartbeatTime.Time, r.Status
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.probes[node.Name]
	was := ""
	switch {
	case p == nil || p.uid != node.UID:
		at := now
		if readyCondition(node) == nil {
			at = node.CreationTimestamp.Time
		}
		p = &probe{uid: node.UID, heartbeat: hb, at: at}
		c.probes[node.Name] = p
	case !p.heartbeat.Equal(hb):
		p.heartbeat, p.at = hb, now
		was = p.ready
	default:
		was = p.ready
	}
	p.ready = ready
	return p.at, was
}

// recordTransition writes an Event when the node's Ready condition turned to or from True
// since the controller last saw it, as Kubernetes' node controller does ("describe node"
// shows them). It is best-effort: a failure is only logged.
func (c *Controller) recordTransition(ctx context.Context, node *api.Node, was string) {
	now := readyStatus(node)
	var reason string
	switch {
	case was == "" || (was == api.ConditionTrue) == (now == api.ConditionTrue):
		return
	case now == api.ConditionTrue:
		reason = reasonNodeReady
	default:
		reason = reasonNodeNotReady
	}
	c.mu.Lock()
	if p := c.probes[node.Name]; p != nil {
		p.ready = now
	}
	c.mu.Unlock()
	at := api.Now()
	ev := &api.Event{
		ObjectMeta:     api.ObjectMeta{Name: fmt.Sprintf("%s.%x", node.Name, time.Now().UnixNano()), Namespace: "default"},
		InvolvedObject: api.ObjectReference{Kind: "Node", Name: node.Name, UID: node.UID, APIVersion: "v1"},
		Reason:         reason, Message: fmt.Sprintf("Node %s status is now: %s", node.Name, reason),
		Type: api.EventTypeNormal, Count: 1, FirstTimestamp: at, LastTimestamp: at,
		Source: api.EventSource{Component: component}, ReportingComponent: component,
	}
	if _, err := c.client.Events("default").Create(ctx, ev); err != nil && ctx.Err() == nil {
		c.log.Debug("node controller: record event", "node", node.Name, "reason", reason, "err", err)
	}
}

// readyStatus returns the status of node's Ready condition, or "".
func readyStatus(node *api.Node) string {
	if r := readyCondition(node); r != nil {
		return r.Status
	}
	return ""
}
