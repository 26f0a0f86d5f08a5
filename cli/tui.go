package cli

import (
	"bytes"
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/spf13/cobra"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
	"github.com/minik8s/minik8s/tui"
)

func newTUICommand(o *Options) *cobra.Command {
	var allNamespaces, readOnly bool
	cmd := &cobra.Command{
		Use:   "tui [KIND]",
		Short: "Browse, inspect and delete objects in a full-screen terminal UI",
		Long: `tui shows the objects of one kind in a live table that follows the API's watch, with the
same columns as ` + "`minik8s get`" + `. Type : and a kind (:pods, :svc, :rs, :no, :ns), optionally followed by
a namespace or a label selector; / filters rows by a regular expression; d describes, y shows the
YAML, ctrl-d deletes after asking; ? lists every key.`,
		Example: `  minik8s tui                  # Pods in the default namespace
  minik8s tui -A               # Pods in every namespace
  minik8s tui rs -n web        # ReplicaSets in namespace web
  minik8s tui --readonly       # no key changes the cluster`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res := api.LookupResource("pods")
			if len(args) == 1 {
				var err error
				if res, err = resolveKind(args[0]); err != nil {
					return err
				}
			}
			c, err := o.Client()
			if err != nil {
				return err
			}
			ns := o.Ns()
			if allNamespaces {
				ns = ""
			}
			ctx := ctxOf(cmd)
			m := tui.New(ctx, tui.Options{
				Source:     tui.ClientSource{C: c},
				Server:     c.Server(),
				Namespace:  ns,
				Resource:   res,
				ReadOnly:   readOnly,
				Describe:   tuiDescriber(c),
				RetryDelay: 2 * time.Second,
			})
			p := tea.NewProgram(m, tea.WithAltScreen(), tea.WithContext(ctx), tea.WithInput(o.In), tea.WithOutput(o.Out))
			_, err = p.Run()
			return err
		},
	}
	cmd.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", false, "start with every namespace")
	cmd.Flags().BoolVar(&readOnly, "readonly", false, "disable every key that changes the cluster (delete)")
	return cmd
}

// tuiDescriber renders an object as `minik8s describe` does, with its events.
func tuiDescriber(c *client.Client) func(context.Context, *api.Resource, api.Object) (string, error) {
	return func(ctx context.Context, res *api.Resource, obj api.Object) (string, error) {
		var events []*api.Event
		if res.Kind != "Event" {
			meta := obj.GetObjectMeta()
			ns := meta.Namespace
			if ns == "" {
				ns = "default"
			}
			evs, _, err := c.Events(ns).List(ctx, client.ListOptions{FieldSelector: "involvedObject.kind=" + res.Kind + ",involvedObject.name=" + meta.Name})
			if err == nil {
				events = evs
			}
		}
		var b bytes.Buffer
		if err := Describe(&b, obj, events, time.Now()); err != nil {
			return "", err
		}
		return b.String(), nil
	}
}
