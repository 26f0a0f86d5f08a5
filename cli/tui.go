package cli

import (
	"bytes"
	"context"
	"os"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
	"github.com/minik8s/minik8s/tui"
)

func newTUICommand(o *Options) *cobra.Command {
	var allNamespaces, readOnly bool
	cmd := &cobra.Command{
		Use:   "tui [KIND]",
		Short: "Browse, inspect and change objects in a full-screen terminal UI",
		Long: `tui shows the objects of one kind in a live table that follows the API's watch, with the
same columns as ` + "`minik8s get`" + `, under a header with the cluster's nodes and their CPU and memory use.
Type : and a kind (:pods, :svc, :rs, :no, :ns, :hpa), optionally followed by a namespace or a label
selector; / filters rows by a regular expression (/-l app=web by labels); enter opens what a row
leads to (a ReplicaSet's Pods, a Node's Pods, ...); d describes, y shows the YAML, l follows a
Pod's logs, u draws its CPU and memory, s scales a ReplicaSet, e edits in $EDITOR, ctrl-d deletes
after asking; shift and a column's letter sorts; ? lists every key. See docs/tui.md.`,
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
			cluster, user := tuiConfigNames(o.ConfigPath)
			ctx := ctxOf(cmd)
			m := tui.New(ctx, tui.Options{
				Source:     tui.ClientSource{C: c},
				Metrics:    c,
				Cluster:    cluster,
				Server:     c.Server(),
				User:       user,
				Namespace:  ns,
				Resource:   res,
				ReadOnly:   readOnly,
				Describe:   tuiDescriber(c),
				Editor:     tuiEditor(),
				RetryDelay: 2 * time.Second,
			})
			p := tea.NewProgram(m, tea.WithAltScreen(), tea.WithContext(ctx), tea.WithInput(o.In), tea.WithOutput(o.Out))
			_, err = p.Run()
			return err
		},
	}
	cmd.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", false, "start with every namespace")
	cmd.Flags().BoolVar(&readOnly, "readonly", false, "disable every key that changes the cluster (delete, scale, edit)")
	return cmd
}

// tuiEditor is the editor of `e`: $KUBE_EDITOR, then $EDITOR, as kubectl edit chooses; the UI
// falls back to vi.
func tuiEditor() string {
	for _, v := range []string{"KUBE_EDITOR", "EDITOR"} {
		if e := os.Getenv(v); e != "" {
			return e
		}
	}
	return ""
}

// tuiConfigNames reads the names the header shows from the client config: the current
// context's cluster (with the context's name when it differs) and user. A config it cannot
// read gives empty names; o.Client reports the real problem.
func tuiConfigNames(explicit string) (cluster, user string) {
	path, err := client.FindConfig(explicit)
	if err != nil {
		return "", ""
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", ""
	}
	var kc struct {
		CurrentContext string `json:"current-context"`
		Contexts       []struct {
			Name    string `json:"name"`
			Context struct {
				Cluster string `json:"cluster"`
				User    string `json:"user"`
			} `json:"context"`
		} `json:"contexts"`
	}
	if yaml.Unmarshal(b, &kc) != nil {
		return "", ""
	}
	for i, x := range kc.Contexts {
		if x.Name != kc.CurrentContext && (kc.CurrentContext != "" || i > 0) {
			continue
		}
		cluster = x.Context.Cluster
		if x.Name != "" && x.Name != cluster {
			cluster = x.Name + "/" + cluster
		}
		return cluster, x.Context.User
	}
	return "", ""
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
