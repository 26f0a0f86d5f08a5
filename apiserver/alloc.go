package apiserver

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/storage"
)

// Service allocations: cluster IPs out of ServiceCIDR and node ports out of
// api.NodePortMin–api.NodePortMax.
//
// Each allocated value is one etcd key, created with a create-if-absent transaction, whose value
// names the Service that holds it (an ObjectReference with its UID):
//
//	/registry/ranges/serviceips/10.96.0.42      → {"kind":"Service","namespace":"default","name":"web","uid":"…"}
//	/registry/ranges/servicenodeports/30080     → {…}
//
// So two creates can never get the same value (the second create of the key fails), the
// allocations are as durable as the Services themselves, and freeing is a delete. The key is the
// lock; the Service object stays the source of truth of what it holds: releaseAllocations frees
// a value only when the key names the Service's UID and the stored Service does not hold it.
//
// Dynamic picks follow Kubernetes (KEP-3070, KEP-3668): the low end of each range is a "static
// band" that users' explicit choices are likely to use (10.96.0.1 for the API server's own
// Service, 10.96.0.10 for DNS, small node ports); random picks are taken from above it first,
// starting at a random offset and going on sequentially, and from the static band only when the
// rest is full.

// ServiceCIDR is the service network; cluster IPs come from it.
const ServiceCIDR = "10.96.0.0/16"

// Addresses of the service network that are never picked at random: they are kept for the
// Services that ask for them explicitly.
const (
	// APIServerServiceIP is the cluster IP of the API server's own Service ("kubernetes").
	APIServerServiceIP = "10.96.0.1"
	// DNSServiceIP is the cluster IP of the cluster DNS Service.
	DNSServiceIP = "10.96.0.10"
)

// allocPrefix is where the allocation keys live in etcd; no resource is called "ranges", so no
// list or watch of a kind ever sees them.
const allocPrefix = "/registry/ranges/"

// allocRange is one range of values (IPv4 addresses as integers, or ports) with one etcd folder.
type allocRange struct {
	folder      string // under allocPrefix
	first, last int    // the values that may be allocated, inclusive
	static      int    // how many values from first on form the static band
	reserved    map[int]bool
	format      func(int) string
	parse       func(string) (int, bool)
}

var (
	serviceIPs   = newIPRange(ServiceCIDR, APIServerServiceIP, DNSServiceIP)
	nodePortsRng = newPortRange(api.NodePortMin, api.NodePortMax)
)

// newIPRange is the range of the addresses of cidr less its network and broadcast addresses.
func newIPRange(cidr string, reserved ...string) *allocRange {
	p := netip.MustParsePrefix(cidr).Masked()
	base := int(binary.BigEndian.Uint32(p.Addr().AsSlice()))
	size := 1 << (32 - p.Bits())
	r := &allocRange{
		folder: "serviceips",
		first:  base + 1,
		last:   base + size - 2,
		static: min(max(16, (size-2)/16), 256),
		format: func(v int) string {
			var b [4]byte
			binary.BigEndian.PutUint32(b[:], uint32(v))
			return netip.AddrFrom4(b).String()
		},
		parse: func(s string) (int, bool) {
			a, err := netip.ParseAddr(s)
			if err != nil || !a.Is4() {
				return 0, false
			}
			return int(binary.BigEndian.Uint32(a.AsSlice())), true
		},
		reserved: map[int]bool{},
	}
	for _, ip := range reserved {
		v, _ := r.parse(ip)
		r.reserved[v] = true
	}
	return r
}

func newPortRange(first, last int) *allocRange {
	return &allocRange{
		folder: "servicenodeports",
		first:  first,
		last:   last,
		static: min(max(16, (last-first+1)/32), 128),
		format: strconv.Itoa,
		parse: func(s string) (int, bool) {
			v, err := strconv.Atoi(s)
			return v, err == nil
		},
	}
}

func (r *allocRange) key(v int) string { return allocPrefix + r.folder + "/" + r.format(v) }

func (r *allocRange) contains(v int) bool { return v >= r.first && v <= r.last }

