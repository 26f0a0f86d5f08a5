package apiserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/storage"
)

// maxBody bounds a request body, as Kubernetes' 3 MiB.
const maxBody = 3 << 20

// storageKey is where an object lives in etcd.
func storageKey(res *api.Resource, ns, name string) string {
	if res.Namespaced {
		return "/registry/" + res.Name + "/" + ns + "/" + name
	}
	return "/registry/" + res.Name + "/" + name
}

// storagePrefix is the prefix of a collection; ns "" means every namespace.
func storagePrefix(res *api.Resource, ns string) string {
	if res.Namespaced && ns != "" {
		return "/registry/" + res.Name + "/" + ns + "/"
	}
	return "/registry/" + res.Name + "/"
}

// decodeStored turns a stored value into an object whose resourceVersion is the key's revision.
func decodeStored(res *api.Resource, value []byte, rev int64) (api.Object, error) {
	obj := res.New()
	if err := json.Unmarshal(value, obj); err != nil {
		return nil, fmt.Errorf("decode stored %s: %w", res.Name, err)
	}
	api.SetTypeMeta(obj)
	obj.GetObjectMeta().ResourceVersion = strconv.FormatInt(rev, 10)
	return obj, nil
}

// encodeForStore writes an object without its resourceVersion, which etcd keeps for it.
func encodeForStore(obj api.Object) ([]byte, error) {
	meta := obj.GetObjectMeta()
	rv := meta.ResourceVersion
	meta.ResourceVersion = ""
	b, err := json.Marshal(obj)
	meta.ResourceVersion = rv
	return b, err
}

func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, errBadRequest("read request body: %v", err)
	}
	if len(b) > maxBody {
		return nil, newStatus(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "the request body is larger than 3 MiB")
	}
	return b, nil
}

// decodeBody decodes a JSON (or YAML) request body strictly into a new object of the kind and
// checks that apiVersion and kind, if given, are the URL's. name is the URL's, for messages.
func decodeBody(res *api.Resource, body []byte, name string) (api.Object, error) {
	obj := res.New()
	if err := api.DecodeStrict(body, obj); err != nil {
		return nil, errInvalid(res, name, err)
	}
	tm := obj.GetTypeMeta()
	if tm.Kind != "" && tm.Kind != res.Kind {
		return nil, errBadRequest("kind %q does not match the URL, which is for %s (kind %s)", tm.Kind, res.Name, res.Kind)
	}
	if tm.APIVersion != "" && tm.APIVersion != res.APIVersion() {
		return nil, errBadRequest("apiVersion %q does not match the URL, which is for %s", tm.APIVersion, res.APIVersion())
	}
	api.SetTypeMeta(obj)
	return obj, nil
}

// checkNamespace sets the object's namespace from the URL and refuses a mismatch.
func checkNamespace(res *api.Resource, ri requestInfo, obj api.Object) error {
	meta := obj.GetObjectMeta()
	if !res.Namespaced {
		return nil
	}
	if meta.Namespace == "" {
		meta.Namespace = ri.Namespace
	}
	if meta.Namespace != ri.Namespace {
		return errBadRequest("the namespace of the object (%s) does not match the namespace on the request (%s)", meta.Namespace, ri.Namespace)
	}
	return nil
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, res *api.Resource, ri requestInfo) {
	obj, stored, err := s.doCreate(r, res, ri)
	if err != nil {
		name := ""
		if obj != nil {
			name = obj.GetObjectMeta().Name
		}
		s.writeError(w, r, err, res, name)
		return
	}
	if stored != nil {
		writeRaw(w, http.StatusCreated, withResourceVersion(stored, obj.GetObjectMeta().ResourceVersion))
		return
	}
	writeJSON(w, http.StatusCreated, obj)
}

