package endpoints

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
	"github.com/minik8s/minik8s/client/cache"
	"github.com/minik8s/minik8s/client/workqueue"
)

// LabelHeadless marks the Endpoints of a headless Service, as Kubernetes does.
const LabelHeadless = "service.kubernetes.io/headless"

// Controller keeps the Endpoints of every Service with a selector (see the package doc). It is
// level-triggered and safe to restart at any time: it learns everything from the API server,
// and its writes are compare-and-swaps on resourceVersion.
type Controller struct {
	client    *client.Client
	log       *slog.Logger
	services  *cache.Informer
	pods      *cache.Informer
	endpoints *cache.Informer
	queue     *workqueue.Queue
}

// New returns an endpoints controller that works through c and logs to log. Call Run to start
// it.
func New(c *client.Client, log *slog.Logger) *Controller {
	if log == nil {
		log = slog.Default()
	}
	ctl := &Controller{
		client:    c,
		log:       log,
		services:  cache.New(c.Services("").Dynamic(), client.ListOptions{}, log),
		pods:      cache.New(c.Pods("").Dynamic(), client.ListOptions{}, log),
		endpoints: cache.New(c.Endpoints("").Dynamic(), client.ListOptions{}, log),
	}
	ctl.queue = workqueue.New(workqueue.WithName("endpoints"), workqueue.WithBackoff(100*time.Millisecond, 30*time.Second),
		workqueue.WithErrorHandler(func(key string, err error) {
			ctl.log.Warn("endpoints controller: sync failed", "key", key, "err", err)
		}))
	ctl.services.AddHandler(cache.EnqueueHandler(ctl.queue))
	// A change to an Endpoints (ours, or someone else's write or delete) is checked against its
	// Service, so a tampered or deleted one comes back.
	ctl.endpoints.AddHandler(cache.EnqueueHandler(ctl.queue))
	ctl.pods.AddHandler(cache.Handler{
		OnAdd: func(obj api.Object) { ctl.enqueueServicesOf(obj.(*api.Pod)) },
		OnUpdate: func(old, cur api.Object) {
			prev, pod := old.(*api.Pod), cur.(*api.Pod)
			if !podChanged(prev, pod) {
				return
			}
			ctl.enqueueServicesOf(pod)
			if !maps.Equal(prev.Labels, pod.Labels) {
				ctl.enqueueServicesOf(prev)
			}
		},
		OnDelete: func(obj api.Object) { ctl.enqueueServicesOf(obj.(*api.Pod)) },
	})
	return ctl
}

// Run keeps the Endpoints with the given number of workers until ctx ends. Call it once.
func (c *Controller) Run(ctx context.Context, workers int) {
	cache.RunAll(ctx, []*cache.Informer{c.services, c.pods, c.endpoints}, func() {
		c.log.Info("endpoints controller: started", "workers", workers)
		c.queue.Run(ctx, workers, c.sync)
	})
	c.queue.ShutDown()
}

// enqueueServicesOf queues the Services of pod's namespace whose selector matches its labels.
func (c *Controller) enqueueServicesOf(pod *api.Pod) {
	for _, obj := range c.services.List() {
		svc := obj.(*api.Service)
		if svc.Namespace == pod.Namespace && len(svc.Spec.Selector) > 0 &&
			api.SelectorFromSet(svc.Spec.Selector).Matches(pod.Labels) {
			c.queue.Add(svc.Key())
		}
	}
}

// podChanged reports a change that can move a Pod in or out of an Endpoints.
func podChanged(a, b *api.Pod) bool {
	return a.UID != b.UID || !maps.Equal(a.Labels, b.Labels) ||
		a.Status.PodIP != b.Status.PodIP || a.Status.Phase != b.Status.Phase || podReady(a) != podReady(b) ||
		(a.DeletionTimestamp == nil) != (b.DeletionTimestamp == nil) ||
		a.Spec.NodeName != b.Spec.NodeName || a.Spec.Hostname != b.Spec.Hostname || a.Spec.Subdomain != b.Spec.Subdomain ||
		!slices.EqualFunc(a.Spec.Containers, b.Spec.Containers, func(x, y api.Container) bool { return slices.Equal(x.Ports, y.Ports) })
}