// pick returns a free value that may be picked at random (not reserved, not in used), or false
// when there is none: first from above the static band, from a random start on and around,
// then likewise from the static band.
func (r *allocRange) pick(used map[int]bool) (int, bool) {
	bands := [][2]int{{r.first + r.static, r.last}, {r.first, r.first + r.static - 1}}
	for _, b := range bands {
		n := b[1] - b[0] + 1
		if n <= 0 {
			continue
		}
		start := rand.IntN(n)
		for i := range n {
			v := b[0] + (start+i)%n
			if !used[v] && !r.reserved[v] {
				return v, true
			}
		}
	}
	return 0, false
}

// allocOwner is the value of an allocation key.
func allocOwner(svc *api.Service) []byte {
	b, _ := json.Marshal(api.ObjectReference{APIVersion: "v1", Kind: "Service", Namespace: svc.Namespace, Name: svc.Name, UID: svc.UID})
	return b
}

// allocator allocates for one admission of one Service and remembers what it created, so that
// a refused admission takes nothing away.
type allocator struct {
	s       *Server
	svc     *api.Service
	created []string                     // keys
	used    map[*allocRange]map[int]bool // what each range held when first read, and since taken
}

// allocate takes value v of r for the Service. It returns false when the key exists already.
func (a *allocator) allocate(ctx context.Context, r *allocRange, v int) (bool, error) {
	key := r.key(v)
	_, err := a.s.store.Create(ctx, key, allocOwner(a.svc))
	if errors.Is(err, storage.ErrAlreadyExists) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("allocate %s: %w", key, err)
	}
	a.created = append(a.created, key)
	return true, nil
}

// randomProbes is how many random values of the dynamic band allocateAny tries blindly before
// it reads the range: while the range is sparse, an allocation is one etcd transaction.
const randomProbes = 4

// allocateAny takes a free value of r for the Service: a few random tries above the static
// band, then candidates from one read of the range (see pick); a value that a concurrent
// request takes first is skipped, and the next one tried.
func (a *allocator) allocateAny(ctx context.Context, r *allocRange, what string) (int, error) {
	used := a.used[r]
	if used == nil && r.last-r.first+1 > r.static {
		for range randomProbes {
			v := r.first + r.static + rand.IntN(r.last-r.first+1-r.static)
			if r.reserved[v] {
				continue
			}
			got, err := a.allocate(ctx, r, v)
			if err != nil || got {
				return v, err
			}
		}
	}
	if used == nil {
		kvs, _, err := a.s.store.List(ctx, allocPrefix+r.folder+"/")
		if err != nil {
			return 0, fmt.Errorf("read the allocated %ss: %w", what, err)
		}
		used = make(map[int]bool, len(kvs))
		for _, kv := range kvs {
			if v, ok := r.parse(strings.TrimPrefix(kv.Key, allocPrefix+r.folder+"/")); ok {
				used[v] = true
			}
		}
		if a.used == nil {
			a.used = map[*allocRange]map[int]bool{}
		}
		a.used[r] = used
	}
	for {
		v, ok := r.pick(used)
		if !ok {
			return 0, newStatus(http.StatusInternalServerError, api.StatusReasonInternalError,
				fmt.Sprintf("failed to allocate a %s: range is full", what))
		}
		got, err := a.allocate(ctx, r, v)
		if err != nil {
			return 0, err
		}
		used[v] = true
		if got {
			return v, nil
		}
	}
}

// rollback frees what this allocator created.
func (a *allocator) rollback(ctx context.Context) {
	for _, key := range a.created {
		if err := a.s.freeKey(ctx, key, a.svc.UID); err != nil {
			a.s.log.Warn("free a service allocation", "key", key, "err", err)
		}
	}
	a.created = nil
}

