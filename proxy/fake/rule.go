package fake

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// rule is one parsed rule. Every option of the rule is understood, or parseRule fails.
type rule struct {
	args []string

	src, dst   *addrMatch
	proto      string
	protoNeg   bool
	dport      int
	dportNeg   bool
	addrtype   string // the --dst-type wanted, "" when not matched
	addrNeg    bool
	mark       *markMatch
	ctstates   []string
	ctNeg      bool
	stat       *statMatch
	recentName string
	recentOp   string // "rcheck" or "set"

	target     string
	toDest     netip.AddrPort
	markOp     string // "or", "xor", "set"
	markValue  uint32
	markMask   uint32
	rejectWith string
}

type addrMatch struct {
	prefix netip.Prefix
	neg    bool
}

func (m *addrMatch) matches(a netip.Addr) bool {
	return m == nil || m.prefix.Contains(a) != m.neg
}

type markMatch struct {
	value, mask uint32
	neg         bool
}

type statMatch struct {
	mode          string // random or nth
	probability   float64
	every, packet int
}

func parseRule(args []string) (*rule, error) {
	r := &rule{args: slices.Clone(args)}
	modules := map[string]bool{}
	neg := false
	need := func(i int) (string, error) {
		if i+1 >= len(args) {
			return "", fmt.Errorf("option %s needs a value", args[i])
		}
		return args[i+1], nil
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "!" {
			neg = true
			continue
		}
		var v string
		var err error
		switch a {
		case "--random-fully", "--rcheck", "--set", "--reap":
		default:
			if v, err = need(i); err != nil {
				return nil, err
			}
		}
		wasNeg := neg
		neg = false
		// Options of the target come after -j.
		if r.target != "" && a != "-j" {
			if err := r.targetOption(a, v); err != nil {
				return nil, err
			}
			if a != "--random-fully" {
				i++
			}
			continue
		}
		switch a {
		case "-s", "--source", "-d", "--destination":
			p, err := parsePrefix(v)
			if err != nil {
				return nil, err
			}
			m := &addrMatch{prefix: p, neg: wasNeg}
			if a == "-s" || a == "--source" {
				r.src = m
			} else {
				r.dst = m
			}
		case "-p", "--protocol":
			r.proto, r.protoNeg = strings.ToLower(v), wasNeg
		case "-m", "--match":
			switch v {
			case "tcp", "udp", "sctp":
				if r.proto != v || r.protoNeg {
					return nil, fmt.Errorf("-m %s without -p %s", v, v)
				}
			case "comment", "addrtype", "mark", "statistic", "recent", "conntrack":
			default:
				return nil, fmt.Errorf("match %q is not modelled", v)
			}
			modules[v] = true
		case "--dport", "--destination-port":
			if !modules[r.proto] {
				return nil, fmt.Errorf("--dport without -m %s", r.proto)
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 65535 {
				return nil, fmt.Errorf("bad port %q", v)
			}
			r.dport, r.dportNeg = n, wasNeg
		case "--comment":
			if !modules["comment"] {
				return nil, fmt.Errorf("--comment without -m comment")
			}
			if len(v) > 256 {
				return nil, fmt.Errorf("comment longer than 256 characters")
			}
		case "--dst-type":
			if !modules["addrtype"] {
				return nil, fmt.Errorf("--dst-type without -m addrtype")
			}
			r.addrtype, r.addrNeg = v, wasNeg
		case "--mark":
			if !modules["mark"] {
				return nil, fmt.Errorf("--mark without -m mark")
			}
			val, mask, err := parseMark(v)
			if err != nil {
				return nil, err
			}
			r.mark = &markMatch{value: val, mask: mask, neg: wasNeg}
		case "--ctstate":
			if !modules["conntrack"] {
				return nil, fmt.Errorf("--ctstate without -m conntrack")
			}
			r.ctstates, r.ctNeg = strings.Split(v, ","), wasNeg
		case "--mode":
			if !modules["statistic"] || (v != "random" && v != "nth") {
				return nil, fmt.Errorf("bad statistic mode %q", v)
			}
			r.stat = &statMatch{mode: v}
		case "--probability":
			p, err := strconv.ParseFloat(v, 64)
			if r.stat == nil || r.stat.mode != "random" || err != nil || p < 0 || p > 1 {
				return nil, fmt.Errorf("bad --probability %q", v)
			}
			r.stat.probability = p
		case "--every", "--packet":
			n, err := strconv.Atoi(v)
			if r.stat == nil || r.stat.mode != "nth" || err != nil || n < 0 {
				return nil, fmt.Errorf("bad %s %q", a, v)
			}
			if a == "--every" {
				r.stat.every = n
			} else {
				r.stat.packet = n
			}
		case "--name":
			if !modules["recent"] {
				return nil, fmt.Errorf("--name without -m recent")
			}
			r.recentName = v
		case "--rcheck", "--set":
			if !modules["recent"] {
				return nil, fmt.Errorf("%s without -m recent", a)
			}
			r.recentOp = a[2:]
			continue
		case "--reap":
			continue
		case "--seconds":
			if _, err := strconv.Atoi(v); err != nil {
				return nil, fmt.Errorf("bad --seconds %q", v)
			}
		case "-j", "--jump":
			r.target = v
		default:
			return nil, fmt.Errorf("option %q is not modelled", a)
		}
		i++
	}
	if r.stat != nil && r.stat.mode == "nth" && (r.stat.every < 1 || r.stat.packet >= r.stat.every) {
		return nil, fmt.Errorf("bad nth statistic: --every %d --packet %d", r.stat.every, r.stat.packet)
	}
	if r.recentName != "" && r.recentOp == "" {
		return nil, fmt.Errorf("-m recent without --rcheck or --set")
	}
	switch r.target {
	case "REJECT":
		if r.rejectWith == "tcp-reset" && (r.proto != "tcp" || r.protoNeg) {
			return nil, fmt.Errorf("--reject-with tcp-reset is only for -p tcp")
		}
	case "DNAT":
		if !r.toDest.IsValid() {
			return nil, fmt.Errorf("DNAT without --to-destination")
		}
	case "MARK":
		if r.markOp == "" {
			return nil, fmt.Errorf("MARK without --or-mark, --xor-mark or --set-xmark")
		}
	}
	return r, nil
}

func (r *rule) targetOption(opt, v string) error {
	switch {
	case r.target == "DNAT" && opt == "--to-destination":
		ap, err := netip.ParseAddrPort(v)
		if err != nil {
			return fmt.Errorf("bad --to-destination %q (the fake wants ip:port)", v)
		}
		r.toDest = ap
	case r.target == "MARK" && (opt == "--or-mark" || opt == "--xor-mark" || opt == "--set-xmark"):
		val, mask, err := parseMark(v)
		if err != nil {
			return err
		}
		r.markOp, r.markValue, r.markMask = map[string]string{"--or-mark": "or", "--xor-mark": "xor", "--set-xmark": "set"}[opt], val, mask
	case r.target == "REJECT" && opt == "--reject-with":
		switch v {
		case "icmp-port-unreachable", "icmp-net-unreachable", "icmp-host-unreachable", "tcp-reset", "icmp-admin-prohibited":
		default:
			return fmt.Errorf("bad --reject-with %q", v)
		}
		r.rejectWith = v
	case r.target == "MASQUERADE" && opt == "--random-fully":
	default:
		return fmt.Errorf("option %s of target %s is not modelled", opt, r.target)
	}
	return nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, fmt.Errorf("bad address %q", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("bad address %q", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func parseMark(s string) (value, mask uint32, err error) {
	v, m, hasMask := strings.Cut(s, "/")
	x, err := strconv.ParseUint(v, 0, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("bad mark %q", s)
	}
	mask = 0xffffffff
	if hasMask {
		y, err := strconv.ParseUint(m, 0, 32)
		if err != nil {
			return 0, 0, fmt.Errorf("bad mark %q", s)
		}
		mask = uint32(y)
	}
	return uint32(x), mask, nil
}
