package tui

import (
	"fmt"
	"strings"
)

// keyHelp lists every key, by view, for `?` and docs/tui.md.
var keyHelp = []struct {
	section string
	keys    [][2]string
}{
	{"Table", [][2]string{
		{":KIND [NS|SELECTOR]", "show a kind (:pods :svc :rs :no :ns :ep :secrets :ev :hpa; tab completes), in a namespace or with labels"},
		{":pulses", "CPU and memory sparklines of every node"},
		{"/REGEX", "filter rows by a regular expression; /-l app=web by labels"},
		{"0 a", "all namespaces"},
		{"esc", "clear the filter, or go back to the previous view"},
		{"j k ↓ ↑", "move"},
		{"g G pgup pgdn", "top, bottom, page up, page down"},
		{"shift+LETTER", "sort by the column of that key (again: the other way); see below"},
		{"ctrl-w", "wide columns (as get -o wide) on and off"},
		{"enter", "open: a ReplicaSet's, Service's, Node's or Namespace's Pods; an HPA's ReplicaSet; an Event's object; a Pod's logs"},
		{"d", "describe"},
		{"y", "YAML"},
		{"l", "logs of a Pod"},
		{"u", "CPU and memory sparklines of a Pod or Node"},
		{"s", "scale a ReplicaSet (disabled with --readonly)"},
		{"e", "edit in $EDITOR, then update (disabled with --readonly)"},
		{"ctrl-d", "delete (asks y/n; disabled with --readonly)"},
		{"?", "this help"},
		{"q ctrl-c", "quit"},
	}},
	{"Logs", [][2]string{
		{"/REGEX", "search: highlights the matches and jumps to the last one"},
		{"n N", "next, previous match"},
		{"f", "follow the newest output on and off"},
		{"w", "wrap long lines on and off"},
		{"p", "the previous run of the container (after a restart) on and off"},
		{"c", "the next container of the Pod"},
		{"j k g G", "scroll, top, end (and follow)"},
		{"esc q", "clear the search, or back to the table"},
	}},
	{"Describe, YAML, help, pulses", [][2]string{
		{"j k pgup pgdn", "scroll"},
		{"esc q", "back to the table"},
	}},
}

// openHelp shows every key, with the sort keys of the current kind's columns.
func (m *Model) openHelp() {
	var h strings.Builder
	for _, s := range keyHelp {
		h.WriteString(s.section + "\n")
		for _, kv := range s.keys {
			fmt.Fprintf(&h, "  %-22s %s\n", kv[0], kv[1])
		}
		h.WriteString("\n")
	}
	h.WriteString("Sort keys of " + m.cur.res.Name + " (shift+letter)\n")
	for i, title := range m.tbl.titles {
		if k := m.tbl.keys[i]; k != 0 {
			fmt.Fprintf(&h, "  %-22s %s\n", string(k), title)
		}
	}
	m.openText("Keys", h.String(), nil)
	m.mode = modeHelp
}
