package proxy

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/minik8s/minik8s/api"
)

// The chains of the ruleset. Everything the proxy makes starts with ChainPrefix, and
// nothing else may: Cleanup removes every chain so named.
const (
	ChainPrefix      = "MINIK8S-"
	chainServices    = "MINIK8S-SERVICES"
	chainNodePorts   = "MINIK8S-NODEPORTS"
	chainPostrouting = "MINIK8S-POSTROUTING"
	chainMarkMasq    = "MINIK8S-MARK-MASQ"
	chainSvcPrefix   = "MINIK8S-SVC-"
	chainSepPrefix   = "MINIK8S-SEP-"

	// masqMark marks packets that MINIK8S-POSTROUTING masquerades (kube-proxy's bit).
	masqMark = "0x4000"
)

// jump is a rule in a built-in chain that leads into ours.
type jump struct {
	table, chain, target string
	spec                 []string // the rule's matches, before -j
}

// jumps are the only rules the proxy puts in built-in chains. Filter's are for new
// connections only: established ones were accepted (and NATed) when they began.
var jumps = []jump{
	{"nat", "PREROUTING", chainServices, []string{"-m", "comment", "--comment", q("minik8s service portals")}},
	{"nat", "OUTPUT", chainServices, []string{"-m", "comment", "--comment", q("minik8s service portals")}},
	{"nat", "POSTROUTING", chainPostrouting, []string{"-m", "comment", "--comment", q("minik8s postrouting rules")}},
	{"filter", "INPUT", chainServices, []string{"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", q("minik8s service portals")}},
	{"filter", "FORWARD", chainServices, []string{"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", q("minik8s service portals")}},
	{"filter", "OUTPUT", chainServices, []string{"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", q("minik8s service portals")}},
}

// BuildIPTables returns the whole ruleset for services and endpoints, as input for
// `iptables-restore --noflush`, for tables that hold none of the proxy's rules yet. It is
// a pure function: the same objects and options give the same bytes, whatever their
// order. On tables that may hold an earlier ruleset use BuildIPTablesOver.
func BuildIPTables(services []*api.Service, endpoints []*api.Endpoints, opts Options) []byte {
	return BuildIPTablesOver(nil, services, endpoints, opts)
}

// BuildIPTablesOver is BuildIPTables for tables that hold saved now (the output of
// `iptables-save` for the nat and filter tables): each of the proxy's chains is flushed and
// written again, those no longer wanted are deleted, and the jumps from the built-in chains
// are added only where missing, so that applying the result any number of times leaves
// one copy of everything. Rules of others are not touched.
func BuildIPTablesOver(saved []byte, services []*api.Service, endpoints []*api.Endpoints, opts Options) []byte {
	cur := parseSaved(saved)
	sps := servicePorts(services, endpoints)
	var b bytes.Buffer
	writeNAT(&b, cur["nat"], sps, opts, false)
	writeFilter(&b, cur["filter"], sps, opts, false)
	return b.Bytes()
}

// buildIPVSRules is the iptables half of IPVS mode: the masquerade marks and the rejects,
// without any DNAT (IPVS does that).
func buildIPVSRules(saved []byte, sps []servicePort, opts Options) []byte {
	cur := parseSaved(saved)
	var b bytes.Buffer
	writeNAT(&b, cur["nat"], sps, opts, true)
	writeFilter(&b, cur["filter"], sps, opts, true)
	return b.Bytes()
}

// cleanupRules returns the restore input that removes every chain of ours from the tables
// in saved, and every rule of a built-in chain that jumps to one. Nil when there is none.
func cleanupRules(saved []byte) []byte {
	cur := parseSaved(saved)
	var b bytes.Buffer
	for _, table := range []string{"nat", "filter"} {
		t := cur[table]
		stale := t.stale(nil)
		if len(stale) == 0 {
			continue
		}
		fmt.Fprintf(&b, "*%s\n", table)
		for _, c := range stale {
			fmt.Fprintf(&b, ":%s - [0:0]\n", c)
		}
		writeRemovals(&b, t, stale)
		b.WriteString("COMMIT\n")
	}
	return b.Bytes()
}

// writeRemovals deletes the rules of built-in chains that jump to the stale chains, then
// the chains, which must have been declared (flushed) above: a chain can only be deleted
// when nothing refers to it, and ours refer to each other.
func writeRemovals(b *bytes.Buffer, t *savedTable, stale []string) {
	if len(stale) == 0 {
		return
	}
	for _, r := range t.jumpsInto(stale) {
		fmt.Fprintf(b, "-D %s %s\n", r.chain, r.spec)
	}
	for _, c := range stale {
		fmt.Fprintf(b, "-X %s\n", c)
	}
}

// rules collects chains and their rules in the order they are written.
type rules struct {
	chains []string
	lines  []string
}

func (r *rules) chain(name string) { r.chains = append(r.chains, name) }

func (r *rules) add(chain string, args ...string) {
	r.lines = append(r.lines, "-A "+chain+" "+strings.Join(args, " "))
}

