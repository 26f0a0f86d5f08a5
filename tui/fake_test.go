package tui

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
)

var t0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

func pod(ns, name string, labels map[string]string, phase string) *api.Pod {
	return &api.Pod{
		TypeMeta:   api.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: api.ObjectMeta{Name: name, Namespace: ns, Labels: labels, CreationTimestamp: api.NewTime(t0.Add(-5 * time.Minute))},
		Status:     api.PodStatus{Phase: phase},
	}
}

func replicaSet(ns, name string, replicas int32) *api.ReplicaSet {
	return &api.ReplicaSet{
		TypeMeta:   api.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
		ObjectMeta: api.ObjectMeta{Name: name, Namespace: ns, CreationTimestamp: api.NewTime(t0.Add(-time.Hour))},
		Spec:       api.ReplicaSetSpec{Replicas: &replicas},
	}
}

// fakeSource is an in-memory Source: objects by resource name, watchers that get what emit
// sends, and a record of lists and deletes.
type fakeSource struct {
	mu       sync.Mutex
	objs     map[string][]api.Object
	watchers []fakeWatch
	lists    []string
	deleted  []string
	listErr  error
}

type fakeWatch struct {
	ctx     context.Context
	res, ns string
	ch      chan client.Event
}

func newFakeSource(objs ...api.Object) *fakeSource {
	f := &fakeSource{objs: map[string][]api.Object{}}
	for _, o := range objs {
		r := api.ResourceFor(o)
		f.objs[r.Name] = append(f.objs[r.Name], o)
	}
	return f
}

func (f *fakeSource) List(_ context.Context, res *api.Resource, ns, selector string) ([]api.Object, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists = append(f.lists, fmt.Sprintf("%s ns=%s sel=%s", res.Name, ns, selector))
	if f.listErr != nil {
		return nil, "", f.listErr
	}
	sel, err := api.ParseSelector(selector)
	if err != nil {
		return nil, "", err
	}
	var out []api.Object
	for _, o := range f.objs[res.Name] {
		m := o.GetObjectMeta()
		if (ns == "" || m.Namespace == ns) && sel.Matches(m.Labels) {
			out = append(out, o)
		}
	}
	return out, "10", nil
}

func (f *fakeSource) Watch(ctx context.Context, res *api.Resource, ns, _, _ string) (<-chan client.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := fakeWatch{ctx: ctx, res: res.Name, ns: ns, ch: make(chan client.Event, 100)}
	f.watchers = append(f.watchers, w)
	return w.ch, nil
}

func (f *fakeSource) Delete(_ context.Context, res *api.Resource, ns, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deleted = append(f.deleted, res.Name+" "+ns+"/"+name)
	return nil
}

// emit sends an event to the live watches of its kind and namespace; it returns how many.
func (f *fakeSource) emit(typ string, obj api.Object, st *api.Status) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, w := range f.watchers {
		if w.ctx.Err() != nil {
			continue
		}
		if obj != nil && (w.res != api.ResourceFor(obj).Name || (w.ns != "" && w.ns != obj.GetObjectMeta().Namespace)) {
			continue
		}
		w.ch <- client.Event{Type: typ, Object: obj, Status: st}
		n++
	}
	return n
}

// harness drives a Model as bubbletea would: it runs each returned command, feeds its message
// back to Update, and keeps the commands that block (watch reads, ticks) until they answer.
type harness struct {
	t       *testing.T
	m       *Model
	src     *fakeSource
	pending []chan tea.Msg
	quit    bool
}

func newHarness(t *testing.T, src *fakeSource, opts Options) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	opts.Source = src
	opts.Now = func() time.Time { return t0 }
	if opts.Server == "" {
		opts.Server = "https://10.0.0.1:6443"
	}
	h := &harness{t: t, m: New(ctx, opts), src: src}
	h.send(tea.WindowSizeMsg{Width: 100, Height: 20})
	h.exec(h.m.Init())
	return h
}

func (h *harness) send(msg tea.Msg) {
	_, cmd := h.m.Update(msg)
	h.exec(cmd)
}

func (h *harness) exec(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	ch := make(chan tea.Msg, 1)
	go func() { ch <- cmd() }()
	select {
	case msg := <-ch:
		h.handle(msg)
	case <-time.After(30 * time.Millisecond):
		h.pending = append(h.pending, ch)
	}
}

func (h *harness) handle(msg tea.Msg) {
	switch msg := msg.(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			h.exec(c)
		}
	case tea.QuitMsg:
		h.quit = true
	default:
		h.send(msg)
	}
}

// deliver waits for a message of the current view from a blocked command (a watch read) and
// handles it, handling (and so dropping) the messages of older views on the way.
func (h *harness) deliver() {
	h.t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		for i, ch := range h.pending {
			select {
			case msg := <-ch:
				h.pending = append(h.pending[:i:i], h.pending[i+1:]...)
				current := true
				if em, ok := msg.(eventMsg); ok && em.gen != h.m.gen {
					current = false
				}
				h.handle(msg)
				if current {
					return
				}
			default:
				continue
			}
			break
		}
		time.Sleep(time.Millisecond)
	}
	h.t.Fatal("no message arrived from a pending command")
}

// emit sends a watch event and lets the model read it.
func (h *harness) emit(typ string, obj api.Object) {
	h.t.Helper()
	if h.src.emit(typ, obj, nil) == 0 {
		h.t.Fatalf("no watch open for %s %v", typ, obj)
	}
	h.deliver()
}

// keys types each key: named keys ("esc", "enter", "ctrl+d", "down", "tab", "backspace") or text.
func (h *harness) keys(keys ...string) {
	for _, k := range keys {
		switch k {
		case "esc":
			h.send(tea.KeyMsg{Type: tea.KeyEsc})
		case "enter":
			h.send(tea.KeyMsg{Type: tea.KeyEnter})
		case "ctrl+d":
			h.send(tea.KeyMsg{Type: tea.KeyCtrlD})
		case "ctrl+c":
			h.send(tea.KeyMsg{Type: tea.KeyCtrlC})
		case "down":
			h.send(tea.KeyMsg{Type: tea.KeyDown})
		case "up":
			h.send(tea.KeyMsg{Type: tea.KeyUp})
		case "tab":
			h.send(tea.KeyMsg{Type: tea.KeyTab})
		case "backspace":
			h.send(tea.KeyMsg{Type: tea.KeyBackspace})
		default:
			for _, r := range k {
				if r == ' ' {
					h.send(tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}})
				} else {
					h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
				}
			}
		}
	}
}
