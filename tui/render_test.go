package tui

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
)

// fixtureNow is the clock of the fixtures: their timestamps are a little before it.
var fixtureNow = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

// loadFixture decodes testdata/NAME.json, strictly, into an object of kind res.
func loadFixture(t testing.TB, name, res string) api.Object {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	obj := api.LookupResource(res).New()
	if err := api.DecodeStrict(data, obj); err != nil {
		t.Fatalf("%s.json: %v", name, err)
	}
	return obj
}

// fixtureContext is what the fixture rows need of other objects: the Pod (on node-1) for the
// Node's CPU and MEMORY, the Endpoints for the Service's ENDPOINTS.
func fixtureContext(t testing.TB) *api.TableContext {
	tc := &api.TableContext{}
	tc.Add("pods", []api.Object{loadFixture(t, "pod", "pods")})
	tc.Add("endpoints", []api.Object{loadFixture(t, "endpoints", "endpoints")})
	return tc
}

var renderCases = []struct {
	fixture, res string
	cells        []string
	tone         Tone
}{
	{"pod", "pods", []string{"web-7d4b9", "1/2", "ContainerCreating", "3 (10m ago)", "90m", "10.244.1.7", "node-1", "<none>", "<none>"}, ToneWarn},
	{"node", "nodes", []string{"node-1", "control-plane", "Ready", "3d", "198.18.0.11", "10.244.1.0/24", "350m/4", "96Mi/7936Mi",
		"v0.1.0", "Debian GNU/Linux 12 (bookworm)", "6.1.0-18-amd64", "containerd://1.7.27"}, ToneNormal},
	{"service", "services", []string{"web", "NodePort", "10.96.0.42", "80:8080:30080/TCP",
		"10.244.1.7:8080,10.244.2.3:8080,10.244.2.9:8080 + 1 more...", "60m", "app=web"}, ToneNormal},
	{"endpoints", "endpoints", []string{"web", "10.244.1.7:8080,10.244.2.3:8080,10.244.2.9:8080 + 1 more...", "59m"}, ToneNormal},
	{"rs", "replicasets", []string{"web", "3/4", "2", "24h", "app,sidecar", "echo:latest,busybox:latest", "app=web"}, ToneWarn},
	{"ns", "namespaces", []string{"shop", "Terminating", "60d"}, ToneDim},
	{"secret", "secrets", []string{"db-password", "Opaque", "2", "2m30s"}, ToneNormal},
	{"event", "events", []string{"2m", "Warning", "BackOff", "pod/web-7d4b9", "spec.containers{app}", "kubelet, node-1",
		"Back-off restarting failed container app...", "20m", "7", "web-7d4b9.17a3c"}, ToneWarn},
	{"hpa", "hpa", []string{"web", "ReplicaSet/web", "cpu: 73%/60%, memory: <unknown>/500Mi", "2", "10", "3", "3h"}, ToneNormal},
}

// TestRenderersOnFixtures renders one object of every kind from its JSON and checks each cell
// and the row's tone.
func TestRenderersOnFixtures(t *testing.T) {
	reg := NewRegistry()
	tc := fixtureContext(t)
	for _, c := range renderCases {
		t.Run(c.fixture, func(t *testing.T) {
			obj := loadFixture(t, c.fixture, c.res)
			rd := reg.For(api.LookupResource(c.res))
			row := rd.Render(obj, fixtureNow, tc)
			if fmt.Sprintf("%q", row.Cells) != fmt.Sprintf("%q", c.cells) {
				t.Errorf("cells\n got %q\nwant %q", row.Cells, c.cells)
			}
			if row.Tone != c.tone {
				t.Errorf("tone %d, want %d", row.Tone, c.tone)
			}
			if len(rd.Columns) != len(row.Cells) {
				t.Errorf("%d columns for %d cells", len(rd.Columns), len(row.Cells))
			}
			// Pure: the same arguments give the same row.
			if again := rd.Render(obj, fixtureNow, tc); fmt.Sprint(again) != fmt.Sprint(row) {
				t.Errorf("a second render differs: %q", again.Cells)
			}
		})
	}
}

// TestRowsMatchGet lays out the fixture rows as the table does and compares them with what
// `minik8s get` prints (api.BuildTableWith through api.FormatTable), default and wide, in one
// namespace and across all of them.
func TestRowsMatchGet(t *testing.T) {
	reg := NewRegistry()
	tc := fixtureContext(t)
	for _, c := range renderCases {
		res := api.LookupResource(c.res)
		obj := loadFixture(t, c.fixture, c.res)
		for _, wide := range []bool{false, true} {
			for _, allNS := range []bool{false, true} {
				if allNS && !res.Namespaced {
					continue
				}
				name := fmt.Sprintf("%s/wide=%v/all=%v", c.fixture, wide, allNS)
				tab := newTable(res, reg.For(res), allNS, wide)
				ctx := *tc
				ctx.Wide = wide
				tab.tc = &ctx
				tab.set(obj, fixtureNow)
				tab.settle()
				got := []string{tab.header(), tab.line(tab.shown[0])}

				table, err := api.BuildTableWith(res, []api.Object{obj}, fixtureNow, false, &ctx)
				if err != nil {
					t.Fatal(err)
				}
				var b bytes.Buffer
				if err := api.FormatTable(&b, table, api.TableOptions{Wide: wide, WithNamespace: allNS, Namespaces: []string{obj.GetObjectMeta().Namespace}}); err != nil {
					t.Fatal(err)
				}
				var want []string
				for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
					want = append(want, strings.TrimRight(l, " "))
				}
				if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
					t.Errorf("%s:\n got %q\nwant %q", name, got, want)
				}
			}
		}
	}
}

