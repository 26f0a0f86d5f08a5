package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Quantity is an exact, fixed-point resource amount such as "500m" CPU or
// "128Mi" of memory, in the notation Kubernetes uses.
//
// The value is held exactly in thousandths of a unit (milli-units), so it
// ranges over about ±9.2e15 whole units (8Pi bytes) with a precision of 1m.
// A Quantity parsed from a string remembers that string and prints it back
// unchanged; a computed one prints in a canonical form.
//
// The zero value is the quantity 0. Two quantities may hold the same amount
// yet differ in how they print, so compare them with Cmp, not ==.
type Quantity struct {
	milli  int64
	s      string // the user's spelling, when it differs from the canonical one
	binary bool   // print whole amounts with Ki, Mi, ... suffixes when exact
}

// ResourceList maps a resource name (ResourceCPU "cpu", ResourceMemory
// "memory", ...) to an amount of it.
type ResourceList map[string]Quantity

// qtyFormHelp lists the accepted forms; it is appended to parse errors.
const qtyFormHelp = "expected a number with an optional suffix (m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei) or exponent (e3, E-3), e.g. 500m, 1, 0.5, 128Mi, 1e3"

// qtyMaxExponent bounds decimal exponents so that parsing stays cheap; any
// larger exponent overflows (or is too precise) anyway.
const qtyMaxExponent = 64

var (
	qtyBigThousand = big.NewInt(1000)
	qtyBigTen      = big.NewInt(10)
)

// qtyBinarySuffixes lists the binary suffixes from largest to smallest.
var qtyBinarySuffixes = []struct {
	suffix string
	shift  uint
}{
	{"Ei", 60}, {"Pi", 50}, {"Ti", 40}, {"Gi", 30}, {"Mi", 20}, {"Ki", 10},
}

// qtyDecimalSuffixes maps decimal SI suffixes to their power of ten.
var qtyDecimalSuffixes = map[string]int{
	"k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18,
}

// ParseQuantity parses a quantity such as "500m", "1", "0.5", "2.5",
// "128Mi", "1Gi", "1k", "1M", "1e3" or "-1": an optional sign, a decimal
// number, and an optional suffix, which is one of the SI suffixes m (1/1000),
// k, M, G, T, P, E (powers of 1000), one of the binary suffixes Ki, Mi, Gi,
// Ti, Pi, Ei (powers of 1024), or a decimal exponent (e3, E-3).
//
// It fails when the string has another form, when the amount is finer than
// 1m (such as "0.1m"), or when it is too large to hold.
func ParseQuantity(s string) (Quantity, error) {
	if s == "" {
		return Quantity{}, fmt.Errorf("invalid quantity \"\": must not be empty; %s", qtyFormHelp)
	}
	bad := func(why string) (Quantity, error) {
		return Quantity{}, fmt.Errorf("invalid quantity %q: %s", s, why)
	}

	rest := s
	negative := false
	if rest[0] == '+' || rest[0] == '-' {
		negative = rest[0] == '-'
		rest = rest[1:]
	}

	// The number: digits with at most one decimal point.
	var digits strings.Builder
	scale, nDigits, seenPoint := 0, 0, false
	i := 0
	for ; i < len(rest); i++ {
		c := rest[i]
		if c >= '0' && c <= '9' {
			digits.WriteByte(c)
			nDigits++
			if seenPoint {
				scale++
			}
			continue
		}
		if c == '.' && !seenPoint {
			seenPoint = true
			continue
		}
		break
	}
	if nDigits == 0 {
		return bad(qtyFormHelp)
	}
	suffix := rest[i:]

	// The multiplier num/den given by the suffix.
	num, den := big.NewInt(1), big.NewInt(1)
	binary := false
	switch {
	case suffix == "":
	case suffix == "m":
		den.SetInt64(1000)
	case qtyDecimalSuffixes[suffix] != 0:
		num.Exp(qtyBigTen, big.NewInt(int64(qtyDecimalSuffixes[suffix])), nil)
	case len(suffix) == 2 && suffix[1] == 'i' && strings.ContainsRune("KMGTPE", rune(suffix[0])):
		for _, b := range qtyBinarySuffixes {
			if b.suffix == suffix {
				num.Lsh(num, b.shift)
			}
		}
		binary = true
	case suffix[0] == 'e' || suffix[0] == 'E':
		if !qtyIsExponent(suffix[1:]) {
			return bad(qtyFormHelp)
		}
		exp, err := strconv.Atoi(suffix[1:])
		if err != nil || exp > qtyMaxExponent { // err: out of int range
			exp = qtyMaxExponent
			if suffix[1] == '-' {
				exp = -qtyMaxExponent
			}
		} else if exp < -qtyMaxExponent {
			exp = -qtyMaxExponent
		}
		if exp >= 0 {
			num.Exp(qtyBigTen, big.NewInt(int64(exp)), nil)
		} else {
			den.Exp(qtyBigTen, big.NewInt(int64(-exp)), nil)
		}
	default:
		return bad(qtyFormHelp)
	}

	// milli = digits * 1000 * num / (10^scale * den), which must be exact.
	mantissa, _ := new(big.Int).SetString(digits.String(), 10)
	if negative {
		mantissa.Neg(mantissa)
	}
	mantissa.Mul(mantissa, qtyBigThousand)
	mantissa.Mul(mantissa, num)
	den.Mul(den, new(big.Int).Exp(qtyBigTen, big.NewInt(int64(scale)), nil))
	quo, rem := new(big.Int).QuoRem(mantissa, den, new(big.Int))
	if rem.Sign() != 0 {
		return bad("too precise: the smallest amount a quantity can hold is 1m (0.001)")
	}
	if !quo.IsInt64() {
		return bad("too large: a quantity must lie between -9223372036854775.808 and 9223372036854775.807 (about ±8Pi)")
	}

	q := Quantity{milli: quo.Int64(), binary: binary}
	if q.format() != s {
		q.s = s
	}
	return q, nil
}

