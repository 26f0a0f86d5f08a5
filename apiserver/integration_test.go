package apiserver_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/testserver"
	"github.com/minik8s/minik8s/client"
)

// kindCase drives the CRUD test for one kind.
type kindCase struct {
	resource string
	// path is the URL of an object as a user writes it by hand.
	path func(ns, name string) string
	make func(ns, name string) api.Object
	// defaults checks what the server filled in on create.
	defaults func(t *testing.T, obj api.Object)
	// change makes a change to the spec (or, for kinds without one, to the content), and
	// changed checks that it was stored.
	change  func(obj api.Object)
	changed func(t *testing.T, obj api.Object)
}

func rv(t *testing.T, obj api.Object) int64 {
	t.Helper()
	n, err := strconv.ParseInt(obj.GetObjectMeta().ResourceVersion, 10, 64)
	if err != nil || n <= 0 {
		t.Fatalf("resourceVersion %q of %s is not a positive revision", obj.GetObjectMeta().ResourceVersion, obj.GetObjectMeta().Key())
	}
	return n
}

var kindCases = []kindCase{
	{
		resource: "namespaces",
		path:     func(_, name string) string { return "/api/v1/namespaces/" + name },
		make:     func(_, name string) api.Object { return &api.Namespace{ObjectMeta: api.ObjectMeta{Name: name}} },
		defaults: func(t *testing.T, obj api.Object) {
			if p := obj.(*api.Namespace).Status.Phase; p != api.NamespaceActive {
				t.Errorf("namespace phase = %q, want Active", p)
			}
		},
		change: func(obj api.Object) { obj.GetObjectMeta().Annotations = map[string]string{"note": "changed"} },
		changed: func(t *testing.T, obj api.Object) {
			if obj.GetObjectMeta().Annotations["note"] != "changed" {
				t.Errorf("annotation not stored: %v", obj.GetObjectMeta().Annotations)
			}
		},
	},
	{
		resource: "nodes",
		path:     func(_, name string) string { return "/api/v1/nodes/" + name },
		make:     func(_, name string) api.Object { return newNode(name) },
		defaults: func(t *testing.T, obj api.Object) {},
		change:   func(obj api.Object) { obj.(*api.Node).Spec.Unschedulable = true },
		changed: func(t *testing.T, obj api.Object) {
			if !obj.(*api.Node).Spec.Unschedulable {
				t.Error("spec.unschedulable not stored")
			}
		},
	},
	{
		resource: "pods",
		path:     func(ns, name string) string { return "/api/v1/namespaces/" + ns + "/pods/" + name },
		make:     func(ns, name string) api.Object { return newPod(ns, name) },
		defaults: func(t *testing.T, obj api.Object) {
			p := obj.(*api.Pod)
			if p.Spec.RestartPolicy != api.RestartPolicyAlways {
				t.Errorf("restartPolicy = %q, want Always", p.Spec.RestartPolicy)
			}
			if p.Spec.TerminationGracePeriodSeconds == nil || *p.Spec.TerminationGracePeriodSeconds != 30 {
				t.Errorf("terminationGracePeriodSeconds = %v, want 30", p.Spec.TerminationGracePeriodSeconds)
			}
			if p.Spec.DNSPolicy != api.DNSClusterFirst || p.Spec.SchedulerName != api.DefaultSchedulerName {
				t.Errorf("dnsPolicy/schedulerName = %q/%q", p.Spec.DNSPolicy, p.Spec.SchedulerName)
			}
			if p.Spec.Containers[0].ImagePullPolicy != api.PullIfNotPresent {
				t.Errorf("imagePullPolicy = %q, want IfNotPresent", p.Spec.Containers[0].ImagePullPolicy)
			}
			if p.Status.Phase != api.PodPending {
				t.Errorf("phase = %q, want Pending", p.Status.Phase)
			}
		},
		change: func(obj api.Object) { obj.(*api.Pod).Spec.Containers[0].Image = "busybox:1.37" },
		changed: func(t *testing.T, obj api.Object) {
			if img := obj.(*api.Pod).Spec.Containers[0].Image; img != "busybox:1.37" {
				t.Errorf("image = %q", img)
			}
		},
	},
	{
		resource: "services",
		path:     func(ns, name string) string { return "/api/v1/namespaces/" + ns + "/services/" + name },
		make:     func(ns, name string) api.Object { return newService(ns, name) },
		defaults: func(t *testing.T, obj api.Object) {
			s := obj.(*api.Service)
			if s.Spec.Type != api.ServiceTypeClusterIP {
				t.Errorf("type = %q, want ClusterIP", s.Spec.Type)
			}
			if s.Spec.SessionAffinity != api.ServiceAffinityNone {
				t.Errorf("sessionAffinity = %q, want None", s.Spec.SessionAffinity)
			}
			p := s.Spec.Ports[0]
			if p.Protocol != api.ProtocolTCP || p.TargetPort != api.FromInt(80) {
				t.Errorf("port defaults: protocol %q targetPort %v", p.Protocol, p.TargetPort)
			}
		},
		change: func(obj api.Object) { obj.(*api.Service).Spec.Ports[0].Port = 81 },
		changed: func(t *testing.T, obj api.Object) {
			if p := obj.(*api.Service).Spec.Ports[0].Port; p != 81 {
				t.Errorf("port = %d", p)
			}
		},
	},
	{
		resource: "endpoints",
		path:     func(ns, name string) string { return "/api/v1/namespaces/" + ns + "/endpoints/" + name },
		make:     func(ns, name string) api.Object { return newEndpoints(ns, name) },
		defaults: func(t *testing.T, obj api.Object) {
			if p := obj.(*api.Endpoints).Subsets[0].Ports[0].Protocol; p != api.ProtocolTCP {
				t.Errorf("endpoint port protocol = %q, want TCP", p)
			}
		},
		change: func(obj api.Object) { obj.(*api.Endpoints).Subsets[0].Addresses[0].IP = "10.0.0.2" },
		changed: func(t *testing.T, obj api.Object) {
			if ip := obj.(*api.Endpoints).Subsets[0].Addresses[0].IP; ip != "10.0.0.2" {
				t.Errorf("ip = %q", ip)
			}
		},
	},
	{
		resource: "secrets",
		path:     func(ns, name string) string { return "/api/v1/namespaces/" + ns + "/secrets/" + name },
		make:     func(ns, name string) api.Object { return newSecret(ns, name) },
		defaults: func(t *testing.T, obj api.Object) {
			s := obj.(*api.Secret)
			if s.Type != api.SecretTypeOpaque {
				t.Errorf("type = %q, want Opaque", s.Type)
			}
			if string(s.Data["password"]) != "hunter2" || len(s.StringData) != 0 {
				t.Errorf("stringData not merged into data: data %q stringData %v", s.Data, s.StringData)
			}
		},
		change: func(obj api.Object) { obj.(*api.Secret).Data["password"] = []byte("correct horse") },
		changed: func(t *testing.T, obj api.Object) {
			if p := string(obj.(*api.Secret).Data["password"]); p != "correct horse" {
				t.Errorf("data = %q", p)
			}
		},
	},
	{
		resource: "events",
		path:     func(ns, name string) string { return "/api/v1/namespaces/" + ns + "/events/" + name },
		make:     func(ns, name string) api.Object { return newEvent(ns, name) },
		defaults: func(t *testing.T, obj api.Object) {
			e := obj.(*api.Event)
			if e.Type != api.EventTypeNormal || e.Count != 1 {
				t.Errorf("type/count = %q/%d, want Normal/1", e.Type, e.Count)
			}
		},
		change: func(obj api.Object) { obj.(*api.Event).Message = "second" },
		changed: func(t *testing.T, obj api.Object) {
			if m := obj.(*api.Event).Message; m != "second" {
				t.Errorf("message = %q", m)
			}
		},
	},
	{
		resource: "replicasets",
		path:     func(ns, name string) string { return "/apis/apps/v1/namespaces/" + ns + "/replicasets/" + name },
		make: func(ns, name string) api.Object {
			rs := newReplicaSet(ns, name, 0)
			rs.Spec.Replicas = nil
			return rs
		},
		defaults: func(t *testing.T, obj api.Object) {
			rs := obj.(*api.ReplicaSet)
			if rs.Spec.Replicas == nil || *rs.Spec.Replicas != 1 {
				t.Errorf("replicas = %v, want 1", rs.Spec.Replicas)
			}
			if rs.Spec.Template.Spec.RestartPolicy != api.RestartPolicyAlways {
				t.Errorf("template restartPolicy = %q", rs.Spec.Template.Spec.RestartPolicy)
			}
			if rs.Labels["app"] != rs.Name {
				t.Errorf("labels not defaulted from the template: %v", rs.Labels)
			}
			if rs.Spec.Template.ResourceVersion != "" || rs.Spec.Template.UID != "" {
				t.Errorf("the template got object metadata: %+v", rs.Spec.Template.ObjectMeta)
			}
		},
		change: func(obj api.Object) { three := int32(3); obj.(*api.ReplicaSet).Spec.Replicas = &three },
		changed: func(t *testing.T, obj api.Object) {
			if r := obj.(*api.ReplicaSet).Spec.Replicas; r == nil || *r != 3 {
				t.Errorf("replicas = %v", r)
			}
		},
	},
}

