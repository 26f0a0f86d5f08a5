package tui

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/minik8s/minik8s/api"
)

// Tone is how a row reads at a glance; the table colours rows by it, as k9s does.
type Tone int

// The tones of a row.
const (
	ToneNormal Tone = iota
	ToneWarn        // on its way, or degraded: Pending, ContainerCreating, fewer ready than wanted
	ToneError       // failed: Failed, CrashLoopBackOff, NotReady, a Warning event
	ToneDim         // done or going: Completed, Terminating
)

// Renderer renders the objects of one kind as table rows. As in k9s, rendering an object to a
// row is a pure function of the object, the clock and what the row needs of other objects, so
// it is tested on JSON fixtures.
type Renderer struct {
	// Columns are every column of the kind, priority 1 (-o wide) ones included.
	Columns []api.TableColumnDefinition
	// Cells returns obj's cells, one per column: strings, or int64 for integers. tc holds what
	// the cells need beyond obj (see Needs) and may be nil; now dates the ages.
	Cells func(obj api.Object, now time.Time, tc *api.TableContext) []any
	// Needs are the other resources whose objects the rows show something of.
	Needs []api.TableNeed
	// Tone colours a row from its object and its formatted cells; nil for ToneNormal.
	Tone func(obj api.Object, cells []string) Tone
}

// Row is one rendered object: a text per column, and its tone.
type Row struct {
	Cells []string
	Tone  Tone
}

// Render renders obj. It is pure: the same arguments give the same row.
func (r Renderer) Render(obj api.Object, now time.Time, tc *api.TableContext) Row {
	raw := r.Cells(obj, now, tc)
	cells := make([]string, len(r.Columns))
	for i := range cells {
		if i < len(raw) {
			cells[i] = formatCell(raw[i])
		}
	}
	row := Row{Cells: cells}
	if r.Tone != nil {
		row.Tone = r.Tone(obj, cells)
	}
	return row
}

// Registry holds the Renderer of each kind. NewRegistry fills it with `minik8s get`'s
// columns for every kind the API serves; a kind from a later issue plugs in with Register (or
// by adding its columns to api's table printers, which `get` then shares).
type Registry struct {
	byKind map[string]Renderer
}

// NewRegistry returns the renderers of every kind in api.Resources(): the columns and cells
// of `minik8s get` (api.TableColumns, api.TableCellsWith, api.TableNeeds), with row tones.
func NewRegistry() *Registry {
	g := &Registry{byKind: map[string]Renderer{}}
	for _, res := range api.Resources() {
		cols := api.TableColumns(res)
		g.Register(res, Renderer{
			Columns: cols,
			Cells:   api.TableCellsWith,
			Needs:   api.TableNeeds(res),
			Tone:    toneFor(res, cols),
		})
	}
	return g
}

// Register sets the renderer of res's kind, replacing any.
func (g *Registry) Register(res *api.Resource, r Renderer) { g.byKind[registryKey(res)] = r }

// For returns the renderer of res's kind: NAME and AGE for a kind without one.
func (g *Registry) For(res *api.Resource) Renderer {
	if r, ok := g.byKind[registryKey(res)]; ok {
		return r
	}
	return Renderer{Columns: api.TableColumns(nil), Cells: api.TableCellsWith}
}

func registryKey(res *api.Resource) string { return res.Group + "/" + res.Name }

// toneFor returns the tone function of a kind, reading the cells of its named columns.
func toneFor(res *api.Resource, cols []api.TableColumnDefinition) func(api.Object, []string) Tone {
	col := func(name string) int {
		for i, c := range cols {
			if c.Name == name {
				return i
			}
		}
		return -1
	}
	switch res.Group + "/" + res.Kind {
	case "/Pod":
		status, ready := col("Status"), col("Ready")
		return func(_ api.Object, cells []string) Tone {
			return podTone(cells[status], cells[ready])
		}
	case "/Node":
		status := col("Status")
		return func(_ api.Object, cells []string) Tone {
			s := cells[status]
			switch {
			case !strings.HasPrefix(s, "Ready"):
				return ToneError
			case strings.Contains(s, "SchedulingDisabled"):
				return ToneWarn
			}
			return ToneNormal
		}
	case "/Namespace":
		return func(obj api.Object, _ []string) Tone {
			if ns, ok := obj.(*api.Namespace); ok && ns.Status.Phase == api.NamespaceTerminating {
				return ToneDim
			}
			return ToneNormal
		}
	case "/Event":
		return func(obj api.Object, _ []string) Tone {
			if ev, ok := obj.(*api.Event); ok && ev.Type == api.EventTypeWarning {
				return ToneWarn
			}
			return ToneNormal
		}
	case api.GroupApps + "/ReplicaSet":
		return func(obj api.Object, _ []string) Tone {
			rs, ok := obj.(*api.ReplicaSet)
			if !ok {
				return ToneNormal
			}
			want := int32(1)
			if rs.Spec.Replicas != nil {
				want = *rs.Spec.Replicas
			}
			if rs.Status.ReadyReplicas < want {
				return ToneWarn
			}
			return ToneNormal
		}
	}
	return nil
}

