package cache_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/testserver"
	"github.com/minik8s/minik8s/client"
	"github.com/minik8s/minik8s/client/cache"
	"github.com/minik8s/minik8s/client/workqueue"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// note is one handler call: "ADDED ns/name@rv", "MODIFIED ns/name@oldrv->rv", "DELETED ...".
type recorder struct {
	mu    sync.Mutex
	notes []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.notes = append(r.notes, s)
	r.mu.Unlock()
}

func (r *recorder) handler() cache.Handler {
	id := func(o api.Object) string { return o.GetObjectMeta().Key() + "@" + o.GetObjectMeta().ResourceVersion }
	return cache.Handler{
		OnAdd: func(o api.Object) { r.add(api.Added + " " + id(o)) },
		OnUpdate: func(old, cur api.Object) {
			if old.GetObjectMeta().Key() != cur.GetObjectMeta().Key() {
				r.add("MISMATCH " + id(old) + " " + id(cur))
			}
			r.add(api.Modified + " " + id(cur) + " from " + old.GetObjectMeta().ResourceVersion)
		},
		OnDelete: func(o api.Object) { r.add(api.Deleted + " " + id(o)) },
	}
}

// take returns the notes so far and forgets them.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.notes
	r.notes = nil
	return out
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.notes)
}

func eventually(t *testing.T, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, msg := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v: %s", timeout, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitNotes waits until the recorder holds exactly want (in any order: handlers of a relist
// run in map order), then forgets them.
func waitNotes(t *testing.T, r *recorder, want ...string) {
	t.Helper()
	slices.Sort(want)
	eventually(t, 10*time.Second, func() (bool, string) {
		r.mu.Lock()
		got := slices.Clone(r.notes)
		r.mu.Unlock()
		slices.Sort(got)
		return slices.Equal(got, want), fmt.Sprintf("handler calls\n got %v\nwant %v", got, want)
	})
	r.take()
}

// gatedSource is a real client.Dynamic whose watches the test can cut and hold back, so that the
// informer falls behind a compaction and meets a real 410.
type gatedSource struct {
	d *client.Dynamic

	mu        sync.Mutex
	gate      chan struct{} // closed while watches may start
	blocked   bool          // a Watch call is waiting at the gate
	cancel    context.CancelFunc
	lists     int
	watchErrs []error
}

func newGatedSource(d *client.Dynamic) *gatedSource {
	g := &gatedSource{d: d, gate: make(chan struct{})}
	close(g.gate)
	return g
}

func (g *gatedSource) List(ctx context.Context, opts client.ListOptions) ([]api.Object, string, error) {
	g.mu.Lock()
	g.lists++
	g.mu.Unlock()
	return g.d.List(ctx, opts)
}

func (g *gatedSource) Watch(ctx context.Context, opts client.ListOptions) (<-chan client.Event, error) {
	g.mu.Lock()
	gate := g.gate
	g.blocked = true
	g.mu.Unlock()
	select {
	case <-gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	wctx, cancel := context.WithCancel(ctx)
	g.mu.Lock()
	g.blocked = false
	g.cancel = cancel
	g.mu.Unlock()
	ch, err := g.d.Watch(wctx, opts)
	if err != nil {
		cancel()
		g.mu.Lock()
		g.watchErrs = append(g.watchErrs, err)
		g.mu.Unlock()
	}
	return ch, err
}

// hold cuts the current watch and makes the next one wait; it returns once the informer waits.
func (g *gatedSource) hold(t *testing.T) {
	g.mu.Lock()
	g.gate = make(chan struct{})
	if g.cancel != nil {
		g.cancel()
	}
	g.mu.Unlock()
	eventually(t, 10*time.Second, func() (bool, string) {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.blocked, "the informer does not watch again"
	})
}

func (g *gatedSource) release() {
	g.mu.Lock()
	close(g.gate)
	g.mu.Unlock()
}

// sameAsServer checks that the informer's cache holds what the server lists.
func sameAsServer(t *testing.T, inf *cache.Informer, d *client.Dynamic) (bool, string) {
	t.Helper()
	items, _, err := d.List(context.Background(), client.ListOptions{})
	if err != nil {
		return false, err.Error()
	}
	var want, got []string
	for _, it := range items {
		want = append(want, it.GetObjectMeta().Key()+"@"+it.GetObjectMeta().ResourceVersion)
		c, ok := inf.Get(it.GetObjectMeta().Key())
		if !ok || c.GetObjectMeta().ResourceVersion != it.GetObjectMeta().ResourceVersion {
			return false, "Get(" + it.GetObjectMeta().Key() + ") does not match the server"
		}
	}
	for _, it := range inf.List() {
		got = append(got, it.GetObjectMeta().Key()+"@"+it.GetObjectMeta().ResourceVersion)
	}
	slices.Sort(want)
	return slices.Equal(got, want), fmt.Sprintf("cache %v, server %v", got, want)
}

func TestInformerAgainstServer(t *testing.T) {
	s := testserver.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := "informer"
	if _, err := s.Client.Namespaces().Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	pods := s.Client.Pods(ns)
	d := pods.Dynamic()
	mkPod := func(name string) *api.Pod {
		t.Helper()
		p, err := pods.Create(ctx, &api.Pod{
			ObjectMeta: api.ObjectMeta{Namespace: ns, Name: name},
			Spec:       api.PodSpec{Containers: []api.Container{{Name: "c", Image: "busybox:1.36"}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	label := func(name, v string) *api.Pod {
		t.Helper()
		p, err := pods.Patch(ctx, name, []byte(`{"metadata":{"labels":{"v":"`+v+`"}}}`))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	remove := func(name string) *api.Pod {
		t.Helper()
		var out api.Pod
		if err := s.Client.Do(ctx, http.MethodDelete, api.LookupResource("pods").Path(ns, name), nil, nil, "", &out); err != nil {
			t.Fatal(err)
		}
		return &out
	}
	key := func(p *api.Pod) string { return p.Key() + "@" + p.ResourceVersion }

	pre := mkPod("pre")
	// A pod in another namespace is not seen by a namespaced informer.
	if _, err := s.Client.Pods("default").Create(ctx, &api.Pod{
		ObjectMeta: api.ObjectMeta{Namespace: "default", Name: "elsewhere"},
		Spec:       api.PodSpec{Containers: []api.Container{{Name: "c", Image: "busybox:1.36"}}},
	}); err != nil {
		t.Fatal(err)
	}

	src := newGatedSource(d)
	inf := cache.New(src, client.ListOptions{}, quiet)
	rec := &recorder{}
	inf.AddHandler(rec.handler())
	q := workqueue.New()
	defer q.ShutDown()
	inf.AddHandler(cache.EnqueueHandler(q))
	if inf.HasSynced() {
		t.Fatal("synced before Run")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		inf.Run(ctx)
	}()
	syncCtx, syncCancel := context.WithTimeout(ctx, 10*time.Second)
	defer syncCancel()
	if !inf.WaitForSync(syncCtx) || !inf.HasSynced() {
		t.Fatal("the informer did not sync")
	}
	waitNotes(t, rec, "ADDED "+key(pre))
	if o, ok := inf.Get(ns + "/pre"); !ok || o.GetObjectMeta().UID != pre.UID {
		t.Fatalf("Get(pre) = %v, %v", o, ok)
	}
	if _, ok := inf.Get("default/elsewhere"); ok {
		t.Error("a namespaced informer holds a pod of another namespace")
	}

	// Adds, updates and deletes arrive, in order.
	a := mkPod("a")
	a2 := label("a", "1")
	gone := remove("pre")
	waitNotes(t, rec, "ADDED "+key(a), "MODIFIED "+key(a2)+" from "+a.ResourceVersion, "DELETED "+key(gone))
	eventually(t, 5*time.Second, func() (bool, string) { return sameAsServer(t, inf, d) })
	if _, ok := inf.Get(ns + "/pre"); ok {
		t.Error("a deleted pod is still cached")
	}

	// The work queue got every key that changed (once each: it deduplicates).
	var keys []string
	for q.Len() > 0 {
		k, _ := q.Get()
		keys = append(keys, k)
		q.Done(k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{ns + "/a", ns + "/pre"}) {
		t.Errorf("queued keys %v", keys)
	}

	// Fall behind a compaction: cut the watch, change things, compact, let the informer watch
	// again from its old revision. The server answers 410; the informer lists again and reports
	// the difference.
	d0 := mkPod("doomed")
	waitNotes(t, rec, "ADDED "+key(d0))
	src.hold(t)
	b := mkPod("b")
	a3 := label("a", "2")
	mkPod("ephemeral")
	remove("ephemeral")
	remove("doomed")
	resp, err := s.Etcd().Get(ctx, "/probe")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Etcd().Compact(ctx, resp.Header.Revision); err != nil {
		t.Fatal(err)
	}
	if rec.len() != 0 {
		t.Fatalf("handler calls while the watch was held: %v", rec.take())
	}
	src.release()
	waitNotes(t, rec, "ADDED "+key(b), "MODIFIED "+key(a3)+" from "+a2.ResourceVersion, "DELETED "+d0.Key()+"@"+d0.ResourceVersion)
	src.mu.Lock()
	lists, errs := src.lists, slices.Clone(src.watchErrs)
	src.mu.Unlock()
	if lists != 2 {
		t.Errorf("the informer listed %d times, want 2", lists)
	}
	if len(errs) != 1 || !client.IsGone(errs[0]) {
		t.Errorf("watch errors %v, want one 410", errs)
	}
	eventually(t, 5*time.Second, func() (bool, string) { return sameAsServer(t, inf, d) })

	// And it watches again after the relist.
	c := mkPod("c")
	waitNotes(t, rec, "ADDED "+key(c))
	eventually(t, 5*time.Second, func() (bool, string) { return sameAsServer(t, inf, d) })

	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

// TestInformerSelector: an informer narrowed by a label selector drops objects that stop matching.
func TestInformerSelector(t *testing.T) {
	s := testserver.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := "default"
	pods := s.Client.Pods(ns)
	mk := func(name, app string) *api.Pod {
		p, err := pods.Create(ctx, &api.Pod{
			ObjectMeta: api.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": app}},
			Spec:       api.PodSpec{Containers: []api.Container{{Name: "c", Image: "busybox:1.36"}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	web := mk("web", "web")
	mk("db", "db")
	inf := cache.New(pods.Dynamic(), client.ListOptions{LabelSelector: "app=web", ResourceVersion: "ignored"}, quiet)
	rec := &recorder{}
	inf.AddHandler(rec.handler())
	go inf.Run(ctx)
	if !inf.WaitForSync(ctx) {
		t.Fatal("no sync")
	}
	waitNotes(t, rec, "ADDED default/web@"+web.ResourceVersion)
	moved, err := pods.Patch(ctx, "db", []byte(`{"metadata":{"labels":{"app":"web"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	left, err := pods.Patch(ctx, "web", []byte(`{"metadata":{"labels":{"app":"gone"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	waitNotes(t, rec, "ADDED default/db@"+moved.ResourceVersion, "DELETED default/web@"+left.ResourceVersion)
	if got := inf.List(); len(got) != 1 || got[0].GetObjectMeta().Name != "db" {
		t.Errorf("cache holds %d objects", len(got))
	}
}

// fakeSource is a scripted Source: List returns the current objects; each Watch call takes the
// next entry of watches (a channel, or an error).
type fakeSource struct {
	mu      sync.Mutex
	objects map[string]*api.Pod
	rv      int
	watches []any // chan client.Event or error
	lists   int
	watchRV []string
}

func (f *fakeSource) set(name string, labels map[string]string) *api.Pod {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rv++
	p := &api.Pod{ObjectMeta: api.ObjectMeta{Namespace: "ns", Name: name, ResourceVersion: fmt.Sprint(f.rv), Labels: labels}}
	f.objects[name] = p
	return p
}

func (f *fakeSource) del(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rv++
	delete(f.objects, name)
}

func (f *fakeSource) List(ctx context.Context, opts client.ListOptions) ([]api.Object, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	var out []api.Object
	for _, p := range f.objects {
		out = append(out, api.DeepCopy(p))
	}
	return out, fmt.Sprint(f.rv), nil
}

func (f *fakeSource) Watch(ctx context.Context, opts client.ListOptions) (<-chan client.Event, error) {
	f.mu.Lock()
	f.watchRV = append(f.watchRV, opts.ResourceVersion)
	var next any
	if len(f.watches) > 0 {
		next, f.watches = f.watches[0], f.watches[1:]
	}
	f.mu.Unlock()
	switch w := next.(type) {
	case chan client.Event:
		return w, nil
	case error:
		return nil, w
	}
	// Nothing scripted: a watch on which nothing happens.
	ch := make(chan client.Event)
	go func() {
		<-ctx.Done()
		close(ch)
	}()
	return ch, nil
}

func (f *fakeSource) counts() (lists int, watchRV []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lists, slices.Clone(f.watchRV)
}

func gone() error {
	return &client.StatusError{Status: api.Status{Status: "Failure", Code: http.StatusGone, Reason: api.StatusReasonGone, Message: "too old resource version"}}
}

// TestInformerRelistOn410 drives an informer through a fake Source that answers 410, once as the
// answer to a Watch call and once as an ERROR event in the stream.
func TestInformerRelistOn410(t *testing.T) {
	f := &fakeSource{objects: map[string]*api.Pod{}}
	a := f.set("a", nil)
	b := f.set("b", nil)
	w1 := make(chan client.Event)
	w3 := make(chan client.Event)
	f.watches = []any{w1, gone(), w3}

	inf := cache.New(f, client.ListOptions{}, quiet)
	rec := &recorder{}
	inf.AddHandler(rec.handler())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		inf.Run(ctx)
	}()
	if !inf.WaitForSync(ctx) {
		t.Fatal("no sync")
	}
	waitNotes(t, rec, "ADDED ns/a@1", "ADDED ns/b@2")

	// One event through the first watch.
	a3 := f.set("a", map[string]string{"x": "1"})
	w1 <- client.Event{Type: api.Modified, Object: api.DeepCopy(a3)}
	waitNotes(t, rec, "MODIFIED ns/a@3 from 1")

	// While the informer is not watching, things change: a changes, b goes, c comes, and d
	// comes and goes. Then the stream ends, and the informer's next watch gets a 410.
	a4 := f.set("a", map[string]string{"x": "2"})
	f.del("b")
	c := f.set("c", nil)
	f.set("d", nil)
	f.del("d")
	close(w1)
	waitNotes(t, rec, "MODIFIED ns/a@"+a4.ResourceVersion+" from 3", "DELETED ns/b@"+b.ResourceVersion, "ADDED ns/c@"+c.ResourceVersion)
	lists, watchRV := f.counts()
	if lists != 2 {
		t.Errorf("lists = %d, want 2", lists)
	}
	// The informer watched from the first list, then resumed from the last event it saw, then
	// from the second list.
	eventually(t, 5*time.Second, func() (bool, string) {
		_, watchRV = f.counts()
		return len(watchRV) >= 3, fmt.Sprint(watchRV)
	})
	if !slices.Equal(watchRV[:3], []string{"2", "3", "8"}) {
		t.Errorf("watched from %v, want [2 3 8]", watchRV)
	}
	for _, p := range []*api.Pod{a4, c} {
		got, ok := inf.Get(p.Key())
		if !ok || got.GetObjectMeta().ResourceVersion != p.ResourceVersion {
			t.Errorf("Get(%s) = %v, %v", p.Key(), got, ok)
		}
	}
	if _, ok := inf.Get("ns/b"); ok {
		t.Error("b is still cached")
	}
	if n := len(inf.List()); n != 2 {
		t.Errorf("List has %d objects, want 2", n)
	}
	_ = a

	// A 410 in the stream (an ERROR event) also makes it list again.
	e := f.set("e", nil)
	w3 <- client.Event{Type: api.Error, Status: &api.Status{Status: "Failure", Code: http.StatusGone, Reason: api.StatusReasonGone}}
	waitNotes(t, rec, "ADDED ns/e@"+e.ResourceVersion)
	if lists, _ := f.counts(); lists != 3 {
		t.Errorf("lists = %d after an ERROR 410 event, want 3", lists)
	}

	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	if got := strings.Join(rec.take(), ", "); got != "" {
		t.Errorf("unexpected handler calls: %s", got)
	}
}
