package tui

import (
	"context"
	"fmt"
	"io"
	"strings"
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
		Spec:       api.PodSpec{Containers: []api.Container{{Name: "main", Image: "busybox"}}},
		Status:     api.PodStatus{Phase: phase},
	}
}

func replicaSet(ns, name string, replicas int32) *api.ReplicaSet {
	return &api.ReplicaSet{
		TypeMeta:   api.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
		ObjectMeta: api.ObjectMeta{Name: name, Namespace: ns, CreationTimestamp: api.NewTime(t0.Add(-time.Hour))},
		Spec: api.ReplicaSetSpec{Replicas: &replicas, Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: api.PodTemplateSpec{ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: api.PodSpec{Containers: []api.Container{{Name: "main", Image: "busybox"}}}}},
	}
}

func node(name string, ready bool, cpu, mem string) *api.Node {
	status := api.ConditionFalse
	if ready {
		status = api.ConditionTrue
	}
	return &api.Node{
		TypeMeta:   api.TypeMeta{APIVersion: "v1", Kind: "Node"},
		ObjectMeta: api.ObjectMeta{Name: name, CreationTimestamp: api.NewTime(t0.Add(-48 * time.Hour))},
		Status: api.NodeStatus{
			Conditions:  []api.NodeCondition{{Type: api.NodeReady, Status: status}},
			Allocatable: api.ResourceList{api.ResourceCPU: api.MustParseQuantity(cpu), api.ResourceMemory: api.MustParseQuantity(mem)},
		},
	}
}

// fakeSource is an in-memory Source: objects by resource name, watchers that get what emit
// sends, logs by "ns/pod/container", and a record of lists, writes and log reads.
type fakeSource struct {
	mu       sync.Mutex
	objs     map[string][]api.Object
	watchers []fakeWatch
	lists    []string
	deleted  []string
	patched  []string
	updated  []api.Object
	listErr  error
	patchErr error
	updErr   error
	logs     map[string]string
	logReads []string
	logPipes map[string]*io.PipeWriter
}

type fakeWatch struct {
	ctx     context.Context
	res, ns string
	fields  string
	ch      chan client.Event
}

func newFakeSource(objs ...api.Object) *fakeSource {
	f := &fakeSource{objs: map[string][]api.Object{}, logs: map[string]string{}, logPipes: map[string]*io.PipeWriter{}}
	for _, o := range objs {
		r := api.ResourceFor(o)
		f.objs[r.Name] = append(f.objs[r.Name], o)
	}
	return f
}

// matchFields matches the field selectors the UI uses: metadata.name and spec.nodeName.
func matchFields(fields string, o api.Object) bool {
	if fields == "" {
		return true
	}
	k, v, _ := strings.Cut(fields, "=")
	switch k {
	case "metadata.name":
		return o.GetObjectMeta().Name == v
	case "spec.nodeName":
		p, ok := o.(*api.Pod)
		return ok && p.Spec.NodeName == v
	}
	return false
}

func (f *fakeSource) List(_ context.Context, res *api.Resource, ns string, opts client.ListOptions) ([]api.Object, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rec := fmt.Sprintf("%s ns=%s sel=%s", res.Name, ns, opts.LabelSelector)
	if opts.FieldSelector != "" {
		rec += " fields=" + opts.FieldSelector
	}
	f.lists = append(f.lists, rec)
	if f.listErr != nil {
		return nil, "", f.listErr
	}
	sel, err := api.ParseSelector(opts.LabelSelector)
	if err != nil {
		return nil, "", err
	}
	var out []api.Object
	for _, o := range f.objs[res.Name] {
		m := o.GetObjectMeta()
		if (ns == "" || m.Namespace == ns) && sel.Matches(m.Labels) && matchFields(opts.FieldSelector, o) {
			out = append(out, o)
		}
	}
	return out, "10", nil
}

// tableLists are the lists of everything but the header's nodes (the first list of nodes).
func (f *fakeSource) tableLists() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	skipped := false
	for _, l := range f.lists {
		if l == "nodes ns= sel=" && !skipped {
			skipped = true
			continue
		}
		out = append(out, l)
	}
	return out
}

func (f *fakeSource) Watch(ctx context.Context, res *api.Resource, ns string, opts client.ListOptions) (<-chan client.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := fakeWatch{ctx: ctx, res: res.Name, ns: ns, fields: opts.FieldSelector, ch: make(chan client.Event, 1000)}
	f.watchers = append(f.watchers, w)
	return w.ch, nil
}

func (f *fakeSource) Delete(_ context.Context, res *api.Resource, ns, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deleted = append(f.deleted, res.Name+" "+ns+"/"+name)
	return nil
}

func (f *fakeSource) Update(_ context.Context, res *api.Resource, obj api.Object) (api.Object, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.updErr != nil {
		return nil, f.updErr
	}
	f.updated = append(f.updated, obj)
	return obj, nil
}

func (f *fakeSource) Patch(_ context.Context, res *api.Resource, ns, name string, patch []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.patchErr != nil {
		return f.patchErr
	}
	f.patched = append(f.patched, res.Name+" "+ns+"/"+name+" "+string(patch))
	return nil
}

func (f *fakeSource) Logs(ctx context.Context, ns, pod string, opts LogOptions) (io.ReadCloser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := ns + "/" + pod + "/" + opts.Container
	f.logReads = append(f.logReads, fmt.Sprintf("%s previous=%v follow=%v tail=%d", key, opts.Previous, opts.Follow, opts.TailLines))
	if opts.Previous {
		key += "/previous"
	}
	text, ok := f.logs[key]
	if !ok {
		return nil, &client.StatusError{Status: api.Status{Code: 404, Message: "no logs for " + key}}
	}
	r, w := io.Pipe()
	f.logPipes[key] = w
	go func() {
		_, _ = io.WriteString(w, text)
		<-ctx.Done()
		w.Close()
	}()
	return r, nil
}