// q quotes an argument for iptables-restore.
func q(s string) string { return strconv.Quote(s) }

func comment(s string) []string { return []string{"-m", "comment", "--comment", q(s)} }

// proto matches the protocol and the destination port.
func proto(sp servicePort, port int32) []string {
	return []string{"-p", sp.protocol, "-m", sp.protocol, "--dport", strconv.Itoa(int(port))}
}

func cat(parts ...[]string) []string { return slices.Concat(parts...) }

// nodePortMatches are the matches for "addressed to this node", one per node address or
// the address type where no addresses were given. Loopback is left out: packets to
// 127.0.0.1 cannot be routed to a Pod.
func nodePortMatches(opts Options) [][]string {
	if len(opts.NodeIPs) == 0 {
		return [][]string{{"-m", "addrtype", "--dst-type", "LOCAL", "!", "-d", "127.0.0.0/8"}}
	}
	ips := slices.Clone(opts.NodeIPs)
	slices.SortFunc(ips, compareIP)
	var out [][]string
	for _, ip := range slices.Compact(ips) {
		if isIPv4(ip) {
			out = append(out, []string{"-d", ip + "/32"})
		}
	}
	return out
}

func writeNAT(b *bytes.Buffer, cur *savedTable, sps []servicePort, opts Options, ipvs bool) {
	var r rules
	for _, c := range []string{chainServices, chainNodePorts, chainPostrouting, chainMarkMasq} {
		r.chain(c)
	}
	markMasq := []string{"-j", chainMarkMasq}
	r.add(chainMarkMasq, "-j", "MARK", "--or-mark", masqMark)
	if ipvs {
		// A Pod that reaches itself through a Service: IPVS gives no place to mark it, so
		// it is recognised by source = destination after the DNAT.
		for _, sp := range sps {
			for _, e := range sp.endpoints {
				r.add(chainPostrouting, cat(comment(sp.name+" hairpin"), []string{"-s", e.ip + "/32", "-d", e.ip + "/32"}, proto(sp, e.port), markMasq)...)
			}
		}
	}
	r.add(chainPostrouting, "-m", "mark", "!", "--mark", masqMark+"/"+masqMark, "-j", "RETURN")
	// Clear the mark, so that a packet that comes through again is not masqueraded twice.
	r.add(chainPostrouting, "-j", "MARK", "--xor-mark", masqMark)
	r.add(chainPostrouting, cat(comment("minik8s service traffic requiring SNAT"), []string{"-j", "MASQUERADE", "--random-fully"})...)

	for _, sp := range sps {
		vip := []string{"-d", sp.clusterIP + "/32"}
		if ipvs {
			if opts.ClusterCIDR != "" {
				r.add(chainServices, cat(comment(sp.name+" cluster IP"), []string{"!", "-s", opts.ClusterCIDR}, vip, proto(sp, sp.port), markMasq)...)
			}
			for _, ip := range sp.externalIPs {
				r.add(chainServices, cat(comment(sp.name+" external IP"), []string{"-d", ip + "/32"}, proto(sp, sp.port), markMasq)...)
			}
			if sp.nodePort != 0 {
				r.add(chainNodePorts, cat(comment(sp.name), proto(sp, sp.nodePort), markMasq)...)
			}
			continue
		}
		if len(sp.endpoints) == 0 {
			continue // filter's MINIK8S-SERVICES rejects it
		}
		svc := sp.svcChain()
		r.chain(svc)
		toSvc := []string{"-j", svc}
		r.add(chainServices, cat(comment(sp.name+" cluster IP"), vip, proto(sp, sp.port), toSvc)...)
		for _, ip := range sp.externalIPs {
			m := cat(comment(sp.name+" external IP"), []string{"-d", ip + "/32"}, proto(sp, sp.port))
			r.add(chainServices, cat(m, markMasq)...)
			r.add(chainServices, cat(m, toSvc)...)
		}
		if sp.nodePort != 0 {
			m := cat(comment(sp.name), proto(sp, sp.nodePort))
			r.add(chainNodePorts, cat(m, markMasq)...)
			r.add(chainNodePorts, cat(m, toSvc)...)
		}
		if opts.ClusterCIDR != "" {
			r.add(svc, cat(comment(sp.name+" cluster IP"), []string{"!", "-s", opts.ClusterCIDR}, vip, proto(sp, sp.port), markMasq)...)
		}
		if sp.affinity {
			// A client seen recently goes back to the endpoint it had.
			for _, e := range sp.endpoints {
				sep := sp.sepChain(e)
				r.add(svc, cat(comment(sp.name+" -> "+e.String()), []string{"-m", "recent", "--name", sep, "--rcheck",
					"--seconds", strconv.Itoa(defaultAffinitySeconds), "--reap", "-j", sep})...)
			}
		}
		n := len(sp.endpoints)
		for i, e := range sp.endpoints {
			sep := sp.sepChain(e)
			var pick []string
			switch {
			case i == n-1:
				// The last one takes whatever is left.
			case opts.Mode == ModeRoundRobin:
				// Each rule counts only the connections that passed the rules above it,
				// so rule i takes one of every n-i of them: strictly in turn overall.
				pick = []string{"-m", "statistic", "--mode", "nth", "--every", strconv.Itoa(n - i), "--packet", "0"}
			default:
				// kube-proxy's sequence 1/n, 1/(n-1), ..., 1/2: each endpoint 1/n overall.
				pick = []string{"-m", "statistic", "--mode", "random", "--probability", fmt.Sprintf("%0.10f", 1/float64(n-i))}
			}
			r.add(svc, cat(comment(sp.name+" -> "+e.String()), pick, []string{"-j", sep})...)
		}
		for _, e := range sp.endpoints {
			sep := sp.sepChain(e)
			r.chain(sep)
			c := comment(sp.name)
			r.add(sep, cat(c, []string{"-s", e.ip + "/32"}, markMasq)...)
			var recent []string
			if sp.affinity {
				recent = []string{"-m", "recent", "--name", sep, "--set"}
			}
			r.add(sep, cat(c, recent, []string{"-p", sp.protocol, "-m", sp.protocol, "-j", "DNAT", "--to-destination", e.String()})...)
		}
	}
	for _, m := range nodePortMatches(opts) {
		r.add(chainServices, cat(comment("minik8s service nodeports; this must be the last rule in this chain"), m, []string{"-j", chainNodePorts})...)
	}
	writeTable(b, "nat", cur, r)
}

