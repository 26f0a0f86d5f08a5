//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
)

const replicaSet = `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: spread
spec:
  replicas: 3
  selector:
    matchLabels:
      app: spread
  template:
    metadata:
      labels:
        app: spread
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: echo
          image: echo:latest
`

// podsOf lists the Pods with a label, as `get pods -l` shows them.
func podsOf(t *testing.T, ns, selector string) []api.Pod {
	t.Helper()
	var list struct{ Items []api.Pod }
	if err := json.Unmarshal([]byte(mustRun(t, "get", "pods", "-n", ns, "-l", selector, "-o", "json")), &list); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func runningNames(pods []api.Pod) ([]string, map[string]bool) {
	var names []string
	nodes := map[string]bool{}
	for i := range pods {
		if running(&pods[i]) && pods[i].DeletionTimestamp == nil {
			names = append(names, pods[i].Name)
			nodes[pods[i].Spec.NodeName] = true
		}
	}
	sort.Strings(names)
	return names, nodes
}

// TestReplicaSet: a ReplicaSet of 3 runs one Pod on each node, replaces a deleted Pod, deletes
// an extra Pod that matches it, scales, and takes its Pods with it when deleted.
func TestReplicaSet(t *testing.T) {
	ns := namespace(t)
	applyText(t, ns, replicaSet)
	var first []string
	eventually(t, 90*time.Second, "3 replicas running on 3 nodes", func() (bool, string) {
		names, nodes := runningNames(podsOf(t, ns, "app=spread"))
		first = names
		return len(names) == 3 && len(nodes) == 3, fmt.Sprintf("%v on %v", names, nodes)
	})
	for _, p := range podsOf(t, ns, "app=spread") {
		ref := p.ControllerOf()
		if ref == nil || ref.Kind != "ReplicaSet" || ref.Name != "spread" {
			t.Errorf("pod %s is not owned by the ReplicaSet: %+v", p.Name, p.OwnerReferences)
		}
	}
	out := mustRun(t, "get", "rs", "spread", "-n", ns)
	if !regexp.MustCompile(`(?m)^spread\s+3/3\s+3\s+\d+s$`).MatchString(out) {
		t.Errorf("get rs:\n%s", out)
	}

	// A deleted Pod is replaced.
	mustRun(t, "delete", "pod", first[0], "-n", ns)
	eventually(t, 60*time.Second, "a replacement for "+first[0], func() (bool, string) {
		names, _ := runningNames(podsOf(t, ns, "app=spread"))
		return len(names) == 3 && !contains(names, first[0]), fmt.Sprintf("%v", names)
	})

	// An extra Pod with the ReplicaSet's labels is adopted and, being one too many, deleted.
	applyText(t, ns, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: intruder\n  labels:\n    app: spread\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n    - name: c\n      image: busybox:latest\n      command: [\"sleep\", \"600\"]\n")
	eventually(t, 60*time.Second, "three Pods again after the extra one", func() (bool, string) {
		pods := podsOf(t, ns, "app=spread")
		live := 0
		for _, p := range pods {
			if p.DeletionTimestamp == nil {
				live++
			}
		}
		return live == 3, fmt.Sprintf("%d live pods", live)
	})

	// Scale.
	if out := mustRun(t, "scale", "rs", "spread", "--replicas", "5", "-n", ns); !strings.Contains(out, "scaled") {
		t.Errorf("scale printed %q", out)
	}
	eventually(t, 60*time.Second, "5 replicas", func() (bool, string) {
		names, _ := runningNames(podsOf(t, ns, "app=spread"))
		return len(names) == 5, fmt.Sprintf("%v", names)
	})

	// Deleting the ReplicaSet deletes every Pod.
	mustRun(t, "delete", "rs", "spread", "-n", ns)
	eventually(t, 60*time.Second, "the ReplicaSet's Pods to go", func() (bool, string) {
		pods := podsOf(t, ns, "app=spread")
		return len(pods) == 0, fmt.Sprintf("%d pods left", len(pods))
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
