package tui

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"sigs.k8s.io/yaml"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
)

// Options configure a Model.
type Options struct {
	// Source is where the objects come from and where the keys' changes go; required.
	Source Source
	// Metrics is where resource usage comes from, for the header and the pulse view; nil shows
	// "metrics: n/a".
	Metrics Metrics
	// Cluster, Server and User are shown in the header: the client config's context (or
	// cluster) name, the API server's URL and the user name.
	Cluster, Server, User string
	// Namespace is the namespace to start in; "" for all namespaces.
	Namespace string
	// Resource is the kind to start with; nil for pods.
	Resource *api.Resource
	// ReadOnly disables every key that changes the cluster: delete, scale, edit.
	ReadOnly bool
	// Describe renders an object as `minik8s describe` does. It runs in a tea.Cmd, so it may
	// call the API. Nil shows the object's YAML instead.
	Describe func(ctx context.Context, res *api.Resource, obj api.Object) (string, error)
	// Renderers render each kind's rows; nil for NewRegistry().
	Renderers *Registry
	// Editor is the command that `e` edits a file with (the file is appended as the last
	// argument); "" for vi.
	Editor string
	// Exec runs the editor with the terminal handed over; nil for tea.ExecProcess. Tests run
	// the command directly.
	Exec func(cmd *exec.Cmd, done tea.ExecCallback) tea.Cmd
	// Now is the clock for the AGE columns; nil for time.Now.
	Now func() time.Time
	// RetryDelay is how long to wait before listing again after an error; 0 retries at once.
	RetryDelay time.Duration
	// AgeEvery, MetricsEvery and PulseEvery are how often the ages are rendered again (1s),
	// the header's usage is read (10s) and the pulse view's samples are read (5s); 0 for
	// those defaults, a negative value for never (tests send the ticks themselves).
	AgeEvery, MetricsEvery, PulseEvery time.Duration
	// LogTail is how many of a container's last lines the log view starts with (500); LogMax
	// is how many lines it keeps (5000), dropping the oldest.
	LogTail, LogMax int
}

// view is what the table shows: a kind, a namespace ("" for all), a label selector and a field
// selector; via names what it was opened from ("rs/web"), for the header.
type view struct {
	res      *api.Resource
	ns       string
	selector string
	fields   string
	via      string
}

type mode int

const (
	modeTable mode = iota
	modeCommand
	modeFilter
	modeText
	modeHelp
	modeConfirm
	modeScale
	modeLogs
	modeLogSearch
	modePulse
)

// Model is the terminal UI's bubbletea model: one generic table view for every kind, fed by a
// list and then a watch, with describe, YAML, logs, pulses, and the delete, scale and edit
// actions. It is not safe for concurrent use; bubbletea calls it from one goroutine.
type Model struct {
	opts Options
	ctx  context.Context
	reg  *Registry

	cur     view
	history []view
	feeds   map[string]*feed
	seq     int // generations of feeds and views
	tbl     *table
	wide    bool

	cursor   int // index into tbl.shown
	top      int // first shown row on screen
	selected string

	mode    mode
	input   string
	flash   string
	text    viewport.Model
	title   string
	textGen int
	target  api.Object // the object a confirmation or the scale dialog is about
	tres    *api.Resource

	logs  *logView
	pulse *pulseView
	edits map[string]pendingEdit

	usage    *api.NodeMetricsList
	usageErr error

	width, height int
}

