package proxy

import "time"

// Load-balancing modes: how a service port picks an endpoint for a new connection.
const (
	// ModeRandom picks each endpoint with the same probability (kube-proxy's way).
	ModeRandom = "random"
	// ModeRoundRobin hands new connections to the endpoints in turn.
	ModeRoundRobin = "roundrobin"
)

// Proxy modes: what carries the rules. See ModeFor.
const (
	ProxyModeIPTables = "iptables"
	ProxyModeIPVS     = "ipvs"
	ProxyModeAuto     = "auto"
)

// Defaults of the Proxier's sync timing.
const (
	DefaultMinSyncPeriod = time.Second
	DefaultSyncPeriod    = 30 * time.Second
)

// Options says how a node proxies Services.
type Options struct {
	// Mode is ModeRandom (also "") or ModeRoundRobin.
	Mode string
	// NodeIPs, when set, are the only addresses NodePorts answer on; empty means every
	// local address of the node but loopback (`-m addrtype --dst-type LOCAL`).
	NodeIPs []string
	// ClusterCIDR is the pod network (10.244.0.0/16). Connections to a cluster IP from
	// outside it (the node itself, other machines) are masqueraded, so that the replies
	// come back through this node, as kube-proxy does with masquerade-all=false. Empty:
	// only hairpin and NodePort traffic is masqueraded.
	ClusterCIDR string
	// ServiceCIDR, when set (10.96.0.0/16), makes the node refuse new connections to any
	// address and port of the service range that no Service has, so that they never
	// leave the node.
	ServiceCIDR string
	// ProxyMode is ProxyModeIPTables (also "") or ProxyModeIPVS; resolve the flag's
	// "auto" with ModeFor first.
	ProxyMode string
	// MinSyncPeriod is the least time between two syncs (DefaultMinSyncPeriod when 0):
	// changes that arrive meanwhile are applied together.
	MinSyncPeriod time.Duration
	// SyncPeriod is how often everything is written again even without a change
	// (DefaultSyncPeriod when 0), which repairs rules that someone else removed.
	SyncPeriod time.Duration
}

func (o Options) minSync() time.Duration {
	if o.MinSyncPeriod > 0 {
		return o.MinSyncPeriod
	}
	return DefaultMinSyncPeriod
}

func (o Options) sync() time.Duration {
	if o.SyncPeriod > 0 {
		return o.SyncPeriod
	}
	return DefaultSyncPeriod
}
