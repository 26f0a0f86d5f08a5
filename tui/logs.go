package tui

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/minik8s/minik8s/api"
)

// logView follows one container's output through the API (GET pods/NAME/log?follow=true),
// keeping at most Options.LogMax lines.
type logView struct {
	ns, pod    string
	containers []string
	ci         int // the container shown
	previous   bool
	wrap       bool
	follow     bool // stick to the newest line
	lines      []string
	dropped    int // lines dropped from the front to keep the buffer bounded
	top        int // the first line on screen when not following
	search     string
	re         *regexp.Regexp
	matches    int
	cur        int // the line of the current match; -1 for none

	gen    int
	cancel context.CancelFunc
	status string
}

// logStream carries one stream's lines from the goroutine that reads it; err is set before
// ch closes.
type logStream struct {
	ch  chan string
	err error
}

type logStartedMsg struct {
	gen int
	s   *logStream
	err error
}

type logLinesMsg struct {
	gen   int
	s     *logStream
	lines []string
	done  bool
}

const (
	maxLogLine  = 16 << 10 // longer lines are cut
	maxLogBatch = 2000
)

// openLogs opens the log view of the selected Pod, on its first container.
func (m *Model) openLogs() tea.Cmd {
	obj := m.Selected()
	pod, ok := obj.(*api.Pod)
	if !ok {
		if obj != nil {
			m.flash = "l shows the logs of Pods (:pods); " + m.cur.res.Name + " have none"
		}
		return nil
	}
	l := &logView{ns: pod.Namespace, pod: pod.Name, follow: true, cur: -1}
	for _, c := range pod.Spec.Containers {
		l.containers = append(l.containers, c.Name)
	}
	for _, c := range pod.Spec.InitContainers {
		l.containers = append(l.containers, c.Name)
	}
	m.closeLogs()
	m.logs, m.mode = l, modeLogs
	return m.startLogs()
}

// closeLogs stops the log stream, if any.
func (m *Model) closeLogs() {
	if m.logs != nil && m.logs.cancel != nil {
		m.logs.cancel()
	}
}

func (l *logView) container() string {
	if len(l.containers) == 0 {
		return ""
	}
	return l.containers[l.ci]
}

// startLogs (re)opens the stream of the log view's container, from its last LogTail lines.
func (m *Model) startLogs() tea.Cmd {
	l := m.logs
	if l.cancel != nil {
		l.cancel()
	}
	var ctx context.Context
	ctx, l.cancel = context.WithCancel(m.ctx)
	m.seq++
	l.gen = m.seq
	l.lines, l.dropped, l.top, l.matches, l.cur, l.status = nil, 0, 0, 0, -1, "connecting"
	src, gen, ns, pod := m.opts.Source, l.gen, l.ns, l.pod
	opts := LogOptions{Container: l.container(), Follow: true, Previous: l.previous, TailLines: m.opts.LogTail}
	return func() tea.Msg {
		rc, err := src.Logs(ctx, ns, pod, opts)
		if err != nil {
			return logStartedMsg{gen: gen, err: err}
		}
		s := &logStream{ch: make(chan string, 256)}
		go readLog(ctx, rc, s)
		return logStartedMsg{gen: gen, s: s}
	}
}

