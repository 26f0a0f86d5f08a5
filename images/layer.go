package images

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// epoch is the time written everywhere a time goes (tar entries, image config, history), so that
// the same inputs always give the same bytes.
var epoch = time.Unix(0, 0).UTC()

// file is one entry of a layer: a regular file (data), a directory (dir) or a symlink (link).
type file struct {
	name string // without a leading slash: "bin/busybox"
	mode int64  // permission bits, with setuid/setgid/sticky
	data []byte
	link string
	dir  bool
}

// newLayer makes a gzip-compressed OCI layer of files, reproducibly: entries sorted by name,
// parent directories added (0755) where missing, owner root, times at the epoch.
func newLayer(files []file) (v1.Layer, error) {
	byName := map[string]file{}
	for _, f := range files {
		f.name = strings.Trim(path.Clean("/"+f.name), "/")
		if f.name == "" {
			continue
		}
		if _, dup := byName[f.name]; dup {
			return nil, fmt.Errorf("layer: %s twice", f.name)
		}
		byName[f.name] = f
		for d := path.Dir(f.name); d != "."; d = path.Dir(d) {
			if _, ok := byName[d]; !ok {
				byName[d] = file{name: d, mode: 0o755, dir: true}
			}
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)

	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for _, n := range names {
		f := byName[n]
		h := &tar.Header{Name: n, Mode: f.mode, ModTime: epoch}
		switch {
		case f.dir:
			h.Typeflag, h.Name = tar.TypeDir, n+"/"
		case f.link != "":
			h.Typeflag, h.Linkname = tar.TypeSymlink, f.link
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("layer: %s: %w", n, err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(f.data); err != nil {
				return nil, fmt.Errorf("layer: %s: %w", n, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}

	// Compressed here, with the standard library and no header time or name, rather than by
	// go-containerregistry, so that the bytes depend only on the files (and the Go release).
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if _, err := zw.Write(raw.Bytes()); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	compressed := gz.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(compressed)), nil
	}, tarball.WithMediaType(types.OCILayer))
}
