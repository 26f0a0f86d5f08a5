package endpoints_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/testserver"
	"github.com/minik8s/minik8s/client"
	"github.com/minik8s/minik8s/ctrl/endpoints"
)

type env struct {
	t   *testing.T
	ctx context.Context
	c   *client.Client
	ns  string
}

func start(t *testing.T) *env {
	t.Helper()
	s := testserver.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	ns := &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "ep"}}
	if _, err := s.Client.Namespaces().Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		endpoints.New(s.Client, slog.New(slog.NewTextHandler(io.Discard, nil))).Run(ctx, 2)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return &env{t: t, ctx: ctx, c: s.Client, ns: "ep"}
}

// pod creates a Pod of app=web on node, serving the named port http on httpPort, and reports
// it Running and Ready with ip as a kubelet would.
func (e *env) pod(name, node, ip string, httpPort int32) *api.Pod {
	e.t.Helper()
	p := &api.Pod{
		ObjectMeta: api.ObjectMeta{Namespace: e.ns, Name: name, Labels: map[string]string{"app": "web"}},
		Spec: api.PodSpec{NodeName: node, Containers: []api.Container{{Name: "c", Image: "echo:1",
			Ports: []api.ContainerPort{{Name: "http", ContainerPort: httpPort}}}}},
	}
	p, err := e.c.Pods(e.ns).Create(e.ctx, p)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.setStatus(p, ip, true)
}

// setStatus writes the Pod's status: Running with ip, Ready or not.
func (e *env) setStatus(p *api.Pod, ip string, ready bool) *api.Pod {
	e.t.Helper()
	cond := api.ConditionFalse
	if ready {
		cond = api.ConditionTrue
	}
	p = api.DeepCopy(p)
	p.Status.Phase = api.PodRunning
	p.Status.PodIP = ip
	p.Status.PodIPs = []api.PodIP{{IP: ip}}
	p.Status.Conditions = []api.PodCondition{{Type: api.PodReady, Status: cond, LastTransitionTime: api.Now()}}
	out, err := e.c.Pods(e.ns).UpdateStatus(e.ctx, p)
	if err != nil {
		e.t.Fatalf("status of pod %s: %v", p.Name, err)
	}
	return out
}

