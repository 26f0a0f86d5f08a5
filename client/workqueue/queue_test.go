package workqueue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(time.Millisecond)
	}
}

// getWithin calls Get in a goroutine and fails the test if it does not return
// within timeout.
func getWithin(t *testing.T, q *Queue, timeout time.Duration) (string, bool) {
	t.Helper()
	type res struct {
		key      string
		shutdown bool
	}
	ch := make(chan res, 1)
	go func() {
		k, s := q.Get()
		ch <- res{k, s}
	}()
	select {
	case r := <-ch:
		return r.key, r.shutdown
	case <-time.After(timeout):
		q.ShutDown() // release the goroutine
		t.Fatalf("Get did not return within %v", timeout)
		return "", false
	}
}

func TestDedup(t *testing.T) {
	q := New(WithName("test"))
	defer q.ShutDown()
	if q.Name() != "test" {
		t.Fatalf("Name() = %q", q.Name())
	}
	for _, k := range []string{"a", "b", "a", "a", "b", "c"} {
		q.Add(k)
	}
	if got := q.Len(); got != 3 {
		t.Fatalf("Len() = %d, want 3", got)
	}
	for _, want := range []string{"a", "b", "c"} {
		k, shut := q.Get()
		if shut || k != want {
			t.Fatalf("Get() = %q, %v; want %q, false", k, shut, want)
		}
		q.Done(k)
	}
	if got := q.Len(); got != 0 {
		t.Fatalf("Len() = %d after draining, want 0", got)
	}
}

func TestRequeueWhileProcessing(t *testing.T) {
	q := New()
	defer q.ShutDown()
	q.Add("a")
	k, _ := q.Get()
	if k != "a" {
		t.Fatalf("Get() = %q", k)
	}
	// Added while processing: must not be handed out yet.
	q.Add("a")
	q.Add("a")
	if got := q.Len(); got != 0 {
		t.Fatalf("Len() = %d while a is processing, want 0", got)
	}
	q.Add("b")
	if k, _ := q.Get(); k != "b" {
		t.Fatalf("Get() = %q, want b (a is processing)", k)
	}
	q.Done("b")
	if got := q.Len(); got != 0 {
		t.Fatalf("Len() = %d, want 0", got)
	}
	q.Done("a")
	if got := q.Len(); got != 1 {
		t.Fatalf("Len() = %d after Done(a), want 1 (requeued once)", got)
	}
	if k, _ := getWithin(t, q, time.Second); k != "a" {
		t.Fatalf("Get() = %q, want a", k)
	}
	q.Done("a")
	if got := q.Len(); got != 0 {
		t.Fatalf("Len() = %d, want 0 (not re-added)", got)
	}
	// Done for a key that is not processing is a no-op.
	q.Done("zzz")
	if got := q.Len(); got != 0 {
		t.Fatalf("Len() = %d after stray Done, want 0", got)
	}
}

// TestNoConcurrentProcessing hammers the queue with concurrent Adds and
// several workers, checking that no key is ever processed by two workers at
// once and that no Add is lost (every key is eventually processed after its
// last Add).
func TestNoConcurrentProcessing(t *testing.T) {
	const (
		keys    = 8
		adders  = 16
		perAdd  = 300
		workers = 6
	)
	q := New()
	var (
		active     [keys]atomic.Int32
		version    [keys]atomic.Int64 // bumped before every Add
		seen       [keys]atomic.Int64 // version observed at the start of the last sync
		violations atomic.Int32
		syncs      atomic.Int64
	)
	idx := func(key string) int {
		var i int
		fmt.Sscanf(key, "k%d", &i)
		return i
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		q.Run(ctx, workers, func(ctx context.Context, key string) error {
			i := idx(key)
			if active[i].Add(1) != 1 {
				violations.Add(1)
			}
			seen[i].Store(version[i].Load())
			syncs.Add(1)
			if syncs.Load()%7 == 0 {
				time.Sleep(50 * time.Microsecond)
			}
			active[i].Add(-1)
			return nil
		})
	}()

	var wg sync.WaitGroup
	for a := range adders {
		wg.Go(func() {
			for n := range perAdd {
				i := (a + n) % keys
				version[i].Add(1)
				q.Add(fmt.Sprintf("k%d", i))
			}
		})
	}
	wg.Wait()

	waitFor(t, "every key processed after its last Add", 10*time.Second, func() bool {
		for i := range keys {
			if seen[i].Load() != version[i].Load() {
				return false
			}
		}
		return true
	})
	cancel()
	select {
	case <-runDone:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if v := violations.Load(); v != 0 {
		t.Fatalf("%d times a key was processed concurrently", v)
	}
	t.Logf("%d syncs for %d adds", syncs.Load(), adders*perAdd)
}

func TestAddAfterOrderingAndTiming(t *testing.T) {
	q := New()
	defer q.ShutDown()
	start := time.Now()
	delays := map[string]time.Duration{
		"c": 90 * time.Millisecond,
		"a": 30 * time.Millisecond,
		"b": 60 * time.Millisecond,
	}
	q.AddAfter("c", delays["c"])
	q.AddAfter("a", delays["a"])
	q.AddAfter("b", delays["b"])
	q.AddAfter("b", 200*time.Millisecond) // later deadline: ignored, b stays at 60ms
	if got := q.Len(); got != 0 {
		t.Fatalf("Len() = %d right after AddAfter, want 0", got)
	}
	for _, want := range []string{"a", "b", "c"} {
		k, shut := getWithin(t, q, 5*time.Second)
		el := time.Since(start)
		if shut || k != want {
			t.Fatalf("Get() = %q, %v; want %q", k, shut, want)
		}
		if el < delays[want] {
			t.Fatalf("%s ready after %v, before its delay %v", k, el, delays[want])
		}
		if el > delays[want]+3*time.Second {
			t.Fatalf("%s ready after %v, far past its delay %v", k, el, delays[want])
		}
		q.Done(k)
	}
	// b must have been delivered once only.
	waitFor(t, "delay heap empty", time.Second, func() bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		return len(q.waiting) == 0
	})
	if got := q.Len(); got != 0 {
		t.Fatalf("Len() = %d, want 0", got)
	}
}

