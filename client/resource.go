package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/minik8s/minik8s/api"
)

// Dynamic is a client for one kind in one namespace ("" for cluster-scoped kinds, or for all
// namespaces when listing and watching), working on api.Object. The CLI uses it for kinds it
// learns from manifests; Typed wraps it for Go code.
type Dynamic struct {
	c   *Client
	res *api.Resource
	ns  string
}

// Resource returns a dynamic client for res in namespace ns.
func (c *Client) Resource(res *api.Resource, ns string) *Dynamic {
	if !res.Namespaced {
		ns = ""
	}
	return &Dynamic{c: c, res: res, ns: ns}
}

// Get reads one object.
func (d *Dynamic) Get(ctx context.Context, name string) (api.Object, error) {
	obj := d.res.New()
	if err := d.c.Do(ctx, http.MethodGet, d.res.Path(d.ns, name), nil, nil, "", obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// List reads the collection and returns its items and the revision to watch from.
func (d *Dynamic) List(ctx context.Context, opts ListOptions) ([]api.Object, string, error) {
	var raw struct {
		Metadata api.ListMeta      `json:"metadata"`
		Items    []json.RawMessage `json:"items"`
	}
	if err := d.c.Do(ctx, http.MethodGet, d.res.Path(d.ns, ""), opts.query(), nil, "", &raw); err != nil {
		return nil, "", err
	}
	out := make([]api.Object, len(raw.Items))
	for i, it := range raw.Items {
		obj := d.res.New()
		if err := json.Unmarshal(it, obj); err != nil {
			return nil, "", fmt.Errorf("decode %s: %w", d.res.Name, err)
		}
		out[i] = obj
	}
	return out, raw.Metadata.ResourceVersion, nil
}

// Table asks the server for the rows kubectl would print.
func (d *Dynamic) Table(ctx context.Context, name string, opts ListOptions) (*api.Table, error) {
	req, err := d.c.newRequest(ctx, http.MethodGet, d.res.Path(d.ns, name), opts.query(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
	resp, err := d.c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var t api.Table
	if resp.StatusCode >= 300 {
		var buf json.RawMessage
		_ = json.NewDecoder(resp.Body).Decode(&buf)
		return nil, statusFromBody(resp.StatusCode, buf)
	}
	if err := json.NewDecoder(resp.Body).Decode(&t); err != nil {
		return nil, err
	}
	return &t, nil
}

// Create stores a new object and returns it as stored.
func (d *Dynamic) Create(ctx context.Context, obj api.Object) (api.Object, error) {
	return d.write(ctx, http.MethodPost, d.res.Path(d.nsOf(obj), ""), obj)
}

// Update replaces an object; with metadata.resourceVersion set it fails with a conflict if the
// object changed since.
func (d *Dynamic) Update(ctx context.Context, obj api.Object) (api.Object, error) {
	return d.write(ctx, http.MethodPut, d.res.Path(d.nsOf(obj), obj.GetObjectMeta().Name), obj)
}

// UpdateStatus replaces only the status of an object.
func (d *Dynamic) UpdateStatus(ctx context.Context, obj api.Object) (api.Object, error) {
	return d.write(ctx, http.MethodPut, d.res.Path(d.nsOf(obj), obj.GetObjectMeta().Name)+"/status", obj)
}

// Patch applies a JSON merge patch.
func (d *Dynamic) Patch(ctx context.Context, name string, patch []byte) (api.Object, error) {
	out := d.res.New()
	if err := d.c.Do(ctx, http.MethodPatch, d.res.Path(d.ns, name), nil, patch, "application/merge-patch+json", out); err != nil {
		return nil, err
	}
	return out, nil
}

// Delete deletes an object (gracefully, for Pods on a node); opts may be nil.
func (d *Dynamic) Delete(ctx context.Context, name string, opts *api.DeleteOptions) error {
	var body []byte
	if opts != nil {
		body, _ = json.Marshal(opts)
	}
	return d.c.Do(ctx, http.MethodDelete, d.res.Path(d.ns, name), nil, body, "", nil)
}

// Watch streams changes after opts.ResourceVersion (or the current objects first, when it is
// empty). A too-old revision is an error for which IsGone is true.
func (d *Dynamic) Watch(ctx context.Context, opts ListOptions) (<-chan Event, error) {
	return d.c.watch(ctx, d.res, d.res.Path(d.ns, ""), opts)
}

func (d *Dynamic) nsOf(obj api.Object) string {
	if ns := obj.GetObjectMeta().Namespace; ns != "" && d.res.Namespaced {
		return ns
	}
	return d.ns
}

func (d *Dynamic) write(ctx context.Context, method, path string, obj api.Object) (api.Object, error) {
	api.SetTypeMeta(obj)
	body, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	out := d.res.New()
	if err := d.c.Do(ctx, method, path, nil, body, "", out); err != nil {
		return nil, err
	}
	return out, nil
}

// Typed is a client for one kind with Go types: T is the kind's struct (api.Pod) and PT its
// pointer (*api.Pod).
type Typed[T any, PT interface {
	*T
	api.Object
}] struct {
	d *Dynamic
}

// For returns a typed client for the kind of T in namespace ns.
func For[T any, PT interface {
	*T
	api.Object
}](c *Client, ns string) Typed[T, PT] {
	res := api.ResourceFor(PT(new(T)))
	if res == nil {
		panic(fmt.Sprintf("client.For: %T is not an API kind", new(T)))
	}
	return Typed[T, PT]{d: c.Resource(res, ns)}
}

// Dynamic returns the untyped client underneath.
func (t Typed[T, PT]) Dynamic() *Dynamic { return t.d }

func cast[T any, PT interface {
	*T
	api.Object
}](obj api.Object, err error) (PT, error) {
	if err != nil {
		return nil, err
	}
	return obj.(PT), nil
}

// Get reads one object.
func (t Typed[T, PT]) Get(ctx context.Context, name string) (PT, error) {
	return cast[T, PT](t.d.Get(ctx, name))
}

// List reads the collection.
func (t Typed[T, PT]) List(ctx context.Context, opts ListOptions) ([]PT, string, error) {
	objs, rv, err := t.d.List(ctx, opts)
	if err != nil {
		return nil, "", err
	}
	out := make([]PT, len(objs))
	for i, o := range objs {
		out[i] = o.(PT)
	}
	return out, rv, nil
}

// Create stores a new object.
func (t Typed[T, PT]) Create(ctx context.Context, obj PT) (PT, error) {
	return cast[T, PT](t.d.Create(ctx, obj))
}

// Update replaces an object (compare-and-swap when resourceVersion is set).
func (t Typed[T, PT]) Update(ctx context.Context, obj PT) (PT, error) {
	return cast[T, PT](t.d.Update(ctx, obj))
}

// UpdateStatus replaces an object's status.
func (t Typed[T, PT]) UpdateStatus(ctx context.Context, obj PT) (PT, error) {
	return cast[T, PT](t.d.UpdateStatus(ctx, obj))
}

// Patch applies a JSON merge patch.
func (t Typed[T, PT]) Patch(ctx context.Context, name string, patch []byte) (PT, error) {
	return cast[T, PT](t.d.Patch(ctx, name, patch))
}

// Delete deletes an object; opts may be nil.
func (t Typed[T, PT]) Delete(ctx context.Context, name string, opts *api.DeleteOptions) error {
	return t.d.Delete(ctx, name, opts)
}

// Watch streams changes; see Dynamic.Watch.
func (t Typed[T, PT]) Watch(ctx context.Context, opts ListOptions) (<-chan Event, error) {
	return t.d.Watch(ctx, opts)
}

// Namespaces returns the Namespace client.
func (c *Client) Namespaces() Typed[api.Namespace, *api.Namespace] {
	return For[api.Namespace](c, "")
}

// Nodes returns the Node client.
func (c *Client) Nodes() Typed[api.Node, *api.Node] { return For[api.Node](c, "") }

// Pods returns the Pod client for a namespace ("" lists all namespaces).
func (c *Client) Pods(ns string) Typed[api.Pod, *api.Pod] { return For[api.Pod](c, ns) }

// Services returns the Service client for a namespace.
func (c *Client) Services(ns string) Typed[api.Service, *api.Service] {
	return For[api.Service](c, ns)
}

// Endpoints returns the Endpoints client for a namespace.
func (c *Client) Endpoints(ns string) Typed[api.Endpoints, *api.Endpoints] {
	return For[api.Endpoints](c, ns)
}

// ReplicaSets returns the ReplicaSet client for a namespace.
func (c *Client) ReplicaSets(ns string) Typed[api.ReplicaSet, *api.ReplicaSet] {
	return For[api.ReplicaSet](c, ns)
}

// Secrets returns the Secret client for a namespace.
func (c *Client) Secrets(ns string) Typed[api.Secret, *api.Secret] { return For[api.Secret](c, ns) }

// Events returns the Event client for a namespace.
func (c *Client) Events(ns string) Typed[api.Event, *api.Event] { return For[api.Event](c, ns) }

// Bind assigns an unbound Pod to a node (the pods/NAME/binding subresource). It fails with a
// conflict (IsConflict) if the Pod is bound already.
func (c *Client) Bind(ctx context.Context, ns, pod, uid, node string) error {
	b := api.Binding{
		TypeMeta:   api.TypeMeta{APIVersion: "v1", Kind: "Binding"},
		ObjectMeta: api.ObjectMeta{Name: pod, Namespace: ns, UID: uid},
		Target:     api.ObjectReference{Kind: "Node", Name: node, APIVersion: "v1"},
	}
	body, err := json.Marshal(b)
	if err != nil {
		return err
	}
	return c.Do(ctx, http.MethodPost, api.LookupResource("pods").Path(ns, pod)+"/binding", nil, body, "", nil)
}

// HorizontalPodAutoscalers returns the typed client of HorizontalPodAutoscalers in ns.
func (c *Client) HorizontalPodAutoscalers(ns string) Typed[api.HorizontalPodAutoscaler, *api.HorizontalPodAutoscaler] {
	return For[api.HorizontalPodAutoscaler](c, ns)
}