// New returns a Model that shows opts.Resource (pods by default) in opts.Namespace. ctx bounds
// every list, watch and write it starts.
func New(ctx context.Context, opts Options) *Model {
	if opts.Resource == nil {
		opts.Resource = api.LookupResource("pods")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Renderers == nil {
		opts.Renderers = NewRegistry()
	}
	if opts.Exec == nil {
		opts.Exec = tea.ExecProcess
	}
	if opts.Editor == "" {
		opts.Editor = "vi"
	}
	opts.AgeEvery = orDefault(opts.AgeEvery, time.Second)
	opts.MetricsEvery = orDefault(opts.MetricsEvery, 10*time.Second)
	opts.PulseEvery = orDefault(opts.PulseEvery, 5*time.Second)
	if opts.LogTail <= 0 {
		opts.LogTail = 500
	}
	if opts.LogMax <= 0 {
		opts.LogMax = 5000
	}
	m := &Model{opts: opts, ctx: ctx, reg: opts.Renderers, width: 80, height: 24,
		feeds: map[string]*feed{}, edits: map[string]pendingEdit{}}
	m.cur = view{res: opts.Resource, ns: opts.Namespace}
	if !m.cur.res.Namespaced {
		m.cur.ns = ""
	}
	m.text = viewport.New(80, 19)
	m.tbl = newTable(m.cur.res, m.reg.For(m.cur.res), m.withNS(m.cur), m.wide)
	return m
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Init lists the first view and the nodes, and starts the clocks.
func (m *Model) Init() tea.Cmd {
	nodes := &feed{name: "nodes", res: api.LookupResource("nodes")}
	m.feeds[nodes.name] = nodes
	return tea.Batch(m.startFeed(nodes), m.show(m.cur), m.fetchMetrics(), tick(m.opts.AgeEvery, ageTickMsg{}))
}

type ageTickMsg struct{}

// tick sends msg after d; never for a negative d.
func tick(d time.Duration, msg tea.Msg) tea.Cmd {
	if d < 0 {
		return nil
	}
	return tea.Tick(d, func(time.Time) tea.Msg { return msg })
}

func (m *Model) withNS(v view) bool { return v.ns == "" && v.res.Namespaced }

// switchTo shows v, remembering the current view for esc.
func (m *Model) switchTo(v view) tea.Cmd {
	if !v.res.Namespaced {
		v.ns = ""
	}
	m.history = append(m.history, m.cur)
	return m.show(v)
}

// show makes v the current view: a fresh table, its feed, and the feeds of what its rows
// need of other kinds.
func (m *Model) show(v view) tea.Cmd {
	m.cur = v
	m.tbl = newTable(v.res, m.reg.For(v.res), m.withNS(v), m.wide)
	m.cursor, m.top, m.selected = 0, 0, ""
	t := &feed{name: "table", res: v.res, ns: v.ns, opts: client.ListOptions{LabelSelector: v.selector, FieldSelector: v.fields}}
	m.stopFeed(t.name)
	m.feeds[t.name] = t
	return tea.Batch(m.startFeed(t), m.startNeeds())
}

// startNeeds (re)starts the feeds of what the current rows show of other kinds: the Endpoints
// of Services, and with wide columns the Pods of Nodes.
func (m *Model) startNeeds() tea.Cmd {
	for name := range m.feeds {
		if strings.HasPrefix(name, "need/") {
			m.stopFeed(name)
		}
	}
	var cmds []tea.Cmd
	for _, need := range m.tbl.rd.Needs {
		nr := api.LookupResource(need.Resource)
		if nr == nil || need.Wide && !m.wide {
			continue
		}
		ns := m.cur.ns
		if !nr.Namespaced || !m.cur.res.Namespaced {
			ns = ""
		}
		f := &feed{name: "need/" + need.Resource, res: nr, ns: ns}
		m.feeds[f.name] = f
		cmds = append(cmds, m.startFeed(f))
	}
	return tea.Batch(cmds...)
}

// feedListed takes a feed's fresh list.
func (m *Model) feedListed(f *feed) {
	now := m.opts.Now()
	switch {
	case f.name == "table":
		objs := make([]api.Object, 0, len(f.store))
		for _, o := range f.store {
			objs = append(objs, o)
		}
		m.tbl.reset(objs, now)
		m.settle()
	case strings.HasPrefix(f.name, "need/"):
		resource := strings.TrimPrefix(f.name, "need/")
		tc := m.tableContext()
		switch resource {
		case "pods":
			tc.PodsByNode = nil
		case "endpoints":
			tc.Endpoints = nil
		}
		objs := make([]api.Object, 0, len(f.store))
		for _, o := range f.store {
			objs = append(objs, o)
		}
		tc.Add(resource, objs)
		m.tbl.rerenderAll(now)
		m.settle()
	}
}

// feedChanged takes the changes a batch of watch events made to a feed.
func (m *Model) feedChanged(f *feed, changes []change) {
	now := m.opts.Now()
	switch {
	case f.name == "table":
		for _, c := range changes {
			if c.new != nil {
				m.tbl.set(c.new, now)
			} else {
				m.tbl.remove(c.key)
			}
		}
		m.settle()
	case strings.HasPrefix(f.name, "need/"):
		resource := strings.TrimPrefix(f.name, "need/")
		tc := m.tableContext()
		var keys []string
		for _, c := range changes {
			keys = append(keys, applyNeed(tc, resource, c)...)
		}
		m.tbl.rerender(keys, now)
		m.settle()
	}
}

func (m *Model) tableContext() *api.TableContext {
	if m.tbl.tc == nil {
		m.tbl.tc = &api.TableContext{Wide: m.wide}
	}
	return m.tbl.tc
}

// applyNeed applies one change of a needed kind to tc, and returns the keys of the rows that
// show it: the Service of an Endpoints object, the Node of a Pod.
func applyNeed(tc *api.TableContext, resource string, c change) []string {
	switch resource {
	case "endpoints":
		if tc.Endpoints == nil {
			tc.Endpoints = map[string]*api.Endpoints{}
		}
		if ep, ok := c.new.(*api.Endpoints); ok {
			tc.Endpoints[c.key] = ep
		} else {
			delete(tc.Endpoints, c.key)
		}
		return []string{c.key}
	case "pods":
		if tc.PodsByNode == nil {
			tc.PodsByNode = map[string][]*api.Pod{}
		}
		var keys []string
		if p, ok := c.old.(*api.Pod); ok && p.Spec.NodeName != "" {
			pods := tc.PodsByNode[p.Spec.NodeName]
			kept := make([]*api.Pod, 0, len(pods))
			for _, q := range pods {
				if objectKey(q) != c.key {
					kept = append(kept, q)
				}
			}
			tc.PodsByNode[p.Spec.NodeName] = kept
			keys = append(keys, p.Spec.NodeName)
		}
		if p, ok := c.new.(*api.Pod); ok && p.Spec.NodeName != "" {
			tc.PodsByNode[p.Spec.NodeName] = append(tc.PodsByNode[p.Spec.NodeName], p)
			keys = append(keys, p.Spec.NodeName)
		}
		return keys
	}
	return nil
}

// settle sorts and filters the table if it changed, and keeps the cursor on the same object.
func (m *Model) settle() {
	if !m.tbl.settle() {
		return
	}
	m.cursor = 0
	if m.selected != "" {
		for j, r := range m.tbl.shown {
			if r.key == m.selected {
				m.cursor = j
				break
			}
		}
	}
	m.clampCursor()
}

func (m *Model) clampCursor() {
	m.cursor = min(m.cursor, len(m.tbl.shown)-1)
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
	m.top = max(0, min(m.top, len(m.tbl.shown)-h))
}

// headerLines is the height of the header.
const headerLines = 3

// bodyHeight is what is left between the header and the footer.
func (m *Model) bodyHeight() int { return max(1, m.height-headerLines-1) }

// tableHeight is how many rows fit: the body less the column titles.
func (m *Model) tableHeight() int { return max(1, m.bodyHeight()-1) }

// Selected returns the object under the cursor, or nil when the table is empty.
func (m *Model) Selected() api.Object {
	if m.cursor < 0 || m.cursor >= len(m.tbl.shown) {
		return nil
	}
	return m.tbl.shown[m.cursor].obj
}

func (m *Model) quit() (tea.Model, tea.Cmd) {
	for name := range m.feeds {
		m.stopFeed(name)
	}
	m.closeLogs()
	return m, tea.Quit
}

// Update handles keys, window sizes, live data and the answers of the commands it started. It
// never blocks: everything that waits runs in a returned tea.Cmd.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.text.Width, m.text.Height = msg.Width, max(1, m.bodyHeight()-1)
		m.scroll()
		return m, nil
	case tea.KeyMsg:
		return m.key(msg)
	case listedMsg, watchStartedMsg, eventsMsg, retryMsg:
		return m, m.feedMsg(msg)
	case ageTickMsg:
		m.tbl.rerenderAll(m.opts.Now())
		m.settle()
		return m, tick(m.opts.AgeEvery, ageTickMsg{})
	case metricsTickMsg:
		return m, m.fetchMetrics()
	case metricsMsg:
		m.usage, m.usageErr = msg.list, msg.err
		return m, tick(m.opts.MetricsEvery, metricsTickMsg{})
	case actionMsg:
		if msg.err != nil {
			m.flash = fmt.Sprintf("%s %s: %v", msg.verb, msg.what, msg.err)
		} else {
			m.flash = msg.done + " " + msg.what
		}
		return m, nil
	case textMsg:
		if msg.gen != m.textGen || m.mode != modeText {
			return m, nil
		}
		body := msg.body
		if msg.err != nil {
			body = "error: " + msg.err.Error()
		}
		m.text.SetContent(body)
		m.text.GotoTop()
		return m, nil
	case logStartedMsg, logLinesMsg:
		return m, m.logMsg(msg)
	case pulseMsg, pulseTickMsg:
		return m, m.pulseMsg(msg)
	case editedMsg:
		return m, m.edited(msg)
	case editAppliedMsg:
		m.editApplied(msg)
		return m, nil
	}
	return m, nil
}

