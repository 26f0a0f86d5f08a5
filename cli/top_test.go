package cli_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/testserver"
)

func TestTop(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()

	_, errOut, err := run(t, s, "", "top", "pods")
	if err != nil || !strings.Contains(errOut, "No resources found in namespace \"default\"") {
		t.Fatalf("top pods before any report: %v %q", err, errOut)
	}
	node := &api.Node{ObjectMeta: api.ObjectMeta{Name: "node-1"}}
	created, err := s.Client.Nodes().Create(ctx, node)
	if err != nil {
		t.Fatal(err)
	}
	created.Status.Allocatable = api.ResourceList{"cpu": api.MustParseQuantity("2"), "memory": api.MustParseQuantity("1Gi")}
	if _, err := s.Client.Nodes().UpdateStatus(ctx, created); err != nil {
		t.Fatal(err)
	}
	pod := func(ns, name, cpu, mem string) api.PodMetrics {
		return api.PodMetrics{ObjectMeta: api.ObjectMeta{Namespace: ns, Name: name, UID: ns + name, Labels: map[string]string{"app": name[:3]}},
			Timestamp: api.Now(), Window: api.Duration{Duration: 5 * time.Second},
			Containers: []api.ContainerMetrics{
				{Name: "app", Usage: api.ResourceList{"cpu": api.MustParseQuantity(cpu), "memory": api.MustParseQuantity(mem)}},
				{Name: "side", Usage: api.ResourceList{"cpu": api.MustParseQuantity("10m"), "memory": api.MustParseQuantity("1Mi")}},
			}}
	}
	rep := &api.UsageReport{
		Node: api.NodeMetrics{ObjectMeta: api.ObjectMeta{Name: "node-1"}, Timestamp: api.Now(),
			Usage: api.ResourceList{"cpu": api.MustParseQuantity("500m"), "memory": api.MustParseQuantity("256Mi")}},
		Pods: []api.PodMetrics{pod("default", "web-1", "200m", "63Mi"), pod("default", "db-1", "390m", "20Mi"), pod("shop", "web-2", "40m", "10Mi")},
	}
	if err := s.Client.ReportUsage(ctx, rep); err != nil {
		t.Fatal(err)
	}

	out := mustRun(t, s, "top", "pods")
	want := "NAME    CPU(cores)   MEMORY(bytes)\ndb-1    400m         21Mi\nweb-1   210m         64Mi\n"
	if out != want {
		t.Errorf("top pods:\n%s\nwant:\n%s", out, want)
	}
	out = mustRun(t, s, "top", "pods", "-A", "--sort-by=memory")
	want = "NAMESPACE   NAME    CPU(cores)   MEMORY(bytes)\ndefault     web-1   210m         64Mi\ndefault     db-1    400m         21Mi\nshop        web-2   50m          11Mi\n"
	if out != want {
		t.Errorf("top pods -A --sort-by=memory:\n%s\nwant:\n%s", out, want)
	}
	out = mustRun(t, s, "top", "pods", "-l", "app=web", "--containers")
	want = "POD     NAME   CPU(cores)   MEMORY(bytes)\nweb-1   app    200m         63Mi\nweb-1   side   10m          1Mi\n"
	if out != want {
		t.Errorf("top pods --containers:\n%s\nwant:\n%s", out, want)
	}
	out = mustRun(t, s, "top", "nodes")
	want = "NAME     CPU(cores)   CPU%   MEMORY(bytes)   MEMORY%\nnode-1   500m         25%    256Mi           25%\n"
	if out != want {
		t.Errorf("top nodes:\n%s\nwant:\n%s", out, want)
	}
	if _, _, err := run(t, s, "", "top", "pods", "--sort-by=disk"); err == nil || !strings.Contains(err.Error(), "--sort-by") {
		t.Errorf("bad --sort-by: %v", err)
	}
	if _, _, err := run(t, s, "", "top", "pod", "nope"); err == nil || !strings.Contains(err.Error(), `no metrics for pod "nope"`) {
		t.Errorf("top pod nope: %v", err)
	}
}
