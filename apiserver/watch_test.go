package apiserver_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/testserver"
	"github.com/minik8s/minik8s/client"
)

// change is one change as a watcher sees it.
type change struct {
	Type, Name, RV string
}

func (c change) String() string { return c.Type + " " + c.Name + "@" + c.RV }

func changeOf(ev client.Event) change {
	m := ev.Object.GetObjectMeta()
	return change{ev.Type, m.Name, m.ResourceVersion}
}

// next returns the next event of a watch, failing the test if none comes in time.
func next(t *testing.T, ch <-chan client.Event) client.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("the watch ended")
		}
		if ev.Type == api.Error {
			t.Fatalf("watch error: %+v", ev.Status)
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event within 10s")
	}
	return client.Event{}
}

// waitClosed waits for a watch channel to close, discarding what is left in it.
func waitClosed(t *testing.T, ch <-chan client.Event) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("the watch did not end within 10s")
		}
	}
}

// podWriter makes changes to Pods and records them as a watcher should see them.
type podWriter struct {
	t    *testing.T
	s    *testserver.Server
	ns   string
	want []change
}

func (w *podWriter) create(name string, labels map[string]string) *api.Pod {
	w.t.Helper()
	p := newPod(w.ns, name)
	p.Labels = labels
	out, err := w.s.Client.Pods(w.ns).Create(context.Background(), p)
	if err != nil {
		w.t.Fatalf("create %s: %v", name, err)
	}
	w.want = append(w.want, change{api.Added, name, out.ResourceVersion})
	return out
}

func (w *podWriter) update(name string, mutate func(p *api.Pod)) *api.Pod {
	w.t.Helper()
	pods := w.s.Client.Pods(w.ns)
	p, err := pods.Get(context.Background(), name)
	if err != nil {
		w.t.Fatalf("get %s: %v", name, err)
	}
	mutate(p)
	out, err := pods.Update(context.Background(), p)
	if err != nil {
		w.t.Fatalf("update %s: %v", name, err)
	}
	w.want = append(w.want, change{api.Modified, name, out.ResourceVersion})
	return out
}

func (w *podWriter) label(name, k, v string) *api.Pod {
	w.t.Helper()
	return w.update(name, func(p *api.Pod) {
		if p.Labels == nil {
			p.Labels = map[string]string{}
		}
		p.Labels[k] = v
	})
}

// remove deletes a Pod (it must not be on a node) and returns it as the delete answered,
// whose resourceVersion is the revision of the delete.
func (w *podWriter) remove(name string) *api.Pod {
	w.t.Helper()
	var out api.Pod
	if err := w.s.Client.Do(context.Background(), http.MethodDelete, api.LookupResource("pods").Path(w.ns, name), nil, nil, "", &out); err != nil {
		w.t.Fatalf("delete %s: %v", name, err)
	}
	w.want = append(w.want, change{api.Deleted, name, out.ResourceVersion})
	return &out
}

