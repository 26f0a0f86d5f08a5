package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
)

type getOptions struct {
	allNamespaces bool
	selector      string
	fieldSelector string
	output        string
	watch         bool
	watchOnly     bool
	showLabels    bool
	noHeaders     bool
}

func newGetCommand(o *Options) *cobra.Command {
	g := &getOptions{}
	cmd := &cobra.Command{
		Use:   "get TYPE [NAME ...] | TYPE/NAME ...",
		Short: "Show objects as a table, YAML or JSON",
		Long: `Show one or many objects. TYPE takes kubectl's names: plural, singular or short
(po, svc, rs, no, ns, ep, ev). With -w, keep printing changes until interrupted.`,
		Example: `  minik8s get pods
  minik8s get po -A -o wide
  minik8s get pods -l app=web,tier!=db
  minik8s get pod web-1 -o yaml
  minik8s get svc,ep -n kube-system
  minik8s get pods -w`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGet(cmd, o, g, args)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&g.allNamespaces, "all-namespaces", "A", false, "list across all namespaces")
	f.StringVarP(&g.selector, "selector", "l", "", "label selector, e.g. app=web,tier!=db,env in (a,b)")
	f.StringVar(&g.fieldSelector, "field-selector", "", "field selector, e.g. spec.nodeName=node-1,metadata.name=x")
	f.StringVarP(&g.output, "output", "o", "", "output format: wide, yaml, json, name")
	f.BoolVarP(&g.watch, "watch", "w", false, "after listing, watch for changes")
	f.BoolVar(&g.watchOnly, "watch-only", false, "watch for changes without listing first")
	f.BoolVar(&g.showLabels, "show-labels", false, "add a LABELS column")
	f.BoolVar(&g.noHeaders, "no-headers", false, "print no column headers")
	return cmd
}

func validOutput(o string) error {
	switch o {
	case "", "wide", "yaml", "json", "name":
		return nil
	}
	return fmt.Errorf("--output %q is not supported: use wide, yaml, json or name", o)
}

func runGet(cmd *cobra.Command, o *Options, g *getOptions, args []string) error {
	if err := validOutput(g.output); err != nil {
		return err
	}
	targets, err := splitKindArgs(args)
	if err != nil {
		return err
	}
	c, err := o.Client()
	if err != nil {
		return err
	}
	ctx := ctxOf(cmd)
	ns := o.Ns()
	if g.allNamespaces {
		ns = ""
	}
	opts := client.ListOptions{LabelSelector: g.selector, FieldSelector: g.fieldSelector}
	if g.watch || g.watchOnly {
		if len(targets) != 1 {
			return fmt.Errorf("--watch works on one type at a time")
		}
		return watchGet(cmd, o, g, c, targets[0], ns, opts)
	}
	// Group the targets by kind, keeping the order the user gave.
	var printed bool
	var errs []error
	for i := 0; i < len(targets); {
		res := targets[i].res
		var objs []api.Object
		j := i
		for ; j < len(targets) && targets[j].res == res; j++ {
		}
		listNS := ns // where the objects are, and so what their rows need
		if targets[i].name == "" {
			objs, _, err = c.Resource(res, ns).List(ctx, opts)
			if err != nil {
				return err
			}
			sortObjects(objs)
		} else {
			listNS = o.Ns()
			for _, t := range targets[i:j] {
				obj, err := c.Resource(res, o.Ns()).Get(ctx, t.name)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				objs = append(objs, obj)
			}
		}
		if len(objs) > 0 || g.output == "json" || g.output == "yaml" {
			if printed && g.output != "yaml" && g.output != "json" && g.output != "name" {
				fmt.Fprintln(o.Out)
			}
			single := targets[i].name != "" && j-i == 1
			tc, err := tableContext(ctx, c, res, listNS, objs, g)
			if err != nil {
				return err
			}
			if err := printObjects(o.Out, res, objs, tc, g, single, g.allNamespaces, len(targets) > 1 || targets[0].name == ""); err != nil {
				return err
			}
			printed = true
		}
		i = j
	}
	if !printed && len(errs) == 0 {
		if g.allNamespaces {
			fmt.Fprintln(o.ErrOut, "No resources found")
		} else {
			fmt.Fprintf(o.ErrOut, "No resources found in %s namespace.\n", ns)
		}
	}
	for _, e := range errs {
		fmt.Fprintln(o.ErrOut, "Error from server:", e)
	}
	if len(errs) > 0 {
		return errSilent
	}
	return nil
}

// errSilent is returned when the command already printed its errors.
var errSilent = fmt.Errorf("")

func sortObjects(objs []api.Object) {
	sort.SliceStable(objs, func(a, b int) bool {
		ma, mb := objs[a].GetObjectMeta(), objs[b].GetObjectMeta()
		if ma.Namespace != mb.Namespace {
			return ma.Namespace < mb.Namespace
		}
		return ma.Name < mb.Name
	})
}

