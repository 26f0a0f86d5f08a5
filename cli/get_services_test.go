package cli_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/testserver"
)

// TestGetServices checks `get services` as a user sees it: ports as port:targetPort (and
// :nodePort), the ready endpoints of each Service from its Endpoints object (three and a count,
// all of them with -o wide), and the NAMESPACE and LABELS columns around them.
func TestGetServices(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	c := s.Client
	for _, ns := range []string{"dev", "prod"} {
		if _, err := c.Namespaces().Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	web := &api.Service{ObjectMeta: api.ObjectMeta{Name: "web", Labels: map[string]string{"tier": "front"}},
		Spec: api.ServiceSpec{Type: api.ServiceTypeNodePort, ClusterIP: "10.96.0.31", Selector: map[string]string{"app": "web"},
			Ports: []api.ServicePort{
				{Name: "http", Port: 80, TargetPort: api.FromInt(8080), NodePort: 30081},
				{Name: "dns", Protocol: "UDP", Port: 53, NodePort: 30053},
			}}}
	apiSvc := &api.Service{ObjectMeta: api.ObjectMeta{Name: "api"},
		Spec: api.ServiceSpec{ClusterIP: "10.96.0.32", Selector: map[string]string{"app": "api"},
			Ports: []api.ServicePort{{Port: 443, TargetPort: api.FromString("https")}}}}
	for _, svc := range []*api.Service{web, apiSvc} {
		if _, err := c.Services("dev").Create(ctx, svc); err != nil {
			t.Fatal(err)
		}
	}
	var ready []api.EndpointAddress
	for _, ip := range []string{"10.244.1.5", "10.244.2.3", "10.244.3.4", "10.244.1.9", "10.244.2.7"} {
		ready = append(ready, api.EndpointAddress{IP: ip})
	}
	if _, err := c.Endpoints("dev").Create(ctx, &api.Endpoints{ObjectMeta: api.ObjectMeta{Name: "web"},
		Subsets: []api.EndpointSubset{{Addresses: ready, NotReadyAddresses: []api.EndpointAddress{{IP: "10.244.3.8"}},
			Ports: []api.EndpointPort{{Name: "http", Port: 8080}}}}}); err != nil {
		t.Fatal(err)
	}
	// An Endpoints object of the same name in another namespace is not dev/api's.
	if _, err := c.Endpoints("prod").Create(ctx, &api.Endpoints{ObjectMeta: api.ObjectMeta{Name: "api"},
		Subsets: []api.EndpointSubset{{Addresses: []api.EndpointAddress{{IP: "10.244.9.9"}}, Ports: []api.EndpointPort{{Port: 8443}}}}}); err != nil {
		t.Fatal(err)
	}

	out := mustRun(t, s, "get", "services", "-n", "dev")
	want := regexp.MustCompile(`^NAME   TYPE        CLUSTER-IP   PORT\(S\)                             ENDPOINTS\s+AGE\n` +
		`api    ClusterIP   10\.96\.0\.32   443:https/TCP                       <none>\s+\d+s\n` +
		`web    NodePort    10\.96\.0\.31   80:8080:30081/TCP,53:53:30053/UDP   10\.244\.1\.5:8080,10\.244\.2\.3:8080,10\.244\.3\.4:8080 \+ 2 more\.\.\.   \d+s\n$`)
	if !want.MatchString(out) {
		t.Fatalf("get services:\n%s", out)
	}

	out = mustRun(t, s, "get", "svc", "-n", "dev", "-o", "wide")
	if !regexp.MustCompile(`(?m)^NAME\s+TYPE\s+CLUSTER-IP\s+PORT\(S\)\s+ENDPOINTS\s+AGE\s+SELECTOR$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^web\s+NodePort\s+10\.96\.0\.31\s+80:8080:30081/TCP,53:53:30053/UDP\s+`+
			`10\.244\.1\.5:8080,10\.244\.2\.3:8080,10\.244\.3\.4:8080,10\.244\.1\.9:8080,10\.244\.2\.7:8080\s+\d+s\s+app=web$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^api\s+ClusterIP\s+10\.96\.0\.32\s+443:https/TCP\s+<none>\s+\d+s\s+app=api$`).MatchString(out) {
		t.Fatalf("get svc -o wide:\n%s", out)
	}

	out = mustRun(t, s, "get", "svc", "-A", "--show-labels")
	if !regexp.MustCompile(`(?m)^NAMESPACE\s+NAME\s+TYPE\s+CLUSTER-IP\s+PORT\(S\)\s+ENDPOINTS\s+AGE\s+LABELS$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^dev\s+web\s+NodePort\s+10\.96\.0\.31\s+80:8080:30081/TCP,53:53:30053/UDP\s+10\.244\.1\.5:8080,10\.244\.2\.3:8080,10\.244\.3\.4:8080 \+ 2 more\.\.\.\s+\d+s\s+tier=front$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^dev\s+api\s+ClusterIP\s+10\.96\.0\.32\s+443:https/TCP\s+<none>\s+\d+s\s+<none>$`).MatchString(out) {
		t.Fatalf("get svc -A --show-labels:\n%s", out)
	}

	out = mustRun(t, s, "get", "svc", "web", "-n", "dev", "--no-headers")
	if !regexp.MustCompile(`^web\s+NodePort\s+10\.96\.0\.31\s+80:8080:30081/TCP,53:53:30053/UDP\s+10\.244\.1\.5:8080,10\.244\.2\.3:8080,10\.244\.3\.4:8080 \+ 2 more\.\.\.\s+\d+s\n$`).MatchString(out) {
		t.Fatalf("get svc web --no-headers:\n%s", out)
	}
}
