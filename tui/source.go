package tui

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
)

// Source is what the terminal UI reads and changes: a list with the revision to watch from, a
// watch from that revision, and the writes its keys make. ns "" means all namespaces (or a
// cluster-scoped kind); opts carries the label and field selectors (and, for Watch, the
// revision). The UI calls every method from a tea.Cmd, never from Update, so implementations
// may block until ctx is done.
type Source interface {
	// List returns the objects and the revision to watch from.
	List(ctx context.Context, res *api.Resource, ns string, opts client.ListOptions) ([]api.Object, string, error)
	// Watch streams the changes after opts.ResourceVersion. The channel closes when the stream
	// ends or ctx is done; an ERROR event with code 410 means the revision is too old (list
	// again).
	Watch(ctx context.Context, res *api.Resource, ns string, opts client.ListOptions) (<-chan client.Event, error)
	// Delete deletes one object.
	Delete(ctx context.Context, res *api.Resource, ns, name string) error
	// Update replaces an object (a PUT); the object's resourceVersion makes it a
	// compare-and-swap, so a stale edit is refused with a conflict.
	Update(ctx context.Context, res *api.Resource, obj api.Object) (api.Object, error)
	// Patch merges patch (JSON) into one object.
	Patch(ctx context.Context, res *api.Resource, ns, name string, patch []byte) error
	// Logs opens a Pod container's output; the caller closes it. With Follow it stays open for
	// new output until ctx is done or the container's log ends.
	Logs(ctx context.Context, ns, pod string, opts LogOptions) (io.ReadCloser, error)
}

// LogOptions say which output Logs reads, as `minik8s logs` flags do.
type LogOptions struct {
	Container string
	Follow    bool
	Previous  bool
	// TailLines is how many of the last lines to start with; 0 for all.
	TailLines int
}

// Metrics is where the header and the pulse view read resource usage. *client.Client is one.
type Metrics interface {
	// NodeMetrics lists the latest usage of every node that reports it.
	NodeMetrics(ctx context.Context) (*api.NodeMetricsList, error)
	// PodUsageHistory returns the samples held for one Pod, oldest first.
	PodUsageHistory(ctx context.Context, ns, name string) (*api.UsageHistory, error)
	// NodeUsageHistory returns the samples held for one node, oldest first.
	NodeUsageHistory(ctx context.Context, name string) (*api.UsageHistory, error)
}

var _ Metrics = (*client.Client)(nil)

// ClientSource is the Source backed by the API server, through client.Dynamic.
type ClientSource struct{ C *client.Client }

var _ Source = ClientSource{}

// List implements Source.
func (s ClientSource) List(ctx context.Context, res *api.Resource, ns string, opts client.ListOptions) ([]api.Object, string, error) {
	return s.C.Resource(res, ns).List(ctx, opts)
}

// Watch implements Source.
func (s ClientSource) Watch(ctx context.Context, res *api.Resource, ns string, opts client.ListOptions) (<-chan client.Event, error) {
	return s.C.Resource(res, ns).Watch(ctx, opts)
}

// Delete implements Source.
func (s ClientSource) Delete(ctx context.Context, res *api.Resource, ns, name string) error {
	return s.C.Resource(res, ns).Delete(ctx, name, nil)
}

// Update implements Source.
func (s ClientSource) Update(ctx context.Context, res *api.Resource, obj api.Object) (api.Object, error) {
	return s.C.Resource(res, obj.GetObjectMeta().Namespace).Update(ctx, obj)
}

// Patch implements Source.
func (s ClientSource) Patch(ctx context.Context, res *api.Resource, ns, name string, patch []byte) error {
	_, err := s.C.Resource(res, ns).Patch(ctx, name, patch)
	return err
}

// Logs implements Source: GET pods/NAME/log, as `minik8s logs` does.
func (s ClientSource) Logs(ctx context.Context, ns, pod string, opts LogOptions) (io.ReadCloser, error) {
	q := url.Values{}
	if opts.Container != "" {
		q.Set("container", opts.Container)
	}
	if opts.Follow {
		q.Set("follow", "true")
	}
	if opts.Previous {
		q.Set("previous", "true")
	}
	if opts.TailLines > 0 {
		q.Set("tailLines", strconv.Itoa(opts.TailLines))
	}
	path := api.LookupResource("pods").Path(ns, pod) + "/log"
	resp, err := s.C.Stream(ctx, http.MethodGet, path, q, nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}