// withResourceVersion returns the stored encoding of an object (which has no resourceVersion:
// etcd keeps it) with its resourceVersion put in, saving a second encoding of the object.
func withResourceVersion(stored []byte, rv string) []byte {
	const marker = `"metadata":{`
	i := bytes.Index(stored, []byte(marker))
	if i < 0 {
		return stored
	}
	i += len(marker)
	field := `"resourceVersion":"` + rv + `"`
	if stored[i] != '}' {
		field += ","
	}
	out := make([]byte, 0, len(stored)+len(field))
	out = append(out, stored[:i]...)
	out = append(out, field...)
	return append(out, stored[i:]...)
}

// doCreate stores a new object; it returns the object and its stored encoding (nil for a dry
// run).
func (s *Server) doCreate(r *http.Request, res *api.Resource, ri requestInfo) (api.Object, []byte, error) {
	if res.Namespaced && ri.Namespace == "" {
		return nil, nil, newStatus(http.StatusMethodNotAllowed, api.StatusReasonMethodNotAllowed,
			fmt.Sprintf("create %s in a namespace: POST %s", res.Name, res.Path("NAMESPACE", "")))
	}
	body, err := readBody(r)
	if err != nil {
		return nil, nil, err
	}
	obj, err := decodeBody(res, body, "")
	if err != nil {
		return nil, nil, err
	}
	if err := checkNamespace(res, ri, obj); err != nil {
		return obj, nil, err
	}
	meta := obj.GetObjectMeta()
	if res.Namespaced {
		if err := s.namespaceOpen(r.Context(), meta.Namespace); err != nil {
			return obj, nil, err
		}
	}
	generated := meta.Name == "" && meta.GenerateName != ""
	if generated {
		meta.Name = meta.GenerateName + randomSuffix()
	}
	api.Default(obj)
	if errs := api.Validate(obj); len(errs) > 0 {
		return obj, nil, errInvalid(res, meta.Name, errs)
	}
	resetStatus(obj)
	meta.UID = newUID()
	meta.CreationTimestamp = api.Now()
	meta.ResourceVersion = ""
	meta.DeletionTimestamp = nil
	meta.DeletionGracePeriodSeconds = nil
	meta.Generation = 0
	if res.HasSpec {
		meta.Generation = 1
	}
	if err := s.admit(r.Context(), res, obj, nil); err != nil {
		return obj, nil, err
	}
	// Services: free what admit allocated unless the Service got stored (alloc.go).
	defer s.releaseAllocations(context.WithoutCancel(r.Context()), res, obj)
	if dryRun(r) {
		return obj, nil, nil
	}
	for attempt := 0; ; attempt++ {
		data, err := encodeForStore(obj)
		if err != nil {
			return obj, nil, err
		}
		rev, err := s.store.Create(r.Context(), storageKey(res, meta.Namespace, meta.Name), data)
		if errors.Is(err, storage.ErrAlreadyExists) && generated && attempt < 5 {
			meta.Name = meta.GenerateName + randomSuffix()
			continue
		}
		if err != nil {
			return obj, nil, err
		}
		meta.ResourceVersion = strconv.FormatInt(rev, 10)
		return obj, data, nil
	}
}

// resetStatus clears the status a client sent with a create, for the kinds whose status only
// the cluster writes (as Kubernetes' create strategies do).
func resetStatus(obj api.Object) {
	switch o := obj.(type) {
	case *api.Pod:
		o.Status = api.PodStatus{Phase: api.PodPending}
	case *api.ReplicaSet:
		o.Status = api.ReplicaSetStatus{}
	case *api.Service:
		o.Status = api.ServiceStatus{}
	case *api.Namespace:
		o.Status = api.NamespaceStatus{Phase: api.NamespaceActive}
	}
}

func dryRun(r *http.Request) bool { return r.URL.Query().Get("dryRun") == "All" }

