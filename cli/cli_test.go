package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/testserver"
	"github.com/minik8s/minik8s/cli"
)

// run executes the CLI in-process against the test server and returns what it printed.
func run(t *testing.T, s *testserver.Server, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := cli.NewRootCommand(strings.NewReader(stdin), &out, &errOut)
	root.SetArgs(append([]string{"--config", s.AdminConfigPath()}, args...))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := root.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

func mustRun(t *testing.T, s *testserver.Server, args ...string) string {
	t.Helper()
	out, errOut, err := run(t, s, "", args...)
	if err != nil {
		t.Fatalf("minik8s %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGetColumns(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()

	_, errOut, err := run(t, s, "", "get", "pods")
	if err != nil || errOut != "No resources found in default namespace.\n" {
		t.Fatalf("get pods on an empty namespace: %v %q", err, errOut)
	}

	pod := &api.Pod{
		ObjectMeta: api.ObjectMeta{Name: "web-1", Labels: map[string]string{"app": "web"}},
		Spec:       api.PodSpec{NodeName: "node-1", Containers: []api.Container{{Name: "c", Image: "echo:latest"}}},
	}
	created, err := s.Client.Pods("default").Create(ctx, pod)
	if err != nil {
		t.Fatal(err)
	}
	started := api.NewTime(time.Now().Add(-90 * time.Second))
	created.Status = api.PodStatus{Phase: api.PodRunning, PodIP: "10.244.1.5", HostIP: "198.18.0.11", StartTime: &started,
		ContainerStatuses: []api.ContainerStatus{{Name: "c", Ready: true, RestartCount: 2,
			State: api.ContainerState{Running: &api.ContainerStateRunning{StartedAt: started}}}}}
	if _, err := s.Client.Pods("default").UpdateStatus(ctx, created); err != nil {
		t.Fatal(err)
	}

	out := mustRun(t, s, "get", "pods")
	want := regexp.MustCompile(`^NAME    READY   STATUS    RESTARTS   AGE\nweb-1   1/1     Running   2          \d+s\n$`)
	if !want.MatchString(out) {
		t.Fatalf("get pods:\n%s", out)
	}
	out = mustRun(t, s, "get", "pods", "-o", "wide")
	if !regexp.MustCompile(`(?m)^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^web-1\s+1/1\s+Running\s+2\s+\d+s\s+10\.244\.1\.5\s+node-1\s+<none>\s+<none>$`).MatchString(out) {
		t.Fatalf("get pods -o wide:\n%s", out)
	}
	out = mustRun(t, s, "get", "po", "-A", "--show-labels")
	if !regexp.MustCompile(`(?m)^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+LABELS$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^default\s+web-1\s+1/1\s+Running\s+2\s+\d+s\s+app=web$`).MatchString(out) {
		t.Fatalf("get po -A --show-labels:\n%s", out)
	}
	if out := mustRun(t, s, "get", "pods", "-l", "app!=web"); out != "" {
		t.Fatalf("a selector that matches nothing printed %q", out)
	}
	if out := mustRun(t, s, "get", "pods", "--field-selector", "spec.nodeName=node-1", "-o", "name"); out != "pod/web-1\n" {
		t.Fatalf("field selector: %q", out)
	}

	out = mustRun(t, s, "get", "ns")
	if !regexp.MustCompile(`(?m)^NAME\s+STATUS\s+AGE$`).MatchString(out) || !regexp.MustCompile(`(?m)^kube-system\s+Active\s+\d+s$`).MatchString(out) {
		t.Fatalf("get ns:\n%s", out)
	}

	svc := &api.Service{ObjectMeta: api.ObjectMeta{Name: "web"}, Spec: api.ServiceSpec{Type: api.ServiceTypeNodePort, ClusterIP: "10.96.0.20",
		Selector: map[string]string{"app": "web"}, Ports: []api.ServicePort{{Port: 80, NodePort: 30080}}}}
	if _, err := s.Client.Services("default").Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	out = mustRun(t, s, "get", "svc", "-o", "wide")
	if !regexp.MustCompile(`(?m)^NAME\s+TYPE\s+CLUSTER-IP\s+PORT\(S\)\s+ENDPOINTS\s+AGE\s+SELECTOR$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^web\s+NodePort\s+10\.96\.0\.20\s+80:80:30080/TCP\s+<none>\s+\d+s\s+app=web$`).MatchString(out) {
		t.Fatalf("get svc -o wide:\n%s", out)
	}

	_, errOut, err = run(t, s, "", "get", "pod", "nope")
	if err == nil || !strings.Contains(errOut, `pods "nope" not found`) {
		t.Fatalf("get of a missing pod: %v %q", err, errOut)
	}
	_, _, err = run(t, s, "", "get", "gadgets")
	if err == nil || !strings.Contains(err.Error(), `doesn't have a resource type "gadgets"`) {
		t.Fatalf("get of an unknown type: %v", err)
	}
}

const podManifest = `apiVersion: v1
kind: Pod
metadata:
  name: hello
  labels:
    app: hello
    tier: front
spec:
  containers:
    - name: main
      image: busybox:latest
`

func TestApplyDeleteRoundTrip(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	path := writeFile(t, "pod.yaml", podManifest)

	if out := mustRun(t, s, "apply", "-f", path); out != "pod/hello created\n" {
		t.Fatalf("first apply: %q", out)
	}
	if out := mustRun(t, s, "apply", "-f", path); out != "pod/hello unchanged\n" {
		t.Fatalf("second apply: %q", out)
	}

	// The cluster sets a field the manifest does not have; the user drops a label and
	// changes the image. Apply keeps the former and does the latter.
	live, err := s.Client.Pods("default").Get(ctx, "hello")
	if err != nil {
		t.Fatal(err)
	}
	live.Spec.NodeName = "node-1"
	if _, err := s.Client.Pods("default").Update(ctx, live); err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(strings.Replace(podManifest, "    tier: front\n", "", 1), "busybox:latest", "busybox:1.36", 1)
	out, errOut, err := run(t, s, changed, "apply", "-f", "-")
	if err != nil || out != "pod/hello configured\n" {
		t.Fatalf("apply of a changed manifest: %v %q %q", err, out, errOut)
	}
	got, err := s.Client.Pods("default").Get(ctx, "hello")
	if err != nil {
		t.Fatal(err)
	}
	if got.Spec.NodeName != "node-1" {
		t.Errorf("apply dropped spec.nodeName that the cluster set: %q", got.Spec.NodeName)
	}
	if _, ok := got.Labels["tier"]; ok || got.Labels["app"] != "hello" {
		t.Errorf("labels after removing tier from the manifest: %v", got.Labels)
	}
	if got.Spec.Containers[0].Image != "busybox:1.36" {
		t.Errorf("image: %q", got.Spec.Containers[0].Image)
	}

	// yaml and json show the stored object.
	if out := mustRun(t, s, "get", "pod", "hello", "-o", "yaml"); !strings.Contains(out, "image: busybox:1.36") || !strings.Contains(out, "kind: Pod") {
		t.Fatalf("get -o yaml:\n%s", out)
	}
	// The pod is on a node, so delete is graceful; --grace-period 0 removes it at once.
	if out := mustRun(t, s, "delete", "-f", path, "--grace-period", "0"); out != "pod \"hello\" deleted\n" {
		t.Fatalf("delete -f: %q", out)
	}
	if _, err := s.Client.Pods("default").Get(ctx, "hello"); err == nil {
		t.Fatal("the pod is still there after delete")
	}
	_, errOut, err = run(t, s, "", "delete", "pod", "hello")
	if err == nil || !strings.Contains(errOut, `pods "hello" not found`) {
		t.Fatalf("delete of a missing pod: %v %q", err, errOut)
	}
	if out := mustRun(t, s, "delete", "pod", "hello", "--ignore-not-found"); out != "" {
		t.Fatalf("delete --ignore-not-found: %q", out)
	}
}

func TestApplyRefusesBadManifest(t *testing.T) {
	s := testserver.Start(t)
	bad := writeFile(t, "bad.yaml", podManifest+"---\n"+strings.Replace(podManifest, "name: hello", "name: Hello_World", 1))
	_, _, err := run(t, s, "", "apply", "-f", bad)
	if err == nil || !strings.Contains(err.Error(), "bad.yaml:16: metadata.name: Invalid value: \"Hello_World\"") ||
		!strings.Contains(err.Error(), "nothing was done") {
		t.Fatalf("apply of a bundle with a bad name: %v", err)
	}
	if _, err := s.Client.Pods("default").Get(context.Background(), "hello"); err == nil {
		t.Fatal("the valid half of a bad bundle was applied")
	}
}