// TestCRUD creates, reads, lists, updates and deletes one object of every kind, through the
// typed URL scheme a user sees.
func TestCRUD(t *testing.T) {
	s := testserver.Start(t)
	for _, kc := range kindCases {
		t.Run(kc.resource, func(t *testing.T) {
			ctx := ctxFor(t)
			res := api.LookupResource(kc.resource)
			if res == nil {
				t.Fatalf("no resource %s", kc.resource)
			}
			ns := ""
			if res.Namespaced {
				ns = newNamespace(t, s)
			}
			name := "crud-" + strings.TrimSuffix(kc.resource, "s")
			d := s.Client.Resource(res, ns)
			before := time.Now().Add(-2 * time.Second)

			// Create.
			created, err := d.Create(ctx, kc.make(ns, name))
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			m := created.GetObjectMeta()
			if m.Name != name || m.Namespace != ns {
				t.Fatalf("created %q in %q, want %q in %q", m.Name, m.Namespace, name, ns)
			}
			if m.UID == "" {
				t.Error("no uid")
			}
			if m.CreationTimestamp.Before(before) || m.CreationTimestamp.After(time.Now().Add(2*time.Second)) {
				t.Errorf("creationTimestamp %v is not now", m.CreationTimestamp)
			}
			rv1 := rv(t, created)
			wantGen := int64(0)
			if res.HasSpec {
				wantGen = 1
			}
			if m.Generation != wantGen {
				t.Errorf("generation = %d after create, want %d", m.Generation, wantGen)
			}
			if tm := created.GetTypeMeta(); tm.Kind != res.Kind || tm.APIVersion != res.APIVersion() {
				t.Errorf("typeMeta = %+v", *tm)
			}
			kc.defaults(t, created)

			// A second create of the same name is 409 AlreadyExists.
			if _, err := d.Create(ctx, kc.make(ns, name)); !client.IsAlreadyExists(err) {
				t.Errorf("second create: %v, want AlreadyExists", err)
			} else if st := statusOf(t, err); st.Code != http.StatusConflict {
				t.Errorf("second create code = %d", st.Code)
			}

			// Get, through the client and at the URL written by hand.
			got, err := d.Get(ctx, name)
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			if gm := got.GetObjectMeta(); gm.UID != m.UID || gm.ResourceVersion != m.ResourceVersion || !gm.CreationTimestamp.Equal(m.CreationTimestamp.Time) {
				t.Errorf("get returned uid %s rv %s ts %v, create returned uid %s rv %s ts %v",
					gm.UID, gm.ResourceVersion, gm.CreationTimestamp, m.UID, m.ResourceVersion, m.CreationTimestamp)
			}
			kc.defaults(t, got)
			r := admin(t, s, http.MethodGet, kc.path(ns, name), nil)
			if r.Code != http.StatusOK {
				t.Fatalf("GET %s: %d %s", kc.path(ns, name), r.Code, r.Body)
			}
			var raw map[string]any
			if err := json.Unmarshal(r.Body, &raw); err != nil {
				t.Fatal(err)
			}
			if raw["kind"] != res.Kind || raw["apiVersion"] != res.APIVersion() {
				t.Errorf("GET %s: kind %v apiVersion %v", kc.path(ns, name), raw["kind"], raw["apiVersion"])
			}

			// List.
			items, listRV, err := d.List(ctx, client.ListOptions{})
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			found := false
			for _, it := range items {
				if it.GetObjectMeta().Name == name {
					found = true
					if it.GetObjectMeta().ResourceVersion != m.ResourceVersion {
						t.Errorf("listed rv %s, want %s", it.GetObjectMeta().ResourceVersion, m.ResourceVersion)
					}
				}
				if res.Namespaced && it.GetObjectMeta().Namespace != ns {
					t.Errorf("list of namespace %s returned %s", ns, it.GetObjectMeta().Key())
				}
			}
			if !found {
				t.Errorf("list does not hold %s", name)
			}
			if n, err := strconv.ParseInt(listRV, 10, 64); err != nil || n < rv1 {
				t.Errorf("list resourceVersion %q is older than the object's %d", listRV, rv1)
			}

			// A metadata-only update does not bump the generation.
			got.GetObjectMeta().Labels = map[string]string{"updated": "yes"}
			up1, err := d.Update(ctx, got)
			if err != nil {
				t.Fatalf("update labels: %v", err)
			}
			rv2 := rv(t, up1)
			if rv2 <= rv1 {
				t.Errorf("rv after update %d, before %d", rv2, rv1)
			}
			if up1.GetObjectMeta().Generation != wantGen {
				t.Errorf("generation = %d after a label change, want %d", up1.GetObjectMeta().Generation, wantGen)
			}
			if up1.GetObjectMeta().UID != m.UID || !up1.GetObjectMeta().CreationTimestamp.Equal(m.CreationTimestamp.Time) {
				t.Error("update changed uid or creationTimestamp")
			}

			// A spec change bumps it (for kinds with a spec).
			kc.change(up1)
			up2, err := d.Update(ctx, up1)
			if err != nil {
				t.Fatalf("update spec: %v", err)
			}
			if rv(t, up2) <= rv2 {
				t.Errorf("rv did not grow on the second update")
			}
			if res.HasSpec {
				wantGen++
			}
			got, err = d.Get(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if g := got.GetObjectMeta().Generation; g != wantGen {
				t.Errorf("generation = %d after a spec change, want %d", g, wantGen)
			}
			if got.GetObjectMeta().Labels["updated"] != "yes" {
				t.Errorf("labels lost: %v", got.GetObjectMeta().Labels)
			}
			kc.changed(t, got)

			// Delete; then the object is gone.
			if err := d.Delete(ctx, name, nil); err != nil {
				t.Fatalf("delete: %v", err)
			}
			getGone := func() (bool, string) {
				_, err := d.Get(ctx, name)
				if client.IsNotFound(err) {
					return true, ""
				}
				return false, "get after delete: " + errString(err)
			}
			if res.Kind == "Namespace" {
				// A namespace turns Terminating and goes once it is empty.
				eventually(t, 15*time.Second, getGone)
			} else if ok, msg := getGone(); !ok {
				t.Fatal(msg)
			}
			_, err = d.Get(ctx, name)
			st := statusOf(t, err)
			if st.Code != http.StatusNotFound || st.Reason != api.StatusReasonNotFound {
				t.Errorf("get after delete: code %d reason %q", st.Code, st.Reason)
			}
			r = admin(t, s, http.MethodGet, kc.path(ns, name), nil)
			if st := r.status(t); st.Code != http.StatusNotFound || st.Reason != api.StatusReasonNotFound {
				t.Errorf("raw GET after delete: %d %s", r.Code, r.Body)
			}
			if err := d.Delete(ctx, name, nil); !client.IsNotFound(err) {
				t.Errorf("second delete: %v, want NotFound", err)
			}
			if _, err := d.Update(ctx, got); !client.IsNotFound(err) {
				t.Errorf("update after delete: %v, want NotFound", err)
			}
		})
	}

	t.Run("wrong scope", func(t *testing.T) {
		// A cluster-scoped kind under a namespace is not found.
		r := admin(t, s, http.MethodGet, "/api/v1/namespaces/default/nodes", nil)
		if r.Code != http.StatusNotFound {
			t.Errorf("GET nodes in a namespace: %d %s", r.Code, r.Body)
		}
		r.status(t)
		// ReplicaSets are not in the core group.
		r = admin(t, s, http.MethodGet, "/api/v1/namespaces/default/replicasets", nil)
		if r.Code != http.StatusNotFound {
			t.Errorf("GET replicasets in the core group: %d %s", r.Code, r.Body)
		}
		r.status(t)
	})
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// TestOptimisticConcurrency races two updates from the same resourceVersion: exactly one wins.
func TestOptimisticConcurrency(t *testing.T) {
	s := testserver.Start(t)
	ctx := ctxFor(t)
	ns := newNamespace(t, s)
	pods := s.Client.Pods(ns)
	if _, err := pods.Create(ctx, newPod(ns, "race")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		base, err := pods.Get(ctx, "race")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, 2)
		outs := make([]*api.Pod, 2)
		for g := 0; g < 2; g++ {
			mine := api.DeepCopy(base)
			mine.Labels = map[string]string{"writer": strconv.Itoa(g), "round": strconv.Itoa(i)}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				outs[g], errs[g] = pods.Update(ctx, mine)
			}()
		}
		close(start)
		wg.Wait()
		winner := -1
		for g, err := range errs {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Fatalf("round %d: both updates from rv %s succeeded", i, base.ResourceVersion)
				}
				winner = g
			case client.IsConflict(err):
				if st := statusOf(t, err); st.Code != http.StatusConflict {
					t.Errorf("round %d: conflict code %d", i, st.Code)
				}
			default:
				t.Fatalf("round %d: update %d: %v", i, g, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: neither update succeeded: %v / %v", i, errs[0], errs[1])
		}
		now, err := pods.Get(ctx, "race")
		if err != nil {
			t.Fatal(err)
		}
		if now.Labels["writer"] != strconv.Itoa(winner) || now.ResourceVersion != outs[winner].ResourceVersion {
			t.Fatalf("round %d: stored labels %v rv %s, winner %d answered rv %s", i, now.Labels, now.ResourceVersion, winner, outs[winner].ResourceVersion)
		}
	}

	// A stale resourceVersion is a conflict even without a race; a missing one is last-write-wins.
	cur, _ := pods.Get(ctx, "race")
	stale := api.DeepCopy(cur)
	cur.Labels = map[string]string{"step": "1"}
	if _, err := pods.Update(ctx, cur); err != nil {
		t.Fatal(err)
	}
	stale.Labels = map[string]string{"step": "stale"}
	if _, err := pods.Update(ctx, stale); !client.IsConflict(err) {
		t.Fatalf("update from a stale rv: %v, want Conflict", err)
	}
	stale.ResourceVersion = ""
	if out, err := pods.Update(ctx, stale); err != nil || out.Labels["step"] != "stale" {
		t.Fatalf("update without rv: %v", err)
	}
}

