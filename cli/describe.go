package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
)

func newDescribeCommand(o *Options) *cobra.Command {
	var selector string
	var allNamespaces bool
	cmd := &cobra.Command{
		Use:   "describe TYPE [NAME ...] | TYPE/NAME",
		Short: "Show an object in detail, with its events",
		Example: `  minik8s describe pod web-1
  minik8s describe nodes
  minik8s describe svc -l app=web`,
		RunE: func(cmd *cobra.Command, args []string) error {
			targets, err := splitKindArgs(args)
			if err != nil {
				return err
			}
			c, err := o.Client()
			if err != nil {
				return err
			}
			ctx := ctxOf(cmd)
			var objs []api.Object
			var kinds []*api.Resource
			for _, t := range targets {
				if t.name == "" {
					ns := o.Ns()
					if allNamespaces {
						ns = ""
					}
					list, _, err := c.Resource(t.res, ns).List(ctx, client.ListOptions{LabelSelector: selector})
					if err != nil {
						return err
					}
					sortObjects(list)
					for _, obj := range list {
						objs, kinds = append(objs, obj), append(kinds, t.res)
					}
					continue
				}
				obj, err := c.Resource(t.res, o.Ns()).Get(ctx, t.name)
				if err != nil {
					return err
				}
				objs, kinds = append(objs, obj), append(kinds, t.res)
			}
			for i, obj := range objs {
				if i > 0 {
					fmt.Fprintln(o.Out)
				}
				var events []*api.Event
				if kinds[i].Kind != "Event" {
					meta := obj.GetObjectMeta()
					ns := meta.Namespace
					if ns == "" {
						ns = "default"
					}
					evs, _, err := c.Events(ns).List(ctx, client.ListOptions{FieldSelector: "involvedObject.kind=" + kinds[i].Kind + ",involvedObject.name=" + meta.Name})
					if err == nil {
						events = evs
					}
				}
				if err := Describe(o.Out, obj, events, time.Now()); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&selector, "selector", "l", "", "describe the objects with these labels")
	cmd.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", false, "across all namespaces")
	return cmd
}

// Describe writes an object the way kubectl describe does: its metadata, then its spec and
// status as an indented tree, then its events. It is a pure function of its arguments.
func Describe(w io.Writer, obj api.Object, events []*api.Event, now time.Time) error {
	meta := obj.GetObjectMeta()
	line := func(k, v string) {
		if len(k)+2 > 18 {
			fmt.Fprintf(w, "%s: %s\n", k, v)
			return
		}
		fmt.Fprintf(w, "%-18s%s\n", k+":", v)
	}
	line("Name", meta.Name)
	if meta.Namespace != "" {
		line("Namespace", meta.Namespace)
	}
	line("Kind", obj.GetTypeMeta().Kind)
	line("Labels", mapLines(meta.Labels, 18))
	ann := map[string]string{}
	for k, v := range meta.Annotations {
		if k != LastAppliedAnnotation {
			ann[k] = v
		}
	}
	line("Annotations", mapLines(ann, 18))
	if !meta.CreationTimestamp.IsZero() {
		line("CreationTimestamp", meta.CreationTimestamp.UTC().Format(time.RFC1123Z))
	}
	if meta.DeletionTimestamp != nil {
		line("DeletionTimestamp", meta.DeletionTimestamp.UTC().Format(time.RFC1123Z))
	}
	if ref := meta.ControllerOf(); ref != nil {
		line("Controlled By", ref.Kind+"/"+ref.Name)
	}
	var doc map[string]any
	b, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return err
	}
	keys := make([]string, 0, len(doc))
	for k := range doc {
		switch k {
		case "apiVersion", "kind", "metadata":
			continue
		}
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool { return sectionOrder(keys[a]) < sectionOrder(keys[b]) })
	for _, k := range keys {
		fmt.Fprintf(w, "%s:\n", titleCase(k))
		writeTree(w, doc[k], 1)
	}
	if obj.GetTypeMeta().Kind == "Event" {
		return nil
	}
	if len(events) == 0 {
		fmt.Fprintln(w, "Events:            <none>")
		return nil
	}
	fmt.Fprintln(w, "Events:")
	tw := newTabWriter(w)
	fmt.Fprintln(tw, "  Type\tReason\tAge\tFrom\tMessage")
	fmt.Fprintln(tw, "  ----\t------\t----\t----\t-------")
	sort.Slice(events, func(a, b int) bool { return events[a].LastTimestamp.Before(events[b].LastTimestamp.Time) })
	for _, ev := range events {
		age := api.HumanDuration(now.Sub(ev.LastTimestamp.Time))
		if ev.Count > 1 {
			age = fmt.Sprintf("%s (x%d over %s)", age, ev.Count, api.HumanDuration(now.Sub(ev.FirstTimestamp.Time)))
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", ev.Type, ev.Reason, age, ev.Source.Component, ev.Message)
	}
	return tw.Flush()
}

func sectionOrder(k string) int {
	switch k {
	case "spec":
		return 0
	case "status":
		return 2
	}
	return 1
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func mapLines(m map[string]string, indent int) string {
	if len(m) == 0 {
		return "<none>"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString("\n" + strings.Repeat(" ", indent))
		}
		b.WriteString(k + "=" + m[k])
	}
	return b.String()
}

// writeTree prints a JSON value as kubectl describe prints unstructured objects.
func writeTree(w io.Writer, v any, depth int) {
	pad := strings.Repeat("  ", depth)
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			switch c := x[k].(type) {
			case map[string]any, []any:
				if isEmpty(c) {
					continue
				}
				fmt.Fprintf(w, "%s%s:\n", pad, titleCase(k))
				writeTree(w, c, depth+1)
			default:
				fmt.Fprintf(w, "%s%s:\t%s\n", pad, titleCase(k), scalar(c))
			}
		}
	case []any:
		for _, e := range x {
			switch c := e.(type) {
			case map[string]any:
				if name, ok := c["name"].(string); ok {
					fmt.Fprintf(w, "%s%s:\n", pad, name)
				} else {
					fmt.Fprintf(w, "%s-\n", pad)
				}
				writeTree(w, c, depth+1)
			default:
				fmt.Fprintf(w, "%s%s\n", pad, scalar(c))
			}
		}
	default:
		fmt.Fprintf(w, "%s%s\n", pad, scalar(x))
	}
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

func scalar(v any) string {
	switch x := v.(type) {
	case nil:
		return "<none>"
	case string:
		return x
	case float64:
		return fmt.Sprintf("%v", x)
	}
	return fmt.Sprint(v)
}
