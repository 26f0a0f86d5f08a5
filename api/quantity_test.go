package api

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestParseQuantity(t *testing.T) {
	tests := []struct {
		in     string
		milli  int64
		value  int64
		string string
	}{
		{"0", 0, 0, "0"},
		{"1", 1000, 1, "1"},
		{"100", 100000, 100, "100"},
		{"500m", 500, 1, "500m"},
		{"1500m", 1500, 2, "1500m"},
		{"0.5", 500, 1, "0.5"},
		{"2.5", 2500, 3, "2.5"},
		{".5", 500, 1, ".5"},
		{"1.", 1000, 1, "1."},
		{"0.001", 1, 1, "0.001"},
		{"1k", 1000000, 1000, "1k"},
		{"1M", 1000000000, 1000000, "1M"},
		{"1G", 1000000000000, 1000000000, "1G"},
		{"1T", 1000000000000000, 1000000000000, "1T"},
		{"1P", 1000000000000000000, 1000000000000000, "1P"},
		{"1.5k", 1500000, 1500, "1.5k"},
		{"1Ki", 1024000, 1024, "1Ki"},
		{"1Mi", 1048576000, 1048576, "1Mi"},
		{"128Mi", 128 << 20 * 1000, 128 << 20, "128Mi"},
		{"1Gi", 1 << 30 * 1000, 1 << 30, "1Gi"},
		{"1Ti", 1 << 40 * 1000, 1 << 40, "1Ti"},
		{"1Pi", 1 << 50 * 1000, 1 << 50, "1Pi"},
		{"0.5Gi", 512 << 20 * 1000, 512 << 20, "0.5Gi"},
		{"1.5Ki", 1536000, 1536, "1.5Ki"},
		{"1e3", 1000000, 1000, "1e3"},
		{"1E3", 1000000, 1000, "1E3"},
		{"1e+3", 1000000, 1000, "1e+3"},
		{"1e-3", 1, 1, "1e-3"},
		{"15e-1", 1500, 2, "15e-1"},
		{"0e100", 0, 0, "0e100"},
		{"+1", 1000, 1, "+1"},
		{"-1", -1000, -1, "-1"},
		{"-500m", -500, -1, "-500m"},
		{"-1.5", -1500, -2, "-1.5"},
		{"-0", 0, 0, "-0"},
		{"0.0m", 0, 0, "0.0m"},
		{"007", 7000, 7, "007"},
		{"9223372036854775807m", math.MaxInt64, math.MaxInt64/1000 + 1, "9223372036854775807m"},
		{"-9223372036854775808m", math.MinInt64, math.MinInt64/1000 - 1, "-9223372036854775808m"},
		{"8Pi", 8 << 50 * 1000, 8 << 50, "8Pi"},
	}
	for _, tt := range tests {
		q, err := ParseQuantity(tt.in)
		if err != nil {
			t.Errorf("ParseQuantity(%q): unexpected error %v", tt.in, err)
			continue
		}
		if got := q.MilliValue(); got != tt.milli {
			t.Errorf("ParseQuantity(%q).MilliValue() = %d, want %d", tt.in, got, tt.milli)
		}
		if got := q.Value(); got != tt.value {
			t.Errorf("ParseQuantity(%q).Value() = %d, want %d", tt.in, got, tt.value)
		}
		if got := q.String(); got != tt.string {
			t.Errorf("ParseQuantity(%q).String() = %q, want %q", tt.in, got, tt.string)
		}
		if got := q.IsZero(); got != (tt.milli == 0) {
			t.Errorf("ParseQuantity(%q).IsZero() = %v", tt.in, got)
		}
	}
}

func TestParseQuantityErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string // a part of the error message
	}{
		{"", "must not be empty"},
		{"12x", `invalid quantity "12x": expected a number with an optional suffix`},
		{"x", "expected a number"},
		{"m", "expected a number"},
		{".", "expected a number"},
		{"-", "expected a number"},
		{"--1", "expected a number"},
		{"1.2.3", "expected a number"},
		{" 1", "expected a number"},
		{"1 ", "expected a number"},
		{"1 Gi", "expected a number"},
		{"1gi", "expected a number"},
		{"1KI", "expected a number"},
		{"1K", "expected a number"},
		{"1Mib", "expected a number"},
		{"1mm", "expected a number"},
		{"1e", "expected a number"},
		{"1e+", "expected a number"},
		{"1e1.5", "expected a number"},
		{"1ex", "expected a number"},
		{"1u", "expected a number"},
		{"0.0001", "too precise"},
		{"0.5m", "too precise"},
		{"1e-4", "too precise"},
		{"1e-70", "too precise"},
		{"1e-99999999999999999999", "too precise"},
		{"0.0000001Ki", "too precise"},
		{"1E", "too large"},
		{"8E", "too large"},
		{"1Ei", "too large"},
		{"10Pi", "too large"},
		{"9223372036854775808m", "too large"},
		{"-9223372036854775809m", "too large"},
		{"1e100", "too large"},
		{"1e99999999999999999999", "too large"},
		{"99999999999999999999999999", "too large"},
	}
	for _, tt := range tests {
		q, err := ParseQuantity(tt.in)
		if err == nil {
			t.Errorf("ParseQuantity(%q) = %v, want an error", tt.in, q)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseQuantity(%q) error %q does not contain %q", tt.in, err, tt.want)
		}
		if !strings.Contains(err.Error(), `"`+tt.in+`"`) {
			t.Errorf("ParseQuantity(%q) error %q does not name the input", tt.in, err)
		}
	}
}

func TestMustParseQuantityPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustParseQuantity(\"bad\") did not panic")
		}
	}()
	MustParseQuantity("bad")
}

func TestNewQuantity(t *testing.T) {
	tests := []struct {
		q     Quantity
		want  string
		milli int64
	}{
		{NewMilliQuantity(250), "250m", 250},
		{NewMilliQuantity(2000), "2", 2000},
		{NewMilliQuantity(0), "0", 0},
		{NewMilliQuantity(-1500), "-1500m", -1500},
		{NewQuantity(0, true), "0", 0},
		{NewQuantity(5, false), "5", 5000},
		{NewQuantity(1024, false), "1024", 1024000},
		{NewQuantity(1024, true), "1Ki", 1024000},
		{NewQuantity(1536, true), "1536", 1536000},
		{NewQuantity(128<<20, true), "128Mi", 128 << 20 * 1000},
		{NewQuantity(1536<<20, true), "1536Mi", 1536 << 20 * 1000},
		{NewQuantity(1<<30, true), "1Gi", 1 << 30 * 1000},
		{NewQuantity(3<<40, true), "3Ti", 3 << 40 * 1000},
		{NewQuantity(-2<<20, true), "-2Mi", -2 << 20 * 1000},
		{NewQuantity(1000, true), "1000", 1000000},
		{NewQuantity(math.MaxInt64, false), "9223372036854775", 9223372036854775000},
		{NewQuantity(math.MinInt64, false), "-9223372036854775", -9223372036854775000},
		{Quantity{}, "0", 0},
	}
	for i, tt := range tests {
		if got := tt.q.String(); got != tt.want {
			t.Errorf("%d: String() = %q, want %q", i, got, tt.want)
		}
		if got := tt.q.MilliValue(); got != tt.milli {
			t.Errorf("%d: MilliValue() = %d, want %d", i, got, tt.milli)
		}
		// The canonical form parses back to the same value.
		back, err := ParseQuantity(tt.q.String())
		if err != nil || back.Cmp(tt.q) != 0 {
			t.Errorf("%d: ParseQuantity(%q) = %v, %v; want %v", i, tt.q.String(), back, err, tt.q)
		}
	}
}

func TestQuantityEqualityOfCanonicalForms(t *testing.T) {
	// A parsed quantity in canonical form equals the constructed one, so that
	// == and reflect.DeepEqual work on them.
	if MustParseQuantity("1Gi") != NewQuantity(1<<30, true) {
		t.Error(`MustParseQuantity("1Gi") != NewQuantity(1<<30, true)`)
	}
	if MustParseQuantity("250m") != NewMilliQuantity(250) {
		t.Error(`MustParseQuantity("250m") != NewMilliQuantity(250)`)
	}
	if MustParseQuantity("0") != (Quantity{}) {
		t.Error(`MustParseQuantity("0") != Quantity{}`)
	}
}

func TestQuantityArithmetic(t *testing.T) {
	tests := []struct {
		a, b     Quantity
		sum      string
		diff     string
		cmp      int
		sumMilli int64
	}{
		{MustParseQuantity("500m"), MustParseQuantity("250m"), "750m", "250m", 1, 750},
		{MustParseQuantity("1"), MustParseQuantity("1000m"), "2", "0", 0, 2000},
		{MustParseQuantity("0.5"), MustParseQuantity("2.5"), "3", "-2", -1, 3000},
		{MustParseQuantity("1Gi"), MustParseQuantity("512Mi"), "1536Mi", "512Mi", 1, 1536 << 20 * 1000},
		{MustParseQuantity("1Gi"), MustParseQuantity("1Gi"), "2Gi", "0", 0, 2 << 30 * 1000},
		{MustParseQuantity("1G"), MustParseQuantity("1G"), "2000000000", "0", 0, 2000000000000},
		{MustParseQuantity("1Mi"), MustParseQuantity("1"), "1048577", "1048575", 1, 1048577000},
		{Quantity{}, MustParseQuantity("128Mi"), "128Mi", "-128Mi", -1, 128 << 20 * 1000},
		{MustParseQuantity("1k"), MustParseQuantity("1e3"), "2000", "0", 0, 2000000},
		{NewMilliQuantity(math.MaxInt64), NewMilliQuantity(1), "9223372036854775807m", "9223372036854775806m", 1, math.MaxInt64},
		{NewMilliQuantity(math.MinInt64), NewMilliQuantity(1), "-9223372036854775807m", "-9223372036854775808m", -1, math.MinInt64 + 1},
		{NewMilliQuantity(0), NewMilliQuantity(math.MinInt64), "-9223372036854775808m", "9223372036854775807m", 1, math.MinInt64},
		{NewMilliQuantity(-5), NewMilliQuantity(math.MinInt64), "-9223372036854775808m", "9223372036854775803m", 1, math.MinInt64},
	}
	for _, tt := range tests {
		sum := tt.a.Add(tt.b)
		if got := sum.String(); got != tt.sum {
			t.Errorf("%v + %v = %q, want %q", tt.a, tt.b, got, tt.sum)
		}
		if got := sum.MilliValue(); got != tt.sumMilli {
			t.Errorf("%v + %v = %dm, want %dm", tt.a, tt.b, got, tt.sumMilli)
		}
		if got := tt.a.Sub(tt.b).String(); got != tt.diff {
			t.Errorf("%v - %v = %q, want %q", tt.a, tt.b, got, tt.diff)
		}
		if got := tt.a.Cmp(tt.b); got != tt.cmp {
			t.Errorf("%v.Cmp(%v) = %d, want %d", tt.a, tt.b, got, tt.cmp)
		}
		if got := tt.b.Cmp(tt.a); got != -tt.cmp {
			t.Errorf("%v.Cmp(%v) = %d, want %d", tt.b, tt.a, got, -tt.cmp)
		}
	}
	// Add and Sub leave their operands alone.
	a := MustParseQuantity("1")
	_ = a.Add(MustParseQuantity("1"))
	if a.String() != "1" || a.MilliValue() != 1000 {
		t.Errorf("Add changed its receiver to %v", a)
	}
}

