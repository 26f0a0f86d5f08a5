package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/minik8s/minik8s/api"
)

func newCreateCommand(o *Options) *cobra.Command {
	f := &fileOptions{}
	cmd := &cobra.Command{
		Use:   "create -f FILE | create namespace NAME",
		Short: "Create objects from manifests (failing if they exist)",
		Example: `  minik8s create -f fixtures/pod.yaml
  minik8s create namespace scratch`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ms, err := f.read(o)
			if err != nil {
				return err
			}
			c, err := o.Client()
			if err != nil {
				return err
			}
			for _, m := range ms {
				ns := namespaceFor(m, o.Ns())
				if m.Resource.Namespaced {
					m.Object.GetObjectMeta().Namespace = ns
				}
				out, err := c.Resource(m.Resource, ns).Create(ctxOf(cmd), m.Object)
				if err != nil {
					return fmt.Errorf("%s:%d: %w", m.File, m.Line, err)
				}
				fmt.Fprintf(o.Out, "%s/%s created\n", m.Resource.Singular, out.GetObjectMeta().Name)
			}
			return nil
		},
	}
	f.bind(cmd, "to create")
	cmd.AddCommand(&cobra.Command{
		Use:     "namespace NAME",
		Aliases: []string{"ns"},
		Short:   "Create a namespace",
		Example: "  minik8s create namespace scratch",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.Client()
			if err != nil {
				return err
			}
			ns := &api.Namespace{ObjectMeta: api.ObjectMeta{Name: args[0]}}
			if _, err := c.Namespaces().Create(ctxOf(cmd), ns); err != nil {
				return err
			}
			fmt.Fprintf(o.Out, "namespace/%s created\n", args[0])
			return nil
		},
	})
	return cmd
}
