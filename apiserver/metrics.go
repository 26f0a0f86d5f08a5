package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/minik8s/minik8s/api"
)

// The API server keeps the resource usage the kubelets report, in memory, as metrics-server
// does: the latest sample of every node and Pod (served under /apis/metrics.k8s.io/v1beta1, the
// paths `kubectl top` and the autoscaler read) and a short window of samples (served under
// /minik8s/v1/metrics, for sparklines). It is not stored in etcd: after a restart of the API
// server the window fills again within one sampling interval.
const (
	// metricsWindow is how long samples are kept.
	metricsWindow = 15 * time.Minute
	// metricsStale is the age past which a node's or Pod's latest sample is no longer served as
	// current: its kubelet stopped reporting it (the node is down, or the Pod is gone).
	metricsStale = 90 * time.Second
	// metricsMaxBody bounds a usage report.
	metricsMaxBody = 8 << 20
)

// usageSeries is the samples of one node or Pod.
type usageSeries struct {
	node string // the node that reported it
	// The latest sample: of a node or of a Pod.
	nodeLatest *api.NodeMetrics
	podLatest  *api.PodMetrics
	at         time.Time
	points     []api.UsagePoint
}

func (u *usageSeries) add(p api.UsagePoint, now time.Time) {
	cut := now.Add(-metricsWindow)
	i := 0
	for i < len(u.points) && u.points[i].Timestamp.Before(cut) {
		i++
	}
	u.points = append(u.points[i:], p)
}

// metricsStore is the usage window of the cluster.
type metricsStore struct {
	mu    sync.RWMutex
	nodes map[string]*usageSeries // by node name
	pods  map[string]*usageSeries // by namespace/name
	now   func() time.Time
}

func newMetricsStore() *metricsStore {
	return &metricsStore{nodes: map[string]*usageSeries{}, pods: map[string]*usageSeries{}, now: time.Now}
}

// add takes one kubelet's report. Pods that the node reported before and not now are gone
// from it: their samples are dropped.
func (m *metricsStore) add(r *api.UsageReport) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	node := r.Node.Name
	ns := m.nodes[node]
	if ns == nil {
		ns = &usageSeries{node: node}
		m.nodes[node] = ns
	}
	nm := r.Node
	nm.TypeMeta = api.TypeMeta{APIVersion: api.GroupMetrics + "/" + api.MetricsVersion, Kind: "NodeMetrics"}
	ns.nodeLatest, ns.at = &nm, now
	ns.add(usagePoint(nm.Timestamp, nm.Usage), now)

	seen := make(map[string]bool, len(r.Pods)+len(r.Unmeasured))
	for _, key := range r.Unmeasured {
		seen[key] = true
	}
	for i := range r.Pods {
		pm := r.Pods[i]
		pm.TypeMeta = api.TypeMeta{APIVersion: api.GroupMetrics + "/" + api.MetricsVersion, Kind: "PodMetrics"}
		key := pm.Namespace + "/" + pm.Name
		seen[key] = true
		ps := m.pods[key]
		if ps == nil || ps.podLatest.UID != pm.UID {
			ps = &usageSeries{}
			m.pods[key] = ps
		}
		ps.node, ps.podLatest, ps.at = node, &pm, now
		cpu, mem := api.PodUsage(&pm)
		ps.add(api.UsagePoint{Timestamp: pm.Timestamp, CPUMilli: cpu, MemoryBytes: mem}, now)
	}
	for key, ps := range m.pods {
		if ps.node == node && !seen[key] {
			delete(m.pods, key)
		}
	}
	// Forget what nobody has reported for a whole window.
	for key, ps := range m.pods {
		if now.Sub(ps.at) > metricsWindow {
			delete(m.pods, key)
		}
	}
	for name, s := range m.nodes {
		if now.Sub(s.at) > metricsWindow {
			delete(m.nodes, name)
		}
	}
}

func usagePoint(ts api.Time, usage api.ResourceList) api.UsagePoint {
	p := api.UsagePoint{Timestamp: ts}
	if q, ok := usage[api.ResourceCPU]; ok {
		p.CPUMilli = q.MilliValue()
	}
	if q, ok := usage[api.ResourceMemory]; ok {
		p.MemoryBytes = q.Value()
	}
	return p
}

