package registry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/containerd/containerd/remotes/docker"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/minik8s/minik8s/registry"
)

// serve starts a registry on dir behind a plain HTTP test server (go-containerregistry speaks
// plain HTTP to 127.0.0.1) and returns its host:port.
func serve(t *testing.T, dir string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h, err := registry.NewHandler(ctx, dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	stop := func() { srv.Close(); cancel() }
	t.Cleanup(stop)
	return strings.TrimPrefix(srv.URL, "http://"), stop
}

func pull(t *testing.T, ref string) v1.Image {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(r)
	if err != nil {
		t.Fatalf("pull %s: %v", ref, err)
	}
	return img
}

// sameImage checks that got has want's manifest and every one of its layers, byte for byte.
func sameImage(t *testing.T, got, want v1.Image) {
	t.Helper()
	gd, _ := got.Digest()
	wd, _ := want.Digest()
	if gd != wd {
		t.Fatalf("pulled digest %s, pushed %s", gd, wd)
	}
	layers, err := got.Layers()
	if err != nil {
		t.Fatal(err)
	}
	wantLayers, _ := want.Layers()
	if len(layers) != len(wantLayers) {
		t.Fatalf("pulled %d layers, pushed %d", len(layers), len(wantLayers))
	}
	for i, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		ws, _ := wantLayers[i].Size()
		if err != nil || n != ws {
			t.Fatalf("layer %d: read %d bytes of %d: %v", i, n, ws, err)
		}
	}
}

func TestPushPullSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	host, stop := serve(t, dir)

	img, err := random.Image(4096, 3)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(host + "/library/busybox:latest")
	if err := remote.Write(ref, img); err != nil {
		t.Fatalf("push: %v", err)
	}
	sameImage(t, pull(t, host+"/library/busybox:latest"), img)

	other, _ := random.Image(1024, 1)
	ref2, _ := name.ParseReference(host + "/quay.io/team/app:v1")
	if err := remote.Write(ref2, other); err != nil {
		t.Fatalf("push a second repository: %v", err)
	}

	// A new handler on the same directory (a restarted server) has everything.
	stop()
	host, _ = serve(t, dir)
	sameImage(t, pull(t, host+"/library/busybox:latest"), img)
	d, _ := img.Digest()
	sameImage(t, pull(t, host+"/library/busybox@"+d.String()), img)

	reg, _ := name.NewRegistry(host)
	repos, err := remote.Catalog(context.Background(), reg)
	if err != nil || strings.Join(repos, ",") != "library/busybox,quay.io/team/app" {
		t.Fatalf("catalog after restart: %v %v", repos, err)
	}
	repo, _ := name.NewRepository(host + "/quay.io/team/app")
	tags, err := remote.List(repo)
	if err != nil || strings.Join(tags, ",") != "v1" {
		t.Fatalf("tags: %v %v", tags, err)
	}

	// A missing image is the registry's 404 with its error code, not a 500.
	resp, err := http.Get("http://" + host + "/v2/library/nope/manifests/latest")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Errors []struct{ Code string } }
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusNotFound || len(body.Errors) == 0 || (body.Errors[0].Code != "NAME_UNKNOWN" && body.Errors[0].Code != "MANIFEST_UNKNOWN") {
		t.Fatalf("missing repository: %d %+v", resp.StatusCode, body)
	}
}

func TestRepository(t *testing.T) {
	const cluster = "198.18.0.1:6443"
	for _, tc := range []struct {
		image, repo, ref string
		err              error
	}{
		{"busybox", "library/busybox", "latest", nil},
		{"busybox:1.35", "library/busybox", "1.35", nil},
		{"docker.io/library/busybox:latest", "library/busybox", "latest", nil},
		{"team/app:v1", "team/app", "v1", nil},
		{"quay.io/team/app", "quay.io/team/app", "latest", nil},
		{"198.18.0.1:6443/app:v2", "app", "v2", nil},
		{"echo@sha256:" + strings.Repeat("a", 64), "library/echo", "sha256:" + strings.Repeat("a", 64), nil},
		{"myregistry:5000/app", "", "", registry.ErrNotInCluster},
	} {
		repo, ref, err := registry.Repository(tc.image, cluster)
		if repo != tc.repo || ref != tc.ref || !errors.Is(err, tc.err) {
			t.Errorf("Repository(%q) = %q, %q, %v; want %q, %q, %v", tc.image, repo, ref, err, tc.repo, tc.ref, tc.err)
		}
	}
	if _, _, err := registry.Repository("Bad Name", cluster); err == nil {
		t.Error("an invalid name was accepted")
	}
	for repo, want := range map[string]string{"library/busybox": "busybox", "team/app": "team/app", "quay.io/team/app": "quay.io/team/app", "app": cluster + "/app"} {
		if got := registry.DisplayName(repo, cluster); got != want {
			t.Errorf("DisplayName(%q) = %q, want %q", repo, got, want)
		}
	}
}

// TestContainerdResolver pulls through containerd's own resolver, as a kubelet does, from a TLS
// registry that wants a bearer token.
func TestContainerdResolver(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h, err := registry.NewHandler(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	const token = "s3cret"
	var paths []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		paths = append(paths, r.Method+" "+r.URL.Path)
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "https://")
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})

	// Push with go-containerregistry, https forced (it speaks http to 127.0.0.1 otherwise).
	img, _ := random.Image(512, 1)
	tr := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.URL.Scheme = "https"
		r.Header.Set("Authorization", "Bearer "+token)
		return srv.Client().Transport.RoundTrip(r)
	})
	ref, _ := name.ParseReference(host + "/library/busybox:latest")
	if err := remote.Write(ref, img, remote.WithTransport(tr)); err != nil {
		t.Fatalf("push: %v", err)
	}

	opts, err := registry.ResolverOptions(host, ca, token)
	if err != nil {
		t.Fatal(err)
	}
	pullRef, err := registry.PullRef("busybox")
	if err != nil || pullRef != "docker.io/library/busybox:latest" {
		t.Fatalf("PullRef(busybox) = %q, %v", pullRef, err)
	}
	resolver := docker.NewResolver(opts)
	_, desc, err := resolver.Resolve(ctx, pullRef)
	if err != nil {
		t.Fatalf("resolve %s: %v (requests: %v)", pullRef, err, paths)
	}
	want, _ := img.Digest()
	if desc.Digest.String() != want.String() {
		t.Fatalf("resolved %s, pushed %s", desc.Digest, want)
	}
	fetcher, err := resolver.Fetcher(ctx, pullRef)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := fetcher.Fetch(ctx, desc)
	if err != nil {
		t.Fatalf("fetch manifest: %v", err)
	}
	raw, _ := io.ReadAll(rc)
	rc.Close()
	wantRaw, _ := img.RawManifest()
	if string(raw) != string(wantRaw) {
		t.Fatalf("fetched manifest differs:\n%s\n%s", raw, wantRaw)
	}

	if _, _, err := resolver.Resolve(ctx, "myregistry:5000/app:latest"); !errors.Is(err, registry.ErrNotInCluster) {
		t.Fatalf("a name outside the cluster: %v", err)
	}
	if _, err := registry.ResolverOptions(host, []byte("not a cert"), token); err == nil {
		t.Fatal("a bad CA was accepted")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestLogs checks that distribution's logs reach the slog logger given, requests at debug level.
func TestLogs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h, err := registry.NewHandler(ctx, t.TempDir(), log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !regexp.MustCompile(`level=DEBUG msg="response completed" component=registry .*http.request.uri=/v2/`).MatchString(buf.String()) {
		t.Fatalf("no debug line for the request in:\n%s", buf.String())
	}
}
