package api

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// LabelSelector is the structured label query used in object specs, such as
// a ReplicaSet's spec.selector. All of its requirements must hold. A nil
// *LabelSelector matches nothing; an empty one matches everything.
type LabelSelector struct {
	// MatchLabels requires each key to be present with exactly this value.
	MatchLabels map[string]string `json:"matchLabels,omitempty"`
	// MatchExpressions lists further requirements.
	MatchExpressions []LabelSelectorRequirement `json:"matchExpressions,omitempty"`
}

// LabelSelectorRequirement is one requirement of a LabelSelector: a key, an
// operator (LabelSelectorOpIn, LabelSelectorOpNotIn, LabelSelectorOpExists or
// LabelSelectorOpDoesNotExist) and, for In and NotIn, a non-empty set of
// values.
type LabelSelectorRequirement struct {
	// Key is the label key the requirement applies to.
	Key string `json:"key"`
	// Operator relates the key to the values.
	Operator string `json:"operator"`
	// Values must be non-empty for In and NotIn, and empty for Exists and
	// DoesNotExist.
	Values []string `json:"values,omitempty"`
}

// The operators of a LabelSelectorRequirement.
const (
	// LabelSelectorOpIn requires the label to be present with one of the values.
	LabelSelectorOpIn = "In"
	// LabelSelectorOpNotIn requires the label to be absent or to have none of the values.
	LabelSelectorOpNotIn = "NotIn"
	// LabelSelectorOpExists requires the label to be present, with any value.
	LabelSelectorOpExists = "Exists"
	// LabelSelectorOpDoesNotExist requires the label to be absent.
	LabelSelectorOpDoesNotExist = "DoesNotExist"
)

// Selector is a compiled label query.
type Selector interface {
	// Matches reports whether a set of labels satisfies the query.
	Matches(labels map[string]string) bool
	// Empty reports whether the query has no requirements, so that it
	// matches everything.
	Empty() bool
	// String returns the query in the canonical form that ParseSelector
	// reads, such as "a=b,c!=d,e in (x,y)". A selector that matches nothing
	// (from a nil *LabelSelector) has no such form and returns "", as in
	// Kubernetes.
	String() string
}

// lblOp is the operator of a parsed requirement.
type lblOp int

const (
	lblOpEquals lblOp = iota
	lblOpNotEquals
	lblOpIn
	lblOpNotIn
	lblOpExists
	lblOpDoesNotExist
)

// lblRequirement is one requirement of a lblSelector. values is sorted and
// holds one value for the (not) equals operators.
type lblRequirement struct {
	key    string
	op     lblOp
	values []string
}

// matches reports whether labels satisfy the requirement.
func (r lblRequirement) matches(labels map[string]string) bool {
	v, ok := labels[r.key]
	switch r.op {
	case lblOpEquals:
		return ok && v == r.values[0]
	case lblOpNotEquals:
		return !ok || v != r.values[0]
	case lblOpIn:
		return ok && slices.Contains(r.values, v)
	case lblOpNotIn:
		return !ok || !slices.Contains(r.values, v)
	case lblOpExists:
		return ok
	case lblOpDoesNotExist:
		return !ok
	}
	return false
}

// String returns the requirement in the form ParseSelector reads.
func (r lblRequirement) String() string {
	switch r.op {
	case lblOpEquals:
		return r.key + "=" + r.values[0]
	case lblOpNotEquals:
		return r.key + "!=" + r.values[0]
	case lblOpIn:
		return r.key + " in (" + strings.Join(r.values, ",") + ")"
	case lblOpNotIn:
		return r.key + " notin (" + strings.Join(r.values, ",") + ")"
	case lblOpDoesNotExist:
		return "!" + r.key
	}
	return r.key
}

// lblSelector is the Selector made of requirements that must all hold.
type lblSelector struct {
	reqs []lblRequirement
}

// Matches reports whether labels satisfy every requirement.
func (s lblSelector) Matches(labels map[string]string) bool {
	for _, r := range s.reqs {
		if !r.matches(labels) {
			return false
		}
	}
	return true
}

// Empty reports whether there are no requirements.
func (s lblSelector) Empty() bool { return len(s.reqs) == 0 }

// String joins the (sorted) requirements with commas.
func (s lblSelector) String() string {
	parts := make([]string, len(s.reqs))
	for i, r := range s.reqs {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

// lblNewSelector sorts the requirements (by key, then by form) and their
// values, dropping duplicate values.
func lblNewSelector(reqs []lblRequirement) lblSelector {
	for i := range reqs {
		if reqs[i].op == lblOpIn || reqs[i].op == lblOpNotIn {
			vals := slices.Clone(reqs[i].values)
			slices.Sort(vals)
			reqs[i].values = slices.Compact(vals)
		}
	}
	slices.SortStableFunc(reqs, func(a, b lblRequirement) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.String(), b.String())
	})
	return lblSelector{reqs: reqs}
}

