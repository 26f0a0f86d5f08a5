package tui

import (
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/minik8s/minik8s/api"
)

// table holds the rows of one view. Each object is rendered once, when it changes (and on the
// age tick); sorting and filtering run only when rows, the sort or the filter changed, and only
// the rows on screen are laid out, so that thousands of rows stay smooth.
type table struct {
	res    *api.Resource
	rd     Renderer
	withNS bool
	wide   bool
	// tc is what the rows need of other objects (the Endpoints of Services, the Pods of
	// Nodes), kept by the view's side feeds; nil until they list.
	tc *api.TableContext

	rows  map[string]*row
	order []*row // sorted
	shown []*row // order, filtered

	cols   []int    // the shown columns, as indexes into rd.Columns
	titles []string // their titles, NAMESPACE first when withNS
	keys   []rune   // the sort key of each title
	widths []int    // the width of each title's column, padding included

	sortTitle string // "" for kubectl's order: namespace, then name
	desc      bool

	filter string
	match  func(*row) bool

	needSort, needFilter bool
	sorts, filters       int // how many times settle sorted and filtered, for tests
}

// row is one object and its rendering.
type row struct {
	key   string
	obj   api.Object
	ns    string
	cells []string // one per column of rd.Columns
	tone  Tone
	text  string // the shown cells joined by spaces, for the filter
	sort  sortValue
}

func newTable(res *api.Resource, rd Renderer, withNS, wide bool) *table {
	t := &table{res: res, rd: rd, withNS: withNS, wide: wide, rows: map[string]*row{}}
	t.layout()
	t.setFilter("")
	return t
}

// layout chooses the shown columns: priority 0 ones, and priority 1 ones too when wide, as
// `minik8s get [-o wide]` prints them.
func (t *table) layout() {
	t.cols, t.titles = t.cols[:0], t.titles[:0]
	if t.withNS {
		t.titles = append(t.titles, "NAMESPACE")
	}
	for i, c := range t.rd.Columns {
		if t.wide || c.Priority == 0 {
			t.cols = append(t.cols, i)
			t.titles = append(t.titles, strings.ToUpper(c.Name))
		}
	}
	t.keys = sortKeys(t.titles)
}

// setWide shows or hides the priority 1 columns.
func (t *table) setWide(wide bool, now time.Time) {
	t.wide = wide
	t.layout()
	if t.sortIndex() < 0 {
		t.sortTitle, t.desc = "", false
	}
	t.rerenderAll(now)
}

// render renders obj into r.
func (t *table) render(r *row, obj api.Object, now time.Time) {
	out := t.rd.Render(obj, now, t.tc)
	r.obj, r.cells, r.tone = obj, out.Cells, out.Tone
	r.ns = obj.GetObjectMeta().Namespace
	var b strings.Builder
	if t.withNS {
		b.WriteString(r.ns)
	}
	for _, c := range t.cols {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(r.cells[c])
	}
	r.text = b.String()
	// A row moves only when its sort value changed: most changes (and every change in
	// kubectl's order, by namespace and name) leave the order as it is.
	old := r.sort
	r.sort = t.sortValueOf(r)
	if old != r.sort && compareSortValues(old, r.sort) != 0 {
		t.needSort = true
	}
	t.needFilter = true
}

// set adds or replaces an object's row.
func (t *table) set(obj api.Object, now time.Time) {
	k := objectKey(obj)
	r := t.rows[k]
	if r == nil {
		r = &row{key: k}
		t.rows[k] = r
		t.needSort = true
	}
	t.render(r, obj, now)
}

// remove drops an object's row.
func (t *table) remove(key string) {
	if _, ok := t.rows[key]; ok {
		delete(t.rows, key)
		t.needSort, t.needFilter = true, true
	}
}

// reset replaces every row with objs'.
func (t *table) reset(objs []api.Object, now time.Time) {
	t.rows = make(map[string]*row, len(objs))
	for _, o := range objs {
		t.set(o, now)
	}
	t.needSort, t.needFilter = true, true
}

// rerender renders again the rows of keys that exist (what they show of other objects changed).
func (t *table) rerender(keys []string, now time.Time) {
	for _, k := range keys {
		if r := t.rows[k]; r != nil {
			t.render(r, r.obj, now)
		}
	}
}

// rerenderAll renders every row again: the ages moved on, or the columns changed.
func (t *table) rerenderAll(now time.Time) {
	for _, r := range t.rows {
		t.render(r, r.obj, now)
	}
	t.needFilter = true
}

// sortIndex is the index of the sort column in titles, or -1.
func (t *table) sortIndex() int {
	if t.sortTitle == "" {
		return -1
	}
	for i, title := range t.titles {
		if title == t.sortTitle {
			return i
		}
	}
	return -1
}

