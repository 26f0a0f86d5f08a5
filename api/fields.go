package api

import (
	"fmt"
	"slices"
	"strings"
)

// FieldSelector is a parsed field query, such as
// "metadata.name=web,status.phase!=Running": requirements on the values of
// an object's fields that must all hold. The zero value has no requirements
// and matches everything.
type FieldSelector struct {
	reqs []fldRequirement
}

// fldRequirement is one requirement of a FieldSelector.
type fldRequirement struct {
	field    string
	notEqual bool
	value    string
}

// String returns the requirement in the form ParseFieldSelector reads.
func (r fldRequirement) String() string {
	op := "="
	if r.notEqual {
		op = "!="
	}
	return r.field + op + fldEscape(r.value)
}

// ParseFieldSelector parses a field selector: comma-separated requirements
// field=value, field==value (the same) or field!=value. Whitespace around
// fields and values is ignored. In a value, a backslash escapes the next
// character, so "\," "\=" and "\\" stand for a comma, an equals sign and a
// backslash. Field names consist of letters, digits, '.', '_' and '-'. The
// empty string selects everything.
func ParseFieldSelector(s string) (FieldSelector, error) {
	bad := func(format string, args ...any) (FieldSelector, error) {
		return FieldSelector{}, fmt.Errorf("invalid field selector %q: %s", s, fmt.Sprintf(format, args...))
	}
	if strings.TrimSpace(s) == "" {
		return FieldSelector{}, nil
	}
	parts, ok := fldSplit(s)
	if !ok {
		return bad("it ends with an unfinished escape \"\\\"; write \"\\\\\" for a backslash")
	}
	var sel FieldSelector
	for i, part := range parts {
		term := strings.TrimSpace(part)
		if term == "" {
			return bad("requirement %d is empty; expected field=value, field==value or field!=value", i+1)
		}
		eq := strings.IndexByte(term, '=')
		if eq < 0 {
			return bad("%q has no operator; expected field=value, field==value or field!=value", term)
		}
		field, rest := term[:eq], term[eq+1:]
		r := fldRequirement{}
		if strings.HasSuffix(field, "!") {
			field = field[:len(field)-1]
			r.notEqual = true
		} else if strings.HasPrefix(rest, "=") {
			rest = rest[1:]
		}
		r.field = strings.TrimSpace(field)
		if r.field == "" {
			return bad("%q has no field name before the operator", term)
		}
		if !fldValidName(r.field) {
			return bad("field name %q must consist of letters, digits, '.', '_' and '-' (e.g. metadata.name, spec.nodeName)", r.field)
		}
		value, ok := fldUnescape(strings.TrimSpace(rest))
		if !ok {
			return bad("value %q of %q has an invalid escape; only \"\\\\\", \"\\,\" and \"\\=\" are allowed", strings.TrimSpace(rest), r.field)
		}
		r.value = value
		sel.reqs = append(sel.reqs, r)
	}
	slices.SortStableFunc(sel.reqs, func(a, b fldRequirement) int {
		if c := strings.Compare(a.field, b.field); c != 0 {
			return c
		}
		return strings.Compare(a.String(), b.String())
	})
	return sel, nil
}

// fldSplit splits s at the commas that are not escaped by a backslash. It
// reports false when s ends in a lone backslash.
func fldSplit(s string) ([]string, bool) {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 == len(s) {
				return nil, false
			}
			i++
		case ',':
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:]), true
}

// fldUnescape resolves the escapes \\ \, and \= in a value.
func fldUnescape(s string) (string, bool) {
	if !strings.Contains(s, `\`) {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' {
			if i+1 == len(s) || !strings.ContainsRune(`\,=`, rune(s[i+1])) {
				return "", false
			}
			i++
			c = s[i]
		}
		b.WriteByte(c)
	}
	return b.String(), true
}

// fldEscape escapes a value so that ParseFieldSelector reads it back.
func fldEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `,`, `\,`, `=`, `\=`).Replace(s)
}

// fldValidName reports whether s is a field name: letters, digits, '.', '_'
// and '-'.
func fldValidName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return s != ""
}

// Empty reports whether the selector has no requirements, so that it matches
// everything.
func (s FieldSelector) Empty() bool {
	return len(s.reqs) == 0
}

// Matches reports whether an object satisfies every requirement. get returns
// the value of a field of the object and whether the field is known; a field
// that get does not know makes the selector not match, whatever the operator.
func (s FieldSelector) Matches(get func(field string) (string, bool)) bool {
	for _, r := range s.reqs {
		v, ok := get(r.field)
		if !ok || (v == r.value) == r.notEqual {
			return false
		}
	}
	return true
}

// Fields returns the names of the fields the selector uses, sorted and
// without duplicates, so that a server can refuse fields it does not support.
func (s FieldSelector) Fields() []string {
	var names []string
	for _, r := range s.reqs {
		names = append(names, r.field)
	}
	return slices.Compact(names) // reqs are sorted by field
}

// String returns the selector in the canonical form that ParseFieldSelector
// reads: requirements sorted by field, "==" written as "=", and special
// characters in values escaped, e.g. "metadata.name=web,status.phase!=Running".
func (s FieldSelector) String() string {
	parts := make([]string, len(s.reqs))
	for i, r := range s.reqs {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}
