package replicaset

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
	"github.com/minik8s/minik8s/client/cache"
	"github.com/minik8s/minik8s/client/workqueue"
)

const (
	// recentTTL is how long a create or delete of our own is counted while the cache does not
	// show it yet; past it, the cache is believed.
	recentTTL = 5 * time.Second
	// settle is how soon a ReplicaSet is looked at again after its Pods were created or deleted.
	settle = time.Second
	// maxBurst is the most Pods one sync creates or deletes at once.
	maxBurst = 500
	// parallel bounds the writes in flight for one sync.
	parallel = 16
)

// Controller keeps the Pods of every ReplicaSet (see the package doc). It is level-triggered
// and safe to restart at any time: everything it needs is in the API server, and its writes
// are conditional on resourceVersion or UID.
type Controller struct {
	client *client.Client
	log    *slog.Logger
	rsets  *cache.Informer
	pods   *cache.Informer
	queue  *workqueue.Queue
	// now is the clock, a seam for tests.
	now func() time.Time

	mu     sync.Mutex
	recent map[string]*recentOps // by ReplicaSet key
}

// recentOps are the writes of the last few seconds that the cache may not show yet.
type recentOps struct {
	creates map[string]time.Time // Pod name → when created
	deletes map[string]deleted   // Pod UID → which Pod, when deleted
}

type deleted struct {
	name string
	at   time.Time
}

// New returns a ReplicaSet controller that works through c and logs to log. Call Run to start
// it.
func New(c *client.Client, log *slog.Logger) *Controller {
	if log == nil {
		log = slog.Default()
	}
	ctl := &Controller{
		client: c,
		log:    log,
		rsets:  cache.New(c.ReplicaSets("").Dynamic(), client.ListOptions{}, log),
		pods:   cache.New(c.Pods("").Dynamic(), client.ListOptions{}, log),
		now:    time.Now,
		recent: map[string]*recentOps{},
	}
	ctl.queue = workqueue.New(workqueue.WithName("replicaset"), workqueue.WithBackoff(100*time.Millisecond, 30*time.Second),
		workqueue.WithErrorHandler(func(key string, err error) {
			ctl.log.Warn("replicaset controller: sync failed", "key", key, "err", err)
		}))
	ctl.rsets.AddHandler(cache.EnqueueHandler(ctl.queue))
	ctl.pods.AddHandler(cache.Handler{
		OnAdd: func(obj api.Object) { ctl.enqueueFor(obj.(*api.Pod)) },
		OnUpdate: func(old, cur api.Object) {
			prev, pod := old.(*api.Pod), cur.(*api.Pod)
			ctl.enqueueFor(pod)
			if !maps.Equal(prev.Labels, pod.Labels) || !slices.Equal(refUID(prev), refUID(pod)) {
				ctl.enqueueFor(prev)
			}
		},
		OnDelete: func(obj api.Object) { ctl.enqueueFor(obj.(*api.Pod)) },
	})
	return ctl
}

// Run keeps the ReplicaSets with the given number of workers until ctx ends. Call it once.
func (c *Controller) Run(ctx context.Context, workers int) {
	cache.RunAll(ctx, []*cache.Informer{c.rsets, c.pods}, func() {
		c.log.Info("replicaset controller: started", "workers", workers)
		c.queue.Run(ctx, workers, c.sync)
	})
	c.queue.ShutDown()
}

func refUID(p *api.Pod) []string {
	if r := p.ControllerOf(); r != nil {
		return []string{r.Kind, r.Name, r.UID}
	}
	return nil
}

// enqueueFor queues the ReplicaSet that controls pod or, for an orphan, every ReplicaSet of
// its namespace whose selector matches it (one of them may adopt it).
func (c *Controller) enqueueFor(pod *api.Pod) {
	if ref := pod.ControllerOf(); ref != nil {
		if isRSRef(ref) {
			c.queue.Add(pod.Namespace + "/" + ref.Name)
		}
		return
	}
	for _, o := range c.rsets.List() {
		rs := o.(*api.ReplicaSet)
		if rs.Namespace != pod.Namespace {
			continue
		}
		if sel, err := api.LabelSelectorAsSelector(rs.Spec.Selector); err == nil && !sel.Empty() && sel.Matches(pod.Labels) {
			c.queue.Add(rs.Key())
		}
	}
}

