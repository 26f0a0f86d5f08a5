//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
)

func echoPod(name string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s
  labels:
    app: web
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - name: echo
      image: echo:latest
      ports:
        - name: http
          containerPort: 8080
      env:
        - name: POD_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
`, name)
}

const webService = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  selector:
    app: web
  ports:
    - name: http
      port: 80
      targetPort: http
`

func applyText(t *testing.T, ns, text string) {
	t.Helper()
	if r := runCmd(t, env.bin, []byte(text), "apply", "-f", "-", "-n", ns); r.err != nil {
		t.Fatalf("apply:\n%s", r)
	}
}

func getService(t *testing.T, ns, name string) *api.Service {
	t.Helper()
	var s api.Service
	if err := json.Unmarshal([]byte(mustRun(t, "get", "svc", name, "-n", ns, "-o", "json")), &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

// endpointsCount is the number of ready addresses of a Service.
func endpointsCount(t *testing.T, ns, name string) int {
	t.Helper()
	r := minik8s(t, "get", "ep", name, "-n", ns, "-o", "json")
	if r.err != nil {
		return -1
	}
	var ep api.Endpoints
	if err := json.Unmarshal([]byte(r.stdout), &ep); err != nil {
		return -1
	}
	n := 0
	for _, s := range ep.Subsets {
		n += len(s.Addresses)
	}
	return n
}

// hits runs n requests to url from inside a Pod and counts the answering Pods.
func hits(t *testing.T, ns, from, url string, n int) (map[string]int, int) {
	t.Helper()
	script := fmt.Sprintf(`for i in $(seq %d); do wget -q -O - %s || echo FAILED; done`, n, url)
	r := minik8s(t, "exec", from, "-n", ns, "--", "sh", "-c", script)
	count, failed := map[string]int{}, 0
	re := regexp.MustCompile(`"pod":"([^"]+)"`)
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.Contains(line, "FAILED") {
			failed++
		} else if m := re.FindStringSubmatch(line); m != nil {
			count[m[1]]++
		}
	}
	return count, failed
}

// TestServices: a Service spreads requests from Pods on every node over its backends on every
// node; NodePorts answer on every node's address; backends leave and join the rotation as
// Pods go and come; a Service with no backends refuses connections; a deleted Service leaves
// no rule behind.
func TestServices(t *testing.T) {
	ns := namespace(t)
	applyText(t, ns, webService)
	pods := map[string]*api.Pod{}
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("web-%d", i)
		applyText(t, ns, echoPod(name))
		pods[name] = waitPod(t, ns, name, 90*time.Second, "to run", running)
	}
	eventually(t, 30*time.Second, "the Endpoints to list the three Pods", func() (bool, string) {
		n := endpointsCount(t, ns, "web")
		return n == 3, fmt.Sprintf("%d endpoints", n)
	})
	svc := getService(t, ns, "web")
	vip := svc.Spec.ClusterIP
	if !strings.HasPrefix(vip, "10.96.") || svc.Spec.Ports[0].NodePort < 30000 {
		t.Fatalf("service addresses: clusterIP %q nodePort %d", vip, svc.Spec.Ports[0].NodePort)
	}
	// Clients on every node (the backends themselves: one per node, so hairpin is covered).
	for _, from := range pods {
		count, failed := hits(t, ns, from.Name, "http://"+vip+"/", 200)
		if failed > 0 {
			t.Errorf("from %s on %s: %d of 200 requests failed", from.Name, from.Spec.NodeName, failed)
		}
		for name := range pods {
			if count[name] < 20 {
				t.Errorf("from %s on %s: %s answered %d of 200 requests (want at least 10%%): %v", from.Name, from.Spec.NodeName, name, count[name], count)
			}
		}
	}
	// NodePort on every node's address, from the host.
	port := svc.Spec.Ports[0].NodePort
	for i := 1; i <= 3; i++ {
		url := fmt.Sprintf("http://198.18.0.%d:%d/np", 10+i, port)
		for k := 0; k < 5; k++ {
			resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
			if err != nil {
				t.Fatalf("NodePort %s: %v", url, err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(b), `"pod":"web-`) {
				t.Fatalf("NodePort %s answered %q", url, b)
			}
		}
	}
	// A process on a node (not in a Pod) reaches the cluster IP too.
	out, err := exec.Command("nsenter", "--net=/run/netns/minik8s-node-2", "busybox", "wget", "-q", "-O", "-", "http://"+vip+"/from-node").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"pod":"web-`) {
		t.Errorf("from node-2's own network: %v %s", err, out)
	}

	// A deleted backend leaves the rotation: no request fails after that.
	mustRun(t, "delete", "pod", "web-3", "-n", ns)
	eventually(t, 30*time.Second, "web-3 to leave the Endpoints", func() (bool, string) {
		n := endpointsCount(t, ns, "web")
		return n == 2, fmt.Sprintf("%d endpoints", n)
	})
	eventually(t, 10*time.Second, "the proxies to drop web-3", func() (bool, string) {
		count, failed := hits(t, ns, "web-1", "http://"+vip+"/", 30)
		return failed == 0 && count["web-3"] == 0, fmt.Sprintf("%v, %d failed", count, failed)
	})
	count, failed := hits(t, ns, "web-1", "http://"+vip+"/", 100)
	if failed > 0 || count["web-3"] > 0 {
		t.Errorf("after web-3 was deleted: %v, %d failed", count, failed)
	}

	// A new matching Pod joins the rotation.
	applyText(t, ns, echoPod("web-4"))
	waitPod(t, ns, "web-4", 60*time.Second, "to run", running)
	eventually(t, 30*time.Second, "web-4 to get requests", func() (bool, string) {
		count, failed := hits(t, ns, "web-1", "http://"+vip+"/", 30)
		return failed == 0 && count["web-4"] > 0, fmt.Sprintf("%v, %d failed", count, failed)
	})

	// A Service whose selector matches nothing refuses connections cleanly.
	applyText(t, ns, strings.NewReplacer("name: web", "name: nobody", "app: web", "app: nobody", "type: NodePort", "type: ClusterIP").Replace(webService))
	empty := getService(t, ns, "nobody").Spec.ClusterIP
	r := minik8s(t, "exec", "web-1", "-n", ns, "--", "sh", "-c", "wget -q -O - http://"+empty+"/ 2>&1; echo rc=$?")
	if !strings.Contains(r.stdout, "rc=1") || !strings.Contains(strings.ToLower(r.stdout), "refused") {
		t.Errorf("a service without endpoints did not refuse the connection:\n%s", r)
	}

	// UDP through a cluster IP.
	applyText(t, ns, `apiVersion: v1
kind: Service
metadata:
  name: udp
spec:
  selector:
    app: web
  ports:
    - protocol: UDP
      port: 5353
      targetPort: 8080
`)
	udpIP := getService(t, ns, "udp").Spec.ClusterIP
	eventually(t, 30*time.Second, "a UDP answer through the cluster IP", func() (bool, string) {
		r := minik8s(t, "exec", "web-1", "-n", ns, "--", "/echo", "udp", udpIP+":5353", "over-udp")
		return r.err == nil && strings.Contains(r.stdout, `"path":"over-udp"`) && strings.Contains(r.stdout, `"host":"udp"`), r.String()
	})

	// Deleting the Service removes its rules on every node.
	mustRun(t, "delete", "svc", "web", "-n", ns)
	eventually(t, 15*time.Second, "every node to drop the rules of web", func() (bool, string) {
		for i := 1; i <= 3; i++ {
			out, _ := exec.Command("ip", "netns", "exec", fmt.Sprintf("minik8s-node-%d", i), "iptables-save").Output()
			if strings.Contains(string(out), vip) || strings.Contains(string(out), fmt.Sprintf("--dport %d", port)) {
				return false, fmt.Sprintf("node-%d still has rules for %s or port %d", i, vip, port)
			}
		}
		return true, ""
	})
	// Its cluster IP and node port are free again: a new Service may ask for them.
	reuse := strings.Replace(webService, "  type: NodePort\n", fmt.Sprintf("  type: NodePort\n  clusterIP: %s\n", vip), 1)
	reuse = strings.Replace(reuse, "      targetPort: http\n", fmt.Sprintf("      targetPort: http\n      nodePort: %d\n", port), 1)
	applyText(t, ns, reuse)
	if again := getService(t, ns, "web"); again.Spec.ClusterIP != vip || again.Spec.Ports[0].NodePort != port {
		t.Errorf("the re-created Service got %s:%d, want %s:%d", again.Spec.ClusterIP, again.Spec.Ports[0].NodePort, vip, port)
	}
}
