package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"sync"

	"github.com/minik8s/minik8s/api"
)

// ClusterCIDR is the pod network; each node gets a /24 of it.
const ClusterCIDR = "10.244.0.0/16"

var podCIDRMu sync.Mutex

// allocatePodCIDR picks the lowest /24 of the cluster range that no other node holds. The
// Node's create (compare-and-swap on the key) and this lock keep two nodes of this server
// apart; the lease is the Node object itself, so a deleted node's subnet is free again.
func (s *Server) allocatePodCIDR(ctx context.Context, node string) (string, error) {
	podCIDRMu.Lock()
	defer podCIDRMu.Unlock()
	res := api.LookupResource("nodes")
	kvs, _, err := s.store.List(ctx, storagePrefix(res, ""))
	if err != nil {
		return "", err
	}
	used := map[string]bool{}
	for _, kv := range kvs {
		obj, err := decodeStored(res, kv.Value, kv.ModRev)
		if err != nil {
			return "", err
		}
		if n := obj.(*api.Node); n.Name != node && n.Spec.PodCIDR != "" {
			used[n.Spec.PodCIDR] = true
		}
	}
	base := netip.MustParsePrefix(ClusterCIDR).Addr().As4()
	for i := 0; i < 256; i++ {
		cidr := fmt.Sprintf("%d.%d.%d.0/24", base[0], base[1], i)
		if !used[cidr] {
			return cidr, nil
		}
	}
	return "", newStatus(http.StatusServiceUnavailable, "ServiceUnavailable", "no pod subnet is left in "+ClusterCIDR)
}
