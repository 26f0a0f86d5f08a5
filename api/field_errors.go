package api

import (
	"fmt"
	"strings"
)

// Field error types, as Kubernetes names them in StatusCause.reason.
const (
	FieldValueRequired     = "FieldValueRequired"
	FieldValueInvalid      = "FieldValueInvalid"
	FieldValueNotSupported = "FieldValueNotSupported"
	FieldValueDuplicate    = "FieldValueDuplicate"
	FieldValueForbidden    = "FieldValueForbidden"
	FieldValueTooLong      = "FieldValueTooLong"
	FieldValueUnknown      = "FieldValueUnknown"     // a field the kind does not have
	FieldValueTypeInvalid  = "FieldValueTypeInvalid" // a value of the wrong JSON type
)

// FieldError is one problem with one field. Field is the path as Kubernetes writes it:
// "spec.containers[0].image", "metadata.labels[app]".
type FieldError struct {
	Type   string
	Field  string
	Value  any
	Detail string
}

// Error reads like Kubernetes: `spec.containers[0].image: Required value: ...`.
func (e *FieldError) Error() string {
	var what string
	switch e.Type {
	case FieldValueRequired:
		what = "Required value"
	case FieldValueInvalid:
		what = fmt.Sprintf("Invalid value: %s", valueString(e.Value))
	case FieldValueNotSupported:
		what = fmt.Sprintf("Unsupported value: %s", valueString(e.Value))
	case FieldValueDuplicate:
		what = fmt.Sprintf("Duplicate value: %s", valueString(e.Value))
	case FieldValueForbidden:
		what = "Forbidden"
	case FieldValueTooLong:
		what = "Too long"
	case FieldValueUnknown:
		what = "unknown field"
	case FieldValueTypeInvalid:
		what = "wrong type"
	default:
		what = e.Type
	}
	if e.Detail != "" {
		what += ": " + e.Detail
	}
	if e.Field == "" {
		return what
	}
	return e.Field + ": " + what
}

func valueString(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", v)
}

// Required reports a missing field.
func Required(field, detail string) *FieldError {
	return &FieldError{Type: FieldValueRequired, Field: field, Detail: detail}
}

// Invalid reports a bad value.
func Invalid(field string, value any, detail string) *FieldError {
	return &FieldError{Type: FieldValueInvalid, Field: field, Value: value, Detail: detail}
}

// NotSupported reports a value outside a fixed set.
func NotSupported(field string, value any, supported []string) *FieldError {
	quoted := make([]string, len(supported))
	for i, s := range supported {
		quoted[i] = fmt.Sprintf("%q", s)
	}
	return &FieldError{Type: FieldValueNotSupported, Field: field, Value: value,
		Detail: "supported values: " + strings.Join(quoted, ", ")}
}

// Duplicate reports a value that must be unique.
func Duplicate(field string, value any) *FieldError {
	return &FieldError{Type: FieldValueDuplicate, Field: field, Value: value}
}

// Forbidden reports a field that may not be set or changed.
func Forbidden(field, detail string) *FieldError {
	return &FieldError{Type: FieldValueForbidden, Field: field, Detail: detail}
}

// ErrorList is every problem found with an object. A nil or empty list means valid.
type ErrorList []*FieldError

// Error joins the messages; it satisfies error so that a list can be returned as one.
func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	if len(msgs) == 1 {
		return msgs[0]
	}
	return "[" + strings.Join(msgs, ", ") + "]"
}

// ToError returns nil for an empty list, so that `return errs.ToError()` is safe.
func (l ErrorList) ToError() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Path builds field paths: Path("spec").Child("containers").Index(0).Child("image").
type Path string

// Child appends ".name".
func (p Path) Child(name string) Path {
	if p == "" {
		return Path(name)
	}
	return p + "." + Path(name)
}

// Index appends "[i]".
func (p Path) Index(i int) Path { return Path(fmt.Sprintf("%s[%d]", p, i)) }

// Key appends "[key]".
func (p Path) Key(k string) Path { return Path(fmt.Sprintf("%s[%s]", p, k)) }

// String returns the path.
func (p Path) String() string { return string(p) }