// lblNothingSelector is the Selector that matches no labels at all.
type lblNothingSelector struct{}

// Matches reports false for any labels.
func (lblNothingSelector) Matches(map[string]string) bool { return false }

// Empty reports false: the selector is not the one that matches everything.
func (lblNothingSelector) Empty() bool { return false }

// String returns "", as Kubernetes does for this selector.
func (lblNothingSelector) String() string { return "" }

// SelectorFromSet returns the selector that requires each key of m to be
// present with its value. A nil or empty m matches everything. The keys and
// values are not validated.
func SelectorFromSet(m map[string]string) Selector {
	reqs := make([]lblRequirement, 0, len(m))
	for k, v := range m {
		reqs = append(reqs, lblRequirement{key: k, op: lblOpEquals, values: []string{v}})
	}
	return lblNewSelector(reqs)
}

// LabelSelectorAsSelector compiles a LabelSelector. As in Kubernetes, a nil
// ls gives a selector that matches nothing, and an empty one a selector that
// matches everything. It fails on invalid keys or values, on an unknown
// operator, on In or NotIn without values, and on Exists or DoesNotExist with
// values.
func LabelSelectorAsSelector(ls *LabelSelector) (Selector, error) {
	if ls == nil {
		return lblNothingSelector{}, nil
	}
	reqs := make([]lblRequirement, 0, len(ls.MatchLabels)+len(ls.MatchExpressions))
	for k, v := range ls.MatchLabels {
		if err := IsQualifiedName(k); err != nil {
			return nil, fmt.Errorf("invalid label selector: matchLabels: %v", err)
		}
		if err := IsValidLabelValue(v); err != nil {
			return nil, fmt.Errorf("invalid label selector: matchLabels[%q]: %v", k, err)
		}
		reqs = append(reqs, lblRequirement{key: k, op: lblOpEquals, values: []string{v}})
	}
	for i, e := range ls.MatchExpressions {
		where := fmt.Sprintf("invalid label selector: matchExpressions[%d]", i)
		if err := IsQualifiedName(e.Key); err != nil {
			return nil, fmt.Errorf("%s.key: %v", where, err)
		}
		var op lblOp
		switch e.Operator {
		case LabelSelectorOpIn, LabelSelectorOpNotIn:
			op = lblOpIn
			if e.Operator == LabelSelectorOpNotIn {
				op = lblOpNotIn
			}
			if len(e.Values) == 0 {
				return nil, fmt.Errorf("%s.values: must be non-empty for operator %q", where, e.Operator)
			}
			for j, v := range e.Values {
				if err := IsValidLabelValue(v); err != nil {
					return nil, fmt.Errorf("%s.values[%d]: %v", where, j, err)
				}
			}
		case LabelSelectorOpExists, LabelSelectorOpDoesNotExist:
			op = lblOpExists
			if e.Operator == LabelSelectorOpDoesNotExist {
				op = lblOpDoesNotExist
			}
			if len(e.Values) != 0 {
				return nil, fmt.Errorf("%s.values: must be empty for operator %q", where, e.Operator)
			}
		default:
			return nil, fmt.Errorf("%s.operator: %q is not a valid operator; must be one of %q, %q, %q, %q",
				where, e.Operator, LabelSelectorOpIn, LabelSelectorOpNotIn, LabelSelectorOpExists, LabelSelectorOpDoesNotExist)
		}
		reqs = append(reqs, lblRequirement{key: e.Key, op: op, values: slices.Clone(e.Values)})
	}
	return lblNewSelector(reqs), nil
}

// ParseSelector parses a label selector in the string form of kubectl's -l
// flag: comma-separated requirements, each one of
//
//	key=value  key==value  key!=value
//	key in (v1,v2)  key notin (v1,v2)
//	key  !key
//
// with whitespace allowed between the parts. "key=" requires an empty value.
// The empty string selects everything. Keys must be qualified names and
// values valid label values; errors name the part that is wrong.
func ParseSelector(s string) (Selector, error) {
	p := lblParser{input: s}
	if err := p.lex(); err != nil {
		return nil, err
	}
	var reqs []lblRequirement
	if p.peek().kind == lblTokEnd {
		return lblNewSelector(nil), nil
	}
	for {
		r, err := p.requirement()
		if err != nil {
			return nil, err
		}
		reqs = append(reqs, r)
		switch t := p.next(); t.kind {
		case lblTokEnd:
			return lblNewSelector(reqs), nil
		case lblTokComma:
			if p.peek().kind == lblTokEnd {
				return nil, p.errorf("expected a requirement after the last \",\", found end of string")
			}
		default:
			return nil, p.errorf("expected \",\" or end of string after %q, found %s", r.String(), t)
		}
	}
}

