package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/minik8s/minik8s/client"
	"github.com/minik8s/minik8s/images"
	"github.com/minik8s/minik8s/registry"
)

// NewImageCommand builds `minik8s image`: push image archives to the cluster's registry and list
// what it holds. The registry is served by the API server, at the same address and with the
// same CA and token as the client config.
func NewImageCommand(o *Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "image",
		Aliases: []string{"images"},
		Short:   "Push images to the cluster's registry and list them",
		Long: `The control plane serves an image registry at the API server's address (/v2/); nodes pull
Pods' images from it, so an image must be pushed there before a Pod can use it. A name without a
registry host ("busybox:latest", "team/app:v1") means the cluster's registry.

Image archives are what "make images", "docker save" and "skopeo copy ... oci-archive:" write:
an OCI image layout in a tar, or Docker's older archive format.`,
		Example: `  make images                                    # build busybox, echo, stress, pause, minik8s into build/images
  minik8s image push build/images/echo.tar       # pushed as echo:latest, the name it records
  minik8s image push app.tar --name team/app:v2
  minik8s image list`,
	}
	cmd.AddCommand(newImagePushCommand(o), newImageListCommand(o))
	return cmd
}

func newImagePushCommand(o *Options) *cobra.Command {
	var newName string
	cmd := &cobra.Command{
		Use:   "push ARCHIVE",
		Short: "Push an image archive to the cluster's registry",
		Long: `Push the image in ARCHIVE (an OCI image layout in a tar, or a "docker save" archive, either
possibly gzip-compressed) to the cluster's registry, under the name the archive records or the
one given with --name. Blobs the registry already has are not sent again.

Progress goes to stderr; the pushed name and digest to stdout.`,
		Example: `  minik8s image push build/images/busybox.tar
  minik8s image push app.tar --name team/app:v2
  docker save app:v2 -o app.tar && minik8s image push app.tar`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return imagePush(cmd.Context(), o, args[0], newName)
		},
	}
	cmd.Flags().StringVar(&newName, "name", "", "name to push the image as (default: the name recorded in the archive)")
	return cmd
}

func newImageListCommand(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the images in the cluster's registry",
		Example: "  minik8s image list",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return imageList(cmd.Context(), o)
		},
	}
}

func imagePush(ctx context.Context, o *Options, path, newName string) error {
	archive, err := images.OpenArchive(path)
	if err != nil {
		return err
	}
	defer archive.Close()
	entry, err := pickImage(archive, path, newName)
	if err != nil {
		return err
	}
	imageName := newName
	if imageName == "" {
		imageName = entry.Name
	}
	if imageName == "" {
		return fmt.Errorf("%s records no image name: pass --name NAME:TAG", path)
	}

	reg, err := o.clusterRegistry(ctx)
	if err != nil {
		return err
	}
	repo, ref, err := registry.Repository(imageName, reg.host)
	if err != nil {
		return err
	}
	if strings.Contains(ref, ":") {
		return fmt.Errorf("%q names a digest: push needs a tag, such as NAME:latest", imageName)
	}
	shown := registry.DisplayName(repo, reg.host) + ":" + ref
	tag, err := name.NewTag(reg.host+"/"+repo+":"+ref, name.StrictValidation)
	if err != nil {
		return fmt.Errorf("image name %q: %w", imageName, err)
	}
	digest, err := entry.Digest()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}

	var taggable remote.Taggable = entry.Image
	if entry.Index != nil {
		taggable = entry.Index
	}
	updates := make(chan v1.Update, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		showProgress(o.ErrOut, "pushing "+shown, updates)
	}()
	err = remote.Push(tag, taggable, append(reg.opts, remote.WithProgress(updates))...)
	if err == nil {
		<-done
	} else {
		// Push closes updates on every path but a bad option; don't wait forever for that one.
		select {
		case <-done:
		case <-time.After(time.Second):
		}
	}
	if err != nil {
		return fmt.Errorf("push %s to %s: %w", shown, reg.host, registryError(err))
	}
	fmt.Fprintf(o.Out, "pushed %s (%s)\n", shown, digest)
	return nil
}

// pickImage chooses the archive's image: the only one, or the one named name.
func pickImage(a *images.Archive, path, name string) (images.ArchivedImage, error) {
	if len(a.Images) == 1 {
		return a.Images[0], nil
	}
	var names []string
	for _, e := range a.Images {
		if name != "" && e.Name == name {
			return e, nil
		}
		names = append(names, e.Name)
	}
	return images.ArchivedImage{}, fmt.Errorf("%s holds %d images (%s): pass --name with one of their names", path, len(a.Images), strings.Join(names, ", "))
}

