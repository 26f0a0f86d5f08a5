package endpoints

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/minik8s/minik8s/api"
)

type podOpt func(*api.Pod)

// pod is a Running, Ready Pod of app=web in ns "default" on node n1 with IP ip.
func pod(name, ip string, opts ...podOpt) *api.Pod {
	p := &api.Pod{
		ObjectMeta: api.ObjectMeta{Namespace: "default", Name: name, UID: "uid-" + name, Labels: map[string]string{"app": "web"}},
		Spec: api.PodSpec{NodeName: "n1", Containers: []api.Container{{Name: "c", Image: "echo",
			Ports: []api.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "dns", ContainerPort: 5353, Protocol: api.ProtocolUDP}}}}},
		Status: api.PodStatus{Phase: api.PodRunning, PodIP: ip,
			Conditions: []api.PodCondition{{Type: api.PodReady, Status: api.ConditionTrue}}},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func notReady(p *api.Pod) {
	p.Status.Conditions = []api.PodCondition{{Type: api.PodReady, Status: api.ConditionFalse}}
}

func withPorts(ports ...api.ContainerPort) podOpt {
	return func(p *api.Pod) { p.Spec.Containers[0].Ports = ports }
}

func service(ports ...api.ServicePort) *api.Service {
	return &api.Service{
		ObjectMeta: api.ObjectMeta{Namespace: "default", Name: "web", UID: "uid-web"},
		Spec:       api.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: ports, ClusterIP: "10.96.0.5"},
	}
}

// render writes subsets compactly: "[ready ips | not-ready ips] ports;" per subset.
func render(subsets []api.EndpointSubset) string {
	var b strings.Builder
	for _, s := range subsets {
		b.WriteString("[")
		for i, a := range s.Addresses {
			if i > 0 {
				b.WriteString(" ")
			}
			b.WriteString(a.IP)
		}
		b.WriteString(" |")
		for _, a := range s.NotReadyAddresses {
			b.WriteString(" " + a.IP)
		}
		b.WriteString("]")
		for _, p := range s.Ports {
			fmt.Fprintf(&b, " %s:%d/%s", p.Name, p.Port, p.Protocol)
		}
		b.WriteString(";")
	}
	return b.String()
}

func TestSubsets(t *testing.T) {
	http := api.ServicePort{Name: "http", Port: 80, TargetPort: api.FromString("http"), Protocol: api.ProtocolTCP}
	num := api.ServicePort{Name: "num", Port: 81, TargetPort: api.FromInt(9090), Protocol: api.ProtocolTCP}
	deleting := func(p *api.Pod) { now := api.Now(); p.DeletionTimestamp = &now }
	tests := []struct {
		name string
		svc  *api.Service
		pods []*api.Pod
		want string
	}{
		{"ready pods, by IP", service(num), []*api.Pod{pod("b", "10.244.0.3"), pod("a", "10.244.0.2")},
			"[10.244.0.2 10.244.0.3 |] num:9090/TCP;"},
		{"not ready go to notReadyAddresses", service(num), []*api.Pod{pod("a", "10.244.0.2"), pod("b", "10.244.0.3", notReady)},
			"[10.244.0.2 | 10.244.0.3] num:9090/TCP;"},
		{"pending with an IP is not ready", service(num), []*api.Pod{pod("a", "10.244.0.2", func(p *api.Pod) { p.Status.Phase = api.PodPending })},
			"[ | 10.244.0.2] num:9090/TCP;"},
		{"left out: no IP, deleting, finished, other labels, other namespace", service(num), []*api.Pod{
			pod("a", ""),
			pod("b", "10.244.0.3", deleting),
			pod("c", "10.244.0.4", func(p *api.Pod) { p.Status.Phase = api.PodSucceeded }),
			pod("d", "10.244.0.5", func(p *api.Pod) { p.Status.Phase = api.PodFailed }),
			pod("e", "10.244.0.6", func(p *api.Pod) { p.Labels = map[string]string{"app": "db"} }),
			pod("f", "10.244.0.7", func(p *api.Pod) { p.Namespace = "other" }),
			pod("g", "10.244.0.8"),
		}, "[10.244.0.8 |] num:9090/TCP;"},
		{"no targetPort: the service port", service(api.ServicePort{Port: 80}), []*api.Pod{pod("a", "10.244.0.2")},
			"[10.244.0.2 |] :80/TCP;"},
		{"named port resolved per pod; a pod without it leaves that port", service(http, num), []*api.Pod{
			pod("a", "10.244.0.2"),
			pod("b", "10.244.0.3", withPorts(api.ContainerPort{Name: "http", ContainerPort: 8081})),
			pod("c", "10.244.0.4", withPorts()),
			pod("d", "10.244.0.5", notReady),
		}, "[10.244.0.2 | 10.244.0.5] http:8080/TCP num:9090/TCP;[10.244.0.3 |] http:8081/TCP num:9090/TCP;[10.244.0.4 |] num:9090/TCP;"},
		{"a named port matches its protocol only", service(api.ServicePort{Name: "dns", Port: 53, TargetPort: api.FromString("dns"), Protocol: api.ProtocolTCP}),
			[]*api.Pod{pod("a", "10.244.0.2")}, ""},
		{"named UDP port", service(api.ServicePort{Name: "dns", Port: 53, TargetPort: api.FromString("dns"), Protocol: api.ProtocolUDP}),
			[]*api.Pod{pod("a", "10.244.0.2")}, "[10.244.0.2 |] dns:5353/UDP;"},
		{"no selector: none", func() *api.Service { s := service(num); s.Spec.Selector = nil; return s }(), []*api.Pod{pod("a", "10.244.0.2")}, ""},
		{"headless without ports: addresses only", func() *api.Service { s := service(); s.Spec.ClusterIP = api.ClusterIPNone; return s }(),
			[]*api.Pod{pod("a", "10.244.0.2")}, "[10.244.0.2 |];"},
		{"no pods", service(num), nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Subsets(tt.svc, tt.pods)
			if r := render(got); r != tt.want {
				t.Errorf("Subsets = %s\n            want %s", r, tt.want)
			}
			if tt.want == "" && got != nil {
				t.Errorf("Subsets = %#v; want nil", got)
			}
		})
	}
}

