package cli_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/testserver"
)

// TestGetNodes checks `get nodes` as a user sees it: role, status, address and pod subnet, and
// with -o wide what the node's Pods request against what it offers.
func TestGetNodes(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	c := s.Client
	n, err := c.Nodes().Create(ctx, &api.Node{ObjectMeta: api.ObjectMeta{Name: "node-1",
		Labels: map[string]string{"node-role.kubernetes.io/control-plane": ""}}})
	if err != nil {
		t.Fatal(err)
	}
	alloc := api.ResourceList{api.ResourceCPU: api.MustParseQuantity("2"), api.ResourceMemory: api.MustParseQuantity("4028428Ki")}
	n.Status = api.NodeStatus{Allocatable: alloc, Capacity: alloc,
		Conditions: []api.NodeCondition{{Type: api.NodeReady, Status: api.ConditionTrue, LastHeartbeatTime: api.Now()}},
		Addresses:  []api.NodeAddress{{Type: "InternalIP", Address: "198.18.0.11"}},
		NodeInfo: api.NodeSystemInfo{KubeletVersion: "v0.1.0", OSImage: "Debian GNU/Linux 13 (trixie)", KernelVersion: "6.12.0",
			ContainerRuntimeVersion: "containerd://2.1.0"}}
	if _, err := c.Nodes().UpdateStatus(ctx, n); err != nil {
		t.Fatal(err)
	}
	w, err := c.Nodes().Create(ctx, &api.Node{ObjectMeta: api.ObjectMeta{Name: "node-2"}, Spec: api.NodeSpec{Unschedulable: true}})
	if err != nil {
		t.Fatal(err)
	}
	w.Status.Conditions = []api.NodeCondition{{Type: api.NodeReady, Status: api.ConditionUnknown, Reason: "NodeStatusUnknown"}}
	if _, err := c.Nodes().UpdateStatus(ctx, w); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ name, cpu, mem string }{{"web", "200m", "64Mi"}, {"db", "50m", "16Mi"}} {
		if _, err := c.Pods("kube-system").Create(ctx, &api.Pod{ObjectMeta: api.ObjectMeta{Name: p.name},
			Spec: api.PodSpec{NodeName: "node-1", Containers: []api.Container{{Name: "c", Image: "busybox:latest",
				Resources: api.ResourceRequirements{Requests: api.ResourceList{
					api.ResourceCPU: api.MustParseQuantity(p.cpu), api.ResourceMemory: api.MustParseQuantity(p.mem)}}}}}}); err != nil {
			t.Fatal(err)
		}
	}

	out := mustRun(t, s, "get", "nodes")
	want := regexp.MustCompile(`^NAME     ROLE            STATUS                        AGE\s+ADDRESS       POD-CIDR\n` +
		`node-1   control-plane   Ready                         \d+s\s+198\.18\.0\.11   10\.244\.0\.0/24\n` +
		`node-2   worker          NotReady,SchedulingDisabled   \d+s\s+<none>        10\.244\.1\.0/24\n$`)
	if !want.MatchString(out) {
		t.Fatalf("get nodes:\n%s", out)
	}
	out = mustRun(t, s, "get", "no", "-o", "wide")
	if !regexp.MustCompile(`(?m)^NAME\s+ROLE\s+STATUS\s+AGE\s+ADDRESS\s+POD-CIDR\s+CPU\s+MEMORY\s+VERSION\s+OS-IMAGE\s+KERNEL-VERSION\s+CONTAINER-RUNTIME$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^node-1\s+control-plane\s+Ready\s+\d+s\s+198\.18\.0\.11\s+10\.244\.0\.0/24\s+250m/2\s+80Mi/3934Mi\s+v0\.1\.0\s+Debian GNU/Linux 13 \(trixie\)\s+6\.12\.0\s+containerd://2\.1\.0$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^node-2\s+worker\s+NotReady,SchedulingDisabled\s+\d+s\s+<none>\s+10\.244\.1\.0/24\s+0/<unknown>\s+0Mi/<unknown>\s+<unknown>\s+<unknown>\s+<unknown>\s+<unknown>$`).MatchString(out) {
		t.Fatalf("get nodes -o wide:\n%s", out)
	}
	out = mustRun(t, s, "get", "node", "node-1", "-o", "wide")
	if !regexp.MustCompile(`(?m)^node-1\s+control-plane\s+Ready\s+\d+s\s+198\.18\.0\.11\s+10\.244\.0\.0/24\s+250m/2\s+80Mi/3934Mi\s`).MatchString(out) {
		t.Fatalf("get node node-1 -o wide:\n%s", out)
	}
}
