package cli

import (
	"context"
	"fmt"
	"slices"
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
	var selector, cascade string
	cmd := &cobra.Command{
		Use:   "delete (TYPE NAME ... | TYPE/NAME ... | -f FILE | TYPE -l SELECTOR | TYPE --all)",
		Short: "Delete objects by name, by manifest, or by label",
		Long: `Delete objects. Pods on a node stop gracefully: their containers get SIGTERM, then SIGKILL
after the grace period. Deleting a namespace deletes everything in it. By default the command
waits until the objects are gone.

Deleting a ReplicaSet deletes its Pods too (--cascade=background, the default: the garbage
collector deletes them after it); --cascade=orphan keeps them, without an owner.`,
		Example: `  minik8s delete pod web-1
  minik8s delete -f fixtures/pod.yaml
  minik8s delete pods -l app=web
  minik8s delete pod web-1 --now          # grace period of 1 second
  minik8s delete ns scratch --wait=false
  minik8s delete rs web --cascade=orphan   # keep its Pods`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := ctxOf(cmd)
			orphan, err := parseCascade(cascade)
			if err != nil {
				return err
			}
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
				var err error
				if orphan && t.res.Group == api.GroupApps && t.res.Kind == "ReplicaSet" {
					err = deleteOrphaning(ctx, c, nsOf[i], t.name, opts)
				} else {
					err = c.Resource(t.res, nsOf[i]).Delete(ctx, t.name, opts)
				}
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
	fl.StringVar(&cascade, "cascade", "background", `"background" deletes the objects a ReplicaSet owns after it; "orphan" keeps them`)
	return cmd
}

// parseCascade reads --cascade: true for orphan. kubectl's old true/false are accepted too.
func parseCascade(s string) (bool, error) {
	switch s {
	case "background", "true":
		return false, nil
	case "orphan", "false":
		return true, nil
	}
	return false, fmt.Errorf(`--cascade must be "background" or "orphan", not %q`, s)
}

// orphanFinalizer holds a ReplicaSet that is being deleted while its Pods are let go, as
// Kubernetes' "orphan" finalizer does: the ReplicaSet controller leaves a ReplicaSet that is
// being deleted alone (no adoption, no creates), and the garbage collector still sees it exist.
const orphanFinalizer = "orphan"

// deleteOrphaning deletes the ReplicaSet ns/name but keeps its Pods: it holds the ReplicaSet
// with a finalizer, deletes it (it is then only marked), removes its owner reference from each
// of its Pods, and drops the finalizer, upon which the server removes it.
func deleteOrphaning(ctx context.Context, c *client.Client, ns, name string, opts *api.DeleteOptions) error {
	rsets := c.ReplicaSets(ns)
	rs, err := rsets.Get(ctx, name)
	if err != nil {
		return err
	}
	uid := rs.UID
	if !slices.Contains(rs.Finalizers, orphanFinalizer) {
		rs.Finalizers = append(rs.Finalizers, orphanFinalizer)
		if rs, err = rsets.Update(ctx, rs); err != nil {
			return fmt.Errorf("hold replicaset %s for --cascade=orphan: %w", name, err)
		}
	}
	del := &api.DeleteOptions{Preconditions: &api.Preconditions{UID: &uid}}
	if opts != nil {
		del.GracePeriodSeconds = opts.GracePeriodSeconds
	}
	if err := rsets.Delete(ctx, name, del); err != nil {
		return err
	}
	pods, _, err := c.Pods(ns).List(ctx, client.ListOptions{})
	if err != nil {
		return err
	}
	for _, p := range pods {
		if !slices.ContainsFunc(p.OwnerReferences, func(r api.OwnerReference) bool { return r.UID == uid }) {
			continue
		}
		for {
			p.OwnerReferences = slices.DeleteFunc(p.OwnerReferences, func(r api.OwnerReference) bool { return r.UID == uid })
			_, err := c.Pods(ns).Update(ctx, p)
			if client.IsConflict(err) {
				if p, err = c.Pods(ns).Get(ctx, p.Name); err == nil {
					continue
				}
			}
			if err != nil && !client.IsNotFound(err) {
				return fmt.Errorf("orphan pod %s: %w", p.Name, err)
			}
			break
		}
	}
	for {
		rs, err := rsets.Get(ctx, name)
		if client.IsNotFound(err) || (err == nil && rs.UID != uid) {
			return nil
		}
		if err != nil {
			return err
		}
		rs.Finalizers = slices.DeleteFunc(rs.Finalizers, func(f string) bool { return f == orphanFinalizer })
		if _, err := rsets.Update(ctx, rs); err == nil || client.IsNotFound(err) {
			return nil
		} else if !client.IsConflict(err) {
			return fmt.Errorf("release replicaset %s after orphaning its pods: %w", name, err)
		}
	}
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
