// Package replicaset keeps, for every ReplicaSet, the number of Pods it asks for, as
// Kubernetes' ReplicaSet controller does.
//
//	ReplicaSets ─┐
//	Pods ────────┴─ informers ─ handlers enqueue ReplicaSet keys ─ queue ─ sync(ns/name)
//	                                                                         │
//	      adopt matching orphans, release owned Pods that stopped matching ◄─┘
//	      diff = active − replicas: create from the template / delete the worst-ranked
//	      write status (only when it changed)
//
// Owner references decide what a ReplicaSet owns: a Pod whose controller reference carries the
// ReplicaSet's UID. A Pod event enqueues its controller ReplicaSet or, for an orphan, every
// ReplicaSet of its namespace whose selector matches it.
//
// There is no "expectations" machinery. The informer lags behind the controller's own creates
// and deletes, so sync remembers, per ReplicaSet and for a few seconds, the Pods it has just
// created and deleted, and counts them until the cache shows them; after acting it does not
// loop but lets the next event (or a requeue a second later) recompute from the cache. A
// ReplicaSet that is gone needs nothing: the garbage collector (ctrl/gc) deletes its Pods.
package replicaset
