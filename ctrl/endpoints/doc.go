// Package endpoints keeps, for every Service with a selector, the Endpoints object of the same
// name: the addresses of the Pods behind it, as Kubernetes' endpoints controller does.
//
//	Services ─┐
//	Pods ─────┼─ informers ─ handlers enqueue Service keys ─ queue ─ sync(ns/name)
//	Endpoints ┘                                                        │
//	                                     Subsets(service, pods) ◄──────┘
//	                                     create / update (only when changed) / delete
//
// Subsets is the pure part: the Pods of the Service's namespace that match its selector, have a
// pod IP, are not being deleted and have not finished; the Running and Ready ones in addresses,
// the others in notReadyAddresses. Each Service port resolves per Pod (a number, or the name of
// one of the Pod's container ports); a Pod that lacks a named port is left out of that port, and
// the addresses are grouped into one subset per resolved port set.
//
// The controller is level-triggered: a Pod event enqueues the Services whose selector matches
// the Pod's labels, old and new, so a Pod that dies, turns NotReady or changes labels leaves the
// Endpoints at its next sync. sync writes only when the computed subsets differ from the stored
// ones (order aside), creates a missing Endpoints with an ownerReference to its Service, and
// deletes the Endpoints it owns once the Service is gone. A Service without a selector is left
// alone: its Endpoints are the user's.
package endpoints
