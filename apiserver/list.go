package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/storage"
)

// filter is a list's or a watch's label and field selectors.
type filter struct {
	labels api.Selector
	fields api.FieldSelector
}

func parseFilter(res *api.Resource, r *http.Request) (filter, error) {
	q := r.URL.Query()
	ls, err := api.ParseSelector(q.Get("labelSelector"))
	if err != nil {
		return filter{}, errBadRequest("labelSelector: %v", err)
	}
	fs, err := api.ParseFieldSelector(q.Get("fieldSelector"))
	if err != nil {
		return filter{}, errBadRequest("fieldSelector: %v", err)
	}
	for _, f := range fs.Fields() {
		if f != "metadata.name" && f != "metadata.namespace" && !slices.Contains(res.Fields, f) {
			supported := append([]string{"metadata.name", "metadata.namespace"}, res.Fields...)
			return filter{}, errBadRequest("%q is not a known field selector for %s: only %s", f, res.Name, strings.Join(supported, ", "))
		}
	}
	return filter{labels: ls, fields: fs}, nil
}

func (f filter) matches(obj api.Object) bool {
	if !f.labels.Matches(obj.GetObjectMeta().Labels) {
		return false
	}
	if f.fields.Empty() {
		return true
	}
	var doc map[string]any
	b, _ := json.Marshal(obj)
	_ = json.Unmarshal(b, &doc)
	return f.fields.Matches(func(field string) (string, bool) { return fieldValue(doc, field) })
}

// falseWhenMissing are the boolean field selectors: omitempty leaves false out of the JSON, and
// Kubernetes reads it as "false" (spec.unschedulable=false selects schedulable nodes).
var falseWhenMissing = map[string]bool{"spec.unschedulable": true}

// fieldValue reads a dotted path out of an object's JSON; a missing leaf reads as "" as in
// Kubernetes (an unscheduled Pod matches spec.nodeName=).
func fieldValue(doc map[string]any, path string) (string, bool) {
	var cur any = doc
	for _, p := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return "", true
		}
		cur = m[p]
	}
	switch v := cur.(type) {
	case nil:
		if falseWhenMissing[path] {
			return "false", true
		}
		return "", true
	case string:
		return v, true
	case bool:
		return strconv.FormatBool(v), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	}
	return fmt.Sprint(cur), true
}

// listObjects reads a collection and keeps what the filter matches.
func (s *Server) listObjects(ctx context.Context, res *api.Resource, ns string, f filter) ([]api.Object, int64, error) {
	kvs, rev, err := s.store.List(ctx, storagePrefix(res, ns))
	if err != nil {
		return nil, 0, err
	}
	out := make([]api.Object, 0, len(kvs))
	for _, kv := range kvs {
		obj, err := decodeStored(res, kv.Value, kv.ModRev)
		if err != nil {
			return nil, 0, err
		}
		if f.matches(obj) {
			out = append(out, obj)
		}
	}
	return out, rev, nil
}

// list answers GET on a collection: a "<Kind>List", or a Table for clients that ask for one.
func (s *Server) list(w http.ResponseWriter, r *http.Request, res *api.Resource, ri requestInfo) {
	f, err := parseFilter(res, r)
	if err != nil {
		s.writeError(w, r, err, res, "")
		return
	}
	if ri.Namespace != "" && !res.Namespaced {
		s.writeError(w, r, newStatus(http.StatusNotFound, api.StatusReasonNotFound, res.Name+" are not namespaced"), res, "")
		return
	}
	items, rev, err := s.listObjects(r.Context(), res, ri.Namespace, f)
	if err != nil {
		s.writeError(w, r, err, res, "")
		return
	}
	if wantsTable(r) {
		t, err := s.buildTable(r.Context(), res, items, includeObject(r))
		if err != nil {
			s.writeError(w, r, err, res, "")
			return
		}
		t.ResourceVersion = strconv.FormatInt(rev, 10)
		writeJSON(w, http.StatusOK, t)
		return
	}
	raw := make([]json.RawMessage, len(items))
	for i, it := range items {
		raw[i], _ = json.Marshal(it)
	}
	writeJSON(w, http.StatusOK, struct {
		api.TypeMeta `json:",inline"`
		api.ListMeta `json:"metadata"`
		Items        []json.RawMessage `json:"items"`
	}{api.TypeMeta{APIVersion: res.APIVersion(), Kind: res.Kind + "List"}, api.ListMeta{ResourceVersion: strconv.FormatInt(rev, 10)}, raw})
}