func TestSubsetsAddress(t *testing.T) {
	svc := service(api.ServicePort{Port: 80})
	p := pod("a", "10.244.0.2", func(p *api.Pod) { p.Spec.Hostname, p.Spec.Subdomain = "a-0", "web" })
	q := pod("b", "10.244.0.3", func(p *api.Pod) { p.Spec.Hostname, p.Spec.Subdomain, p.Spec.NodeName = "b-0", "other", "" })
	got := Subsets(svc, []*api.Pod{p, q})
	b, _ := json.Marshal(got)
	want := `[{"addresses":[` +
		`{"ip":"10.244.0.2","hostname":"a-0","nodeName":"n1","targetRef":{"kind":"Pod","namespace":"default","name":"a","uid":"uid-a"}},` +
		`{"ip":"10.244.0.3","targetRef":{"kind":"Pod","namespace":"default","name":"b","uid":"uid-b"}}],` +
		`"ports":[{"port":80,"protocol":"TCP"}]}]`
	if string(b) != want {
		t.Errorf("Subsets =\n%s\nwant\n%s", b, want)
	}
}

func TestEqualSubsetsIgnoresOrder(t *testing.T) {
	svc := service(api.ServicePort{Name: "http", Port: 80, TargetPort: api.FromString("http")}, api.ServicePort{Name: "num", Port: 81, TargetPort: api.FromInt(9090)})
	pods := []*api.Pod{pod("a", "10.244.0.2"), pod("b", "10.244.0.3"), pod("c", "10.244.0.4", withPorts()), pod("d", "10.244.0.5", notReady)}
	a := Subsets(svc, pods)
	// The same, shuffled: subsets, addresses and ports in other orders.
	b := clone(a)
	b[0], b[1] = b[1], b[0]
	for i := range b {
		s := &b[i]
		if len(s.Addresses) > 1 {
			s.Addresses[0], s.Addresses[1] = s.Addresses[1], s.Addresses[0]
		}
		if len(s.Ports) > 1 {
			s.Ports[0], s.Ports[1] = s.Ports[1], s.Ports[0]
		}
	}
	if !equalSubsets(a, b) {
		t.Fatalf("shuffled subsets compare unequal:\n%s\n%s", render(a), render(b))
	}
	if render(a) == render(b) {
		t.Fatal("the shuffle changed nothing; the test tests nothing")
	}
	c := Subsets(svc, pods[:3])
	if equalSubsets(a, c) {
		t.Fatal("subsets without the not-ready pod compare equal")
	}
	d := Subsets(svc, []*api.Pod{pods[0], pods[1], pods[2], pod("d", "10.244.0.5")})
	if equalSubsets(a, d) {
		t.Fatal("a pod that turned ready compares equal")
	}
	if !equalSubsets(nil, []api.EndpointSubset{}) {
		t.Fatal("nil and empty differ")
	}
}

func TestPodChanged(t *testing.T) {
	base := pod("a", "10.244.0.2")
	tests := []struct {
		name string
		mod  podOpt
		want bool
	}{
		{"status noise", func(p *api.Pod) { p.Status.StartTime = &api.Time{}; p.ResourceVersion = "9" }, false},
		{"not ready", notReady, true},
		{"ip", func(p *api.Pod) { p.Status.PodIP = "10.244.0.9" }, true},
		{"labels", func(p *api.Pod) { p.Labels = map[string]string{"app": "db"} }, true},
		{"deleting", func(p *api.Pod) { now := api.Now(); p.DeletionTimestamp = &now }, true},
		{"phase", func(p *api.Pod) { p.Status.Phase = api.PodFailed }, true},
		{"ports", withPorts(), true},
	}
	for _, tt := range tests {
		cur := api.DeepCopy(base)
		tt.mod(cur)
		if got := podChanged(base, cur); got != tt.want {
			t.Errorf("%s: podChanged = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestWithOwner(t *testing.T) {
	svc := service()
	refs, changed := withOwner(nil, svc)
	if !changed || len(refs) != 1 || refs[0].UID != "uid-web" || refs[0].Kind != "Service" || !*refs[0].Controller {
		t.Fatalf("withOwner(nil) = %+v, %v", refs, changed)
	}
	if again, changed := withOwner(refs, svc); changed || len(again) != 1 {
		t.Fatalf("withOwner of an owned one = %+v, %v; want unchanged", again, changed)
	}
	other := api.OwnerReference{APIVersion: "example.com/v1", Kind: "Thing", Name: "x", UID: "u"}
	stale := []api.OwnerReference{other, {APIVersion: "v1", Kind: "Service", Name: "web", UID: "old-uid"}}
	got, changed := withOwner(stale, svc)
	if !changed || len(got) != 2 || got[0] != other || got[1].UID != "uid-web" || stale[1].UID != "old-uid" {
		t.Fatalf("withOwner of a stale owner = %+v, %v (input now %+v)", got, changed, stale)
	}
}