// allocateService gives svc what it needs and does not have yet: a cluster IP (unless it is
// headless) and, for a NodePort Service, a node port for each port without one. old is the
// stored Service on an update (nil on a create): what it holds is kept, and a port that has no
// nodePort in the update keeps the one its namesake had, as Kubernetes does. A user's explicit
// value is taken if it is free and refused with an Invalid error naming the field if not. On
// any error nothing is left allocated by this call.
//
// Values that old holds and svc no longer does are not freed here: the write may still fail.
// releaseAllocations frees them once the outcome is known.
func (s *Server) allocateService(ctx context.Context, res *api.Resource, svc, old *api.Service) (err error) {
	a := &allocator{s: s, svc: svc}
	defer func() {
		if err != nil {
			a.rollback(context.WithoutCancel(ctx))
		}
	}()
	var errs api.ErrorList
	held := map[string]bool{}
	if old != nil {
		for _, k := range allocationKeys(old) {
			held[k] = true
		}
	}

	// The cluster IP.
	spec := &svc.Spec
	if spec.ClusterIP == "" && len(spec.ClusterIPs) > 0 {
		spec.ClusterIP = spec.ClusterIPs[0]
	}
	ip := spec.ClusterIP
	v, ok := serviceIPs.parse(ip)
	switch {
	case ip == api.ClusterIPNone:
	case ip == "":
		v, err := a.allocateAny(ctx, serviceIPs, "serviceIP")
		if err != nil {
			return err
		}
		spec.ClusterIP = serviceIPs.format(v)
	case old != nil && old.Spec.ClusterIP == ip, ok && held[serviceIPs.key(v)]:
	default:
		field := api.Path("spec").Child("clusterIP").String()
		if !ok || !serviceIPs.contains(v) {
			errs = append(errs, api.Invalid(field, ip, fmt.Sprintf(
				"failed to allocate IP %s: the provided IP (%s) is not in the valid range. The range of valid IPs is %s", ip, ip, ServiceCIDR)))
			break
		}
		got, err := a.allocate(ctx, serviceIPs, v)
		if err != nil {
			return err
		}
		if !got {
			errs = append(errs, api.Invalid(field, ip, fmt.Sprintf("failed to allocate IP %s: provided IP is already allocated", ip)))
		}
	}
	if spec.ClusterIP != "" {
		spec.ClusterIPs = []string{spec.ClusterIP}
	}

	// The node ports.
	if spec.Type == api.ServiceTypeNodePort {
		mine := map[int32]bool{} // explicit ports of this Service taken (or held) already
		for i := range spec.Ports {
			p := &spec.Ports[i]
			switch {
			case p.NodePort == 0:
				continue // after the explicit ones, so that a random pick never takes one of them
			case mine[p.NodePort] || held[nodePortsRng.key(int(p.NodePort))]:
				mine[p.NodePort] = true
				continue
			}
			got, err := a.allocate(ctx, nodePortsRng, int(p.NodePort))
			if err != nil {
				return err
			}
			if !got {
				errs = append(errs, api.Invalid(api.Path("spec").Child("ports").Index(i).Child("nodePort").String(),
					p.NodePort, "provided port is already allocated"))
			}
			mine[p.NodePort] = true
		}
		if len(errs) == 0 {
			for i := range spec.Ports {
				if p := &spec.Ports[i]; p.NodePort == 0 {
					v, err := a.allocateAny(ctx, nodePortsRng, "nodePort")
					if err != nil {
						return err
					}
					p.NodePort = int32(v)
				}
			}
		}
	}
	if len(errs) > 0 {
		return errInvalid(res, svc.Name, errs)
	}
	return nil
}

// keepServiceAllocations fills in, on an update of a Service, what the client left out and the
// stored Service holds, as Kubernetes' patchAllocatedValues and dropTypeDependentFields do, so
// that a PUT of the original manifest (kubectl replace, or apply) changes nothing: the cluster IP,
// and the node ports by port name. A Service that stops being a NodePort Service with its node
// ports unchanged loses them. It runs before validation, and ignores other kinds.
func keepServiceAllocations(obj, old api.Object) {
	svc, ok := obj.(*api.Service)
	prev, ok2 := old.(*api.Service)
	if !ok || !ok2 {
		return
	}
	if svc.Spec.ClusterIP == "" {
		svc.Spec.ClusterIP = prev.Spec.ClusterIP
	}
	if len(svc.Spec.ClusterIPs) == 0 {
		svc.Spec.ClusterIPs = slices.Clone(prev.Spec.ClusterIPs)
	}
	switch {
	case prev.Spec.Type == api.ServiceTypeNodePort && svc.Spec.Type == api.ServiceTypeNodePort:
		keepNodePorts(svc, prev)
	case prev.Spec.Type == api.ServiceTypeNodePort && slices.Equal(nodePortList(svc), nodePortList(prev)):
		for i := range svc.Spec.Ports {
			svc.Spec.Ports[i].NodePort = 0
		}
	}
}

