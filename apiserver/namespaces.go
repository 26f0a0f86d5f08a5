package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/storage"
)

// namespaceOpen refuses new objects in a namespace that does not exist or is being deleted. It
// reads the namespace cache, and etcd only when the cache does not know the namespace yet.
func (s *Server) namespaceOpen(ctx context.Context, ns string) error {
	s.nsMu.RLock()
	terminating, known := s.nsCache[ns]
	caughtUp := s.nsCacheRev >= s.nsWriteRev.Load()
	s.nsMu.RUnlock()
	if known && caughtUp {
		if terminating {
			return errTerminating(ns)
		}
		return nil
	}
	res := api.LookupResource("namespaces")
	kv, err := s.store.Get(ctx, storageKey(res, "", ns))
	if errors.Is(err, storage.ErrNotFound) {
		e := errNotFound(res, ns)
		e.status.Message += fmt.Sprintf(": create it first (minik8s create namespace %s)", ns)
		return e
	}
	if err != nil {
		return err
	}
	obj, err := decodeStored(res, kv.Value, kv.ModRev)
	if err != nil {
		return err
	}
	if obj.GetObjectMeta().DeletionTimestamp != nil {
		return errTerminating(ns)
	}
	return nil
}

func errTerminating(ns string) error {
	return newStatus(http.StatusForbidden, api.StatusReasonForbidden,
		fmt.Sprintf("unable to create new content in namespace %s because it is being terminated", ns))
}

// watchNamespaces keeps nsCache (name → terminating) in step with etcd until ctx ends.
func (s *Server) watchNamespaces(ctx context.Context) {
	res := api.LookupResource("namespaces")
	for ctx.Err() == nil {
		kvs, rev, err := s.store.List(ctx, storagePrefix(res, ""))
		if err != nil {
			sleepCtx(ctx, time.Second)
			continue
		}
		fresh := map[string]bool{}
		for _, kv := range kvs {
			if obj, err := decodeStored(res, kv.Value, kv.ModRev); err == nil {
				fresh[obj.GetObjectMeta().Name] = obj.GetObjectMeta().DeletionTimestamp != nil
			}
		}
		s.nsMu.Lock()
		s.nsCache = fresh
		s.nsCacheRev = rev
		s.nsMu.Unlock()
		var werr error
		for ev := range s.store.Watch(ctx, storagePrefix(res, ""), rev, &werr) {
			if ev.Type == storage.Delete {
				if obj, err := decodeStored(res, ev.PrevValue, ev.Rev); err == nil {
					s.nsMu.Lock()
					delete(s.nsCache, obj.GetObjectMeta().Name)
					s.nsMu.Unlock()
				}
			} else if obj, err := decodeStored(res, ev.Value, ev.Rev); err == nil {
				s.nsMu.Lock()
				s.nsCache[obj.GetObjectMeta().Name] = obj.GetObjectMeta().DeletionTimestamp != nil
				s.nsMu.Unlock()
			}
			s.nsMu.Lock()
			s.nsCacheRev = ev.Rev
			s.nsMu.Unlock()
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// noteNamespaceWrite records that this server marked or removed a namespace at rev: until the
// cache has seen rev, namespaceOpen asks etcd.
func (s *Server) noteNamespaceWrite(rev int64) {
	for {
		cur := s.nsWriteRev.Load()
		if rev <= cur || s.nsWriteRev.CompareAndSwap(cur, rev) {
			return
		}
	}
}

func (s *Server) wakeNamespaces() {
	select {
	case s.nsWake <- struct{}{}:
	default:
	}
}

// namespaceLoop finishes the deletion of Terminating namespaces: it deletes what is in them
// (Pods on nodes gracefully) and removes the namespace once nothing is left. It is level
// triggered: woken by a namespace delete, and every few seconds anyway, so a restart or a lost
// wake-up only delays it.
func (s *Server) namespaceLoop(ctx context.Context) {
	tick := time.NewTicker(3 * time.Second)
	defer tick.Stop()
	for {
		if err := s.finalizeNamespaces(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("finalize namespaces", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.nsWake:
		case <-tick.C:
		}
	}
}

func (s *Server) finalizeNamespaces(ctx context.Context) error {
	nsRes := api.LookupResource("namespaces")
	kvs, _, err := s.store.List(ctx, storagePrefix(nsRes, ""))
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		obj, err := decodeStored(nsRes, kv.Value, kv.ModRev)
		if err != nil {
			return err
		}
		meta := obj.GetObjectMeta()
		if meta.DeletionTimestamp == nil {
			continue
		}
		remaining := 0
		for _, res := range api.Resources() {
			if !res.Namespaced {
				continue
			}
			items, _, err := s.store.List(ctx, storagePrefix(res, meta.Name))
			if err != nil {
				return err
			}
			remaining += len(items)
			for _, it := range items {
				o, err := decodeStored(res, it.Value, it.ModRev)
				if err != nil {
					return err
				}
				if _, err := s.doDelete(ctx, res, meta.Name, o.GetObjectMeta().Name, api.DeleteOptions{}, false); err != nil && !errors.Is(err, storage.ErrNotFound) {
					return fmt.Errorf("delete %s %s/%s: %w", res.Name, meta.Name, o.GetObjectMeta().Name, err)
				}
			}
		}
		if remaining == 0 {
			rev, err := s.store.Delete(ctx, kv.Key, kv.ModRev)
			if err != nil && !errors.Is(err, storage.ErrNotFound) && !errors.Is(err, storage.ErrConflict) {
				return err
			}
			if err == nil {
				s.noteNamespaceWrite(rev)
			}
		} else {
			// Something was deleted or is terminating; look again soon.
			s.wakeLater(ctx)
		}
	}
	return nil
}

func (s *Server) wakeLater(ctx context.Context) {
	go func() {
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
			s.wakeNamespaces()
		}
	}()
}
