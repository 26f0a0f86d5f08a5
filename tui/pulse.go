package tui

import (
	"context"
	"fmt"
	"sort"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/minik8s/minik8s/api"
)

// The pulse view draws CPU and memory sparklines of a Pod or a node (u), or of every node
// (:pulses), from the samples the API server keeps (Metrics.PodUsageHistory and
// NodeUsageHistory). Usage has no watch, so the view reads it again every
// Options.PulseEvery while it is open.

type pulseTarget struct {
	kind     string // "pod" or "node"
	ns, name string
}

func (t pulseTarget) String() string {
	if t.ns != "" {
		return t.kind + "/" + t.ns + "/" + t.name
	}
	return t.kind + "/" + t.name
}

type pulseView struct {
	title   string
	targets []pulseTarget
	hist    map[pulseTarget]*api.UsageHistory
	err     error
	loaded  bool
	gen     int
}

type pulseMsg struct {
	gen  int
	hist map[pulseTarget]*api.UsageHistory
	err  error
}

type pulseTickMsg struct{ gen int }

// openPulse opens the pulse of the selected Pod or Node.
func (m *Model) openPulse() tea.Cmd {
	obj := m.Selected()
	if obj == nil {
		return nil
	}
	meta := obj.GetObjectMeta()
	switch obj.(type) {
	case *api.Pod:
		return m.startPulse("Pulse pod/"+objectKey(obj), []pulseTarget{{kind: "pod", ns: meta.Namespace, name: meta.Name}})
	case *api.Node:
		return m.startPulse("Pulse node/"+meta.Name, []pulseTarget{{kind: "node", name: meta.Name}})
	}
	m.flash = "u shows the CPU and memory of Pods and Nodes; :pulses shows every node"
	return nil
}

// openClusterPulse opens the pulse of every node.
func (m *Model) openClusterPulse() tea.Cmd {
	var targets []pulseTarget
	if f := m.feeds["nodes"]; f != nil {
		for _, o := range f.store {
			targets = append(targets, pulseTarget{kind: "node", name: o.GetObjectMeta().Name})
		}
	}
	sort.Slice(targets, func(i, j int) bool { return targets[i].name < targets[j].name })
	return m.startPulse("Pulses: every node", targets)
}

func (m *Model) startPulse(title string, targets []pulseTarget) tea.Cmd {
	m.seq++
	m.pulse = &pulseView{title: title, targets: targets, hist: map[pulseTarget]*api.UsageHistory{}, gen: m.seq}
	m.mode = modePulse
	return m.fetchPulse()
}

func (m *Model) fetchPulse() tea.Cmd {
	p, mt, ctx := m.pulse, m.opts.Metrics, m.ctx
	if p == nil || mt == nil {
		return nil
	}
	gen, targets := p.gen, append([]pulseTarget(nil), p.targets...)
	return func() tea.Msg {
		hist, err := readHistories(ctx, mt, targets)
		return pulseMsg{gen: gen, hist: hist, err: err}
	}
}

// readHistories reads each target's samples; a target whose read fails is left out, and the
// first error is returned with what was read.
func readHistories(ctx context.Context, mt Metrics, targets []pulseTarget) (map[pulseTarget]*api.UsageHistory, error) {
	out := map[pulseTarget]*api.UsageHistory{}
	var first error
	for _, t := range targets {
		var h *api.UsageHistory
		var err error
		if t.kind == "pod" {
			h, err = mt.PodUsageHistory(ctx, t.ns, t.name)
		} else {
			h, err = mt.NodeUsageHistory(ctx, t.name)
		}
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		out[t] = h
	}
	return out, first
}

func (m *Model) pulseMsg(msg tea.Msg) tea.Cmd {
	p := m.pulse
	switch msg := msg.(type) {
	case pulseMsg:
		if p == nil || msg.gen != p.gen {
			return nil
		}
		p.loaded, p.err, p.hist = true, msg.err, msg.hist
		return tick(m.opts.PulseEvery, pulseTickMsg{gen: p.gen})
	case pulseTickMsg:
		if p == nil || msg.gen != p.gen || m.mode != modePulse {
			return nil
		}
		return m.fetchPulse()
	}
	return nil
}

func (m *Model) pulseKey(k tea.KeyMsg) tea.Cmd {
	switch k.String() {
	case "esc", "q":
		m.pulse, m.mode = nil, modeTable
	case "r":
		// A new generation: the pending tick of the old one dies, so that refreshing does not
		// add a polling loop.
		if m.pulse != nil {
			m.seq++
			m.pulse.gen = m.seq
		}
		return m.fetchPulse()
	}
	return nil
}

// sparkBlocks are the eight levels of a sparkline.
var sparkBlocks = []rune("▁▂▃▄▅▆▇█")

// sparkline draws the last width values as blocks, scaled from zero to the largest of them.
func sparkline(values []int64, width int) string {
	if width <= 0 {
		return ""
	}
	if len(values) > width {
		values = values[len(values)-width:]
	}
	var top int64
	for _, v := range values {
		top = max(top, v)
	}
	var b strings.Builder
	for _, v := range values {
		level := 0
		if top > 0 && v > 0 {
			level = int(v * int64(len(sparkBlocks)-1) / top)
		}
		b.WriteRune(sparkBlocks[level])
	}
	return b.String()
}

func (m *Model) pulseView() string {
	p := m.pulse
	if p == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString(titleStyle.Render(m.cut(p.title)) + "\n")
	switch {
	case m.opts.Metrics == nil:
		b.WriteString("metrics not available yet: this UI has no metrics source\n")
		return b.String()
	case len(p.targets) == 0:
		b.WriteString("no nodes known yet\n")
		return b.String()
	case !p.loaded:
		b.WriteString(dimStyle.Render("loading…") + "\n")
		return b.String()
	case len(p.hist) == 0 && p.err != nil:
		b.WriteString(m.cut("metrics not available yet ("+p.err.Error()+")") + "\n")
		return b.String()
	}
	width := max(10, m.width-40)
	for _, t := range p.targets {
		h := p.hist[t]
		b.WriteString(headerStyle.Render(m.cut(t.String())) + "\n")
		if h == nil || len(h.Points) == 0 {
			b.WriteString(dimStyle.Render("  no samples yet") + "\n")
			continue
		}
		cpu := make([]int64, len(h.Points))
		mem := make([]int64, len(h.Points))
		for i, pt := range h.Points {
			cpu[i], mem[i] = pt.CPUMilli, pt.MemoryBytes
		}
		b.WriteString(m.cut(fmt.Sprintf("  cpu %s  %s", sparkline(cpu, width), usageStats(cpu, formatMilliCPU))) + "\n")
		b.WriteString(m.cut(fmt.Sprintf("  mem %s  %s", sparkline(mem, width), usageStats(mem, formatBytes))) + "\n")
	}
	if p.err != nil {
		b.WriteString(dimStyle.Render(m.cut("some samples could not be read: "+p.err.Error())) + "\n")
	}
	return b.String()
}

// usageStats is "now 350m  min 100m  max 900m".
func usageStats(v []int64, format func(int64) string) string {
	lo, hi := v[0], v[0]
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	return fmt.Sprintf("now %-7s min %-7s max %s", format(v[len(v)-1]), format(lo), format(hi))
}