// readBoundedLine reads one line (with its newline) and keeps at most max bytes of it: the rest
// of a longer line is read and dropped, so that output without newlines (a progress bar, binary
// data) cannot fill the memory.
func readBoundedLine(r *bufio.Reader, max int) (string, error) {
	var b []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if room := max - len(b); room > 0 {
			b = append(b, chunk[:min(len(chunk), room)]...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return string(b), err
	}
}

// readLog sends rc's lines to s until rc ends or ctx is done.
func readLog(ctx context.Context, rc io.ReadCloser, s *logStream) {
	defer close(s.ch)
	defer rc.Close()
	stop := context.AfterFunc(ctx, func() { rc.Close() })
	defer stop()
	r := bufio.NewReaderSize(rc, 64<<10)
	for {
		line, err := readBoundedLine(r, maxLogLine)
		if line != "" {
			select {
			case s.ch <- line:
			case <-ctx.Done():
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && ctx.Err() == nil {
				s.err = err
			}
			return
		}
	}
}

// nextLogCmd waits for lines and takes every line already waiting with them.
func nextLogCmd(gen int, s *logStream) tea.Cmd {
	return func() tea.Msg {
		msg := logLinesMsg{gen: gen, s: s}
		line, ok := <-s.ch
		if !ok {
			msg.done = true
			return msg
		}
		msg.lines = append(msg.lines, line)
		for len(msg.lines) < maxLogBatch {
			select {
			case line, ok := <-s.ch:
				if !ok {
					msg.done = true
					return msg
				}
				msg.lines = append(msg.lines, line)
			default:
				return msg
			}
		}
		return msg
	}
}

func (m *Model) logMsg(msg tea.Msg) tea.Cmd {
	l := m.logs
	switch msg := msg.(type) {
	case logStartedMsg:
		if l == nil || msg.gen != l.gen {
			return nil
		}
		if msg.err != nil {
			l.status = "error: " + msg.err.Error()
			return nil
		}
		l.status = "streaming"
		return nextLogCmd(msg.gen, msg.s)
	case logLinesMsg:
		if l == nil || msg.gen != l.gen {
			return nil
		}
		l.add(msg.lines, m.opts.LogMax)
		if msg.done {
			l.status = "ended"
			if msg.s.err != nil {
				l.status = "ended: " + msg.s.err.Error()
			}
			return nil
		}
		return nextLogCmd(msg.gen, msg.s)
	}
	return nil
}

// add appends lines, dropping the oldest beyond limit.
func (l *logView) add(lines []string, limit int) {
	for _, line := range lines {
		line = cleanLogLine(line)
		l.lines = append(l.lines, line)
		if l.re != nil && l.re.MatchString(line) {
			l.matches++
		}
	}
	if over := len(l.lines) - limit; over > 0 {
		for _, line := range l.lines[:over] {
			if l.re != nil && l.re.MatchString(line) {
				l.matches--
			}
		}
		l.lines = append([]string(nil), l.lines[over:]...)
		l.dropped += over
		l.top = max(0, l.top-over)
		if l.cur >= 0 {
			l.cur = max(-1, l.cur-over)
		}
	}
}

// cleanLogLine makes a line of container output safe to draw: no line end, no terminal
// escapes, tabs as spaces, other control characters dropped.
func cleanLogLine(s string) string {
	s = strings.TrimRight(s, "\r\n")
	s = ansi.Strip(s)
	s = strings.ReplaceAll(s, "\t", "    ")
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// logHeight is how many log lines fit under the log view's title.
func (m *Model) logHeight() int { return max(1, m.bodyHeight()-1) }

// maxTop is the top line that shows the end of the log.
func (l *logView) maxTop(h int) int { return max(0, len(l.lines)-h) }

// start is the first line on screen.
func (l *logView) start(h int) int {
	if l.follow {
		return l.maxTop(h)
	}
	return min(l.top, l.maxTop(h))
}

func (m *Model) logKey(k tea.KeyMsg) tea.Cmd {
	l := m.logs
	if m.mode == modeLogSearch {
		switch k.Type {
		case tea.KeyEsc:
			m.mode = modeLogs
		case tea.KeyEnter:
			m.mode = modeLogs
			l.setSearch(m.input)
			if l.re != nil {
				if !l.jump(len(l.lines), -1, m.logHeight()) {
					m.flash = "no line matches /" + l.search
				}
			}
		case tea.KeyBackspace:
			if r := []rune(m.input); len(r) > 0 {
				m.input = string(r[:len(r)-1])
			}
		case tea.KeyRunes, tea.KeySpace:
			m.input += string(k.Runes)
		}
		return nil
	}
	m.flash = ""
	h := m.logHeight()
	scrollTo := func(top int) {
		l.top = max(0, min(top, l.maxTop(h)))
		l.follow = false
	}
	switch k.String() {
	case "esc", "q":
		if k.String() == "esc" && l.search != "" {
			l.setSearch("")
			return nil
		}
		m.closeLogs()
		m.logs, m.mode = nil, modeTable
	case "j", "down":
		scrollTo(l.start(h) + 1)
	case "k", "up":
		scrollTo(l.start(h) - 1)
	case "pgdown", "ctrl+f", " ":
		scrollTo(l.start(h) + h)
	case "pgup", "ctrl+b":
		scrollTo(l.start(h) - h)
	case "g", "home":
		scrollTo(0)
	case "G", "end":
		l.follow = true
	case "f":
		if l.follow {
			scrollTo(l.start(h))
		} else {
			l.follow = true
		}
	case "w":
		l.wrap = !l.wrap
	case "/":
		m.mode, m.input = modeLogSearch, l.search
	case "n":
		if l.re != nil && !l.jump(l.from(h), 1, h) {
			m.flash = "no later line matches /" + l.search
		}
	case "N":
		if l.re != nil && !l.jump(l.from(h), -1, h) {
			m.flash = "no earlier line matches /" + l.search
		}
	case "p":
		l.previous = !l.previous
		return m.startLogs()
	case "c":
		if len(l.containers) < 2 {
			m.flash = "the pod has one container"
			return nil
		}
		l.ci = (l.ci + 1) % len(l.containers)
		return m.startLogs()
	}
	return nil
}

// setSearch sets the search: a regular expression, or a literal substring when it does not
// compile.
func (l *logView) setSearch(s string) {
	l.search, l.re, l.matches, l.cur = s, nil, 0, -1
	if s == "" {
		return
	}
	re, err := regexp.Compile(s)
	if err != nil {
		re = regexp.MustCompile(regexp.QuoteMeta(s))
	}
	l.re = re
	for _, line := range l.lines {
		if re.MatchString(line) {
			l.matches++
		}
	}
}

// from is where n and N search from: the current match, or the first line on screen.
func (l *logView) from(h int) int {
	if l.cur >= 0 {
		return l.cur
	}
	return l.start(h)
}

// jump makes the next matching line after from (dir 1) or before it (dir -1) the current
// match, scrolls it to the top of the screen when it is not on it (as near as the end
// allows), and stops following. It reports whether a line matched.
func (l *logView) jump(from, dir, h int) bool {
	for i := from + dir; i >= 0 && i < len(l.lines); i += dir {
		if !l.re.MatchString(l.lines[i]) {
			continue
		}
		start := l.start(h)
		l.cur, l.follow = i, false
		if i < start || i >= start+h {
			l.top = min(i, l.maxTop(h))
		} else {
			l.top = start
		}
		return true
	}
	return false
}

// highlightAt is line i with the search's matches marked, and the current match's line in
// bold.
func (l *logView) highlightAt(i int) string {
	s := l.highlight(l.lines[i])
	if i == l.cur {
		s = headerStyle.Render(s)
	}
	return s
}

// highlight marks the search's matches in line.
func (l *logView) highlight(line string) string {
	if l.re == nil {
		return line
	}
	idx := l.re.FindAllStringIndex(line, -1)
	if len(idx) == 0 {
		return line
	}
	var b strings.Builder
	last := 0
	for _, ix := range idx {
		if ix[0] == ix[1] {
			continue
		}
		b.WriteString(line[last:ix[0]])
		b.WriteString(matchStyle.Render(line[ix[0]:ix[1]]))
		last = ix[1]
	}
	b.WriteString(line[last:])
	return b.String()
}

func (m *Model) logsView() string {
	l := m.logs
	if l == nil {
		return ""
	}
	h := m.logHeight()
	title := "Logs pod/" + l.ns + "/" + l.pod
	if c := l.container(); c != "" {
		title += " › " + c
		if len(l.containers) > 1 {
			title += fmt.Sprintf(" (%d/%d)", l.ci+1, len(l.containers))
		}
	}
	if l.previous {
		title += " [previous]"
	}
	title += "  " + l.status
	if l.search != "" {
		title += fmt.Sprintf("  /%s (%d lines)", l.search, l.matches)
	}
	var b strings.Builder
	b.WriteString(titleStyle.Render(m.cut(title)))
	b.WriteByte('\n')
	if len(l.lines) == 0 {
		b.WriteString(dimStyle.Render("no output yet"))
		return b.String()
	}
	var rows []string
	if !l.wrap {
		start := l.start(h)
		for i := start; i < min(len(l.lines), start+h); i++ {
			rows = append(rows, m.cut(l.highlightAt(i)))
		}
	} else if l.follow {
		// From the end backwards, until the screen is full.
		for i := len(l.lines) - 1; i >= 0 && len(rows) < h; i-- {
			seg := m.wrapLine(l.highlightAt(i))
			rows = append(seg, rows...)
		}
		if len(rows) > h {
			rows = rows[len(rows)-h:]
		}
	} else {
		for i := l.start(h); i < len(l.lines) && len(rows) < h; i++ {
			rows = append(rows, m.wrapLine(l.highlightAt(i))...)
		}
		if len(rows) > h {
			rows = rows[:h]
		}
	}
	b.WriteString(strings.Join(rows, "\n"))
	return b.String()
}

// wrapLine breaks a line into rows of the screen's width.
func (m *Model) wrapLine(s string) []string {
	if m.width <= 0 || ansi.StringWidth(s) <= m.width {
		return []string{s}
	}
	return strings.Split(ansi.Hardwrap(s, m.width, true), "\n")
}

func (m *Model) logHints() string {
	l := m.logs
	onOff := func(b bool) string {
		if b {
			return "on"
		}
		return "off"
	}
	h := fmt.Sprintf("<esc>back </>search <n/N>next/prev <f>follow:%s <w>wrap:%s <p>previous:%s",
		onOff(l.follow), onOff(l.wrap), onOff(l.previous))
	if len(l.containers) > 1 {
		h += " <c>container"
	}
	return h + " <g/G>top/end"
}
