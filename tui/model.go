package tui

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"sigs.k8s.io/yaml"

	"github.com/minik8s/minik8s/api"
)

// Options configure a Model.
type Options struct {
	// Source is where the objects come from; required.
	Source Source
	// Server is the API server's URL, shown in the header.
	Server string
	// Namespace is the namespace to start in; "" for all namespaces.
	Namespace string
	// Resource is the kind to start with; nil for pods.
	Resource *api.Resource
	// ReadOnly disables every key that changes the cluster.
	ReadOnly bool
	// Describe renders an object as `minik8s describe` does. It runs in a tea.Cmd, so it may
	// call the API. Nil shows the object's YAML instead.
	Describe func(ctx context.Context, res *api.Resource, obj api.Object) (string, error)
	// Now is the clock for the AGE columns; nil for time.Now.
	Now func() time.Time
	// RetryDelay is how long to wait before listing again after an error; 0 retries at once.
	RetryDelay time.Duration
}

// view is what the table shows: a kind, a namespace ("" for all) and a label selector.
type view struct {
	res      *api.Resource
	ns       string
	selector string
}

type mode int

const (
	modeTable mode = iota
	modeCommand
	modeFilter
	modeText
	modeConfirm
	modeHelp
)

// Model is the terminal UI's bubbletea model: one generic table view for every kind, fed by a
// list and then a watch. It is not safe for concurrent use; bubbletea calls it from one
// goroutine.
type Model struct {
	opts Options
	ctx  context.Context

	cur     view
	history []view
	gen     int
	vctx    context.Context // the current view's lists and watches; cancelled on switch
	cancel  context.CancelFunc
	status  string // "connecting", "connected", "reconnecting"
	lastErr error

	store  map[string]api.Object
	rv     string
	header string
	rows   []api.Object // sorted, aligned with lines
	lines  []string
	shown  []int // indexes into rows that pass the filter

	filter   string
	cursor   int // index into shown
	top      int // first shown row on screen
	selected string

	mode   mode
	input  string
	flash  string
	text   viewport.Model
	title  string
	target api.Object // the object a confirmation is about

	width, height int
}

// New returns a Model that shows opts.Resource (pods by default) in opts.Namespace. ctx bounds
// every list, watch and delete it starts.
func New(ctx context.Context, opts Options) *Model {
	if opts.Resource == nil {
		opts.Resource = api.LookupResource("pods")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := &Model{opts: opts, ctx: ctx, width: 80, height: 24, store: map[string]api.Object{}}
	m.cur = view{res: opts.Resource, ns: opts.Namespace}
	if !m.cur.res.Namespaced {
		m.cur.ns = ""
	}
	m.text = viewport.New(80, 20)
	m.refresh()
	return m
}

// Init starts listing the first view.
func (m *Model) Init() tea.Cmd { return m.start() }

// start cancels the current view's list and watch and lists the current view afresh.
func (m *Model) start() tea.Cmd {
	if m.cancel != nil {
		m.cancel()
	}
	m.vctx, m.cancel = context.WithCancel(m.ctx)
	m.gen++
	m.status = "connecting"
	return listCmd(m.vctx, m.opts.Source, m.gen, m.cur)
}

// switchTo shows v, remembering the current view for esc.
func (m *Model) switchTo(v view) tea.Cmd {
	if !v.res.Namespaced {
		v.ns = ""
	}
	m.history = append(m.history, m.cur)
	return m.show(v)
}

func (m *Model) show(v view) tea.Cmd {
	m.cur = v
	m.store = map[string]api.Object{}
	m.rv = ""
	m.filter = ""
	m.cursor, m.top, m.selected = 0, 0, ""
	m.refresh()
	return m.start()
}

// Update handles keys, window sizes and live data. It never blocks: everything that waits
// runs in a returned tea.Cmd.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.text.Width, m.text.Height = msg.Width, max(1, msg.Height-3)
		m.scroll()
		return m, nil
	case tea.KeyMsg:
		return m.key(msg)
	case listedMsg:
		if msg.gen != m.gen {
			return m, nil
		}
		if msg.err != nil {
			return m, m.reconnect(msg.err, m.opts.RetryDelay)
		}
		m.store = make(map[string]api.Object, len(msg.objs))
		for _, o := range msg.objs {
			m.store[objectKey(o)] = o
		}
		m.rv = msg.rv
		m.status, m.lastErr = "connected", nil
		m.refresh()
		return m, watchCmd(m.vctx, m.opts.Source, m.gen, m.cur, m.rv)
	case watchStartedMsg:
		if msg.gen != m.gen {
			return m, nil
		}
		if msg.err != nil {
			return m, m.reconnect(msg.err, m.opts.RetryDelay)
		}
		return m, nextEventCmd(m.vctx, m.gen, msg.ch)
	case eventMsg:
		if msg.gen != m.gen {
			return m, nil
		}
		return m, m.event(msg)
	case retryMsg:
		if msg.gen != m.gen {
			return m, nil
		}
		m.gen++
		return m, listCmd(m.vctx, m.opts.Source, m.gen, m.cur)
	case deletedMsg:
		if msg.err != nil {
			m.flash = fmt.Sprintf("delete %s: %v", msg.what, msg.err)
		} else {
			m.flash = "deleted " + msg.what
		}
		return m, nil
	case textMsg:
		if msg.gen != m.gen || m.mode != modeText {
			return m, nil
		}
		body := msg.body
		if msg.err != nil {
			body = "error: " + msg.err.Error()
		}
		m.text.SetContent(body)
		m.text.GotoTop()
		return m, nil
	}
	return m, nil
}