func TestAddAfterEarlierDeadlineWinsAndEqualDeadlinesFIFO(t *testing.T) {
	q := New()
	defer q.ShutDown()
	start := time.Now()
	q.AddAfter("x", time.Hour)
	q.AddAfter("x", 20*time.Millisecond) // moves x earlier
	k, _ := getWithin(t, q, 5*time.Second)
	if k != "x" {
		t.Fatalf("Get() = %q, want x", k)
	}
	if el := time.Since(start); el < 20*time.Millisecond {
		t.Fatalf("x ready after %v, before 20ms", el)
	}
	q.Done(k)

	// Same deadline: insertion order is kept (FIFO tie-break). Build the
	// entries under the lock so they share one deadline.
	at := time.Now().Add(20 * time.Millisecond)
	q.mu.Lock()
	for _, key := range []string{"p", "q", "r", "s"} {
		q.waitSeq++
		e := &waitEntry{key: key, at: at, seq: q.waitSeq}
		q.waiting.Push(e)
		q.waitingIdx[key] = e
	}
	q.armTimerLocked()
	q.mu.Unlock()
	for _, want := range []string{"p", "q", "r", "s"} {
		k, _ := getWithin(t, q, 5*time.Second)
		if k != want {
			t.Fatalf("Get() = %q, want %q", k, want)
		}
		q.Done(k)
	}
}

func TestAddAfterNonPositiveIsImmediate(t *testing.T) {
	q := New()
	defer q.ShutDown()
	q.AddAfter("a", 0)
	q.AddAfter("b", -time.Second)
	if got := q.Len(); got != 2 {
		t.Fatalf("Len() = %d, want 2", got)
	}
}

func TestBackoffGrowthAndForget(t *testing.T) {
	q := New(WithBackoff(time.Millisecond, 8*time.Millisecond))
	defer q.ShutDown()
	want := []time.Duration{1, 2, 4, 8, 8, 8}
	for i, w := range want {
		q.mu.Lock()
		got := q.nextBackoffLocked("k")
		q.mu.Unlock()
		if got != w*time.Millisecond {
			t.Fatalf("backoff %d = %v, want %v", i, got, w*time.Millisecond)
		}
	}
	if n := q.NumRequeues("k"); n != len(want) {
		t.Fatalf("NumRequeues = %d, want %d", n, len(want))
	}
	if n := q.NumRequeues("other"); n != 0 {
		t.Fatalf("NumRequeues(other) = %d, want 0", n)
	}
	q.Forget("k")
	if n := q.NumRequeues("k"); n != 0 {
		t.Fatalf("NumRequeues after Forget = %d, want 0", n)
	}
	q.mu.Lock()
	got := q.nextBackoffLocked("k")
	q.mu.Unlock()
	if got != time.Millisecond {
		t.Fatalf("backoff after Forget = %v, want 1ms", got)
	}

	// Very many failures saturate at max instead of overflowing.
	q.mu.Lock()
	q.failures["big"] = 10_000
	got = q.nextBackoffLocked("big")
	q.mu.Unlock()
	if got != 8*time.Millisecond {
		t.Fatalf("backoff after 10000 failures = %v, want max 8ms", got)
	}
}

func TestDefaultBackoff(t *testing.T) {
	q := New()
	defer q.ShutDown()
	q.mu.Lock()
	defer q.mu.Unlock()
	if got := q.nextBackoffLocked("k"); got != DefaultBackoffBase {
		t.Fatalf("first default backoff = %v, want %v", got, DefaultBackoffBase)
	}
	q.failures["k"] = 100
	if got := q.nextBackoffLocked("k"); got != DefaultBackoffMax {
		t.Fatalf("saturated default backoff = %v, want %v", got, DefaultBackoffMax)
	}
}

