package registry

import (
	"errors"
	"fmt"
	"strings"

	"github.com/distribution/reference"
)

// ErrNotInCluster means an image name points at a registry other than the cluster's (a host
// with a port, such as myregistry:5000/app): the cluster's registry cannot hold it, and nothing
// is fetched from outside the cluster.
var ErrNotInCluster = errors.New("the image is on a registry outside the cluster")

// dockerHub is the domain that names without a registry host belong to.
const dockerHub = "docker.io"

// HostPath returns the URL path under which the cluster's registry serves the repositories of
// the registry domain, and whether it serves them at all. Docker Hub names (busybox,
// team/app) and names on the cluster's registry itself (clusterHost, its host:port) are at /v2;
// another registry's names are kept with that registry's host in front of their path, at
// /v2/DOMAIN (quay.io/team/app is the repository quay.io/team/app). A domain with a port other
// than clusterHost cannot be a repository path component, so it is not served.
//
// It is the Path of a containerd RegistryHost that pulls domain's images from the cluster.
func HostPath(domain, clusterHost string) (string, bool) {
	switch {
	case domain == dockerHub || domain == "index.docker.io" || (clusterHost != "" && domain == clusterHost):
		return "/v2", true
	case domain == "" || strings.ContainsAny(domain, ":[]") || strings.ToLower(domain) != domain:
		return "", false
	}
	return "/v2/" + domain, true
}

// Repository returns the repository and the reference (a tag, "latest" when the name has none,
// or a digest when it has one) under which the cluster's registry keeps the image named image,
// by HostPath's rule: "busybox:latest" is library/busybox and latest, "team/app:v1" is team/app
// and v1, "quay.io/team/app" is quay.io/team/app and latest, clusterHost/app:v2 is app and v2.
// Names on other registries with a port give ErrNotInCluster.
func Repository(image, clusterHost string) (repo, ref string, err error) {
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return "", "", fmt.Errorf("image %q: %w", image, err)
	}
	domain, path := reference.Domain(named), reference.Path(named)
	prefix, ok := HostPath(domain, clusterHost)
	if !ok {
		return "", "", fmt.Errorf("image %q: %w", image, ErrNotInCluster)
	}
	repo = path
	if prefix != "/v2" {
		repo = domain + "/" + path
	}
	ref = "latest"
	if t, ok := named.(reference.Tagged); ok {
		ref = t.Tag()
	}
	if d, ok := named.(reference.Digested); ok {
		ref = d.Digest().String()
	}
	return repo, ref, nil
}

// DisplayName is the short name people write for a repository of the cluster's registry, the
// inverse of Repository: library/busybox is busybox, team/app and quay.io/team/app stay as they
// are, and a one-part repository (pushed as clusterHost/app) is clusterHost/app.
func DisplayName(repo, clusterHost string) string {
	if !strings.Contains(repo, "/") && clusterHost != "" {
		return clusterHost + "/" + repo
	}
	named, err := reference.ParseNormalizedNamed(repo)
	if err != nil {
		return repo
	}
	return reference.FamiliarName(named)
}
