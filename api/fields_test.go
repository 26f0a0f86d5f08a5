package api

import (
	"reflect"
	"strings"
	"testing"
)

// podFields is a field getter for tests: the fields of a Pod named web in
// phase Running, with an empty nodeName.
func podFields(field string) (string, bool) {
	v, ok := map[string]string{
		"metadata.name":      "web",
		"metadata.namespace": "default",
		"status.phase":       "Running",
		"spec.nodeName":      "",
		"weird":              `a,b=c\d`,
	}[field]
	return v, ok
}

func TestParseFieldSelector(t *testing.T) {
	tests := []struct {
		in        string
		canonical string
		fields    []string
		matches   bool // against podFields
	}{
		{"", "", nil, true},
		{"  ", "", nil, true},
		{"metadata.name=web", "metadata.name=web", []string{"metadata.name"}, true},
		{"metadata.name==web", "metadata.name=web", []string{"metadata.name"}, true},
		{"metadata.name!=web", "metadata.name!=web", []string{"metadata.name"}, false},
		{"metadata.name=db", "metadata.name=db", []string{"metadata.name"}, false},
		{"metadata.name!=db", "metadata.name!=db", []string{"metadata.name"}, true},
		{"spec.nodeName=", "spec.nodeName=", []string{"spec.nodeName"}, true},
		{"spec.nodeName!=", "spec.nodeName!=", []string{"spec.nodeName"}, false},
		{"spec.nodeName==", "spec.nodeName=", []string{"spec.nodeName"}, true},
		{
			"status.phase!=Pending,metadata.name=web", "metadata.name=web,status.phase!=Pending",
			[]string{"metadata.name", "status.phase"}, true,
		},
		{
			" status.phase != Running , metadata.name = web ", "metadata.name=web,status.phase!=Running",
			[]string{"metadata.name", "status.phase"}, false,
		},
		{
			"status.phase!=Failed,status.phase!=Pending", "status.phase!=Failed,status.phase!=Pending",
			[]string{"status.phase"}, true,
		},
		{"status.phase=Running,status.phase=Pending", "status.phase=Pending,status.phase=Running", []string{"status.phase"}, false},
		// A field that the getter does not know never matches.
		{"spec.unknown=x", "spec.unknown=x", []string{"spec.unknown"}, false},
		{"spec.unknown!=x", "spec.unknown!=x", []string{"spec.unknown"}, false},
		{"metadata.name=web,spec.unknown!=x", "metadata.name=web,spec.unknown!=x", []string{"metadata.name", "spec.unknown"}, false},
		// Escapes and odd values.
		{`weird=a\,b\=c\\d`, `weird=a\,b\=c\\d`, []string{"weird"}, true},
		{`weird==a\,b=c\\d`, `weird=a\,b\=c\\d`, []string{"weird"}, true},
		{`metadata.name=\=web`, `metadata.name=\=web`, []string{"metadata.name"}, false},
		{`metadata.name===web`, `metadata.name=\=web`, []string{"metadata.name"}, false},
		{`metadata.name=!web`, `metadata.name=!web`, []string{"metadata.name"}, false},
		{`metadata.name!=!web`, `metadata.name!=!web`, []string{"metadata.name"}, true},
		{"a_b-c.D9=1", "a_b-c.D9=1", []string{"a_b-c.D9"}, false},
	}
	for _, tt := range tests {
		sel, err := ParseFieldSelector(tt.in)
		if err != nil {
			t.Errorf("ParseFieldSelector(%q): unexpected error %v", tt.in, err)
			continue
		}
		if got := sel.String(); got != tt.canonical {
			t.Errorf("ParseFieldSelector(%q).String() = %q, want %q", tt.in, got, tt.canonical)
		}
		if got := sel.Empty(); got != (tt.canonical == "") {
			t.Errorf("ParseFieldSelector(%q).Empty() = %v", tt.in, got)
		}
		if got := sel.Fields(); !reflect.DeepEqual(got, tt.fields) {
			t.Errorf("ParseFieldSelector(%q).Fields() = %q, want %q", tt.in, got, tt.fields)
		}
		if got := sel.Matches(podFields); got != tt.matches {
			t.Errorf("ParseFieldSelector(%q).Matches(pod) = %v, want %v", tt.in, got, tt.matches)
		}
		// The canonical form parses back to itself.
		again, err := ParseFieldSelector(sel.String())
		if err != nil || again.String() != sel.String() || again.Matches(podFields) != tt.matches {
			t.Errorf("ParseFieldSelector(%q) = %v, %v; want %q", sel.String(), again, err, sel.String())
		}
	}
}

func TestFieldSelectorZeroValue(t *testing.T) {
	var sel FieldSelector
	if !sel.Empty() || sel.String() != "" || sel.Fields() != nil {
		t.Errorf("zero FieldSelector: Empty %v, String %q, Fields %q", sel.Empty(), sel.String(), sel.Fields())
	}
	if !sel.Matches(func(string) (string, bool) { return "", false }) {
		t.Error("zero FieldSelector does not match everything")
	}
}

func TestParseFieldSelectorErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"metadata.name", `invalid field selector "metadata.name": "metadata.name" has no operator; expected field=value, field==value or field!=value`},
		{"a=b,c", `"c" has no operator`},
		{"=web", `"=web" has no field name before the operator`},
		{"!=web", `"!=web" has no field name`},
		{"==web", `"==web" has no field name`},
		{" = web", `has no field name`},
		{"a=b,", `requirement 2 is empty`},
		{",a=b", `requirement 1 is empty`},
		{"a=b,,c=d", `requirement 2 is empty`},
		{"a=b, ,c=d", `requirement 2 is empty`},
		{"a b=c", `field name "a b" must consist of letters, digits, '.', '_' and '-'`},
		{"a!!=b", `field name "a!" must consist`},
		{"a<b=c", `field name "a<b" must consist`},
		{"metadata.name>web", `has no operator`},
		{`a=b\`, `unfinished escape`},
		{`a=b\n`, `value "b\\n" of "a" has an invalid escape`},
		{`a\,b=c`, `field name "a\\,b" must consist`},
	}
	for _, tt := range tests {
		sel, err := ParseFieldSelector(tt.in)
		if err == nil {
			t.Errorf("ParseFieldSelector(%q) = %v, want an error", tt.in, sel)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseFieldSelector(%q) error %q does not contain %q", tt.in, err, tt.want)
		}
		if !strings.HasPrefix(err.Error(), `invalid field selector "`) {
			t.Errorf("ParseFieldSelector(%q) error %q does not name the selector", tt.in, err)
		}
	}
}