// TestWatchResume: a watch stopped halfway and resumed from the last resourceVersion it saw
// delivers every change exactly once, in order.
func TestWatchResume(t *testing.T) {
	s := testserver.Start(t)
	ctx := ctxFor(t)
	ns := newNamespace(t, s)
	pods := s.Client.Pods(ns)
	w := &podWriter{t: t, s: s, ns: ns}
	w.create("pre", nil)
	w.want = nil // made before the list: not part of the stream

	_, listRV, err := pods.List(ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx1, cancel1 := context.WithCancel(ctx)
	defer cancel1()
	w1, err := pods.Watch(ctx1, client.ListOptions{ResourceVersion: listRV})
	if err != nil {
		t.Fatal(err)
	}

	// First half: ten changes, of which the watcher reads only six before it stops.
	for i := 0; i < 4; i++ {
		w.create(fmt.Sprintf("a%d", i), nil)
	}
	w.label("a0", "v", "1")
	w.label("a1", "v", "1")
	w.remove("a2")
	w.create("a4", nil)
	w.label("a4", "v", "2")
	w.remove("a0")
	var got []change
	for len(got) < 6 {
		got = append(got, changeOf(next(t, w1)))
	}
	cancel1()
	waitClosed(t, w1)

	// Second half, while nobody watches.
	w.create("b0", nil)
	w.create("b1", nil)
	w.label("a1", "v", "2")
	w.remove("a1")
	w.label("b0", "v", "1")
	w.remove("a3")
	w.remove("pre")

	last := got[len(got)-1].RV
	w2, err := pods.Watch(ctx, client.ListOptions{ResourceVersion: last})
	if err != nil {
		t.Fatalf("resume from %s: %v", last, err)
	}
	for len(got) < len(w.want) {
		got = append(got, changeOf(next(t, w2)))
	}
	want := slices.Clone(w.want)
	// Nothing more than that: the next event is one made now.
	sentinel := w.create("sentinel", nil)
	if ev := changeOf(next(t, w2)); ev != (change{api.Added, "sentinel", sentinel.ResourceVersion}) {
		t.Errorf("after the expected events came %v, want the sentinel", ev)
	}
	if !slices.Equal(got, want) {
		t.Errorf("watched changes differ from the changes made:\n got %v\nwant %v", got, want)
	}
	for i := 1; i < len(got); i++ {
		if rvLess(got[i].RV, got[i-1].RV) || got[i].RV == got[i-1].RV {
			t.Errorf("resourceVersions not increasing: %v then %v", got[i-1], got[i])
		}
	}

	t.Run("namespaces are separate", func(t *testing.T) {
		other := newNamespace(t, s)
		all, err := s.Client.Pods("").Watch(ctx, client.ListOptions{ResourceVersion: sentinel.ResourceVersion})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Client.Pods(other).Create(ctx, newPod(other, "elsewhere")); err != nil {
			t.Fatal(err)
		}
		mine := w.create("here", nil)
		ev := next(t, all)
		if ev.Object.GetObjectMeta().Key() != other+"/elsewhere" {
			t.Errorf("all-namespaces watch: first event %v", changeOf(ev))
		}
		if ev := next(t, all); ev.Object.GetObjectMeta().Key() != ns+"/here" {
			t.Errorf("all-namespaces watch: second event %v", changeOf(ev))
		}
		// The namespaced watch w2 saw only its own.
		if ev := changeOf(next(t, w2)); ev != (change{api.Added, "here", mine.ResourceVersion}) {
			t.Errorf("namespaced watch saw %v", ev)
		}
	})

	t.Run("timeoutSeconds ends the stream", func(t *testing.T) {
		start := time.Now()
		ch, err := pods.Watch(ctx, client.ListOptions{ResourceVersion: sentinel.ResourceVersion, TimeoutSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for range ch {
		}
		if d := time.Since(start); d < 900*time.Millisecond || d > 8*time.Second {
			t.Errorf("a 1s watch lasted %v", d)
		}
	})

	t.Run("bad resourceVersion", func(t *testing.T) {
		_, err := pods.Watch(ctx, client.ListOptions{ResourceVersion: "yesterday"})
		if st := statusOf(t, err); st.Code != http.StatusBadRequest {
			t.Errorf("watch from rv yesterday: %v", err)
		}
	})
}

func rvLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// TestWatchCompacted: a watch from a compacted revision is 410 Gone; a watch without a
// resourceVersion starts with the current objects.
func TestWatchCompacted(t *testing.T) {
	s := testserver.Start(t)
	ctx := ctxFor(t)
	ns := newNamespace(t, s)
	pods := s.Client.Pods(ns)
	w := &podWriter{t: t, s: s, ns: ns}
	old := w.create("p0", nil)
	w.create("p1", nil)
	w.create("p2", nil)
	w.label("p1", "x", "y")
	w.remove("p2")

	// Before compaction, a watch from the old revision replays the changes after it.
	replay, err := pods.Watch(ctx, client.ListOptions{ResourceVersion: old.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range w.want[1:] {
		if got := changeOf(next(t, replay)); got != want {
			t.Errorf("replay: got %v, want %v", got, want)
		}
	}

	resp, err := s.Etcd().Get(ctx, "/compaction-probe")
	if err != nil {
		t.Fatal(err)
	}
	rev := resp.Header.Revision
	if _, err := s.Etcd().Compact(ctx, rev); err != nil {
		t.Fatalf("compact at %d: %v", rev, err)
	}

	_, err = pods.Watch(ctx, client.ListOptions{ResourceVersion: old.ResourceVersion})
	if !client.IsGone(err) {
		t.Fatalf("watch from compacted rv %s: %v, want 410", old.ResourceVersion, err)
	}
	if st := statusOf(t, err); st.Reason != api.StatusReasonGone || st.Kind != "Status" {
		t.Errorf("410 status = %+v", st)
	}
	r := admin(t, s, http.MethodGet, "/api/v1/namespaces/"+ns+"/pods?watch=true&resourceVersion="+old.ResourceVersion, nil)
	if r.Code != http.StatusGone {
		t.Errorf("raw watch from a compacted rv: %d %s", r.Code, r.Body)
	}
	r.status(t)
	// The same for a watch on all namespaces and on another kind.
	if _, err := s.Client.Services("").Watch(ctx, client.ListOptions{ResourceVersion: "1"}); !client.IsGone(err) {
		t.Errorf("watch services from rv 1: %v, want 410", err)
	}

	// A watch from the compaction revision itself, or from a fresh list, works.
	atRev, err := pods.Watch(ctx, client.ListOptions{ResourceVersion: fmt.Sprint(rev)})
	if err != nil {
		t.Fatalf("watch from the compaction revision %d: %v", rev, err)
	}
	items, listRV, err := pods.List(ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 {
		t.Errorf("list after compaction: %d items", len(items))
	}
	fresh, err := pods.Watch(ctx, client.ListOptions{ResourceVersion: listRV})
	if err != nil {
		t.Fatal(err)
	}
	p3 := w.create("p3", nil)
	for _, ch := range []<-chan client.Event{atRev, fresh} {
		if got := changeOf(next(t, ch)); got != (change{api.Added, "p3", p3.ResourceVersion}) {
			t.Errorf("after compaction: %v", got)
		}
	}

	// Without a resourceVersion (or with "0") the current objects come first, as ADDED, and
	// then the changes.
	for _, rv := range []string{"", "0"} {
		ch, err := pods.Watch(ctx, client.ListOptions{ResourceVersion: rv})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for i := 0; i < 3; i++ {
			ev := next(t, ch)
			if ev.Type != api.Added {
				t.Errorf("rv %q: initial event %v", rv, changeOf(ev))
			}
			names = append(names, ev.Object.GetObjectMeta().Name)
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"p0", "p1", "p3"}) {
			t.Errorf("rv %q: initial objects %v", rv, names)
		}
		up := w.label("p0", "rv", "x"+rv)
		if got := changeOf(next(t, ch)); got != (change{api.Modified, "p0", up.ResourceVersion}) {
			t.Errorf("rv %q: after the initial objects: %v", rv, got)
		}
	}
}

// TestSelectors: label and field selectors on lists and watches.
func TestSelectors(t *testing.T) {
	s := testserver.Start(t)
	ctx := ctxFor(t)
	ns := newNamespace(t, s)
	pods := s.Client.Pods(ns)
	mk := func(name string, labels map[string]string, node, phase string) {
		t.Helper()
		p := newPod(ns, name)
		p.Labels = labels
		p.Spec.NodeName = node
		out, err := pods.Create(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if phase != "" {
			out.Status.Phase = phase
			if _, err := pods.UpdateStatus(ctx, out); err != nil {
				t.Fatal(err)
			}
		}
	}
	mk("web", map[string]string{"app": "web", "tier": "fe"}, "n1", api.PodRunning)
	mk("db", map[string]string{"app": "db"}, "n2", api.PodRunning)
	mk("cache", map[string]string{"app": "cache"}, "", "")
	mk("plain", nil, "", "")

	names := func(t *testing.T, opts client.ListOptions) []string {
		t.Helper()
		items, _, err := pods.List(ctx, opts)
		if err != nil {
			t.Fatalf("list %+v: %v", opts, err)
		}
		var out []string
		for _, it := range items {
			out = append(out, it.Name)
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		labels, fields string
		want           []string
	}{
		{"", "", []string{"cache", "db", "plain", "web"}},
		{"app=web", "", []string{"web"}},
		{"app==web", "", []string{"web"}},
		{"app!=web", "", []string{"cache", "db", "plain"}},
		{"app in (db,cache)", "", []string{"cache", "db"}},
		{"app notin (db,cache)", "", []string{"plain", "web"}},
		{"!app", "", []string{"plain"}},
		{"app", "", []string{"cache", "db", "web"}},
		{"app,tier=fe", "", []string{"web"}},
		{"app=nothing", "", nil},
		{"", "metadata.name=db", []string{"db"}},
		{"", "metadata.name!=db", []string{"cache", "plain", "web"}},
		{"", "metadata.namespace=" + ns, []string{"cache", "db", "plain", "web"}},
		{"", "spec.nodeName=", []string{"cache", "plain"}},
		{"", "spec.nodeName=n1", []string{"web"}},
		{"", "spec.nodeName!=", []string{"db", "web"}},
		{"", "status.phase=Running", []string{"db", "web"}},
		{"", "status.phase=Pending", []string{"cache", "plain"}},
		{"", "status.phase=Running,spec.nodeName=n2", []string{"db"}},
		{"app in (db,web)", "spec.nodeName=n1", []string{"web"}},
	} {
		if got := names(t, client.ListOptions{LabelSelector: tc.labels, FieldSelector: tc.fields}); !slices.Equal(got, tc.want) {
			t.Errorf("labels %q fields %q: got %v, want %v", tc.labels, tc.fields, got, tc.want)
		}
	}

	t.Run("unsupported field selector", func(t *testing.T) {
		for _, tc := range []struct{ resource, field string }{
			{"pods", "spec.foo"},
			{"pods", "metadata.labels"},
			{"secrets", "status.phase"},
			{"nodes", "spec.nodeName"},
		} {
			res := api.LookupResource(tc.resource)
			d := s.Client.Resource(res, ns)
			_, _, err := d.List(ctx, client.ListOptions{FieldSelector: tc.field + "=x"})
			st := statusOf(t, err)
			if st.Code != http.StatusBadRequest || !strings.Contains(st.Message, tc.field) {
				t.Errorf("list %s with field selector %s: %d %q", tc.resource, tc.field, st.Code, st.Message)
			}
			_, err = d.Watch(ctx, client.ListOptions{FieldSelector: tc.field + "=x"})
			st = statusOf(t, err)
			if st.Code != http.StatusBadRequest || !strings.Contains(st.Message, tc.field) {
				t.Errorf("watch %s with field selector %s: %d %q", tc.resource, tc.field, st.Code, st.Message)
			}
		}
		for _, bad := range []string{"app in (", "a==b==c", "!"} {
			_, _, err := pods.List(ctx, client.ListOptions{LabelSelector: bad})
			if st := statusOf(t, err); st.Code != http.StatusBadRequest {
				t.Errorf("label selector %q: %v", bad, err)
			}
		}
		if _, _, err := pods.List(ctx, client.ListOptions{FieldSelector: "nooperator"}); statusOf(t, err).Code != http.StatusBadRequest {
			t.Errorf("field selector without operator: %v", err)
		}
	})

	t.Run("other kinds", func(t *testing.T) {
		nsItems, _, err := s.Client.Namespaces().List(ctx, client.ListOptions{FieldSelector: "status.phase=Active", LabelSelector: "!nope"})
		if err != nil {
			t.Fatal(err)
		}
		var found bool
		for _, n := range nsItems {
			found = found || n.Name == ns
		}
		if !found || len(nsItems) < 4 {
			t.Errorf("active namespaces: %d, ours found %v", len(nsItems), found)
		}
		for _, n := range []*api.Node{newNode("schedulable"), newNode("cordoned")} {
			n.Spec.Unschedulable = n.Name == "cordoned"
			if _, err := s.Client.Nodes().Create(ctx, n); err != nil {
				t.Fatal(err)
			}
		}
		for sel, want := range map[string]string{
			"spec.unschedulable=false":  "schedulable",
			"spec.unschedulable!=true":  "schedulable",
			"spec.unschedulable=true":   "cordoned",
			"spec.unschedulable!=false": "cordoned",
		} {
			nodes, _, err := s.Client.Nodes().List(ctx, client.ListOptions{FieldSelector: sel})
			if err != nil || len(nodes) != 1 || nodes[0].Name != want {
				t.Errorf("nodes with %s: %d (%v), want only %s", sel, len(nodes), err, want)
			}
		}
		ev := newEvent(ns, "e1")
		ev.InvolvedObject.Name = "web"
		if _, err := s.Client.Events(ns).Create(ctx, ev); err != nil {
			t.Fatal(err)
		}
		evs, _, err := s.Client.Events(ns).List(ctx, client.ListOptions{FieldSelector: "involvedObject.name=web,involvedObject.kind=Pod"})
		if err != nil || len(evs) != 1 {
			t.Errorf("events by involvedObject: %d, %v", len(evs), err)
		}
	})

	t.Run("watch by label", func(t *testing.T) {
		w := &podWriter{t: t, s: s, ns: ns}
		_, rv, err := pods.List(ctx, client.ListOptions{LabelSelector: "app=web"})
		if err != nil {
			t.Fatal(err)
		}
		ch, err := pods.Watch(ctx, client.ListOptions{ResourceVersion: rv, LabelSelector: "app=web"})
		if err != nil {
			t.Fatal(err)
		}
		var want []change
		out := w.label("web", "app", "moved") // stops matching: DELETED
		want = append(want, change{api.Deleted, "web", out.ResourceVersion})
		w.label("plain", "other", "x")       // never matches: nothing
		out = w.label("cache", "app", "web") // starts matching: ADDED
		want = append(want, change{api.Added, "cache", out.ResourceVersion})
		out = w.label("cache", "more", "x") // still matches: MODIFIED
		want = append(want, change{api.Modified, "cache", out.ResourceVersion})
		out = w.create("new-web", map[string]string{"app": "web"})
		want = append(want, change{api.Added, "new-web", out.ResourceVersion})
		w.create("new-db", map[string]string{"app": "db"})
		out = w.remove("new-web")
		want = append(want, change{api.Deleted, "new-web", out.ResourceVersion})
		w.remove("new-db")
		out = w.label("plain", "app", "web")
		want = append(want, change{api.Added, "plain", out.ResourceVersion})
		for _, wnt := range want {
			ev := next(t, ch)
			if got := changeOf(ev); got != wnt {
				t.Errorf("label watch: got %v, want %v", got, wnt)
			}
			if wnt.Name == "web" && ev.Object.GetObjectMeta().Labels["app"] != "moved" {
				t.Errorf("the DELETED event of an object that stopped matching carries labels %v", ev.Object.GetObjectMeta().Labels)
			}
		}
	})

	t.Run("watch by field", func(t *testing.T) {
		w := &podWriter{t: t, s: s, ns: ns}
		_, rv, err := pods.List(ctx, client.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ch, err := pods.Watch(ctx, client.ListOptions{ResourceVersion: rv, FieldSelector: "status.phase=Running"})
		if err != nil {
			t.Fatal(err)
		}
		byName, err := pods.Watch(ctx, client.ListOptions{ResourceVersion: rv, FieldSelector: "metadata.name=plain"})
		if err != nil {
			t.Fatal(err)
		}
		setPhase := func(name, phase string) *api.Pod {
			p, err := pods.Get(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			p.Status.Phase = phase
			out, err := pods.UpdateStatus(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		var want []change
		out := setPhase("plain", api.PodRunning)
		want = append(want, change{api.Added, "plain", out.ResourceVersion})
		wantByName := []change{{api.Modified, "plain", out.ResourceVersion}}
		out = w.label("db", "seen", "yes")
		want = append(want, change{api.Modified, "db", out.ResourceVersion})
		out = setPhase("db", api.PodSucceeded)
		want = append(want, change{api.Deleted, "db", out.ResourceVersion})
		out = w.label("plain", "seen", "yes")
		want = append(want, change{api.Modified, "plain", out.ResourceVersion})
		wantByName = append(wantByName, change{api.Modified, "plain", out.ResourceVersion})
		for _, wnt := range want {
			if got := changeOf(next(t, ch)); got != wnt {
				t.Errorf("phase watch: got %v, want %v", got, wnt)
			}
		}
		for _, wnt := range wantByName {
			if got := changeOf(next(t, byName)); got != wnt {
				t.Errorf("name watch: got %v, want %v", got, wnt)
			}
		}
	})
}