// event applies one watch event and reads the next.
func (m *Model) event(msg eventMsg) tea.Cmd {
	if !msg.ok {
		if m.vctx.Err() != nil {
			return nil
		}
		// The server ended the stream (a timeout, or a lost connection): watch again from
		// where we are; if that fails, reconnect lists afresh.
		return watchCmd(m.vctx, m.opts.Source, m.gen, m.cur, m.rv)
	}
	ev := msg.ev
	switch ev.Type {
	case api.Error:
		if isGone(ev.Status) {
			return m.reconnect(fmt.Errorf("watch: revision %s is too old", m.rv), 0)
		}
		reason := "watch error"
		if ev.Status != nil {
			reason = ev.Status.Message
		}
		return m.reconnect(fmt.Errorf("%s", reason), m.opts.RetryDelay)
	case api.Added, api.Modified:
		m.store[objectKey(ev.Object)] = ev.Object
	case api.Deleted:
		delete(m.store, objectKey(ev.Object))
	}
	if ev.Object != nil {
		if rv := ev.Object.GetObjectMeta().ResourceVersion; rv != "" {
			m.rv = rv
		}
	}
	if ev.Type != api.Bookmark {
		m.refresh()
	}
	return nextEventCmd(m.vctx, m.gen, msg.ch)
}

// reconnect shows "reconnecting" and lists again after delay. The table keeps its rows until
// the new list replaces them all.
func (m *Model) reconnect(err error, delay time.Duration) tea.Cmd {
	m.status, m.lastErr = "reconnecting", err
	return retryCmd(m.gen, delay)
}

// refresh re-renders the rows from the store and re-applies the filter, keeping the cursor on
// the same object when it is still there.
func (m *Model) refresh() {
	m.rows = sortedObjects(m.store)
	withNS := m.cur.ns == "" && m.cur.res.Namespaced
	m.header, m.lines = renderTable(m.cur.res, m.rows, withNS, m.opts.Now())
	m.applyFilter()
}

// applyFilter recomputes the shown rows. A filter is a regular expression matched against the
// row's text (a literal substring when it does not compile), or "-l SELECTOR" to match labels.
func (m *Model) applyFilter() {
	m.shown = m.shown[:0]
	match := func(int) bool { return true }
	if f := strings.TrimSpace(m.filter); strings.HasPrefix(f, "-l ") {
		sel, err := api.ParseSelector(strings.TrimSpace(f[3:]))
		if err == nil {
			match = func(i int) bool { return sel.Matches(m.rows[i].GetObjectMeta().Labels) }
		}
	} else if f != "" {
		re, err := regexp.Compile(f)
		if err != nil {
			re = regexp.MustCompile(regexp.QuoteMeta(f))
		}
		match = func(i int) bool { return re.MatchString(m.lines[i]) }
	}
	for i := range m.rows {
		if match(i) {
			m.shown = append(m.shown, i)
		}
	}
	m.cursor = 0
	for j, i := range m.shown {
		if objectKey(m.rows[i]) == m.selected {
			m.cursor = j
			break
		}
	}
	m.clampCursor()
}