func nodePortList(svc *api.Service) []int32 {
	out := make([]int32, len(svc.Spec.Ports))
	for i, p := range svc.Spec.Ports {
		out[i] = p.NodePort
	}
	return out
}

// keepNodePorts gives each port of svc without a nodePort the one the port of the same name had
// in old, unless another port of svc uses it (Kubernetes' patchAllocatedValues): an update that
// does not mention the node ports, such as kubectl apply of the original manifest, keeps them.
func keepNodePorts(svc, old *api.Service) {
	used := map[int32]bool{}
	for _, p := range svc.Spec.Ports {
		if p.NodePort != 0 {
			used[p.NodePort] = true
		}
	}
	byName := map[string]int32{}
	for _, p := range old.Spec.Ports {
		byName[p.Name] = p.NodePort
	}
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if v := byName[p.Name]; p.NodePort == 0 && v != 0 && !used[v] {
			p.NodePort = v
			used[v] = true
		}
	}
}

// allocationKeys returns the keys of the values svc holds.
func allocationKeys(svc *api.Service) []string {
	var keys []string
	if ip := svc.Spec.ClusterIP; ip != "" && ip != api.ClusterIPNone {
		if v, ok := serviceIPs.parse(ip); ok && serviceIPs.contains(v) {
			keys = append(keys, serviceIPs.key(v))
		}
	}
	if svc.Spec.Type == api.ServiceTypeNodePort {
		for _, p := range svc.Spec.Ports {
			if p.NodePort != 0 {
				if k := nodePortsRng.key(int(p.NodePort)); !slices.Contains(keys, k) {
					keys = append(keys, k)
				}
			}
		}
	}
	return keys
}

// releaseAllocations frees the cluster IPs and node ports that any of objs (versions of one
// Service, with one UID) held, except those the Service as now stored holds: call it once a
// create, update or delete of a Service has its outcome, whatever it is. After a failed or dry-run
// create it frees what admission allocated; after an update what the Service gave up (or, if the
// write failed, what admission allocated for it); after a delete everything. It is idempotent
// and safe concurrently: a key is freed only if it still names this Service's UID. Other kinds
// are ignored. Failures are logged: the value stays taken.
func (s *Server) releaseAllocations(ctx context.Context, res *api.Resource, objs ...api.Object) {
	if res.Kind != "Service" || len(objs) == 0 {
		return
	}
	first, ok := objs[0].(*api.Service)
	if !ok {
		return
	}
	var candidates []string
	for _, o := range objs {
		if svc, ok := o.(*api.Service); ok && svc.UID == first.UID {
			for _, k := range allocationKeys(svc) {
				if !slices.Contains(candidates, k) {
					candidates = append(candidates, k)
				}
			}
		}
	}
	if len(candidates) == 0 {
		return
	}
	held := map[string]bool{}
	kv, err := s.store.Get(ctx, storageKey(res, first.Namespace, first.Name))
	switch {
	case errors.Is(err, storage.ErrNotFound):
	case err != nil:
		s.log.Warn("free service allocations: read the service", "service", first.Key(), "err", err)
		return
	default:
		cur, err := decodeStored(res, kv.Value, kv.ModRev)
		if err != nil {
			s.log.Warn("free service allocations: read the service", "service", first.Key(), "err", err)
			return
		}
		if svc := cur.(*api.Service); svc.UID == first.UID {
			for _, k := range allocationKeys(svc) {
				held[k] = true
			}
		}
	}
	for _, k := range candidates {
		if held[k] {
			continue
		}
		if err := s.freeKey(ctx, k, first.UID); err != nil {
			s.log.Warn("free a service allocation", "key", k, "service", first.Key(), "err", err)
		}
	}
}

// freeKey deletes an allocation key if it names uid; a key that is gone or names another
// Service is left alone.
func (s *Server) freeKey(ctx context.Context, key, uid string) error {
	kv, err := s.store.Get(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var owner api.ObjectReference
	if err := json.Unmarshal(kv.Value, &owner); err != nil || owner.UID != uid {
		return nil
	}
	_, err = s.store.Delete(ctx, key, kv.ModRev)
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrConflict) {
		return nil
	}
	return err
}
