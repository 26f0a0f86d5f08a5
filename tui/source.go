package tui

import (
	"context"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
)

// Source is what the terminal UI reads and changes: a list with the revision to watch from, a
// watch from that revision, and a delete. ns "" means all namespaces (or a cluster-scoped kind);
// selector is a label selector, "" for everything. The UI calls every method from a tea.Cmd,
// never from Update, so implementations may block until ctx is done.
type Source interface {
	// List returns the objects and the revision to watch from.
	List(ctx context.Context, res *api.Resource, ns, selector string) ([]api.Object, string, error)
	// Watch streams the changes after resourceVersion. The channel closes when the stream ends
	// or ctx is done; an ERROR event with code 410 means the revision is too old (list again).
	Watch(ctx context.Context, res *api.Resource, ns, selector, resourceVersion string) (<-chan client.Event, error)
	// Delete deletes one object.
	Delete(ctx context.Context, res *api.Resource, ns, name string) error
}

// ClientSource is the Source backed by the API server, through client.Dynamic.
type ClientSource struct{ C *client.Client }

var _ Source = ClientSource{}

// List implements Source.
func (s ClientSource) List(ctx context.Context, res *api.Resource, ns, selector string) ([]api.Object, string, error) {
	return s.C.Resource(res, ns).List(ctx, client.ListOptions{LabelSelector: selector})
}

// Watch implements Source.
func (s ClientSource) Watch(ctx context.Context, res *api.Resource, ns, selector, rv string) (<-chan client.Event, error) {
	return s.C.Resource(res, ns).Watch(ctx, client.ListOptions{LabelSelector: selector, ResourceVersion: rv})
}

// Delete implements Source.
func (s ClientSource) Delete(ctx context.Context, res *api.Resource, ns, name string) error {
	return s.C.Resource(res, ns).Delete(ctx, name, nil)
}
