// Package storage keeps API objects in etcd: one key per object under /registry, the object's
// resourceVersion is the key's mod revision, every write is a compare-and-swap transaction on
// it, and watches start from an exact revision.
package storage

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Sentinel errors; the API edge maps them to HTTP codes.
var (
	ErrNotFound      = errors.New("not found")
	ErrAlreadyExists = errors.New("already exists")
	ErrConflict      = errors.New("the object has been modified")
	ErrGone          = errors.New("the requested resourceVersion is too old")
)

// Store is safe for concurrent use.
type Store struct {
	cli *clientv3.Client
}

// New wraps an etcd client.
func New(cli *clientv3.Client) *Store { return &Store{cli: cli} }

// KV is one stored object.
type KV struct {
	Key    string
	Value  []byte
	ModRev int64
}

// Get returns the object at key.
func (s *Store) Get(ctx context.Context, key string) (KV, error) {
	resp, err := s.cli.Get(ctx, key)
	if err != nil {
		return KV{}, fmt.Errorf("get %s: %w", key, err)
	}
	if len(resp.Kvs) == 0 {
		return KV{}, ErrNotFound
	}
	kv := resp.Kvs[0]
	return KV{Key: string(kv.Key), Value: kv.Value, ModRev: kv.ModRevision}, nil
}

// List returns every object whose key starts with prefix, and the store revision the list was
// read at: a watch from that revision misses nothing.
func (s *Store) List(ctx context.Context, prefix string) ([]KV, int64, error) {
	resp, err := s.cli.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", prefix, err)
	}
	out := make([]KV, len(resp.Kvs))
	for i, kv := range resp.Kvs {
		out[i] = KV{Key: string(kv.Key), Value: kv.Value, ModRev: kv.ModRevision}
	}
	return out, resp.Header.Revision, nil
}

// Create stores value at key if nothing is there, and returns the new revision.
func (s *Store) Create(ctx context.Context, key string, value []byte) (int64, error) {
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, string(value))).
		Commit()
	if err != nil {
		return 0, fmt.Errorf("create %s: %w", key, err)
	}
	if !resp.Succeeded {
		return 0, ErrAlreadyExists
	}
	return resp.Header.Revision, nil
}

// Update replaces the object at key if its mod revision is still rev, and returns the new
// revision. It fails with ErrConflict on a stale rev and ErrNotFound when the key is gone.
func (s *Store) Update(ctx context.Context, key string, value []byte, rev int64) (int64, error) {
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
		Then(clientv3.OpPut(key, string(value))).
		Else(clientv3.OpGet(key)).
		Commit()
	if err != nil {
		return 0, fmt.Errorf("update %s: %w", key, err)
	}
	if !resp.Succeeded {
		if len(resp.Responses) > 0 && len(resp.Responses[0].GetResponseRange().Kvs) == 0 {
			return 0, ErrNotFound
		}
		return 0, ErrConflict
	}
	return resp.Header.Revision, nil
}

// Delete removes the object at key if its mod revision is still rev (rev 0: whatever is there),
// and returns the revision of the delete.
func (s *Store) Delete(ctx context.Context, key string, rev int64) (int64, error) {
	var cmp clientv3.Cmp
	if rev == 0 {
		cmp = clientv3.Compare(clientv3.CreateRevision(key), ">", 0)
	} else {
		cmp = clientv3.Compare(clientv3.ModRevision(key), "=", rev)
	}
	resp, err := s.cli.Txn(ctx).If(cmp).Then(clientv3.OpDelete(key)).Else(clientv3.OpGet(key)).Commit()
	if err != nil {
		return 0, fmt.Errorf("delete %s: %w", key, err)
	}
	if !resp.Succeeded {
		if len(resp.Responses) > 0 && len(resp.Responses[0].GetResponseRange().Kvs) == 0 {
			return 0, ErrNotFound
		}
		return 0, ErrConflict
	}
	return resp.Header.Revision, nil
}

// Event is one change under a watched prefix. For a delete, Value is empty and PrevValue holds
// the object as it was.
type Event struct {
	Type      EventType
	Key       string
	Value     []byte
	PrevValue []byte
	Rev       int64
}

// EventType is Put or Delete.
type EventType int

// Event types.
const (
	Put EventType = iota
	Delete
)

// Watch streams changes under prefix that happened after revision rev. The channel closes when
// ctx ends or the watch fails; the error, if any, is then in *errp (ErrGone when rev was
// compacted away).
func (s *Store) Watch(ctx context.Context, prefix string, rev int64, errp *error) <-chan Event {
	out := make(chan Event, 100)
	wch := s.cli.Watch(clientv3.WithRequireLeader(ctx), prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1), clientv3.WithPrevKV())
	go func() {
		defer close(out)
		for resp := range wch {
			if resp.CompactRevision != 0 || errors.Is(resp.Err(), rpctypes.ErrCompacted) {
				*errp = ErrGone
				return
			}
			if err := resp.Err(); err != nil {
				*errp = err
				return
			}
			for _, ev := range resp.Events {
				e := Event{Key: string(ev.Kv.Key), Value: ev.Kv.Value, Rev: ev.Kv.ModRevision}
				if ev.PrevKv != nil {
					e.PrevValue = ev.PrevKv.Value
				}
				if ev.Type == mvccpb.DELETE {
					e.Type = Delete
				}
				select {
				case out <- e:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

// Revision returns the store's current revision.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	resp, err := s.cli.Get(ctx, "/registry/~revision")
	if err != nil {
		return 0, err
	}
	return resp.Header.Revision, nil
}

// Compact discards history before rev; watches from older revisions then get ErrGone.
func (s *Store) Compact(ctx context.Context, rev int64) error {
	_, err := s.cli.Compact(ctx, rev, clientv3.WithCompactPhysical())
	return err
}

// CheckRevision reports ErrGone when rev has been compacted away, so that a watch from it
// cannot be served. A revision from the future is fine: the watch waits for it.
func (s *Store) CheckRevision(ctx context.Context, rev int64) error {
	if rev == 0 {
		return nil
	}
	_, err := s.cli.Get(ctx, "/registry/~revision", clientv3.WithRev(rev))
	switch {
	case err == nil, errors.Is(err, rpctypes.ErrFutureRev):
		return nil
	case errors.Is(err, rpctypes.ErrCompacted):
		return ErrGone
	}
	return err
}
