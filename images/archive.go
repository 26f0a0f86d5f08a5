package images

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The annotations on index.json's entries that name an image: containerd's (a full name) and
// the OCI one (the tag, as Docker writes it).
const (
	AnnotationImageName = "io.containerd.image.name"
	AnnotationRefName   = "org.opencontainers.image.ref.name"
)

// ErrNotArchive means a file is neither an OCI layout in a tar nor a `docker save` archive.
var ErrNotArchive = errors.New("not an image archive: it has neither index.json (an OCI layout) nor manifest.json (docker save)")

// WriteArchive writes img to w as an image archive named imageName ("busybox:latest"; a name
// without a tag gets latest). The archive is an OCI image layout in a tar — oci-layout,
// index.json, blobs/sha256/... — that also carries Docker's manifest.json pointing at the same
// blobs, the format `docker save` writes since Docker 25:
//
//   - containerd (`ctr images import`, 1.6 and later) reads index.json and names the image by
//     its io.containerd.image.name annotation, docker.io/library/busybox:latest;
//   - go-containerregistry's tarball package (crane, `minik8s image push`) and `docker load`
//     read manifest.json and its RepoTags, busybox:latest;
//   - OCI tools (skopeo's oci-archive:, go-containerregistry's layout once unpacked) read
//     index.json, where org.opencontainers.image.ref.name holds the tag.
//
// The same image and name always give the same bytes: entries sorted, times at the epoch.
func WriteArchive(w io.Writer, imageName string, img v1.Image) error {
	named, err := reference.ParseNormalizedNamed(imageName)
	if err != nil {
		return fmt.Errorf("image name %q: %w", imageName, err)
	}
	tagged, ok := reference.TagNameOnly(named).(reference.NamedTagged)
	if !ok {
		return fmt.Errorf("image name %q: an archive names an image by a tag, not a digest", imageName)
	}

	manifest, err := img.RawManifest()
	if err != nil {
		return err
	}
	mdigest, err := img.Digest()
	if err != nil {
		return err
	}
	mediaType, err := img.MediaType()
	if err != nil {
		return err
	}
	config, err := img.RawConfigFile()
	if err != nil {
		return err
	}
	cdigest, err := img.ConfigName()
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}

	blobPath := func(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }
	index := v1.IndexManifest{
		SchemaVersion: 2,
		MediaType:     types.OCIImageIndex,
		Manifests: []v1.Descriptor{{
			MediaType: mediaType,
			Size:      int64(len(manifest)),
			Digest:    mdigest,
			Annotations: map[string]string{
				AnnotationImageName: tagged.String(),
				AnnotationRefName:   tagged.Tag(),
			},
			Platform: &v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant},
		}},
	}
	docker := []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}{{Config: blobPath(cdigest), RepoTags: []string{reference.FamiliarString(tagged)}}}

	type blob struct {
		path string
		size int64
		open func() (io.ReadCloser, error)
	}
	bytesBlob := func(p string, b []byte) blob {
		return blob{p, int64(len(b)), func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }}
	}
	blobs := map[string]blob{}
	blobs[blobPath(mdigest)] = bytesBlob(blobPath(mdigest), manifest)
	blobs[blobPath(cdigest)] = bytesBlob(blobPath(cdigest), config)
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return err
		}
		size, err := l.Size()
		if err != nil {
			return err
		}
		blobs[blobPath(d)] = blob{blobPath(d), size, l.Compressed}
		docker[0].Layers = append(docker[0].Layers, blobPath(d))
	}
	indexJSON, err := json.Marshal(index)
	if err != nil {
		return err
	}
	dockerJSON, err := json.Marshal(docker)
	if err != nil {
		return err
	}
	blobs["index.json"] = bytesBlob("index.json", indexJSON)
	blobs["manifest.json"] = bytesBlob("manifest.json", dockerJSON)
	blobs["oci-layout"] = bytesBlob("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))

	paths := make([]string, 0, len(blobs))
	for p := range blobs {
		paths = append(paths, p)
	}
	sort.Strings(paths)

	bw := bufio.NewWriterSize(w, 1<<20)
	tw := tar.NewWriter(bw)
	for _, dir := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, ModTime: epoch}); err != nil {
			return err
		}
	}
	for _, p := range paths {
		b := blobs[p]
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: p, Size: b.size, Mode: 0o644, ModTime: epoch}); err != nil {
			return err
		}
		rc, err := b.open()
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		n, err := io.Copy(tw, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if n != b.size {
			return fmt.Errorf("%s: %d bytes, expected %d", p, n, b.size)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

// WriteArchiveFile writes the archive to path, whole or not at all (through a temporary file).
func WriteArchiveFile(path, imageName string, img v1.Image) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := WriteArchive(tmp, imageName, img); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Archive is an image archive opened for reading. Close it to remove what it unpacked.
type Archive struct {
	// Images are the images and indexes the archive holds, in its order.
	Images []ArchivedImage
	dir    string
}

// ArchivedImage is one image (or multi-platform index) of an archive.
type ArchivedImage struct {
	// Name is the name the archive gives it, short as people write it ("busybox:latest",
	// "team/app:v1"), or "" when it gives none.
	Name string
	// Image is the image, or nil when the entry is an index.
	Image v1.Image
	// Index is the index, or nil when the entry is an image.
	Index v1.ImageIndex
}

// Digest is the digest of the entry's manifest (or index).
func (a ArchivedImage) Digest() (v1.Hash, error) {
	if a.Index != nil {
		return a.Index.Digest()
	}
	return a.Image.Digest()
}

// Close removes the files the archive was unpacked into. The images cannot be read after it.
func (a *Archive) Close() error {
	if a.dir == "" {
		return nil
	}
	return os.RemoveAll(a.dir)
}

// layoutEntry is the set of paths taken from an OCI layout archive; nothing else is unpacked.
var layoutEntry = regexp.MustCompile(`^(oci-layout|index\.json|manifest\.json|blobs/[a-z0-9]+/[a-f0-9]{32,128})$`)

// OpenArchive opens an image archive: an OCI image layout in a tar (what WriteArchive, Docker 25's
// `docker save`, `skopeo copy ... oci-archive:` write) or an older `docker save` archive
// (manifest.json and per-layer folders); either may be gzip-compressed. An OCI layout is
// unpacked into a temporary folder that Close removes.
func OpenArchive(path string) (*Archive, error) {
	opener := func() (io.ReadCloser, error) { return openMaybeGzip(path) }
	rc, err := opener()
	if err != nil {
		return nil, err
	}
	var hasIndex, hasManifest bool
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			rc.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		switch strings.TrimPrefix(h.Name, "./") {
		case "index.json":
			hasIndex = true
		case "manifest.json":
			hasManifest = true
		}
	}
	rc.Close()
	switch {
	case hasIndex:
		return openLayout(path, opener)
	case hasManifest:
		return openDockerArchive(path, opener)
	}
	return nil, fmt.Errorf("%s: %w", path, ErrNotArchive)
}

func openMaybeGzip(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(f)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return struct {
			io.Reader
			io.Closer
		}{zr, f}, nil
	}
	return struct {
		io.Reader
		io.Closer
	}{br, f}, nil
}

