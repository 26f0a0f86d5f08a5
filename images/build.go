// Package images builds the project's own container images from what is on the machine, with no
// registry to pull from: busybox (Debian's static busybox and its applets), echo (an HTTP server
// that says which pod answered), stress (a CPU and memory load), pause (the process that holds a
// pod's namespaces) and minik8s (the system image: the minik8s binary on busybox).
//
// Each image is written as an archive (see WriteArchive) that `minik8s image push` sends to the
// cluster's registry and `ctr images import` loads into containerd. Builds are reproducible: the
// same inputs and Go release give the same bytes, so the same digests.
package images

import (
	"bytes"
	"context"
	"debug/elf"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// DefaultBusybox is where Debian's busybox-static package puts busybox.
const DefaultBusybox = "/bin/busybox"

// Names are the images Build writes, each to OUTDIR/NAME.tar as NAME:latest.
var Names = []string{"busybox", "echo", "stress", "pause", "minik8s"}

// Options say where Build finds its inputs and puts the archives.
type Options struct {
	// OutDir is the folder the archives are written to (made if missing).
	OutDir string
	// Minik8sBinary is a static minik8s binary for the minik8s image; empty skips that image.
	Minik8sBinary string
	// Busybox is a static busybox binary (default DefaultBusybox).
	Busybox string
	// Progress, if set, gets one line per image written.
	Progress io.Writer
}

//go:embed echo/main.go stress/main.go pause/main.go
var programs embed.FS

// envPath is the PATH of the images with busybox.
const envPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Build writes every image's archive to opts.OutDir, replacing what is there. The Go programs
// (echo, stress, pause) are compiled from this package's sources by the `go` command on PATH,
// statically (CGO_ENABLED=0, -trimpath, no build ID), in a temporary module.
func Build(ctx context.Context, opts Options) error {
	if opts.Busybox == "" {
		opts.Busybox = DefaultBusybox
	}
	if opts.OutDir == "" {
		return errors.New("images: no output folder")
	}
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	busybox, err := readStatic(opts.Busybox, "install busybox-static (apt-get install busybox-static), or pass another static busybox")
	if err != nil {
		return err
	}
	var minik8s []byte
	if opts.Minik8sBinary != "" {
		if minik8s, err = readStatic(opts.Minik8sBinary, "build it with CGO_ENABLED=0 (make build)"); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return fmt.Errorf("images: %w", err)
	}

	tmp, err := os.MkdirTemp("", "minik8s-images-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bins, err := buildPrograms(ctx, tmp)
	if err != nil {
		return err
	}
	applets, err := busyboxApplets(ctx, opts.Busybox)
	if err != nil {
		return err
	}

	base, err := busyboxImage(busybox, applets)
	if err != nil {
		return err
	}
	withBinary := func(base v1.Image, file string, data []byte, entrypoint []string, ports ...string) (v1.Image, error) {
		return addBinary(base, file, data, v1.Config{Entrypoint: entrypoint, ExposedPorts: exposed(ports)})
	}
	type target struct {
		name  string
		build func() (v1.Image, error)
	}
	targets := []target{
		{"busybox", func() (v1.Image, error) { return base, nil }},
		{"echo", func() (v1.Image, error) { return withBinary(base, "echo", bins["echo"], []string{"/echo"}, "8080/tcp") }},
		{"stress", func() (v1.Image, error) { return withBinary(base, "stress", bins["stress"], []string{"/stress"}) }},
		{"pause", func() (v1.Image, error) {
			return withBinary(emptyImage(), "pause", bins["pause"], []string{"/pause"})
		}},
	}
	if minik8s != nil {
		targets = append(targets, target{"minik8s", func() (v1.Image, error) {
			return withBinary(base, "minik8s", minik8s, []string{"/minik8s"})
		}})
	} else {
		fmt.Fprintln(progress, "skipped minik8s:latest: no minik8s binary given")
	}
	for _, t := range targets {
		if err := ctx.Err(); err != nil {
			return err
		}
		img, err := t.build()
		if err != nil {
			return fmt.Errorf("image %s: %w", t.name, err)
		}
		out := filepath.Join(opts.OutDir, t.name+".tar")
		if err := WriteArchiveFile(out, t.name+":latest", img); err != nil {
			return fmt.Errorf("image %s: %w", t.name, err)
		}
		d, _ := img.Digest()
		fi, _ := os.Stat(out)
		fmt.Fprintf(progress, "wrote %s: %s:latest %s (%s)\n", out, t.name, d, HumanBytes(fi.Size()))
	}
	return nil
}

// readStatic reads a statically linked executable, or says what to do instead.
func readStatic(path, fix string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("images: %s not found: %s", path, fix)
	}
	if err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("images: %s is not an executable (%v): %s", path, err, fix)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return nil, fmt.Errorf("images: %s is dynamically linked and would not run in an image: %s", path, fix)
		}
	}
	if want := elfMachine[runtime.GOARCH]; want != 0 && f.Machine != want {
		return nil, fmt.Errorf("images: %s is for %s, not %s: %s", path, f.Machine, runtime.GOARCH, fix)
	}
	return data, nil
}

var elfMachine = map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "386": elf.EM_386, "arm": elf.EM_ARM, "riscv64": elf.EM_RISCV}