// podTone reads a Pod's STATUS and READY cells as k9s does: running and ready is normal,
// done is dim, on its way is a warning, anything else an error.
func podTone(status, ready string) Tone {
	switch {
	case status == "Running":
		if a, b, ok := strings.Cut(ready, "/"); ok && a != b {
			return ToneWarn
		}
		return ToneNormal
	case status == "Completed" || status == api.PodSucceeded || status == "Terminating":
		return ToneDim
	case status == api.PodPending || status == "ContainerCreating" || status == "PodInitializing" ||
		status == "SchedulingGated" || strings.HasPrefix(status, "Init:") && !strings.Contains(status, "Err") && !strings.Contains(status, "BackOff"):
		return ToneWarn
	}
	return ToneError
}

// formatCell renders one cell as `minik8s get` does (api.FormatTable): nothing for nil, text
// cut at the first line break with "...", terminal escapes made visible, integral numbers
// without a fraction.
func formatCell(cell any) string {
	switch v := cell.(type) {
	case nil:
		return ""
	case string:
		if i := strings.IndexAny(v, "\f\n\r"); i >= 0 {
			return escapeTerminal(v[:i]) + "..."
		}
		return escapeTerminal(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return strconv.FormatInt(int64(v), 10)
		}
		return escapeTerminal(fmt.Sprint(v))
	case json.Number:
		return escapeTerminal(v.String())
	}
	return escapeTerminal(fmt.Sprint(cell))
}

var terminalEscaper = strings.NewReplacer("\x1b", "^[", "\r", "\\r")

func escapeTerminal(s string) string { return terminalEscaper.Replace(s) }

// objectKey is the store key of an object: "namespace/name", or "name" when cluster-scoped.
func objectKey(obj api.Object) string {
	m := obj.GetObjectMeta()
	if m.Namespace == "" {
		return m.Name
	}
	return m.Namespace + "/" + m.Name
}

// sortKeys assigns each column title a sort key: shift and a letter. NAMESPACE is P (k9s'
// key), NAME N and AGE A; every other column takes the first letter of its title that no
// column before it took, skipping G (go to the bottom). A column left without a letter cannot
// be sorted by key. The result has one rune per title, 0 for none.
func sortKeys(titles []string) []rune {
	keys := make([]rune, len(titles))
	used := map[rune]bool{'G': true, 'P': true, 'N': true, 'A': true}
	for i, t := range titles {
		switch t {
		case "NAMESPACE":
			keys[i] = 'P'
		case "NAME":
			keys[i] = 'N'
		case "AGE":
			keys[i] = 'A'
		}
	}
	for i, t := range titles {
		if keys[i] != 0 {
			continue
		}
		for _, r := range strings.ToUpper(t) {
			if r >= 'A' && r <= 'Z' && !used[r] {
				keys[i], used[r] = r, true
				break
			}
		}
	}
	return keys
}

// sortValue is a cell made comparable: a number for integers and durations ("5m30s", AGE),
// else the text.
type sortValue struct {
	num   float64
	isNum bool
	text  string
}

func makeSortValue(cell string) sortValue {
	if cell != "" && (isDigit(cell[0]) || len(cell) > 1 && cell[0] == '-' && isDigit(cell[1])) {
		if n, err := strconv.ParseFloat(cell, 64); err == nil {
			return sortValue{num: n, isNum: true, text: cell}
		}
	}
	if d, ok := parseAge(cell); ok {
		return sortValue{num: d.Seconds(), isNum: true, text: cell}
	}
	return sortValue{text: cell}
}

// compareSortValues orders numbers (and durations) by value, and anything else naturally.
func compareSortValues(a, b sortValue) int {
	if a.isNum && b.isNum {
		switch {
		case a.num < b.num:
			return -1
		case a.num > b.num:
			return 1
		}
		return 0
	}
	return naturalCompare(a.text, b.text)
}

// naturalCompare compares strings with runs of digits compared as numbers, so that "web-9"
// comes before "web-10" and "2/3" before "10/10".
func naturalCompare(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		ca, cb := a[i], b[j]
		if isDigit(ca) && isDigit(cb) {
			si, sj := i, j
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
			na := strings.TrimLeft(a[si:i], "0")
			nb := strings.TrimLeft(b[sj:j], "0")
			if len(na) != len(nb) {
				return cmp.Compare(len(na), len(nb))
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			continue
		}
		if ca != cb {
			return cmp.Compare(int(ca), int(cb))
		}
		i++
		j++
	}
	return cmp.Compare(len(a)-i, len(b)-j)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// parseAge reads a duration as api.HumanDuration writes it ("90s", "5m30s", "3d4h", "2y10d").
func parseAge(s string) (time.Duration, bool) {
	if s == "" {
		return 0, false
	}
	var total time.Duration
	n, digits := int64(0), 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isDigit(c) {
			n = n*10 + int64(c-'0')
			digits++
			if digits > 12 {
				return 0, false
			}
			continue
		}
		if digits == 0 {
			return 0, false
		}
		var unit time.Duration
		switch c {
		case 's':
			unit = time.Second
		case 'm':
			unit = time.Minute
		case 'h':
			unit = time.Hour
		case 'd':
			unit = 24 * time.Hour
		case 'y':
			unit = 365 * 24 * time.Hour
		default:
			return 0, false
		}
		total += time.Duration(n) * unit
		n, digits = 0, 0
	}
	if digits != 0 {
		return 0, false
	}
	return total, true
}