func TestQuantityJSON(t *testing.T) {
	tests := []struct {
		in    string
		milli int64
		out   string // MarshalJSON of the result
	}{
		{`"500m"`, 500, `"500m"`},
		{`"128Mi"`, 128 << 20 * 1000, `"128Mi"`},
		{`"1e3"`, 1000000, `"1e3"`},
		{`1`, 1000, `"1"`},
		{`0.5`, 500, `"0.5"`},
		{`-2`, -2000, `"-2"`},
		{`1e3`, 1000000, `"1e3"`},
		{`1.5E-2`, 15, `"1.5E-2"`},
		{`null`, 0, `"0"`},
		{` "1Gi" `, 1 << 30 * 1000, `"1Gi"`},
	}
	for _, tt := range tests {
		var q Quantity
		if err := json.Unmarshal([]byte(tt.in), &q); err != nil {
			t.Errorf("Unmarshal(%s): unexpected error %v", tt.in, err)
			continue
		}
		if q.MilliValue() != tt.milli {
			t.Errorf("Unmarshal(%s) = %dm, want %dm", tt.in, q.MilliValue(), tt.milli)
		}
		out, err := json.Marshal(q)
		if err != nil || string(out) != tt.out {
			t.Errorf("Marshal(Unmarshal(%s)) = %s, %v; want %s", tt.in, out, err, tt.out)
		}
	}
}

func TestQuantityJSONErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{`"12x"`, `invalid quantity "12x"`},
		{`""`, `invalid quantity ""`},
		{`true`, `invalid quantity true: must be a JSON string`},
		{`{"a":1}`, `invalid quantity {"a":1}: must be a JSON string`},
		{`[1]`, `invalid quantity [1]`},
		{`"0.0001"`, `too precise`},
		{`1e30`, `too large`},
		{`"\u0031x"`, `invalid quantity "1x"`},
		{`"500m`, `invalid quantity "500m`},
	}
	for _, tt := range tests {
		var q Quantity
		err := q.UnmarshalJSON([]byte(tt.in))
		if err == nil {
			t.Errorf("UnmarshalJSON(%s) = %v, want an error", tt.in, q)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("UnmarshalJSON(%s) error %q does not contain %q", tt.in, err, tt.want)
		}
	}
}

func TestResourceListJSON(t *testing.T) {
	in := `{"cpu":"500m","memory":"128Mi"}`
	var rl ResourceList
	if err := json.Unmarshal([]byte(in), &rl); err != nil {
		t.Fatal(err)
	}
	if got := rl[ResourceCPU].MilliValue(); got != 500 {
		t.Errorf("cpu = %dm, want 500m", got)
	}
	if got := rl[ResourceMemory].Value(); got != 128<<20 {
		t.Errorf("memory = %d, want %d", got, 128<<20)
	}
	out, err := json.Marshal(rl)
	if err != nil || string(out) != in {
		t.Errorf("Marshal = %s, %v; want %s", out, err, in)
	}

	// In a struct, by value and by pointer.
	type holder struct {
		Q Quantity  `json:"q"`
		P *Quantity `json:"p,omitempty"`
	}
	h := holder{Q: MustParseQuantity("2"), P: new(MustParseQuantity("1Gi"))}
	out, err = json.Marshal(h)
	if err != nil || string(out) != `{"q":"2","p":"1Gi"}` {
		t.Errorf("Marshal(holder) = %s, %v", out, err)
	}
	var back holder
	if err := json.Unmarshal(out, &back); err != nil || back.Q.Cmp(h.Q) != 0 || back.P.Cmp(*h.P) != 0 {
		t.Errorf("Unmarshal(%s) = %+v, %v", out, back, err)
	}
}
