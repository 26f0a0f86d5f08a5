package api

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestParseSelector(t *testing.T) {
	tests := []struct {
		in        string
		canonical string
		matches   []map[string]string
		rejects   []map[string]string
	}{
		{
			in: "", canonical: "",
			matches: []map[string]string{nil, {}, {"a": "b"}},
		},
		{
			in: "   ", canonical: "",
			matches: []map[string]string{nil, {"a": "b"}},
		},
		{
			in: "a=b", canonical: "a=b",
			matches: []map[string]string{{"a": "b"}, {"a": "b", "c": "d"}},
			rejects: []map[string]string{nil, {"a": "c"}, {"b": "a"}, {"a": ""}},
		},
		{
			in: "a==b", canonical: "a=b",
			matches: []map[string]string{{"a": "b"}},
			rejects: []map[string]string{{"a": "c"}, {}},
		},
		{
			in: "a!=b", canonical: "a!=b",
			matches: []map[string]string{nil, {"a": "c"}, {"x": "b"}, {"a": ""}},
			rejects: []map[string]string{{"a": "b"}},
		},
		{
			in: "a=", canonical: "a=",
			matches: []map[string]string{{"a": ""}},
			rejects: []map[string]string{nil, {"a": "b"}},
		},
		{
			in: "a in (x,y)", canonical: "a in (x,y)",
			matches: []map[string]string{{"a": "x"}, {"a": "y", "b": "z"}},
			rejects: []map[string]string{nil, {"a": "z"}, {"b": "x"}},
		},
		{
			in: "a notin (x, y)", canonical: "a notin (x,y)",
			matches: []map[string]string{nil, {"a": "z"}, {"b": "x"}},
			rejects: []map[string]string{{"a": "x"}, {"a": "y"}},
		},
		{
			in: "a in (y,x,y)", canonical: "a in (x,y)",
			matches: []map[string]string{{"a": "x"}},
		},
		{
			in: "a in (x,)", canonical: "a in (,x)",
			matches: []map[string]string{{"a": "x"}, {"a": ""}},
			rejects: []map[string]string{nil, {"a": "y"}},
		},
		{
			in: "a", canonical: "a",
			matches: []map[string]string{{"a": ""}, {"a": "x"}},
			rejects: []map[string]string{nil, {"b": "a"}},
		},
		{
			in: "!a", canonical: "!a",
			matches: []map[string]string{nil, {"b": "a"}},
			rejects: []map[string]string{{"a": ""}, {"a": "x"}},
		},
		{
			in: "  e in ( y , x ) , c != d,a = b,!f , g ", canonical: "a=b,c!=d,e in (x,y),!f,g",
			matches: []map[string]string{{"a": "b", "e": "x", "g": ""}, {"a": "b", "c": "x", "e": "y", "g": "1"}},
			rejects: []map[string]string{{"a": "b", "e": "x"}, {"a": "b", "c": "d", "e": "x", "g": ""}, {"a": "b", "e": "x", "f": "", "g": ""}},
		},
		{
			in: "app.kubernetes.io/name=web,tier in (frontend)", canonical: "app.kubernetes.io/name=web,tier in (frontend)",
			matches: []map[string]string{{"app.kubernetes.io/name": "web", "tier": "frontend"}},
			rejects: []map[string]string{{"name": "web", "tier": "frontend"}},
		},
		{
			// "in" and "notin" are keys or values outside the operator position.
			in: "in=notin,notin", canonical: "in=notin,notin",
			matches: []map[string]string{{"in": "notin", "notin": "x"}},
			rejects: []map[string]string{{"in": "notin"}},
		},
		{
			in: "a=b,a!=c", canonical: "a!=c,a=b",
			matches: []map[string]string{{"a": "b"}},
			rejects: []map[string]string{{"a": "c"}},
		},
		{
			in: "a=b,a=c", canonical: "a=b,a=c",
			rejects: []map[string]string{{"a": "b"}, {"a": "c"}},
		},
		{
			in: "x=A_b-1.2,y\t=\n3", canonical: "x=A_b-1.2,y=3",
			matches: []map[string]string{{"x": "A_b-1.2", "y": "3"}},
		},
	}
	for _, tt := range tests {
		sel, err := ParseSelector(tt.in)
		if err != nil {
			t.Errorf("ParseSelector(%q): unexpected error %v", tt.in, err)
			continue
		}
		if got := sel.String(); got != tt.canonical {
			t.Errorf("ParseSelector(%q).String() = %q, want %q", tt.in, got, tt.canonical)
		}
		if got := sel.Empty(); got != (tt.canonical == "") {
			t.Errorf("ParseSelector(%q).Empty() = %v", tt.in, got)
		}
		for _, l := range tt.matches {
			if !sel.Matches(l) {
				t.Errorf("ParseSelector(%q) does not match %v", tt.in, l)
			}
		}
		for _, l := range tt.rejects {
			if sel.Matches(l) {
				t.Errorf("ParseSelector(%q) matches %v", tt.in, l)
			}
		}
		// The canonical form parses back to itself.
		again, err := ParseSelector(sel.String())
		if err != nil || again.String() != sel.String() {
			t.Errorf("ParseSelector(%q) = %v, %v; want %q", sel.String(), again, err, sel.String())
		}
	}
}

func TestParseSelectorErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"a in x", `invalid label selector "a in x": expected "(" after "a in", found "x"`},
		{"a in", `expected "(" after "a in", found end of string`},
		{"a notin x,y", `expected "(" after "a notin", found "x"`},
		{"a in ()", `the value list of "a in" must not be empty`},
		{"a in ( )", `the value list of "a in" must not be empty`},
		{"a in (x", `missing ")" to close the value list of "a in"`},
		{"a in (x,", `missing ")"`},
		{"a in (x y)", `expected "," or ")" in the value list of "a in", found "y"`},
		{"a in (x=y)", `expected "," or ")" in the value list of "a in", found "="`},
		{"a in (x))", `expected "," or end of string after "a in (x)", found ")"`},
		{"a b", `expected =, ==, !=, in, notin, "," or end of string after "a", found "b"`},
		{"a (b)", `after "a", found "("`},
		{"a=b c", `expected "," or end of string after "a=b", found "c"`},
		{"a=b=c", `expected "," or end of string after "a=b", found "="`},
		{"a=(b)", `expected a value after "a=", found "("`},
		{"a!=!b", `expected a value after "a!=", found "!"`},
		{"a,", `expected a requirement after the last ",", found end of string`},
		{",a", `expected a label key or "!", found ","`},
		{"a,,b", `expected a label key or "!", found ","`},
		{"=b", `expected a label key or "!", found "="`},
		{"!", `expected a label key after "!", found end of string`},
		{"!=a", `expected a label key or "!", found "!="`},
		{"!!a", `expected a label key after "!", found "!"`},
		{"!a=b", `expected "," or end of string after "!a", found "="`},
		{"a>1", `unsupported operator ">"`},
		{"a<1", `unsupported operator "<"`},
		{"a@b=c", `invalid key "a@b": name part must consist of alphanumeric characters`},
		{"-a=c", `invalid key "-a"`},
		{"!a@b", `invalid key "a@b"`},
		{"a/b/c=d", `invalid key "a/b/c"`},
		{"Example.com/a=b", `invalid key "Example.com/a": prefix part must be a lowercase DNS-1123 subdomain`},
		{"/a", `invalid key "/a": prefix part must be non-empty`},
		{"a/", `invalid key "a/": name part must be non-empty`},
		{"a=-b", `invalid label value "-b"`},
		{"a=b_", `invalid label value "b_"`},
		{"a in (x,y@)", `invalid label value "y@"`},
		{"a=" + strings.Repeat("v", 64), `must be no more than 63 characters`},
		{strings.Repeat("k", 64), `name part must be no more than 63 characters`},
	}
	for _, tt := range tests {
		sel, err := ParseSelector(tt.in)
		if err == nil {
			t.Errorf("ParseSelector(%q) = %v, want an error", tt.in, sel)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseSelector(%q) error %q does not contain %q", tt.in, err, tt.want)
		}
		if !strings.HasPrefix(err.Error(), `invalid label selector "`) {
			t.Errorf("ParseSelector(%q) error %q does not name the selector", tt.in, err)
		}
	}
}