func imageList(ctx context.Context, o *Options) error {
	reg, err := o.clusterRegistry(ctx)
	if err != nil {
		return err
	}
	r, err := name.NewRegistry(reg.host)
	if err != nil {
		return err
	}
	repos, err := remote.Catalog(ctx, r, reg.opts...)
	if err != nil {
		return fmt.Errorf("list the images at %s: %w", reg.host, registryError(err))
	}
	sort.Strings(repos)
	type row struct{ repo, tag, digest string }
	var rows []row
	for _, repo := range repos {
		rr, err := name.NewRepository(reg.host + "/" + repo)
		if err != nil {
			continue
		}
		tags, err := remote.List(rr, reg.opts...)
		if isNotFound(err) {
			continue // deleted since the catalog was read
		}
		if err != nil {
			return fmt.Errorf("list the tags of %s: %w", registry.DisplayName(repo, reg.host), registryError(err))
		}
		sort.Strings(tags)
		for _, t := range tags {
			desc, err := remote.Head(rr.Tag(t), reg.opts...)
			if isNotFound(err) {
				continue
			}
			if err != nil {
				return fmt.Errorf("look up %s:%s: %w", registry.DisplayName(repo, reg.host), t, registryError(err))
			}
			rows = append(rows, row{registry.DisplayName(repo, reg.host), t, desc.Digest.String()})
		}
	}
	if len(rows) == 0 {
		fmt.Fprintln(o.ErrOut, "No images found in the cluster's registry.")
		return nil
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].repo < rows[j].repo })
	w := newTabWriter(o.Out)
	fmt.Fprintln(w, "REPOSITORY\tTAG\tDIGEST")
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%s\t%s\n", r.repo, r.tag, r.digest)
	}
	return w.Flush()
}

// registryAccess is how the CLI reaches the cluster's registry: its host:port (the API
// server's) and the go-containerregistry options that carry the CA and the token.
type registryAccess struct {
	host string
	opts []remote.Option
}

func (o *Options) clusterRegistry(ctx context.Context) (*registryAccess, error) {
	path, err := client.FindConfig(o.ConfigPath)
	if err != nil {
		return nil, err
	}
	cfg, err := client.LoadConfig(path)
	if err != nil {
		return nil, fmt.Errorf("load client config: %w", err)
	}
	u, err := url.Parse(cfg.Server)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%s: the server URL %q has no host", path, cfg.Server)
	}
	pool := x509.NewCertPool()
	if len(cfg.CAData) > 0 && !pool.AppendCertsFromPEM(cfg.CAData) {
		return nil, errors.New("client config: the CA data holds no PEM certificate")
	}
	base := &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 2 * time.Minute,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
	}
	return &registryAccess{
		host: u.Host,
		opts: []remote.Option{
			remote.WithContext(ctx),
			remote.WithAuth(authn.Anonymous),
			remote.WithTransport(&clusterTransport{base: base, host: u.Host, token: cfg.Token}),
			remote.WithUserAgent("minik8s/" + Version),
			remote.WithJobs(4),
		},
	}, nil
}

// clusterTransport sends the registry requests to the API server over HTTPS with the bearer
// token. go-containerregistry speaks plain HTTP to loopback and private addresses; the API
// server is HTTPS wherever it is.
type clusterTransport struct {
	base  http.RoundTripper
	host  string
	token string
}

func (t *clusterTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != t.host {
		return nil, fmt.Errorf("refusing to follow the registry to %s: only %s is the cluster's", r.URL.Host, t.host)
	}
	r = r.Clone(r.Context())
	r.URL.Scheme = "https"
	if t.token != "" {
		r.Header.Set("Authorization", "Bearer "+t.token)
	}
	return t.base.RoundTrip(r)
}

// registryError says plainly what an answer of the registry (or the API server before it) means.
func registryError(err error) error {
	var te *transport.Error
	if errors.As(err, &te) {
		switch te.StatusCode {
		case http.StatusUnauthorized:
			return fmt.Errorf("the API server refused the client config's token (401 Unauthorized)")
		case http.StatusForbidden:
			return fmt.Errorf("the client config's token may not use the image registry (403 Forbidden)")
		}
	}
	return err
}

func isNotFound(err error) bool {
	var te *transport.Error
	return errors.As(err, &te) && te.StatusCode == http.StatusNotFound
}

// showProgress draws a progress bar of bytes sent from updates until the channel closes: redrawn
// in place on a terminal, a line at each quarter otherwise.
func showProgress(w io.Writer, label string, updates <-chan v1.Update) {
	f, ok := w.(*os.File)
	tty := ok && term.IsTerminal(int(f.Fd()))
	var drawn time.Time
	quarter := -1
	for u := range updates {
		if u.Error != nil {
			continue
		}
		if tty {
			if time.Since(drawn) >= 100*time.Millisecond || u.Complete >= u.Total {
				fmt.Fprintf(w, "\r%s", progressLine(label, u))
				drawn = time.Now()
			}
			continue
		}
		if q := quarterOf(u); q > quarter {
			fmt.Fprintln(w, progressLine(label, u))
			quarter = q
		}
	}
	if tty && !drawn.IsZero() {
		fmt.Fprintln(w)
	}
}

func quarterOf(u v1.Update) int {
	if u.Total <= 0 {
		return 0
	}
	return int(4 * u.Complete / u.Total)
}

func progressLine(label string, u v1.Update) string {
	const width = 30
	filled := width
	if u.Total > 0 && u.Complete < u.Total {
		filled = int(width * u.Complete / u.Total)
	}
	bar := strings.Repeat("=", filled)
	if filled < width {
		bar += ">" + strings.Repeat(" ", width-filled-1)
	}
	return fmt.Sprintf("%s [%s] %s / %s", label, bar, images.HumanBytes(u.Complete), images.HumanBytes(u.Total))
}
