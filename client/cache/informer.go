// Package cache is the watch cache ("informer") that controllers and agents read the cluster
// through: it lists a kind once, then watches from the list's revision, keeps every object in
// memory, and tells handlers what changed. When the server says the revision is too old (410),
// it lists again and reports the difference, so a handler never misses a change.
//
// Objects handed out are shared with the cache: callers must not change them; copy first
// (api.DeepCopy).
package cache

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
	"github.com/minik8s/minik8s/client/workqueue"
)

// Handler is told about changes. Handlers should only enqueue keys; they run on the
// informer's goroutine, one event at a time. Nil functions are skipped.
type Handler struct {
	OnAdd    func(obj api.Object)
	OnUpdate func(old, cur api.Object)
	OnDelete func(obj api.Object)
}

// Source is what an informer lists and watches: a client.Dynamic fits.
type Source interface {
	List(ctx context.Context, opts client.ListOptions) ([]api.Object, string, error)
	Watch(ctx context.Context, opts client.ListOptions) (<-chan client.Event, error)
}

// Informer caches one kind. It is safe for concurrent use.
type Informer struct {
	src  Source
	opts client.ListOptions
	log  *slog.Logger

	mu       sync.RWMutex
	items    map[string]api.Object
	handlers []Handler
	synced   atomic.Bool
	syncedCh chan struct{}
	once     sync.Once
}

// New returns an informer over src, narrowed by the label and field selectors in opts.
func New(src Source, opts client.ListOptions, log *slog.Logger) *Informer {
	if log == nil {
		log = slog.Default()
	}
	opts.ResourceVersion = ""
	return &Informer{src: src, opts: opts, log: log, items: map[string]api.Object{}, syncedCh: make(chan struct{})}
}

// AddHandler registers h. Handlers added before Run see every object as an add.
func (i *Informer) AddHandler(h Handler) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.handlers = append(i.handlers, h)
}