func TestSelectorFromSet(t *testing.T) {
	tests := []struct {
		set       map[string]string
		canonical string
		matches   []map[string]string
		rejects   []map[string]string
	}{
		{nil, "", []map[string]string{nil, {"a": "b"}}, nil},
		{map[string]string{}, "", []map[string]string{nil, {"a": "b"}}, nil},
		{
			map[string]string{"b": "2", "a": "1"}, "a=1,b=2",
			[]map[string]string{{"a": "1", "b": "2"}, {"a": "1", "b": "2", "c": "3"}},
			[]map[string]string{nil, {"a": "1"}, {"a": "1", "b": "3"}},
		},
		{map[string]string{"a": ""}, "a=", []map[string]string{{"a": ""}}, []map[string]string{nil, {"a": "x"}}},
	}
	for _, tt := range tests {
		sel := SelectorFromSet(tt.set)
		if got := sel.String(); got != tt.canonical {
			t.Errorf("SelectorFromSet(%v).String() = %q, want %q", tt.set, got, tt.canonical)
		}
		if got := sel.Empty(); got != (len(tt.set) == 0) {
			t.Errorf("SelectorFromSet(%v).Empty() = %v", tt.set, got)
		}
		for _, l := range tt.matches {
			if !sel.Matches(l) {
				t.Errorf("SelectorFromSet(%v) does not match %v", tt.set, l)
			}
		}
		for _, l := range tt.rejects {
			if sel.Matches(l) {
				t.Errorf("SelectorFromSet(%v) matches %v", tt.set, l)
			}
		}
	}
}

func TestLabelSelectorAsSelector(t *testing.T) {
	tests := []struct {
		name      string
		ls        *LabelSelector
		canonical string
		empty     bool
		matches   []map[string]string
		rejects   []map[string]string
	}{
		{
			name: "nil matches nothing", ls: nil, canonical: "", empty: false,
			rejects: []map[string]string{nil, {}, {"a": "b"}},
		},
		{
			name: "empty matches everything", ls: &LabelSelector{}, canonical: "", empty: true,
			matches: []map[string]string{nil, {"a": "b"}},
		},
		{
			name: "empty slices match everything", ls: &LabelSelector{MatchLabels: map[string]string{}, MatchExpressions: []LabelSelectorRequirement{}}, canonical: "", empty: true,
			matches: []map[string]string{nil, {"a": "b"}},
		},
		{
			name: "matchLabels", ls: &LabelSelector{MatchLabels: map[string]string{"app": "web", "tier": "fe"}},
			canonical: "app=web,tier=fe",
			matches:   []map[string]string{{"app": "web", "tier": "fe", "x": "y"}},
			rejects:   []map[string]string{{"app": "web"}, {"app": "web", "tier": "be"}},
		},
		{
			name: "all operators",
			ls: &LabelSelector{
				MatchLabels: map[string]string{"app": "web"},
				MatchExpressions: []LabelSelectorRequirement{
					{Key: "env", Operator: LabelSelectorOpIn, Values: []string{"prod", "dev"}},
					{Key: "zone", Operator: LabelSelectorOpNotIn, Values: []string{"b"}},
					{Key: "track", Operator: LabelSelectorOpExists},
					{Key: "canary", Operator: LabelSelectorOpDoesNotExist, Values: []string{}},
				},
			},
			canonical: "app=web,!canary,env in (dev,prod),track,zone notin (b)",
			matches: []map[string]string{
				{"app": "web", "env": "prod", "track": ""},
				{"app": "web", "env": "dev", "track": "x", "zone": "a"},
			},
			rejects: []map[string]string{
				{"app": "web", "env": "test", "track": ""},
				{"app": "web", "env": "prod"},
				{"app": "web", "env": "prod", "track": "", "zone": "b"},
				{"app": "web", "env": "prod", "track": "", "canary": "true"},
				{"env": "prod", "track": ""},
			},
		},
	}
	for _, tt := range tests {
		sel, err := LabelSelectorAsSelector(tt.ls)
		if err != nil {
			t.Errorf("%s: unexpected error %v", tt.name, err)
			continue
		}
		if got := sel.String(); got != tt.canonical {
			t.Errorf("%s: String() = %q, want %q", tt.name, got, tt.canonical)
		}
		if got := sel.Empty(); got != tt.empty {
			t.Errorf("%s: Empty() = %v, want %v", tt.name, got, tt.empty)
		}
		for _, l := range tt.matches {
			if !sel.Matches(l) {
				t.Errorf("%s: does not match %v", tt.name, l)
			}
		}
		for _, l := range tt.rejects {
			if sel.Matches(l) {
				t.Errorf("%s: matches %v", tt.name, l)
			}
		}
	}
}

