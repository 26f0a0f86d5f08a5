package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
)

func newDeleteCommand(o *Options) *cobra.Command {
	f := &fileOptions{}
	var grace int64
	var now, wait, ignoreNotFound, all bool
	var timeout time.Duration
	var selector string
	cmd := &cobra.Command{
		Use:   "delete (TYPE NAME ... | TYPE/NAME ... | -f FILE | TYPE -l SELECTOR | TYPE --all)",
		Short: "Delete objects by name, by manifest, or by label",
		Long: `Delete objects. Pods on a node stop gracefully: their containers get SIGTERM, then SIGKILL
after the grace period. Deleting a namespace deletes everything in it. By default the command
waits until the objects are gone.`,
		Example: `  minik8s delete pod web-1
  minik8s delete -f fixtures/pod.yaml
  minik8s delete pods -l app=web
  minik8s delete pod web-1 --now          # grace period of 1 second
  minik8s delete ns scratch --wait=false`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := ctxOf(cmd)
			var targets []kindName
			nsOf := map[int]string{}
			if len(f.files) > 0 {
				if len(args) > 0 {
					return fmt.Errorf("give either -f or TYPE NAME, not both")
				}
				ms, err := f.read(o)
				if err != nil {
					return err
				}
				for i, m := range ms {
					targets = append(targets, kindName{m.Resource, m.Object.GetObjectMeta().Name})
					nsOf[i] = namespaceFor(m, o.Ns())
				}
			} else {
				var err error
				if targets, err = splitKindArgs(args); err != nil {
					return err
				}
			}
			c, err := o.Client()
			if err != nil {
				return err
			}
			// Expand "TYPE" with -l or --all into names.
			var expanded []kindName
			for i, t := range targets {
				if t.name != "" {
					if _, ok := nsOf[i]; !ok {
						nsOf[len(expanded)] = o.Ns()
					} else {
						nsOf[len(expanded)] = nsOf[i]
					}
					expanded = append(expanded, t)
					continue
				}
				if selector == "" && !all {
					return fmt.Errorf("to delete every %s, say so with --all, or choose some with -l SELECTOR", t.res.Name)
				}
				objs, _, err := c.Resource(t.res, o.Ns()).List(ctx, client.ListOptions{LabelSelector: selector})
				if err != nil {
					return err
				}
				for _, obj := range objs {
					nsOf[len(expanded)] = obj.GetObjectMeta().Namespace
					expanded = append(expanded, kindName{t.res, obj.GetObjectMeta().Name})
				}
			}
			var opts *api.DeleteOptions
			if now {
				grace = 1
			}
			if grace >= 0 {
				opts = &api.DeleteOptions{GracePeriodSeconds: &grace}
			}
			failed := false
			var deleted []int
			for i, t := range expanded {
				err := c.Resource(t.res, nsOf[i]).Delete(ctx, t.name, opts)
				if client.IsNotFound(err) && ignoreNotFound {
					continue
				}
				if err != nil {
					fmt.Fprintf(o.ErrOut, "Error from server (%s): %v\n", reasonOf(err), err)
					failed = true
					continue
				}
				fmt.Fprintf(o.Out, "%s %q deleted\n", t.res.Singular, t.name)
				deleted = append(deleted, i)
			}
			if wait {
				deadline, cancel := context.WithTimeout(ctx, timeout)
				defer cancel()
				for _, i := range deleted {
					t := expanded[i]
					if err := waitGone(deadline, c.Resource(t.res, nsOf[i]), t.name); err != nil {
						return fmt.Errorf("%s %q is still there after %s: %w (see `minik8s describe %s %s`)", t.res.Singular, t.name, timeout, err, t.res.Singular, t.name)
					}
				}
			}
			if failed {
				return errSilent
			}
			return nil
		},
	}
	f.bind(cmd, "whose objects to delete")
	fl := cmd.Flags()
	fl.Int64Var(&grace, "grace-period", -1, "seconds a Pod gets to stop before it is killed (-1: the Pod's own)")
	fl.BoolVar(&now, "now", false, "stop Pods at once (grace period 1)")
	fl.BoolVar(&wait, "wait", true, "wait until the objects are gone")
	fl.DurationVar(&timeout, "timeout", 2*time.Minute, "how long to wait with --wait")
	fl.BoolVar(&ignoreNotFound, "ignore-not-found", false, "do not complain about objects that do not exist")
	fl.StringVarP(&selector, "selector", "l", "", "delete the objects of TYPE with these labels")
	fl.BoolVar(&all, "all", false, "delete every object of TYPE in the namespace")
	return cmd
}

func reasonOf(err error) string {
	if se, ok := err.(*client.StatusError); ok && se.Status.Reason != "" {
		return se.Status.Reason
	}
	return "Error"
}

// waitGone waits, by watching, until the object no longer exists.
func waitGone(ctx context.Context, d *client.Dynamic, name string) error {
	for {
		objs, rv, err := d.List(ctx, client.ListOptions{FieldSelector: "metadata.name=" + name})
		if err != nil {
			return err
		}
		if len(objs) == 0 {
			return nil
		}
		events, err := d.Watch(ctx, client.ListOptions{FieldSelector: "metadata.name=" + name, ResourceVersion: rv})
		if err != nil && !client.IsGone(err) {
			return err
		}
		for ev := range events {
			if ev.Type == api.Deleted {
				return nil
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}
