package apiserver

import (
	"strings"
)

// requestInfo is what a URL path names, parsed the way Kubernetes' RequestInfoFactory does.
type requestInfo struct {
	Group, Version string
	Namespace      string
	Resource       string
	Name           string
	Subresource    string
	// Discovery is set for /api, /api/v1, /apis, /apis/{group}, /apis/{group}/{version}.
	Discovery bool
}

// namespaceSubresources are the subresources of a Namespace itself, which otherwise look like
// "a resource inside the namespace".
var namespaceSubresources = map[string]bool{"status": true, "finalize": true}

// parsePath returns ok=false for paths that are not API paths at all.
func parsePath(path string) (requestInfo, bool) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	var ri requestInfo
	switch {
	case len(parts) >= 1 && parts[0] == "api":
		if len(parts) < 2 {
			return requestInfo{Discovery: true}, true
		}
		ri.Version = parts[1]
		parts = parts[2:]
	case len(parts) >= 1 && parts[0] == "apis":
		if len(parts) < 3 {
			ri.Discovery = true
			if len(parts) == 2 {
				ri.Group = parts[1]
			}
			return ri, true
		}
		ri.Group, ri.Version = parts[1], parts[2]
		parts = parts[3:]
	default:
		return ri, false
	}
	if len(parts) == 0 {
		ri.Discovery = true
		return ri, true
	}
	if parts[0] == "namespaces" && len(parts) >= 3 && !namespaceSubresources[parts[2]] {
		ri.Namespace = parts[1]
		parts = parts[2:]
	}
	ri.Resource = parts[0]
	if len(parts) > 1 {
		ri.Name = parts[1]
	}
	if len(parts) > 2 {
		ri.Subresource = parts[2]
	}
	if len(parts) > 3 {
		return ri, false
	}
	if ri.Resource == "namespaces" && ri.Name != "" {
		// /api/v1/namespaces/{name}[/status] is the Namespace object itself.
		ri.Namespace = ""
	}
	return ri, true
}
