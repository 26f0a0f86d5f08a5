package cache

import (
	"context"
	"errors"
	"testing"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
)

type downSource struct{}

func (downSource) List(context.Context, client.ListOptions) ([]api.Object, string, error) {
	return nil, "", errors.New("connection refused")
}

func (downSource) Watch(context.Context, client.ListOptions) (<-chan client.Event, error) {
	return nil, errors.New("connection refused")
}

// TestRestoreWhileServerDown: restored objects are served and reported as added while the
// source cannot list; the informer does not claim to be synced.
func TestRestoreWhileServerDown(t *testing.T) {
	inf := New(downSource{}, client.ListOptions{}, nil)
	var added []string
	inf.AddHandler(Handler{OnAdd: func(o api.Object) { added = append(added, o.GetObjectMeta().Key()) }})
	inf.Restore([]api.Object{
		&api.Pod{ObjectMeta: api.ObjectMeta{Namespace: "ns", Name: "a"}},
		&api.Pod{ObjectMeta: api.ObjectMeta{Namespace: "ns", Name: "b"}},
	})
	if len(added) != 2 {
		t.Fatalf("handlers saw %v, want both restored pods", added)
	}
	if _, ok := inf.Get("ns/a"); !ok || len(inf.List()) != 2 {
		t.Fatalf("restored objects are not served: %v", inf.List())
	}
	if inf.HasSynced() {
		t.Fatal("an informer that never listed says it is synced")
	}
	// A second restore (or one after a list) changes nothing.
	inf.Restore([]api.Object{&api.Pod{ObjectMeta: api.ObjectMeta{Namespace: "ns", Name: "c"}}})
	if _, ok := inf.Get("ns/c"); ok {
		t.Fatal("a second Restore replaced the cache")
	}
}
