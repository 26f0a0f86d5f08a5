package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/minik8s/minik8s/api"
)

func newScaleCommand(o *Options) *cobra.Command {
	var replicas int32
	cmd := &cobra.Command{
		Use:   "scale (TYPE NAME | TYPE/NAME) --replicas=COUNT",
		Short: "Set the number of replicas of a ReplicaSet",
		Long: `Set the number of Pods a ReplicaSet keeps (its spec.replicas). The ReplicaSet controller then
creates or deletes Pods to match.`,
		Example: `  minik8s scale rs web --replicas 5
  minik8s scale replicaset/web --replicas=0 -n shop`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("replicas") {
				return fmt.Errorf("--replicas=COUNT is required")
			}
			if replicas < 0 {
				return fmt.Errorf("--replicas must be 0 or more, not %d", replicas)
			}
			targets, err := splitKindArgs(args)
			if err != nil {
				return err
			}
			for _, t := range targets {
				if t.res.Group != api.GroupApps || t.res.Kind != "ReplicaSet" {
					return fmt.Errorf("cannot scale %s: only replicasets can be scaled", t.res.Name)
				}
				if t.name == "" {
					return fmt.Errorf("say which replicaset to scale: `minik8s scale rs NAME --replicas N`")
				}
			}
			c, err := o.Client()
			if err != nil {
				return err
			}
			patch := fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, replicas)
			for _, t := range targets {
				if _, err := c.Resource(t.res, o.Ns()).Patch(ctxOf(cmd), t.name, patch); err != nil {
					return fmt.Errorf("scale %s %s: %w", t.res.Singular, t.name, err)
				}
				fmt.Fprintf(o.Out, "%s.%s/%s scaled\n", t.res.Singular, t.res.Group, t.name)
			}
			return nil
		},
	}
	cmd.Flags().Int32Var(&replicas, "replicas", 0, "the new number of replicas (required)")
	return cmd
}