func (m *Model) clampCursor() {
	m.cursor = min(m.cursor, len(m.shown)-1)
	m.cursor = max(m.cursor, 0)
	if obj := m.Selected(); obj != nil {
		m.selected = objectKey(obj)
	}
	m.scroll()
}

// scroll keeps the cursor's row on screen.
func (m *Model) scroll() {
	h := m.tableHeight()
	if m.cursor < m.top {
		m.top = m.cursor
	}
	if m.cursor >= m.top+h {
		m.top = m.cursor - h + 1
	}
	m.top = max(0, min(m.top, len(m.shown)-h))
}

// tableHeight is how many rows fit: the screen less the header (2 lines), the column titles
// and the footer.
func (m *Model) tableHeight() int { return max(1, m.height-4) }

// Selected returns the object under the cursor, or nil when the table is empty.
func (m *Model) Selected() api.Object {
	if m.cursor < 0 || m.cursor >= len(m.shown) {
		return nil
	}
	return m.rows[m.shown[m.cursor]]
}

func (m *Model) quit() (tea.Model, tea.Cmd) {
	if m.cancel != nil {
		m.cancel()
	}
	return m, tea.Quit
}

func (m *Model) key(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	if k.Type == tea.KeyRunes && len(k.Runes) > 1 {
		// Keys typed faster than the terminal is read arrive together: handle them one by one,
		// since one of them (":", "/") may change what the next ones mean.
		var cmds []tea.Cmd
		for _, r := range k.Runes {
			_, cmd := m.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: k.Alt})
			cmds = append(cmds, cmd)
		}
		return m, tea.Batch(cmds...)
	}
	if k.String() == "ctrl+c" {
		return m.quit()
	}
	switch m.mode {
	case modeCommand:
		return m.commandKey(k)
	case modeFilter:
		return m.filterKey(k)
	case modeText:
		switch k.String() {
		case "esc", "q":
			m.mode = modeTable
			return m, nil
		}
		var cmd tea.Cmd
		m.text, cmd = m.text.Update(k)
		return m, cmd
	case modeConfirm:
		switch k.String() {
		case "y", "Y":
			m.mode = modeTable
			return m, m.delete(m.target)
		case "n", "N", "esc", "q":
			m.mode = modeTable
			m.flash = "delete cancelled"
		}
		return m, nil
	case modeHelp:
		switch k.String() {
		case "esc", "q", "?":
			m.mode = modeTable
		}
		return m, nil
	}
	m.flash = ""
	switch k.String() {
	case "q":
		return m.quit()
	case ":":
		m.mode, m.input = modeCommand, ""
	case "/":
		m.mode, m.input = modeFilter, m.filter
	case "?":
		m.mode = modeHelp
	case "0":
		if m.cur.res.Namespaced && m.cur.ns != "" {
			return m, m.switchTo(view{res: m.cur.res, selector: m.cur.selector})
		}
	case "esc":
		if m.filter != "" {
			m.filter = ""
			m.applyFilter()
		} else if n := len(m.history); n > 0 {
			prev := m.history[n-1]
			m.history = m.history[:n-1]
			return m, m.show(prev)
		}
	case "j", "down":
		m.cursor++
		m.clampCursor()
	case "k", "up":
		m.cursor--
		m.clampCursor()
	case "pgdown", "ctrl+f":
		m.cursor += m.tableHeight()
		m.clampCursor()
	case "pgup", "ctrl+b":
		m.cursor -= m.tableHeight()
		m.clampCursor()
	case "g", "home":
		m.cursor = 0
		m.clampCursor()
	case "G", "end":
		m.cursor = len(m.shown) - 1
		m.clampCursor()
	case "d":
		return m, m.describe()
	case "y":
		if obj := m.Selected(); obj != nil {
			b, err := yaml.Marshal(obj)
			m.openText("YAML "+m.describeName(obj), string(b), err)
		}
	case "ctrl+d":
		if m.opts.ReadOnly {
			m.flash = "read-only: delete is disabled"
		} else if obj := m.Selected(); obj != nil {
			m.mode, m.target = modeConfirm, obj
		}
	}
	return m, nil
}

