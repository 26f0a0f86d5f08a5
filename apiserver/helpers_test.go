package apiserver_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/testserver"
	"github.com/minik8s/minik8s/client"
)

// ctxFor returns a context that ends with the test (and after a generous deadline).
func ctxFor(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var nsCounter atomic.Int64

// newNamespace creates a fresh namespace for one subtest and returns its name.
func newNamespace(t *testing.T, s *testserver.Server) string {
	t.Helper()
	name := fmt.Sprintf("t%d-%s", nsCounter.Add(1), strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name())))
	if len(name) > 60 {
		name = strings.TrimRight(name[:60], "-")
	}
	ns := &api.Namespace{ObjectMeta: api.ObjectMeta{Name: name}}
	if _, err := s.Client.Namespaces().Create(context.Background(), ns); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	return name
}

// eventually polls cond until it reports true or the deadline passes; then it fails the test
// with the last message cond gave.
func eventually(t *testing.T, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var msg string
	for {
		var ok bool
		ok, msg = cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v: %s", timeout, msg)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// rawHTTP is a plain net/http client that trusts the server's CA and sends no token by itself.
func rawHTTP(t *testing.T, s *testserver.Server) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.Config.CAData) {
		t.Fatal("the test server's CA data holds no certificate")
	}
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
	}
}

type rawResp struct {
	Code int
	Body []byte
}

// do sends one raw request. auth is the whole Authorization header ("" for none).
func do(t *testing.T, s *testserver.Server, method, path, auth, contentType string, body []byte) rawResp {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, s.Config.Server+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if contentType == "" && body != nil {
		contentType = "application/json"
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := rawHTTP(t, s).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return rawResp{Code: resp.StatusCode, Body: b}
}

// admin sends a raw request with the admin token.
func admin(t *testing.T, s *testserver.Server, method, path string, body []byte) rawResp {
	t.Helper()
	return do(t, s, method, path, "Bearer "+s.Config.Token, "", body)
}

// status decodes a response body as a Status and checks its code against the HTTP code.
func (r rawResp) status(t *testing.T) api.Status {
	t.Helper()
	var st api.Status
	if err := json.Unmarshal(r.Body, &st); err != nil {
		t.Fatalf("answer %d is not a Status: %v: %s", r.Code, err, r.Body)
	}
	if st.Kind != "Status" || st.APIVersion != "v1" {
		t.Fatalf("answer %d: kind/apiVersion = %q/%q, want Status/v1: %s", r.Code, st.Kind, st.APIVersion, r.Body)
	}
	if int(st.Code) != r.Code {
		t.Fatalf("Status.code = %d, HTTP code = %d: %s", st.Code, r.Code, r.Body)
	}
	if st.Status != "Failure" {
		t.Fatalf("Status.status = %q, want Failure", st.Status)
	}
	return st
}

// statusOf returns the Status of a client error, failing the test when err is not one.
func statusOf(t *testing.T, err error) api.Status {
	t.Helper()
	var se *client.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *client.StatusError", err, err)
	}
	return se.Status
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Fixtures: the smallest valid object of each kind.

func newPod(ns, name string) *api.Pod {
	return &api.Pod{
		ObjectMeta: api.ObjectMeta{Namespace: ns, Name: name},
		Spec:       api.PodSpec{Containers: []api.Container{{Name: "c", Image: "busybox:1.36"}}},
	}
}

func newService(ns, name string) *api.Service {
	return &api.Service{
		ObjectMeta: api.ObjectMeta{Namespace: ns, Name: name},
		Spec:       api.ServiceSpec{Selector: map[string]string{"app": name}, Ports: []api.ServicePort{{Port: 80}}},
	}
}

func newReplicaSet(ns, name string, replicas int32) *api.ReplicaSet {
	labels := map[string]string{"app": name}
	return &api.ReplicaSet{
		ObjectMeta: api.ObjectMeta{Namespace: ns, Name: name},
		Spec: api.ReplicaSetSpec{
			Replicas: &replicas,
			Selector: &api.LabelSelector{MatchLabels: labels},
			Template: api.PodTemplateSpec{
				ObjectMeta: api.ObjectMeta{Labels: labels},
				Spec:       api.PodSpec{Containers: []api.Container{{Name: "c", Image: "busybox:1.36"}}},
			},
		},
	}
}

func newSecret(ns, name string) *api.Secret {
	return &api.Secret{
		ObjectMeta: api.ObjectMeta{Namespace: ns, Name: name},
		StringData: map[string]string{"password": "hunter2"},
	}
}

func newEndpoints(ns, name string) *api.Endpoints {
	return &api.Endpoints{
		ObjectMeta: api.ObjectMeta{Namespace: ns, Name: name},
		Subsets: []api.EndpointSubset{{
			Addresses: []api.EndpointAddress{{IP: "10.0.0.1"}},
			Ports:     []api.EndpointPort{{Port: 8080}},
		}},
	}
}

func newEvent(ns, name string) *api.Event {
	return &api.Event{
		ObjectMeta:     api.ObjectMeta{Namespace: ns, Name: name},
		InvolvedObject: api.ObjectReference{Kind: "Pod", Name: "p", Namespace: ns},
		Reason:         "Tested",
		Message:        "first",
	}
}

func newNode(name string) *api.Node {
	return &api.Node{ObjectMeta: api.ObjectMeta{Name: name}}
}