// podMetrics returns the current samples of the Pods in ns ("" for all) whose labels match sel,
// sorted by namespace and name.
func (m *metricsStore) podMetrics(ns string, sel api.Selector) []api.PodMetrics {
	now := m.now()
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := []api.PodMetrics{}
	for _, ps := range m.pods {
		pm := ps.podLatest
		if (ns != "" && pm.Namespace != ns) || now.Sub(ps.at) > metricsStale || (sel != nil && !sel.Matches(pm.Labels)) {
			continue
		}
		out = append(out, *pm)
	}
	slices.SortFunc(out, func(a, b api.PodMetrics) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	return out
}

// nodeMetrics returns the current samples of the nodes whose labels match sel, by name.
func (m *metricsStore) nodeMetrics(sel api.Selector) []api.NodeMetrics {
	now := m.now()
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := []api.NodeMetrics{}
	for _, s := range m.nodes {
		nm := s.nodeLatest
		if now.Sub(s.at) > metricsStale || (sel != nil && !sel.Matches(nm.Labels)) {
			continue
		}
		out = append(out, *nm)
	}
	slices.SortFunc(out, func(a, b api.NodeMetrics) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// history returns the window of one node (ns "") or Pod, oldest first, or nil.
func (m *metricsStore) history(resource, ns, name string) []api.UsagePoint {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var s *usageSeries
	if resource == "nodes" {
		s = m.nodes[name]
	} else {
		s = m.pods[ns+"/"+name]
	}
	if s == nil {
		return nil
	}
	return slices.Clone(s.points)
}

// metricsPaths are the URL prefixes that serveMetrics answers.
const (
	metricsAPIPrefix     = "/apis/" + api.GroupMetrics + "/" + api.MetricsVersion
	metricsHistoryPrefix = "/minik8s/v1/metrics/"
)

// isMetricsPath reports whether the path belongs to serveMetrics.
func isMetricsPath(p string) bool {
	return p == metricsAPIPrefix || strings.HasPrefix(p, metricsAPIPrefix+"/") || strings.HasPrefix(p, metricsHistoryPrefix)
}

// serveMetrics answers the metrics paths:
//
//	GET  /apis/metrics.k8s.io/v1beta1                                  the resources (discovery)
//	GET  /apis/metrics.k8s.io/v1beta1/nodes[/NAME]                     NodeMetrics(List)
//	GET  /apis/metrics.k8s.io/v1beta1[/namespaces/NS]/pods[/NAME]      PodMetrics(List), ?labelSelector=
//	POST /minik8s/v1/metrics/nodes/NAME                                a kubelet's UsageReport
//	GET  /minik8s/v1/metrics/nodes/NAME                                UsageHistory of a node
//	GET  /minik8s/v1/metrics/namespaces/NS/pods/NAME                   UsageHistory of a Pod
//
// A node's token may post only its own node's report; the join token may do nothing here.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request, user string) {
	if user == userBootstrap {
		writeJSON(w, http.StatusForbidden, newStatus(http.StatusForbidden, api.StatusReasonForbidden, "the join token may only register nodes, not read metrics").status)
		return
	}
	notFound := func(msg string) {
		writeJSON(w, http.StatusNotFound, newStatus(http.StatusNotFound, api.StatusReasonNotFound, msg).status)
	}
	if strings.HasPrefix(r.URL.Path, metricsHistoryPrefix) {
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, metricsHistoryPrefix), "/")
		var resource, ns, name string
		switch {
		case len(parts) == 2 && parts[0] == "nodes" && parts[1] != "":
			resource, name = "nodes", parts[1]
		case len(parts) == 4 && parts[0] == "namespaces" && parts[2] == "pods" && parts[1] != "" && parts[3] != "":
			resource, ns, name = "pods", parts[1], parts[3]
		default:
			notFound("the server could not find the requested resource: use /minik8s/v1/metrics/nodes/NAME or /minik8s/v1/metrics/namespaces/NS/pods/NAME")
			return
		}
		switch {
		case r.Method == http.MethodPost && resource == "nodes":
			s.acceptUsageReport(w, r, user, name)
		case r.Method == http.MethodGet:
			pts := s.metrics.history(resource, ns, name)
			if pts == nil {
				notFound(fmt.Sprintf("no usage of %s %q has been reported in the last %s", strings.TrimSuffix(resource, "s"), name, metricsWindow))
				return
			}
			writeJSON(w, http.StatusOK, &api.UsageHistory{TypeMeta: api.TypeMeta{APIVersion: "minik8s.io/v1", Kind: "UsageHistory"},
				Resource: resource, Namespace: ns, Name: name, Points: pts})
		default:
			writeJSON(w, http.StatusMethodNotAllowed, newStatus(http.StatusMethodNotAllowed, api.StatusReasonMethodNotAllowed, "use GET (or POST, for a node's report)").status)
		}
		return
	}
	if r.Method != http.MethodGet {
		writeJSON(w, http.StatusMethodNotAllowed, newStatus(http.StatusMethodNotAllowed, api.StatusReasonMethodNotAllowed, "metrics are read-only: use GET").status)
		return
	}
	rest := strings.Trim(strings.TrimPrefix(r.URL.Path, metricsAPIPrefix), "/")
	if rest == "" {
		writeJSON(w, http.StatusOK, map[string]any{"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": api.GroupMetrics + "/" + api.MetricsVersion,
			"resources": []map[string]any{
				{"name": "nodes", "singularName": "", "namespaced": false, "kind": "NodeMetrics", "verbs": []string{"get", "list"}},
				{"name": "pods", "singularName": "", "namespaced": true, "kind": "PodMetrics", "verbs": []string{"get", "list"}},
			}})
		return
	}
	parts := strings.Split(rest, "/")
	ns := ""
	if len(parts) >= 3 && parts[0] == "namespaces" {
		ns, parts = parts[1], parts[2:]
	}
	if len(parts) < 1 || len(parts) > 2 || (parts[0] != "pods" && parts[0] != "nodes") || (parts[0] == "nodes" && ns != "") {
		notFound("the server could not find the requested resource: metrics.k8s.io serves nodes and pods")
		return
	}
	var sel api.Selector
	if ls := r.URL.Query().Get("labelSelector"); ls != "" {
		var err error
		if sel, err = api.ParseSelector(ls); err != nil {
			writeJSON(w, http.StatusBadRequest, newStatus(http.StatusBadRequest, api.StatusReasonBadRequest, "labelSelector: "+err.Error()).status)
			return
		}
	}
	gv := api.GroupMetrics + "/" + api.MetricsVersion
	if parts[0] == "nodes" {
		items := s.metrics.nodeMetrics(sel)
		if len(parts) == 2 {
			for i := range items {
				if items[i].Name == parts[1] {
					writeJSON(w, http.StatusOK, &items[i])
					return
				}
			}
			notFound(fmt.Sprintf("nodemetrics.metrics.k8s.io %q not found: its kubelet has not reported usage in the last %s", parts[1], metricsStale))
			return
		}
		writeJSON(w, http.StatusOK, &api.NodeMetricsList{TypeMeta: api.TypeMeta{APIVersion: gv, Kind: "NodeMetricsList"}, Items: items})
		return
	}
	items := s.metrics.podMetrics(ns, sel)
	if len(parts) == 2 {
		for i := range items {
			if items[i].Name == parts[1] {
				writeJSON(w, http.StatusOK, &items[i])
				return
			}
		}
		notFound(fmt.Sprintf("podmetrics.metrics.k8s.io %q not found in namespace %q: its kubelet has not reported it in the last %s", parts[1], ns, metricsStale))
		return
	}
	writeJSON(w, http.StatusOK, &api.PodMetricsList{TypeMeta: api.TypeMeta{APIVersion: gv, Kind: "PodMetricsList"}, Items: items})
}

