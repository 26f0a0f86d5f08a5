// Package proxy makes Services work on a node, kube-proxy's way: it watches Services and
// Endpoints and keeps the node's packet filter in step with them.
//
// In iptables mode (the default, and the only one on a kernel without IPVS) every sync
// builds the whole ruleset in memory and applies it with one `iptables-restore --noflush`,
// so the tables never hold half a change and rules of others are left alone:
//
//	nat PREROUTING, OUTPUT ─► MINIK8S-SERVICES
//	    -d VIP -p tcp --dport 80        ─► MINIK8S-SVC-<hash>   one chain per service port
//	    ...
//	    -m addrtype --dst-type LOCAL    ─► MINIK8S-NODEPORTS    (last rule)
//	MINIK8S-NODEPORTS
//	    -p tcp --dport 30080            ─► MINIK8S-MARK-MASQ, MINIK8S-SVC-<hash>
//	MINIK8S-SVC-<hash>
//	    ! -s CLUSTER-CIDR               ─► MINIK8S-MARK-MASQ    (replies must come back here)
//	    statistic 1/n, 1/(n-1), ... , 1 ─► MINIK8S-SEP-<hash>   one chain per endpoint
//	MINIK8S-SEP-<hash>
//	    -s ENDPOINT                     ─► MINIK8S-MARK-MASQ    (hairpin)
//	    DNAT --to-destination ENDPOINT
//	nat POSTROUTING ─► MINIK8S-POSTROUTING: MASQUERADE what carries mark 0x4000
//	filter INPUT, FORWARD, OUTPUT (new connections) ─► MINIK8S-SERVICES:
//	    REJECT (a TCP reset, or ICMP port unreachable) service ports without endpoints,
//	    and, with Options.ServiceCIDR, every other address and port of the service range,
//	    so that nothing meant for a Service leaves the node.
//
// Chain names are hashes of the service port (and endpoint), so the same cluster state
// always gives byte for byte the same ruleset. The Proxier coalesces changes (at most one
// sync per MinSyncPeriod) and resyncs everything every SyncPeriod; it leaves its rules in
// place when it stops, so Services keep working while it restarts. Cleanup removes them.
//
// In IPVS mode (github.com/moby/ipvs, where the kernel has it) service ports become IPVS
// virtual servers whose addresses are bound to a dummy link, and iptables keeps only the
// masquerade rules.
package proxy
