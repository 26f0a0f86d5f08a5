package workqueue

import (
	"container/heap"
	"context"
	"math"
	"sync"
	"time"
)

// Default per-key backoff bounds, the same as client-go's
// DefaultItemBasedRateLimiter.
const (
	DefaultBackoffBase = 5 * time.Millisecond
	DefaultBackoffMax  = 1000 * time.Second
)

// Option configures a Queue created by New.
type Option func(*config)

type config struct {
	name        string
	base, max   time.Duration
	errorHandle func(key string, err error)
}

// WithBackoff sets the per-key exponential backoff used by AddRateLimited:
// the n-th consecutive rate-limited add of a key (n counted from 0) waits
// base * 2^n, capped at max. A negative base is treated as 0 (no delay); a
// max below base is raised to base. The defaults are DefaultBackoffBase and
// DefaultBackoffMax.
func WithBackoff(base, max time.Duration) Option {
	return func(c *config) {
		if base < 0 {
			base = 0
		}
		if max < base {
			max = base
		}
		c.base, c.max = base, max
	}
}

// WithName names the queue; the name is returned by Name and is meant for
// logs and metrics. It does not change the queue's behaviour.
func WithName(name string) Option {
	return func(c *config) { c.name = name }
}

// WithErrorHandler sets a function that Run calls, from the worker
// goroutine, with every error returned by the sync function, before the key
// is re-added with AddRateLimited. It must be safe for concurrent use when
// Run has more than one worker. A nil handler is ignored.
func WithErrorHandler(h func(key string, err error)) Option {
	return func(c *config) { c.errorHandle = h }
}

// Queue is a deduplicating, rate-limited work queue of string keys that never
// hands out one key to two callers at once. See the package documentation
// for a key's life. The zero value is not usable; create queues with New.
// All methods are safe for concurrent use.
type Queue struct {
	cfg config

	mu   sync.Mutex
	cond *sync.Cond

	queue        []string            // ready keys, FIFO; each is in dirty and not in processing
	dirty        map[string]struct{} // keys that need processing (queued, or re-added while processing)
	processing   map[string]struct{} // keys handed out by Get and not yet Done
	shuttingDown bool

	waiting    waitHeap              // delayed keys, earliest first
	waitingIdx map[string]*waitEntry // key -> its entry in waiting
	waitSeq    uint64                // tie-breaker so equal deadlines keep insertion order
	timer      *time.Timer           // the single timer serving waiting; nil until first needed

	failures map[string]int // consecutive AddRateLimited calls per key, cleared by Forget
}

// New returns an empty, running Queue configured by opts.
func New(opts ...Option) *Queue {
	q := &Queue{
		cfg:        config{base: DefaultBackoffBase, max: DefaultBackoffMax},
		dirty:      make(map[string]struct{}),
		processing: make(map[string]struct{}),
		waitingIdx: make(map[string]*waitEntry),
		failures:   make(map[string]int),
	}
	for _, o := range opts {
		if o != nil {
			o(&q.cfg)
		}
	}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// Name returns the name set with WithName, or "".
func (q *Queue) Name() string { return q.cfg.name }

// Add marks key as needing processing. If key is already queued, Add does
// nothing; if key is being processed (handed out by Get and not yet Done),
// it is queued again when Done is called for it. After ShutDown, Add does
// nothing.
func (q *Queue) Add(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.addLocked(key)
}

func (q *Queue) addLocked(key string) {
	if q.shuttingDown {
		return
	}
	if _, ok := q.dirty[key]; ok {
		return
	}
	q.dirty[key] = struct{}{}
	if _, ok := q.processing[key]; ok {
		return // queued again by Done
	}
	q.queue = append(q.queue, key)
	q.cond.Signal()
}

// AddAfter Adds key once d has elapsed; if d <= 0 it Adds key at once. A key
// already waiting is kept once, with the earlier of its two deadlines. Keys
// whose deadlines fall due together become ready in the order they were
// added. Delays are served by one heap and one timer, not by a goroutine per
// call; ShutDown drops every waiting key. After ShutDown, AddAfter does
// nothing.
func (q *Queue) AddAfter(key string, d time.Duration) {
	if d <= 0 {
		q.Add(key)
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shuttingDown {
		return
	}
	at := time.Now().Add(d)
	if e, ok := q.waitingIdx[key]; ok {
		if !at.Before(e.at) {
			return
		}
		e.at = at
		heap.Fix(&q.waiting, e.index)
	} else {
		q.waitSeq++
		e := &waitEntry{key: key, at: at, seq: q.waitSeq}
		heap.Push(&q.waiting, e)
		q.waitingIdx[key] = e
	}
	q.armTimerLocked()
}

// armTimerLocked points the single timer at the earliest waiting deadline.
func (q *Queue) armTimerLocked() {
	if len(q.waiting) == 0 {
		if q.timer != nil {
			q.timer.Stop()
		}
		return
	}
	d := time.Until(q.waiting[0].at)
	if q.timer == nil {
		q.timer = time.AfterFunc(d, q.fire)
		return
	}
	q.timer.Reset(d)
}

// fire moves every due key from the delay heap to the queue and re-arms the
// timer. It tolerates stale firings (a deadline that was since replaced).
func (q *Queue) fire() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shuttingDown {
		return
	}
	now := time.Now()
	for len(q.waiting) > 0 && !q.waiting[0].at.After(now) {
		e := heap.Pop(&q.waiting).(*waitEntry)
		delete(q.waitingIdx, e.key)
		q.addLocked(e.key)
	}
	q.armTimerLocked()
}

// AddRateLimited AddAfters key with its backoff, base * 2^n capped at max
// (see WithBackoff), where n is NumRequeues(key), and then increments the
// key's failure count. After ShutDown, AddRateLimited does nothing.
func (q *Queue) AddRateLimited(key string) {
	q.mu.Lock()
	if q.shuttingDown {
		q.mu.Unlock()
		return
	}
	d := q.nextBackoffLocked(key)
	q.mu.Unlock()
	q.AddAfter(key, d)
}

// nextBackoffLocked returns key's current backoff and counts one more failure.
func (q *Queue) nextBackoffLocked(key string) time.Duration {
	n := q.failures[key]
	q.failures[key] = n + 1
	b := float64(q.cfg.base) * math.Pow(2, float64(n))
	if b >= float64(q.cfg.max) || math.IsInf(b, 0) || math.IsNaN(b) {
		return q.cfg.max
	}
	return time.Duration(b)
}

// Forget clears key's failure count, so its next AddRateLimited waits only
// the base delay. It does not remove key from the queue or the delay heap.
func (q *Queue) Forget(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.failures, key)
}

