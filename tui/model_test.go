package tui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/minik8s/minik8s/api"
)

func fixture() *fakeSource {
	return newFakeSource(
		pod("default", "web-1", map[string]string{"app": "web"}, "Running"),
		pod("default", "db-1", map[string]string{"app": "db"}, "Pending"),
		pod("kube-system", "dns-1", map[string]string{"app": "dns"}, "Running"),
		replicaSet("default", "web", 3),
	)
}

// getLines is what `minik8s get` prints for objs: api.TableCells through api.FormatTable.
func getLines(t *testing.T, res string, objs []api.Object, allNS bool) []string {
	t.Helper()
	tab, err := api.BuildTable(api.LookupResource(res), objs, t0, true)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := api.FormatTable(&b, tab, api.TableOptions{WithNamespace: allNS}); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		out = append(out, strings.TrimRight(l, " "))
	}
	return out
}

func mustContain(t *testing.T, view string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(view, w) {
			t.Errorf("view lacks %q:\n%s", w, view)
		}
	}
}

func mustNotContain(t *testing.T, view string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(view, w) {
			t.Errorf("view has %q:\n%s", w, view)
		}
	}
}

func TestTableMatchesGet(t *testing.T) {
	src := fixture()
	h := newHarness(t, src, Options{Namespace: "default"})
	v := h.m.View()
	mustContain(t, v, "https://10.0.0.1:6443", "ns:default", "kind:pods", "rows:2", "connected")
	objs := []api.Object{src.objs["pods"][1], src.objs["pods"][0]} // db-1, web-1: kubectl's order
	for _, line := range getLines(t, "pods", objs, false) {
		mustContain(t, v, line)
	}
	mustNotContain(t, v, "dns-1", "NAMESPACE")
	if got := src.tableLists(); len(got) != 1 || got[0] != "pods ns=default sel=" {
		t.Errorf("lists = %q", got)
	}
}

func TestWatchEventsAddChangeAndDeleteRows(t *testing.T) {
	src := fixture()
	h := newHarness(t, src, Options{Namespace: "default"})

	h.emit(api.Added, pod("default", "web-2", nil, "Pending"))
	v := h.m.View()
	mustContain(t, v, "rows:3", "web-2")

	h.emit(api.Modified, pod("default", "web-2", nil, "Failed"))
	v = h.m.View()
	var line string
	for _, l := range strings.Split(v, "\n") {
		if strings.HasPrefix(l, "web-2 ") {
			line = l
		}
	}
	if !strings.Contains(line, "Failed") {
		t.Errorf("web-2 row after MODIFIED = %q, want Failed", line)
	}

	h.emit(api.Deleted, pod("default", "web-2", nil, "Failed"))
	v = h.m.View()
	mustContain(t, v, "rows:2")
	mustNotContain(t, v, "web-2")
}

func TestCursorStaysOnObjectAcrossEvents(t *testing.T) {
	h := newHarness(t, fixture(), Options{Namespace: "default"})
	h.keys("down") // db-1 -> web-1
	if got := objectKey(h.m.Selected()); got != "default/web-1" {
		t.Fatalf("selected %q", got)
	}
	h.emit(api.Added, pod("default", "a-first", nil, "Running")) // sorts before web-1
	if got := objectKey(h.m.Selected()); got != "default/web-1" {
		t.Errorf("after an insert above, selected %q, want default/web-1", got)
	}
	h.keys("k", "k", "j")
	if got := objectKey(h.m.Selected()); got != "default/db-1" {
		t.Errorf("after k k j, selected %q, want default/db-1", got)
	}
}

func TestFilterByRegexAndLabels(t *testing.T) {
	h := newHarness(t, fixture(), Options{Namespace: "default"})
	h.keys("/", "^web")
	v := h.m.View()
	mustContain(t, v, "/^web", "web-1", "rows:1")
	mustNotContain(t, v, "db-1")
	h.keys("enter")
	mustContain(t, h.m.View(), "filter:/^web")

	h.keys("esc") // clears the filter
	mustContain(t, h.m.View(), "web-1", "db-1", "rows:2")

	h.keys("/", "-l app=db", "enter")
	v = h.m.View()
	mustContain(t, v, "db-1", "rows:1")
	mustNotContain(t, v, "web-1")

	h.keys("esc", "/", "Pend[", "enter") // not a regexp: a literal substring, matching nothing
	mustContain(t, h.m.View(), "rows:0")
}