func TestLabelSelectorAsSelectorDoesNotAlias(t *testing.T) {
	ls := &LabelSelector{MatchExpressions: []LabelSelectorRequirement{
		{Key: "a", Operator: LabelSelectorOpIn, Values: []string{"z", "y"}},
	}}
	sel, err := LabelSelectorAsSelector(ls)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ls.MatchExpressions[0].Values, []string{"z", "y"}) {
		t.Errorf("LabelSelectorAsSelector reordered the caller's values: %v", ls.MatchExpressions[0].Values)
	}
	ls.MatchExpressions[0].Values[0] = "q"
	if !sel.Matches(map[string]string{"a": "z"}) || sel.Matches(map[string]string{"a": "q"}) {
		t.Error("the selector shares its values with the LabelSelector")
	}
}

func TestLabelSelectorAsSelectorErrors(t *testing.T) {
	tests := []struct {
		name string
		ls   LabelSelector
		want string
	}{
		{"bad operator", LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "a", Operator: "Equals", Values: []string{"b"}}}},
			`matchExpressions[0].operator: "Equals" is not a valid operator; must be one of "In", "NotIn", "Exists", "DoesNotExist"`},
		{"lowercase operator", LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "a", Operator: "in", Values: []string{"b"}}}},
			`"in" is not a valid operator`},
		{"empty operator", LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "a"}}},
			`"" is not a valid operator`},
		{"In without values", LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "a", Operator: "In"}}},
			`matchExpressions[0].values: must be non-empty for operator "In"`},
		{"NotIn without values", LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "a", Operator: "Exists"}, {Key: "a", Operator: "NotIn", Values: []string{}}}},
			`matchExpressions[1].values: must be non-empty for operator "NotIn"`},
		{"Exists with values", LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "a", Operator: "Exists", Values: []string{"b"}}}},
			`matchExpressions[0].values: must be empty for operator "Exists"`},
		{"DoesNotExist with values", LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "a", Operator: "DoesNotExist", Values: []string{""}}}},
			`must be empty for operator "DoesNotExist"`},
		{"bad expression key", LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "a b", Operator: "Exists"}}},
			`matchExpressions[0].key: invalid key "a b"`},
		{"bad expression value", LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "a", Operator: "In", Values: []string{"ok", "not ok"}}}},
			`matchExpressions[0].values[1]: invalid label value "not ok"`},
		{"bad matchLabels key", LabelSelector{MatchLabels: map[string]string{"": "b"}},
			`matchLabels: invalid key "": name part must be non-empty`},
		{"bad matchLabels value", LabelSelector{MatchLabels: map[string]string{"a": "b/c"}},
			`matchLabels["a"]: invalid label value "b/c"`},
	}
	for _, tt := range tests {
		sel, err := LabelSelectorAsSelector(&tt.ls)
		if err == nil {
			t.Errorf("%s: got %v, want an error", tt.name, sel)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %q does not contain %q", tt.name, err, tt.want)
		}
	}
}