// qtyIsExponent reports whether s is an optionally signed run of digits.
func qtyIsExponent(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// MustParseQuantity is ParseQuantity for constants and tests: it panics when
// s is not a valid quantity.
func MustParseQuantity(s string) Quantity {
	q, err := ParseQuantity(s)
	if err != nil {
		panic(err)
	}
	return q
}

// NewMilliQuantity returns the quantity of milli thousandths of a unit. It
// prints as "250m", or as "2" when the amount is whole.
func NewMilliQuantity(milli int64) Quantity {
	return Quantity{milli: milli}
}

// NewQuantity returns the quantity of v whole units. With binary set (for
// bytes) it prints with the largest binary suffix that keeps it exact, such
// as "128Mi", and as a plain number otherwise. Amounts beyond the range of a
// Quantity (about ±9.2e15) are clamped to it.
func NewQuantity(v int64, binary bool) Quantity {
	const limit = math.MaxInt64 / 1000
	switch {
	case v > limit:
		v = limit
	case v < -limit:
		v = -limit
	}
	return Quantity{milli: v * 1000, binary: binary}
}

// Value returns the amount in whole units, rounded away from zero as
// Kubernetes does: "500m" gives 1 and "-1.5" gives -2.
func (q Quantity) Value() int64 {
	v := q.milli / 1000
	if q.milli%1000 > 0 {
		v++
	} else if q.milli%1000 < 0 {
		v--
	}
	return v
}

// MilliValue returns the amount in thousandths of a unit: "1" gives 1000
// and "250m" gives 250.
func (q Quantity) MilliValue() int64 {
	return q.milli
}

// String returns the quantity as its user wrote it, when it was parsed, and
// in canonical form otherwise: "250m" when it is not whole, a binary suffix
// ("1536Mi") when it came from a binary quantity and is an exact multiple,
// and a plain integer ("2") otherwise. The zero Quantity prints as "0".
func (q Quantity) String() string {
	if q.s != "" {
		return q.s
	}
	return q.format()
}

// format returns the canonical spelling of q.
func (q Quantity) format() string {
	if q.milli%1000 != 0 {
		return strconv.FormatInt(q.milli, 10) + "m"
	}
	v := q.milli / 1000
	if q.binary && v != 0 {
		for _, b := range qtyBinarySuffixes {
			if v%(1<<b.shift) == 0 {
				return strconv.FormatInt(v>>b.shift, 10) + b.suffix
			}
		}
	}
	return strconv.FormatInt(v, 10)
}

// IsZero reports whether the amount is zero.
func (q Quantity) IsZero() bool {
	return q.milli == 0
}

// Cmp compares the amounts of q and other, returning -1 when q is smaller, 0
// when they are equal, and +1 when q is larger.
func (q Quantity) Cmp(other Quantity) int {
	switch {
	case q.milli < other.milli:
		return -1
	case q.milli > other.milli:
		return 1
	}
	return 0
}

// Add returns q + other, clamped to the range of a Quantity. The result
// prints in canonical form, with binary suffixes when either operand had one.
func (q Quantity) Add(other Quantity) Quantity {
	return Quantity{milli: qtyAddClamped(q.milli, other.milli), binary: q.binary || other.binary}
}

// Sub returns q - other, clamped to the range of a Quantity. The result
// prints in canonical form, with binary suffixes when either operand had one.
func (q Quantity) Sub(other Quantity) Quantity {
	var diff int64
	if other.milli == math.MinInt64 {
		// -MinInt64 does not fit: q - MinInt64 = (q + MaxInt64) + 1.
		diff = qtyAddClamped(qtyAddClamped(q.milli, math.MaxInt64), 1)
	} else {
		diff = qtyAddClamped(q.milli, -other.milli)
	}
	return Quantity{milli: diff, binary: q.binary || other.binary}
}

// qtyAddClamped returns a + b, saturating at the int64 limits.
func qtyAddClamped(a, b int64) int64 {
	sum := a + b
	switch {
	case a > 0 && b > 0 && sum < 0:
		return math.MaxInt64
	case a < 0 && b < 0 && sum >= 0:
		return math.MinInt64
	}
	return sum
}

// MarshalJSON writes the quantity as a JSON string, such as "128Mi".
func (q Quantity) MarshalJSON() ([]byte, error) {
	return json.Marshal(q.String())
}

// UnmarshalJSON reads a quantity from a JSON string ("500m") or, as
// Kubernetes allows, a JSON number (0.5). JSON null leaves the zero quantity.
func (q *Quantity) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if string(data) == "null" {
		*q = Quantity{}
		return nil
	}
	var text string
	switch {
	case len(data) > 0 && data[0] == '"':
		if err := json.Unmarshal(data, &text); err != nil {
			return fmt.Errorf("invalid quantity %s: %v", data, err)
		}
	case len(data) > 0 && (data[0] == '-' || data[0] >= '0' && data[0] <= '9') && json.Valid(data):
		text = string(data)
	default:
		return fmt.Errorf("invalid quantity %s: must be a JSON string such as \"500m\" or \"128Mi\", or a JSON number", data)
	}
	parsed, err := ParseQuantity(text)
	if err != nil {
		return err
	}
	*q = parsed
	return nil
}