func (m *Model) describeName(obj api.Object) string {
	return m.cur.res.Singular + "/" + objectKey(obj)
}

func (m *Model) openText(title, body string, err error) {
	if err != nil {
		body = "error: " + err.Error()
	}
	m.mode, m.title = modeText, title
	m.text.Width, m.text.Height = m.width, max(1, m.height-3)
	m.text.SetContent(body)
	m.text.GotoTop()
}

func (m *Model) describe() tea.Cmd {
	obj := m.Selected()
	if obj == nil {
		return nil
	}
	title := "Describe " + m.describeName(obj)
	if m.opts.Describe == nil {
		b, err := yaml.Marshal(obj)
		m.openText(title, string(b), err)
		return nil
	}
	m.openText(title, "loading…", nil)
	ctx, res, gen, describe := m.vctx, m.cur.res, m.gen, m.opts.Describe
	return func() tea.Msg {
		body, err := describe(ctx, res, obj)
		return textMsg{gen: gen, title: title, body: body, err: err}
	}
}

func (m *Model) delete(obj api.Object) tea.Cmd {
	if obj == nil || m.opts.ReadOnly {
		return nil
	}
	ctx, src, res, meta := m.ctx, m.opts.Source, m.cur.res, obj.GetObjectMeta()
	what := m.describeName(obj)
	m.flash = "deleting " + what + "…"
	return func() tea.Msg {
		return deletedMsg{what: what, err: src.Delete(ctx, res, meta.Namespace, meta.Name)}
	}
}

func (m *Model) commandKey(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	switch k.Type {
	case tea.KeyEsc:
		m.mode = modeTable
	case tea.KeyEnter:
		m.mode = modeTable
		return m, m.runCommand(m.input)
	case tea.KeyBackspace:
		if r := []rune(m.input); len(r) > 0 {
			m.input = string(r[:len(r)-1])
		}
	case tea.KeyTab:
		m.input = complete(m.input)
	case tea.KeyRunes, tea.KeySpace:
		m.input += string(k.Runes)
	}
	return m, nil
}

// complete finishes the kind name being typed with the first known resource it starts.
func complete(input string) string {
	if input == "" || strings.Contains(input, " ") {
		return input
	}
	for _, r := range api.Resources() {
		if strings.HasPrefix(r.Name, strings.ToLower(input)) {
			return r.Name
		}
	}
	return input
}

// runCommand runs a command bar line: "KIND [NAMESPACE|SELECTOR]", "q" or "quit". A namespace
// of "all" or "-A" means all namespaces; an argument with "=" or "!" is a label selector.
func (m *Model) runCommand(line string) tea.Cmd {
	f := strings.Fields(line)
	if len(f) == 0 {
		return nil
	}
	if f[0] == "q" || f[0] == "quit" || f[0] == "q!" {
		_, cmd := m.quit()
		return cmd
	}
	res := api.LookupResource(f[0])
	if res == nil {
		m.flash = fmt.Sprintf("unknown resource %q (try :pods, :svc, :rs, :no, :ns)", f[0])
		return nil
	}
	v := view{res: res, ns: m.cur.ns}
	for _, a := range f[1:] {
		switch {
		case strings.ContainsAny(a, "=!"):
			if _, err := api.ParseSelector(a); err != nil {
				m.flash = fmt.Sprintf("bad selector %q: %v", a, err)
				return nil
			}
			v.selector = a
		case a == "all" || a == "-A":
			v.ns = ""
		default:
			v.ns = a
		}
	}
	return m.switchTo(v)
}

func (m *Model) filterKey(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	switch k.Type {
	case tea.KeyEsc:
		m.mode, m.filter = modeTable, ""
	case tea.KeyEnter:
		m.mode = modeTable
		return m, nil
	case tea.KeyBackspace:
		if r := []rune(m.input); len(r) > 0 {
			m.input = string(r[:len(r)-1])
		}
		m.filter = m.input
	case tea.KeyRunes, tea.KeySpace:
		m.input += string(k.Runes)
		m.filter = m.input
	default:
		return m, nil
	}
	m.applyFilter()
	return m, nil
}

