package apiserver

import (
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"

	"go.uber.org/zap"

	"github.com/minik8s/minik8s/api"
)

// Version is the server's version, set at build time with -ldflags "-X ...apiserver.Version=".
var Version = "v0.1.0-dev"

func versionInfo() map[string]string {
	return map[string]string{
		"major": "1", "minor": "28", "gitVersion": Version, "goVersion": runtime.Version(),
		"compiler": runtime.Compiler, "platform": runtime.GOOS + "/" + runtime.GOARCH,
	}
}

type apiResource struct {
	Name         string   `json:"name"`
	SingularName string   `json:"singularName"`
	Namespaced   bool     `json:"namespaced"`
	Kind         string   `json:"kind"`
	Verbs        []string `json:"verbs"`
	ShortNames   []string `json:"shortNames,omitempty"`
}

type groupVersion struct {
	GroupVersion string `json:"groupVersion"`
	Version      string `json:"version"`
}

type apiGroup struct {
	Name             string         `json:"name"`
	Versions         []groupVersion `json:"versions"`
	PreferredVersion groupVersion   `json:"preferredVersion"`
}

// serveDiscovery answers /api, /apis, /api/v1, /apis/{group}[/{version}] so that Kubernetes
// clients (kubectl) find the kinds.
func (s *Server) serveDiscovery(w http.ResponseWriter, r *http.Request, ri requestInfo) {
	p := r.URL.Path
	switch {
	case p == "/api" || p == "/api/":
		writeJSON(w, http.StatusOK, map[string]any{
			"kind": "APIVersions", "versions": []string{"v1"},
			"serverAddressByClientCIDRs": []map[string]string{{"clientCIDR": "0.0.0.0/0", "serverAddress": s.ln.Addr().String()}},
		})
		return
	case p == "/apis" || p == "/apis/":
		writeJSON(w, http.StatusOK, map[string]any{"kind": "APIGroupList", "apiVersion": "v1", "groups": s.groups()})
		return
	case ri.Version == "": // /apis/{group}
		for _, g := range s.groups() {
			if g.Name == ri.Group {
				writeJSON(w, http.StatusOK, map[string]any{"kind": "APIGroup", "apiVersion": "v1", "name": g.Name,
					"versions": g.Versions, "preferredVersion": g.PreferredVersion})
				return
			}
		}
	default:
		var list []apiResource
		for _, res := range api.Resources() {
			if res.Group != ri.Group || res.Version != ri.Version {
				continue
			}
			list = append(list, apiResource{Name: res.Name, SingularName: res.Singular, Namespaced: res.Namespaced, Kind: res.Kind,
				Verbs: []string{"create", "delete", "get", "list", "patch", "update", "watch"}, ShortNames: res.ShortNames})
			if res.HasStatus {
				list = append(list, apiResource{Name: res.Name + "/status", Namespaced: res.Namespaced, Kind: res.Kind,
					Verbs: []string{"get", "patch", "update"}})
			}
		}
		if list != nil {
			gv := ri.Version
			if ri.Group != "" {
				gv = ri.Group + "/" + ri.Version
			}
			writeJSON(w, http.StatusOK, map[string]any{"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": list})
			return
		}
	}
	writeJSON(w, http.StatusNotFound, newStatus(http.StatusNotFound, api.StatusReasonNotFound, "the server could not find the requested resource").status)
}

func (s *Server) groups() []apiGroup {
	var out []apiGroup
	for _, res := range api.Resources() {
		if res.Group == "" || slices.ContainsFunc(out, func(g apiGroup) bool { return g.Name == res.Group }) {
			continue
		}
		gv := groupVersion{GroupVersion: res.Group + "/" + res.Version, Version: res.Version}
		out = append(out, apiGroup{Name: res.Group, Versions: []groupVersion{gv}, PreferredVersion: gv})
	}
	// The usage the kubelets report (metrics.go), as metrics-server's group, so that clients
	// that look for it (kubectl top) find it.
	mgv := groupVersion{GroupVersion: api.GroupMetrics + "/" + api.MetricsVersion, Version: api.MetricsVersion}
	out = append(out, apiGroup{Name: api.GroupMetrics, Versions: []groupVersion{mgv}, PreferredVersion: mgv})
	return out
}

// serveOpenAPI answers /openapi/v2 with an OpenAPI document that has no definitions. kubectl
// downloads it (as protobuf) to validate manifests on the client; with no schema for a kind it
// leaves validation to the server, which does it strictly.
func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	accept := r.Header.Get("Accept")
	if strings.Contains(accept, "protobuf") {
		w.Header().Set("Content-Type", "application/octet-stream")
		// A gnostic openapi_v2.Document with only field 1 (swagger) = "2.0", and field 2 (info)
		// holding title (1) "minik8s" and version (2) "v1".
		info := append([]byte{0x0a, 7}, "minik8s"...)
		info = append(info, 0x12, 2, 'v', '1')
		doc := append([]byte{0x0a, 3}, "2.0"...)
		doc = append(doc, 0x12, byte(len(info)))
		doc = append(doc, info...)
		_, _ = w.Write(doc)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"swagger": "2.0", "info": map[string]string{"title": "minik8s", "version": "v1"}, "paths": map[string]any{}})
}

func parseURL(s string) ([]url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	return []url.URL{*u}, nil
}

func nopZap() *zap.Logger { return zap.NewNop() }
