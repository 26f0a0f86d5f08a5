package proxy

import (
	"bufio"
	"bytes"
	"slices"
	"strings"
)

// savedTable is what the ruleset needs to know of one table as iptables-save printed it:
// the chains that exist and the rules that jump somewhere.
type savedTable struct {
	chains []string
	rules  []savedRule
}

type savedRule struct {
	chain  string
	spec   string // everything after "-A CHAIN", as printed (and as -D takes it)
	target string // of -j or -g
}

// parseSaved reads iptables-save output (any number of tables). Lines it does not
// understand are skipped: the result only steers what to delete and what to add.
func parseSaved(saved []byte) map[string]*savedTable {
	out := map[string]*savedTable{}
	var t *savedTable
	sc := bufio.NewScanner(bytes.NewReader(saved))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "*"):
			t = &savedTable{}
			out[line[1:]] = t
		case t == nil:
		case strings.HasPrefix(line, ":"):
			if f := strings.Fields(line[1:]); len(f) > 0 {
				t.chains = append(t.chains, f[0])
			}
		case strings.HasPrefix(line, "-A "):
			chain, spec, _ := strings.Cut(line[3:], " ")
			r := savedRule{chain: chain, spec: spec}
			args := SplitRestoreArgs(spec)
			for i := 0; i+1 < len(args); i++ {
				if args[i] == "-j" || args[i] == "-g" || args[i] == "--jump" || args[i] == "--goto" {
					r.target = args[i+1]
				}
			}
			t.rules = append(t.rules, r)
		}
	}
	return out
}

// ours returns the chains of the proxy in t, sorted. t may be nil.
func (t *savedTable) ours() []string {
	if t == nil {
		return nil
	}
	var out []string
	for _, c := range t.chains {
		if strings.HasPrefix(c, ChainPrefix) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// stale returns the chains of ours in t that keep does not name, sorted.
func (t *savedTable) stale(keep map[string]bool) []string {
	var out []string
	for _, c := range t.ours() {
		if !keep[c] {
			out = append(out, c)
		}
	}
	return out
}

// hasJump reports whether chain has a rule that jumps to target.
func (t *savedTable) hasJump(chain, target string) bool {
	if t == nil {
		return false
	}
	for _, r := range t.rules {
		if r.chain == chain && r.target == target {
			return true
		}
	}
	return false
}

// jumpsInto returns the rules outside the chains of ours that jump to one of chains.
func (t *savedTable) jumpsInto(chains []string) []savedRule {
	if t == nil {
		return nil
	}
	var out []savedRule
	for _, r := range t.rules {
		if !strings.HasPrefix(r.chain, ChainPrefix) && slices.Contains(chains, r.target) {
			out = append(out, r)
		}
	}
	return out
}

// SplitRestoreArgs splits a rule the way iptables-restore does: on blanks, except inside
// double quotes, where a backslash escapes the next character. The fake iptables of the tests
// parses with it too.
func SplitRestoreArgs(s string) []string {
	var out []string
	var cur strings.Builder
	in, quoted, esc := false, false, false
	for _, c := range s {
		switch {
		case esc:
			cur.WriteRune(c)
			esc = false
		case quoted && c == '\\':
			esc = true
		case c == '"':
			quoted = !quoted
			in = true
		case !quoted && (c == ' ' || c == '\t'):
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(c)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}
