package apiserver_test

import (
	"slices"
	"testing"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/testserver"
	"github.com/minik8s/minik8s/client"
)

// TestServiceTable checks the Table answer for services, as kubectl gets it: PORT(S) as
// port:targetPort (and :nodePort), ENDPOINTS from the Endpoints object of the same name in the
// same namespace, three and a count (kubectl shows the priority 0 columns), in a list, across
// namespaces and for one Service.
func TestServiceTable(t *testing.T) {
	s := testserver.Start(t)
	ctx := ctxFor(t)
	c := s.Client
	ns, other := newNamespace(t, s), newNamespace(t, s)
	for _, svc := range []*api.Service{
		{ObjectMeta: api.ObjectMeta{Name: "web"}, Spec: api.ServiceSpec{Type: api.ServiceTypeNodePort, ClusterIP: "10.96.0.41",
			Selector: map[string]string{"app": "web"},
			Ports:    []api.ServicePort{{Port: 80, TargetPort: api.FromInt(8080), NodePort: 30082}}}},
		{ObjectMeta: api.ObjectMeta{Name: "db"}, Spec: api.ServiceSpec{ClusterIP: "10.96.0.42",
			Selector: map[string]string{"app": "db"},
			Ports:    []api.ServicePort{{Port: 5432, TargetPort: api.FromString("pg")}}}},
	} {
		svc.Labels = map[string]string{"suite": "service-table"}
		if _, err := c.Services(ns).Create(ctx, svc); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Services(other).Create(ctx, &api.Service{ObjectMeta: api.ObjectMeta{Name: "db", Labels: map[string]string{"suite": "service-table"}},
		Spec: api.ServiceSpec{ClusterIP: "10.96.0.43", Ports: []api.ServicePort{{Port: 5432}}}}); err != nil {
		t.Fatal(err)
	}
	var addrs []api.EndpointAddress
	for _, ip := range []string{"10.244.1.5", "10.244.2.3", "10.244.3.4", "10.244.1.9"} {
		addrs = append(addrs, api.EndpointAddress{IP: ip})
	}
	if _, err := c.Endpoints(ns).Create(ctx, &api.Endpoints{ObjectMeta: api.ObjectMeta{Name: "web"},
		Subsets: []api.EndpointSubset{{Addresses: addrs, Ports: []api.EndpointPort{{Port: 8080}}}}}); err != nil {
		t.Fatal(err)
	}
	// The same name in another namespace is not ns/db's, but other/db's.
	if _, err := c.Endpoints(other).Create(ctx, &api.Endpoints{ObjectMeta: api.ObjectMeta{Name: "db"},
		Subsets: []api.EndpointSubset{{Addresses: addrs[:1], Ports: []api.EndpointPort{{Port: 5432}}}}}); err != nil {
		t.Fatal(err)
	}

	wantWeb := []any{"web", "NodePort", "10.96.0.41", "80:8080:30082/TCP", "10.244.1.5:8080,10.244.2.3:8080,10.244.3.4:8080 + 1 more..."}
	wantDB := []any{"db", "ClusterIP", "10.96.0.42", "5432:pg/TCP", "<none>"}
	wantOtherDB := []any{"db", "ClusterIP", "10.96.0.43", "5432:5432/TCP", "10.244.1.5:5432"}
	// check compares the rows, in any order (namespaces sort by name), with want.
	check := func(what string, tbl *api.Table, want ...[]any) {
		t.Helper()
		var names []string
		for _, col := range tbl.ColumnDefinitions {
			names = append(names, col.Name)
		}
		if len(names) != 7 || names[3] != "Port(s)" || names[4] != "Endpoints" || tbl.ColumnDefinitions[4].Priority != 0 {
			t.Fatalf("%s: columns %v", what, names)
		}
		if len(tbl.Rows) != len(want) {
			t.Fatalf("%s: %d rows, want %d", what, len(tbl.Rows), len(want))
		}
		left := slices.Clone(want)
	rows:
		for i, row := range tbl.Rows {
			for k, w := range left {
				if slices.Equal(row.Cells[:len(w)], w) {
					left = slices.Delete(left, k, k+1)
					continue rows
				}
			}
			t.Errorf("%s: row %d: %v, want one of %v", what, i, row.Cells, left)
		}
	}

	tbl, err := c.Services(ns).Dynamic().Table(ctx, "", client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	check("list", tbl, wantDB, wantWeb)

	all, err := c.Services("").Dynamic().Table(ctx, "", client.ListOptions{LabelSelector: "suite=service-table"})
	if err != nil {
		t.Fatal(err)
	}
	check("all namespaces", all, wantDB, wantWeb, wantOtherDB)

	one, err := c.Services(ns).Dynamic().Table(ctx, "web", client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	check("one", one, wantWeb)
}
