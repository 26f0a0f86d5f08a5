//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
)

func nodes(t *testing.T) []api.Node {
	t.Helper()
	var list struct{ Items []api.Node }
	if err := json.Unmarshal([]byte(mustRun(t, "get", "nodes", "-o", "json")), &list); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func nodeReady(n api.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == api.NodeReady {
			return c.Status == api.ConditionTrue
		}
	}
	return false
}

// TestNodes: three nodes are Ready, the first is the control plane, each has its own pod
// subnet and address.
func TestNodes(t *testing.T) {
	list := nodes(t)
	if len(list) != 3 {
		t.Fatalf("%d nodes, want 3", len(list))
	}
	subnets := map[string]bool{}
	for i, n := range list {
		if want := fmt.Sprintf("node-%d", i+1); n.Name != want {
			t.Errorf("node %d is %q, want %q", i, n.Name, want)
		}
		if !nodeReady(n) {
			t.Errorf("node %s is not Ready: %+v", n.Name, n.Status.Conditions)
		}
		_, cp := n.Labels["node-role.kubernetes.io/control-plane"]
		if cp != (i == 0) {
			t.Errorf("node %s: control-plane role %v", n.Name, cp)
		}
		if subnets[n.Spec.PodCIDR] || !strings.HasPrefix(n.Spec.PodCIDR, "10.244.") {
			t.Errorf("node %s: pod subnet %q is not a unique part of 10.244.0.0/16", n.Name, n.Spec.PodCIDR)
		}
		subnets[n.Spec.PodCIDR] = true
		if got := n.Status.Addresses[0].Address; got != fmt.Sprintf("198.18.0.%d", 11+i) {
			t.Errorf("node %s: address %s", n.Name, got)
		}
	}
}

// TestPodsAcrossNodes: six Pods of one app spread over the three nodes, every Pod has its own
// IP, and a Pod reaches Pods on its own node and on the others over TCP.
func TestPodsAcrossNodes(t *testing.T) {
	ns := namespace(t)
	var manifests []string
	for i := 1; i <= 6; i++ {
		manifests = append(manifests, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: echo-%d
  labels:
    app: echo
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - name: echo
      image: echo:latest
      env:
        - name: POD_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
`, i))
	}
	r := runCmd(t, env.bin, []byte(strings.Join(manifests, "---\n")), "apply", "-f", "-", "-n", ns)
	if r.err != nil {
		t.Fatalf("apply:\n%s", r)
	}
	pods := map[string]*api.Pod{}
	for i := 1; i <= 6; i++ {
		name := fmt.Sprintf("echo-%d", i)
		pods[name] = waitPod(t, ns, name, 90*time.Second, "to run", running)
	}
	perNode, ips := map[string][]string{}, map[string]string{}
	for name, p := range pods {
		perNode[p.Spec.NodeName] = append(perNode[p.Spec.NodeName], name)
		if other, dup := ips[p.Status.PodIP]; dup {
			t.Fatalf("pods %s and %s have the same IP %s", name, other, p.Status.PodIP)
		}
		ips[p.Status.PodIP] = name
	}
	if len(perNode) != 3 {
		t.Fatalf("the pods are not spread over the three nodes: %v", perNode)
	}
	for node, names := range perNode {
		if len(names) != 2 {
			t.Errorf("node %s runs %v, want two pods on each node", node, names)
		}
	}
	// From a Pod on node-1, HTTP to every Pod (its own node's and the others').
	var from *api.Pod
	for _, p := range pods {
		if p.Spec.NodeName == "node-1" {
			from = p
			break
		}
	}
	for name, p := range pods {
		url := fmt.Sprintf("http://%s:8080/from-%s", p.Status.PodIP, from.Name)
		r := minik8s(t, "exec", from.Name, "-n", ns, "--", "sh", "-c", "wget -q -O - "+url)
		if r.err != nil || !strings.Contains(r.stdout, `"pod":"`+name+`"`) || !strings.Contains(r.stdout, `"ip":"`+p.Status.PodIP+`"`) {
			t.Errorf("%s (on %s) to %s (on %s) at %s:\n%s", from.Name, from.Spec.NodeName, name, p.Spec.NodeName, url, r)
		}
	}
	// Nothing leaves the cluster: an address outside it is unreachable from a Pod.
	r = minik8s(t, "exec", from.Name, "-n", ns, "--", "sh", "-c", "wget -q -O - http://192.0.2.1/ 2>&1; echo rc=$?")
	if !strings.Contains(r.stdout, "rc=1") {
		t.Errorf("a pod reached (or tried to reach) outside the cluster:\n%s", r)
	}
}

// TestNodeNotReady: a node whose kubelet stops becomes NotReady within the grace period, new
// Pods avoid it, and it is Ready again when its kubelet is back.
func TestNodeNotReady(t *testing.T) {
	ns := namespace(t)
	stopProcess(t, "nodes/node-3/kubelet.pid")
	t.Cleanup(func() { clusterUp(t) })
	stopped := time.Now()
	eventually(t, 20*time.Second, "node-3 to be NotReady", func() (bool, string) {
		for _, n := range nodes(t) {
			if n.Name == "node-3" {
				return !nodeReady(n), fmt.Sprintf("%+v", n.Status.Conditions)
			}
		}
		return false, "node-3 is gone"
	})
	t.Logf("node-3 NotReady %s after its kubelet stopped", time.Since(stopped).Round(time.Second))
	out := mustRun(t, "get", "node", "node-3")
	if !strings.Contains(out, "NotReady") {
		t.Errorf("get node does not say NotReady:\n%s", out)
	}
	for i := 0; i < 4; i++ {
		name := fmt.Sprintf("avoid-%d", i)
		r := runCmd(t, env.bin, []byte(fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n    - name: c\n      image: busybox:latest\n      command: [\"sleep\", \"600\"]\n", name)), "apply", "-f", "-", "-n", ns)
		if r.err != nil {
			t.Fatalf("apply:\n%s", r)
		}
		p := waitPod(t, ns, name, 60*time.Second, "to run", running)
		if p.Spec.NodeName == "node-3" {
			t.Errorf("pod %s went to the NotReady node", name)
		}
	}
	clusterUp(t)
	eventually(t, 30*time.Second, "node-3 to be Ready again", func() (bool, string) {
		for _, n := range nodes(t) {
			if n.Name == "node-3" {
				return nodeReady(n), fmt.Sprintf("%+v", n.Status.Conditions)
			}
		}
		return false, "node-3 is gone"
	})
}
