package apiserver_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/testserver"
	"github.com/minik8s/minik8s/client"
)

// TestAuthentication: requests without a valid bearer token are refused and change nothing.
func TestAuthentication(t *testing.T) {
	s := testserver.Start(t)
	ctx := ctxFor(t)
	ns := newNamespace(t, s)
	creds := s.Credentials()
	if creds.AdminToken == "" || creds.JoinToken == "" || creds.AdminToken == creds.JoinToken {
		t.Fatal("the server has no distinct admin and join tokens")
	}
	podsPath := "/api/v1/namespaces/" + ns + "/pods"

	for _, tc := range []struct{ name, auth string }{
		{"no token", ""},
		{"wrong token", "Bearer not-the-token"},
		{"admin token prefix", "Bearer " + creds.AdminToken[:len(creds.AdminToken)-1]},
		{"admin token with more", "Bearer " + creds.AdminToken + "x"},
		{"basic auth", "Basic YWRtaW46YWRtaW4="},
		{"bearer without token", "Bearer"},
		{"bearer with empty token", "Bearer "},
		{"token without scheme", creds.AdminToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "unauth-" + strings.ReplaceAll(tc.name, " ", "-")
			r := do(t, s, http.MethodPost, podsPath, tc.auth, "", mustJSON(t, newPod(ns, name)))
			if r.Code != http.StatusUnauthorized {
				t.Fatalf("POST: %d %s", r.Code, r.Body)
			}
			if st := r.status(t); st.Reason != api.StatusReasonUnauthorized || st.Message == "" {
				t.Errorf("status = %+v", st)
			}
			if _, err := s.Client.Pods(ns).Get(ctx, name); !client.IsNotFound(err) {
				t.Errorf("an unauthenticated POST stored the pod: %v", err)
			}
			for _, m := range []string{http.MethodGet, http.MethodDelete} {
				r := do(t, s, m, podsPath, tc.auth, "", nil)
				if r.Code != http.StatusUnauthorized {
					t.Errorf("%s: %d %s", m, r.Code, r.Body)
				}
			}
			r = do(t, s, http.MethodGet, "/api/v1/namespaces/"+ns, tc.auth, "", nil)
			if r.Code != http.StatusUnauthorized {
				t.Errorf("GET namespace: %d", r.Code)
			}
		})
	}

	t.Run("the client reports 401", func(t *testing.T) {
		c, err := client.New(&client.Config{Server: s.Config.Server, CAData: s.Config.CAData, Token: "nope"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Pods(ns).List(ctx, client.ListOptions{}); !client.IsUnauthorized(err) {
			t.Errorf("list with a wrong token: %v", err)
		}
		if _, err := c.Pods(ns).Watch(ctx, client.ListOptions{}); !client.IsUnauthorized(err) {
			t.Errorf("watch with a wrong token: %v", err)
		}
	})

	t.Run("health without a token", func(t *testing.T) {
		for _, p := range []string{"/healthz", "/readyz", "/livez"} {
			r := do(t, s, http.MethodGet, p, "", "", nil)
			if r.Code != http.StatusOK || string(r.Body) != "ok" {
				t.Errorf("GET %s: %d %q", p, r.Code, r.Body)
			}
		}
	})

	t.Run("join token", func(t *testing.T) {
		c, err := client.New(&client.Config{Server: s.Config.Server, CAData: s.Config.CAData, Token: creds.JoinToken})
		if err != nil {
			t.Fatal(err)
		}
		node, err := c.Nodes().Create(ctx, newNode("joined"))
		if err != nil {
			t.Fatalf("the join token may not create a node: %v", err)
		}
		if node.UID == "" {
			t.Error("node without uid")
		}
		if _, err := s.Client.Nodes().Get(ctx, "joined"); err != nil {
			t.Errorf("the joined node is not there: %v", err)
		}
		_, err = c.Pods(ns).Create(ctx, newPod(ns, "by-join"))
		if st := statusOf(t, err); st.Code != http.StatusForbidden || st.Reason != api.StatusReasonForbidden {
			t.Errorf("create pod with the join token: %v", err)
		}
		if _, err := s.Client.Pods(ns).Get(ctx, "by-join"); !client.IsNotFound(err) {
			t.Errorf("a forbidden create stored the pod: %v", err)
		}
		for _, try := range []func() error{
			func() error { _, _, err := c.Pods(ns).List(ctx, client.ListOptions{}); return err },
			func() error { _, _, err := c.Secrets(ns).List(ctx, client.ListOptions{}); return err },
			func() error { _, err := c.Namespaces().Get(ctx, ns); return err },
			func() error { return c.Namespaces().Delete(ctx, ns, nil) },
			func() error { _, err := c.Pods(ns).Watch(ctx, client.ListOptions{}); return err },
		} {
			if st := statusOf(t, try()); st.Code != http.StatusForbidden {
				t.Errorf("join token: %d %s, want 403", st.Code, st.Message)
			}
		}
		if _, err := s.Client.Namespaces().Get(ctx, ns); err != nil {
			t.Errorf("a forbidden delete removed the namespace: %v", err)
		}
	})
}

// TestNamespaces: built-in namespaces, creating in missing or terminating namespaces, and
// deleting a namespace with everything in it.
func TestNamespaces(t *testing.T) {
	s := testserver.Start(t)
	ctx := ctxFor(t)

	t.Run("built-in", func(t *testing.T) {
		for _, name := range []string{"default", "kube-system", "kube-public"} {
			ns, err := s.Client.Namespaces().Get(ctx, name)
			if err != nil {
				t.Errorf("namespace %s: %v", name, err)
				continue
			}
			if ns.Status.Phase != api.NamespaceActive || ns.UID == "" {
				t.Errorf("namespace %s: phase %q uid %q", name, ns.Status.Phase, ns.UID)
			}
		}
		for _, name := range []string{"default", "kube-system"} {
			err := s.Client.Namespaces().Delete(ctx, name, nil)
			if st := statusOf(t, err); st.Code != http.StatusForbidden {
				t.Errorf("delete %s: %v, want 403", name, err)
			}
			ns, err := s.Client.Namespaces().Get(ctx, name)
			if err != nil || ns.DeletionTimestamp != nil {
				t.Errorf("namespace %s after a refused delete: %v %+v", name, err, ns)
			}
		}
		if _, err := s.Client.Pods("default").Create(ctx, newPod("default", "in-default")); err != nil {
			t.Errorf("create in default: %v", err)
		}
	})

	t.Run("missing namespace", func(t *testing.T) {
		_, err := s.Client.Pods("no-such-ns").Create(ctx, newPod("no-such-ns", "p"))
		if !client.IsNotFound(err) {
			t.Fatalf("create in a missing namespace: %v, want 404", err)
		}
		if st := statusOf(t, err); !strings.Contains(st.Message, "no-such-ns") {
			t.Errorf("message %q does not name the namespace", st.Message)
		}
		if _, err := s.Client.Pods("no-such-ns").Get(ctx, "p"); !client.IsNotFound(err) {
			t.Errorf("get: %v", err)
		}
		// Listing a namespace that does not exist is an empty list, as in Kubernetes.
		if items, _, err := s.Client.Pods("no-such-ns").List(ctx, client.ListOptions{}); err != nil || len(items) != 0 {
			t.Errorf("list: %v, %d items", err, len(items))
		}
	})

	t.Run("bad names", func(t *testing.T) {
		for _, name := range []string{"Upper", "has.dot", strings.Repeat("a", 64), "-lead"} {
			_, err := s.Client.Namespaces().Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: name}})
			if !client.IsInvalid(err) {
				t.Errorf("namespace %q: %v, want Invalid", name, err)
			}
		}
		_, err := s.Client.Namespaces().Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "scoped", Namespace: "default"}})
		if !client.IsInvalid(err) {
			t.Errorf("namespace with a namespace: %v, want Invalid", err)
		}
	})

	t.Run("delete cascades", func(t *testing.T) {
		ns := newNamespace(t, s)
		if _, err := s.Client.Pods(ns).Create(ctx, newPod(ns, "loose")); err != nil {
			t.Fatal(err)
		}
		bound := newPod(ns, "bound")
		bound.Spec.NodeName = "node-1"
		if _, err := s.Client.Pods(ns).Create(ctx, bound); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Client.Services(ns).Create(ctx, newService(ns, "svc")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Client.Secrets(ns).Create(ctx, newSecret(ns, "sec")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Client.Endpoints(ns).Create(ctx, newEndpoints(ns, "svc")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Client.ReplicaSets(ns).Create(ctx, newReplicaSet(ns, "rs", 0)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Client.Events(ns).Create(ctx, newEvent(ns, "ev")); err != nil {
			t.Fatal(err)
		}
		// An object in another namespace with the same names stays.
		keep := newNamespace(t, s)
		if _, err := s.Client.Secrets(keep).Create(ctx, newSecret(keep, "sec")); err != nil {
			t.Fatal(err)
		}

		if err := s.Client.Namespaces().Delete(ctx, ns, nil); err != nil {
			t.Fatalf("delete namespace: %v", err)
		}
		// The Pod on a node is deleted gracefully, so the namespace stays Terminating.
		got, err := s.Client.Namespaces().Get(ctx, ns)
		if err != nil {
			t.Fatalf("namespace gone at once although a pod on a node is in it: %v", err)
		}
		if got.DeletionTimestamp == nil || got.Status.Phase != api.NamespaceTerminating {
			t.Errorf("namespace after delete: deletionTimestamp %v phase %q", got.DeletionTimestamp, got.Status.Phase)
		}
		// A second delete is fine and changes nothing.
		if err := s.Client.Namespaces().Delete(ctx, ns, nil); err != nil {
			t.Errorf("second delete: %v", err)
		}
		// Nothing new may be created in it.
		_, err = s.Client.Pods(ns).Create(ctx, newPod(ns, "late"))
		if st := statusOf(t, err); st.Code != http.StatusForbidden || !strings.Contains(st.Message, "terminat") {
			t.Errorf("create in a terminating namespace: %v, want 403", err)
		}
		_, err = s.Client.Secrets(ns).Create(ctx, newSecret(ns, "late"))
		if st := statusOf(t, err); st.Code != http.StatusForbidden {
			t.Errorf("create secret in a terminating namespace: %v", err)
		}

		// Everything else goes; the bound Pod is marked.
		eventually(t, 15*time.Second, func() (bool, string) {
			var left []string
			for _, res := range api.Resources() {
				if !res.Namespaced {
					continue
				}
				items, _, err := s.Client.Resource(res, ns).List(ctx, client.ListOptions{})
				if err != nil {
					return false, err.Error()
				}
				for _, it := range items {
					if it.GetObjectMeta().Name == "bound" && res.Name == "pods" {
						continue
					}
					left = append(left, res.Name+"/"+it.GetObjectMeta().Name)
				}
			}
			return len(left) == 0, "left: " + strings.Join(left, ", ")
		})
		p, err := s.Client.Pods(ns).Get(ctx, "bound")
		if err != nil || p.DeletionTimestamp == nil {
			t.Fatalf("bound pod: %v %+v", err, p)
		}
		if _, err := s.Client.Namespaces().Get(ctx, ns); err != nil {
			t.Fatalf("namespace gone while the bound pod is still there: %v", err)
		}

		// Once the kubelet (here: a delete with grace period 0) removes the Pod, the namespace goes.
		zero := int64(0)
		if err := s.Client.Pods(ns).Delete(ctx, "bound", &api.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
			t.Fatal(err)
		}
		eventually(t, 15*time.Second, func() (bool, string) {
			_, err := s.Client.Namespaces().Get(ctx, ns)
			return client.IsNotFound(err), "namespace still there: " + errString(err)
		})
		if _, err := s.Client.Secrets(keep).Get(ctx, "sec"); err != nil {
			t.Errorf("deleting %s removed a secret in %s: %v", ns, keep, err)
		}
		// The name can be used again.
		if _, err := s.Client.Namespaces().Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: ns}}); err != nil {
			t.Errorf("re-create namespace %s: %v", ns, err)
		}
		if items, _, err := s.Client.Pods(ns).List(ctx, client.ListOptions{}); err != nil || len(items) != 0 {
			t.Errorf("the re-created namespace holds %d pods (%v)", len(items), err)
		}
	})

	t.Run("a delete is seen at once", func(t *testing.T) {
		// Right after this server marks a namespace Terminating, it refuses new objects in it,
		// whatever its namespace cache has seen yet.
		for i := 0; i < 25; i++ {
			ns := newNamespace(t, s)
			bound := newPod(ns, "bound")
			bound.Spec.NodeName = "node-1"
			if _, err := s.Client.Pods(ns).Create(ctx, bound); err != nil {
				t.Fatal(err)
			}
			if err := s.Client.Namespaces().Delete(ctx, ns, nil); err != nil {
				t.Fatal(err)
			}
			_, err := s.Client.Pods(ns).Create(ctx, newPod(ns, "late"))
			if err == nil {
				t.Fatalf("round %d: created a pod in namespace %s right after deleting it", i, ns)
			}
			if st := statusOf(t, err); st.Code != http.StatusForbidden {
				t.Fatalf("round %d: %v, want 403", i, err)
			}
		}
	})

	t.Run("empty namespace goes at once", func(t *testing.T) {
		ns := newNamespace(t, s)
		if err := s.Client.Namespaces().Delete(ctx, ns, nil); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, func() (bool, string) {
			_, err := s.Client.Namespaces().Get(ctx, ns)
			return client.IsNotFound(err), "namespace still there: " + errString(err)
		})
	})
}