// summary writes an Endpoints as "ready=[name@ip:ports ...] notReady=[...]" per subset, sorted.
func summary(ep *api.Endpoints) string {
	var parts []string
	for _, s := range ep.Subsets {
		var ports []string
		for _, p := range s.Ports {
			ports = append(ports, fmt.Sprintf("%s=%d", p.Name, p.Port))
		}
		addrs := func(as []api.EndpointAddress) string {
			var out []string
			for _, a := range as {
				out = append(out, a.TargetRef.Name+"@"+a.IP)
			}
			slices.Sort(out)
			return strings.Join(out, " ")
		}
		slices.Sort(ports)
		parts = append(parts, fmt.Sprintf("{ready=[%s] notReady=[%s] ports=%s}", addrs(s.Addresses), addrs(s.NotReadyAddresses), strings.Join(ports, ",")))
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

// waitFor waits until the Endpoints name reads as want (see summary; "<none>" for no object).
func (e *env) waitFor(name, want string) *api.Endpoints {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ep, err := e.c.Endpoints(e.ns).Get(e.ctx, name)
		got := "<none>"
		switch {
		case err == nil:
			got = summary(ep)
		case !client.IsNotFound(err):
			e.t.Fatal(err)
		}
		if got == want {
			return ep
		}
		if time.Now().After(deadline) {
			b, _ := json.MarshalIndent(ep, "", "  ")
			e.t.Fatalf("endpoints %s:\n got  %s\n want %s\n%s", name, got, want, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestEndpointsFollowPods(t *testing.T) {
	e := start(t)
	svc := &api.Service{
		ObjectMeta: api.ObjectMeta{Namespace: e.ns, Name: "web", Labels: map[string]string{"tier": "front"}},
		Spec: api.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []api.ServicePort{
			{Name: "http", Port: 80, TargetPort: api.FromString("http")},
			{Name: "metrics", Port: 9100},
		}},
	}
	svc, err := e.c.Services(e.ns).Create(e.ctx, svc)
	if err != nil {
		t.Fatal(err)
	}
	p1 := e.pod("web-1", "n1", "10.244.1.2", 8080)
	p2 := e.pod("web-2", "n2", "10.244.2.2", 8080)
	e.pod("web-3", "n3", "10.244.3.2", 8080)
	// A Pod of another app is no endpoint.
	other := &api.Pod{ObjectMeta: api.ObjectMeta{Namespace: e.ns, Name: "db", Labels: map[string]string{"app": "db"}},
		Spec: api.PodSpec{NodeName: "n1", Containers: []api.Container{{Name: "c", Image: "db:1"}}}}
	other, err = e.c.Pods(e.ns).Create(e.ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	e.setStatus(other, "10.244.1.9", true)

	ep := e.waitFor("web", "{ready=[web-1@10.244.1.2 web-2@10.244.2.2 web-3@10.244.3.2] notReady=[] ports=http=8080,metrics=9100}")
	// What a user (and the proxy) sees: the Pod references, nodes, protocols, owner, labels.
	a := ep.Subsets[0].Addresses[0]
	if a.TargetRef == nil || a.TargetRef.Kind != "Pod" || a.TargetRef.Name != "web-1" || a.TargetRef.UID != p1.UID || a.TargetRef.Namespace != e.ns ||
		a.NodeName == nil || *a.NodeName != "n1" {
		t.Errorf("address = %+v (targetRef %+v)", a, a.TargetRef)
	}
	for _, p := range ep.Subsets[0].Ports {
		if p.Protocol != api.ProtocolTCP {
			t.Errorf("port %+v: want protocol TCP", p)
		}
	}
	if len(ep.OwnerReferences) != 1 || ep.OwnerReferences[0].Kind != "Service" || ep.OwnerReferences[0].UID != svc.UID ||
		ep.OwnerReferences[0].Controller == nil || !*ep.OwnerReferences[0].Controller {
		t.Errorf("ownerReferences = %+v; want the Service %s", ep.OwnerReferences, svc.UID)
	}
	if ep.Labels["tier"] != "front" {
		t.Errorf("labels = %v; want the Service's", ep.Labels)
	}
	rv := ep.ResourceVersion

	// A status write that changes nothing the Endpoints show writes nothing.
	p2 = e.setStatus(p2, "10.244.2.2", true)
	time.Sleep(300 * time.Millisecond)
	if cur, err := e.c.Endpoints(e.ns).Get(e.ctx, "web"); err != nil || cur.ResourceVersion != rv {
		t.Fatalf("endpoints rewritten without a change (resourceVersion %s → %s, %v)", rv, cur.ResourceVersion, err)
	}

	// NotReady moves a Pod to notReadyAddresses.
	p2 = e.setStatus(p2, "10.244.2.2", false)
	e.waitFor("web", "{ready=[web-1@10.244.1.2 web-3@10.244.3.2] notReady=[web-2@10.244.2.2] ports=http=8080,metrics=9100}")
	// And Ready brings it back.
	e.setStatus(p2, "10.244.2.2", true)
	e.waitFor("web", "{ready=[web-1@10.244.1.2 web-2@10.244.2.2 web-3@10.244.3.2] notReady=[] ports=http=8080,metrics=9100}")

	// A Pod being deleted (gracefully: it is bound to a node) leaves at once; so does one removed
	// outright.
	if err := e.c.Pods(e.ns).Delete(e.ctx, "web-3", nil); err != nil {
		t.Fatal(err)
	}
	if p, err := e.c.Pods(e.ns).Get(e.ctx, "web-3"); err != nil || p.DeletionTimestamp == nil {
		t.Fatalf("web-3 should be terminating, not gone: %v", err)
	}
	e.waitFor("web", "{ready=[web-1@10.244.1.2 web-2@10.244.2.2] notReady=[] ports=http=8080,metrics=9100}")
	zero := int64(0)
	if err := e.c.Pods(e.ns).Delete(e.ctx, "web-1", &api.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	e.waitFor("web", "{ready=[web-2@10.244.2.2] notReady=[] ports=http=8080,metrics=9100}")

	// A Pod whose named port is another number gets a subset of its own; one without the named
	// port serves only the numeric one.
	e.pod("web-4", "n1", "10.244.1.3", 8081)
	noName := &api.Pod{ObjectMeta: api.ObjectMeta{Namespace: e.ns, Name: "web-5", Labels: map[string]string{"app": "web"}},
		Spec: api.PodSpec{NodeName: "n2", Containers: []api.Container{{Name: "c", Image: "echo:1"}}}}
	noName, err = e.c.Pods(e.ns).Create(e.ctx, noName)
	if err != nil {
		t.Fatal(err)
	}
	e.setStatus(noName, "10.244.2.3", true)
	e.waitFor("web", "{ready=[web-2@10.244.2.2] notReady=[] ports=http=8080,metrics=9100} "+
		"{ready=[web-4@10.244.1.3] notReady=[] ports=http=8081,metrics=9100} "+
		"{ready=[web-5@10.244.2.3] notReady=[] ports=metrics=9100}")

	// A Pod whose labels no longer match leaves.
	if _, err := e.c.Pods(e.ns).Patch(e.ctx, "web-5", []byte(`{"metadata":{"labels":{"app":"gone"}}}`)); err != nil {
		t.Fatal(err)
	}
	e.waitFor("web", "{ready=[web-2@10.244.2.2] notReady=[] ports=http=8080,metrics=9100} "+
		"{ready=[web-4@10.244.1.3] notReady=[] ports=http=8081,metrics=9100}")

	// Endpoints deleted by hand come back; so do ones changed by hand.
	if err := e.c.Endpoints(e.ns).Delete(e.ctx, "web", nil); err != nil {
		t.Fatal(err)
	}
	e.waitFor("web", "{ready=[web-2@10.244.2.2] notReady=[] ports=http=8080,metrics=9100} "+
		"{ready=[web-4@10.244.1.3] notReady=[] ports=http=8081,metrics=9100}")
	cur, err := e.c.Endpoints(e.ns).Get(e.ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	cur.Subsets = cur.Subsets[:1]
	if _, err := e.c.Endpoints(e.ns).Update(e.ctx, cur); err != nil {
		t.Fatal(err)
	}
	e.waitFor("web", "{ready=[web-2@10.244.2.2] notReady=[] ports=http=8080,metrics=9100} "+
		"{ready=[web-4@10.244.1.3] notReady=[] ports=http=8081,metrics=9100}")

	// The Service's deletion deletes its Endpoints.
	if err := e.c.Services(e.ns).Delete(e.ctx, "web", nil); err != nil {
		t.Fatal(err)
	}
	e.waitFor("web", "<none>")
}

func TestEndpointsOfServicesWithoutSelectorAreTheUsers(t *testing.T) {
	e := start(t)
	e.pod("web-1", "n1", "10.244.1.2", 8080)
	manual := &api.Service{ObjectMeta: api.ObjectMeta{Namespace: e.ns, Name: "manual"},
		Spec: api.ServiceSpec{Ports: []api.ServicePort{{Port: 80}}}}
	if _, err := e.c.Services(e.ns).Create(e.ctx, manual); err != nil {
		t.Fatal(err)
	}
	ep := &api.Endpoints{ObjectMeta: api.ObjectMeta{Namespace: e.ns, Name: "manual"},
		Subsets: []api.EndpointSubset{{Addresses: []api.EndpointAddress{{IP: "192.0.2.10"}}, Ports: []api.EndpointPort{{Port: 80}}}}}
	ep, err := e.c.Endpoints(e.ns).Create(e.ctx, ep)
	if err != nil {
		t.Fatal(err)
	}
	// An Endpoints without any Service is the user's too.
	lone := &api.Endpoints{ObjectMeta: api.ObjectMeta{Namespace: e.ns, Name: "lone"},
		Subsets: []api.EndpointSubset{{Addresses: []api.EndpointAddress{{IP: "192.0.2.11"}}, Ports: []api.EndpointPort{{Port: 80}}}}}
	if _, err := e.c.Endpoints(e.ns).Create(e.ctx, lone); err != nil {
		t.Fatal(err)
	}
	// A Service with a selector, created after them, is a sign the controller has looked.
	web := &api.Service{ObjectMeta: api.ObjectMeta{Namespace: e.ns, Name: "web"},
		Spec: api.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []api.ServicePort{{Port: 80, TargetPort: api.FromInt(8080)}}}}
	if _, err := e.c.Services(e.ns).Create(e.ctx, web); err != nil {
		t.Fatal(err)
	}
	e.waitFor("web", "{ready=[web-1@10.244.1.2] notReady=[] ports==8080}")
	time.Sleep(200 * time.Millisecond)
	if cur, err := e.c.Endpoints(e.ns).Get(e.ctx, "manual"); err != nil || cur.ResourceVersion != ep.ResourceVersion {
		t.Fatalf("the user's Endpoints were changed: %v, %+v", err, cur)
	}
	if err := e.c.Services(e.ns).Delete(e.ctx, "manual", nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	for _, name := range []string{"manual", "lone"} {
		if _, err := e.c.Endpoints(e.ns).Get(e.ctx, name); err != nil {
			t.Fatalf("Endpoints %s not owned by a Service were deleted: %v", name, err)
		}
	}
}
