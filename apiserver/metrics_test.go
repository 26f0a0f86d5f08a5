package apiserver_test

import (
	"context"
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/testserver"
	"github.com/minik8s/minik8s/client"
)

func usageReport(node string, ts time.Time, pods ...api.PodMetrics) *api.UsageReport {
	return &api.UsageReport{
		Node: api.NodeMetrics{ObjectMeta: api.ObjectMeta{Name: node}, Timestamp: api.NewTime(ts), Window: api.Duration{Duration: 5 * time.Second},
			Usage: api.ResourceList{"cpu": api.MustParseQuantity("250m"), "memory": api.MustParseQuantity("100Mi")}},
		Pods: pods,
	}
}

func podUsage(ns, name, uid string, labels map[string]string, cpu, mem string) api.PodMetrics {
	return api.PodMetrics{ObjectMeta: api.ObjectMeta{Namespace: ns, Name: name, UID: uid, Labels: labels},
		Timestamp: api.Now(), Window: api.Duration{Duration: 5 * time.Second},
		Containers: []api.ContainerMetrics{{Name: "app", Usage: api.ResourceList{"cpu": api.MustParseQuantity(cpu), "memory": api.MustParseQuantity(mem)}}}}
}

func TestMetricsReportAndRead(t *testing.T) {
	s := testserver.Start(t)
	ctx := ctxFor(t)
	creds := s.Credentials()
	asNode := func(node string) *client.Client {
		c, err := client.New(&client.Config{Server: s.Config.Server, CAData: s.Config.CAData, Token: creds.NodeToken(node)})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	n1 := asNode("n1")

	if l, err := s.Client.PodMetrics(ctx, "", ""); err != nil || len(l.Items) != 0 {
		t.Fatalf("before any report: %v, %v", l, err)
	}
	web := map[string]string{"app": "web"}
	if _, err := s.Client.Namespaces().Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "shop"}}); err != nil {
		t.Fatal(err)
	}
	newPod := func(ns, name, node string, labels map[string]string) string {
		p, err := s.Client.Pods(ns).Create(ctx, &api.Pod{ObjectMeta: api.ObjectMeta{Name: name, Labels: labels},
			Spec: api.PodSpec{NodeName: node, Containers: []api.Container{{Name: "app", Image: "echo:latest"}}}})
		if err != nil {
			t.Fatal(err)
		}
		return string(p.UID)
	}
	u1, u2, u3 := newPod("default", "web-1", "n1", web), newPod("default", "db-1", "n1", map[string]string{"app": "db"}), newPod("shop", "web-9", "n1", web)
	u4 := newPod("default", "web-2", "n2", web)
	// n1 also claims n2's web-2, and db-1 with the labels of web: neither counts.
	rep := usageReport("n1", time.Now(),
		podUsage("default", "web-1", u1, web, "400m", "64Mi"),
		podUsage("default", "db-1", u2, web, "100m", "32Mi"),
		podUsage("default", "web-2", u4, web, "9", "1Gi"),
		podUsage("shop", "web-9", u3, web, "50m", "16Mi"))
	if err := n1.ReportUsage(ctx, rep); err != nil {
		t.Fatalf("node n1 reports: %v", err)
	}
	// A node may report only for itself, the join token not at all.
	if err := asNode("n2").ReportUsage(ctx, rep); !isForbidden(err) {
		t.Errorf("node n2 reporting for n1: %v, want 403", err)
	}
	jc, _ := client.New(&client.Config{Server: s.Config.Server, CAData: s.Config.CAData, Token: creds.JoinToken})
	if _, err := jc.PodMetrics(ctx, "", ""); !isForbidden(err) {
		t.Errorf("join token reading metrics: %v, want 403", err)
	}
	noTok, _ := client.New(&client.Config{Server: s.Config.Server, CAData: s.Config.CAData})
	if _, err := noTok.NodeMetrics(ctx); !client.IsUnauthorized(err) {
		t.Errorf("no token: %v, want 401", err)
	}

	l, err := s.Client.PodMetrics(ctx, "default", "app=web")
	if err != nil || len(l.Items) != 1 || l.Items[0].Name != "web-1" || l.Kind != "PodMetricsList" {
		t.Fatalf("default pods app=web: %+v, %v", l, err)
	}
	if cpu, mem := api.PodUsage(&l.Items[0]); cpu != 400 || mem != 64<<20 {
		t.Errorf("web-1 usage %dm %d", cpu, mem)
	}
	if l, _ := s.Client.PodMetrics(ctx, "", "app=web"); len(l.Items) != 2 {
		t.Errorf("all namespaces app=web: %d items, want 2", len(l.Items))
	}
	if _, err := s.Client.PodMetrics(ctx, "", "app in (web"); !isBadRequest(err) {
		t.Errorf("bad selector: %v, want 400", err)
	}
	nl, err := s.Client.NodeMetrics(ctx)
	if err != nil || len(nl.Items) != 1 || nl.Items[0].Name != "n1" {
		t.Fatalf("nodes: %+v, %v", nl, err)
	}
	if q := nl.Items[0].Usage["cpu"]; q.MilliValue() != 250 {
		t.Errorf("node cpu = %s", q.String())
	}

	// The next report without db-1: it is gone from the node.
	rep2 := usageReport("n1", time.Now(), podUsage("default", "web-1", u1, web, "600m", "64Mi"), podUsage("shop", "web-9", u3, web, "50m", "16Mi"))
	if err := n1.ReportUsage(ctx, rep2); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.Client.PodMetrics(ctx, "default", ""); len(l.Items) != 1 {
		t.Errorf("after db-1 stopped being reported: %d items", len(l.Items))
	}
	// A Pod its node could not measure this time keeps its samples.
	rep3 := usageReport("n1", time.Now(), podUsage("shop", "web-9", u3, web, "50m", "16Mi"))
	rep3.Unmeasured = []string{"default/web-1"}
	if err := n1.ReportUsage(ctx, rep3); err != nil {
		t.Fatal(err)
	}
	h, err := s.Client.PodUsageHistory(ctx, "default", "web-1")
	if err != nil || len(h.Points) != 2 || h.Points[0].CPUMilli != 400 || h.Points[1].CPUMilli != 600 || h.Points[1].MemoryBytes != 64<<20 {
		t.Fatalf("history of web-1: %+v, %v", h, err)
	}
	if nh, err := s.Client.NodeUsageHistory(ctx, "n1"); err != nil || len(nh.Points) != 3 {
		t.Errorf("history of n1: %+v, %v", nh, err)
	}
	if _, err := s.Client.PodUsageHistory(ctx, "default", "db-1"); !client.IsNotFound(err) {
		t.Errorf("history of a gone Pod: %v, want 404", err)
	}
	// Discovery lists the group, as kubectl top expects.
	var groups struct {
		Groups []struct{ Name string } `json:"groups"`
	}
	if err := s.Client.Do(context.Background(), "GET", "/apis", nil, nil, "", &groups); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, g := range groups.Groups {
		found = found || g.Name == api.GroupMetrics
	}
	if !found {
		t.Errorf("/apis lacks %s: %+v", api.GroupMetrics, groups)
	}
}

func isForbidden(err error) bool {
	se, ok := err.(*client.StatusError)
	return ok && se.Status.Code == 403
}

func isBadRequest(err error) bool {
	se, ok := err.(*client.StatusError)
	return ok && se.Status.Code == 400
}