func openLayout(path string, opener tarball.Opener) (_ *Archive, err error) {
	dir, err := os.MkdirTemp("", "minik8s-image-")
	if err != nil {
		return nil, err
	}
	a := &Archive{dir: dir}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	rc, err := opener()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		p := strings.TrimPrefix(h.Name, "./")
		if h.Typeflag != tar.TypeReg || !layoutEntry.MatchString(p) {
			continue
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, p, err)
		}
		_, err = io.Copy(f, tr)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, p, err)
		}
	}

	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("%s: index.json: %w", path, err)
	}
	dockerTags := dockerRepoTags(filepath.Join(dir, "manifest.json"))
	for _, d := range im.Manifests {
		entry := ArchivedImage{Name: nameFromAnnotations(d.Annotations)}
		switch {
		case d.MediaType.IsIndex():
			entry.Index, err = idx.ImageIndex(d.Digest)
		case d.MediaType.IsImage():
			entry.Image, err = idx.Image(d.Digest)
			if entry.Name == "" && err == nil {
				if c, cerr := entry.Image.ConfigName(); cerr == nil {
					entry.Name = dockerTags[c.Hex]
				}
			}
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, d.Digest, err)
		}
		a.Images = append(a.Images, entry)
	}
	if len(a.Images) == 0 {
		return nil, fmt.Errorf("%s: index.json lists no image", path)
	}
	return a, nil
}

// dockerManifest is one entry of `docker save`'s manifest.json.
type dockerManifest struct {
	Config   string
	RepoTags []string
}

// dockerRepoTags maps config digests (hex) to the first RepoTag that manifest.json gives them.
func dockerRepoTags(path string) map[string]string {
	out := map[string]string{}
	b, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	var entries []dockerManifest
	if json.Unmarshal(b, &entries) != nil {
		return out
	}
	for _, e := range entries {
		if len(e.RepoTags) > 0 {
			hex := strings.TrimSuffix(filepath.Base(e.Config), ".json")
			out[hex] = shortName(e.RepoTags[0])
		}
	}
	return out
}

func openDockerArchive(path string, opener tarball.Opener) (*Archive, error) {
	var entries []dockerManifest
	rc, err := opener()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err != nil {
			return nil, fmt.Errorf("%s: manifest.json: %w", path, err)
		}
		if strings.TrimPrefix(h.Name, "./") == "manifest.json" {
			if err := json.NewDecoder(tr).Decode(&entries); err != nil {
				return nil, fmt.Errorf("%s: manifest.json: %w", path, err)
			}
			break
		}
	}
	a := &Archive{}
	for _, e := range entries {
		var tag *name.Tag
		entry := ArchivedImage{}
		if len(e.RepoTags) > 0 {
			t, err := name.NewTag(e.RepoTags[0])
			if err != nil {
				return nil, fmt.Errorf("%s: RepoTags %q: %w", path, e.RepoTags[0], err)
			}
			tag, entry.Name = &t, shortName(e.RepoTags[0])
		} else if len(entries) > 1 {
			continue // an untagged image cannot be picked out of several
		}
		img, err := tarball.Image(opener, tag)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		entry.Image = img
		a.Images = append(a.Images, entry)
	}
	if len(a.Images) == 0 {
		return nil, fmt.Errorf("%s: manifest.json lists no image", path)
	}
	return a, nil
}

// nameFromAnnotations reads an index entry's name: containerd's annotation, else an OCI ref
// name that is a whole name rather than a bare tag.
func nameFromAnnotations(a map[string]string) string {
	if n := a[AnnotationImageName]; n != "" {
		return shortName(n)
	}
	if n := a[AnnotationRefName]; strings.ContainsAny(n, ":/") {
		return shortName(n)
	}
	return ""
}

// shortName writes a name as people do: docker.io/library/busybox:latest is busybox:latest.
func shortName(s string) string {
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return s
	}
	return reference.FamiliarString(reference.TagNameOnly(named))
}
