package images_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/minik8s/minik8s/images"
)

func needBusybox(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(images.DefaultBusybox); err != nil {
		t.Skipf("%s is missing: install busybox-static (apt-get install busybox-static) to build the images", images.DefaultBusybox)
	}
}

// build runs Build into a new folder, with busybox standing in for the minik8s binary (any
// static executable will do).
func build(t *testing.T) string {
	t.Helper()
	out := t.TempDir()
	var progress bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := images.Build(ctx, images.Options{OutDir: out, Minik8sBinary: images.DefaultBusybox, Progress: &progress})
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	for _, n := range images.Names {
		if !strings.Contains(progress.String(), n+":latest sha256:") {
			t.Errorf("progress does not mention %s:\n%s", n, progress.String())
		}
	}
	return out
}

// tree is an image's flattened filesystem: path → header, and the contents of regular files.
type tree struct {
	headers map[string]*tar.Header
	data    map[string][]byte
}

func flatten(t *testing.T, img v1.Image) tree {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	out := tree{map[string]*tar.Header{}, map[string][]byte{}}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(h.Name, "/")
		out.headers[name] = h
		if h.Typeflag == tar.TypeReg {
			out.data[name], _ = io.ReadAll(tr)
		}
	}
}

func open(t *testing.T, path string) images.ArchivedImage {
	t.Helper()
	a, err := images.OpenArchive(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if len(a.Images) != 1 || a.Images[0].Image == nil {
		t.Fatalf("%s: %d entries, want one image", path, len(a.Images))
	}
	return a.Images[0]
}

func TestBuild(t *testing.T) {
	needBusybox(t)
	out := build(t)
	busybox, _ := os.ReadFile(images.DefaultBusybox)

	for _, tc := range []struct {
		name       string
		entrypoint []string
		cmd        []string
		layers     int
		binary     string
	}{
		{"busybox", nil, []string{"sh"}, 1, ""},
		{"echo", []string{"/echo"}, nil, 2, "echo"},
		{"stress", []string{"/stress"}, nil, 2, "stress"},
		{"pause", []string{"/pause"}, nil, 1, "pause"},
		{"minik8s", []string{"/minik8s"}, nil, 2, "minik8s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(out, tc.name+".tar")
			entry := open(t, path)
			if entry.Name != tc.name+":latest" {
				t.Errorf("name %q, want %s:latest", entry.Name, tc.name)
			}
			img := entry.Image
			cf, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(cf.Config.Entrypoint, " ") != strings.Join(tc.entrypoint, " ") || strings.Join(cf.Config.Cmd, " ") != strings.Join(tc.cmd, " ") {
				t.Errorf("entrypoint %q cmd %q, want %q %q", cf.Config.Entrypoint, cf.Config.Cmd, tc.entrypoint, tc.cmd)
			}
			if cf.OS != "linux" || cf.Architecture == "" || !cf.Created.Time.Equal(time.Unix(0, 0)) {
				t.Errorf("config: os %q arch %q created %v", cf.OS, cf.Architecture, cf.Created)
			}
			if layers, _ := img.Layers(); len(layers) != tc.layers {
				t.Errorf("%d layers, want %d", len(layers), tc.layers)
			}

			// go-containerregistry's tarball reads the same archive through manifest.json.
			docker, err := tarball.ImageFromPath(path, nil)
			if err != nil {
				t.Fatalf("tarball: %v", err)
			}
			dc, _ := docker.ConfigName()
			oc, _ := img.ConfigName()
			if dc != oc {
				t.Errorf("manifest.json's config %s, index.json's %s", dc, oc)
			}

			fs := flatten(t, img)
			if tc.binary != "" {
				h := fs.headers[tc.binary]
				if h == nil || h.Mode&0o111 == 0 || len(fs.data[tc.binary]) == 0 {
					t.Errorf("/%s missing or not executable: %+v", tc.binary, h)
				}
			}
			if tc.name == "pause" {
				if len(fs.headers) != 1 {
					t.Errorf("pause has more than /pause: %d entries", len(fs.headers))
				}
				return
			}
			if tc.name == "minik8s" && !bytes.Equal(fs.data["minik8s"], busybox) {
				t.Error("/minik8s is not the binary given")
			}
			if !bytes.Equal(fs.data["bin/busybox"], busybox) {
				t.Error("/bin/busybox is not the machine's busybox")
			}
			for _, applet := range []string{"sh", "ls", "sleep", "cat", "wget", "nc", "hostname", "kill", "ps", "grep", "seq"} {
				if h := fs.headers["bin/"+applet]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "busybox" {
					t.Errorf("/bin/%s is not a link to busybox: %+v", applet, h)
				}
			}
			if h := fs.headers["tmp"]; h == nil || h.Typeflag != tar.TypeDir || h.Mode&0o7777 != 0o1777 {
				t.Errorf("/tmp: %+v", h)
			}
			if !strings.Contains(string(fs.data["etc/passwd"]), "nobody:x:65534:65534:") || !strings.Contains(string(fs.data["etc/group"]), "root:x:0:") {
				t.Errorf("/etc/passwd or /etc/group: %q %q", fs.data["etc/passwd"], fs.data["etc/group"])
			}
			if !strings.HasPrefix(strings.Join(cf.Config.Env, " "), "PATH=") {
				t.Errorf("env %q", cf.Config.Env)
			}
		})
	}

	// A second build gives the same bytes.
	again := build(t)
	for _, n := range images.Names {
		if a, b := sum(t, filepath.Join(out, n+".tar")), sum(t, filepath.Join(again, n+".tar")); a != b {
			t.Errorf("%s.tar differs between two builds: %s %s", n, a, b)
		}
	}

	t.Run("programs", func(t *testing.T) { testPrograms(t, out) })
}

