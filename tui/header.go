package tui

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/minik8s/minik8s/api"
)

// The header's cluster summary comes from the nodes feed (a watch, like the table) and from
// the nodes' usage, which has no watch: it is read every Options.MetricsEvery.

type metricsTickMsg struct{}

type metricsMsg struct {
	list *api.NodeMetricsList
	err  error
}

// fetchMetrics reads the nodes' usage; nil without Options.Metrics.
func (m *Model) fetchMetrics() tea.Cmd {
	if m.opts.Metrics == nil {
		return nil
	}
	ctx, mt := m.ctx, m.opts.Metrics
	return func() tea.Msg {
		list, err := mt.NodeMetrics(ctx)
		return metricsMsg{list: list, err: err}
	}
}

// clusterSummary is the cluster at a glance.
type clusterSummary struct {
	known            bool // the nodes were listed
	nodes, ready     int
	cpuAlloc         int64 // millicores
	memAlloc         int64 // bytes
	measured         int   // nodes with usage
	cpuUsed, memUsed int64
}

// summarize counts nodes and their readiness, sums what they offer, and sums the usage of the
// nodes that report it. It is a pure function.
func summarize(nodes map[string]api.Object, known bool, usage *api.NodeMetricsList) clusterSummary {
	s := clusterSummary{known: known}
	for _, o := range nodes {
		n, ok := o.(*api.Node)
		if !ok {
			continue
		}
		s.nodes++
		for _, c := range n.Status.Conditions {
			if c.Type == api.NodeReady && c.Status == api.ConditionTrue {
				s.ready++
			}
		}
		if q, ok := allocatable(n, api.ResourceCPU); ok {
			s.cpuAlloc += q.MilliValue()
		}
		if q, ok := allocatable(n, api.ResourceMemory); ok {
			s.memAlloc += q.Value()
		}
	}
	if usage != nil {
		for i := range usage.Items {
			u := &usage.Items[i]
			if _, ok := nodes[u.Name]; !ok && known {
				continue // a node that left the cluster
			}
			s.measured++
			if q, ok := u.Usage[api.ResourceCPU]; ok {
				s.cpuUsed += q.MilliValue()
			}
			if q, ok := u.Usage[api.ResourceMemory]; ok {
				s.memUsed += q.Value()
			}
		}
	}
	return s
}

func allocatable(n *api.Node, name string) (api.Quantity, bool) {
	if q, ok := n.Status.Allocatable[name]; ok {
		return q, true
	}
	q, ok := n.Status.Capacity[name]
	return q, ok
}

// String is the header's second line: "nodes:3/3 ready  cpu:350m/12 (2%)  mem:1.2Gi/23.4Gi (5%)",
// with "metrics: n/a" where no usage is known.
func (s clusterSummary) String() string {
	var parts []string
	if s.known {
		parts = append(parts, fmt.Sprintf("nodes:%d/%d ready", s.ready, s.nodes))
	} else {
		parts = append(parts, "nodes:…")
	}
	if s.measured == 0 {
		return strings.Join(append(parts, "metrics: n/a"), "  ")
	}
	parts = append(parts,
		"cpu:"+formatMilliCPU(s.cpuUsed)+"/"+formatMilliCPU(s.cpuAlloc)+percent(s.cpuUsed, s.cpuAlloc),
		"mem:"+formatBytes(s.memUsed)+"/"+formatBytes(s.memAlloc)+percent(s.memUsed, s.memAlloc))
	return strings.Join(parts, "  ")
}

func percent(used, total int64) string {
	if total <= 0 {
		return ""
	}
	return fmt.Sprintf(" (%d%%)", used*100/total)
}

// formatMilliCPU writes CPU as Kubernetes users read it: "350m" below a core, "1.5" above.
func formatMilliCPU(milli int64) string {
	if milli < 1000 {
		return fmt.Sprintf("%dm", milli)
	}
	if milli%1000 == 0 {
		return fmt.Sprintf("%d", milli/1000)
	}
	return fmt.Sprintf("%.1f", float64(milli)/1000)
}

// formatBytes writes memory in Mi below a Gi, in Gi with one decimal above.
func formatBytes(b int64) string {
	const mi, gi = 1 << 20, 1 << 30
	if b < gi {
		return fmt.Sprintf("%dMi", b/mi)
	}
	return fmt.Sprintf("%.1fGi", float64(b)/gi)
}

func (m *Model) summaryLine() string {
	nodes := m.feeds["nodes"]
	var store map[string]api.Object
	known := false
	if nodes != nil && nodes.store != nil {
		store, known = nodes.store, true
	}
	usage := m.usage
	if m.usageErr != nil {
		usage = nil
	}
	return summarize(store, known, usage).String()
}
