package proxy

import (
	"context"
	"time"
)

// boundedRunner runs fn when asked, but not more often than once per minInterval (asks that
// come meanwhile are coalesced into one run at the end of it), and at least once per
// maxInterval. A run that fails is tried again after minInterval. It is
// kube-proxy's BoundedFrequencyRunner, cut to what the proxy needs.
type boundedRunner struct {
	fn          func(context.Context) error
	minInterval time.Duration
	maxInterval time.Duration
	kick        chan struct{}
}

func newBoundedRunner(fn func(context.Context) error, minInterval, maxInterval time.Duration) *boundedRunner {
	return &boundedRunner{fn: fn, minInterval: minInterval, maxInterval: maxInterval, kick: make(chan struct{}, 1)}
}

// Request asks for a run soon. It never blocks, and is safe to call from any goroutine.
func (r *boundedRunner) Request() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Loop runs fn as asked until ctx ends; the first run is at once.
func (r *boundedRunner) Loop(ctx context.Context) {
	var last time.Time
	pending := true
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.kick:
			pending = true
		case <-timer.C:
			// Either a deferred run is due or maxInterval passed without one: run.
			pending = true
		}
		if !pending {
			continue
		}
		if wait := r.minInterval - time.Since(last); !last.IsZero() && wait > 0 {
			timer.Reset(wait)
			continue
		}
		last = time.Now()
		pending = false
		if err := r.fn(ctx); err != nil && ctx.Err() == nil {
			pending = true
			timer.Reset(r.minInterval)
			continue
		}
		timer.Reset(r.maxInterval)
	}
}
