// Package gc is a small garbage collector: it deletes the Pods and Endpoints whose controller
// (the owner reference marked controller) no longer exists, as Kubernetes' garbage collector does
// with background propagation: the owner goes at once, its dependents after it.
//
//	Pods, Endpoints ─ informers ─ a dependent with a controller ─┐
//	ReplicaSets, Services ─ informers ─ an owner deleted ────────┴─ queue ─ sync(kind/ns/name)
//	                                  owner in the cache? else GET it ◄───────┘
//	                                  gone, or another UID: delete the dependent
//
// An owner is the object of the reference's apiVersion and kind, of the dependent's namespace,
// with the reference's name and UID: one of the same name but another UID is a different object,
// and its dependents are garbage too. The cache is asked first and a GET confirms, so an owner
// that the cache has not seen yet is never taken for gone. An owner that is being deleted (it
// has a deletionTimestamp while finalizers run, as `delete --cascade=orphan` does) still exists.
package gc

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
	"github.com/minik8s/minik8s/client/cache"
	"github.com/minik8s/minik8s/client/workqueue"
)

// dependentKinds are the kinds whose objects are collected; ownerKinds those whose deletion is
// watched for. An owner of any other known kind is checked by GET alone.
var (
	dependentKinds = []string{"pods", "endpoints"}
	ownerKinds     = []string{"replicasets", "services"}
)

// Collector deletes orphaned dependents. It is level-triggered and safe to restart: each
// deletion is conditional on the dependent's UID.
type Collector struct {
	client     *client.Client
	log        *slog.Logger
	dependents map[string]*cache.Informer // by resource name
	owners     map[*api.Resource]*cache.Informer
	queue      *workqueue.Queue
}

// New returns a garbage collector that works through c and logs to log. Call Run to start it.
func New(c *client.Client, log *slog.Logger) *Collector {
	if log == nil {
		log = slog.Default()
	}
	g := &Collector{client: c, log: log, dependents: map[string]*cache.Informer{}, owners: map[*api.Resource]*cache.Informer{}}
	g.queue = workqueue.New(workqueue.WithName("gc"), workqueue.WithBackoff(100*time.Millisecond, 30*time.Second),
		workqueue.WithErrorHandler(func(key string, err error) {
			g.log.Warn("garbage collector: sync failed", "key", key, "err", err)
		}))
	for _, name := range dependentKinds {
		res := api.LookupResource(name)
		inf := cache.New(c.Resource(res, ""), client.ListOptions{}, log)
		enqueue := func(o api.Object) {
			if o.GetObjectMeta().ControllerOf() != nil {
				g.queue.Add(name + "/" + o.GetObjectMeta().Key())
			}
		}
		inf.AddHandler(cache.Handler{OnAdd: enqueue, OnUpdate: func(_, cur api.Object) { enqueue(cur) }})
		g.dependents[name] = inf
	}
	for _, name := range ownerKinds {
		res := api.LookupResource(name)
		inf := cache.New(c.Resource(res, ""), client.ListOptions{}, log)
		inf.AddHandler(cache.Handler{OnDelete: func(o api.Object) { g.enqueueDependentsOf(o) }})
		g.owners[res] = inf
	}
	return g
}

// Run collects garbage until ctx ends. Call it once.
func (g *Collector) Run(ctx context.Context) {
	var all []*cache.Informer
	for _, inf := range g.dependents {
		all = append(all, inf)
	}
	for _, inf := range g.owners {
		all = append(all, inf)
	}
	cache.RunAll(ctx, all, func() {
		g.log.Info("garbage collector: started")
		g.queue.Run(ctx, 2, g.sync)
	})
	g.queue.ShutDown()
}

// enqueueDependentsOf queues the dependents whose controller is owner.
func (g *Collector) enqueueDependentsOf(owner api.Object) {
	m := owner.GetObjectMeta()
	for name, inf := range g.dependents {
		for _, o := range inf.List() {
			dm := o.GetObjectMeta()
			if ref := dm.ControllerOf(); ref != nil && ref.UID == m.UID && dm.Namespace == m.Namespace {
				g.queue.Add(name + "/" + dm.Key())
			}
		}
	}
}

// sync deletes the dependent named key ("pods/ns/name") if its controller is gone. Idempotent.
func (g *Collector) sync(ctx context.Context, key string) error {
	kind, nsName, _ := strings.Cut(key, "/")
	inf := g.dependents[kind]
	if inf == nil {
		return nil
	}
	obj, ok := inf.Get(nsName)
	if !ok {
		return nil
	}
	meta := obj.GetObjectMeta()
	ref := meta.ControllerOf()
	if ref == nil || meta.DeletionTimestamp != nil {
		return nil
	}
	gone, err := g.ownerGone(ctx, meta.Namespace, *ref)
	if err != nil || !gone {
		return err
	}
	uid := meta.UID
	background := "Background"
	err = g.client.Resource(api.LookupResource(kind), meta.Namespace).Delete(ctx, meta.Name,
		&api.DeleteOptions{Preconditions: &api.Preconditions{UID: &uid}, PropagationPolicy: &background})
	switch {
	case err == nil:
		g.log.Debug("garbage collector: deleted", "key", key, "owner", ref.Kind+"/"+ref.Name)
		return nil
	case client.IsNotFound(err), client.IsConflict(err):
		return nil
	}
	return fmt.Errorf("delete %s, whose %s %s is gone: %w", key, ref.Kind, ref.Name, err)
}

// ownerGone reports whether the owner ref names in ns no longer exists: the cache first, then a
// GET to be sure. Owners of kinds the API does not know are never taken for gone.
func (g *Collector) ownerGone(ctx context.Context, ns string, ref api.OwnerReference) (bool, error) {
	res := api.LookupKind(ref.APIVersion, ref.Kind)
	if res == nil {
		return false, nil
	}
	if !res.Namespaced {
		ns = ""
	}
	key := ref.Name
	if ns != "" {
		key = ns + "/" + ref.Name
	}
	if inf := g.owners[res]; inf != nil {
		if o, ok := inf.Get(key); ok && o.GetObjectMeta().UID == ref.UID {
			return false, nil
		}
	}
	o, err := g.client.Resource(res, ns).Get(ctx, ref.Name)
	switch {
	case err == nil:
		return o.GetObjectMeta().UID != ref.UID, nil
	case client.IsNotFound(err):
		return true, nil
	}
	return false, fmt.Errorf("get %s %s: %w", ref.Kind, key, err)
}