// buildTable makes the Table answer for objs. The rows of some kinds show what is computed
// from other objects (a Node's CPU and MEMORY requested by its Pods, a Service's ENDPOINTS):
// for them each such resource is read once, at the time of the request, in the namespace of
// objs (all namespaces when they span several, or are cluster-scoped).
func (s *Server) buildTable(ctx context.Context, res *api.Resource, objs []api.Object, includeObject bool) (*api.Table, error) {
	var tc *api.TableContext
	if needs := api.TableNeeds(res); len(needs) > 0 && len(objs) > 0 {
		all, err := api.ParseSelector("")
		if err != nil {
			return nil, err
		}
		none, err := api.ParseFieldSelector("")
		if err != nil {
			return nil, err
		}
		ns := api.TableNeedsNamespace(objs)
		tc = &api.TableContext{}
		for _, need := range needs {
			nr := api.LookupResource(need.Resource)
			if nr == nil {
				return nil, fmt.Errorf("the %s table needs %s, which is not a resource", res.Name, need.Resource)
			}
			scope := ns
			if !nr.Namespaced {
				scope = ""
			}
			items, _, err := s.listObjects(ctx, nr, scope, filter{labels: all, fields: none})
			if err != nil {
				return nil, fmt.Errorf("list %s for the %s table: %w", nr.Name, res.Name, err)
			}
			tc.Add(need.Resource, items)
		}
	}
	return api.BuildTableWith(res, objs, time.Now(), includeObject, tc)
}

func wantsTable(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if strings.Contains(part, "as=Table") && strings.Contains(part, "g=meta.k8s.io") {
			return true
		}
	}
	return false
}

func includeObject(r *http.Request) bool {
	return r.URL.Query().Get("includeObject") == "Object"
}

// watch streams changes as JSON lines of {"type", "object"}. With resourceVersion N it sends
// exactly the changes after revision N; without one (or "0") it first sends the current
// objects as ADDED, then the changes after them. A revision that etcd has compacted away is
// answered 410 Gone (or, if it happens mid-stream, an ERROR event with a 410 Status), after
// which the client lists again.
func (s *Server) watch(w http.ResponseWriter, r *http.Request, res *api.Resource, ri requestInfo) {
	ctx := r.Context()
	f, err := parseFilter(res, r)
	if err != nil {
		s.writeError(w, r, err, res, "")
		return
	}
	if ri.Name != "" { // the legacy form /pods/NAME?watch=true
		f.fields, _ = api.ParseFieldSelector("metadata.name=" + ri.Name)
	}
	if t := r.URL.Query().Get("timeoutSeconds"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			s.writeError(w, r, errBadRequest("timeoutSeconds must be a non-negative integer, not %q", t), res, "")
			return
		}
		if n > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, time.Duration(n)*time.Second)
			defer cancel()
		}
	}
	var initial []api.Object
	var from int64
	rvParam := r.URL.Query().Get("resourceVersion")
	if rvParam == "" || rvParam == "0" {
		initial, from, err = s.listObjects(ctx, res, ri.Namespace, f)
		if err != nil {
			s.writeError(w, r, err, res, "")
			return
		}
	} else {
		from, err = strconv.ParseInt(rvParam, 10, 64)
		if err != nil || from < 0 {
			s.writeError(w, r, errBadRequest("resourceVersion must be a revision number, not %q", rvParam), res, "")
			return
		}
		if err := s.store.CheckRevision(ctx, from); err != nil {
			s.writeError(w, r, err, res, "")
			return
		}
	}
	var werr error
	events := s.store.Watch(ctx, storagePrefix(res, ri.Namespace), from, &werr)

	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Transfer-Encoding", "chunked")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	send := func(typ string, obj any) error {
		raw, err := json.Marshal(obj)
		if err != nil {
			return err
		}
		if err := enc.Encode(api.WatchEvent{Type: typ, Object: raw}); err != nil {
			return err
		}
		if flusher != nil {
			flusher.Flush()
		}
		return nil
	}
	for _, obj := range initial {
		if send(api.Added, obj) != nil {
			return
		}
	}
	if flusher != nil {
		flusher.Flush()
	}
	for ev := range events {
		typ, obj, err := translate(res, ev, f)
		if err != nil {
			s.log.Error("watch: decode event", "key", ev.Key, "err", err)
			continue
		}
		if typ == "" {
			continue
		}
		if send(typ, obj) != nil {
			return
		}
	}
	if werr != nil && ctx.Err() == nil {
		st := toStatus(werr, res, "")
		_ = send(api.Error, st.status)
	}
}

// translate turns a store event into a watch event as seen through the filter: an object that
// starts matching is ADDED, one that stops matching is DELETED. typ "" means nothing to send.
func translate(res *api.Resource, ev storage.Event, f filter) (string, api.Object, error) {
	var cur, prev api.Object
	var err error
	if ev.Type == storage.Delete {
		if ev.PrevValue == nil {
			return "", nil, errors.New("delete event without the previous value")
		}
		prev, err = decodeStored(res, ev.PrevValue, ev.Rev)
		if err != nil {
			return "", nil, err
		}
		if f.matches(prev) {
			return api.Deleted, prev, nil
		}
		return "", nil, nil
	}
	cur, err = decodeStored(res, ev.Value, ev.Rev)
	if err != nil {
		return "", nil, err
	}
	curMatch := f.matches(cur)
	prevMatch := false
	if ev.PrevValue != nil {
		if prev, err = decodeStored(res, ev.PrevValue, ev.Rev); err == nil {
			prevMatch = f.matches(prev)
		}
	}
	switch {
	case curMatch && ev.PrevValue == nil:
		return api.Added, cur, nil
	case curMatch && prevMatch:
		return api.Modified, cur, nil
	case curMatch:
		return api.Added, cur, nil
	case prevMatch:
		return api.Deleted, cur, nil
	}
	return "", nil, nil
}
