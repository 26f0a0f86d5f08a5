package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
	"github.com/minik8s/minik8s/client/cache"
	"github.com/minik8s/minik8s/client/workqueue"
)

// Reasons of the Events and the Pod condition the scheduler writes, as kube-scheduler spells
// them.
const (
	reasonScheduled         = "Scheduled"
	reasonFailedScheduling  = "FailedScheduling"
	reasonUnschedulableCond = "Unschedulable"
)

// Timing.
const (
	// assumeTTL is how long a Pod this scheduler bound counts on its node without the
	// informer showing it bound.
	assumeTTL = 30 * time.Second
	// retryBase and retryMax bound the back-off of a Pod that fits nowhere (or whose bind
	// failed). Changes that can make room (a node added or changed, a Pod gone) retry every
	// unschedulable Pod at once, so the back-off only matters when nothing changes.
	retryBase = time.Second
	retryMax  = time.Minute
)

// Scheduler is the controller that binds the Pods that name "default-scheduler" (or no
// scheduler) and have no node. It is level-triggered and safe to restart at any time: it
// learns everything from the API server, and a bind is a compare-and-swap that fails on a Pod
// bound already.
type Scheduler struct {
	client *client.Client
	log    *slog.Logger
	nodes  *cache.Informer
	pods   *cache.Informer
	queue  *workqueue.Queue
	state  *state
	events *recorder

	mu            sync.Mutex
	unschedulable map[string]struct{} // keys of the Pods that fit nowhere at their last try

	// bind posts a binding; a field so that tests can replace it.
	bind func(ctx context.Context, ns, name, uid, node string) error
}

// New returns a Scheduler that works through c and logs to log. Call Run to start it.
func New(c *client.Client, log *slog.Logger) *Scheduler {
	if log == nil {
		log = slog.Default()
	}
	s := &Scheduler{
		client:        c,
		log:           log,
		nodes:         cache.New(c.Nodes().Dynamic(), client.ListOptions{}, log),
		pods:          cache.New(c.Pods("").Dynamic(), client.ListOptions{}, log),
		state:         newState(assumeTTL),
		events:        newRecorder(c, log),
		unschedulable: map[string]struct{}{},
		bind:          c.Bind,
	}
	s.queue = workqueue.New(workqueue.WithName("scheduler"), workqueue.WithBackoff(retryBase, retryMax),
		workqueue.WithErrorHandler(s.logError))
	s.nodes.AddHandler(cache.Handler{
		OnAdd: func(obj api.Object) {
			s.state.setNode(obj.(*api.Node))
			s.retryUnschedulable()
		},
		OnUpdate: func(old, cur api.Object) {
			s.state.setNode(cur.(*api.Node))
			if nodeChanged(old.(*api.Node), cur.(*api.Node)) {
				s.retryUnschedulable()
			}
		},
		OnDelete: func(obj api.Object) { s.state.deleteNode(obj.GetObjectMeta().Name) },
	})
	s.pods.AddHandler(cache.Handler{
		OnAdd: func(obj api.Object) {
			pod := obj.(*api.Pod)
			s.state.updatePod(pod)
			if needsScheduling(pod) {
				s.queue.Add(pod.Key())
			}
		},
		OnUpdate: func(old, cur api.Object) {
			prev, pod := old.(*api.Pod), cur.(*api.Pod)
			freed := s.state.updatePod(pod)
			// Our own status writes change neither spec nor labels: they need no new try.
			if needsScheduling(pod) && (!needsScheduling(prev) || prev.Generation != pod.Generation ||
				!maps.Equal(prev.Labels, pod.Labels)) {
				s.queue.Add(pod.Key())
			}
			if !needsScheduling(pod) {
				s.dropUnschedulable(pod.Key())
			}
			if freed {
				s.retryUnschedulable()
			}
		},
		OnDelete: func(obj api.Object) {
			key := obj.GetObjectMeta().Key()
			freed := s.state.deletePod(key)
			s.dropUnschedulable(key)
			s.events.forget(key)
			if freed {
				s.retryUnschedulable()
			}
		},
	})
	return s
}

// Run schedules with the given number of workers until ctx ends. Decisions are made one at a
// time; the workers bind in parallel. Call it once.
func (s *Scheduler) Run(ctx context.Context, workers int) {
	var wg sync.WaitGroup
	wg.Go(func() { s.events.run(ctx) })
	cache.RunAll(ctx, []*cache.Informer{s.nodes, s.pods}, func() {
		s.log.Info("scheduler: started", "workers", workers)
		s.queue.Run(ctx, workers, s.sync)
	})
	s.queue.ShutDown()
	wg.Wait()
}

// needsScheduling reports a Pod that this scheduler should bind.
func needsScheduling(pod *api.Pod) bool {
	return pod.Spec.NodeName == "" && pod.DeletionTimestamp == nil && !terminated(pod) &&
		(pod.Spec.SchedulerName == "" || pod.Spec.SchedulerName == api.DefaultSchedulerName)
}

// nodeChanged reports a change that can let a Pod onto a node: anything but a heartbeat.
func nodeChanged(old, cur *api.Node) bool {
	if nodeReady(old) != nodeReady(cur) || old.Spec.Unschedulable != cur.Spec.Unschedulable ||
		!maps.Equal(old.Labels, cur.Labels) || !slices.EqualFunc(old.Spec.Taints, cur.Spec.Taints, sameTaint) {
		return true
	}
	a, b := old.Status.Allocatable, cur.Status.Allocatable
	return len(a) != len(b) || !maps.EqualFunc(a, b, func(x, y api.Quantity) bool { return x.Cmp(y) == 0 })
}

