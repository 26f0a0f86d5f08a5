package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
)

// manyPods returns n Pods spread over ten namespaces.
func manyPods(n int) []api.Object {
	objs := make([]api.Object, n)
	for i := range objs {
		p := pod(fmt.Sprintf("ns-%d", i%10), fmt.Sprintf("pod-%05d", i), map[string]string{"app": fmt.Sprintf("app-%d", i%7)}, "Running")
		p.CreationTimestamp = api.NewTime(t0.Add(-time.Duration(i) * time.Second))
		objs[i] = p
	}
	return objs
}

// listed builds a Model over objs in all namespaces, as if its list had just answered.
func listed(tb testing.TB, objs []api.Object) *Model {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	m := New(ctx, Options{Source: newFakeSource(), Now: func() time.Time { return t0 }, AgeEvery: -1, MetricsEvery: -1})
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 50})
	m.show(m.cur)
	f := m.feeds["table"]
	m.Update(listedMsg{feed: f.name, gen: f.gen, objs: objs, rv: "1"})
	return m
}

// TestThousandsOfRows checks that 5000 rows are all there, that only the screen's rows are
// laid out, and that moving does not sort or filter again, typing a filter filters without
// sorting, and a burst of watch events costs one sort.
func TestThousandsOfRows(t *testing.T) {
	m := listed(t, manyPods(5000))
	v := m.View()
	mustContain(t, v, "rows:5000", "pod-00000")
	if n := strings.Count(v, "\n") + 1; n != 50 {
		t.Errorf("%d lines on a 50-line screen", n)
	}
	sorts, filters := m.tbl.sorts, m.tbl.filters
	for range 300 {
		m.Update(tea.KeyMsg{Type: tea.KeyDown})
	}
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'G'}})
	if m.tbl.sorts != sorts || m.tbl.filters != filters {
		t.Errorf("moving sorted %d and filtered %d times", m.tbl.sorts-sorts, m.tbl.filters-filters)
	}
	mustContain(t, m.View(), "pod-04999")

	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'/'}})
	for _, r := range "pod-0499" {
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	if m.tbl.sorts != sorts {
		t.Errorf("filtering sorted %d times", m.tbl.sorts-sorts)
	}
	mustContain(t, m.View(), "rows:10")
	m.Update(tea.KeyMsg{Type: tea.KeyEsc})

	f := m.feeds["table"]
	var evs []client.Event
	for i := range 200 {
		evs = append(evs, client.Event{Type: api.Modified, Object: pod(fmt.Sprintf("ns-%d", i%10), fmt.Sprintf("pod-%05d", i), nil, "Failed")})
	}
	sorts = m.tbl.sorts
	m.Update(eventsMsg{feed: f.name, gen: f.gen, evs: evs})
	if m.tbl.sorts != sorts {
		t.Errorf("200 changes that move no row sorted %d times", m.tbl.sorts-sorts)
	}
	evs = evs[:0]
	for i := range 100 {
		evs = append(evs, client.Event{Type: api.Added, Object: pod("ns-0", fmt.Sprintf("new-%03d", i), nil, "Running")})
	}
	m.Update(eventsMsg{feed: f.name, gen: f.gen, evs: evs})
	if m.tbl.sorts != sorts+1 {
		t.Errorf("a burst of 100 new rows sorted %d times", m.tbl.sorts-sorts)
	}
	mustContain(t, m.View(), "rows:5100")
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'/'}})
	for _, r := range "Failed" {
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	mustContain(t, m.View(), "rows:200")
}

func benchModel(b *testing.B) *Model {
	return listed(b, manyPods(5000))
}

// BenchmarkWatchEvent5000 is one MODIFIED event on a table of 5000 rows: render the row, sort,
// filter, measure.
func BenchmarkWatchEvent5000(b *testing.B) {
	m := benchModel(b)
	f := m.feeds["table"]
	for i := 0; b.Loop(); i++ {
		ev := client.Event{Type: api.Modified, Object: pod("ns-0", fmt.Sprintf("pod-%05d", (i*10)%5000), nil, "Running")}
		m.Update(eventsMsg{feed: f.name, gen: f.gen, evs: []client.Event{ev}})
	}
}

// BenchmarkView5000 draws the screen of a table of 5000 rows.
func BenchmarkView5000(b *testing.B) {
	m := benchModel(b)
	for b.Loop() {
		_ = m.View()
	}
}

// BenchmarkCursorDown5000 is a keypress and the frame after it.
func BenchmarkCursorDown5000(b *testing.B) {
	m := benchModel(b)
	for b.Loop() {
		m.Update(tea.KeyMsg{Type: tea.KeyDown})
		_ = m.View()
	}
}

// BenchmarkFilterKey5000 is a key typed into the filter, and the frame after it.
func BenchmarkFilterKey5000(b *testing.B) {
	m := benchModel(b)
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'/'}})
	for b.Loop() {
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'1'}})
		m.Update(tea.KeyMsg{Type: tea.KeyBackspace})
		_ = m.View()
	}
}

// BenchmarkAgeTick5000 renders every row of 5000 again, as the age tick does every second.
func BenchmarkAgeTick5000(b *testing.B) {
	m := benchModel(b)
	for b.Loop() {
		m.Update(ageTickMsg{})
	}
}