// sync brings the Endpoints named key in line with its Service. It is idempotent. A write that
// loses to a newer Endpoints, or a create of one that exists already, is dropped: the informer
// brings that version, and with it another sync.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, _ := strings.Cut(key, "/")
	obj, ok := c.services.Get(key)
	if !ok {
		return c.deleteOwned(ctx, ns, name)
	}
	svc := obj.(*api.Service)
	if len(svc.Spec.Selector) == 0 {
		return nil // the user's Endpoints, if any
	}
	var pods []*api.Pod
	for _, o := range c.pods.List() {
		if p := o.(*api.Pod); p.Namespace == ns {
			pods = append(pods, p)
		}
	}
	subsets := Subsets(svc, pods)
	labels := maps.Clone(svc.Labels)
	if svc.Spec.ClusterIP == api.ClusterIPNone {
		if labels == nil {
			labels = map[string]string{}
		}
		labels[LabelHeadless] = ""
	}

	var cur *api.Endpoints
	if o, ok := c.endpoints.Get(key); ok {
		cur = o.(*api.Endpoints)
	}
	if cur == nil {
		ep := &api.Endpoints{
			ObjectMeta: api.ObjectMeta{Namespace: ns, Name: name, Labels: labels, OwnerReferences: []api.OwnerReference{ownerRef(svc)}},
			Subsets:    subsets,
		}
		_, err := c.client.Endpoints(ns).Create(ctx, ep)
		switch {
		case err == nil:
			c.log.Debug("endpoints controller: created", "key", key, "subsets", len(subsets))
			return nil
		case client.IsAlreadyExists(err), isForbidden(err):
			// Not seen yet, or the namespace is going (and the Service with it).
			c.log.Debug("endpoints controller: create dropped", "key", key, "err", err)
			return nil
		}
		return fmt.Errorf("create endpoints %s: %w", key, err)
	}
	owners, ownersChanged := withOwner(cur.OwnerReferences, svc)
	if equalSubsets(cur.Subsets, subsets) && maps.Equal(cur.Labels, labels) && !ownersChanged {
		return nil
	}
	ep := api.DeepCopy(cur)
	ep.Subsets, ep.Labels, ep.OwnerReferences = subsets, labels, owners
	_, err := c.client.Endpoints(ns).Update(ctx, ep)
	switch {
	case err == nil:
		c.log.Debug("endpoints controller: updated", "key", key, "subsets", len(subsets))
		return nil
	case client.IsConflict(err), client.IsNotFound(err):
		c.log.Debug("endpoints controller: update dropped", "key", key, "err", err)
		return nil
	}
	return fmt.Errorf("update endpoints %s: %w", key, err)
}

// deleteOwned deletes the Endpoints ns/name if a Service owns it; Endpoints that a user made
// without a Service are left alone.
func (c *Controller) deleteOwned(ctx context.Context, ns, name string) error {
	o, ok := c.endpoints.Get(ns + "/" + name)
	if !ok {
		return nil
	}
	ep := o.(*api.Endpoints)
	if !slices.ContainsFunc(ep.OwnerReferences, func(r api.OwnerReference) bool { return isServiceRef(r) && r.Name == name }) {
		return nil
	}
	uid := ep.UID
	err := c.client.Endpoints(ns).Delete(ctx, name, &api.DeleteOptions{Preconditions: &api.Preconditions{UID: &uid}})
	switch {
	case err == nil:
		c.log.Debug("endpoints controller: deleted", "key", ns+"/"+name)
		return nil
	case client.IsNotFound(err), client.IsConflict(err):
		return nil
	}
	return fmt.Errorf("delete endpoints %s/%s: %w", ns, name, err)
}

func ownerRef(svc *api.Service) api.OwnerReference {
	yes := true
	return api.OwnerReference{APIVersion: "v1", Kind: "Service", Name: svc.Name, UID: svc.UID, Controller: &yes, BlockOwnerDeletion: &yes}
}

func isServiceRef(r api.OwnerReference) bool { return r.APIVersion == "v1" && r.Kind == "Service" }

// withOwner returns refs with svc as the one Service owner, keeping the other owners, and
// whether that is a change.
func withOwner(refs []api.OwnerReference, svc *api.Service) ([]api.OwnerReference, bool) {
	want := ownerRef(svc)
	i := slices.IndexFunc(refs, isServiceRef)
	if i >= 0 && ownerRefEqual(refs[i], want) && !slices.ContainsFunc(refs[i+1:], isServiceRef) {
		return refs, false
	}
	out := slices.DeleteFunc(slices.Clone(refs), isServiceRef)
	return append(out, want), true
}

func ownerRefEqual(a, b api.OwnerReference) bool {
	flag := func(p *bool) bool { return p != nil && *p }
	return a.APIVersion == b.APIVersion && a.Kind == b.Kind && a.Name == b.Name && a.UID == b.UID &&
		flag(a.Controller) == flag(b.Controller) && flag(a.BlockOwnerDeletion) == flag(b.BlockOwnerDeletion)
}

// isForbidden reports a 403, such as a create in a namespace that is being deleted.
func isForbidden(err error) bool {
	var se *client.StatusError
	return errors.As(err, &se) && se.Status.Code == http.StatusForbidden
}