// TestStatusSubresource: PUT /status changes only the status; a plain PUT keeps it.
func TestStatusSubresource(t *testing.T) {
	s := testserver.Start(t)
	ctx := ctxFor(t)
	ns := newNamespace(t, s)

	t.Run("pod", func(t *testing.T) {
		pods := s.Client.Pods(ns)
		p, err := pods.Create(ctx, newPod(ns, "st"))
		if err != nil {
			t.Fatal(err)
		}
		gen := p.Generation
		// A status update that also tries to change the spec and the labels.
		p.Status.Phase = api.PodRunning
		p.Status.PodIP = "10.1.2.3"
		p.Spec.Containers[0].Image = "evil:1"
		p.Labels = map[string]string{"sneaky": "yes"}
		out, err := pods.UpdateStatus(ctx, p)
		if err != nil {
			t.Fatalf("update status: %v", err)
		}
		got, err := pods.Get(ctx, "st")
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range []*api.Pod{out, got} {
			if o.Status.Phase != api.PodRunning || o.Status.PodIP != "10.1.2.3" {
				t.Errorf("status not stored: %+v", o.Status)
			}
			if o.Spec.Containers[0].Image != "busybox:1.36" {
				t.Errorf("a status update changed the image to %q", o.Spec.Containers[0].Image)
			}
			if o.Labels["sneaky"] != "" {
				t.Errorf("a status update changed labels: %v", o.Labels)
			}
			if o.Generation != gen {
				t.Errorf("a status update changed the generation: %d -> %d", gen, o.Generation)
			}
		}
		if out.ResourceVersion != got.ResourceVersion {
			t.Errorf("answered rv %s, stored %s", out.ResourceVersion, got.ResourceVersion)
		}

		// A plain update that tries to change the status keeps the stored one.
		got.Status.Phase = api.PodFailed
		got.Status.PodIP = ""
		got.Labels = map[string]string{"plain": "yes"}
		out, err = pods.Update(ctx, got)
		if err != nil {
			t.Fatalf("plain update: %v", err)
		}
		got, err = pods.Get(ctx, "st")
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range []*api.Pod{out, got} {
			if o.Status.Phase != api.PodRunning || o.Status.PodIP != "10.1.2.3" {
				t.Errorf("a plain update changed the status: %+v", o.Status)
			}
			if o.Labels["plain"] != "yes" {
				t.Errorf("labels not updated: %v", o.Labels)
			}
		}

		// A status update from a stale resourceVersion is a conflict.
		stale := api.DeepCopy(p)
		stale.Status.Phase = api.PodSucceeded
		if _, err := pods.UpdateStatus(ctx, stale); !client.IsConflict(err) {
			t.Errorf("stale status update: %v, want Conflict", err)
		}
	})

	t.Run("replicaset", func(t *testing.T) {
		rss := s.Client.ReplicaSets(ns)
		rs, err := rss.Create(ctx, newReplicaSet(ns, "st", 2))
		if err != nil {
			t.Fatal(err)
		}
		rs.Status = api.ReplicaSetStatus{Replicas: 2, ReadyReplicas: 1, ObservedGeneration: rs.Generation}
		five := int32(5)
		rs.Spec.Replicas = &five
		if _, err := rss.UpdateStatus(ctx, rs); err != nil {
			t.Fatal(err)
		}
		got, _ := rss.Get(ctx, "st")
		if *got.Spec.Replicas != 2 || got.Generation != 1 {
			t.Errorf("status update changed spec.replicas to %d, generation %d", *got.Spec.Replicas, got.Generation)
		}
		if got.Status.ReadyReplicas != 1 || got.Status.ObservedGeneration != 1 {
			t.Errorf("status = %+v", got.Status)
		}
		got.Spec.Replicas = &five
		got.Status = api.ReplicaSetStatus{}
		if _, err := rss.Update(ctx, got); err != nil {
			t.Fatal(err)
		}
		got, _ = rss.Get(ctx, "st")
		if *got.Spec.Replicas != 5 || got.Generation != 2 || got.Status.ReadyReplicas != 1 {
			t.Errorf("after a plain update: replicas %d generation %d status %+v", *got.Spec.Replicas, got.Generation, got.Status)
		}
	})

	t.Run("node", func(t *testing.T) {
		nodes := s.Client.Nodes()
		n, err := nodes.Create(ctx, newNode("st-node"))
		if err != nil {
			t.Fatal(err)
		}
		n.Status.Conditions = []api.NodeCondition{{Type: api.NodeReady, Status: api.ConditionTrue, LastHeartbeatTime: api.Now()}}
		n.Status.Addresses = []api.NodeAddress{{Type: "InternalIP", Address: "192.0.2.7"}}
		n.Spec.Unschedulable = true
		if _, err := nodes.UpdateStatus(ctx, n); err != nil {
			t.Fatal(err)
		}
		got, _ := nodes.Get(ctx, "st-node")
		if got.Spec.Unschedulable || got.Generation != 1 {
			t.Errorf("a node status update changed the spec: %+v generation %d", got.Spec, got.Generation)
		}
		if len(got.Status.Conditions) != 1 || got.Status.Conditions[0].Status != api.ConditionTrue || len(got.Status.Addresses) != 1 {
			t.Errorf("node status = %+v", got.Status)
		}
		// An invalid status is refused like an invalid object.
		got.Status.Addresses = []api.NodeAddress{{Type: "InternalIP"}}
		_, err = nodes.UpdateStatus(ctx, got)
		if st := statusOf(t, err); st.Code != http.StatusBadRequest || !slices.Contains(causeFields(st), "status.addresses[0].address") {
			t.Errorf("invalid node status: %v", err)
		}
	})

	t.Run("namespace", func(t *testing.T) {
		got, err := s.Client.Namespaces().Get(ctx, ns)
		if err != nil {
			t.Fatal(err)
		}
		got.Labels = map[string]string{"via": "status"}
		out, err := s.Client.Namespaces().UpdateStatus(ctx, got)
		if err != nil {
			t.Fatalf("namespace status update: %v", err)
		}
		if out.Name != ns || out.Labels["via"] != "" || out.Status.Phase != api.NamespaceActive {
			t.Errorf("namespace after a status update: %+v", out)
		}
	})

	t.Run("no status subresource", func(t *testing.T) {
		// Secrets have no status: /status is not found.
		if _, err := s.Client.Secrets(ns).Create(ctx, newSecret(ns, "st")); err != nil {
			t.Fatal(err)
		}
		r := admin(t, s, http.MethodPut, "/api/v1/namespaces/"+ns+"/secrets/st/status", mustJSON(t, newSecret(ns, "st")))
		if r.Code != http.StatusNotFound {
			t.Errorf("PUT secrets/status: %d %s", r.Code, r.Body)
		}
	})
}