func sameTaint(a, b api.Taint) bool {
	return a.Key == b.Key && a.Value == b.Value && a.Effect == b.Effect
}

// sync schedules the Pod with key, if it still needs a node. It is idempotent: a Pod bound
// already, by this scheduler or another, is left alone.
func (s *Scheduler) sync(ctx context.Context, key string) error {
	obj, ok := s.pods.Get(key)
	if !ok {
		s.dropUnschedulable(key)
		return nil
	}
	pod := obj.(*api.Pod)
	if !needsScheduling(pod) || s.state.assumedOn(key) != "" {
		return nil
	}
	res, err := s.state.schedule(pod)
	if fe, ok := errors.AsType[*FitError](err); ok {
		return s.failed(ctx, pod, fe)
	}
	if err != nil {
		return fmt.Errorf("schedule pod %s: %w", key, err)
	}
	if err := s.bind(ctx, pod.Namespace, pod.Name, pod.UID, res.Node); err != nil {
		s.state.forget(key)
		if client.IsConflict(err) || client.IsNotFound(err) {
			// Bound already (the informer is behind), being deleted, or gone: nothing to do.
			s.log.Debug("scheduler: bind refused", "pod", key, "node", res.Node, "err", err)
			return nil
		}
		return fmt.Errorf("bind pod %s to node %s: %w", key, res.Node, err)
	}
	s.log.Debug("scheduler: bound", "pod", key, "node", res.Node, "feasible", res.Feasible)
	s.dropUnschedulable(key)
	s.events.forget(key)
	s.events.record(pod, api.EventTypeNormal, reasonScheduled,
		fmt.Sprintf("Successfully assigned %s/%s to %s", pod.Namespace, pod.Name, res.Node))
	if c := podCondition(pod, api.PodScheduled); c != nil && c.Status != api.ConditionTrue {
		s.markScheduled(ctx, pod)
	}
	return nil
}

// failed records why a Pod fits nowhere: the PodScheduled=False condition (written only when
// it changes) and a FailedScheduling Event. It returns fe, so that the queue retries with
// back-off, or the error of the status write.
func (s *Scheduler) failed(ctx context.Context, pod *api.Pod, fe *FitError) error {
	key := pod.Key()
	s.mu.Lock()
	s.unschedulable[key] = struct{}{}
	s.mu.Unlock()
	msg := fe.Error()
	s.events.record(pod, api.EventTypeWarning, reasonFailedScheduling, msg)
	if c := podCondition(pod, api.PodScheduled); c != nil && c.Status == api.ConditionFalse &&
		c.Reason == reasonUnschedulableCond && c.Message == msg && pod.Status.Phase == api.PodPending {
		return fe
	}
	cp := api.DeepCopy(pod)
	setCondition(cp, api.PodCondition{Type: api.PodScheduled, Status: api.ConditionFalse,
		Reason: reasonUnschedulableCond, Message: msg})
	cp.Status.Phase = api.PodPending
	if _, err := s.client.Pods(pod.Namespace).UpdateStatus(ctx, cp); err != nil && !client.IsNotFound(err) {
		return fmt.Errorf("mark pod %s unschedulable: %w", key, err)
	}
	return fe
}

// markScheduled turns a PodScheduled=False condition, left from an earlier try, to True once
// the Pod is bound; a node's kubelet would do it too, but only once it runs the Pod. A failure
// is only logged: it is cosmetic, and the kubelet corrects it.
func (s *Scheduler) markScheduled(ctx context.Context, pod *api.Pod) {
	pods := s.client.Pods(pod.Namespace)
	cur, err := pods.Get(ctx, pod.Name)
	if err != nil || cur.UID != pod.UID {
		return
	}
	if c := podCondition(cur, api.PodScheduled); c == nil || c.Status == api.ConditionTrue {
		return
	}
	setCondition(cur, api.PodCondition{Type: api.PodScheduled, Status: api.ConditionTrue})
	if _, err := pods.UpdateStatus(ctx, cur); err != nil {
		s.log.Debug("scheduler: mark pod scheduled", "pod", pod.Key(), "err", err)
	}
}

func (s *Scheduler) dropUnschedulable(key string) {
	s.mu.Lock()
	delete(s.unschedulable, key)
	s.mu.Unlock()
}

// retryUnschedulable queues every Pod that fit nowhere at its last try, after a change that
// may have made room.
func (s *Scheduler) retryUnschedulable() {
	s.mu.Lock()
	keys := slices.Collect(maps.Keys(s.unschedulable))
	s.mu.Unlock()
	for _, k := range keys {
		s.queue.Add(k)
	}
}

func (s *Scheduler) logError(key string, err error) {
	if _, ok := errors.AsType[*FitError](err); ok {
		s.log.Debug("scheduler: pod fits no node", "pod", key, "err", err)
		return
	}
	s.log.Warn("scheduler: sync failed", "pod", key, "err", err)
}

func podCondition(pod *api.Pod, typ string) *api.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == typ {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

// setCondition sets a condition of pod, keeping its transition time when the status stays.
func setCondition(pod *api.Pod, c api.PodCondition) {
	now := api.Now()
	c.LastTransitionTime = now
	if old := podCondition(pod, c.Type); old != nil {
		if old.Status == c.Status && !old.LastTransitionTime.IsZero() {
			c.LastTransitionTime = old.LastTransitionTime
		}
		*old = c
		return
	}
	pod.Status.Conditions = append(pod.Status.Conditions, c)
}