// tableContext reads what the rows of objs (in namespace ns, "" for all) need beyond the
// objects themselves, once, when the columns that show it are printed: the cluster's Pods for
// the CPU and MEMORY columns of Nodes with -o wide, the Endpoints of the namespace for the
// ENDPOINTS column of Services. What the user may not read is left unknown. It returns nil
// when there are no objects.
func tableContext(ctx context.Context, c *client.Client, res *api.Resource, ns string, objs []api.Object, g *getOptions) (*api.TableContext, error) {
	if len(objs) == 0 || g.output != "" && g.output != "wide" {
		return nil, nil
	}
	tc := &api.TableContext{Wide: g.output == "wide"}
	if !res.Namespaced {
		ns = "" // the rows of a cluster-scoped kind need what is in every namespace
	}
	for _, need := range api.TableNeeds(res) {
		if need.Wide && !tc.Wide {
			continue
		}
		nr := api.LookupResource(need.Resource)
		if nr == nil {
			return nil, fmt.Errorf("the %s table needs %s, which is not a resource", res.Name, need.Resource)
		}
		scope := ns
		if !nr.Namespaced {
			scope = ""
		}
		items, _, err := c.Resource(nr, scope).List(ctx, client.ListOptions{})
		var se *client.StatusError
		if errors.As(err, &se) && se.Status.Code == http.StatusForbidden {
			continue // a user who may not read them still gets the table, with "<unknown>" there
		}
		if err != nil {
			return nil, fmt.Errorf("list %s for the table of %s: %w", nr.Name, res.Name, err)
		}
		tc.Add(need.Resource, items)
	}
	return tc, nil
}

// printObjects writes objects in the chosen format; tc (may be nil) is what their table rows
// need beyond the objects. asList makes yaml/json print a List even for one object, as
// kubectl does for `get pods -o yaml`.
func printObjects(w io.Writer, res *api.Resource, objs []api.Object, tc *api.TableContext, g *getOptions, single, withNS, asList bool) error {
	switch g.output {
	case "name":
		for _, obj := range objs {
			fmt.Fprintf(w, "%s/%s\n", res.Singular, obj.GetObjectMeta().Name)
		}
		return nil
	case "json", "yaml":
		var v any
		if single && !asList && len(objs) == 1 {
			v = objs[0]
		} else {
			v = map[string]any{"apiVersion": "v1", "kind": "List", "metadata": map[string]string{"resourceVersion": ""}, "items": nonNil(objs)}
		}
		return writeStructured(w, g.output, v)
	}
	t, err := api.BuildTableWith(res, objs, time.Now(), false, tc)
	if err != nil {
		return err
	}
	return api.FormatTable(w, t, tableOptions(objs, g, withNS, false))
}

func tableOptions(objs []api.Object, g *getOptions, withNS, noHeaders bool) api.TableOptions {
	opts := api.TableOptions{Wide: g.output == "wide", NoHeaders: g.noHeaders || noHeaders, WithNamespace: withNS, ShowLabels: g.showLabels}
	for _, obj := range objs {
		opts.Namespaces = append(opts.Namespaces, obj.GetObjectMeta().Namespace)
		opts.Labels = append(opts.Labels, obj.GetObjectMeta().Labels)
	}
	return opts
}

func nonNil(objs []api.Object) []api.Object {
	if objs == nil {
		return []api.Object{}
	}
	return objs
}

func writeStructured(w io.Writer, format string, v any) error {
	b, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return err
	}
	if format == "yaml" {
		y, err := yaml.JSONToYAML(b)
		if err != nil {
			return err
		}
		_, err = w.Write(y)
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// watchGet prints the current objects, then one row (or document) per change, like kubectl get -w.
func watchGet(cmd *cobra.Command, o *Options, g *getOptions, c *client.Client, t kindName, ns string, opts client.ListOptions) error {
	ctx := ctxOf(cmd)
	d := c.Resource(t.res, ns)
	if t.name != "" {
		opts.FieldSelector = "metadata.name=" + t.name
	}
	headers := !g.noHeaders
	// Rows that need more than their object (a Node's CPU and MEMORY with -o wide, a
	// Service's ENDPOINTS) read it again at most once per watchContextMaxAge, not once per
	// change: nodes change with every heartbeat.
	var tc *api.TableContext
	var tcAt time.Time
	contextFor := func(objs []api.Object) (*api.TableContext, error) {
		if tc == nil || time.Since(tcAt) > watchContextMaxAge {
			fresh, err := tableContext(ctx, c, t.res, ns, objs, g)
			if err != nil {
				return nil, err
			}
			tc, tcAt = fresh, time.Now()
		}
		return tc, nil
	}
	if !g.watchOnly {
		objs, rv, err := d.List(ctx, opts)
		if err != nil {
			return err
		}
		sortObjects(objs)
		if len(objs) > 0 {
			rowCtx, err := contextFor(objs)
			if err != nil {
				return err
			}
			if err := printObjects(o.Out, t.res, objs, rowCtx, g, false, g.allNamespaces, false); err != nil {
				return err
			}
			headers = false
		}
		opts.ResourceVersion = rv
	} else {
		_, rv, err := d.List(ctx, opts)
		if err != nil {
			return err
		}
		opts.ResourceVersion = rv
	}
	for {
		events, err := d.Watch(ctx, opts)
		if err != nil {
			if client.IsGone(err) {
				_, rv, lerr := d.List(ctx, opts)
				if lerr != nil {
					return lerr
				}
				opts.ResourceVersion = rv
				continue
			}
			return err
		}
		for ev := range events {
			if ev.Type == api.Error || ev.Object == nil {
				continue
			}
			opts.ResourceVersion = ev.Object.GetObjectMeta().ResourceVersion
			gg := *g
			gg.noHeaders = !headers
			objs := []api.Object{ev.Object}
			rowCtx, err := contextFor(objs)
			if err != nil {
				return err
			}
			if err := printObjects(o.Out, t.res, objs, rowCtx, &gg, false, g.allNamespaces, false); err != nil {
				return err
			}
			headers = false
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// watchContextMaxAge is how old what a watched row shows of other objects may be (the Pods
// behind a Node's CPU and MEMORY, the Endpoints behind a Service's ENDPOINTS).
const watchContextMaxAge = 2 * time.Second

func newTabWriter(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 8, 3, ' ', 0) }
