package scheduler

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
)

// component is the name the scheduler reports Events under, as kube-scheduler does.
const component = api.DefaultSchedulerName

// recorder writes Events in the background, as client-go's event broadcaster does, so that
// recording never slows down a bind. When it falls far behind it drops Events rather than
// hold up scheduling. A repeated FailedScheduling with the same message bumps the count of
// the Pod's last such Event instead of adding one more ("x5 over 2m" in describe).
type recorder struct {
	c       *client.Client
	log     *slog.Logger
	ch      chan *api.Event
	dropped atomic.Int64

	mu   sync.Mutex
	last map[string]*api.Event // the last FailedScheduling Event by Pod key
}

const (
	recorderQueue   = 4096
	recorderWorkers = 4
	recorderMemory  = 10000 // Pods whose last FailedScheduling Event is remembered
)

func newRecorder(c *client.Client, log *slog.Logger) *recorder {
	return &recorder{c: c, log: log, ch: make(chan *api.Event, recorderQueue), last: map[string]*api.Event{}}
}

// record queues an Event about pod; it does not block.
func (r *recorder) record(pod *api.Pod, typ, reason, msg string) {
	now := api.Now()
	ev := &api.Event{
		// Named as client-go's recorder names Events: a generateName may not end in ".".
		ObjectMeta: api.ObjectMeta{Name: eventName(pod.Name), Namespace: pod.Namespace},
		InvolvedObject: api.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID,
			APIVersion: "v1", ResourceVersion: pod.ResourceVersion},
		Reason: reason, Message: msg, Type: typ, Count: 1, FirstTimestamp: now, LastTimestamp: now,
		Source: api.EventSource{Component: component}, ReportingComponent: component,
	}
	select {
	case r.ch <- ev:
	default:
		if r.dropped.Add(1)%100 == 1 {
			r.log.Warn("scheduler: event queue full, dropping events", "dropped", r.dropped.Load())
		}
	}
}

func eventName(pod string) string {
	return fmt.Sprintf("%s.%x", pod, time.Now().UnixNano())
}

// forget drops what is remembered about a Pod's Events.
func (r *recorder) forget(podKey string) {
	r.mu.Lock()
	delete(r.last, podKey)
	r.mu.Unlock()
}

// run writes queued Events until ctx ends.
func (r *recorder) run(ctx context.Context) {
	var wg sync.WaitGroup
	for range recorderWorkers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case ev := <-r.ch:
					r.write(ctx, ev)
				}
			}
		})
	}
	wg.Wait()
}

func (r *recorder) write(ctx context.Context, ev *api.Event) {
	podKey := ev.Namespace + "/" + ev.InvolvedObject.Name
	events := r.c.Events(ev.Namespace)
	if ev.Reason == reasonFailedScheduling {
		r.mu.Lock()
		prev := r.last[podKey]
		r.mu.Unlock()
		if prev != nil && prev.Message == ev.Message && prev.InvolvedObject.UID == ev.InvolvedObject.UID {
			patch, _ := json.Marshal(map[string]any{"count": prev.Count + 1, "lastTimestamp": ev.LastTimestamp})
			out, err := events.Patch(ctx, prev.Name, patch)
			if err == nil {
				r.remember(podKey, out)
				return
			}
			if !client.IsNotFound(err) {
				r.log.Debug("scheduler: update event", "pod", podKey, "reason", ev.Reason, "err", err)
				return
			}
		}
	}
	out, err := events.Create(ctx, ev)
	if client.IsAlreadyExists(err) {
		ev.Name = eventName(ev.InvolvedObject.Name)
		out, err = events.Create(ctx, ev)
	}
	if err != nil {
		if ctx.Err() == nil {
			r.log.Debug("scheduler: record event", "pod", podKey, "reason", ev.Reason, "err", err)
		}
		return
	}
	if ev.Reason == reasonFailedScheduling {
		r.remember(podKey, out)
	}
}

func (r *recorder) remember(podKey string, ev *api.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.last) >= recorderMemory {
		clear(r.last)
	}
	r.last[podKey] = ev
}
