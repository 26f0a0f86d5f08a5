package apiserver_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/testserver"
	"github.com/minik8s/minik8s/client"
)

// causeFields returns the fields that a Status' causes name.
func causeFields(st api.Status) []string {
	if st.Details == nil {
		return nil
	}
	var out []string
	for _, c := range st.Details.Causes {
		out = append(out, c.Field)
	}
	return out
}

// TestStrictDecoding: bad manifests are answered 400 with a Status that names the fields, and
// nothing is stored.
func TestStrictDecoding(t *testing.T) {
	s := testserver.Start(t)
	ctx := ctxFor(t)
	ns := newNamespace(t, s)
	podsPath := "/api/v1/namespaces/" + ns + "/pods"
	rsPath := "/apis/apps/v1/namespaces/" + ns + "/replicasets"

	const rsTemplate = `"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"x"}]}}`
	for _, tc := range []struct {
		name, path, body string
		stored           string // the name under which it would have been stored
		fields           []string
		reason           string
	}{
		{
			name: "unknown field", path: podsPath, stored: "bad-unknown",
			body:   `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"bad-unknown"},"spec":{"containers":[{"name":"c","image":"x","imagee":"y"}]}}`,
			fields: []string{"spec.containers[0].imagee"}, reason: api.StatusReasonInvalid,
		},
		{
			name: "unknown top-level field", path: podsPath, stored: "bad-top",
			body:   `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"bad-top"},"spek":{},"spec":{"containers":[{"name":"c","image":"x"}]}}`,
			fields: []string{"spek"}, reason: api.StatusReasonInvalid,
		},
		{
			name: "wrong type", path: rsPath, stored: "bad-type",
			body:   `{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"bad-type"},"spec":{"replicas":"three",` + rsTemplate + `}}`,
			fields: []string{"spec.replicas"}, reason: api.StatusReasonInvalid,
		},
		{
			name: "several at once", path: podsPath, stored: "bad-several",
			body:   `{"metadata":{"name":"bad-several","labels":{"a":1}},"spec":{"containers":[{"name":"c","image":"x","ports":[{"containerPort":"80"}]}],"nodeName":7}}`,
			fields: []string{"metadata.labels[a]", "spec.containers[0].ports[0].containerPort", "spec.nodeName"}, reason: api.StatusReasonInvalid,
		},
		{
			name: "missing image", path: podsPath, stored: "bad-noimage",
			body:   `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"bad-noimage"},"spec":{"containers":[{"name":"c"}]}}`,
			fields: []string{"spec.containers[0].image"}, reason: api.StatusReasonInvalid,
		},
		{
			name: "missing name", path: podsPath,
			body:   `{"apiVersion":"v1","kind":"Pod","metadata":{},"spec":{"containers":[{"name":"c","image":"x"}]}}`,
			fields: []string{"metadata.name"}, reason: api.StatusReasonInvalid,
		},
		{
			name: "missing selector", path: rsPath, stored: "bad-nosel",
			body:   `{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"bad-nosel"},"spec":{"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}}`,
			fields: []string{"spec.selector"}, reason: api.StatusReasonInvalid,
		},
		{
			name: "not JSON", path: podsPath,
			body: `{"metadata":`, reason: "",
		},
		{
			name: "wrong kind", path: podsPath, stored: "bad-kind",
			body: `{"apiVersion":"v1","kind":"Service","metadata":{"name":"bad-kind"},"spec":{"containers":[{"name":"c","image":"x"}]}}`,
		},
		{
			name: "wrong apiVersion", path: rsPath, stored: "bad-version",
			body: `{"apiVersion":"v1","kind":"ReplicaSet","metadata":{"name":"bad-version"},"spec":{` + rsTemplate + `}}`,
		},
		{
			name: "wrong namespace", path: podsPath, stored: "bad-ns",
			body: `{"metadata":{"name":"bad-ns","namespace":"default"},"spec":{"containers":[{"name":"c","image":"x"}]}}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := admin(t, s, http.MethodPost, tc.path, []byte(tc.body))
			if r.Code != http.StatusBadRequest {
				t.Fatalf("POST: %d %s", r.Code, r.Body)
			}
			st := r.status(t)
			if tc.reason != "" && st.Reason != tc.reason {
				t.Errorf("reason = %q, want %q", st.Reason, tc.reason)
			}
			got := causeFields(st)
			for _, f := range tc.fields {
				if !strings.Contains(st.Message, f) {
					t.Errorf("message %q does not name %s", st.Message, f)
				}
				if !slices.Contains(got, f) {
					t.Errorf("causes %v do not name %s", got, f)
				}
			}
			if len(tc.fields) > 0 && len(got) != len(tc.fields) {
				t.Errorf("causes name %v, want exactly %v", got, tc.fields)
			}
			if st.Message == "" {
				t.Error("empty message")
			}
			// Nothing was stored.
			if tc.stored != "" {
				if g := admin(t, s, http.MethodGet, tc.path+"/"+tc.stored, nil); g.Code != http.StatusNotFound {
					t.Errorf("after a refused create, GET is %d %s", g.Code, g.Body)
				}
			}
		})
	}
	for _, d := range []*client.Dynamic{s.Client.Resource(api.LookupResource("pods"), ns), s.Client.Resource(api.LookupResource("replicasets"), ns)} {
		if items, _, err := d.List(ctx, client.ListOptions{}); err != nil || len(items) != 0 {
			t.Errorf("refused creates stored %d objects (%v)", len(items), err)
		}
	}

	t.Run("PUT", func(t *testing.T) {
		pods := s.Client.Pods(ns)
		good, err := pods.Create(ctx, newPod(ns, "good"))
		if err != nil {
			t.Fatal(err)
		}
		path := podsPath + "/good"
		for _, tc := range []struct {
			name, body string
			field      string
		}{
			{"unknown field", `{"metadata":{"name":"good"},"spec":{"containers":[{"name":"c","image":"y","imagee":"y"}]}}`, "spec.containers[0].imagee"},
			{"wrong type", `{"metadata":{"name":"good"},"spec":{"terminationGracePeriodSeconds":"ten","containers":[{"name":"c","image":"y"}]}}`, "spec.terminationGracePeriodSeconds"},
			{"missing image", `{"metadata":{"name":"good"},"spec":{"containers":[{"name":"c"}]}}`, "spec.containers[0].image"},
			{"immutable field", `{"metadata":{"name":"good"},"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"y"}]}}`, "spec.restartPolicy"},
			{"container added", `{"metadata":{"name":"good"},"spec":{"containers":[{"name":"c","image":"y"},{"name":"d","image":"y"}]}}`, "spec.containers"},
			{"other name", `{"metadata":{"name":"other"},"spec":{"containers":[{"name":"c","image":"y"}]}}`, "other"},
			{"stale and bad", `{"metadata":{"name":"good","resourceVersion":"1"},"spec":{"containers":[{"name":"c","image":"y","imagee":"y"}]}}`, "spec.containers[0].imagee"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := admin(t, s, http.MethodPut, path, []byte(tc.body))
				if r.Code != http.StatusBadRequest {
					t.Fatalf("PUT: %d %s", r.Code, r.Body)
				}
				st := r.status(t)
				if !strings.Contains(st.Message, tc.field) {
					t.Errorf("message %q does not name %s", st.Message, tc.field)
				}
				if strings.Contains(tc.field, ".") && !slices.Contains(causeFields(st), tc.field) {
					t.Errorf("causes %v do not name %s", causeFields(st), tc.field)
				}
				now, err := pods.Get(ctx, "good")
				if err != nil {
					t.Fatal(err)
				}
				if now.ResourceVersion != good.ResourceVersion || now.Spec.Containers[0].Image != "busybox:1.36" || now.Spec.RestartPolicy != api.RestartPolicyAlways {
					t.Errorf("a refused PUT changed the pod: rv %s -> %s, image %q", good.ResourceVersion, now.ResourceVersion, now.Spec.Containers[0].Image)
				}
			})
		}
		// The same refusals on /status.
		r := admin(t, s, http.MethodPut, path+"/status", []byte(`{"metadata":{"name":"good"},"spec":{"containers":[]},"status":{"phase":"Running","podIPP":"x"}}`))
		if r.Code != http.StatusBadRequest || !strings.Contains(r.status(t).Message, "status.podIPP") {
			t.Errorf("PUT status with an unknown field: %d %s", r.Code, r.Body)
		}
		if now, _ := pods.Get(ctx, "good"); now == nil || now.Status.Phase != api.PodPending {
			t.Errorf("a refused status PUT changed the status: %+v", now)
		}
	})

	t.Run("client errors", func(t *testing.T) {
		// Through the typed client, a validation error is IsInvalid with the fields in the
		// details.
		p := newPod(ns, "Bad_Name")
		p.Spec.Containers[0].Image = ""
		_, err := s.Client.Pods(ns).Create(ctx, p)
		if !client.IsInvalid(err) {
			t.Fatalf("create of an invalid pod: %v", err)
		}
		fields := causeFields(statusOf(t, err))
		for _, f := range []string{"metadata.name", "spec.containers[0].image"} {
			if !slices.Contains(fields, f) {
				t.Errorf("causes %v do not name %s", fields, f)
			}
		}
	})
}