// NumRequeues returns how many times AddRateLimited has been called for key
// since it was last Forgotten.
func (q *Queue) NumRequeues(key string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.failures[key]
}

// Get blocks until a key is ready and returns it with shutdown == false; the
// key is then processing, and the caller must call Done(key) when finished
// with it. Once ShutDown has been called, Get returns ("", true) immediately,
// even if keys are still queued (they are dropped), and any blocked Get
// returns ("", true).
func (q *Queue) Get() (key string, shutdown bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.queue) == 0 && !q.shuttingDown {
		q.cond.Wait()
	}
	if q.shuttingDown {
		return "", true
	}
	key = q.queue[0]
	q.queue[0] = ""
	q.queue = q.queue[1:]
	if len(q.queue) == 0 {
		q.queue = nil // let the backing array go
	}
	delete(q.dirty, key)
	q.processing[key] = struct{}{}
	return key, false
}

// Done marks key as no longer processing. If key was Added while it was
// processing, it is queued again. Calling Done for a key that is not
// processing does nothing.
func (q *Queue) Done(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.processing[key]; !ok {
		return
	}
	delete(q.processing, key)
	if _, ok := q.dirty[key]; ok && !q.shuttingDown {
		q.queue = append(q.queue, key)
		q.cond.Signal()
	}
}

// Len returns the number of keys ready to be handed out by Get. It does not
// count keys being processed or keys waiting on a delay.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.queue)
}

// ShutDown stops the queue: blocked and future Gets return ("", true), later
// Adds of any kind are ignored, delayed keys are dropped and the delay timer
// is stopped. Done may still be called for keys that were processing.
// ShutDown is idempotent.
func (q *Queue) ShutDown() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shuttingDown {
		return
	}
	q.shuttingDown = true
	if q.timer != nil {
		q.timer.Stop()
	}
	q.waiting = nil
	clear(q.waitingIdx)
	q.cond.Broadcast()
}

// ShuttingDown reports whether ShutDown has been called.
func (q *Queue) ShuttingDown() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.shuttingDown
}

// Run is the standard worker loop. It starts workers goroutines (at least
// one), each of which repeatedly Gets a key, calls sync(ctx, key), then
// Forgets the key if sync returned nil, or passes the error to the
// WithErrorHandler handler (if any) and AddRateLimiteds the key; finally it
// calls Done. Because Get never hands out a key that is processing, sync is
// never running twice at once for the same key.
//
// When ctx is cancelled, Run calls ShutDown. Run returns once the queue is
// shut down (by ctx or by a direct ShutDown call) and every worker has
// returned from its current sync call. If sync panics, the key is still
// marked Done and the panic propagates.
func (q *Queue) Run(ctx context.Context, workers int, sync func(ctx context.Context, key string) error) {
	q.run(ctx, workers, sync)
}

func (q *Queue) run(ctx context.Context, workers int, fn func(ctx context.Context, key string) error) {
	if workers < 1 {
		workers = 1
	}
	stop := context.AfterFunc(ctx, q.ShutDown)
	defer stop()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for q.processNext(ctx, fn) {
			}
		})
	}
	wg.Wait()
}

// processNext handles one key; it returns false once the queue is shut down.
func (q *Queue) processNext(ctx context.Context, fn func(ctx context.Context, key string) error) bool {
	key, shutdown := q.Get()
	if shutdown {
		return false
	}
	defer q.Done(key)
	if err := fn(ctx, key); err != nil {
		if h := q.cfg.errorHandle; h != nil {
			h(key, err)
		}
		q.AddRateLimited(key)
		return true
	}
	q.Forget(key)
	return true
}

// waitEntry is a key waiting in the delay heap.
type waitEntry struct {
	key   string
	at    time.Time
	seq   uint64
	index int
}

// waitHeap is a min-heap of waitEntry by (at, seq).
type waitHeap []*waitEntry

func (h waitHeap) Len() int { return len(h) }
func (h waitHeap) Less(i, j int) bool {
	if h[i].at.Equal(h[j].at) {
		return h[i].seq < h[j].seq
	}
	return h[i].at.Before(h[j].at)
}
func (h waitHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *waitHeap) Push(x any) {
	e := x.(*waitEntry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *waitHeap) Pop() any {
	old := *h
	n := len(old)
	e := old[n-1]
	old[n-1] = nil
	e.index = -1
	*h = old[:n-1]
	return e
}