func sum(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	return string(h[:])
}

// testPrograms runs the image's programs on this machine, as their containers would.
func testPrograms(t *testing.T, out string) {
	dir := t.TempDir()
	bin := func(image, name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, flatten(t, open(t, filepath.Join(out, image+".tar")).Image).data[name], 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}

	// echo answers with its pod name, an address, the path and the host.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	echo := exec.Command(bin("echo", "echo"))
	echo.Env = []string{"PORT=" + strconv.Itoa(port), "POD_NAME=web-1"}
	var echoOut bytes.Buffer
	echo.Stdout = &echoOut
	if err := echo.Start(); err != nil {
		t.Fatal(err)
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	var resp *http.Response
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		req, _ := http.NewRequest("GET", base+"/some/path", nil)
		req.Host = "web.default.svc"
		if resp, err = http.DefaultClient.Do(req); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		echo.Process.Kill()
		t.Fatalf("echo did not answer: %v", err)
	}
	var got map[string]string
	err = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if err != nil || got["pod"] != "web-1" || got["path"] != "/some/path" || got["host"] != "web.default.svc" || len(got) != 4 {
		t.Errorf("echo answered %v (%v)", got, err)
	}
	if ip := net.ParseIP(got["ip"]); got["ip"] != "" && (ip == nil || ip.To4() == nil || ip.IsLoopback()) {
		t.Errorf("echo's ip %q is not a non-loopback IPv4 address", got["ip"])
	}
	if resp, err := http.Get(base + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("/healthz: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	echo.Process.Signal(syscall.SIGTERM)
	if err := echo.Wait(); err != nil {
		t.Errorf("echo on SIGTERM: %v", err)
	}
	if !strings.Contains(echoOut.String(), "GET /some/path") {
		t.Errorf("echo logged %q", echoOut.String())
	}

	// stress burns and holds, then stops by itself.
	stress := exec.Command(bin("stress", "stress"), "--cpu", "100m", "--memory", "4Mi", "--timeout", "300ms")
	if b, err := stress.CombinedOutput(); err != nil || !strings.Contains(string(b), "burning 100m CPU on 1 goroutine(s), holding 4194304 bytes") {
		t.Errorf("stress: %v\n%s", err, b)
	}
	if b, err := exec.Command(filepath.Join(dir, "stress"), "--cpu", "lots").CombinedOutput(); err == nil || !strings.Contains(string(b), `--cpu "lots"`) {
		t.Errorf("stress with a bad --cpu: %v %s", err, b)
	}

	// pause sleeps until SIGTERM and then exits 0.
	pause := exec.Command(bin("pause", "pause"))
	if err := pause.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- pause.Wait() }()
	select {
	case err := <-done:
		t.Fatalf("pause exited by itself: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	pause.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("pause on SIGTERM: %v", err)
		}
	case <-time.After(5 * time.Second):
		pause.Process.Kill()
		t.Error("pause ignored SIGTERM")
	}
}

func TestBuildErrors(t *testing.T) {
	ctx := context.Background()
	err := images.Build(ctx, images.Options{OutDir: t.TempDir(), Busybox: "/nonexistent/busybox"})
	if err == nil || !strings.Contains(err.Error(), "install busybox-static") {
		t.Errorf("missing busybox: %v", err)
	}
	script := filepath.Join(t.TempDir(), "minik8s")
	os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755)
	err = images.Build(ctx, images.Options{OutDir: t.TempDir(), Minik8sBinary: script})
	if _, statErr := os.Stat(images.DefaultBusybox); statErr == nil && (err == nil || !strings.Contains(err.Error(), "not an executable")) {
		t.Errorf("a script as the minik8s binary: %v", err)
	}
}

