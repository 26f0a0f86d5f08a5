package tui

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
)

// lineOf returns the first line of view that starts with prefix.
func lineOf(view, prefix string) string {
	for _, l := range strings.Split(view, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

func boundPod(ns, name, nodeName, cpu string) *api.Pod {
	p := pod(ns, name, map[string]string{"app": "web"}, "Running")
	p.Spec.NodeName = nodeName
	p.Spec.Containers[0].Resources.Requests = api.ResourceList{api.ResourceCPU: api.MustParseQuantity(cpu)}
	return p
}

func usage(name, cpu, mem string) api.NodeMetrics {
	return api.NodeMetrics{ObjectMeta: api.ObjectMeta{Name: name},
		Usage: api.ResourceList{api.ResourceCPU: api.MustParseQuantity(cpu), api.ResourceMemory: api.MustParseQuantity(mem)}}
}

func TestHeaderShowsClusterNodesAndUsage(t *testing.T) {
	src := fixture()
	src.objs["nodes"] = []api.Object{node("node-1", true, "4", "8Gi"), node("node-2", false, "2", "4Gi")}
	mt := &fakeMetrics{nodes: &api.NodeMetricsList{Items: []api.NodeMetrics{usage("node-1", "1500m", "2Gi"), usage("node-2", "500m", "1Gi")}}}
	h := newHarness(t, src, Options{Namespace: "default", Cluster: "lab", User: "admin", Metrics: mt})
	v := h.m.View()
	mustContain(t, v, "minik8s  cluster:lab  https://10.0.0.1:6443  user:admin", "nodes:1/2 ready", "cpu:2/6 (33%)", "mem:3.0Gi/12.0Gi (25%)")

	// The header follows the nodes' watch.
	h.emit(api.Modified, node("node-2", true, "2", "4Gi"))
	mustContain(t, h.m.View(), "nodes:2/2 ready")
	h.emit(api.Added, node("node-3", false, "2", "4Gi"))
	mustContain(t, h.m.View(), "nodes:2/3 ready", "cpu:2/8 (25%)")

	// Usage is read again on its tick; when it fails the header says so.
	mt.mu.Lock()
	mt.err = errors.New("the server could not find the requested resource")
	mt.mu.Unlock()
	h.send(metricsTickMsg{})
	v = h.m.View()
	mustContain(t, v, "nodes:2/3 ready", "metrics: n/a")
	mustNotContain(t, v, "cpu:")
}

func TestHeaderWithoutMetrics(t *testing.T) {
	h := newHarness(t, fixture(), Options{Namespace: "default"})
	mustContain(t, h.m.View(), "nodes:0/0 ready", "metrics: n/a")
}

func TestServiceEndpointsFollowTheirWatch(t *testing.T) {
	svc := &api.Service{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: api.ObjectMeta{Name: "web", Namespace: "default", CreationTimestamp: api.NewTime(t0.Add(-time.Hour))},
		Spec: api.ServiceSpec{Type: "ClusterIP", ClusterIP: "10.96.0.9", Selector: map[string]string{"app": "web"},
			Ports: []api.ServicePort{{Port: 80}}}}
	ep := func(ips ...string) *api.Endpoints {
		e := &api.Endpoints{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Endpoints"}, ObjectMeta: api.ObjectMeta{Name: "web", Namespace: "default"}}
		ss := api.EndpointSubset{Ports: []api.EndpointPort{{Port: 8080}}}
		for _, ip := range ips {
			ss.Addresses = append(ss.Addresses, api.EndpointAddress{IP: ip})
		}
		e.Subsets = []api.EndpointSubset{ss}
		return e
	}
	src := fixture()
	src.objs["services"] = []api.Object{svc}
	src.objs["endpoints"] = []api.Object{ep("10.244.1.7")}
	h := newHarness(t, src, Options{Namespace: "default"})
	h.keys(":", "svc", "enter")
	mustContain(t, lineOf(h.m.View(), "web "), "10.244.1.7:8080")
	mustContain(t, fmt.Sprint(src.tableLists()), "endpoints ns=default sel=")

	h.emit(api.Modified, ep("10.244.1.7", "10.244.2.3"))
	mustContain(t, lineOf(h.m.View(), "web "), "10.244.1.7:8080,10.244.2.3:8080")
	h.emit(api.Deleted, ep())
	mustContain(t, lineOf(h.m.View(), "web "), "<none>")

	// enter opens the Pods behind the Service.
	h.keys("enter")
	v := h.m.View()
	mustContain(t, v, "kind:pods", "of:service/web", "selector:app=web", "web-1", "rows:1")
}

func TestNodeUsageCellsWithWideColumns(t *testing.T) {
	src := fixture()
	src.objs["nodes"] = []api.Object{node("node-1", true, "4", "8Gi")}
	src.objs["pods"] = append(src.objs["pods"], boundPod("default", "bound-1", "node-1", "250m"))
	h := newHarness(t, src, Options{Namespace: "default"})
	h.keys(":", "no", "enter")
	v := h.m.View()
	mustNotContain(t, v, "CPU", "<unknown>")
	h.keys("ctrl+w")
	v = h.m.View()
	mustContain(t, v, "wide", "CPU", "MEMORY")
	mustContain(t, lineOf(v, "node-1 "), "250m/4", "0Mi/8192Mi")
	mustNotContain(t, v, "<unknown>/")

	// A Pod bound to the node changes its row.
	h.emit(api.Added, boundPod("kube-system", "bound-2", "node-1", "100m"))
	mustContain(t, lineOf(h.m.View(), "node-1 "), "350m/4")
	h.emit(api.Deleted, boundPod("default", "bound-1", "node-1", "250m"))
	mustContain(t, lineOf(h.m.View(), "node-1 "), "100m/4")

	// enter opens the node's Pods, in every namespace.
	h.keys("enter")
	mustContain(t, h.m.View(), "kind:pods", "of:node/node-1", "ns:all")
	lists := src.tableLists()
	if got := lists[len(lists)-1]; got != "pods ns= sel= fields=spec.nodeName=node-1" {
		t.Errorf("last list %q", got)
	}
}

func TestHPAKind(t *testing.T) {
	src := fixture()
	hpa := loadFixture(t, "hpa", "hpa")
	hpa.GetObjectMeta().Namespace = "default"
	src.objs["horizontalpodautoscalers"] = []api.Object{hpa}
	h := newHarness(t, src, Options{Namespace: "default", Now: func() time.Time { return fixtureNow }})
	h.keys(":", "hpa", "enter")
	v := h.m.View()
	mustContain(t, v, "kind:horizontalpodautoscalers", "rows:1")
	got := getLinesAt(t, "hpa", []api.Object{hpa}, false, fixtureNow)
	for _, l := range got {
		mustContain(t, v, l)
	}
	h.keys("enter") // the ReplicaSet it scales
	mustContain(t, h.m.View(), "kind:replicasets", "of:horizontalpodautoscaler/web", "rows:1", "web ")
}

// getLinesAt is getLines with a clock.
func getLinesAt(t *testing.T, res string, objs []api.Object, allNS bool, now time.Time) []string {
	t.Helper()
	tab, err := api.BuildTable(api.LookupResource(res), objs, now, false)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := api.FormatTable(&b, tab, api.TableOptions{WithNamespace: allNS}); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		out = append(out, strings.TrimRight(l, " "))
	}
	return out
}

func TestAIsAllNamespaces(t *testing.T) {
	h := newHarness(t, fixture(), Options{Namespace: "default"})
	h.keys("a")
	mustContain(t, h.m.View(), "ns:all", "rows:3", "dns-1", "NAMESPACE")
}

func TestSortByColumn(t *testing.T) {
	young := pod("default", "a-young", nil, "Running")
	young.CreationTimestamp = api.NewTime(t0.Add(-30 * time.Second))
	old := pod("default", "z-old", nil, "Pending")
	old.CreationTimestamp = api.NewTime(t0.Add(-3 * time.Hour))
	src := newFakeSource(pod("default", "m-mid", nil, "Running"), young, old)
	h := newHarness(t, src, Options{Namespace: "default"})
	order := func() string {
		var names []string
		for _, r := range h.m.tbl.shown {
			names = append(names, r.obj.GetObjectMeta().Name)
		}
		return strings.Join(names, " ")
	}
	if got := order(); got != "a-young m-mid z-old" {
		t.Fatalf("kubectl order: %s", got)
	}
	h.keys("j") // m-mid
	h.keys("N")
	mustContain(t, h.m.View(), "sort:NAME↑", "NAME↑")
	h.keys("N")
	if got := order(); got != "z-old m-mid a-young" {
		t.Errorf("NAME↓: %s", got)
	}
	mustContain(t, h.m.View(), "sort:NAME↓")
	if got := objectKey(h.m.Selected()); got != "default/m-mid" {
		t.Errorf("the cursor left m-mid: %s", got)
	}
	h.keys("A")
	if got := order(); got != "a-young m-mid z-old" {
		t.Errorf("AGE↑ (youngest first): %s", got)
	}
	h.keys("S")
	if got := order(); got != "z-old a-young m-mid" {
		t.Errorf("STATUS↑: %s", got)
	}
	h.keys("X")
	mustContain(t, h.m.View(), "no column sorts with X")
	// The rows of a new Pod land in sorted place.
	h.emit(api.Added, pod("default", "b-new", nil, "Failed"))
	if got := order(); got != "b-new z-old a-young m-mid" {
		t.Errorf("STATUS↑ after an add: %s", got)
	}
}

func TestAgesMoveOn(t *testing.T) {
	var mu sync.Mutex
	now := t0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h := newHarness(t, fixture(), Options{Namespace: "default", Now: clock})
	mustContain(t, lineOf(h.m.View(), "web-1 "), "5m")
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	h.send(ageTickMsg{})
	mustContain(t, lineOf(h.m.View(), "web-1 "), "7m")
}

func TestLogs(t *testing.T) {
	src := fixture()
	src.logs["default/web-1/main"] = "starting\nlistening on :8080\n\x1b[31mERROR\x1b[0m boom\tnow\n"
	src.logs["default/web-1/main/previous"] = "the run before\n"
	h := newHarness(t, src, Options{Namespace: "default"})
	h.keys("j", "l")
	h.untilShown("ERROR boom")
	v := h.m.View()
	mustContain(t, v, "Logs pod/default/web-1 › main", "streaming", "starting", "listening on :8080", "ERROR boom    now", "follow:on", "wrap:off")
	mustNotContain(t, v, "\x1b[31m")
	if got := fmt.Sprint(src.logReads); got != "[default/web-1/main previous=false follow=true tail=500]" {
		t.Errorf("log reads %s", got)
	}

	// Following: new output appears at the bottom.
	src.writeLog(t, "default/web-1/main", "GET / 200\nGET /health 200\n")
	h.untilShown("GET /health 200")

	// Search.
	h.keys("/", "GET", "enter")
	v = h.m.View()
	mustContain(t, v, "/GET (2 lines)", "follow:off")
	if h.m.logs.cur != 4 {
		t.Errorf("the search went to line %d, want the last match, 4", h.m.logs.cur)
	}
	h.keys("N")
	if h.m.logs.cur != 3 {
		t.Errorf("N went to line %d, want 3", h.m.logs.cur)
	}
	h.keys("N")
	mustContain(t, h.m.View(), "no earlier line matches /GET")
	h.keys("n")
	if h.m.logs.cur != 4 {
		t.Errorf("n went to line %d, want 4", h.m.logs.cur)
	}
	h.keys("esc") // clears the search
	mustNotContain(t, h.m.View(), "/GET")

	// Wrap.
	h.keys("w")
	mustContain(t, h.m.View(), "wrap:on")

	// The previous run.
	h.keys("p")
	h.untilShown("the run before")
	v = h.m.View()
	mustContain(t, v, "[previous]", "the run before", "previous:on")
	mustNotContain(t, v, "listening on")

	h.keys("c")
	mustContain(t, h.m.View(), "the pod has one container")

	h.keys("esc")
	v = h.m.View()
	mustContain(t, v, "kind:pods", "web-1")
	if h.m.logs != nil {
		t.Error("the log view is still open")
	}
}

func TestLogsContainersAndBoundedBuffer(t *testing.T) {
	p := pod("default", "two", nil, "Running")
	p.Spec.Containers = append(p.Spec.Containers, api.Container{Name: "sidecar", Image: "busybox"})
	src := newFakeSource(p)
	var lines strings.Builder
	for i := range 250 {
		fmt.Fprintf(&lines, "main line %d\n", i)
	}
	src.logs["default/two/main"] = lines.String()
	src.logs["default/two/sidecar"] = "sidecar says hi\n"
	h := newHarness(t, src, Options{Namespace: "default", LogMax: 100})
	h.keys("enter") // enter on a Pod opens its logs
	h.until("250 lines", func() bool { return len(h.m.logs.lines)+h.m.logs.dropped == 250 })
	if n := len(h.m.logs.lines); n != 100 {
		t.Errorf("%d lines kept, want 100", n)
	}
	v := h.m.View()
	mustContain(t, v, "› main (1/2)", "main line 249", "<c>container")
	mustNotContain(t, v, "main line 149\n")
	h.keys("g")
	mustContain(t, h.m.View(), "main line 150")

	h.keys("c")
	h.untilShown("› sidecar (2/2)", "sidecar says hi")
}

func TestLogsOfAMissingContainer(t *testing.T) {
	h := newHarness(t, fixture(), Options{Namespace: "default"})
	h.keys("l")
	h.untilShown("error: no logs for default/db-1/main")
	h.keys("q")
	h.keys(":", "rs", "enter", "l")
	mustContain(t, h.m.View(), "l shows the logs of Pods")
}

func TestScaleReplicaSet(t *testing.T) {
	src := fixture()
	h := newHarness(t, src, Options{Namespace: "default"})
	h.keys("s")
	mustContain(t, h.m.View(), "s scales ReplicaSets")
	h.keys(":", "rs", "enter", "s")
	mustContain(t, h.m.View(), "Scale replicaset/default/web to how many replicas?", "3█")
	h.keys("backspace", "x", "5", "enter")
	if got := fmt.Sprint(src.patched); got != `[replicasets default/web {"spec":{"replicas":5}}]` {
		t.Fatalf("patched %s", got)
	}
	mustContain(t, h.m.View(), "scaled replicaset/default/web to 5")

	h.keys("s", "esc")
	mustContain(t, h.m.View(), "scale cancelled")
	if len(src.patched) != 1 {
		t.Errorf("esc patched: %q", src.patched)
	}
}

func TestReadOnlyDisablesEveryChange(t *testing.T) {
	src := fixture()
	h := newHarness(t, src, Options{Namespace: "default", ReadOnly: true, Editor: "false"})
	h.keys("e")
	mustContain(t, h.m.View(), "read-only: edit is disabled")
	h.keys(":", "rs", "enter", "s")
	mustContain(t, h.m.View(), "read-only: scale is disabled")
	h.keys("ctrl+d")
	mustContain(t, h.m.View(), "read-only: delete is disabled")
	h.keys("y", "esc")
	mustNotContain(t, h.m.View(), "<s>", "<e>", "<ctrl-d>")
	if len(src.patched)+len(src.deleted)+len(src.updated) != 0 {
		t.Errorf("read-only changed the cluster: %q %q %v", src.patched, src.deleted, src.updated)
	}
}

// editor writes a shell script that stands in for $EDITOR: it keeps a copy of what it was
// given, then runs sedExpr on the file.
func editor(t *testing.T, sedExpr string) (cmd, seen string) {
	t.Helper()
	dir := t.TempDir()
	seen = filepath.Join(dir, "seen.yaml")
	script := filepath.Join(dir, "ed.sh")
	body := fmt.Sprintf("#!/bin/sh\ncp \"$1\" %q\nsed -i %q \"$1\"\n", seen, sedExpr)
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return "sh " + script, seen
}

// runNow runs the editor at once, without a terminal to hand over.
func runNow(cmd *exec.Cmd, done tea.ExecCallback) tea.Cmd {
	return func() tea.Msg { return done(cmd.Run()) }
}

func TestEditUpdatesTheObject(t *testing.T) {
	src := fixture()
	src.objs["replicasets"][0].GetObjectMeta().ResourceVersion = "42"
	ed, seen := editor(t, "s/replicas: 3/replicas: 7/")
	h := newHarness(t, src, Options{Namespace: "default", Editor: ed, Exec: runNow})
	h.keys(":", "rs", "enter", "e")
	// Only the change goes to the server, as a merge patch: no resourceVersion, no status, so
	// that it applies over whatever a controller wrote meanwhile.
	if len(src.patched) != 1 || src.patched[0] != `replicasets default/web {"spec":{"replicas":7}}` {
		t.Fatalf("patched %q", src.patched)
	}
	mustContain(t, h.m.View(), "edited replicaset/default/web")
	b, _ := os.ReadFile(seen)
	mustContain(t, string(b), "# Please edit the object below", "kind: ReplicaSet", "replicas: 3")
}

func TestEditKeepsRefusedText(t *testing.T) {
	src := fixture()
	src.patchErr = &client.StatusError{Status: api.Status{Code: 422, Reason: api.StatusReasonInvalid,
		Message: `ReplicaSet.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0`}}
	ed, seen := editor(t, "s/replicas: 3/replicas: -1/")
	h := newHarness(t, src, Options{Namespace: "default", Editor: ed, Exec: runNow})
	h.send(tea.WindowSizeMsg{Width: 200, Height: 20})
	h.keys(":", "rs", "enter", "e")
	mustContain(t, h.m.View(), "edit replicaset/default/web refused", "spec.replicas: Invalid value: -1")

	// The next e reopens the user's text, with the error on top.
	src.patchErr = nil
	h.keys("e")
	b, _ := os.ReadFile(seen)
	mustContain(t, string(b), "# The last save was refused:", "# ReplicaSet.apps \"web\" is invalid: spec.replicas", "replicas: -1")
	// The editor changed nothing this time (no "replicas: 3" left): the edit is cancelled
	// and forgotten.
	mustContain(t, h.m.View(), "edit cancelled: no changes")
	if len(src.patched) != 0 {
		t.Errorf("updated %v", src.patched)
	}
}

func TestEditRefusesUnknownFields(t *testing.T) {
	src := fixture()
	ed, _ := editor(t, "s/replicas: 3/replicaz: 3/")
	h := newHarness(t, src, Options{Namespace: "default", Editor: ed, Exec: runNow})
	h.keys(":", "rs", "enter", "e")
	mustContain(t, h.m.View(), "refused", "spec.replicaz")
	if len(src.patched) != 0 {
		t.Errorf("a bad manifest was sent: %v", src.patched)
	}
	if _, ok := h.m.edits["replicasets/default/web"]; !ok {
		t.Error("the refused text was not kept")
	}
}

func TestDrillDown(t *testing.T) {
	src := fixture()
	src.objs["namespaces"] = []api.Object{&api.Namespace{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: api.ObjectMeta{Name: "kube-system"}, Status: api.NamespaceStatus{Phase: "Active"}}}
	h := newHarness(t, src, Options{Namespace: "default"})
	h.keys(":", "rs", "enter", "enter")
	v := h.m.View()
	mustContain(t, v, "kind:pods", "of:replicaset/web", "selector:app=web", "web-1", "rows:1")
	mustNotContain(t, v, "db-1")
	h.keys("esc")
	mustContain(t, h.m.View(), "kind:replicasets")

	h.keys(":", "ns", "enter", "enter")
	v = h.m.View()
	mustContain(t, v, "kind:pods", "ns:kube-system", "dns-1", "rows:1")
}

func TestPulses(t *testing.T) {
	src := fixture()
	src.objs["nodes"] = []api.Object{node("node-1", true, "4", "8Gi")}
	pts := func(cpu ...int64) []api.UsagePoint {
		var out []api.UsagePoint
		for _, c := range cpu {
			out = append(out, api.UsagePoint{CPUMilli: c, MemoryBytes: c << 20})
		}
		return out
	}
	mt := &fakeMetrics{history: map[string]*api.UsageHistory{
		"pod/default/web-1": {Points: pts(0, 100, 200, 300, 400, 500, 600, 700)},
		"node/node-1":       {Points: pts(1000, 2000)},
	}}
	h := newHarness(t, src, Options{Namespace: "default", Metrics: mt})
	h.keys("j", "u")
	v := h.m.View()
	mustContain(t, v, "Pulse pod/default/web-1", "cpu ▁▂▃▄▅▆▇█", "now 700m", "min 0m", "max 700m", "mem ▁▂▃▄▅▆▇█", "now 700Mi")

	// It reads again on its tick.
	mt.history["pod/default/web-1"] = &api.UsageHistory{Points: pts(700, 0)}
	h.send(pulseTickMsg{gen: h.m.pulse.gen})
	mustContain(t, h.m.View(), "cpu █▁")
	h.keys("esc")

	// Until the API serves the samples, the view says so.
	h.keys("k", "u")
	mustContain(t, h.m.View(), "metrics not available yet", "could not find")
	h.keys("q")

	h.keys(":", "pulses", "enter")
	mustContain(t, h.m.View(), "Pulses: every node", "node/node-1", "cpu ▄█", "now 2")
}

func TestPulsesWithoutMetrics(t *testing.T) {
	h := newHarness(t, fixture(), Options{Namespace: "default"})
	h.keys("u")
	mustContain(t, h.m.View(), "metrics not available yet")
}

// TestScreenFitsEverySize checks that the screen is never taller or wider than the terminal,
// small or large, and follows a resize.
func TestScreenFitsEverySize(t *testing.T) {
	var objs []api.Object
	for i := range 60 {
		objs = append(objs, pod("default", fmt.Sprintf("a-rather-long-pod-name-for-a-small-screen-%02d", i), nil, "Running"))
	}
	src := newFakeSource(objs...)
	src.logs["default/a-rather-long-pod-name-for-a-small-screen-00/main"] = strings.Repeat("a very long log line ", 20) + "\n"
	h := newHarness(t, src, Options{Namespace: "default"})
	check := func(w, hgt int) {
		t.Helper()
		v := h.m.View()
		lines := strings.Split(v, "\n")
		if len(lines) != hgt {
			t.Errorf("%dx%d: %d lines", w, hgt, len(lines))
		}
		for _, l := range lines {
			if n := ansi.StringWidth(l); n > w {
				t.Errorf("%dx%d: a line of %d columns: %q", w, hgt, n, l)
			}
		}
	}
	for _, size := range [][2]int{{80, 24}, {200, 60}, {40, 10}} {
		h.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		check(size[0], size[1])
		h.keys("?")
		check(size[0], size[1])
		h.keys("esc", "d")
		check(size[0], size[1])
		h.keys("esc", "ctrl+d")
		check(size[0], size[1])
		h.keys("n")
	}
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.keys("g", "l")
	h.untilShown("a very long log line")
	check(80, 24)
	h.keys("w")
	check(80, 24)
	mustContain(t, h.m.View(), "a very long log line a very long")
}

func TestReadBoundedLine(t *testing.T) {
	long := strings.Repeat("x", 100000)
	r := bufio.NewReaderSize(strings.NewReader(long+"\nshort\n"), 4096)
	line, err := readBoundedLine(r, 16<<10)
	if err != nil || len(line) != 16<<10 {
		t.Fatalf("long line: %d bytes, %v", len(line), err)
	}
	line, err = readBoundedLine(r, 16<<10)
	if err != nil || line != "short\n" {
		t.Fatalf("next line %q, %v", line, err)
	}
	if _, err := readBoundedLine(r, 16<<10); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}