func (t *table) sortValueOf(r *row) sortValue {
	i := t.sortIndex()
	switch {
	case i < 0:
		return sortValue{}
	case t.withNS && i == 0:
		return makeSortValue(r.ns)
	}
	if t.withNS {
		i--
	}
	return makeSortValue(r.cells[t.cols[i]])
}

// sortByKey sorts by the column whose sort key is k: ascending, or the other way when it is
// already the sort column. It reports whether a column has that key.
func (t *table) sortByKey(k rune) bool {
	for i, key := range t.keys {
		if key != k {
			continue
		}
		if t.sortTitle == t.titles[i] {
			t.desc = !t.desc
		} else {
			t.sortTitle, t.desc = t.titles[i], false
		}
		for _, r := range t.rows {
			r.sort = t.sortValueOf(r)
		}
		t.needSort = true
		return true
	}
	return false
}

// setFilter sets the filter: a regular expression matched against the row's text (a literal
// substring when it does not compile), or "-l SELECTOR" to match labels.
func (t *table) setFilter(f string) {
	t.filter = f
	t.match = nil
	if f = strings.TrimSpace(f); strings.HasPrefix(f, "-l ") || f == "-l" {
		sel, err := api.ParseSelector(strings.TrimSpace(strings.TrimPrefix(f, "-l")))
		if err == nil {
			t.match = func(r *row) bool { return sel.Matches(r.obj.GetObjectMeta().Labels) }
		}
	} else if f != "" {
		re, err := regexp.Compile(f)
		if err != nil {
			re = regexp.MustCompile(regexp.QuoteMeta(f))
		}
		t.match = func(r *row) bool { return re.MatchString(r.text) }
	}
	t.needFilter = true
}

// settle sorts and filters what changed since the last call, and sizes the columns to the
// rows that pass the filter (as `get` sizes them to the rows it prints). It reports whether
// anything changed.
func (t *table) settle() bool {
	if !t.needSort && !t.needFilter {
		return false
	}
	if t.needSort {
		t.order = t.order[:0]
		for _, r := range t.rows {
			t.order = append(t.order, r)
		}
		sorted := t.sortIndex() >= 0
		sort.Slice(t.order, func(i, j int) bool {
			a, b := t.order[i], t.order[j]
			if sorted {
				if c := compareSortValues(a.sort, b.sort); c != 0 {
					return (c < 0) != t.desc
				}
			}
			if a.ns != b.ns {
				return a.ns < b.ns
			}
			return a.key < b.key
		})
		t.needSort, t.needFilter = false, true
		t.sorts++
	}
	t.filters++
	t.shown = t.shown[:0]
	for _, r := range t.order {
		if t.match == nil || t.match(r) {
			t.shown = append(t.shown, r)
		}
	}
	t.needFilter = false
	t.measure()
	return true
}

// measure sizes each column as kubectl's tabwriter does: the widest cell (or title) plus three
// spaces, at least six.
func (t *table) measure() {
	titles := t.headerTitles()
	t.widths = t.widths[:0]
	for _, title := range titles {
		t.widths = append(t.widths, utf8.RuneCountInString(title))
	}
	for _, r := range t.shown {
		for i := range titles {
			if w := utf8.RuneCountInString(t.cell(r, i)); w > t.widths[i] {
				t.widths[i] = w
			}
		}
	}
	for i := range t.widths {
		t.widths[i] = max(6, t.widths[i]+3)
	}
}

// headerTitles are the titles with the sort column marked ↑ (ascending) or ↓.
func (t *table) headerTitles() []string {
	i := t.sortIndex()
	if i < 0 {
		return t.titles
	}
	out := append([]string(nil), t.titles...)
	if t.desc {
		out[i] += "↓"
	} else {
		out[i] += "↑"
	}
	return out
}

// cell is the text of r's i-th shown column.
func (t *table) cell(r *row, i int) string {
	if t.withNS {
		if i == 0 {
			return r.ns
		}
		i--
	}
	return r.cells[t.cols[i]]
}

// header is the line of column titles, laid out as the rows are.
func (t *table) header() string { return t.lineOf(t.headerTitles()) }

// line lays out one row as `minik8s get` prints it.
func (t *table) line(r *row) string {
	cells := make([]string, len(t.titles))
	for i := range cells {
		cells[i] = t.cell(r, i)
	}
	return t.lineOf(cells)
}

func (t *table) lineOf(cells []string) string {
	var b strings.Builder
	for i, c := range cells {
		b.WriteString(c)
		if i < len(cells)-1 && i < len(t.widths) {
			if pad := t.widths[i] - utf8.RuneCountInString(c); pad > 0 {
				b.WriteString(strings.Repeat(" ", pad))
			}
		}
	}
	return strings.TrimRight(b.String(), " ")
}

// sortLabel names the sort for the header: "AGE↓", or "" for kubectl's order.
func (t *table) sortLabel() string {
	i := t.sortIndex()
	if i < 0 {
		return ""
	}
	return t.headerTitles()[i]
}