func TestAddRateLimitedWaits(t *testing.T) {
	q := New(WithBackoff(20*time.Millisecond, time.Second))
	defer q.ShutDown()
	for i, min := range []time.Duration{20 * time.Millisecond, 40 * time.Millisecond} {
		start := time.Now()
		q.AddRateLimited("k")
		if got := q.Len(); got != 0 {
			t.Fatalf("Len() = %d right after AddRateLimited, want 0", got)
		}
		k, _ := getWithin(t, q, 5*time.Second)
		if el := time.Since(start); el < min {
			t.Fatalf("rate-limited add %d ready after %v, want >= %v", i, el, min)
		}
		q.Done(k)
	}
	if n := q.NumRequeues("k"); n != 2 {
		t.Fatalf("NumRequeues = %d, want 2", n)
	}
}

func TestRunRetriesErrorsAndForgets(t *testing.T) {
	var (
		mu       sync.Mutex
		handled  []error
		attempts atomic.Int32
	)
	errBoom := errors.New("boom")
	q := New(
		WithBackoff(time.Millisecond, 10*time.Millisecond),
		WithErrorHandler(func(key string, err error) {
			mu.Lock()
			defer mu.Unlock()
			handled = append(handled, fmt.Errorf("%s: %w", key, err))
		}),
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	succeeded := make(chan struct{})
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		q.Run(ctx, 2, func(ctx context.Context, key string) error {
			if attempts.Add(1) <= 2 {
				return errBoom
			}
			close(succeeded)
			return nil
		})
	}()
	q.Add("k")
	select {
	case <-succeeded:
	case <-time.After(5 * time.Second):
		t.Fatal("sync never succeeded")
	}
	waitFor(t, "failure count forgotten", 5*time.Second, func() bool { return q.NumRequeues("k") == 0 })
	cancel()
	select {
	case <-runDone:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(handled) != 2 {
		t.Fatalf("error handler called %d times, want 2: %v", len(handled), handled)
	}
	for _, e := range handled {
		if !errors.Is(e, errBoom) {
			t.Fatalf("handler got %v, want boom", e)
		}
	}
	if n := attempts.Load(); n != 3 {
		t.Fatalf("sync called %d times, want 3", n)
	}
}

func TestRunStopsOnCancelAndWaitsForWorkers(t *testing.T) {
	q := New()
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	var finished atomic.Bool
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		q.Run(ctx, 3, func(ctx context.Context, key string) error {
			close(started)
			<-ctx.Done()
			time.Sleep(20 * time.Millisecond) // work that outlives the cancel
			finished.Store(true)
			return nil
		})
	}()
	q.Add("slow")
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("sync never started")
	}
	cancel()
	select {
	case <-runDone:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if !finished.Load() {
		t.Fatal("Run returned before its worker finished sync")
	}
	if !q.ShuttingDown() {
		t.Fatal("Run did not shut the queue down")
	}
}

func TestRunWithCancelledContextReturns(t *testing.T) {
	q := New()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		q.Run(ctx, 0, func(context.Context, string) error { return nil })
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run with a cancelled context did not return")
	}
}

func TestRunReturnsOnDirectShutDown(t *testing.T) {
	q := New()
	done := make(chan struct{})
	go func() {
		defer close(done)
		q.Run(context.Background(), 2, func(context.Context, string) error { return nil })
	}()
	q.ShutDown()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after ShutDown")
	}
}

func TestShutDownUnblocksGet(t *testing.T) {
	q := New()
	const getters = 5
	results := make(chan bool, getters)
	var waiting sync.WaitGroup
	for range getters {
		waiting.Go(func() {
			k, shut := q.Get()
			results <- shut && k == ""
		})
	}
	q.ShutDown()
	q.ShutDown() // idempotent
	done := make(chan struct{})
	go func() { waiting.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("ShutDown did not unblock every Get")
	}
	close(results)
	for ok := range results {
		if !ok {
			t.Fatal(`Get after ShutDown did not return ("", true)`)
		}
	}
	if !q.ShuttingDown() {
		t.Fatal("ShuttingDown() = false")
	}
}

func TestAfterShutDown(t *testing.T) {
	q := New()
	q.Add("queued")
	q.AddAfter("delayed", time.Hour)
	q.Add("proc")
	q.ShutDown()

	// Get returns shutdown immediately, even with keys still queued.
	if k, shut := getWithin(t, q, time.Second); !shut || k != "" {
		t.Fatalf(`Get() = %q, %v; want "", true`, k, shut)
	}
	q.Add("new")
	q.AddAfter("new2", time.Millisecond)
	q.AddRateLimited("new3")
	q.mu.Lock()
	nWaiting := len(q.waiting)
	q.mu.Unlock()
	if nWaiting != 0 {
		t.Fatalf("%d keys still waiting after ShutDown", nWaiting)
	}
	// "delayed" had an hour to go, so the timer cannot have fired: Stop
	// returning false proves ShutDown already stopped it.
	q.mu.Lock()
	armed := q.timer.Stop()
	q.mu.Unlock()
	if armed {
		t.Fatal("delay timer still armed after ShutDown")
	}
}
