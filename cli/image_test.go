package cli_test

import (
	"bytes"
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/minik8s/minik8s/cli"
	"github.com/minik8s/minik8s/client"
	"github.com/minik8s/minik8s/images"
	"github.com/minik8s/minik8s/registry"
)

// registryServer serves the registry over TLS behind a bearer-token check, as the API server
// does, and returns a client config for it.
func registryServer(t *testing.T, token string) (configPath string, srv *httptest.Server) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h, err := registry.NewHandler(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	configPath = filepath.Join(t.TempDir(), "config")
	if err := client.WriteConfig(configPath, &client.Config{Server: srv.URL, CAData: ca, Token: token}); err != nil {
		t.Fatal(err)
	}
	return configPath, srv
}

func runImage(t *testing.T, configPath string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	o := &cli.Options{ConfigPath: configPath, In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	cmd := cli.NewImageCommand(o)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

func digestOf(t *testing.T, img v1.Image) string {
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

func TestImagePushAndList(t *testing.T) {
	configPath, _ := registryServer(t, "admin-token")
	dir := t.TempDir()

	out, errOut, err := runImage(t, configPath, "list")
	if err != nil || out != "" || errOut != "No images found in the cluster's registry.\n" {
		t.Fatalf("list of an empty registry: %v %q %q", err, out, errOut)
	}

	busybox, _ := random.Image(200_000, 2)
	busyboxTar := filepath.Join(dir, "busybox.tar")
	if err := images.WriteArchiveFile(busyboxTar, "busybox:latest", busybox); err != nil {
		t.Fatal(err)
	}
	out, errOut, err = runImage(t, configPath, "push", busyboxTar)
	if err != nil {
		t.Fatalf("push: %v\n%s", err, errOut)
	}
	if want := "pushed busybox:latest (" + digestOf(t, busybox) + ")\n"; out != want {
		t.Fatalf("push printed %q, want %q", out, want)
	}
	if !regexp.MustCompile(`(?m)^pushing busybox:latest \[=+\] (\d+\.\d KiB) / (\d+\.\d KiB)$`).MatchString(errOut) {
		t.Fatalf("push showed no finished progress bar:\n%s", errOut)
	}

	// A docker archive without a name needs --name; with it, the image goes where it says.
	app, _ := random.Image(1000, 1)
	appTar := filepath.Join(dir, "app.tar")
	d, _ := app.Digest()
	ref, _ := name.NewDigest("example/app@" + d.String())
	if err := tarball.MultiRefWriteToFile(appTar, map[name.Reference]v1.Image{ref: app}); err != nil {
		t.Fatal(err)
	}
	_, _, err = runImage(t, configPath, "push", appTar)
	if err == nil || !strings.Contains(err.Error(), "records no image name: pass --name NAME:TAG") {
		t.Fatalf("push of an unnamed archive: %v", err)
	}
	out, _, err = runImage(t, configPath, "push", appTar, "--name", "team/app:v2")
	if err != nil || !strings.HasPrefix(out, "pushed team/app:v2 (sha256:") {
		t.Fatalf("push --name: %v %q", err, out)
	}
	// Pushing again sends nothing new and still works.
	if out, _, err = runImage(t, configPath, "push", busyboxTar, "--name", "docker.io/library/busybox:1.35"); err != nil || !strings.HasPrefix(out, "pushed busybox:1.35 (") {
		t.Fatalf("push again: %v %q", err, out)
	}

	out, _, err = runImage(t, configPath, "list")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	want := []*regexp.Regexp{
		regexp.MustCompile(`^REPOSITORY\s+TAG\s+DIGEST$`),
		regexp.MustCompile(`^busybox\s+1\.35\s+` + digestOf(t, busybox) + `$`),
		regexp.MustCompile(`^busybox\s+latest\s+` + digestOf(t, busybox) + `$`),
		regexp.MustCompile(`^team/app\s+v2\s+sha256:[0-9a-f]{64}$`),
	}
	if len(lines) != len(want) {
		t.Fatalf("list:\n%s", out)
	}
	for i, re := range want {
		if !re.MatchString(lines[i]) {
			t.Fatalf("list line %d %q does not match %s:\n%s", i, lines[i], re, out)
		}
	}

	if _, _, err := runImage(t, configPath, "push", busyboxTar, "--name", "myregistry:5000/app:v1"); err == nil || !strings.Contains(err.Error(), "outside the cluster") {
		t.Fatalf("push to another registry: %v", err)
	}
	if _, _, err := runImage(t, configPath, "push", filepath.Join(dir, "missing.tar")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("push of a missing file: %v", err)
	}
}

func TestImageBadToken(t *testing.T) {
	configPath, srv := registryServer(t, "admin-token")
	bad := filepath.Join(t.TempDir(), "config")
	cfg, err := client.LoadConfig(configPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Token = "wrong"
	if err := client.WriteConfig(bad, cfg); err != nil {
		t.Fatal(err)
	}
	_, _, err = runImage(t, bad, "list")
	if err == nil || !strings.Contains(err.Error(), "refused the client config's token (401 Unauthorized)") {
		t.Fatalf("list with a bad token: %v", err)
	}
	img, _ := random.Image(100, 1)
	p := filepath.Join(t.TempDir(), "x.tar")
	if err := images.WriteArchiveFile(p, "x:latest", img); err != nil {
		t.Fatal(err)
	}
	_, _, err = runImage(t, bad, "push", p)
	if err == nil || !strings.Contains(err.Error(), "push x:latest to "+strings.TrimPrefix(srv.URL, "https://")) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("push with a bad token: %v", err)
	}
}