// lblTokKind is the kind of a selector token.
type lblTokKind int

const (
	lblTokEnd lblTokKind = iota
	lblTokIdent
	lblTokComma
	lblTokEquals       // =
	lblTokDoubleEquals // ==
	lblTokNotEquals    // !=
	lblTokNot          // !
	lblTokOpen         // (
	lblTokClose        // )
)

type lblToken struct {
	kind lblTokKind
	text string
}

// String describes the token for error messages.
func (t lblToken) String() string {
	if t.kind == lblTokEnd {
		return "end of string"
	}
	return fmt.Sprintf("%q", t.text)
}

// lblParser parses the string form of a label selector.
type lblParser struct {
	input string
	toks  []lblToken
	pos   int
}

// errorf returns a parse error that names the whole selector.
func (p *lblParser) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid label selector %q: %s", p.input, fmt.Sprintf(format, args...))
}

// lex splits the input into tokens. Identifiers are runs of characters other
// than whitespace and the special characters ,=!()<>.
func (p *lblParser) lex() error {
	s := p.input
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == ',':
			p.toks = append(p.toks, lblToken{lblTokComma, ","})
			i++
		case c == '(':
			p.toks = append(p.toks, lblToken{lblTokOpen, "("})
			i++
		case c == ')':
			p.toks = append(p.toks, lblToken{lblTokClose, ")"})
			i++
		case c == '=' && i+1 < len(s) && s[i+1] == '=':
			p.toks = append(p.toks, lblToken{lblTokDoubleEquals, "=="})
			i += 2
		case c == '=':
			p.toks = append(p.toks, lblToken{lblTokEquals, "="})
			i++
		case c == '!' && i+1 < len(s) && s[i+1] == '=':
			p.toks = append(p.toks, lblToken{lblTokNotEquals, "!="})
			i += 2
		case c == '!':
			p.toks = append(p.toks, lblToken{lblTokNot, "!"})
			i++
		case c == '<' || c == '>':
			return p.errorf("unsupported operator %q at offset %d; use =, ==, !=, in, notin, or key / !key for existence", string(c), i)
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r,()=!<>", rune(s[j])) {
				j++
			}
			p.toks = append(p.toks, lblToken{lblTokIdent, s[i:j]})
			i = j
		}
	}
	return nil
}

// peek returns the next token without consuming it.
func (p *lblParser) peek() lblToken {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return lblToken{kind: lblTokEnd}
}

// next consumes and returns the next token.
func (p *lblParser) next() lblToken {
	t := p.peek()
	if p.pos < len(p.toks) {
		p.pos++
	}
	return t
}

// requirement parses one requirement.
func (p *lblParser) requirement() (lblRequirement, error) {
	t := p.next()
	if t.kind == lblTokNot {
		k := p.next()
		if k.kind != lblTokIdent {
			return lblRequirement{}, p.errorf("expected a label key after \"!\", found %s", k)
		}
		if err := IsQualifiedName(k.text); err != nil {
			return lblRequirement{}, p.errorf("%v", err)
		}
		return lblRequirement{key: k.text, op: lblOpDoesNotExist}, nil
	}
	if t.kind != lblTokIdent {
		return lblRequirement{}, p.errorf("expected a label key or \"!\", found %s", t)
	}
	key := t.text
	if err := IsQualifiedName(key); err != nil {
		return lblRequirement{}, p.errorf("%v", err)
	}

	switch o := p.peek(); {
	case o.kind == lblTokEnd || o.kind == lblTokComma:
		return lblRequirement{key: key, op: lblOpExists}, nil
	case o.kind == lblTokEquals || o.kind == lblTokDoubleEquals || o.kind == lblTokNotEquals:
		p.next()
		op := lblOpEquals
		if o.kind == lblTokNotEquals {
			op = lblOpNotEquals
		}
		value := ""
		switch v := p.peek(); v.kind {
		case lblTokIdent:
			p.next()
			value = v.text
		case lblTokEnd, lblTokComma:
		default:
			return lblRequirement{}, p.errorf("expected a value after %q, found %s", key+o.text, v)
		}
		if err := IsValidLabelValue(value); err != nil {
			return lblRequirement{}, p.errorf("%v", err)
		}
		return lblRequirement{key: key, op: op, values: []string{value}}, nil
	case o.kind == lblTokIdent && (o.text == "in" || o.text == "notin"):
		p.next()
		op := lblOpIn
		if o.text == "notin" {
			op = lblOpNotIn
		}
		values, err := p.valueSet(key + " " + o.text)
		if err != nil {
			return lblRequirement{}, err
		}
		return lblRequirement{key: key, op: op, values: values}, nil
	default:
		return lblRequirement{}, p.errorf("expected =, ==, !=, in, notin, \",\" or end of string after %q, found %s", key, o)
	}
}

