package api

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"sync"

	kjson "sigs.k8s.io/json"
)

// DecodeStrict decodes JSON into obj and refuses what Kubernetes' strict decoding refuses: a
// field the type does not have, and a value of the wrong JSON type. Every problem is reported as
// a FieldError with the field's path ("spec.containers[0].imagee"), all of them at once, and obj
// is left untouched when there is any.
func DecodeStrict(data []byte, obj any) error {
	// The fast path: one case-sensitive strict pass into a scratch object. Only a document
	// that fails it is walked again, to name every bad field.
	scratch := reflect.New(reflect.TypeOf(obj).Elem()).Interface()
	strictErrs, err := kjson.UnmarshalStrict(data, scratch, kjson.DisallowUnknownFields)
	if err == nil && len(strictErrs) == 0 {
		reflect.ValueOf(obj).Elem().Set(reflect.ValueOf(scratch).Elem())
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return ErrorList{{Type: FieldValueInvalid, Detail: "not valid JSON: " + err.Error()}}
	}
	if dec.More() {
		return ErrorList{{Type: FieldValueInvalid, Detail: "not valid JSON: more than one value"}}
	}
	var errs ErrorList
	checkValue(generic, reflect.TypeOf(obj), "", &errs)
	if len(errs) > 0 {
		return errs
	}
	if err := json.Unmarshal(data, obj); err != nil {
		// checkValue accepted it, so this is a value a custom decoder refused.
		return ErrorList{{Type: FieldValueInvalid, Detail: err.Error()}}
	}
	return nil
}

var (
	jsonUnmarshaler = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()
	textUnmarshaler = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
	rawMessageType  = reflect.TypeOf(json.RawMessage(nil))
)

// checkValue walks a generic JSON value against the Go type it will be decoded into.
func checkValue(v any, t reflect.Type, path Path, errs *ErrorList) {
	if t.Kind() == reflect.Pointer {
		if v == nil {
			return
		}
		t = t.Elem()
	}
	if t == rawMessageType || t.Kind() == reflect.Interface {
		return
	}
	if v == nil {
		return // null is the zero value, as encoding/json treats it
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		raw, _ := json.Marshal(v)
		if err := reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(raw); err != nil {
			*errs = append(*errs, &FieldError{Type: FieldValueTypeInvalid, Field: path.String(), Value: v, Detail: err.Error()})
		}
		return
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		if _, ok := v.(string); !ok {
			*errs = append(*errs, typeError(path, v, "a string"))
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			*errs = append(*errs, typeError(path, v, "an object"))
			return
		}
		fields := structFields(t)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			f, ok := fields[k]
			if !ok {
				*errs = append(*errs, &FieldError{Type: FieldValueUnknown, Field: path.Child(k).String(),
					Detail: fmt.Sprintf("%s has no field %q", describeType(t), k)})
				continue
			}
			checkValue(m[k], f, path.Child(k), errs)
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			*errs = append(*errs, typeError(path, v, "an object"))
			return
		}
		for k, e := range m {
			checkValue(e, t.Elem(), path.Key(k), errs)
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 { // []byte is base64 text
			if _, ok := v.(string); !ok {
				*errs = append(*errs, typeError(path, v, "a base64 string"))
			}
			return
		}
		a, ok := v.([]any)
		if !ok {
			*errs = append(*errs, typeError(path, v, "a list"))
			return
		}
		for i, e := range a {
			checkValue(e, t.Elem(), path.Index(i), errs)
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			*errs = append(*errs, typeError(path, v, "a string"))
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			*errs = append(*errs, typeError(path, v, "true or false"))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := v.(json.Number)
		if !ok {
			*errs = append(*errs, typeError(path, v, "an integer"))
			return
		}
		i, err := n.Int64()
		if err != nil {
			*errs = append(*errs, typeError(path, v, "an integer"))
			return
		}
		var lo, hi int64 = math.MinInt64, math.MaxInt64
		switch t.Kind() {
		case reflect.Int32:
			lo, hi = math.MinInt32, math.MaxInt32
		case reflect.Int16:
			lo, hi = math.MinInt16, math.MaxInt16
		case reflect.Int8:
			lo, hi = math.MinInt8, math.MaxInt8
		case reflect.Uint, reflect.Uint64, reflect.Uint32, reflect.Uint16, reflect.Uint8:
			lo = 0
		}
		if i < lo || i > hi {
			*errs = append(*errs, &FieldError{Type: FieldValueInvalid, Field: path.String(), Value: i,
				Detail: fmt.Sprintf("out of range [%d, %d]", lo, hi)})
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := v.(json.Number); !ok {
			*errs = append(*errs, typeError(path, v, "a number"))
		}
	}
}

func typeError(path Path, v any, want string) *FieldError {
	return &FieldError{Type: FieldValueTypeInvalid, Field: path.String(), Value: v,
		Detail: fmt.Sprintf("expected %s, got %s", want, jsonTypeName(v))}
}

func jsonTypeName(v any) string {
	switch x := v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return fmt.Sprintf("the string %q", x)
	case json.Number:
		return "the number " + x.String()
	case bool:
		return fmt.Sprintf("%v", x)
	}
	return "null"
}

func describeType(t reflect.Type) string {
	if t.Name() != "" {
		return t.Name()
	}
	return "this object"
}

var fieldCache sync.Map // reflect.Type -> map[string]reflect.Type

// structFields maps JSON names to field types, following embedded (inlined) structs the way
// encoding/json does.
func structFields(t reflect.Type) map[string]reflect.Type {
	if f, ok := fieldCache.Load(t); ok {
		return f.(map[string]reflect.Type)
	}
	out := map[string]reflect.Type{}
	collectFields(t, out)
	fieldCache.Store(t, out)
	return out
}

func collectFields(t reflect.Type, out map[string]reflect.Type) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				collectFields(ft, out)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
}
