package kubelet

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"time"

	"github.com/minik8s/minik8s/api"
)

// routePods keeps this node's routes to the other nodes' pod subnets: PODCIDR via the node's
// InternalIP, on the machine's own network (Flannel's host-gw model: the nodes share a link).
// It runs until ctx ends, every few seconds, and removes the routes of nodes that are gone.
// Routes are only ever added towards addresses of nodes; there is no default route.
func (k *Kubelet) routePods(ctx context.Context) {
	installed := map[string]string{} // pod CIDR → via
	t := time.NewTicker(3 * time.Second)
	defer t.Stop()
	for {
		nodes, _, err := k.client.Nodes().List(ctx, listAll)
		if err == nil {
			want := wantedRoutes(k.cfg.NodeName, nodes)
			for cidr, via := range want {
				if installed[cidr] == via {
					continue
				}
				if out, err := exec.CommandContext(ctx, "ip", "route", "replace", cidr, "via", via).CombinedOutput(); err != nil {
					k.log.Warn("route to a node's pods", "cidr", cidr, "via", via, "err", fmt.Sprintf("%v: %s", err, strings.TrimSpace(string(out))))
					continue
				}
				installed[cidr] = via
			}
			for cidr, via := range installed {
				if want[cidr] != via {
					_ = exec.CommandContext(ctx, "ip", "route", "del", cidr, "via", via).Run()
					delete(installed, cidr)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// wantedRoutes maps every other node's pod subnet to its InternalIP. It is a pure function.
func wantedRoutes(self string, nodes []*api.Node) map[string]string {
	out := map[string]string{}
	for _, n := range nodes {
		if n.Name == self || n.Spec.PodCIDR == "" {
			continue
		}
		if _, err := netip.ParsePrefix(n.Spec.PodCIDR); err != nil {
			continue
		}
		for _, a := range n.Status.Addresses {
			if a.Type != "InternalIP" {
				continue
			}
			if ip, err := netip.ParseAddr(a.Address); err == nil && !ip.IsLoopback() && !ip.IsUnspecified() {
				out[n.Spec.PodCIDR] = a.Address
			}
		}
	}
	return out
}