// sync brings the ReplicaSet named key to its replicas and writes its status. It is idempotent:
// it acts on what the cache shows plus its own writes of the last seconds, never on a count it
// keeps across calls.
func (c *Controller) sync(ctx context.Context, key string) error {
	obj, ok := c.rsets.Get(key)
	if !ok {
		c.mu.Lock()
		delete(c.recent, key)
		c.mu.Unlock()
		return nil // its Pods are the garbage collector's
	}
	rs := obj.(*api.ReplicaSet)
	sel, err := api.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil || sel.Empty() {
		// The API refuses such a ReplicaSet; one stored anyway must not take every Pod.
		c.log.Warn("replicaset controller: unusable selector", "key", key, "err", err)
		return nil
	}

	var errs []error
	var owned []*api.Pod
	for _, o := range c.pods.List() {
		pod := o.(*api.Pod)
		if pod.Namespace != rs.Namespace {
			continue
		}
		switch {
		case mustRelease(rs, sel, pod):
			if err := c.release(ctx, rs, pod); err != nil {
				errs = append(errs, err)
			}
		case ownedBy(pod, rs):
			owned = append(owned, pod)
		case canAdopt(rs, sel, pod):
			adopted, err := c.adopt(ctx, rs, pod)
			if err != nil {
				errs = append(errs, err)
			} else if adopted != nil {
				owned = append(owned, adopted)
			}
		}
	}

	pendingCreates, deleting := c.pending(key, rs.Namespace)
	var live []*api.Pod
	for _, p := range owned {
		if active(p) && !deleting[p.UID] {
			live = append(live, p)
		}
	}

	acted := false
	if rs.DeletionTimestamp == nil {
		switch d := diff(len(live), pendingCreates, replicas(rs)); {
		case d > 0:
			acted = true
			if err := c.create(ctx, key, rs, min(d, maxBurst)); err != nil {
				errs = append(errs, err)
			}
		case d < 0:
			acted = true
			victims := rankForDeletion(live, min(-d, maxBurst))
			gone, err := c.delete(ctx, key, victims)
			if err != nil {
				errs = append(errs, err)
			}
			live = slices.DeleteFunc(live, func(p *api.Pod) bool { return gone[p.UID] })
		}
	}

	if err := c.writeStatus(ctx, rs, calculateStatus(rs, live, c.now())); err != nil {
		errs = append(errs, err)
	}
	switch {
	case acted:
		c.queue.AddAfter(key, settle)
	case pendingCreates > 0 || len(deleting) > 0:
		c.queue.AddAfter(key, recentTTL)
	}
	return errors.Join(errs...)
}

// pending forgets the recent writes of key that the cache now shows (or that are too old), and
// returns how many created Pods it does not show yet and the UIDs of deleted Pods it still
// shows as active.
func (c *Controller) pending(key, ns string) (int, map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.recent[key]
	if r == nil {
		return 0, nil
	}
	now := c.now()
	for name, at := range r.creates {
		if _, seen := c.pods.Get(ns + "/" + name); seen || now.Sub(at) > recentTTL {
			delete(r.creates, name)
		}
	}
	deleting := map[string]bool{}
	for uid, d := range r.deletes {
		o, ok := c.pods.Get(ns + "/" + d.name)
		if !ok || o.GetObjectMeta().UID != uid || !active(o.(*api.Pod)) || now.Sub(d.at) > recentTTL {
			delete(r.deletes, uid)
			continue
		}
		deleting[uid] = true
	}
	n := len(r.creates)
	if n == 0 && len(r.deletes) == 0 {
		delete(c.recent, key)
	}
	return n, deleting
}

func (c *Controller) remember(key string, f func(r *recentOps)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.recent[key]
	if r == nil {
		r = &recentOps{creates: map[string]time.Time{}, deletes: map[string]deleted{}}
		c.recent[key] = r
	}
	f(r)
}

