package hpa

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
)

// component is the name the controller reports Events under, as Kubernetes' does.
const component = "horizontal-pod-autoscaler"

// recorder writes Events about autoscalers. A repeat of an autoscaler's last Event of the same
// reason with the same message, as a metric that stays unavailable sync after sync, bumps that
// Event's count instead of adding one more, as client-go's aggregation does.
type recorder struct {
	c   *client.Client
	log *slog.Logger
	now func() time.Time

	mu   sync.Mutex
	last map[string]map[string]*api.Event // by autoscaler key, then reason
}

func newRecorder(c *client.Client, log *slog.Logger, now func() time.Time) *recorder {
	return &recorder{c: c, log: log, now: now, last: map[string]map[string]*api.Event{}}
}

// event records an Event about h. Failing to record one is logged, never returned: an Event
// is a courtesy, the status is the record.
func (r *recorder) event(ctx context.Context, h *api.HorizontalPodAutoscaler, typ, reason, msg string) {
	key := h.Key()
	at := api.NewTime(r.now())
	events := r.c.Events(h.Namespace)
	r.mu.Lock()
	prev := r.last[key][reason]
	r.mu.Unlock()
	if prev != nil && prev.Reason == reason && prev.Message == msg && prev.InvolvedObject.UID == h.UID {
		patch, _ := json.Marshal(map[string]any{"count": prev.Count + 1, "lastTimestamp": at})
		out, err := events.Patch(ctx, prev.Name, patch)
		if err == nil {
			r.remember(key, out)
			return
		}
		if !client.IsNotFound(err) {
			r.log.Debug("hpa controller: update event", "key", key, "reason", reason, "err", err)
			return
		}
	}
	ev := &api.Event{
		ObjectMeta: api.ObjectMeta{Name: fmt.Sprintf("%s.%x", h.Name, time.Now().UnixNano()), Namespace: h.Namespace},
		InvolvedObject: api.ObjectReference{Kind: "HorizontalPodAutoscaler", Namespace: h.Namespace, Name: h.Name, UID: h.UID,
			APIVersion: api.GroupAutoscaling + "/v2", ResourceVersion: h.ResourceVersion},
		Reason: reason, Message: msg, Type: typ, Count: 1, FirstTimestamp: at, LastTimestamp: at,
		Source: api.EventSource{Component: component}, ReportingComponent: component,
	}
	out, err := events.Create(ctx, ev)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Debug("hpa controller: record event", "key", key, "reason", reason, "err", err)
		}
		return
	}
	r.remember(key, out)
}

func (r *recorder) remember(key string, ev *api.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last[key] == nil {
		r.last[key] = map[string]*api.Event{}
	}
	r.last[key][ev.Reason] = ev
}

// forget drops what is remembered about an autoscaler that is gone.
func (r *recorder) forget(key string) {
	r.mu.Lock()
	delete(r.last, key)
	r.mu.Unlock()
}