// valueSet parses "(v1,v2,...)" after what (such as "a in").
func (p *lblParser) valueSet(what string) ([]string, error) {
	if t := p.next(); t.kind != lblTokOpen {
		return nil, p.errorf("expected \"(\" after %q, found %s", what, t)
	}
	if p.peek().kind == lblTokClose {
		return nil, p.errorf("the value list of %q must not be empty", what)
	}
	var values []string
	for {
		value := ""
		if v := p.peek(); v.kind == lblTokIdent {
			p.next()
			value = v.text
		}
		if err := IsValidLabelValue(value); err != nil {
			return nil, p.errorf("%v", err)
		}
		values = append(values, value)
		switch t := p.next(); t.kind {
		case lblTokComma:
		case lblTokClose:
			return values, nil
		case lblTokEnd:
			return nil, p.errorf("missing \")\" to close the value list of %q", what)
		default:
			return nil, p.errorf("expected \",\" or \")\" in the value list of %q, found %s", what, t)
		}
	}
}

// Kubernetes' rules for label keys and values.
const (
	lblNameMaxLen   = 63
	lblPrefixMaxLen = 253
	lblNameRule     = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
	lblPrefixRule   = "must be a lowercase DNS-1123 subdomain: lowercase alphanumeric characters, '-' or '.', each dot-separated part starting and ending with an alphanumeric character (e.g. 'example.com')"
)

var (
	lblNameRE   = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	lblPrefixRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
)

// IsQualifiedName checks a label key (or annotation key) against the rules
// of Kubernetes: an optional prefix and "/", then a name. The name is at most
// 63 characters of alphanumerics, '-', '_' and '.', starting and ending with
// an alphanumeric; the prefix is a lowercase DNS-1123 subdomain of at most
// 253 characters. Examples: "app", "MyName", "example.com/my-name".
func IsQualifiedName(s string) error {
	var problems []string
	prefix, name, hasPrefix := strings.Cut(s, "/")
	if !hasPrefix {
		name = s
	}
	switch {
	case strings.Contains(name, "/"):
		problems = append(problems, "a qualified name is a name with an optional DNS subdomain prefix and '/', so it holds at most one '/' (e.g. 'MyName' or 'example.com/MyName')")
	case name == "":
		problems = append(problems, "name part must be non-empty")
	default:
		if len(name) > lblNameMaxLen {
			problems = append(problems, fmt.Sprintf("name part must be no more than %d characters", lblNameMaxLen))
		}
		if !lblNameRE.MatchString(name) {
			problems = append(problems, "name part "+lblNameRule+" (e.g. 'MyName', 'my.name' or '123-abc')")
		}
	}
	if hasPrefix {
		switch {
		case prefix == "":
			problems = append(problems, "prefix part must be non-empty when '/' is given")
		case len(prefix) > lblPrefixMaxLen:
			problems = append(problems, fmt.Sprintf("prefix part must be no more than %d characters", lblPrefixMaxLen))
		case !lblPrefixRE.MatchString(prefix):
			problems = append(problems, "prefix part "+lblPrefixRule)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid key %q: %s", s, strings.Join(problems, "; "))
	}
	return nil
}

// IsValidLabelValue checks a label value against the rules of Kubernetes:
// empty, or at most 63 characters of alphanumerics, '-', '_' and '.',
// starting and ending with an alphanumeric. Examples: "", "v1", "my_value".
func IsValidLabelValue(s string) error {
	if s == "" {
		return nil
	}
	var problems []string
	if len(s) > lblNameMaxLen {
		problems = append(problems, fmt.Sprintf("must be no more than %d characters", lblNameMaxLen))
	}
	if !lblNameRE.MatchString(s) {
		problems = append(problems, "must be empty or "+strings.TrimPrefix(lblNameRule, "must ")+" (e.g. 'MyValue', 'my_value' or '12345')")
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid label value %q: %s", s, strings.Join(problems, "; "))
	}
	return nil
}
