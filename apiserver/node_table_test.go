package apiserver_test

import (
	"testing"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/testserver"
	"github.com/minik8s/minik8s/client"
)

// TestNodeTable checks the Table answer for nodes, as kubectl gets it: each node's CPU and
// MEMORY cells sum the requests of the non-terminated Pods bound to it, in every namespace.
func TestNodeTable(t *testing.T) {
	s := testserver.Start(t)
	ctx := ctxFor(t)
	c := s.Client
	for _, name := range []string{"node-a", "node-b"} {
		n, err := c.Nodes().Create(ctx, &api.Node{ObjectMeta: api.ObjectMeta{Name: name,
			Labels: map[string]string{"node-role.kubernetes.io/control-plane": ""}}})
		if err != nil {
			t.Fatal(err)
		}
		if name == "node-b" {
			n.Labels = nil
			if n, err = c.Nodes().Update(ctx, n); err != nil {
				t.Fatal(err)
			}
		}
		alloc := api.ResourceList{api.ResourceCPU: api.MustParseQuantity("2"), api.ResourceMemory: api.MustParseQuantity("4Gi")}
		n.Status = api.NodeStatus{Allocatable: alloc, Capacity: alloc,
			Conditions: []api.NodeCondition{{Type: api.NodeReady, Status: api.ConditionTrue, LastHeartbeatTime: api.Now()}},
			Addresses:  []api.NodeAddress{{Type: "InternalIP", Address: "198.18.0.11"}}}
		if _, err := c.Nodes().UpdateStatus(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	ns := newNamespace(t, s)
	pod := func(ns, name, node, cpu, mem string) *api.Pod {
		p, err := c.Pods(ns).Create(ctx, &api.Pod{ObjectMeta: api.ObjectMeta{Name: name},
			Spec: api.PodSpec{NodeName: node, Containers: []api.Container{{Name: "c", Image: "busybox:latest",
				Resources: api.ResourceRequirements{Requests: api.ResourceList{
					api.ResourceCPU: api.MustParseQuantity(cpu), api.ResourceMemory: api.MustParseQuantity(mem)}}}}}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	pod("default", "web", "node-a", "100m", "64Mi")
	pod(ns, "db", "node-a", "150m", "32Mi")
	done := pod(ns, "job", "node-a", "1", "1Gi")
	done.Status.Phase = api.PodSucceeded
	if _, err := c.Pods(ns).UpdateStatus(ctx, done); err != nil {
		t.Fatal(err)
	}
	pod(ns, "pending", "", "1", "1Gi")

	tbl, err := c.Nodes().Dynamic().Table(ctx, "", client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, col := range tbl.ColumnDefinitions {
		names = append(names, col.Name)
	}
	if len(tbl.Rows) != 2 || len(names) != 12 || names[6] != "CPU" || names[7] != "Memory" {
		t.Fatalf("columns %v, %d rows", names, len(tbl.Rows))
	}
	want := [][]any{
		{"node-a", "control-plane", "Ready", "198.18.0.11", "10.244.0.0/24", "250m/2", "96Mi/4096Mi"},
		{"node-b", "worker", "Ready", "198.18.0.11", "10.244.1.0/24", "0/2", "0Mi/4096Mi"},
	}
	for i, row := range tbl.Rows {
		got := []any{row.Cells[0], row.Cells[1], row.Cells[2], row.Cells[4], row.Cells[5], row.Cells[6], row.Cells[7]}
		for j := range got {
			if got[j] != want[i][j] {
				t.Errorf("row %d: %v, want %v", i, got, want[i])
				break
			}
		}
	}
}