// create makes n Pods from rs's template, in batches of 1, 2, 4, ... (at most parallel at a
// time), stopping at the first batch with an error, so a template the API refuses costs one
// request, not n.
func (c *Controller) create(ctx context.Context, key string, rs *api.ReplicaSet, n int) error {
	for batch := 1; n > 0; batch *= 2 {
		size := min(batch, n)
		n -= size
		errs := make([]error, size)
		sem := make(chan struct{}, parallel)
		var wg sync.WaitGroup
		for i := range size {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				pod, err := c.client.Pods(rs.Namespace).Create(ctx, newPod(rs))
				switch {
				case err == nil:
					c.remember(key, func(r *recentOps) { r.creates[pod.Name] = c.now() })
				case isForbidden(err):
					// The namespace is going, and the ReplicaSet with it.
				default:
					errs[i] = fmt.Errorf("create pod for replicaset %s: %w", key, err)
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
	c.log.Debug("replicaset controller: created pods", "key", key)
	return nil
}

// delete deletes pods (at most parallel at a time), each only if it is still the same Pod, and
// returns the UIDs that are gone or going.
func (c *Controller) delete(ctx context.Context, key string, pods []*api.Pod) (map[string]bool, error) {
	var mu sync.Mutex
	gone := map[string]bool{}
	errs := make([]error, len(pods))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, p := range pods {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			uid := p.UID
			err := c.client.Pods(p.Namespace).Delete(ctx, p.Name, &api.DeleteOptions{Preconditions: &api.Preconditions{UID: &uid}})
			switch {
			case err == nil:
				c.remember(key, func(r *recentOps) { r.deletes[uid] = deleted{name: p.Name, at: c.now()} })
			case client.IsNotFound(err), client.IsConflict(err):
			default:
				errs[i] = fmt.Errorf("delete pod %s/%s of replicaset %s: %w", p.Namespace, p.Name, key, err)
				return
			}
			mu.Lock()
			gone[uid] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	c.log.Debug("replicaset controller: deleted pods", "key", key, "count", len(gone))
	return gone, errors.Join(errs...)
}

// adopt makes rs the controller of the orphan pod; it returns the Pod as stored, or nil if the
// Pod changed meanwhile (its next event brings it back).
func (c *Controller) adopt(ctx context.Context, rs *api.ReplicaSet, pod *api.Pod) (*api.Pod, error) {
	p := api.DeepCopy(pod)
	p.OwnerReferences = append(p.OwnerReferences, ownerRef(rs))
	out, err := c.client.Pods(p.Namespace).Update(ctx, p)
	switch {
	case err == nil:
		c.log.Debug("replicaset controller: adopted", "key", rs.Key(), "pod", p.Name)
		return out, nil
	case client.IsConflict(err), client.IsNotFound(err):
		return nil, nil
	}
	return nil, fmt.Errorf("adopt pod %s/%s for replicaset %s: %w", p.Namespace, p.Name, rs.Key(), err)
}

// release removes rs's owner reference from pod, which no longer matches its selector.
func (c *Controller) release(ctx context.Context, rs *api.ReplicaSet, pod *api.Pod) error {
	p := api.DeepCopy(pod)
	p.OwnerReferences = slices.DeleteFunc(p.OwnerReferences, func(r api.OwnerReference) bool { return r.UID == rs.UID })
	_, err := c.client.Pods(p.Namespace).Update(ctx, p)
	switch {
	case err == nil:
		c.log.Debug("replicaset controller: released", "key", rs.Key(), "pod", p.Name)
		return nil
	case client.IsConflict(err), client.IsNotFound(err):
		return nil
	}
	return fmt.Errorf("release pod %s/%s from replicaset %s: %w", p.Namespace, p.Name, rs.Key(), err)
}

// writeStatus stores st as rs's status if it differs.
func (c *Controller) writeStatus(ctx context.Context, rs *api.ReplicaSet, st api.ReplicaSetStatus) error {
	if rs.Status == st {
		return nil
	}
	cp := api.DeepCopy(rs)
	cp.Status = st
	_, err := c.client.ReplicaSets(rs.Namespace).UpdateStatus(ctx, cp)
	switch {
	case err == nil, client.IsConflict(err), client.IsNotFound(err):
		return nil // a newer ReplicaSet is on its way through the informer, with another sync
	}
	return fmt.Errorf("write status of replicaset %s: %w", rs.Key(), err)
}

// isForbidden reports a 403, such as a create in a namespace that is being deleted.
func isForbidden(err error) bool {
	var se *client.StatusError
	return errors.As(err, &se) && se.Status.Code == http.StatusForbidden
}