// keyHelp lists every key, for `?`.
var keyHelp = [][2]string{
	{":KIND [NS|SELECTOR]", "show a kind (:pods, :svc, :rs, :no, :ns; tab completes), in a namespace or with labels"},
	{"/REGEX", "filter rows by a regular expression; /-l app=web by labels"},
	{"0", "all namespaces"},
	{"esc", "clear the filter, or go back to the previous view"},
	{"j k ↓ ↑", "move"},
	{"g G pgup pgdn", "top, bottom, page up, page down"},
	{"d", "describe"},
	{"y", "YAML"},
	{"ctrl-d", "delete (asks y/n; disabled with --readonly)"},
	{"?", "this help"},
	{"q ctrl-c", "quit"},
}

var (
	headerStyle   = lipgloss.NewStyle().Bold(true)
	titleStyle    = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("6"))
	selectedStyle = lipgloss.NewStyle().Reverse(true)
	dialogStyle   = lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).Padding(0, 2)
	dimStyle      = lipgloss.NewStyle().Faint(true)
)

// View renders the screen: two header lines, the body, and the command bar or key hints.
func (m *Model) View() string {
	var b strings.Builder
	ns := m.cur.ns
	if ns == "" {
		ns = "all"
	}
	if !m.cur.res.Namespaced {
		ns = "-"
	}
	status := m.status
	if m.lastErr != nil {
		status += " (" + m.lastErr.Error() + ")"
	}
	b.WriteString(m.cut(headerStyle.Render(fmt.Sprintf("minik8s  %s  ns:%s  kind:%s  rows:%d  %s",
		m.opts.Server, ns, m.cur.res.Name, len(m.shown), status))))
	b.WriteByte('\n')
	var sub []string
	if m.cur.selector != "" {
		sub = append(sub, "selector:"+m.cur.selector)
	}
	if m.filter != "" {
		sub = append(sub, "filter:/"+m.filter)
	}
	if m.opts.ReadOnly {
		sub = append(sub, "read-only")
	}
	b.WriteString(m.cut(dimStyle.Render(strings.Join(sub, "  "))))
	b.WriteByte('\n')

	bodyH := m.height - 3
	var body string
	switch m.mode {
	case modeText:
		return b.String() + titleStyle.Render(m.cut(m.title)) + "\n" + m.text.View()
	case modeHelp:
		var h strings.Builder
		h.WriteString(titleStyle.Render("Keys") + "\n")
		for _, kv := range keyHelp {
			fmt.Fprintf(&h, "  %-22s %s\n", kv[0], kv[1])
		}
		body = h.String()
	case modeConfirm:
		q := fmt.Sprintf("Delete %s?\n\n[y] yes   [n] no", m.describeName(m.target))
		body = lipgloss.Place(m.width, bodyH, lipgloss.Center, lipgloss.Center, dialogStyle.Render(q))
	default:
		body = m.tableView()
	}
	b.WriteString(body)
	if n := strings.Count(body, "\n"); n < bodyH {
		b.WriteString(strings.Repeat("\n", bodyH-n))
	}
	b.WriteString(m.footer())
	return b.String()
}

func (m *Model) tableView() string {
	var b strings.Builder
	b.WriteString(titleStyle.Render(m.cut(m.header)))
	b.WriteByte('\n')
	if len(m.shown) == 0 {
		if m.status == "connected" {
			b.WriteString(dimStyle.Render("No resources found.") + "\n")
		}
		return b.String()
	}
	end := min(len(m.shown), m.top+m.tableHeight())
	for j := m.top; j < end; j++ {
		line := m.cut(m.lines[m.shown[j]])
		if j == m.cursor {
			line = selectedStyle.Render(line + strings.Repeat(" ", max(0, m.width-ansi.StringWidth(line))))
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

func (m *Model) footer() string {
	switch m.mode {
	case modeCommand:
		return ":" + m.input + "█"
	case modeFilter:
		return "/" + m.input + "█"
	}
	if m.flash != "" {
		return m.cut(m.flash)
	}
	hints := "<:>kind </>filter <0>all-ns <d>describe <y>yaml <ctrl-d>delete <?>help <q>quit"
	if m.opts.ReadOnly {
		hints = "<:>kind </>filter <0>all-ns <d>describe <y>yaml <?>help <q>quit"
	}
	return dimStyle.Render(m.cut(hints))
}

// cut truncates a line to the screen's width.
func (m *Model) cut(s string) string {
	if m.width <= 0 {
		return s
	}
	return ansi.Truncate(s, m.width, "…")
}