func TestAllNamespacesAndBack(t *testing.T) {
	src := fixture()
	h := newHarness(t, src, Options{Namespace: "default"})
	h.keys("0")
	v := h.m.View()
	mustContain(t, v, "ns:all", "rows:3", "dns-1")
	all := src.objs["pods"]
	objs := []api.Object{all[1], all[0], all[2]}
	for _, line := range getLines(t, "pods", objs, true) {
		mustContain(t, v, line) // NAMESPACE first, as `minik8s get pods -A`
	}

	h.emit(api.Added, pod("kube-system", "proxy-1", nil, "Running"))
	mustContain(t, h.m.View(), "proxy-1", "rows:4")

	h.keys("esc")
	v = h.m.View()
	mustContain(t, v, "ns:default", "rows:2")
	mustNotContain(t, v, "dns-1", "proxy-1", "NAMESPACE")
}

func TestCommandBar(t *testing.T) {
	src := fixture()
	h := newHarness(t, src, Options{Namespace: "default"})

	h.keys(":", "rs")
	mustContain(t, h.m.View(), ":rs")
	h.keys("enter")
	v := h.m.View()
	mustContain(t, v, "kind:replicasets", "rows:1")
	for _, line := range getLines(t, "replicasets", src.objs["replicasets"], false) {
		mustContain(t, v, line)
	}

	h.keys(":", "pods app=web", "enter")
	v = h.m.View()
	mustContain(t, v, "kind:pods", "selector:app=web", "web-1", "rows:1")
	mustNotContain(t, v, "db-1")

	h.keys(":", "po kube-system", "enter")
	mustContain(t, h.m.View(), "ns:kube-system", "dns-1", "rows:1")

	h.keys(":", "no", "enter")
	mustContain(t, h.m.View(), "kind:nodes", "ns:-", "ROLE")

	h.keys(":", "nosuchkind", "enter")
	mustContain(t, h.m.View(), `unknown resource "nosuchkind"`, "kind:nodes")

	h.keys(":", "replica", "tab")
	mustContain(t, h.m.View(), ":replicasets")
	h.keys("esc")

	// esc walks back through the views.
	h.keys("esc")
	mustContain(t, h.m.View(), "kind:pods", "ns:kube-system")
	h.keys("esc", "esc")
	mustContain(t, h.m.View(), "kind:replicasets")

	want := []string{"pods ns=default sel=", "replicasets ns=default sel=", "pods ns=default sel=app=web",
		"pods ns=kube-system sel=", "nodes ns= sel=", "pods ns=kube-system sel=", "pods ns=default sel=app=web",
		"replicasets ns=default sel="}
	if got := src.tableLists(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("lists:\n got %q\nwant %q", got, want)
	}
}

func TestStaleWatchEventsAreDropped(t *testing.T) {
	src := fixture()
	h := newHarness(t, src, Options{Namespace: "default"})
	h.keys(":", "rs", "enter")
	// The pods watch was cancelled with its view; nothing reaches the model from it.
	if n := src.emit(api.Added, pod("default", "ghost", nil, "Running"), nil); n != 0 {
		t.Errorf("%d watches still open for pods", n)
	}
	mustNotContain(t, h.m.View(), "ghost")
}

func TestHelpListsEveryKey(t *testing.T) {
	h := newHarness(t, fixture(), Options{Namespace: "default"})
	h.send(tea.WindowSizeMsg{Width: 160, Height: 80})
	h.keys("?")
	v := h.m.View()
	for _, k := range []string{":KIND", ":pulses", "/REGEX", "0 a", "esc", "j k", "shift+LETTER", "ctrl-w", "enter", "d", "y", "l", "u", "s", "e", "ctrl-d", "?", "q ctrl-c",
		"n N", "f", "w", "p", "c"} {
		mustContain(t, v, "  "+k+" ")
	}
	// The sort keys of the pods' columns.
	for _, k := range []string{"N                      NAME", "R                      READY", "S                      STATUS", "E                      RESTARTS", "A                      AGE"} {
		mustContain(t, v, k)
	}
	h.keys("esc")
	mustContain(t, h.m.View(), "web-1")
}