func writeFilter(b *bytes.Buffer, cur *savedTable, sps []servicePort, opts Options, ipvs bool) {
	var r rules
	r.chain(chainServices)
	for _, sp := range sps {
		if len(sp.endpoints) > 0 {
			continue
		}
		c := comment(sp.name + " has no endpoints")
		reject := rejectFor(sp.protocol)
		r.add(chainServices, cat(c, []string{"-d", sp.clusterIP + "/32"}, proto(sp, sp.port), reject)...)
		for _, ip := range sp.externalIPs {
			r.add(chainServices, cat(c, []string{"-d", ip + "/32"}, proto(sp, sp.port), reject)...)
		}
		if sp.nodePort != 0 {
			for _, m := range nodePortMatches(opts) {
				r.add(chainServices, cat(c, m, proto(sp, sp.nodePort), reject)...)
			}
		}
	}
	// In IPVS mode filter sees the service address of every connection (IPVS rewrites it
	// after filter's INPUT), so the catch-all would refuse them all.
	if opts.ServiceCIDR != "" && !ipvs {
		c := comment("no Service at this address and port")
		r.add(chainServices, cat(c, []string{"-d", opts.ServiceCIDR, "-p", "tcp"}, rejectFor("tcp"))...)
		r.add(chainServices, cat(c, []string{"-d", opts.ServiceCIDR}, rejectFor(""))...)
	}
	writeTable(b, "filter", cur, r)
}

// rejectFor refuses a new connection: a TCP reset for TCP, an ICMP port unreachable for
// the rest. kube-proxy sends ICMP for TCP too, but a Pod whose packets to the service range
// leave the node through the link they came in on (Pods on the node's bridge, service
// range routed there) makes the node send an ICMP redirect first, and the kernel's per-host
// ICMP rate limit then swallows the unreachable: the client would wait for a timeout
// instead of being refused. A reset is not rate-limited.
func rejectFor(protocol string) []string {
	if protocol == "tcp" {
		return []string{"-j", "REJECT", "--reject-with", "tcp-reset"}
	}
	return []string{"-j", "REJECT", "--reject-with", "icmp-port-unreachable"}
}

// writeTable writes one table: the chains (declaring a chain flushes it, and stale chains
// are declared to be deleted at the end), the missing jumps into ours, the rules, and the
// removal of the chains of ours that are no longer wanted.
func writeTable(b *bytes.Buffer, table string, cur *savedTable, r rules) {
	fmt.Fprintf(b, "*%s\n", table)
	keep := map[string]bool{}
	for _, c := range r.chains {
		keep[c] = true
	}
	stale := cur.stale(keep)
	// The fixed chains first, then the per-service ones sorted, then those to delete.
	var fixed, perService []string
	for _, c := range r.chains {
		if strings.HasPrefix(c, chainSvcPrefix) || strings.HasPrefix(c, chainSepPrefix) {
			perService = append(perService, c)
		} else {
			fixed = append(fixed, c)
		}
	}
	slices.Sort(perService)
	for _, c := range slices.Concat(fixed, perService, stale) {
		fmt.Fprintf(b, ":%s - [0:0]\n", c)
	}
	for _, j := range jumps {
		if j.table == table && !cur.hasJump(j.chain, j.target) {
			fmt.Fprintf(b, "-I %s 1 %s -j %s\n", j.chain, strings.Join(j.spec, " "), j.target)
		}
	}
	for _, l := range r.lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	writeRemovals(b, cur, stale)
	b.WriteString("COMMIT\n")
}
