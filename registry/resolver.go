package registry

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/containerd/containerd/remotes/docker"
	"github.com/distribution/reference"
)

// PullRef is the reference to give containerd's Pull (and to name the image in containerd) for
// the image a Pod names: Docker's normalized form, as `ctr` and the CRI plugin name images.
// "busybox" is docker.io/library/busybox:latest; a name with a digest keeps only the digest.
func PullRef(image string) (string, error) {
	named, err := reference.ParseDockerRef(image)
	if err != nil {
		return "", fmt.Errorf("image %q: %w", image, err)
	}
	return named.String(), nil
}

// ResolverOptions configures containerd's resolver to pull every image from the cluster's
// registry at host (the API server's host:port), over HTTPS checked against the cluster CA
// caPEM, with the bearer token. Docker Hub names are looked up at /v2/..., other registries'
// names under /v2/DOMAIN/... (see HostPath); a name on a registry the cluster cannot hold fails
// with ErrNotInCluster, and nothing is ever fetched from outside the cluster.
//
// Use it as docker.NewResolver(opts) with a ref from PullRef:
//
//	opts, err := registry.ResolverOptions("198.18.0.1:6443", ca, token)
//	ref, err := registry.PullRef(pod.Spec.Containers[i].Image) // docker.io/library/busybox:latest
//	img, err := client.Pull(ctx, ref, containerd.WithResolver(docker.NewResolver(opts)), containerd.WithPullUnpack)
func ResolverOptions(host string, caPEM []byte, token string) (docker.ResolverOptions, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return docker.ResolverOptions{}, errors.New("registry resolver: the CA data holds no PEM certificate")
	}
	client := &http.Client{Transport: &http.Transport{
		Proxy:                 nil, // never through a proxy: the registry is in the cluster
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: time.Minute,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
	}}
	header := http.Header{}
	if token != "" {
		header.Set("Authorization", "Bearer "+token)
	}
	return docker.ResolverOptions{
		Hosts: func(domain string) ([]docker.RegistryHost, error) {
			path, ok := HostPath(domain, host)
			if !ok {
				return nil, fmt.Errorf("registry %s: %w", domain, ErrNotInCluster)
			}
			return []docker.RegistryHost{{
				Client:       client,
				Host:         host,
				Scheme:       "https",
				Path:         path,
				Capabilities: docker.HostCapabilityPull | docker.HostCapabilityResolve,
				Header:       header,
			}}, nil
		},
	}, nil
}