func TestDeleteAsksFirst(t *testing.T) {
	src := fixture()
	h := newHarness(t, src, Options{Namespace: "default"})
	h.keys("j", "ctrl+d") // web-1
	mustContain(t, h.m.View(), "Delete pod/default/web-1?", "[y] yes", "[n] no")
	h.keys("n")
	if len(src.deleted) != 0 {
		t.Fatalf("deleted %q after n", src.deleted)
	}
	mustContain(t, h.m.View(), "delete cancelled", "web-1")

	h.keys("ctrl+d", "y")
	if fmt.Sprint(src.deleted) != "[pods default/web-1]" {
		t.Fatalf("deleted %q", src.deleted)
	}
	mustContain(t, h.m.View(), "deleted pod/default/web-1")
	h.emit(api.Deleted, pod("default", "web-1", nil, "Running"))
	v := h.m.View()
	mustContain(t, v, "rows:1")
	mustNotContain(t, v, "\nweb-1")
}

func TestReadOnlyDisablesDelete(t *testing.T) {
	src := fixture()
	h := newHarness(t, src, Options{Namespace: "default", ReadOnly: true})
	h.keys("ctrl+d", "y")
	if len(src.deleted) != 0 {
		t.Fatalf("deleted %q in read-only mode", src.deleted)
	}
	v := h.m.View()
	mustContain(t, v, "read-only")
	mustNotContain(t, v, "Delete pod/", "<ctrl-d>")
}

func TestDescribeAndYAML(t *testing.T) {
	describe := func(_ context.Context, res *api.Resource, obj api.Object) (string, error) {
		return "Name: " + obj.GetObjectMeta().Name + "\nKind: " + res.Kind + "\n", nil
	}
	h := newHarness(t, fixture(), Options{Namespace: "default", Describe: describe})
	h.keys("d")
	v := h.m.View()
	mustContain(t, v, "Describe pod/default/db-1", "Name: db-1", "Kind: Pod")
	h.keys("esc", "j", "y")
	v = h.m.View()
	mustContain(t, v, "YAML pod/default/web-1", "kind: Pod", "name: web-1", "app: web")
	h.keys("q") // back, not quit
	if h.quit {
		t.Fatal("q in the YAML view quit")
	}
	mustContain(t, h.m.View(), "rows:2")
	h.keys("q")
	if !h.quit {
		t.Fatal("q in the table did not quit")
	}
}

func TestReconnectListsAgain(t *testing.T) {
	src := fixture()
	h := newHarness(t, src, Options{Namespace: "default", RetryDelay: time.Hour})

	// 410 Gone: list again at once, with a fresh table.
	src.objs["pods"] = src.objs["pods"][1:] // web-1 went away while we were not watching
	src.emitError("pods", &api.Status{Code: http.StatusGone, Reason: api.StatusReasonGone})
	h.deliver()
	v := h.m.View()
	mustContain(t, v, "connected", "db-1", "rows:1")
	mustNotContain(t, v, "web-1", "reconnecting")
	if got := src.tableLists(); len(got) != 2 {
		t.Fatalf("lists %q, want a second list after 410", got)
	}

	// Another error while the server is down: "reconnecting" until a list succeeds.
	src.listErr = errors.New("connection refused")
	src.emitError("pods", &api.Status{Code: 500, Message: "etcd is down"})
	h.deliver()
	mustContain(t, h.m.View(), "reconnecting", "etcd is down")
	h.retry() // the retry timer fires
	mustContain(t, h.m.View(), "reconnecting", "connection refused")
	src.listErr = nil
	h.retry()
	v = h.m.View()
	mustContain(t, v, "connected", "db-1")
	mustNotContain(t, v, "reconnecting")
	h.emit(api.Added, pod("default", "web-3", nil, "Running")) // watching again
	mustContain(t, h.m.View(), "web-3")
}

func TestSmallScreenScrollsToCursor(t *testing.T) {
	var objs []api.Object
	for i := range 50 {
		objs = append(objs, pod("default", fmt.Sprintf("p-%02d", i), nil, "Running"))
	}
	h := newHarness(t, newFakeSource(objs...), Options{Namespace: "default"})
	h.send(tea.WindowSizeMsg{Width: 80, Height: 10})
	for range 20 {
		h.keys("j")
	}
	v := h.m.View()
	if n := strings.Count(v, "\n") + 1; n > 10 {
		t.Errorf("view has %d lines on a 10-line screen:\n%s", n, v)
	}
	mustContain(t, v, "p-20", "rows:50")
	mustNotContain(t, v, "p-00")
	h.keys("G")
	mustContain(t, h.m.View(), "p-49")
	h.keys("g")
	mustContain(t, h.m.View(), "p-00")
}
