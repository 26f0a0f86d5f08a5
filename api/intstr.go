package api

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// IntOrString holds a port number or a port name, as Kubernetes' intstr.IntOrString. In JSON it
// is a number or a string.
type IntOrString struct {
	IsString bool
	IntVal   int32
	StrVal   string
}

// FromInt returns an IntOrString holding i.
func FromInt(i int32) IntOrString { return IntOrString{IntVal: i} }

// FromString returns an IntOrString holding s.
func FromString(s string) IntOrString { return IntOrString{IsString: true, StrVal: s} }

// IsZero reports whether nothing is set.
func (v IntOrString) IsZero() bool {
	return !v.IsString && v.IntVal == 0 || v.IsString && v.StrVal == ""
}

// String returns the number or the name.
func (v IntOrString) String() string {
	if v.IsString {
		return v.StrVal
	}
	return strconv.Itoa(int(v.IntVal))
}

// MarshalJSON writes a number or a string.
func (v IntOrString) MarshalJSON() ([]byte, error) {
	if v.IsString {
		return json.Marshal(v.StrVal)
	}
	return json.Marshal(v.IntVal)
}

// UnmarshalJSON reads a number or a string.
func (v *IntOrString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		v.IsString = true
		v.IntVal = 0
		return json.Unmarshal(b, &v.StrVal)
	}
	var i int32
	if err := json.Unmarshal(b, &i); err != nil {
		return fmt.Errorf("expected an integer or a string, got %s", b)
	}
	*v = IntOrString{IntVal: i}
	return nil
}
