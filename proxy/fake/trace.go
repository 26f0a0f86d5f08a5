package fake

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Packet is the first packet of a new connection.
type Packet struct {
	// Src is the source address: a Pod's, a node's, a machine's outside the cluster.
	Src string
	// Dst and Port are where it is sent.
	Dst  string
	Port int
	// Proto is tcp (also "") or udp.
	Proto string
	// Local says Dst is an address of this node (what -m addrtype --dst-type LOCAL tests).
	// After a DNAT to another address the fake takes the new destination as not local:
	// endpoints are Pods.
	Local bool
	// FromNode says a process on the node sends it (not in a Pod): it enters at nat
	// OUTPUT rather than PREROUTING.
	FromNode bool
	// Recent are the `-m recent` lists that hold Src already (session affinity).
	Recent []string
}

// Verdicts of an Outcome.
const (
	Accept = "ACCEPT"
	Reject = "REJECT"
	Drop   = "DROP"
)

// Outcome is one way a connection can go.
type Outcome struct {
	// Dst is where the connection goes, ip:port: the DNAT destination, or the original.
	Dst string
	// DNAT says the destination was rewritten.
	DNAT bool
	// Masquerade says the source is rewritten to the node's address on the way out.
	Masquerade bool
	// Verdict is Accept, Reject or Drop.
	Verdict string
	// Prob is the probability of this outcome (Trace), 1 in Connect.
	Prob float64
	// Recent are the `-m recent` lists the source was added to.
	Recent []string
}

// Trace is every way a new connection can go, with probabilities summing to 1.
type Trace []Outcome