// buildPrograms compiles echo, stress and pause and returns their bytes by name.
func buildPrograms(ctx context.Context, tmp string) (map[string][]byte, error) {
	src, out := filepath.Join(tmp, "src"), filepath.Join(tmp, "bin")
	names := []string{"echo", "stress", "pause"}
	for _, n := range names {
		b, err := programs.ReadFile(n + "/main.go")
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Join(src, n), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(src, n, "main.go"), b, 0o644); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module minik8s.images\n\ngo 1.22\n"), 0o644); err != nil {
		return nil, err
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, errors.New("images: the go command is not on PATH; it builds the echo, stress and pause programs")
	}
	args := []string{"build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", out + string(filepath.Separator)}
	for _, n := range names {
		args = append(args, "./"+n)
	}
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = src
	cmd.Env = append(cleanEnv(os.Environ()), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH,
		"GOFLAGS=", "GOWORK=off", "GO111MODULE=on", "GOPROXY=off")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("images: go build %s: %v\n%s", strings.Join(names, " "), err, msg)
	}
	bins := map[string][]byte{}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(out, n))
		if err != nil {
			return nil, fmt.Errorf("images: %w", err)
		}
		bins[n] = b
	}
	return bins, nil
}

// cleanEnv drops the variables that would change how the programs are built.
func cleanEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "CGO_ENABLED", "GOOS", "GOARCH", "GOFLAGS", "GOWORK", "GO111MODULE", "GOPROXY", "GOEXPERIMENT", "GOAMD64", "GOARM64":
			continue
		}
		out = append(out, kv)
	}
	return out
}

// busyboxApplets asks busybox which applets it has.
func busyboxApplets(ctx context.Context, busybox string) ([]string, error) {
	out, err := exec.CommandContext(ctx, busybox, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("images: %s --list: %w", busybox, err)
	}
	var applets []string
	for _, a := range strings.Fields(string(out)) {
		if a != "busybox" && !strings.ContainsAny(a, "/.") {
			applets = append(applets, a)
		}
	}
	sort.Strings(applets)
	if len(applets) == 0 {
		return nil, fmt.Errorf("images: %s --list lists no applets", busybox)
	}
	return applets, nil
}

// emptyImage is an OCI image with no layers, for linux on this machine's architecture.
func emptyImage() v1.Image {
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cfg := &v1.ConfigFile{
		Created:      v1.Time{Time: epoch},
		OS:           "linux",
		Architecture: runtime.GOARCH,
		RootFS:       v1.RootFS{Type: "layers"},
	}
	img, _ = mutate.ConfigFile(img, cfg) // cannot fail: empty.Image has no layers to read
	return img
}

// busyboxImage is busybox:latest: busybox, a symlink in /bin for each applet, root and nobody,
// /tmp; sh as its command.
func busyboxImage(busybox []byte, applets []string) (v1.Image, error) {
	files := []file{
		{name: "bin", mode: 0o755, dir: true},
		{name: "dev", mode: 0o755, dir: true},
		{name: "etc", mode: 0o755, dir: true},
		{name: "home", mode: 0o755, dir: true},
		{name: "proc", mode: 0o555, dir: true},
		{name: "root", mode: 0o700, dir: true},
		{name: "sys", mode: 0o555, dir: true},
		{name: "tmp", mode: 0o1777, dir: true},
		{name: "usr/bin", mode: 0o755, dir: true},
		{name: "usr/sbin", mode: 0o755, dir: true},
		{name: "var", mode: 0o755, dir: true},
		{name: "bin/busybox", mode: 0o755, data: busybox},
		{name: "etc/passwd", mode: 0o644, data: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
		{name: "etc/group", mode: 0o644, data: []byte("root:x:0:\nnobody:x:65534:\n")},
	}
	for _, a := range applets {
		files = append(files, file{name: "bin/" + a, mode: 0o777, link: "busybox"})
	}
	layer, err := newLayer(files)
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(emptyImage(), mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History:   v1.History{Created: v1.Time{Time: epoch}, CreatedBy: fmt.Sprintf("minik8s images: busybox with %d applets", len(applets))},
	})
	if err != nil {
		return nil, err
	}
	return mutate.Config(img, v1.Config{Env: []string{envPath}, Cmd: []string{"sh"}})
}

// addBinary puts data at /NAME on base in a layer of its own, with cfg's entrypoint and ports
// (and base's environment; the base's command is dropped).
func addBinary(base v1.Image, name string, data []byte, cfg v1.Config) (v1.Image, error) {
	layer, err := newLayer([]file{{name: name, mode: 0o755, data: data}})
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History:   v1.History{Created: v1.Time{Time: epoch}, CreatedBy: "minik8s images: /" + name},
	})
	if err != nil {
		return nil, err
	}
	bcf, err := base.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg.Env = bcf.Config.Env
	return mutate.Config(img, cfg)
}

func exposed(ports []string) map[string]struct{} {
	if len(ports) == 0 {
		return nil
	}
	m := map[string]struct{}{}
	for _, p := range ports {
		m[p] = struct{}{}
	}
	return m
}

// HumanBytes writes a size in B, KiB or MiB, one decimal.
func HumanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
