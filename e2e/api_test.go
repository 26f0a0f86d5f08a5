//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestKubectl drives the cluster with Kubernetes' own client, Debian's kubectl, using a
// kubeconfig built from the server's admin.yaml.
func TestKubectl(t *testing.T) {
	kubectl := os.Getenv("KUBECTL")
	if kubectl == "" {
		t.Fatal("KUBECTL is not set: run the e2e tests with `make test-e2e`, which fetches Debian's kubectl into build/tools")
	}
	if _, err := os.Stat(kubectl); err != nil {
		t.Fatalf("kubectl not found at %s (run `make tools`): %v", kubectl, err)
	}
	admin, err := os.ReadFile(filepath.Join(env.dir, "server", "admin.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, admin, 0o600); err != nil {
		t.Fatal(err)
	}
	ns := namespace(t)
	kc := func(args ...string) result {
		t.Helper()
		return runCmd(t, kubectl, nil, append([]string{"--kubeconfig", kubeconfig, "-n", ns}, args...)...)
	}

	r := kc("get", "pods")
	if r.err != nil || !strings.Contains(r.stderr, "No resources found") {
		t.Fatalf("kubectl get pods on an empty namespace:\n%s", r)
	}

	r = kc("apply", "-f", fixture("pod.yaml"))
	if r.err != nil || strings.TrimSpace(r.stdout) != "pod/hello created" {
		t.Fatalf("kubectl apply:\n%s", r)
	}

	// The scheduler places it and the node runs it; kubectl shows it as Kubernetes would.
	eventually(t, 90*time.Second, "kubectl to show the pod running", func() (bool, string) {
		r := kc("get", "pods")
		return r.err == nil && regexp.MustCompile(`(?m)^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$`).MatchString(r.stdout) &&
			regexp.MustCompile(`(?m)^hello\s+1/1\s+Running\s+0\s+\d+s$`).MatchString(r.stdout), r.String()
	})

	r = kc("get", "pod", "hello", "-o", "yaml")
	if r.err != nil {
		t.Fatalf("kubectl get -o yaml:\n%s", r)
	}
	for _, want := range []string{"kind: Pod", "name: hello", "namespace: " + ns, "image: busybox:latest", "restartPolicy: Always", "uid: ", "resourceVersion: ", "nodeName: node-1", "phase: Running", "podIP: 10.244."} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("kubectl get -o yaml lacks %q:\n%s", want, r.stdout)
		}
	}

	// Applying the same manifest again changes nothing.
	r = kc("apply", "-f", fixture("pod.yaml"))
	if r.err != nil || !strings.Contains(r.stdout, "pod/hello") {
		t.Fatalf("kubectl apply again:\n%s", r)
	}

	r = kc("delete", "pod", "hello")
	if r.err != nil || strings.TrimSpace(r.stdout) != `pod "hello" deleted` {
		t.Fatalf("kubectl delete:\n%s", r)
	}
	r = kc("get", "pod", "hello")
	if r.err == nil || !strings.Contains(r.stderr, "NotFound") {
		t.Fatalf("the pod is still there after kubectl delete:\n%s", r)
	}
}

// TestCLIRoundTrip applies a multi-document manifest, reads it back in each output format,
// applies it again unchanged, and deletes it by file.
func TestCLIRoundTrip(t *testing.T) {
	ns := namespace(t)
	out := mustRun(t, "apply", "-f", fixture("app.yaml"), "-n", ns)
	if out != "service/web created\nreplicaset/web created\n" {
		t.Fatalf("apply printed:\n%s", out)
	}
	out = mustRun(t, "apply", "-f", fixture("app.yaml"), "-n", ns)
	if out != "service/web unchanged\nreplicaset/web unchanged\n" {
		t.Fatalf("a second apply printed:\n%s", out)
	}

	out = mustRun(t, "get", "svc,rs", "-n", ns)
	if !regexp.MustCompile(`(?m)^NAME\s+TYPE\s+CLUSTER-IP\s+PORT\(S\)\s+ENDPOINTS\s+AGE$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^web\s+ClusterIP\s+\S+\s+80:8080/TCP\s+(<none>|[0-9.:,]+)\s+\d+s$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^NAME\s+REPLICAS\s+READY\s+AGE$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^web\s+[0-2]/2\s+[0-2]\s+\d+s$`).MatchString(out) {
		t.Fatalf("get svc,rs:\n%s", out)
	}

	var rs struct {
		Kind     string
		Metadata struct {
			Name, Namespace string
			Annotations     map[string]string
		}
		Spec struct{ Replicas int }
	}
	if err := json.Unmarshal([]byte(mustRun(t, "get", "rs", "web", "-n", ns, "-o", "json")), &rs); err != nil {
		t.Fatal(err)
	}
	if rs.Kind != "ReplicaSet" || rs.Metadata.Namespace != ns || rs.Spec.Replicas != 2 ||
		rs.Metadata.Annotations["kubectl.kubernetes.io/last-applied-configuration"] == "" {
		t.Fatalf("get -o json: %+v", rs)
	}
	if out := mustRun(t, "get", "rs", "-n", ns, "-o", "name"); out != "replicaset/web\n" {
		t.Fatalf("get -o name: %q", out)
	}

	// A changed manifest is applied as "configured" and the change is visible.
	changed := strings.Replace(readFile(t, fixture("app.yaml")), "replicas: 2", "replicas: 3", 1)
	r := runCmd(t, env.bin, []byte(changed), "apply", "-f", "-", "-n", ns)
	if r.err != nil || !strings.Contains(r.stdout, "replicaset/web configured") || !strings.Contains(r.stdout, "service/web unchanged") {
		t.Fatalf("apply of a changed manifest from stdin:\n%s", r)
	}
	if out := mustRun(t, "get", "rs", "web", "-n", ns, "-o", "yaml"); !strings.Contains(out, "replicas: 3") {
		t.Fatalf("the change is not stored:\n%s", out)
	}

	out = mustRun(t, "describe", "svc", "web", "-n", ns)
	for _, want := range []string{"Name:             web", "Namespace:        " + ns, "Spec:", "Port:", "Events:"} {
		if !strings.Contains(out, want) {
			t.Errorf("describe lacks %q:\n%s", want, out)
		}
	}

	out = mustRun(t, "delete", "-f", fixture("app.yaml"), "-n", ns)
	if out != "service \"web\" deleted\nreplicaset \"web\" deleted\n" {
		t.Fatalf("delete -f printed:\n%s", out)
	}
	r = minik8s(t, "get", "svc,rs", "-n", ns)
	if r.err != nil || !strings.Contains(r.stderr, "No resources found") {
		t.Fatalf("objects remain after delete -f:\n%s", r)
	}
}