// Destinations returns the DNAT destinations of the accepted outcomes, sorted.
func (tr Trace) Destinations() []string {
	var out []string
	for _, o := range tr {
		if o.Verdict == Accept && o.DNAT {
			out = append(out, o.Dst)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Prob returns the probability that the connection is accepted towards dst.
func (tr Trace) Prob(dst string) float64 {
	var p float64
	for _, o := range tr {
		if o.Verdict == Accept && o.Dst == dst {
			p += o.Prob
		}
	}
	return p
}

// Rejected reports whether every outcome is a reject.
func (tr Trace) Rejected() bool { return tr.all(func(o Outcome) bool { return o.Verdict == Reject }) }

// Masqueraded reports whether every outcome is accepted and masqueraded.
func (tr Trace) Masqueraded() bool {
	return tr.all(func(o Outcome) bool { return o.Verdict == Accept && o.Masquerade })
}

// NotMasqueraded reports whether no outcome is masqueraded.
func (tr Trace) NotMasqueraded() bool { return tr.all(func(o Outcome) bool { return !o.Masquerade }) }

// Untouched reports whether the connection passes as it came: accepted, not rewritten.
func (tr Trace) Untouched() bool {
	return tr.all(func(o Outcome) bool { return o.Verdict == Accept && !o.DNAT && !o.Masquerade })
}

func (tr Trace) all(f func(Outcome) bool) bool {
	if len(tr) == 0 {
		return false
	}
	for _, o := range tr {
		if !f(o) {
			return false
		}
	}
	return true
}

func (tr Trace) String() string {
	var b strings.Builder
	for _, o := range tr {
		fmt.Fprintf(&b, "%s %s dnat=%v masq=%v p=%.4f", o.Verdict, o.Dst, o.DNAT, o.Masquerade, o.Prob)
		if len(o.Recent) > 0 {
			fmt.Fprintf(&b, " recent=%v", o.Recent)
		}
		b.WriteString("; ")
	}
	return b.String()
}

// Trace follows p through the tables as the kernel would for the first packet of a
// connection: nat PREROUTING (OUTPUT for FromNode), filter INPUT, FORWARD or OUTPUT, and
// nat POSTROUTING for what leaves through an interface. Where a statistic match decides,
// both ways are followed, with their probabilities; the outcomes come merged and sorted.
func (t *Tables) Trace(p Packet) (Trace, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ends, err := t.run(p, false)
	if err != nil {
		return nil, err
	}
	merged := map[string]*Outcome{}
	for _, o := range ends {
		k := fmt.Sprint(o.Dst, o.DNAT, o.Masquerade, o.Verdict, o.Recent)
		if m := merged[k]; m != nil {
			m.Prob += o.Prob
		} else {
			o := o
			merged[k] = &o
		}
	}
	var out Trace
	for _, o := range merged {
		out = append(out, *o)
	}
	slices.SortFunc(out, func(a, b Outcome) int {
		return cmp.Or(strings.Compare(a.Verdict, b.Verdict), strings.Compare(a.Dst, b.Dst),
			cmp.Compare(fmt.Sprint(a.Masquerade, a.Recent), fmt.Sprint(b.Masquerade, b.Recent)))
	})
	return out, nil
}

// Connect sends one new connection through, deciding statistic matches as the kernel
// does: `--mode nth` by the rule's own counter of the packets it has seen, `--mode random`
// by a seeded random number. Successive calls see the counters move on, as successive
// connections do; a restore that rewrites a rule starts its counter afresh.
func (t *Tables) Connect(p Packet) (Outcome, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ends, err := t.run(p, true)
	if err != nil {
		return Outcome{}, err
	}
	if len(ends) != 1 {
		return Outcome{}, fmt.Errorf("fake iptables: a connection went %d ways", len(ends))
	}
	return ends[0], nil
}

// state is a packet on one of its possible ways.
type state struct {
	dst    netip.Addr
	port   int
	local  bool
	mark   uint32
	dnat   bool
	masq   bool
	recent []string
	prob   float64
}

type end struct {
	st      state
	verdict string // "" when a user chain ran out or returned
}

type walker struct {
	t       *Tables
	p       Packet
	src     netip.Addr
	proto   string
	tbl     *table
	hook    string
	connect bool
}

func (t *Tables) run(p Packet, connect bool) ([]Outcome, error) {
	src, err := netip.ParseAddr(p.Src)
	if err != nil {
		return nil, fmt.Errorf("fake iptables: source %q: %w", p.Src, err)
	}
	dst, err := netip.ParseAddr(p.Dst)
	if err != nil {
		return nil, fmt.Errorf("fake iptables: destination %q: %w", p.Dst, err)
	}
	proto := strings.ToLower(p.Proto)
	if proto == "" {
		proto = "tcp"
	}
	hook := func(table, chain string, st state) ([]end, error) {
		w := &walker{t: t, p: p, src: src, proto: proto, tbl: t.tables[table], hook: chain, connect: connect}
		if w.tbl == nil {
			return []end{{st, Accept}}, nil
		}
		return w.walk(w.tbl.chains[chain], 0, st, 0)
	}
	natIn := "PREROUTING"
	if p.FromNode {
		natIn = "OUTPUT"
	}
	var out []Outcome
	outcome := func(st state, verdict string) {
		out = append(out, Outcome{Dst: netip.AddrPortFrom(st.dst, uint16(st.port)).String(), DNAT: st.dnat,
			Masquerade: st.masq, Verdict: verdict, Prob: st.prob, Recent: st.recent})
	}
	nat, err := hook("nat", natIn, state{dst: dst, port: p.Port, local: p.Local, prob: 1})
	if err != nil {
		return nil, err
	}
	for _, e := range nat {
		if e.verdict != Accept {
			outcome(e.st, e.verdict)
			continue
		}
		var filterChains []string
		switch {
		case p.FromNode && e.st.local:
			filterChains = []string{"OUTPUT", "INPUT"}
		case p.FromNode:
			filterChains = []string{"OUTPUT"}
		case e.st.local:
			filterChains = []string{"INPUT"}
		default:
			filterChains = []string{"FORWARD"}
		}
		ends := []end{{e.st, Accept}}
		for _, fc := range filterChains {
			var next []end
			for _, f := range ends {
				if f.verdict != Accept {
					next = append(next, f)
					continue
				}
				fe, err := hook("filter", fc, f.st)
				if err != nil {
					return nil, err
				}
				next = append(next, fe...)
			}
			ends = next
		}
		for _, f := range ends {
			if f.verdict != Accept || (!p.FromNode && f.st.local) {
				outcome(f.st, f.verdict)
				continue
			}
			post, err := hook("nat", "POSTROUTING", f.st)
			if err != nil {
				return nil, err
			}
			for _, pe := range post {
				outcome(pe.st, pe.verdict)
			}
		}
	}
	return out, nil
}

// walk runs c from rule i on.
func (w *walker) walk(c *chain, i int, st state, depth int) ([]end, error) {
	if depth > 32 {
		return nil, fmt.Errorf("fake iptables: chains nest deeper than 32 at %s", c.name)
	}
	for ; i < len(c.rules); i++ {
		r := c.rules[i]
		pm := w.match(r, st)
		if pm == 0 {
			continue
		}
		var out []end
		if pm < 1 {
			miss := st
			miss.prob *= 1 - pm
			rest, err := w.walk(c, i+1, miss, depth)
			if err != nil {
				return nil, err
			}
			out = rest
			st.prob *= pm
		}
		hit, err := w.apply(c, i, r, st, depth)
		if err != nil {
			return nil, err
		}
		return append(out, hit...), nil
	}
	if c.builtin {
		return []end{{st, c.policy}}, nil
	}
	return []end{{st, ""}}, nil
}

// apply runs r's target on a packet that matched it.
func (w *walker) apply(c *chain, i int, r *rule, st state, depth int) ([]end, error) {
	if r.recentOp == "set" {
		st.recent = append(slices.Clone(st.recent), r.recentName)
	}
	switch r.target {
	case "":
		return w.walk(c, i+1, st, depth)
	case "ACCEPT", "DROP":
		return []end{{st, r.target}}, nil
	case "REJECT":
		return []end{{st, Reject}}, nil
	case "RETURN":
		if c.builtin {
			return []end{{st, c.policy}}, nil
		}
		return []end{{st, ""}}, nil
	case "MARK":
		switch r.markOp {
		case "or":
			st.mark |= r.markValue
		case "xor":
			st.mark ^= r.markValue
		case "set":
			st.mark = st.mark&^r.markMask ^ r.markValue
		}
		return w.walk(c, i+1, st, depth)
	case "DNAT":
		if w.hook != "PREROUTING" && w.hook != "OUTPUT" {
			return nil, fmt.Errorf("fake iptables: DNAT reached from %s (iptables refuses it)", w.hook)
		}
		to := r.toDest
		if to.Addr() != st.dst {
			st.local = false
		}
		st.dst, st.port, st.dnat = to.Addr(), int(to.Port()), true
		return []end{{st, Accept}}, nil
	case "MASQUERADE":
		if w.hook != "POSTROUTING" {
			return nil, fmt.Errorf("fake iptables: MASQUERADE reached from %s (iptables refuses it)", w.hook)
		}
		st.masq = true
		return []end{{st, Accept}}, nil
	}
	sub := w.tbl.chains[r.target]
	ends, err := w.walk(sub, 0, st, depth+1)
	if err != nil {
		return nil, err
	}
	var out []end
	for _, e := range ends {
		if e.verdict != "" {
			out = append(out, e)
			continue
		}
		rest, err := w.walk(c, i+1, e.st, depth)
		if err != nil {
			return nil, err
		}
		out = append(out, rest...)
	}
	return out, nil
}

// match returns the probability that r matches: 0 or 1 but for statistic matches in a
// trace.
func (w *walker) match(r *rule, st state) float64 {
	if !r.src.matches(w.src) || !r.dst.matches(st.dst) {
		return 0
	}
	if r.proto != "" && (r.proto == w.proto) == r.protoNeg {
		return 0
	}
	if r.dport != 0 && (r.dport == st.port) == r.dportNeg {
		return 0
	}
	if r.addrtype != "" && (r.addrtype == "LOCAL" && st.local) == r.addrNeg {
		return 0
	}
	if r.mark != nil && (st.mark&r.mark.mask == r.mark.value) == r.mark.neg {
		return 0
	}
	if r.ctstates != nil && slices.Contains(r.ctstates, "NEW") == r.ctNeg {
		return 0
	}
	if r.recentOp == "rcheck" && !slices.Contains(w.p.Recent, r.recentName) {
		return 0
	}
	if r.stat == nil {
		return 1
	}
	if !w.connect {
		if r.stat.mode == "random" {
			return r.stat.probability
		}
		return 1 / float64(r.stat.every)
	}
	if r.stat.mode == "random" {
		if w.t.rng.Float64() < r.stat.probability {
			return 1
		}
		return 0
	}
	n := w.t.nth[r]
	w.t.nth[r] = n + 1
	if n%r.stat.every == r.stat.packet {
		return 1
	}
	return 0
}

// Addr joins an address and a port as Outcome.Dst spells them.
func Addr(ip string, port int) string {
	return netip.AddrPortFrom(netip.MustParseAddr(ip), uint16(port)).String()
}
