// Package cli is minik8s' kubectl-like command line: get, describe, apply, create, delete and
// version, with kubectl's verbs, flags and output.
package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
)

// Options are the flags every client command shares, and where it writes.
type Options struct {
	ConfigPath string
	Namespace  string
	In         io.Reader
	Out        io.Writer
	ErrOut     io.Writer
}

// Client loads the config and connects.
func (o *Options) Client() (*client.Client, error) {
	path, err := client.FindConfig(o.ConfigPath)
	if err != nil {
		return nil, err
	}
	cfg, err := client.LoadConfig(path)
	if err != nil {
		return nil, fmt.Errorf("load client config: %w", err)
	}
	return client.New(cfg)
}

// Ns returns the namespace the user chose, or "default".
func (o *Options) Ns() string {
	if o.Namespace == "" {
		return "default"
	}
	return o.Namespace
}

// NewRootCommand builds the `minik8s` command with every client subcommand. The binary's main
// adds the commands that run components (server, join, ...).
func NewRootCommand(in io.Reader, out, errOut io.Writer) *cobra.Command {
	o := &Options{In: in, Out: out, ErrOut: errOut}
	root := &cobra.Command{
		Use:   "minik8s",
		Short: "minik8s: a small container orchestrator with Kubernetes' model",
		Long: `minik8s runs containers on a handful of Linux machines, with Kubernetes' objects and words.

The client commands (get, apply, delete, ...) read the cluster's address and credentials from
--config, $MINIK8S_CONFIG, or ~/.minik8s/config, in that order.`,
		Example: `  minik8s server --data-dir /tmp/minik8s      # run a control plane
  export MINIK8S_CONFIG=/tmp/minik8s/admin.yaml
  minik8s apply -f fixtures/pod.yaml
  minik8s get pods -o wide`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errOut)
	pf := root.PersistentFlags()
	pf.StringVar(&o.ConfigPath, "config", "", "client config file (default $MINIK8S_CONFIG or ~/.minik8s/config)")
	pf.StringVarP(&o.Namespace, "namespace", "n", "", "namespace (default \"default\")")
	root.AddCommand(newGetCommand(o), newDescribeCommand(o), newApplyCommand(o), newCreateCommand(o),
		newDeleteCommand(o), newScaleCommand(o), newVersionCommand(o), newAPIResourcesCommand(o), newLogsCommand(o), newExecCommand(o), NewImageCommand(o), newTUICommand(o), newTopCommand(o))
	return root
}

// resolveKind finds a kind by a name the user typed, or says which names exist.
func resolveKind(name string) (*api.Resource, error) {
	if res := api.LookupResource(name); res != nil {
		return res, nil
	}
	var names []string
	for _, r := range api.Resources() {
		names = append(names, r.Name)
	}
	return nil, fmt.Errorf("the server doesn't have a resource type %q; known types: %s (see `minik8s api-resources`)", name, strings.Join(names, ", "))
}

// splitKindArgs turns kubectl's argument forms into (kind, names): "pods", "pods a b",
// "pod/a", "pod/a svc/b" (then every argument carries its kind).
func splitKindArgs(args []string) ([]kindName, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("you must say what to act on, e.g. `pods` or `pod/NAME`; see `minik8s api-resources` for the types")
	}
	if strings.Contains(args[0], "/") {
		var out []kindName
		for _, a := range args {
			k, n, ok := strings.Cut(a, "/")
			if !ok || n == "" {
				return nil, fmt.Errorf("%q: expected TYPE/NAME when the first argument is TYPE/NAME", a)
			}
			res, err := resolveKind(k)
			if err != nil {
				return nil, err
			}
			out = append(out, kindName{res, n})
		}
		return out, nil
	}
	var out []kindName
	for _, kind := range strings.Split(args[0], ",") {
		res, err := resolveKind(kind)
		if err != nil {
			return nil, err
		}
		if len(args) == 1 {
			out = append(out, kindName{res, ""})
		}
		for _, n := range args[1:] {
			out = append(out, kindName{res, n})
		}
	}
	return out, nil
}

type kindName struct {
	res  *api.Resource
	name string
}

func newVersionCommand(o *Options) *cobra.Command {
	var clientOnly bool
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the client and server versions",
		Example: "  minik8s version\n  minik8s version --client",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(o.Out, "Client Version: %s\n", Version)
			if clientOnly {
				return nil
			}
			c, err := o.Client()
			if err != nil {
				return err
			}
			var v map[string]string
			if err := c.Do(cmd.Context(), "GET", "/version", nil, nil, "", &v); err != nil {
				return err
			}
			fmt.Fprintf(o.Out, "Server Version: %s\n", v["gitVersion"])
			return nil
		},
	}
}

// Version is the CLI's version, set at build time.
var Version = "v0.1.0-dev"

func newAPIResourcesCommand(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:     "api-resources",
		Short:   "List the kinds of objects the API serves",
		Example: "  minik8s api-resources",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tw := newTabWriter(o.Out)
			fmt.Fprintln(tw, "NAME\tSHORTNAMES\tAPIVERSION\tNAMESPACED\tKIND")
			for _, r := range api.Resources() {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\n", r.Name, strings.Join(r.ShortNames, ","), r.APIVersion(), r.Namespaced, r.Kind)
			}
			return tw.Flush()
		},
	}
}

func ctxOf(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}
