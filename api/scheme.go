package api

import "strings"

// Resource describes one kind the API serves: where it lives in the URL space, its names, and
// how to make an empty one. The table is fixed (see Resources); it is data, not a plugin registry.
type Resource struct {
	Group      string   // "" for the core group
	Version    string   // "v1"
	Kind       string   // "Pod"
	Name       string   // plural, lower case: "pods"
	Singular   string   // "pod"
	ShortNames []string // "po"
	Namespaced bool
	// HasStatus means the kind has a status subresource: a plain update keeps the stored status
	// and an update of /status changes nothing else.
	HasStatus bool
	// HasSpec means spec changes bump metadata.generation.
	HasSpec bool
	// Fields are the field selectors the kind supports besides metadata.name and
	// metadata.namespace.
	Fields []string
	// New returns an empty object of the kind.
	New func() Object
}

// APIVersion returns "v1" for the core group and "group/version" otherwise.
func (r *Resource) APIVersion() string {
	if r.Group == "" {
		return r.Version
	}
	return r.Group + "/" + r.Version
}

// Path returns the URL path of a collection (name "") or an object. ns is ignored for
// cluster-scoped kinds; ns "" for a namespaced kind means all namespaces.
func (r *Resource) Path(ns, name string) string {
	var b strings.Builder
	if r.Group == "" {
		b.WriteString("/api/" + r.Version)
	} else {
		b.WriteString("/apis/" + r.Group + "/" + r.Version)
	}
	if r.Namespaced && ns != "" {
		b.WriteString("/namespaces/" + ns)
	}
	b.WriteString("/" + r.Name)
	if name != "" {
		b.WriteString("/" + name)
	}
	return b.String()
}

// GroupVersion is the group and version of the kinds minik8s serves.
const (
	GroupApps    = "apps"
	GroupMinik8s = "minik8s.io"
	GroupMeta    = "meta.k8s.io"
	CoreVersion  = "v1"
)

var resources = []*Resource{
	{Version: "v1", Kind: "Namespace", Name: "namespaces", Singular: "namespace", ShortNames: []string{"ns"},
		HasStatus: true, Fields: []string{"status.phase"}, New: func() Object { return &Namespace{} }},
	{Version: "v1", Kind: "Node", Name: "nodes", Singular: "node", ShortNames: []string{"no"},
		HasStatus: true, HasSpec: true, Fields: []string{"spec.unschedulable"}, New: func() Object { return &Node{} }},
	{Version: "v1", Kind: "Pod", Name: "pods", Singular: "pod", ShortNames: []string{"po"}, Namespaced: true,
		HasStatus: true, HasSpec: true, Fields: []string{"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "status.phase", "status.podIP"},
		New: func() Object { return &Pod{} }},
	{Version: "v1", Kind: "Service", Name: "services", Singular: "service", ShortNames: []string{"svc"}, Namespaced: true,
		HasStatus: true, HasSpec: true, Fields: []string{"spec.type", "spec.clusterIP"}, New: func() Object { return &Service{} }},
	{Version: "v1", Kind: "Endpoints", Name: "endpoints", Singular: "endpoints", ShortNames: []string{"ep"}, Namespaced: true,
		New: func() Object { return &Endpoints{} }},
	{Version: "v1", Kind: "Secret", Name: "secrets", Singular: "secret", Namespaced: true,
		Fields: []string{"type"}, New: func() Object { return &Secret{} }},
	{Version: "v1", Kind: "Event", Name: "events", Singular: "event", ShortNames: []string{"ev"}, Namespaced: true,
		Fields: []string{"involvedObject.kind", "involvedObject.name", "involvedObject.namespace", "involvedObject.uid", "reason", "type", "source.component"},
		New:    func() Object { return &Event{} }},
	{Group: GroupApps, Version: "v1", Kind: "ReplicaSet", Name: "replicasets", Singular: "replicaset", ShortNames: []string{"rs"}, Namespaced: true,
		HasStatus: true, HasSpec: true, New: func() Object { return &ReplicaSet{} }},
	{Group: GroupAutoscaling, Version: "v2", Kind: "HorizontalPodAutoscaler", Name: "horizontalpodautoscalers", Singular: "horizontalpodautoscaler",
		ShortNames: []string{"hpa"}, Namespaced: true, HasStatus: true, HasSpec: true, New: func() Object { return &HorizontalPodAutoscaler{} }},
}

// Resources returns every kind the API serves, in a stable order. Callers must not modify them.
func Resources() []*Resource { return resources }

// LookupResource finds a kind by any of its names as kubectl accepts them: plural, singular,
// short name or kind, case-insensitive, optionally qualified with ".group" (for example "rs",
// "replicasets.apps", "Pod").
func LookupResource(name string) *Resource {
	n := strings.ToLower(name)
	group := ""
	hasGroup := false
	if i := strings.IndexByte(n, '.'); i >= 0 {
		n, group, hasGroup = n[:i], n[i+1:], true
	}
	for _, r := range resources {
		if hasGroup && r.Group != group {
			continue
		}
		if n == r.Name || n == r.Singular || n == strings.ToLower(r.Kind) {
			return r
		}
		for _, s := range r.ShortNames {
			if n == s {
				return r
			}
		}
	}
	return nil
}

// LookupKind finds a kind by apiVersion and kind, as they appear in a manifest.
func LookupKind(apiVersion, kind string) *Resource {
	for _, r := range resources {
		if r.Kind == kind && r.APIVersion() == apiVersion {
			return r
		}
	}
	return nil
}

// LookupPath finds a kind by group, version and plural name, as they appear in a URL.
func LookupPath(group, version, plural string) *Resource {
	for _, r := range resources {
		if r.Group == group && r.Version == version && r.Name == plural {
			return r
		}
	}
	return nil
}

// ResourceFor returns the Resource of an object by its Go type.
func ResourceFor(obj Object) *Resource {
	switch obj.(type) {
	case *Namespace:
		return resources[0]
	case *Node:
		return resources[1]
	case *Pod:
		return resources[2]
	case *Service:
		return resources[3]
	case *Endpoints:
		return resources[4]
	case *Secret:
		return resources[5]
	case *Event:
		return resources[6]
	case *ReplicaSet:
		return resources[7]
	case *HorizontalPodAutoscaler:
		return resources[8]
	}
	return nil
}

// SetTypeMeta fills apiVersion and kind from the object's Go type.
func SetTypeMeta(obj Object) {
	if r := ResourceFor(obj); r != nil {
		*obj.GetTypeMeta() = TypeMeta{APIVersion: r.APIVersion(), Kind: r.Kind}
	}
}