// acceptUsageReport stores a kubelet's report for node.
func (s *Server) acceptUsageReport(w http.ResponseWriter, r *http.Request, user, node string) {
	if user != userAdmin && user != userNodePrefix+node {
		writeJSON(w, http.StatusForbidden, newStatus(http.StatusForbidden, api.StatusReasonForbidden,
			fmt.Sprintf("only node %q (or the admin) may report its usage", node)).status)
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, metricsMaxBody+1))
	if err != nil || len(data) > metricsMaxBody {
		writeJSON(w, http.StatusRequestEntityTooLarge, newStatus(http.StatusRequestEntityTooLarge, api.StatusReasonBadRequest, "a usage report is at most 8 MiB").status)
		return
	}
	rep := &api.UsageReport{}
	if err := json.Unmarshal(data, rep); err != nil {
		writeJSON(w, http.StatusBadRequest, newStatus(http.StatusBadRequest, api.StatusReasonBadRequest, "usage report: "+err.Error()).status)
		return
	}
	if rep.Node.Name == "" {
		rep.Node.Name = node
	}
	if rep.Node.Name != node {
		writeJSON(w, http.StatusBadRequest, newStatus(http.StatusBadRequest, api.StatusReasonBadRequest,
			fmt.Sprintf("node.metadata.name: %q does not match the node %q in the URL", rep.Node.Name, node)).status)
		return
	}
	for i, p := range rep.Pods {
		if p.Name == "" || p.Namespace == "" {
			writeJSON(w, http.StatusBadRequest, newStatus(http.StatusBadRequest, api.StatusReasonBadRequest,
				fmt.Sprintf("pods[%d].metadata: a Pod's usage needs its name and namespace", i)).status)
			return
		}
	}
	if user != userAdmin {
		rep.Pods = s.boundTo(r.Context(), node, rep.Pods)
	}
	s.metrics.add(rep)
	w.WriteHeader(http.StatusNoContent)
}

// boundTo keeps the usage of the Pods that are bound to node (the same UID, spec.nodeName the
// node), with their labels as stored: a node reports only what it runs, and cannot make its
// numbers count for another namespace's selectors.
func (s *Server) boundTo(ctx context.Context, node string, pods []api.PodMetrics) []api.PodMetrics {
	res := api.LookupKind("v1", "Pod")
	out := pods[:0]
	for _, pm := range pods {
		kv, err := s.store.Get(ctx, storageKey(res, pm.Namespace, pm.Name))
		if err != nil {
			continue
		}
		obj, err := decodeStored(res, kv.Value, kv.ModRev)
		if err != nil {
			continue
		}
		pod := obj.(*api.Pod)
		if pod.Spec.NodeName != node || (pm.UID != "" && pm.UID != pod.UID) {
			continue
		}
		pm.UID, pm.Labels = pod.UID, pod.Labels
		out = append(out, pm)
	}
	return out
}