// Run lists and watches until ctx ends.
func (i *Informer) Run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		rv, err := i.relist(ctx)
		if err != nil {
			if ctx.Err() == nil {
				i.log.Warn("informer: list failed", "err", err)
			}
			sleep(ctx, backoff)
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		// Watch from rv, resuming from the last event seen, until the server says the
		// revision is gone; then list again.
		for ctx.Err() == nil {
			next, gone, err := i.watch(ctx, rv)
			if gone {
				break
			}
			if err != nil && ctx.Err() == nil {
				i.log.Warn("informer: watch failed", "err", err)
				sleep(ctx, backoff)
				backoff = min(backoff*2, 5*time.Second)
			} else {
				backoff = 100 * time.Millisecond
			}
			rv = next
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// relist replaces the cache with a fresh list, telling handlers the difference.
func (i *Informer) relist(ctx context.Context) (string, error) {
	objs, rv, err := i.src.List(ctx, i.opts)
	if err != nil {
		return "", err
	}
	fresh := make(map[string]api.Object, len(objs))
	for _, o := range objs {
		fresh[o.GetObjectMeta().Key()] = o
	}
	i.mu.Lock()
	old := i.items
	i.items = fresh
	handlers := append([]Handler(nil), i.handlers...)
	i.mu.Unlock()
	for k, o := range fresh {
		if prev, ok := old[k]; ok {
			if prev.GetObjectMeta().ResourceVersion != o.GetObjectMeta().ResourceVersion {
				notify(handlers, api.Modified, prev, o)
			}
		} else {
			notify(handlers, api.Added, nil, o)
		}
	}
	for k, o := range old {
		if _, ok := fresh[k]; !ok {
			notify(handlers, api.Deleted, nil, o)
		}
	}
	i.once.Do(func() {
		i.synced.Store(true)
		close(i.syncedCh)
	})
	return rv, nil
}

// watch applies events after rv; it returns the last revision seen, and gone=true when the
// server no longer has rv.
func (i *Informer) watch(ctx context.Context, rv string) (string, bool, error) {
	opts := i.opts
	opts.ResourceVersion = rv
	events, err := i.src.Watch(ctx, opts)
	if err != nil {
		return rv, client.IsGone(err), err
	}
	for ev := range events {
		if ev.Type == api.Error {
			if ev.Status != nil && ev.Status.Code == 410 {
				return rv, true, nil
			}
			continue
		}
		if ev.Object == nil {
			continue
		}
		rv = ev.Object.GetObjectMeta().ResourceVersion
		i.apply(ev)
	}
	return rv, false, nil
}

func (i *Informer) apply(ev client.Event) {
	key := ev.Object.GetObjectMeta().Key()
	i.mu.Lock()
	prev, had := i.items[key]
	if ev.Type == api.Deleted {
		delete(i.items, key)
	} else {
		i.items[key] = ev.Object
	}
	handlers := append([]Handler(nil), i.handlers...)
	i.mu.Unlock()
	switch {
	case ev.Type == api.Deleted:
		notify(handlers, api.Deleted, nil, ev.Object)
	case had:
		notify(handlers, api.Modified, prev, ev.Object)
	default:
		notify(handlers, api.Added, nil, ev.Object)
	}
}

func notify(handlers []Handler, typ string, old, cur api.Object) {
	for _, h := range handlers {
		switch {
		case typ == api.Added && h.OnAdd != nil:
			h.OnAdd(cur)
		case typ == api.Modified && h.OnUpdate != nil:
			h.OnUpdate(old, cur)
		case typ == api.Deleted && h.OnDelete != nil:
			h.OnDelete(cur)
		}
	}
}

// HasSynced reports whether the first list has been loaded.
func (i *Informer) HasSynced() bool { return i.synced.Load() }

// WaitForSync blocks until the first list is loaded or ctx ends, and reports which.
func (i *Informer) WaitForSync(ctx context.Context) bool {
	select {
	case <-i.syncedCh:
		return true
	case <-ctx.Done():
		return false
	}
}

// RunAll runs the informers until ctx ends and waits for their first lists; once they all have
// listed, it calls work (a controller's workers, which return when ctx ends). It returns when
// work has returned (or ctx ended before the lists) and the informers have stopped.
func RunAll(ctx context.Context, infs []*Informer, work func()) {
	var wg sync.WaitGroup
	for _, inf := range infs {
		wg.Go(func() { inf.Run(ctx) })
	}
	synced := true
	for _, inf := range infs {
		synced = synced && inf.WaitForSync(ctx)
	}
	if synced {
		work()
	}
	wg.Wait()
}

// Get returns the cached object with key "namespace/name" (or "name").
func (i *Informer) Get(key string) (api.Object, bool) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	o, ok := i.items[key]
	return o, ok
}

// List returns the cached objects sorted by key.
func (i *Informer) List() []api.Object {
	i.mu.RLock()
	out := make([]api.Object, 0, len(i.items))
	for _, o := range i.items {
		out = append(out, o)
	}
	i.mu.RUnlock()
	sort.Slice(out, func(a, b int) bool { return out[a].GetObjectMeta().Key() < out[b].GetObjectMeta().Key() })
	return out
}

// EnqueueHandler returns a Handler that puts the key of every changed object on q: the usual
// way to connect an informer to a controller.
func EnqueueHandler(q *workqueue.Queue) Handler {
	add := func(o api.Object) { q.Add(o.GetObjectMeta().Key()) }
	return Handler{
		OnAdd:    add,
		OnUpdate: func(_, cur api.Object) { add(cur) },
		OnDelete: add,
	}
}

// Restore fills an informer that has not listed yet with objects saved earlier (a checkpoint),
// and tells the handlers about them, so that an agent that starts while the API server is
// down can go on with what it last knew. The first successful list replaces them, reporting
// the difference. HasSynced stays false until then.
func (i *Informer) Restore(objs []api.Object) {
	i.mu.Lock()
	if i.synced.Load() || len(i.items) > 0 {
		i.mu.Unlock()
		return
	}
	for _, o := range objs {
		i.items[o.GetObjectMeta().Key()] = o
	}
	handlers := append([]Handler(nil), i.handlers...)
	i.mu.Unlock()
	for _, o := range objs {
		notify(handlers, api.Added, nil, o)
	}
}