func TestLabelSelectorJSON(t *testing.T) {
	in := `{"matchLabels":{"app":"web"},"matchExpressions":[{"key":"env","operator":"In","values":["prod"]},{"key":"x","operator":"Exists"}]}`
	var ls LabelSelector
	if err := json.Unmarshal([]byte(in), &ls); err != nil {
		t.Fatal(err)
	}
	want := LabelSelector{
		MatchLabels: map[string]string{"app": "web"},
		MatchExpressions: []LabelSelectorRequirement{
			{Key: "env", Operator: LabelSelectorOpIn, Values: []string{"prod"}},
			{Key: "x", Operator: LabelSelectorOpExists},
		},
	}
	if !reflect.DeepEqual(ls, want) {
		t.Errorf("Unmarshal = %+v, want %+v", ls, want)
	}
	out, err := json.Marshal(ls)
	if err != nil || string(out) != in {
		t.Errorf("Marshal = %s, %v; want %s", out, err, in)
	}
	if out, _ := json.Marshal(LabelSelector{}); string(out) != `{}` {
		t.Errorf("Marshal(LabelSelector{}) = %s, want {}", out)
	}
}

func TestIsQualifiedName(t *testing.T) {
	good := []string{
		"a", "A", "1", "app", "MyName", "my.name", "123-abc", "a_b", "a-b.c_d",
		"example.com/a", "app.kubernetes.io/name", "k8s.io/MyName", "a-b.c/d",
		strings.Repeat("a", 63), strings.Repeat("a", 253) + "/" + strings.Repeat("b", 63),
	}
	for _, s := range good {
		if err := IsQualifiedName(s); err != nil {
			t.Errorf("IsQualifiedName(%q) = %v, want nil", s, err)
		}
	}
	bad := []struct {
		in   string
		want string
	}{
		{"", "name part must be non-empty"},
		{"-a", "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"},
		{"a-", "must start and end with an alphanumeric character"},
		{"_a", "must start and end"},
		{"a b", "name part must consist"},
		{"a@b", "name part must consist"},
		{"ä", "name part must consist"},
		{strings.Repeat("a", 64), "name part must be no more than 63 characters"},
		{"a/b/c", "at most one '/'"},
		{"/a", "prefix part must be non-empty"},
		{"a/", "name part must be non-empty"},
		{"Example.com/a", "prefix part must be a lowercase DNS-1123 subdomain"},
		{"example_com/a", "prefix part must be a lowercase DNS-1123 subdomain"},
		{"-example.com/a", "prefix part must be"},
		{"example..com/a", "prefix part must be"},
		{"example.com./a", "prefix part must be"},
		{strings.Repeat("a", 254) + "/b", "prefix part must be no more than 253 characters"},
		{"Bad_/-x", "name part must consist"},
	}
	for _, tt := range bad {
		err := IsQualifiedName(tt.in)
		if err == nil {
			t.Errorf("IsQualifiedName(%q) = nil, want an error", tt.in)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("IsQualifiedName(%q) = %q, does not contain %q", tt.in, err, tt.want)
		}
	}
	// Both parts are reported.
	if err := IsQualifiedName("Bad_/-x"); err == nil || !strings.Contains(err.Error(), "prefix part") {
		t.Errorf("IsQualifiedName(%q) = %v, want both parts reported", "Bad_/-x", err)
	}
}

func TestIsValidLabelValue(t *testing.T) {
	good := []string{"", "a", "1", "v1", "MyValue", "my_value", "12345", "a.b-c_d", strings.Repeat("x", 63)}
	for _, s := range good {
		if err := IsValidLabelValue(s); err != nil {
			t.Errorf("IsValidLabelValue(%q) = %v, want nil", s, err)
		}
	}
	bad := []struct {
		in   string
		want string
	}{
		{"-a", `invalid label value "-a": must be empty or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`},
		{"a.", "must start and end"},
		{"a b", "must be empty or consist"},
		{"a/b", "must be empty or consist"},
		{" ", "must be empty or consist"},
		{strings.Repeat("x", 64), "must be no more than 63 characters"},
	}
	for _, tt := range bad {
		err := IsValidLabelValue(tt.in)
		if err == nil {
			t.Errorf("IsValidLabelValue(%q) = nil, want an error", tt.in)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("IsValidLabelValue(%q) = %q, does not contain %q", tt.in, err, tt.want)
		}
	}
}
