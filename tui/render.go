package tui

import (
	"bytes"
	"sort"
	"strings"
	"time"

	"github.com/minik8s/minik8s/api"
)

// renderTable formats objs, all of kind res, as `minik8s get` prints them (api.TableColumns and
// api.TableCells through api.FormatTable, default columns only), with a NAMESPACE column first
// when withNamespace. It returns the header line and one line per object, in objs' order. It is
// a pure function: the one renderer every kind shares; a kind gets its own columns by adding
// them to api's table printers.
func renderTable(res *api.Resource, objs []api.Object, withNamespace bool, now time.Time) (string, []string) {
	cols := api.TableColumns(res)
	t := &api.Table{ColumnDefinitions: cols, Rows: make([]api.TableRow, 0, len(objs)+1)}
	opts := api.TableOptions{WithNamespace: withNamespace}
	for _, obj := range objs {
		t.Rows = append(t.Rows, api.TableRow{Cells: api.TableCells(obj, now)})
		opts.Namespaces = append(opts.Namespaces, obj.GetObjectMeta().Namespace)
	}
	if len(objs) == 0 {
		// FormatTable prints nothing for no rows; a blank row keeps the header's spacing.
		t.Rows = append(t.Rows, api.TableRow{Cells: make([]any, len(cols))})
		opts.Namespaces = append(opts.Namespaces, "")
	}
	var b bytes.Buffer
	_ = api.FormatTable(&b, t, opts) // writes to a buffer: cannot fail
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " ")
	}
	return lines[0], lines[1 : 1+len(objs)]
}

// objectKey is the store key of an object: "namespace/name", or "name" when cluster-scoped.
func objectKey(obj api.Object) string {
	m := obj.GetObjectMeta()
	if m.Namespace == "" {
		return m.Name
	}
	return m.Namespace + "/" + m.Name
}

// sortedObjects returns the objects of store in kubectl's order: by namespace, then name.
func sortedObjects(store map[string]api.Object) []api.Object {
	out := make([]api.Object, 0, len(store))
	for _, o := range store {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].GetObjectMeta(), out[j].GetObjectMeta()
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	return out
}