// TestArchiveRoundTrip writes an archive and reads it back both ways, and reads a plain
// `docker save` archive too.
func TestArchiveRoundTrip(t *testing.T) {
	img, err := random.Image(1024, 2)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "app.tar")
	if err := images.WriteArchiveFile(p, "team/app:v1", img); err != nil {
		t.Fatal(err)
	}
	entry := open(t, p)
	want, _ := img.Digest()
	if got, _ := entry.Digest(); entry.Name != "team/app:v1" || got != want {
		t.Fatalf("read back %q %s, wrote team/app:v1 %s", entry.Name, got, want)
	}
	var index struct {
		Manifests []struct{ Annotations map[string]string }
	}
	if err := json.Unmarshal(readEntry(t, p, "index.json"), &index); err != nil || len(index.Manifests) != 1 ||
		index.Manifests[0].Annotations[images.AnnotationImageName] != "docker.io/team/app:v1" ||
		index.Manifests[0].Annotations[images.AnnotationRefName] != "v1" {
		t.Fatalf("index.json: %+v %v", index, err)
	}

	// The same, gzip-compressed.
	raw, _ := os.ReadFile(p)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	os.WriteFile(p+".gz", gz.Bytes(), 0o644)
	if entry := open(t, p+".gz"); entry.Name != "team/app:v1" {
		t.Fatalf("gzip-compressed archive read as %q", entry.Name)
	}

	old := filepath.Join(dir, "old.tar")
	if err := tarball.MultiWriteToFile(old, map[name.Tag]v1.Image{mustTag(t, "busybox:1.35"): img}); err != nil {
		t.Fatal(err)
	}
	entry = open(t, old)
	if c1, _ := entry.Image.ConfigName(); entry.Name != "busybox:1.35" || c1 != mustConfig(t, img) {
		t.Fatalf("docker archive read as %q %s", entry.Name, c1)
	}

	junk := filepath.Join(dir, "junk.tar")
	os.WriteFile(junk, []byte{}, 0o644)
	if _, err := images.OpenArchive(junk); !errors.Is(err, images.ErrNotArchive) {
		t.Fatalf("an empty file: %v", err)
	}
	if err := images.WriteArchive(io.Discard, "app@sha256:"+strings.Repeat("a", 64), img); err == nil {
		t.Fatal("an archive named by digest was written")
	}
}

func readEntry(t *testing.T, archive, entry string) []byte {
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s has no %s: %v", archive, entry, err)
		}
		if h.Name == entry {
			b, _ := io.ReadAll(tr)
			return b
		}
	}
}

func mustTag(t *testing.T, s string) name.Tag {
	tag, err := name.NewTag(s)
	if err != nil {
		t.Fatal(err)
	}
	return tag
}

func mustConfig(t *testing.T, img v1.Image) v1.Hash {
	h, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return h
}