// actionMsg is the answer of a delete, scale or edit.
type actionMsg struct {
	verb, done, what string
	err              error
}

type textMsg struct {
	gen  int
	body string
	err  error
}

func (m *Model) key(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	if k.Type == tea.KeyRunes && len(k.Runes) > 1 && !k.Paste {
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
	case modeText, modeHelp:
		switch k.String() {
		case "esc", "q", "?":
			if k.String() != "?" || m.mode == modeHelp {
				m.mode = modeTable
				return m, nil
			}
		}
		var cmd tea.Cmd
		m.text, cmd = m.text.Update(k)
		return m, cmd
	case modeConfirm:
		switch k.String() {
		case "y", "Y":
			m.mode = modeTable
			return m, m.delete(m.tres, m.target)
		case "n", "N", "esc", "q":
			m.mode = modeTable
			m.flash = "delete cancelled"
		}
		return m, nil
	case modeScale:
		return m.scaleKey(k)
	case modeLogs, modeLogSearch:
		return m, m.logKey(k)
	case modePulse:
		return m, m.pulseKey(k)
	}
	return m.tableKey(k)
}

func (m *Model) tableKey(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	m.flash = ""
	switch k.String() {
	case "q":
		return m.quit()
	case ":":
		m.mode, m.input = modeCommand, ""
	case "/":
		m.mode, m.input = modeFilter, m.tbl.filter
	case "?":
		m.openHelp()
	case "0", "a":
		if m.cur.res.Namespaced && m.cur.ns != "" {
			v := m.cur
			v.ns = ""
			return m, m.switchTo(v)
		}
	case "esc":
		if m.tbl.filter != "" {
			m.tbl.setFilter("")
			m.settle()
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
	case "pgdown", "ctrl+f", " ":
		m.cursor += m.tableHeight()
		m.clampCursor()
	case "pgup", "ctrl+b":
		m.cursor -= m.tableHeight()
		m.clampCursor()
	case "g", "home":
		m.cursor = 0
		m.clampCursor()
	case "G", "end":
		m.cursor = len(m.tbl.shown) - 1
		m.clampCursor()
	case "ctrl+w":
		m.wide = !m.wide
		m.tbl.setWide(m.wide, m.opts.Now())
		if m.tbl.tc != nil {
			m.tbl.tc.Wide = m.wide
		}
		m.settle()
		return m, m.startNeeds()
	case "d":
		return m, m.describe()
	case "y":
		if obj := m.Selected(); obj != nil {
			b, err := yaml.Marshal(obj)
			m.openText("YAML "+m.describeName(m.cur.res, obj), string(b), err)
		}
	case "enter":
		return m, m.drill()
	case "l":
		return m, m.openLogs()
	case "u":
		return m, m.openPulse()
	case "s":
		m.startScale()
	case "e":
		return m, m.edit()
	case "ctrl+d":
		if m.opts.ReadOnly {
			m.flash = "read-only: delete is disabled"
		} else if obj := m.Selected(); obj != nil {
			m.mode, m.target, m.tres = modeConfirm, obj, m.cur.res
		}
	default:
		if r := k.Runes; k.Type == tea.KeyRunes && len(r) == 1 && r[0] >= 'A' && r[0] <= 'Z' {
			if m.tbl.sortByKey(r[0]) {
				m.settle()
			} else {
				m.flash = fmt.Sprintf("no column sorts with %c (? lists the keys)", r[0])
			}
		}
	}
	return m, nil
}

func (m *Model) describeName(res *api.Resource, obj api.Object) string {
	return res.Singular + "/" + objectKey(obj)
}

func (m *Model) openText(title, body string, err error) {
	if err != nil {
		body = "error: " + err.Error()
	}
	m.textGen++
	m.mode, m.title = modeText, title
	m.text.Width, m.text.Height = m.width, max(1, m.bodyHeight()-1)
	m.text.SetContent(body)
	m.text.GotoTop()
}

func (m *Model) describe() tea.Cmd {
	obj := m.Selected()
	if obj == nil {
		return nil
	}
	title := "Describe " + m.describeName(m.cur.res, obj)
	if m.opts.Describe == nil {
		b, err := yaml.Marshal(obj)
		m.openText(title, string(b), err)
		return nil
	}
	m.openText(title, "loading…", nil)
	ctx, res, gen, describe := m.ctx, m.cur.res, m.textGen, m.opts.Describe
	return func() tea.Msg {
		body, err := describe(ctx, res, obj)
		return textMsg{gen: gen, body: body, err: err}
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

// commands are the command bar's words that are not kinds.
var commands = []string{"pulses", "quit"}

// complete finishes the word being typed with the first kind (or command) it starts.
func complete(input string) string {
	if input == "" || strings.Contains(input, " ") {
		return input
	}
	in := strings.ToLower(input)
	for _, r := range api.Resources() {
		if strings.HasPrefix(r.Name, in) {
			return r.Name
		}
	}
	for _, c := range commands {
		if strings.HasPrefix(c, in) {
			return c
		}
	}
	return input
}

// runCommand runs a command bar line: "KIND [NAMESPACE|SELECTOR]", "pulses", "q" or "quit".
// A namespace of "all" or "-A" means all namespaces; an argument with "=" or "!" is a label
// selector.
func (m *Model) runCommand(line string) tea.Cmd {
	f := strings.Fields(line)
	if len(f) == 0 {
		return nil
	}
	switch f[0] {
	case "q", "quit", "q!":
		_, cmd := m.quit()
		return cmd
	case "pulses", "pulse", "pu":
		return m.openClusterPulse()
	}
	res := api.LookupResource(f[0])
	if res == nil {
		m.flash = fmt.Sprintf("unknown resource %q (try :pods, :svc, :rs, :no, :ns, :hpa, :pulses)", f[0])
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
		m.mode = modeTable
		m.tbl.setFilter("")
	case tea.KeyEnter:
		m.mode = modeTable
		return m, nil
	case tea.KeyBackspace:
		if r := []rune(m.input); len(r) > 0 {
			m.input = string(r[:len(r)-1])
		}
		m.tbl.setFilter(m.input)
	case tea.KeyRunes, tea.KeySpace:
		m.input += string(k.Runes)
		m.tbl.setFilter(m.input)
	default:
		return m, nil
	}
	m.settle()
	return m, nil
}

var (
	headerStyle   = lipgloss.NewStyle().Bold(true)
	titleStyle    = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("6"))
	selectedStyle = lipgloss.NewStyle().Reverse(true)
	dialogStyle   = lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).Padding(0, 2)
	dimStyle      = lipgloss.NewStyle().Faint(true)
	warnStyle     = lipgloss.NewStyle().Foreground(lipgloss.Color("3"))
	errorStyle    = lipgloss.NewStyle().Foreground(lipgloss.Color("1"))
	matchStyle    = lipgloss.NewStyle().Reverse(true).Foreground(lipgloss.Color("3"))
)

// View renders the screen: the header, the body, and the command bar, a message or the key
// hints. Every line fits the width, and there are never more lines than the height.
func (m *Model) View() string {
	var body string
	switch m.mode {
	case modeText, modeHelp:
		body = titleStyle.Render(m.cut(m.title)) + "\n" + m.text.View()
	case modeLogs, modeLogSearch:
		body = m.logsView()
	case modePulse:
		body = m.pulseView()
	case modeConfirm:
		q := fmt.Sprintf("Delete %s?\n\n[y] yes   [n] no", m.describeName(m.tres, m.target))
		body = m.dialog(q)
	case modeScale:
		q := fmt.Sprintf("Scale %s to how many replicas?\n\n%s█\n\n[enter] scale   [esc] cancel", m.describeName(m.tres, m.target), m.input)
		body = m.dialog(q)
	default:
		body = m.tableView()
	}
	return m.headerView() + fitLines(body, m.bodyHeight()) + m.footer()
}

// fitLines makes body exactly h lines, each ending in a newline.
func fitLines(body string, h int) string {
	body = strings.TrimSuffix(body, "\n")
	lines := strings.Split(body, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n") + "\n"
}

// dialog draws text in a box in the middle of the body, wrapped to fit a narrow screen.
func (m *Model) dialog(text string) string {
	style := dialogStyle
	if lipgloss.Width(text)+6 > m.width {
		style = style.Width(max(8, m.width-2))
	}
	return lipgloss.Place(m.width, m.bodyHeight(), lipgloss.Center, lipgloss.Center, style.Render(text))
}

// headerView is the three header lines: where (cluster, server, user), the cluster at a
// glance (nodes, CPU, memory), and what the table shows.
func (m *Model) headerView() string {
	var b strings.Builder
	l1 := []string{"minik8s"}
	if m.opts.Cluster != "" {
		l1 = append(l1, "cluster:"+m.opts.Cluster)
	}
	if m.opts.Server != "" {
		l1 = append(l1, m.opts.Server)
	}
	if m.opts.User != "" {
		l1 = append(l1, "user:"+m.opts.User)
	}
	if m.opts.ReadOnly {
		l1 = append(l1, "read-only")
	}
	b.WriteString(m.cut(headerStyle.Render(strings.Join(l1, "  "))))
	b.WriteByte('\n')
	b.WriteString(m.cut(m.summaryLine()))
	b.WriteByte('\n')

	ns := m.cur.ns
	if ns == "" {
		ns = "all"
	}
	if !m.cur.res.Namespaced {
		ns = "-"
	}
	t := m.feeds["table"]
	status := "connecting"
	if t != nil {
		status = t.status
		if t.err != nil {
			status += " (" + t.err.Error() + ")"
		}
	}
	l3 := []string{"kind:" + m.cur.res.Name, "ns:" + ns, fmt.Sprintf("rows:%d", len(m.tbl.shown)), status}
	if m.cur.via != "" {
		l3 = append(l3, "of:"+m.cur.via)
	}
	if m.cur.selector != "" {
		l3 = append(l3, "selector:"+m.cur.selector)
	}
	if m.cur.fields != "" && m.cur.via == "" {
		l3 = append(l3, "fields:"+m.cur.fields)
	}
	if m.tbl.filter != "" {
		l3 = append(l3, "filter:/"+m.tbl.filter)
	}
	if s := m.tbl.sortLabel(); s != "" {
		l3 = append(l3, "sort:"+s)
	}
	if m.wide {
		l3 = append(l3, "wide")
	}
	b.WriteString(m.cut(dimStyle.Render(strings.Join(l3, "  "))))
	b.WriteByte('\n')
	return b.String()
}

var toneStyles = map[Tone]lipgloss.Style{ToneWarn: warnStyle, ToneError: errorStyle, ToneDim: dimStyle}

// tableView lays out the column titles and the rows on screen, and only those.
func (m *Model) tableView() string {
	var b strings.Builder
	b.WriteString(titleStyle.Render(m.cut(m.tbl.header())))
	b.WriteByte('\n')
	if len(m.tbl.shown) == 0 {
		if t := m.feeds["table"]; t != nil && t.status == "connected" {
			b.WriteString(dimStyle.Render("No resources found.") + "\n")
		}
		return b.String()
	}
	end := min(len(m.tbl.shown), m.top+m.tableHeight())
	for j := m.top; j < end; j++ {
		r := m.tbl.shown[j]
		line := m.cut(m.tbl.line(r))
		switch {
		case j == m.cursor:
			line = selectedStyle.Render(line + strings.Repeat(" ", max(0, m.width-ansi.StringWidth(line))))
		case r.tone != ToneNormal:
			line = toneStyles[r.tone].Render(line)
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

func (m *Model) footer() string {
	switch m.mode {
	case modeCommand:
		return m.cut(":" + m.input + "█")
	case modeFilter:
		return m.cut("/" + m.input + "█")
	case modeLogSearch:
		return m.cut("/" + m.input + "█")
	}
	if m.flash != "" {
		return m.cut(m.flash)
	}
	var hints string
	switch m.mode {
	case modeText:
		hints = "<esc>back <j/k>scroll <pgup/pgdn>page"
	case modeHelp:
		hints = "<esc>back <j/k>scroll"
	case modeLogs:
		hints = m.logHints()
	case modePulse:
		hints = "<esc>back (refreshes every few seconds)"
	default:
		hints = m.tableHints()
	}
	return dimStyle.Render(m.cut(hints))
}

// tableHints are the keys that work on the current kind.
func (m *Model) tableHints() string {
	h := []string{"<?>help", "<:>kind", "</>filter"}
	if m.cur.res.Namespaced {
		h = append(h, "<a>all-ns")
	}
	if drillable(m.cur.res) {
		h = append(h, "<enter>open")
	}
	h = append(h, "<d>describe", "<y>yaml")
	switch m.cur.res.Kind {
	case "Pod":
		h = append(h, "<l>logs", "<u>usage")
	case "Node":
		h = append(h, "<u>usage")
	}
	if !m.opts.ReadOnly {
		if isReplicaSet(m.cur.res) {
			h = append(h, "<s>scale")
		}
		h = append(h, "<e>edit", "<ctrl-d>delete")
	}
	h = append(h, "<q>quit")
	return strings.Join(h, " ")
}

// cut truncates a line to the screen's width.
func (m *Model) cut(s string) string {
	if m.width <= 0 {
		return s
	}
	return ansi.Truncate(s, m.width, "…")
}