// TestCLIInvalidManifest checks that a bad manifest is refused with the file, line and field
// of each mistake, and that nothing of a multi-document file is applied when one part is bad.
func TestCLIInvalidManifest(t *testing.T) {
	ns := namespace(t)
	r := minik8s(t, "apply", "-f", fixture("invalid-pod.yaml"), "-n", ns)
	if r.err == nil {
		t.Fatalf("an invalid manifest was applied:\n%s", r)
	}
	for _, want := range []string{
		"invalid-pod.yaml:10: spec.containers[0].imagee",
		"invalid-pod.yaml:12: spec.containers[0].ports[0].containerPort",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the error does not say %q:\n%s", want, r)
		}
	}

	// One good and one bad document: neither is applied.
	dir := t.TempDir()
	bundle := readFile(t, fixture("pod.yaml")) + "\n---\n" + readFile(t, fixture("invalid-pod.yaml"))
	path := filepath.Join(dir, "bundle.yaml")
	if err := os.WriteFile(path, []byte(bundle), 0o600); err != nil {
		t.Fatal(err)
	}
	r = minik8s(t, "apply", "-f", path, "-n", ns)
	if r.err == nil || !strings.Contains(r.stderr, "bundle.yaml:") {
		t.Fatalf("a bundle with a bad document was applied:\n%s", r)
	}
	r = minik8s(t, "get", "pods", "-n", ns)
	if !strings.Contains(r.stderr, "No resources found") {
		t.Fatalf("part of a bad bundle was applied:\n%s", r)
	}

	// A wrong token is refused.
	bad := filepath.Join(dir, "bad-config")
	cfg := readFile(t, env.config)
	cfg = regexp.MustCompile(`token: \S+`).ReplaceAllString(cfg, "token: not-the-token")
	if err := os.WriteFile(bad, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	r = minik8s(t, "--config", bad, "get", "pods", "-n", ns)
	if r.err == nil || !strings.Contains(r.stderr, "Unauthorized") {
		t.Fatalf("a wrong token was not refused:\n%s", r)
	}
}

// TestCLIWatch runs `get pods -w` and sees a Pod appear and go.
func TestCLIWatch(t *testing.T) {
	ns := namespace(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, env.bin, "get", "pods", "-w", "-n", ns)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// Whether the list or the watch sees the Pod first, the header and its row come first.
	mustRun(t, "apply", "-f", fixture("pod.yaml"), "-n", ns)
	expect := func(re string) {
		t.Helper()
		timeout := time.After(30 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("get -w ended before printing %q", re)
				}
				if regexp.MustCompile(re).MatchString(l) {
					return
				}
			case <-timeout:
				t.Fatalf("get -w did not print a line matching %q within 30s", re)
			}
		}
	}
	expect(`^NAME\s+READY\s+STATUS`)
	expect(`^hello\s+`)
	expect(`^hello\s+1/1\s+Running\s+0\s`)
	r := minik8s(t, "delete", "pod", "hello", "-n", ns, "--wait=false")
	if r.err != nil {
		t.Fatalf("delete:\n%s", r)
	}
	// A graceful delete shows as Terminating while the container stops.
	expect(`^hello\s+\d/1\s+Terminating\s`)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestJoinWrongToken: a node that presents a wrong join token is refused and registers nothing.
func TestJoinWrongToken(t *testing.T) {
	r := minik8s(t, "join", "--server", "https://"+env.listenAddr, "--token", "not-the-join-token",
		"--ca-file", filepath.Join(env.dir, "server", "pki", "ca.crt"), "--node-name", "intruder", "--node-ip", "198.18.0.99",
		"--data-dir", filepath.Join(t.TempDir(), "node"))
	if r.err == nil || !strings.Contains(r.stderr, "refused the join token") {
		t.Fatalf("a join with a wrong token was not refused:\n%s", r)
	}
	r = minik8s(t, "get", "node", "intruder")
	if r.err == nil || !strings.Contains(r.stderr, "not found") {
		t.Fatalf("the refused node was registered:\n%s", r)
	}
}
