package cli

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
)

// metricsHint is what to do when no usage has been reported.
const metricsHint = "the kubelets report usage every few seconds (--metrics-interval); wait a moment and try again"

func newTopCommand(o *Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "top (pods | nodes)",
		Short: "Show the CPU and memory that Pods or nodes use",
		Long: `Show the CPU (in millicores) and memory (working set) that Pods or nodes use, as their
kubelets last measured it, every few seconds, from the containers' cgroups.`,
		Example: `  minik8s top pods
  minik8s top pods -A --sort-by=cpu
  minik8s top pods -l app=web --containers
  minik8s top nodes`,
	}
	cmd.AddCommand(newTopPodsCommand(o), newTopNodesCommand(o))
	return cmd
}

type topPodOptions struct {
	all        bool
	selector   string
	containers bool
	sortBy     string
	noHeaders  bool
}

func newTopPodsCommand(o *Options) *cobra.Command {
	t := &topPodOptions{}
	cmd := &cobra.Command{
		Use:     "pods [NAME]",
		Aliases: []string{"pod", "po"},
		Short:   "Show the CPU and memory that Pods use",
		Example: `  minik8s top pods -n shop
  minik8s top pods -A --sort-by=memory
  minik8s top pod web-6f2k9 --containers`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkSortBy(t.sortBy); err != nil {
				return err
			}
			c, err := o.Client()
			if err != nil {
				return err
			}
			ns := o.Ns()
			if t.all {
				ns = ""
			}
			list, err := c.PodMetrics(ctxOf(cmd), ns, t.selector)
			if err != nil {
				return fmt.Errorf("read Pod metrics: %w", err)
			}
			items := list.Items
			if len(args) == 1 {
				items = slices.DeleteFunc(items, func(m api.PodMetrics) bool { return m.Name != args[0] })
				if len(items) == 0 {
					return fmt.Errorf("no metrics for pod %q in namespace %q: is it running? %s", args[0], ns, metricsHint)
				}
			}
			if len(items) == 0 {
				where := fmt.Sprintf("namespace %q", ns)
				if ns == "" {
					where = "any namespace"
				}
				fmt.Fprintf(o.ErrOut, "No resources found in %s (no running Pod has reported usage: %s).\n", where, metricsHint)
				return nil
			}
			return printTopPods(o.Out, items, t)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&t.all, "all-namespaces", "A", false, "Pods of every namespace")
	f.StringVarP(&t.selector, "selector", "l", "", "only Pods with these labels (app=web,tier!=db)")
	f.BoolVar(&t.containers, "containers", false, "a row per container")
	f.StringVar(&t.sortBy, "sort-by", "", "sort by cpu or memory (largest first)")
	f.BoolVar(&t.noHeaders, "no-headers", false, "print no header line")
	return cmd
}

func checkSortBy(s string) error {
	if s != "" && s != "cpu" && s != "memory" {
		return fmt.Errorf("--sort-by: %q is not cpu or memory", s)
	}
	return nil
}

func printTopPods(out io.Writer, items []api.PodMetrics, t *topPodOptions) error {
	if t.sortBy != "" {
		slices.SortStableFunc(items, func(a, b api.PodMetrics) int {
			ac, am := api.PodUsage(&a)
			bc, bm := api.PodUsage(&b)
			if t.sortBy == "cpu" {
				return cmp.Compare(bc, ac)
			}
			return cmp.Compare(bm, am)
		})
	}
	w := newTabWriter(out)
	var head []string
	if t.all {
		head = append(head, "NAMESPACE")
	}
	if t.containers {
		head = append(head, "POD")
	}
	head = append(head, "NAME", "CPU(cores)", "MEMORY(bytes)")
	if !t.noHeaders {
		fmt.Fprintln(w, strings.Join(head, "\t"))
	}
	for i := range items {
		m := &items[i]
		var lead []string
		if t.all {
			lead = append(lead, m.Namespace)
		}
		if t.containers {
			for _, c := range m.Containers {
				row := append(slices.Clone(lead), m.Name, c.Name, api.FormatUsage(api.ResourceCPU, c.Usage[api.ResourceCPU]),
					api.FormatUsage(api.ResourceMemory, c.Usage[api.ResourceMemory]))
				fmt.Fprintln(w, strings.Join(row, "\t"))
			}
			continue
		}
		cpu, mem := api.PodUsage(m)
		row := append(lead, m.Name, api.FormatUsage(api.ResourceCPU, api.NewMilliQuantity(cpu)), api.FormatUsage(api.ResourceMemory, api.NewQuantity(mem, true)))
		fmt.Fprintln(w, strings.Join(row, "\t"))
	}
	return w.Flush()
}