// TestGracefulPodDelete: a Pod on a node is marked and stays; grace period 0 removes it.
func TestGracefulPodDelete(t *testing.T) {
	s := testserver.Start(t)
	ctx := ctxFor(t)
	ns := newNamespace(t, s)
	pods := s.Client.Pods(ns)

	t.Run("on a node", func(t *testing.T) {
		p := newPod(ns, "bound")
		p.Spec.NodeName = "node-1"
		if _, err := pods.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		before := time.Now()
		if err := pods.Delete(ctx, "bound", nil); err != nil {
			t.Fatalf("delete: %v", err)
		}
		got, err := pods.Get(ctx, "bound")
		if err != nil {
			t.Fatalf("the pod is gone after a graceful delete: %v", err)
		}
		if got.DeletionTimestamp == nil {
			t.Fatal("no deletionTimestamp")
		}
		if got.DeletionGracePeriodSeconds == nil || *got.DeletionGracePeriodSeconds != 30 {
			t.Errorf("deletionGracePeriodSeconds = %v, want 30", got.DeletionGracePeriodSeconds)
		}
		if d := got.DeletionTimestamp.Sub(before); d < 28*time.Second || d > 32*time.Second {
			t.Errorf("deletionTimestamp is %v after the delete, want about 30s", d)
		}
		// A second plain delete changes nothing.
		if err := pods.Delete(ctx, "bound", nil); err != nil {
			t.Fatal(err)
		}
		again, err := pods.Get(ctx, "bound")
		if err != nil || again.ResourceVersion != got.ResourceVersion {
			t.Fatalf("second graceful delete: %v, rv %s -> %s", err, got.ResourceVersion, again.ResourceVersion)
		}
		// An update may not clear the deletionTimestamp.
		again.DeletionTimestamp = nil
		again.Labels = map[string]string{"x": "y"}
		if up, err := pods.Update(ctx, again); err != nil || up.DeletionTimestamp == nil {
			t.Errorf("update of a deleting pod: %v, deletionTimestamp %v", err, up)
		}
		// A shorter grace period shortens the deadline.
		five := int64(5)
		if err := pods.Delete(ctx, "bound", &api.DeleteOptions{GracePeriodSeconds: &five}); err != nil {
			t.Fatal(err)
		}
		got, _ = pods.Get(ctx, "bound")
		if got == nil || got.DeletionGracePeriodSeconds == nil || *got.DeletionGracePeriodSeconds != 5 {
			t.Errorf("deletionGracePeriodSeconds after a delete with 5: %+v", got)
		}
		// Grace period 0 removes it now.
		zero := int64(0)
		if err := pods.Delete(ctx, "bound", &api.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
			t.Fatal(err)
		}
		if _, err := pods.Get(ctx, "bound"); !client.IsNotFound(err) {
			t.Fatalf("get after delete with grace 0: %v", err)
		}
	})

	t.Run("grace 0 in the query", func(t *testing.T) {
		p := newPod(ns, "bound-q")
		p.Spec.NodeName = "node-1"
		if _, err := pods.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		r := admin(t, s, http.MethodDelete, "/api/v1/namespaces/"+ns+"/pods/bound-q?gracePeriodSeconds=0", nil)
		if r.Code != http.StatusOK {
			t.Fatalf("DELETE ?gracePeriodSeconds=0: %d %s", r.Code, r.Body)
		}
		if _, err := pods.Get(ctx, "bound-q"); !client.IsNotFound(err) {
			t.Fatalf("get after delete: %v", err)
		}
	})

	t.Run("not on a node", func(t *testing.T) {
		if _, err := pods.Create(ctx, newPod(ns, "unbound")); err != nil {
			t.Fatal(err)
		}
		if err := pods.Delete(ctx, "unbound", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := pods.Get(ctx, "unbound"); !client.IsNotFound(err) {
			t.Fatalf("an unscheduled pod stays after delete: %v", err)
		}
	})

	t.Run("finished pod on a node", func(t *testing.T) {
		p := newPod(ns, "done")
		p.Spec.NodeName = "node-1"
		p, err := pods.Create(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		p.Status.Phase = api.PodSucceeded
		if _, err := pods.UpdateStatus(ctx, p); err != nil {
			t.Fatal(err)
		}
		if err := pods.Delete(ctx, "done", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := pods.Get(ctx, "done"); !client.IsNotFound(err) {
			t.Fatalf("a succeeded pod stays after delete: %v", err)
		}
	})

	t.Run("preconditions", func(t *testing.T) {
		p, err := pods.Create(ctx, newPod(ns, "pre"))
		if err != nil {
			t.Fatal(err)
		}
		wrong := "not-the-uid"
		if err := pods.Delete(ctx, "pre", &api.DeleteOptions{Preconditions: &api.Preconditions{UID: &wrong}}); err == nil {
			t.Fatal("delete with a wrong uid precondition succeeded")
		} else if st := statusOf(t, err); st.Code != http.StatusConflict {
			t.Errorf("wrong uid precondition: %d", st.Code)
		}
		if err := pods.Delete(ctx, "pre", &api.DeleteOptions{Preconditions: &api.Preconditions{UID: &p.UID, ResourceVersion: &p.ResourceVersion}}); err != nil {
			t.Fatalf("delete with right preconditions: %v", err)
		}
	})
}

// TestPatchAndGenerateName covers merge patches and generated names.
func TestPatchAndGenerateName(t *testing.T) {
	s := testserver.Start(t)
	ctx := ctxFor(t)
	ns := newNamespace(t, s)
	pods := s.Client.Pods(ns)
	p := newPod(ns, "patched")
	p.Labels = map[string]string{"app": "old", "keep": "me", "drop": "me"}
	p, err := pods.Create(ctx, p)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("merge patch", func(t *testing.T) {
		out, err := pods.Patch(ctx, "patched", []byte(`{"metadata":{"labels":{"app":"new","drop":null}}}`))
		if err != nil {
			t.Fatalf("patch: %v", err)
		}
		want := map[string]string{"app": "new", "keep": "me"}
		got, _ := pods.Get(ctx, "patched")
		for _, o := range []*api.Pod{out, got} {
			if len(o.Labels) != len(want) || o.Labels["app"] != "new" || o.Labels["keep"] != "me" {
				t.Errorf("labels after patch = %v, want %v", o.Labels, want)
			}
			if o.UID != p.UID || o.Spec.Containers[0].Image != "busybox:1.36" || o.Generation != 1 {
				t.Errorf("patch changed more than the labels: %+v", o)
			}
		}
		if rv(t, out) <= rv(t, p) || out.ResourceVersion != got.ResourceVersion {
			t.Errorf("rv after patch: answered %s stored %s, before %s", out.ResourceVersion, got.ResourceVersion, p.ResourceVersion)
		}
	})

	t.Run("spec patch bumps generation", func(t *testing.T) {
		out, err := pods.Patch(ctx, "patched", []byte(`{"spec":{"containers":[{"name":"c","image":"busybox:1.37"}]}}`))
		if err != nil {
			t.Fatalf("patch: %v", err)
		}
		if out.Spec.Containers[0].Image != "busybox:1.37" || out.Generation != 2 {
			t.Errorf("image %q generation %d", out.Spec.Containers[0].Image, out.Generation)
		}
		// Defaults are applied to what the patch replaced.
		if out.Spec.Containers[0].ImagePullPolicy != api.PullIfNotPresent {
			t.Errorf("imagePullPolicy = %q after the containers were replaced", out.Spec.Containers[0].ImagePullPolicy)
		}
	})

	t.Run("patch with a stale resourceVersion", func(t *testing.T) {
		_, err := pods.Patch(ctx, "patched", []byte(`{"metadata":{"resourceVersion":"`+p.ResourceVersion+`","labels":{"app":"stale"}}}`))
		if !client.IsConflict(err) {
			t.Fatalf("stale patch: %v, want Conflict", err)
		}
	})

	t.Run("bad patches", func(t *testing.T) {
		path := "/api/v1/namespaces/" + ns + "/pods/patched"
		r := do(t, s, http.MethodPatch, path, "Bearer "+s.Config.Token, "application/json-patch+json", []byte(`[{"op":"add"}]`))
		if r.Code != http.StatusUnsupportedMediaType {
			t.Errorf("json patch: %d %s", r.Code, r.Body)
		}
		r.status(t)
		r = do(t, s, http.MethodPatch, path, "Bearer "+s.Config.Token, "application/merge-patch+json", []byte(`{"spec":{"containers":[{"name":"c","imagee":"x"}]}}`))
		if r.Code != http.StatusBadRequest || !strings.Contains(string(r.Body), "spec.containers[0].imagee") {
			t.Errorf("patch with an unknown field: %d %s", r.Code, r.Body)
		}
		r = do(t, s, http.MethodPatch, "/api/v1/namespaces/"+ns+"/pods/nope", "Bearer "+s.Config.Token, "application/merge-patch+json", []byte(`{}`))
		if r.Code != http.StatusNotFound {
			t.Errorf("patch of a missing pod: %d %s", r.Code, r.Body)
		}
	})

	t.Run("strategic merge patch", func(t *testing.T) {
		p := newPod(ns, "smp")
		p.Spec.Containers = []api.Container{
			{Name: "a", Image: "a:1", Env: []api.EnvVar{{Name: "KEEP", Value: "1"}, {Name: "DROP", Value: "1"}}},
			{Name: "b", Image: "b:1"},
		}
		if _, err := pods.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		patch := `{"metadata":{"labels":{"smp":"yes"}},"spec":{
			"$setElementOrder/containers":[{"name":"a"},{"name":"b"}],
			"containers":[{"name":"b","image":"b:2"},{"name":"a","env":[{"name":"DROP","$patch":"delete"},{"name":"NEW","value":"2"}]}]}}`
		r := do(t, s, http.MethodPatch, "/api/v1/namespaces/"+ns+"/pods/smp", "Bearer "+s.Config.Token, "application/strategic-merge-patch+json", []byte(patch))
		if r.Code != http.StatusOK {
			t.Fatalf("strategic merge patch: %d %s", r.Code, r.Body)
		}
		got, err := pods.Get(ctx, "smp")
		if err != nil {
			t.Fatal(err)
		}
		cs := got.Spec.Containers
		if len(cs) != 2 || cs[0].Name != "a" || cs[0].Image != "a:1" || cs[1].Name != "b" || cs[1].Image != "b:2" {
			t.Fatalf("containers after the patch: %+v", cs)
		}
		var env []string
		for _, e := range cs[0].Env {
			env = append(env, e.Name+"="+e.Value)
		}
		if !slices.Equal(env, []string{"KEEP=1", "NEW=2"}) {
			t.Errorf("env after the patch: %v", env)
		}
		if got.Labels["smp"] != "yes" || got.Generation != 2 {
			t.Errorf("labels %v generation %d", got.Labels, got.Generation)
		}
	})

	t.Run("generateName", func(t *testing.T) {
		names := map[string]bool{}
		for i := 0; i < 3; i++ {
			g := newPod(ns, "")
			g.GenerateName = "web-"
			out, err := pods.Create(ctx, g)
			if err != nil {
				t.Fatalf("create with generateName: %v", err)
			}
			if !strings.HasPrefix(out.Name, "web-") || len(out.Name) != len("web-")+5 {
				t.Errorf("generated name %q", out.Name)
			}
			if out.GenerateName != "web-" {
				t.Errorf("generateName = %q", out.GenerateName)
			}
			if names[out.Name] {
				t.Errorf("name %q generated twice", out.Name)
			}
			names[out.Name] = true
			if _, err := pods.Get(ctx, out.Name); err != nil {
				t.Errorf("get %s: %v", out.Name, err)
			}
		}
	})

	t.Run("dry run", func(t *testing.T) {
		r := admin(t, s, http.MethodPost, "/api/v1/namespaces/"+ns+"/pods?dryRun=All", mustJSON(t, newPod(ns, "dry")))
		if r.Code != http.StatusCreated {
			t.Fatalf("dry-run create: %d %s", r.Code, r.Body)
		}
		if _, err := pods.Get(ctx, "dry"); !client.IsNotFound(err) {
			t.Errorf("a dry-run create stored the pod: %v", err)
		}
		before, err := pods.Get(ctx, "patched")
		if err != nil {
			t.Fatal(err)
		}
		r = admin(t, s, http.MethodPut, "/api/v1/namespaces/"+ns+"/pods/patched?dryRun=All",
			[]byte(`{"metadata":{"name":"patched","labels":{"dry":"run"}},"spec":{"containers":[{"name":"c","image":"busybox:1.37"}]}}`))
		if r.Code != http.StatusOK || !strings.Contains(string(r.Body), `"dry":"run"`) {
			t.Errorf("dry-run update: %d %s", r.Code, r.Body)
		}
		// A dry-run delete, in the query or (as kubectl sends it) in the DeleteOptions body.
		r = admin(t, s, http.MethodDelete, "/api/v1/namespaces/"+ns+"/pods/patched?dryRun=All", nil)
		if r.Code != http.StatusOK {
			t.Errorf("dry-run delete: %d %s", r.Code, r.Body)
		}
		r = admin(t, s, http.MethodDelete, "/api/v1/namespaces/"+ns+"/pods/patched",
			[]byte(`{"kind":"DeleteOptions","apiVersion":"v1","dryRun":["All"],"propagationPolicy":"Background"}`))
		if r.Code != http.StatusOK {
			t.Errorf("dry-run delete with a body: %d %s", r.Code, r.Body)
		}
		after, err := pods.Get(ctx, "patched")
		if err != nil {
			t.Fatalf("a dry-run delete deleted the pod: %v", err)
		}
		if after.ResourceVersion != before.ResourceVersion {
			t.Errorf("dry runs changed the pod: rv %s -> %s, labels %v", before.ResourceVersion, after.ResourceVersion, after.Labels)
		}
	})
}

// TestDiscovery: the discovery documents that kubectl reads.
func TestDiscovery(t *testing.T) {
	s := testserver.Start(t)
	getJSON := func(t *testing.T, path string) map[string]any {
		t.Helper()
		r := admin(t, s, http.MethodGet, path, nil)
		if r.Code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, r.Code, r.Body)
		}
		var m map[string]any
		if err := json.Unmarshal(r.Body, &m); err != nil {
			t.Fatalf("GET %s: not JSON: %v: %s", path, err, r.Body)
		}
		return m
	}
	type resource struct {
		Name       string   `json:"name"`
		Kind       string   `json:"kind"`
		Namespaced bool     `json:"namespaced"`
		ShortNames []string `json:"shortNames"`
		Verbs      []string `json:"verbs"`
	}
	resources := func(t *testing.T, path string) (string, map[string]resource) {
		t.Helper()
		m := getJSON(t, path)
		if m["kind"] != "APIResourceList" {
			t.Errorf("%s kind = %v", path, m["kind"])
		}
		var list struct {
			GroupVersion string     `json:"groupVersion"`
			Resources    []resource `json:"resources"`
		}
		b, _ := json.Marshal(m)
		_ = json.Unmarshal(b, &list)
		out := map[string]resource{}
		for _, r := range list.Resources {
			out[r.Name] = r
		}
		return list.GroupVersion, out
	}

	t.Run("/api", func(t *testing.T) {
		m := getJSON(t, "/api")
		if m["kind"] != "APIVersions" {
			t.Errorf("kind = %v", m["kind"])
		}
		if vs, _ := m["versions"].([]any); !slices.Contains(vs, any("v1")) {
			t.Errorf("versions = %v", m["versions"])
		}
	})
	t.Run("/apis", func(t *testing.T) {
		m := getJSON(t, "/apis")
		b, _ := json.Marshal(m["groups"])
		if m["kind"] != "APIGroupList" || !strings.Contains(string(b), `"name":"apps"`) || !strings.Contains(string(b), `"groupVersion":"apps/v1"`) {
			t.Errorf("/apis = %v", m)
		}
		m = getJSON(t, "/apis/apps")
		if m["kind"] != "APIGroup" || m["name"] != "apps" {
			t.Errorf("/apis/apps = %v", m)
		}
	})
	t.Run("/api/v1", func(t *testing.T) {
		gv, rs := resources(t, "/api/v1")
		if gv != "v1" {
			t.Errorf("groupVersion = %q", gv)
		}
		po, ok := rs["pods"]
		if !ok || po.Kind != "Pod" || !po.Namespaced || !slices.Contains(po.ShortNames, "po") || !slices.Contains(po.Verbs, "watch") {
			t.Errorf("pods = %+v", po)
		}
		if _, ok := rs["pods/status"]; !ok {
			t.Error("no pods/status")
		}
		for _, name := range []string{"namespaces", "nodes", "services", "endpoints", "secrets", "events"} {
			if _, ok := rs[name]; !ok {
				t.Errorf("%s missing from /api/v1", name)
			}
		}
		if rs["nodes"].Namespaced || rs["namespaces"].Namespaced {
			t.Error("nodes or namespaces listed as namespaced")
		}
		if _, ok := rs["replicasets"]; ok {
			t.Error("replicasets listed in the core group")
		}
	})
	t.Run("/apis/apps/v1", func(t *testing.T) {
		gv, rs := resources(t, "/apis/apps/v1")
		if gv != "apps/v1" {
			t.Errorf("groupVersion = %q", gv)
		}
		if r, ok := rs["replicasets"]; !ok || r.Kind != "ReplicaSet" || !r.Namespaced || !slices.Contains(r.ShortNames, "rs") {
			t.Errorf("replicasets = %+v", r)
		}
	})
	t.Run("/version", func(t *testing.T) {
		m := getJSON(t, "/version")
		if m["major"] != "1" || m["gitVersion"] == "" || m["gitVersion"] == nil {
			t.Errorf("/version = %v", m)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		for _, p := range []string{"/apis/nope/v1", "/api/v2", "/api/v1/widgets", "/nothing"} {
			r := admin(t, s, http.MethodGet, p, nil)
			if r.Code != http.StatusNotFound {
				t.Errorf("GET %s: %d %s", p, r.Code, r.Body)
				continue
			}
			r.status(t)
		}
	})
}