// TestRegistryPlugsInNewKinds shows how a kind of a later issue gets its own columns.
func TestRegistryPlugsInNewKinds(t *testing.T) {
	reg := NewRegistry()
	res := api.LookupResource("secrets")
	reg.Register(res, Renderer{
		Columns: []api.TableColumnDefinition{{Name: "Name"}, {Name: "Keys"}},
		Cells: func(obj api.Object, _ time.Time, _ *api.TableContext) []any {
			s := obj.(*api.Secret)
			return []any{s.Name, int64(len(s.Data))}
		},
	})
	row := reg.For(res).Render(loadFixture(t, "secret", "secrets"), fixtureNow, nil)
	if fmt.Sprint(row.Cells) != "[db-password 2]" {
		t.Errorf("cells %q", row.Cells)
	}
}

func TestUnknownContextShowsUnknown(t *testing.T) {
	reg := NewRegistry()
	svc := reg.For(api.LookupResource("services")).Render(loadFixture(t, "service", "services"), fixtureNow, nil)
	if svc.Cells[4] != "<unknown>" {
		t.Errorf("ENDPOINTS without endpoints = %q", svc.Cells[4])
	}
	tc := &api.TableContext{}
	tc.Add("endpoints", nil) // listed, none for this service
	svc = reg.For(api.LookupResource("services")).Render(loadFixture(t, "service", "services"), fixtureNow, tc)
	if svc.Cells[4] != "<none>" {
		t.Errorf("ENDPOINTS with no Endpoints object = %q", svc.Cells[4])
	}
}

func TestPodTones(t *testing.T) {
	for _, c := range []struct {
		status, ready string
		want          Tone
	}{
		{"Running", "1/1", ToneNormal},
		{"Running", "0/1", ToneWarn},
		{"Pending", "0/1", ToneWarn},
		{"ContainerCreating", "0/1", ToneWarn},
		{"Init:0/1", "0/1", ToneWarn},
		{"Init:CrashLoopBackOff", "0/1", ToneError},
		{"Completed", "0/1", ToneDim},
		{"Terminating", "1/1", ToneDim},
		{"CrashLoopBackOff", "0/1", ToneError},
		{"ErrImagePull", "0/1", ToneError},
		{"Failed", "0/1", ToneError},
	} {
		if got := podTone(c.status, c.ready); got != c.want {
			t.Errorf("podTone(%q, %q) = %d, want %d", c.status, c.ready, got, c.want)
		}
	}
}

func TestSortKeys(t *testing.T) {
	for _, c := range []struct {
		titles []string
		want   string
	}{
		{[]string{"NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"}, "PNRSEA"},
		{[]string{"NAME", "ROLE", "STATUS", "AGE", "ADDRESS", "POD-CIDR"}, "NRSADO"},
		{[]string{"NAME", "TYPE", "CLUSTER-IP", "PORT(S)", "ENDPOINTS", "AGE"}, "NTCOEA"},
		{[]string{"LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"}, "LTROM"},
		{[]string{"NAME", "GG"}, "N_"}, // G is the bottom key
	} {
		var got strings.Builder
		for _, k := range sortKeys(c.titles) {
			if k == 0 {
				k = '_'
			}
			got.WriteRune(k)
		}
		if got.String() != c.want {
			t.Errorf("sortKeys(%q) = %s, want %s", c.titles, got.String(), c.want)
		}
	}
}

func TestSortValues(t *testing.T) {
	ordered := [][]string{
		{"2", "10", "abc"},                   // numbers by value
		{"90s", "5m30s", "3h", "2d4h", "1y"}, // ages by duration
		{"web-2", "web-10", "web-10a"},       // digits as numbers
		{"1/3", "2/3", "10/10"},
		{"1 (5m ago)", "3 (10m ago)", "12"},
	}
	for _, list := range ordered {
		for i := 0; i+1 < len(list); i++ {
			a, b := makeSortValue(list[i]), makeSortValue(list[i+1])
			if compareSortValues(a, b) >= 0 || compareSortValues(b, a) <= 0 {
				t.Errorf("%q should sort before %q", list[i], list[i+1])
			}
		}
	}
	if d, ok := parseAge("3d4h"); !ok || d != 76*time.Hour {
		t.Errorf("parseAge(3d4h) = %v, %v", d, ok)
	}
	for _, bad := range []string{"", "h", "5x", "Running", "5m3"} {
		if _, ok := parseAge(bad); ok {
			t.Errorf("parseAge(%q) parsed", bad)
		}
	}
}

func TestSparkline(t *testing.T) {
	for _, c := range []struct {
		values []int64
		width  int
		want   string
	}{
		{[]int64{0, 1, 2, 3, 4, 5, 6, 7}, 8, "▁▂▃▄▅▆▇█"},
		{[]int64{0, 0, 0}, 8, "▁▁▁"},
		{[]int64{10, 20, 40, 80}, 2, "▄█"}, // the last width values
		{[]int64{5}, 0, ""},
	} {
		if got := sparkline(c.values, c.width); got != c.want {
			t.Errorf("sparkline(%v, %d) = %q, want %q", c.values, c.width, got, c.want)
		}
	}
}