func newTopNodesCommand(o *Options) *cobra.Command {
	var sortBy, selector string
	var noHeaders bool
	cmd := &cobra.Command{
		Use:     "nodes [NAME]",
		Aliases: []string{"node", "no"},
		Short:   "Show the CPU and memory that nodes use",
		Long: `Show the CPU and memory each node uses, and what share that is of what the node can give Pods
(its allocatable). A node started with --shared-host (every node of ` + "`cluster up`" + `) counts
only what its Pods and its kubelet use, since its machine runs other nodes too.`,
		Example: `  minik8s top nodes
  minik8s top node node-2
  minik8s top nodes --sort-by=cpu`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkSortBy(sortBy); err != nil {
				return err
			}
			c, err := o.Client()
			if err != nil {
				return err
			}
			list, err := c.NodeMetrics(ctxOf(cmd))
			if err != nil {
				return fmt.Errorf("read node metrics: %w", err)
			}
			nodes, _, err := c.Nodes().List(ctxOf(cmd), client.ListOptions{LabelSelector: selector})
			if err != nil {
				return fmt.Errorf("list nodes: %w", err)
			}
			byName := map[string]*api.Node{}
			for _, n := range nodes {
				byName[n.Name] = n
			}
			items := slices.DeleteFunc(list.Items, func(m api.NodeMetrics) bool {
				return byName[m.Name] == nil || (len(args) == 1 && m.Name != args[0])
			})
			if len(items) == 0 {
				if len(args) == 1 {
					return fmt.Errorf("no metrics for node %q: is its kubelet running? %s", args[0], metricsHint)
				}
				fmt.Fprintf(o.ErrOut, "No resources found (no node has reported usage: %s).\n", metricsHint)
				return nil
			}
			if sortBy != "" {
				slices.SortStableFunc(items, func(a, b api.NodeMetrics) int {
					qa, qb := a.Usage[sortBy], b.Usage[sortBy]
					return qb.Cmp(qa)
				})
			}
			w := newTabWriter(o.Out)
			if !noHeaders {
				fmt.Fprintln(w, "NAME\tCPU(cores)\tCPU%\tMEMORY(bytes)\tMEMORY%")
			}
			for _, m := range items {
				alloc := byName[m.Name].Status.Allocatable
				if len(alloc) == 0 {
					alloc = byName[m.Name].Status.Capacity
				}
				cpu, mem := m.Usage[api.ResourceCPU], m.Usage[api.ResourceMemory]
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", m.Name, api.FormatUsage(api.ResourceCPU, cpu), percentOf(cpu.MilliValue(), alloc, api.ResourceCPU, true),
					api.FormatUsage(api.ResourceMemory, mem), percentOf(mem.Value(), alloc, api.ResourceMemory, false))
			}
			return w.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVar(&sortBy, "sort-by", "", "sort by cpu or memory (largest first)")
	f.StringVarP(&selector, "selector", "l", "", "only nodes with these labels")
	f.BoolVar(&noHeaders, "no-headers", false, "print no header line")
	return cmd
}

// percentOf writes used as a percent of the node's allocatable resource, or <unknown>.
func percentOf(used int64, alloc api.ResourceList, resource string, milli bool) string {
	q, ok := alloc[resource]
	total := q.Value()
	if milli {
		total = q.MilliValue()
	}
	if !ok || total <= 0 {
		return "<unknown>"
	}
	return fmt.Sprintf("%d%%", used*100/total)
}