// admit is where per-kind rules that need the store go (allocations, references). It runs after
// validation and before the write.
func (s *Server) admit(ctx context.Context, res *api.Resource, obj, old api.Object) error {
	switch o := obj.(type) {
	case *api.Node:
		if o.Spec.PodCIDR == "" && old != nil {
			o.Spec.PodCIDR = old.(*api.Node).Spec.PodCIDR
			o.Spec.PodCIDRs = old.(*api.Node).Spec.PodCIDRs
		}
		if o.Spec.PodCIDR == "" {
			cidr, err := s.allocatePodCIDR(ctx, o.Name)
			if err != nil {
				return err
			}
			o.Spec.PodCIDR, o.Spec.PodCIDRs = cidr, []string{cidr}
		}
	case *api.Service:
		var prev *api.Service
		if old != nil {
			prev = old.(*api.Service)
		}
		if o.Spec.ClusterIP == "" && prev != nil {
			o.Spec.ClusterIP = prev.Spec.ClusterIP
			o.Spec.ClusterIPs = prev.Spec.ClusterIPs
		}
		// Cluster IP and node ports (alloc.go); the caller calls releaseAllocations once
		// the write has its outcome.
		if err := s.allocateService(ctx, res, o, prev); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, res *api.Resource, ri requestInfo) {
	kv, err := s.store.Get(r.Context(), storageKey(res, ri.Namespace, ri.Name))
	if err != nil {
		s.writeError(w, r, err, res, ri.Name)
		return
	}
	obj, err := decodeStored(res, kv.Value, kv.ModRev)
	if err != nil {
		s.writeError(w, r, err, res, ri.Name)
		return
	}
	if wantsTable(r) {
		t, err := s.buildTable(r.Context(), res, []api.Object{obj}, includeObject(r))
		if err != nil {
			s.writeError(w, r, err, res, ri.Name)
			return
		}
		writeJSON(w, http.StatusOK, t)
		return
	}
	writeJSON(w, http.StatusOK, obj)
}

// update answers PUT on an object or its status.
func (s *Server) update(w http.ResponseWriter, r *http.Request, res *api.Resource, ri requestInfo) {
	body, err := readBody(r)
	if err != nil {
		s.writeError(w, r, err, res, ri.Name)
		return
	}
	obj, err := decodeBody(res, body, ri.Name)
	if err != nil {
		s.writeError(w, r, err, res, ri.Name)
		return
	}
	if err := checkNamespace(res, ri, obj); err != nil {
		s.writeError(w, r, err, res, ri.Name)
		return
	}
	meta := obj.GetObjectMeta()
	if meta.Name == "" {
		meta.Name = ri.Name
	}
	if meta.Name != ri.Name {
		s.writeError(w, r, errBadRequest("the name of the object (%s) does not match the name on the URL (%s)", meta.Name, ri.Name), res, ri.Name)
		return
	}
	out, code, err := s.updateLoop(r, res, ri, func(old api.Object) (api.Object, error) {
		if meta.ResourceVersion != "" && meta.ResourceVersion != old.GetObjectMeta().ResourceVersion {
			return nil, errConflict(res, ri.Name)
		}
		return obj, nil
	}, meta.ResourceVersion == "")
	if err != nil {
		s.writeError(w, r, err, res, ri.Name)
		return
	}
	writeJSON(w, code, out)
}

// patch answers PATCH with a JSON merge patch (RFC 7386) or a Kubernetes strategic merge patch
// (what kubectl apply sends), see strategicMerge.
func (s *Server) patch(w http.ResponseWriter, r *http.Request, res *api.Resource, ri requestInfo) {
	ct := r.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	switch ct {
	case "application/merge-patch+json", "application/strategic-merge-patch+json":
	default:
		s.writeError(w, r, newStatus(http.StatusUnsupportedMediaType, api.StatusReasonUnsupportedMediaType,
			fmt.Sprintf("the patch type %q is not supported; use application/merge-patch+json", ct)), res, ri.Name)
		return
	}
	body, err := readBody(r)
	if err != nil {
		s.writeError(w, r, err, res, ri.Name)
		return
	}
	var patch map[string]any
	if err := json.Unmarshal(body, &patch); err != nil {
		s.writeError(w, r, errBadRequest("the patch is not a JSON object: %v", err), res, ri.Name)
		return
	}
	strategic := ct == "application/strategic-merge-patch+json"
	var pinned string
	if m, ok := patch["metadata"].(map[string]any); ok {
		pinned, _ = m["resourceVersion"].(string)
	}
	out, code, err := s.updateLoop(r, res, ri, func(old api.Object) (api.Object, error) {
		if pinned != "" && pinned != old.GetObjectMeta().ResourceVersion {
			return nil, errConflict(res, ri.Name)
		}
		oldJSON, err := json.Marshal(old)
		if err != nil {
			return nil, err
		}
		var doc any
		if err := json.Unmarshal(oldJSON, &doc); err != nil {
			return nil, err
		}
		var result any
		if strategic {
			result = strategicMerge(doc, patch)
		} else {
			result = mergePatch(doc, patch)
		}
		merged, err := json.Marshal(result)
		if err != nil {
			return nil, err
		}
		return decodeBody(res, merged, ri.Name)
	}, pinned == "")
	if err != nil {
		s.writeError(w, r, err, res, ri.Name)
		return
	}
	writeJSON(w, code, out)
}

// updateLoop reads the object, lets mutate produce the new one from it, applies the update
// rules (server-owned metadata, status subresource, generation, validation) and writes it with
// compare-and-swap. When retry is set (the client pinned no resourceVersion) a lost race is
// retried with a fresh read; otherwise it is a 409.
func (s *Server) updateLoop(r *http.Request, res *api.Resource, ri requestInfo, mutate func(old api.Object) (api.Object, error), retry bool) (api.Object, int, error) {
	ctx := r.Context()
	key := storageKey(res, ri.Namespace, ri.Name)
	// Services: free what the outcome leaves unused, allocated by admit or given up (alloc.go).
	var versions []api.Object
	defer func() { s.releaseAllocations(context.WithoutCancel(ctx), res, versions...) }()
	for attempt := 0; ; attempt++ {
		kv, err := s.store.Get(ctx, key)
		if err != nil {
			return nil, 0, err
		}
		old, err := decodeStored(res, kv.Value, kv.ModRev)
		if err != nil {
			return nil, 0, err
		}
		obj, err := mutate(old)
		if err != nil {
			return nil, 0, err
		}
		obj, err = s.prepareUpdate(ctx, res, ri, obj, old)
		if err != nil {
			return nil, 0, err
		}
		versions = append(versions, obj, old)
		if dryRun(r) {
			return obj, http.StatusOK, nil
		}
		meta := obj.GetObjectMeta()
		if meta.DeletionTimestamp != nil && len(meta.Finalizers) == 0 && len(old.GetObjectMeta().Finalizers) > 0 {
			// The last finalizer is gone from an object that is being deleted: delete it now.
			rev, err := s.store.Delete(ctx, key, kv.ModRev)
			if errors.Is(err, storage.ErrConflict) && retry && attempt < 10 {
				continue
			}
			if err != nil {
				return nil, 0, err
			}
			meta.ResourceVersion = strconv.FormatInt(rev, 10)
			return obj, http.StatusOK, nil
		}
		data, err := encodeForStore(obj)
		if err != nil {
			return nil, 0, err
		}
		rev, err := s.store.Update(ctx, key, data, kv.ModRev)
		if errors.Is(err, storage.ErrConflict) && retry && attempt < 10 {
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		meta.ResourceVersion = strconv.FormatInt(rev, 10)
		return obj, http.StatusOK, nil
	}
}

// prepareUpdate applies the update rules to obj, the object a client sent, given old, the
// stored one. It returns the object to store.
func (s *Server) prepareUpdate(ctx context.Context, res *api.Resource, ri requestInfo, obj, old api.Object) (api.Object, error) {
	oldMeta := old.GetObjectMeta()
	if ri.Subresource == "status" {
		// Only the status changes: everything else comes from the stored object.
		merged, err := replaceField(old, obj, "status", res)
		if err != nil {
			return nil, err
		}
		obj = merged
	} else {
		meta := obj.GetObjectMeta()
		meta.UID = oldMeta.UID
		meta.CreationTimestamp = oldMeta.CreationTimestamp
		meta.DeletionTimestamp = oldMeta.DeletionTimestamp
		meta.DeletionGracePeriodSeconds = oldMeta.DeletionGracePeriodSeconds
		meta.Generation = oldMeta.Generation
		api.Default(obj)
		// Services: a cluster IP or node port the client left out is kept (alloc.go).
		keepServiceAllocations(obj, old)
		if res.HasStatus {
			merged, err := replaceField(obj, old, "status", res)
			if err != nil {
				return nil, err
			}
			obj = merged
		}
		if res.HasSpec {
			changed, err := fieldChanged(obj, old, "spec")
			if err != nil {
				return nil, err
			}
			if changed {
				obj.GetObjectMeta().Generation++
			}
		}
	}
	obj.GetObjectMeta().ResourceVersion = oldMeta.ResourceVersion
	if errs := api.ValidateUpdate(obj, old); len(errs) > 0 {
		return nil, errInvalid(res, ri.Name, errs)
	}
	if err := s.admit(ctx, res, obj, old); err != nil {
		return nil, err
	}
	return obj, nil
}

// replaceField returns a copy of base with its top-level JSON field taken from from.
func replaceField(base, from api.Object, field string, res *api.Resource) (api.Object, error) {
	var b, f map[string]json.RawMessage
	bj, _ := json.Marshal(base)
	fj, _ := json.Marshal(from)
	if err := json.Unmarshal(bj, &b); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(fj, &f); err != nil {
		return nil, err
	}
	if v, ok := f[field]; ok {
		b[field] = v
	} else {
		delete(b, field)
	}
	out, _ := json.Marshal(b)
	obj := res.New()
	if err := json.Unmarshal(out, obj); err != nil {
		return nil, err
	}
	return obj, nil
}

func fieldChanged(a, b api.Object, field string) (bool, error) {
	var am, bm map[string]any
	aj, _ := json.Marshal(a)
	bj, _ := json.Marshal(b)
	if err := json.Unmarshal(aj, &am); err != nil {
		return false, err
	}
	if err := json.Unmarshal(bj, &bm); err != nil {
		return false, err
	}
	return !reflect.DeepEqual(am[field], bm[field]), nil
}

// protectedNamespaces can never be deleted.
var protectedNamespaces = map[string]bool{"default": true, "kube-system": true, "kube-public": true}

// del answers DELETE. Pods on a node are deleted gracefully: they get a deletionTimestamp and
// the node's kubelet removes them once their containers are stopped (or a delete with grace
// period 0 removes them at once). Objects with finalizers wait for them likewise. Namespaces
// turn Terminating and go once everything in them is gone.
func (s *Server) del(w http.ResponseWriter, r *http.Request, res *api.Resource, ri requestInfo) {
	opts := api.DeleteOptions{}
	body, err := readBody(r)
	if err != nil {
		s.writeError(w, r, err, res, ri.Name)
		return
	}
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := api.DecodeStrict(body, &opts); err != nil {
			s.writeError(w, r, errBadRequest("bad DeleteOptions: %v", err), res, ri.Name)
			return
		}
	}
	if g := r.URL.Query().Get("gracePeriodSeconds"); g != "" {
		n, err := strconv.ParseInt(g, 10, 64)
		if err != nil {
			s.writeError(w, r, errBadRequest("gracePeriodSeconds must be an integer, not %q", g), res, ri.Name)
			return
		}
		opts.GracePeriodSeconds = &n
	}
	if res.Kind == "Namespace" && protectedNamespaces[ri.Name] {
		s.writeError(w, r, newStatus(http.StatusForbidden, api.StatusReasonForbidden,
			fmt.Sprintf("namespace %q may not be deleted", ri.Name)), res, ri.Name)
		return
	}
	// kubectl delete --dry-run=server sends dryRun in the DeleteOptions body, not in the query.
	dry := dryRun(r) || slices.Contains(opts.DryRun, "All")
	out, err := s.doDelete(r.Context(), res, ri.Namespace, ri.Name, opts, dry)
	if err != nil {
		s.writeError(w, r, err, res, ri.Name)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// doDelete deletes or marks for deletion one object, and returns it as it now is.
func (s *Server) doDelete(ctx context.Context, res *api.Resource, ns, name string, opts api.DeleteOptions, dry bool) (api.Object, error) {
	key := storageKey(res, ns, name)
	for attempt := 0; ; attempt++ {
		kv, err := s.store.Get(ctx, key)
		if err != nil {
			return nil, err
		}
		obj, err := decodeStored(res, kv.Value, kv.ModRev)
		if err != nil {
			return nil, err
		}
		meta := obj.GetObjectMeta()
		if p := opts.Preconditions; p != nil {
			if p.UID != nil && *p.UID != meta.UID {
				return nil, newStatus(http.StatusConflict, api.StatusReasonConflict,
					fmt.Sprintf("Precondition failed: UID in precondition: %s, UID in object meta: %s", *p.UID, meta.UID))
			}
			if p.ResourceVersion != nil && *p.ResourceVersion != meta.ResourceVersion {
				return nil, errConflict(res, name)
			}
		}
		if dry {
			return obj, nil
		}
		graceful, changed := markDeleting(obj, opts)
		var rev int64
		switch {
		case graceful && !changed:
			return obj, nil
		case graceful:
			data, err := encodeForStore(obj)
			if err != nil {
				return nil, err
			}
			rev, err = s.store.Update(ctx, key, data, kv.ModRev)
		default:
			rev, err = s.store.Delete(ctx, key, kv.ModRev)
		}
		if errors.Is(err, storage.ErrConflict) && attempt < 10 {
			continue
		}
		if err != nil {
			return nil, err
		}
		meta.ResourceVersion = strconv.FormatInt(rev, 10)
		if !graceful {
			// Services: free the cluster IP and node ports (alloc.go).
			s.releaseAllocations(context.WithoutCancel(ctx), res, obj)
		}
		if res.Kind == "Namespace" {
			s.noteNamespaceWrite(rev)
			s.wakeNamespaces()
		}
		return obj, nil
	}
}

// markDeleting decides between a graceful delete (the object stays, marked) and a removal. It
// returns graceful=true when the object must stay, and changed=true when obj was changed and
// must be written back.
func markDeleting(obj api.Object, opts api.DeleteOptions) (graceful, changed bool) {
	meta := obj.GetObjectMeta()
	now := api.Now()
	switch o := obj.(type) {
	case *api.Namespace:
		if meta.DeletionTimestamp != nil {
			return true, false
		}
		meta.DeletionTimestamp = &now
		o.Status.Phase = api.NamespaceTerminating
		return true, true
	case *api.Pod:
		if o.Spec.NodeName != "" && o.Status.Phase != api.PodSucceeded && o.Status.Phase != api.PodFailed {
			grace := int64(30)
			if o.Spec.TerminationGracePeriodSeconds != nil {
				grace = *o.Spec.TerminationGracePeriodSeconds
			}
			if opts.GracePeriodSeconds != nil {
				grace = *opts.GracePeriodSeconds
			}
			if grace > 0 || len(meta.Finalizers) > 0 {
				if grace < 1 {
					grace = 1
				}
				if meta.DeletionGracePeriodSeconds != nil && *meta.DeletionGracePeriodSeconds <= grace {
					return true, false // already deleting, no sooner than asked
				}
				deadline := api.NewTime(now.Add(time.Duration(grace) * time.Second))
				meta.DeletionTimestamp = &deadline
				meta.DeletionGracePeriodSeconds = &grace
				return true, true
			}
		}
	}
	if len(meta.Finalizers) > 0 {
		if meta.DeletionTimestamp != nil {
			return true, false
		}
		meta.DeletionTimestamp = &now
		zero := int64(0)
		meta.DeletionGracePeriodSeconds = &zero
		return true, true
	}
	return false, false
}

func newUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// randomSuffix is what generateName appends: five characters Kubernetes would pick from.
func randomSuffix() string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	var b [5]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}