// writeLog appends output to a followed log.
func (f *fakeSource) writeLog(t *testing.T, key, text string) {
	t.Helper()
	f.mu.Lock()
	w := f.logPipes[key]
	f.mu.Unlock()
	if w == nil {
		t.Fatalf("no log stream open for %s", key)
	}
	if _, err := io.WriteString(w, text); err != nil {
		t.Fatal(err)
	}
}

// emit sends an event to the live watches of its kind, namespace and fields; it returns how
// many.
func (f *fakeSource) emit(typ string, obj api.Object, st *api.Status) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, w := range f.watchers {
		if w.ctx.Err() != nil {
			continue
		}
		if obj != nil && (w.res != api.ResourceFor(obj).Name || (w.ns != "" && w.ns != obj.GetObjectMeta().Namespace) || !matchFields(w.fields, obj)) {
			continue
		}
		w.ch <- client.Event{Type: typ, Object: obj, Status: st}
		n++
	}
	return n
}

// emitError sends an ERROR event to the live watches of one resource.
func (f *fakeSource) emitError(res string, st *api.Status) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, w := range f.watchers {
		if w.ctx.Err() == nil && w.res == res {
			w.ch <- client.Event{Type: api.Error, Status: st}
			n++
		}
	}
	return n
}

// fakeMetrics serves fixed usage.
type fakeMetrics struct {
	mu      sync.Mutex
	nodes   *api.NodeMetricsList
	err     error
	history map[string]*api.UsageHistory // "node/NAME", "pod/NS/NAME"
	reads   int
}

func (f *fakeMetrics) NodeMetrics(context.Context) (*api.NodeMetricsList, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	return f.nodes, nil
}

func (f *fakeMetrics) history1(key string) (*api.UsageHistory, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.err != nil {
		return nil, f.err
	}
	h, ok := f.history[key]
	if !ok {
		return nil, &client.StatusError{Status: api.Status{Code: 404, Message: "the server could not find the requested resource"}}
	}
	return h, nil
}

func (f *fakeMetrics) PodUsageHistory(_ context.Context, ns, name string) (*api.UsageHistory, error) {
	return f.history1("pod/" + ns + "/" + name)
}

func (f *fakeMetrics) NodeUsageHistory(_ context.Context, name string) (*api.UsageHistory, error) {
	return f.history1("node/" + name)
}

// harness drives a Model as bubbletea would: it runs each returned command, feeds its message
// back to Update, and keeps the commands that block (watch and log reads) until they answer.
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
	if opts.Now == nil {
		opts.Now = func() time.Time { return t0 }
	}
	if opts.Server == "" {
		opts.Server = "https://10.0.0.1:6443"
	}
	opts.AgeEvery, opts.MetricsEvery, opts.PulseEvery = -1, -1, -1
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

// waitFor handles messages of blocked commands as they answer until one for which want is true
// was handled.
func (h *harness) waitFor(what string, want func(tea.Msg) bool) {
	h.t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		for i, ch := range h.pending {
			select {
			case msg := <-ch:
				h.pending = append(h.pending[:i:i], h.pending[i+1:]...)
				wanted := want(msg)
				h.handle(msg)
				if wanted {
					return
				}
			default:
				continue
			}
			break
		}
		time.Sleep(time.Millisecond)
	}
	h.t.Fatalf("no %s arrived from a pending command", what)
}

// deliver waits for a batch of watch events of a current feed and handles it, handling (and
// so dropping) the messages of older feeds on the way.
func (h *harness) deliver() {
	h.t.Helper()
	h.waitFor("watch event", func(msg tea.Msg) bool {
		em, ok := msg.(eventsMsg)
		return ok && h.m.current(em.feed, em.gen) != nil
	})
}

// until handles messages of blocked commands as they answer until cond holds.
func (h *harness) until(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("%s: not after 2s; the screen:\n%s", what, h.m.View())
		}
		for i, ch := range h.pending {
			select {
			case msg := <-ch:
				h.pending = append(h.pending[:i:i], h.pending[i+1:]...)
				h.handle(msg)
			default:
				continue
			}
			break
		}
		time.Sleep(time.Millisecond)
	}
}

// untilShown handles messages until the screen shows every one of want.
func (h *harness) untilShown(want ...string) {
	h.t.Helper()
	h.until(fmt.Sprintf("the screen to show %q", want), func() bool {
		v := h.m.View()
		for _, w := range want {
			if !strings.Contains(v, w) {
				return false
			}
		}
		return true
	})
}

// emit sends a watch event and lets the model read it.
func (h *harness) emit(typ string, obj api.Object) {
	h.t.Helper()
	if h.src.emit(typ, obj, nil) == 0 {
		h.t.Fatalf("no watch open for %s %v", typ, obj)
	}
	h.deliver()
}

// retry fires the table feed's retry timer.
func (h *harness) retry() {
	f := h.m.feeds["table"]
	h.send(retryMsg{feed: f.name, gen: f.gen})
}

// keys types each key: named keys ("esc", "enter", "ctrl+d", "ctrl+w", "down", "tab",
// "backspace") or text.
func (h *harness) keys(keys ...string) {
	for _, k := range keys {
		switch k {
		case "esc":
			h.send(tea.KeyMsg{Type: tea.KeyEsc})
		case "enter":
			h.send(tea.KeyMsg{Type: tea.KeyEnter})
		case "ctrl+d":
			h.send(tea.KeyMsg{Type: tea.KeyCtrlD})
		case "ctrl+w":
			h.send(tea.KeyMsg{Type: tea.KeyCtrlW})
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
