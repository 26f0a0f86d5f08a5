package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/spf13/cobra"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
)

// LastAppliedAnnotation holds the manifest as last applied, as kubectl keeps it, so that the
// next apply knows which fields the user removed.
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

type fileOptions struct {
	files     []string
	recursive bool
}

func (f *fileOptions) bind(cmd *cobra.Command, what string) {
	cmd.Flags().StringSliceVarP(&f.files, "filename", "f", nil, "file, directory or - (stdin) with the manifests "+what)
	cmd.Flags().BoolVarP(&f.recursive, "recursive", "R", false, "also read the subdirectories of directories given with -f")
}

func (f *fileOptions) read(o *Options) ([]Manifest, error) {
	if len(f.files) == 0 {
		return nil, fmt.Errorf("no manifests given: pass -f FILE, -f DIR or -f -")
	}
	ms, err := ReadManifests(f.files, o.In, f.recursive)
	if err != nil {
		return nil, fmt.Errorf("nothing was done; fix these manifests and try again:\n%w", err)
	}
	return ms, nil
}

func newApplyCommand(o *Options) *cobra.Command {
	f := &fileOptions{}
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "apply -f FILE|DIR|-",
		Short: "Create or update objects from manifests",
		Long: `Create the objects of the manifests, or update them to match. Every document of every file
is read and validated first; if any is invalid, nothing is applied and each problem is named with
its file, line and field. Like kubectl, apply remembers the applied manifest in the
kubectl.kubernetes.io/last-applied-configuration annotation, so that a field removed from the
manifest is removed from the object, while fields set by the cluster (a Pod's node, a Service's
cluster IP) stay.`,
		Example: `  minik8s apply -f fixtures/pod.yaml
  minik8s apply -f fixtures/            # every .yaml, .yml and .json file
  cat app.yaml | minik8s apply -f -`,
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
				verb, err := applyOne(ctxOf(cmd), c, o.Ns(), m, dryRun)
				if err != nil {
					return fmt.Errorf("%s:%d: %s %q: %w", m.File, m.Line, m.Resource.Kind, m.Object.GetObjectMeta().Name, err)
				}
				suffix := ""
				if dryRun {
					suffix = " (dry run)"
				}
				fmt.Fprintf(o.Out, "%s/%s %s%s\n", m.Resource.Singular, m.Object.GetObjectMeta().Name, verb, suffix)
			}
			return nil
		},
	}
	f.bind(cmd, "to apply")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only say what would change")
	return cmd
}

// namespaceFor returns the namespace an object goes to: its own, else the -n flag's.
func namespaceFor(m Manifest, flagNS string) string {
	if !m.Resource.Namespaced {
		return ""
	}
	if ns := m.Object.GetObjectMeta().Namespace; ns != "" {
		return ns
	}
	return flagNS
}

// applyOne creates or updates one object and says which ("created", "configured", "unchanged").
func applyOne(ctx context.Context, c *client.Client, flagNS string, m Manifest, dryRun bool) (string, error) {
	ns := namespaceFor(m, flagNS)
	d := c.Resource(m.Resource, ns)
	name := m.Object.GetObjectMeta().Name
	var applied map[string]any
	if err := json.Unmarshal(m.JSON, &applied); err != nil {
		return "", err
	}
	setNamespace(applied, ns, m.Resource.Namespaced)
	appliedJSON, _ := json.Marshal(applied)
	for attempt := 0; attempt < 5; attempt++ {
		live, err := d.Get(ctx, name)
		if client.IsNotFound(err) {
			obj := m.Resource.New()
			withAnnotation := withLastApplied(applied, string(appliedJSON))
			b, _ := json.Marshal(withAnnotation)
			if err := json.Unmarshal(b, obj); err != nil {
				return "", err
			}
			if dryRun {
				return "created", nil
			}
			if _, err := d.Create(ctx, obj); err != nil {
				return "", err
			}
			return "created", nil
		}
		if err != nil {
			return "", err
		}
		liveJSON, _ := json.Marshal(live)
		var liveMap map[string]any
		_ = json.Unmarshal(liveJSON, &liveMap)
		var last map[string]any
		if s := live.GetObjectMeta().Annotations[LastAppliedAnnotation]; s != "" {
			_ = json.Unmarshal([]byte(s), &last)
		}
		merged := threeWayMerge(deepCopyJSON(liveMap), last, applied)
		merged = withLastApplied(merged, string(appliedJSON))
		obj := m.Resource.New()
		b, _ := json.Marshal(merged)
		if err := json.Unmarshal(b, obj); err != nil {
			return "", err
		}
		api.Default(obj) // compare as the server would store it
		if sameObject(obj, live) {
			return "unchanged", nil
		}
		if dryRun {
			return "configured", nil
		}
		_, err = d.Update(ctx, obj)
		if client.IsConflict(err) {
			continue // someone wrote in between: merge again onto the new live object
		}
		if err != nil {
			return "", err
		}
		return "configured", nil
	}
	return "", fmt.Errorf("the object kept changing while it was applied; try again")
}

func setNamespace(doc map[string]any, ns string, namespaced bool) {
	if !namespaced {
		return
	}
	meta, _ := doc["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		doc["metadata"] = meta
	}
	meta["namespace"] = ns
}

func withLastApplied(doc map[string]any, applied string) map[string]any {
	out := deepCopyJSON(doc)
	meta, _ := out["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		out["metadata"] = meta
	}
	ann, _ := meta["annotations"].(map[string]any)
	if ann == nil {
		ann = map[string]any{}
		meta["annotations"] = ann
	}
	ann[LastAppliedAnnotation] = applied
	return out
}

// threeWayMerge returns live changed so that it holds what applied says: fields in applied
// are set (maps merged key by key, lists replaced), and fields that were in the last applied
// manifest but are no longer in applied are removed. Fields neither manifest mentions (set by
// the cluster) are kept.
func threeWayMerge(live, last, applied map[string]any) map[string]any {
	for k := range last {
		if _, still := applied[k]; !still {
			delete(live, k)
		}
	}
	for k, v := range applied {
		am, aIsMap := v.(map[string]any)
		lm, lIsMap := live[k].(map[string]any)
		if aIsMap && lIsMap {
			prev, _ := last[k].(map[string]any)
			live[k] = threeWayMerge(lm, prev, am)
			continue
		}
		live[k] = v
	}
	return live
}

func deepCopyJSON(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// sameObject compares two objects apart from their status and the metadata that changes on
// every write, so that apply can say "unchanged".
func sameObject(a, b api.Object) bool {
	norm := func(o api.Object) map[string]any {
		var m map[string]any
		j, _ := json.Marshal(o)
		_ = json.Unmarshal(j, &m)
		delete(m, "status")
		if meta, ok := m["metadata"].(map[string]any); ok {
			delete(meta, "resourceVersion")
			delete(meta, "generation")
		}
		return m
	}
	return reflect.DeepEqual(norm(a), norm(b))
}
