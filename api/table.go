package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Table is meta.k8s.io/v1 Table: the rows that `kubectl get` prints. The API server answers with
// one when a client asks for "Accept: application/json;as=Table;v=v1;g=meta.k8s.io", and our CLI
// and terminal UI print it with FormatTable.
type Table struct {
	TypeMeta `json:",inline"`
	ListMeta `json:"metadata"`
	// ColumnDefinitions describes each column; every row has one cell per column.
	ColumnDefinitions []TableColumnDefinition `json:"columnDefinitions"`
	// Rows holds one row per object.
	Rows []TableRow `json:"rows"`
}

// TableColumnDefinition describes one column of a Table, as meta.k8s.io/v1 does. Names are in
// Kubernetes' spelling ("Name", "Nominated Node", "Port(s)"); kubectl and FormatTable print them
// upper case.
type TableColumnDefinition struct {
	// Name is the column's title.
	Name string `json:"name"`
	// Type is the OpenAPI type of the cells: "string", "integer", "number" or "boolean".
	Type string `json:"type"`
	// Format is an OpenAPI format hint; "name" marks the column that holds the object's name.
	Format string `json:"format"`
	// Description says what the column shows.
	Description string `json:"description"`
	// Priority 0 columns are always shown; priority 1 columns only with -o wide.
	Priority int32 `json:"priority"`
}

// TableRow is one row of a Table.
type TableRow struct {
	// Cells holds one value per column: a string for text, an int64 for integers. Cells decoded
	// from JSON hold float64 for numbers.
	Cells []any `json:"cells"`
	// Object is the object's JSON, when the client asked for it (includeObject=Object).
	Object json.RawMessage `json:"object,omitempty"`
}

// TableOptions says how FormatTable prints a Table, as kubectl's flags do.
type TableOptions struct {
	// Wide shows the priority 1 columns too (-o wide).
	Wide bool
	// NoHeaders leaves out the header line (--no-headers).
	NoHeaders bool
	// WithNamespace adds a NAMESPACE column first (-A, --all-namespaces).
	WithNamespace bool
	// ShowLabels adds a LABELS column last (--show-labels).
	ShowLabels bool
	// Namespaces holds the NAMESPACE cell of each row, in row order. Where it is short, the
	// namespace comes from the row's Object, if any.
	Namespaces []string
	// Labels holds the labels of each row's object, in row order, for the LABELS column. Where it
	// is short, the labels come from the row's Object, if any.
	Labels []map[string]string
}

// Description texts shared by many columns, as Kubernetes' swagger docs word them.
const (
	tableNameDescription = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated."
	tableAgeDescription  = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC."
)

var (
	tableNameColumn = TableColumnDefinition{Name: "Name", Type: "string", Format: "name", Description: tableNameDescription}
	tableAgeColumn  = TableColumnDefinition{Name: "Age", Type: "string", Description: tableAgeDescription}

	tablePodColumns = []TableColumnDefinition{
		tableNameColumn,
		{Name: "Ready", Type: "string", Description: "The aggregate readiness state of this pod for accepting traffic."},
		{Name: "Status", Type: "string", Description: "The aggregate status of the containers in this pod."},
		{Name: "Restarts", Type: "string", Description: "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."},
		tableAgeColumn,
		{Name: "IP", Type: "string", Priority: 1, Description: "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated."},
		{Name: "Node", Type: "string", Priority: 1, Description: "NodeName is a request to schedule this pod onto a specific node."},
		{Name: "Nominated Node", Type: "string", Priority: 1, Description: "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods."},
		{Name: "Readiness Gates", Type: "string", Priority: 1, Description: "If specified, all readiness gates will be evaluated for pod readiness."},
	}

	tableNodeColumns = []TableColumnDefinition{
		tableNameColumn,
		{Name: "Role", Type: "string", Description: "The role of the node: control-plane when it has the label node-role.kubernetes.io/control-plane, worker otherwise."},
		{Name: "Status", Type: "string", Description: "The status of the node"},
		tableAgeColumn,
		{Name: "Address", Type: "string", Description: "The node's InternalIP address, reachable within the cluster."},
		{Name: "Pod-CIDR", Type: "string", Description: "PodCIDR represents the pod IP range assigned to the node."},
		{Name: "CPU", Type: "string", Priority: 1, Description: "CPU requested by the non-terminated pods bound to the node, over the node's allocatable CPU."},
		{Name: "Memory", Type: "string", Priority: 1, Description: "Memory requested by the non-terminated pods bound to the node, over the node's allocatable memory, in Mi."},
		{Name: "Version", Type: "string", Priority: 1, Description: "Kubelet Version reported by the node."},
		{Name: "OS-Image", Type: "string", Priority: 1, Description: "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."},
		{Name: "Kernel-Version", Type: "string", Priority: 1, Description: "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."},
		{Name: "Container-Runtime", Type: "string", Priority: 1, Description: "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2)."},
	}

	tableServiceColumns = []TableColumnDefinition{
		tableNameColumn,
		{Name: "Type", Type: "string", Description: "type determines how the Service is exposed."},
		{Name: "Cluster-IP", Type: "string", Description: "clusterIP is the IP address of the service and is usually assigned randomly."},
		{Name: "Port(s)", Type: "string", Description: "The ports of the service as port:targetPort/protocol, with :nodePort before the protocol for a NodePort service."},
		{Name: "Endpoints", Type: "string", Description: "The ready addresses behind the service as ip:port, from its Endpoints object: at most three, then how many more (all of them with -o wide in minik8s's CLI)."},
		tableAgeColumn,
		{Name: "Selector", Type: "string", Priority: 1, Description: "Route service traffic to pods with label keys and values matching this selector."},
	}

	tableEndpointsColumns = []TableColumnDefinition{
		tableNameColumn,
		{Name: "Endpoints", Type: "string", Description: "The set of all endpoints is the union of all subsets."},
		tableAgeColumn,
	}

	tableReplicaSetColumns = []TableColumnDefinition{
		tableNameColumn,
		{Name: "Replicas", Type: "string", Description: "The most recently observed number of replicas, over the desired number (current/desired)."},
		{Name: "Ready", Type: "integer", Description: "The number of ready replicas for this replica set."},
		tableAgeColumn,
		{Name: "Containers", Type: "string", Priority: 1, Description: "Names of each container in the template."},
		{Name: "Images", Type: "string", Priority: 1, Description: "Images referenced by each container in the template."},
		{Name: "Selector", Type: "string", Priority: 1, Description: "Selector is a label query over pods that should match the replica count."},
	}

	tableHPAColumns = []TableColumnDefinition{
		tableNameColumn,
		{Name: "Reference", Type: "string", Description: "reference to scaled resource; horizontal pod autoscaler will learn the current resource consumption and will set the desired number of pods by using its Scale subresource."},
		{Name: "Targets", Type: "string", Description: "the current and target value of each metric, as name: current/target; <unknown> until the autoscaler has measured it."},
		{Name: "Min", Type: "integer", Description: "the lower limit for the number of replicas to which the autoscaler can scale down."},
		{Name: "Max", Type: "integer", Description: "the upper limit for the number of replicas to which the autoscaler can scale up."},
		{Name: "Replicas", Type: "integer", Description: "current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler."},
		tableAgeColumn,
	}

	tableNamespaceColumns = []TableColumnDefinition{
		tableNameColumn,
		{Name: "Status", Type: "string", Description: "The status of the namespace"},
		tableAgeColumn,
	}

	tableSecretColumns = []TableColumnDefinition{
		tableNameColumn,
		{Name: "Type", Type: "string", Description: "Used to facilitate programmatic handling of secret data."},
		{Name: "Data", Type: "integer", Description: "The number of keys in the secret's data."},
		tableAgeColumn,
	}

	tableEventColumns = []TableColumnDefinition{
		{Name: "Last Seen", Type: "string", Description: "The time at which the most recent occurrence of this event was recorded."},
		{Name: "Type", Type: "string", Description: "Type of this event (Normal, Warning), new types could be added in the future"},
		{Name: "Reason", Type: "string", Description: "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."},
		{Name: "Object", Type: "string", Description: "The object that this event is about."},
		{Name: "Subobject", Type: "string", Priority: 1, Description: "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement."},
		{Name: "Source", Type: "string", Priority: 1, Description: "The component reporting this event."},
		{Name: "Message", Type: "string", Description: "A human-readable description of the status of this operation."},
		{Name: "First Seen", Type: "string", Priority: 1, Description: "The time at which the event was first recorded."},
		{Name: "Count", Type: "integer", Priority: 1, Description: "The number of times this event has occurred."},
		{Name: "Name", Type: "string", Priority: 1, Format: "name", Description: tableNameDescription},
	}

	tableDefaultColumns = []TableColumnDefinition{tableNameColumn, tableAgeColumn}
)

// tablePrinterOf names the printer a kind uses: its kind for the kinds that have their own
// columns, "" for the NAME/AGE default.
func tablePrinterOf(group, kind string) string {
	switch {
	case group == "" && (kind == "Pod" || kind == "Node" || kind == "Service" || kind == "Endpoints" ||
		kind == "Namespace" || kind == "Secret" || kind == "Event"):
		return kind
	case group == GroupApps && kind == "ReplicaSet":
		return kind
	case group == GroupAutoscaling && kind == "HorizontalPodAutoscaler":
		return kind
	}
	return ""
}

// tablePrinterOfObject is tablePrinterOf for an object, by its Go type.
func tablePrinterOfObject(obj Object) string {
	switch obj.(type) {
	case *Pod:
		return "Pod"
	case *Node:
		return "Node"
	case *Service:
		return "Service"
	case *Endpoints:
		return "Endpoints"
	case *Namespace:
		return "Namespace"
	case *Secret:
		return "Secret"
	case *Event:
		return "Event"
	case *ReplicaSet:
		return "ReplicaSet"
	case *HorizontalPodAutoscaler:
		return "HorizontalPodAutoscaler"
	}
	return ""
}

// TableColumns returns the columns `kubectl get` prints for a kind, priority 1 (-o wide) columns
// included, as the Kubernetes API server defines them; Nodes have minik8s's own (role, address,
// pod subnet, and with -o wide what their Pods request of their CPU and memory). A nil r, or a
// kind without columns of its own, gets Name and Age. The slice is the caller's to modify.
func TableColumns(r *Resource) []TableColumnDefinition {
	printer := ""
	if r != nil {
		printer = tablePrinterOf(r.Group, r.Kind)
	}
	var cols []TableColumnDefinition
	switch printer {
	case "Pod":
		cols = tablePodColumns
	case "Node":
		cols = tableNodeColumns
	case "Service":
		cols = tableServiceColumns
	case "Endpoints":
		cols = tableEndpointsColumns
	case "ReplicaSet":
		cols = tableReplicaSetColumns
	case "HorizontalPodAutoscaler":
		cols = tableHPAColumns
	case "Namespace":
		cols = tableNamespaceColumns
	case "Secret":
		cols = tableSecretColumns
	case "Event":
		cols = tableEventColumns
	default:
		cols = tableDefaultColumns
	}
	return slices.Clone(cols)
}

// TableContext is what some rows show beyond their own object: a Node's CPU and MEMORY cells
// sum the requests of the Pods bound to it, a Service's ENDPOINTS cell shows the addresses of
// its Endpoints object. A nil *TableContext, or one without the map a row reads, means "not
// known": those cells then show "<unknown>". It is read only once filled.
type TableContext struct {
	// PodsByNode holds the Pods bound to each node (spec.nodeName), by node name. A node
	// without an entry has no Pods. The Node rows count the Pods that are not terminated
	// (Succeeded or Failed).
	PodsByNode map[string][]*Pod
	// Endpoints holds Endpoints objects by "namespace/name". A Service without an entry has
	// no endpoints: its ENDPOINTS cell shows "<none>".
	Endpoints map[string]*Endpoints
	// Wide is true when the table is printed with -o wide: a Service's ENDPOINTS cell then lists
	// every address rather than three and a count. The API server leaves it false, since
	// kubectl does not say whether it prints wide.
	Wide bool
}

// TableNeed is a resource whose objects the rows of another kind show something of.
type TableNeed struct {
	// Resource is the plural name of the resource to list: "pods", "endpoints".
	Resource string
	// Wide is true when only priority 1 (-o wide) columns show it, so that a client that
	// prints the default columns need not list it.
	Wide bool
}

// TableNeeds returns what the rows of kind r show beyond their own objects: the Pods for Nodes
// (CPU and MEMORY, -o wide), the Endpoints for Services (ENDPOINTS). A caller lists each
// resource once, in TableNeedsNamespace of the objects, puts the lists into a TableContext
// with Add, and passes it to BuildTableWith. It is nil for the other kinds and a nil r.
func TableNeeds(r *Resource) []TableNeed {
	if r == nil {
		return nil
	}
	switch tablePrinterOf(r.Group, r.Kind) {
	case "Node":
		return []TableNeed{{Resource: "pods", Wide: true}}
	case "Service":
		return []TableNeed{{Resource: "endpoints"}}
	}
	return nil
}

// TableNeedsPods reports whether the rows of kind r show something computed from Pods, so
// that a caller lists the Pods once and passes NewTableContext of them to BuildTableWith.
func TableNeedsPods(r *Resource) bool { return tableNeeds(r, "pods") }

// TableNeedsEndpoints reports whether the rows of kind r show something of Endpoints objects.
func TableNeedsEndpoints(r *Resource) bool { return tableNeeds(r, "endpoints") }

func tableNeeds(r *Resource, resource string) bool {
	for _, n := range TableNeeds(r) {
		if n.Resource == resource {
			return true
		}
	}
	return false
}

// TableNeedsNamespace returns the namespace in which to list what the rows of objs need: the
// namespace all of them share, or "" (all namespaces) when they are in several or in none (a
// cluster-scoped kind such as Node, whose rows need the Pods of every namespace).
func TableNeedsNamespace(objs []Object) string {
	ns := ""
	for i, obj := range objs {
		if obj == nil {
			continue
		}
		m := obj.GetObjectMeta()
		if i > 0 && m.Namespace != ns {
			return ""
		}
		ns = m.Namespace
	}
	return ns
}

// NewTableContext returns the context that the rows of Nodes need, made from the cluster's
// Pods (all namespaces). Objects that are not Pods, and Pods bound to no node, are skipped.
func NewTableContext(pods []Object) *TableContext {
	tc := &TableContext{}
	tc.Add("pods", pods)
	return tc
}

// Add puts objs, the listed objects of resource (the plural name of a TableNeed), into the
// context, making it known even when objs is empty. Objects of other kinds are skipped, and so
// are Pods bound to no node; an unknown resource adds nothing.
func (tc *TableContext) Add(resource string, objs []Object) {
	switch resource {
	case "pods":
		if tc.PodsByNode == nil {
			tc.PodsByNode = map[string][]*Pod{}
		}
		for _, obj := range objs {
			if p, ok := obj.(*Pod); ok && p != nil && p.Spec.NodeName != "" {
				tc.PodsByNode[p.Spec.NodeName] = append(tc.PodsByNode[p.Spec.NodeName], p)
			}
		}
	case "endpoints":
		if tc.Endpoints == nil {
			tc.Endpoints = map[string]*Endpoints{}
		}
		for _, obj := range objs {
			if ep, ok := obj.(*Endpoints); ok && ep != nil {
				tc.Endpoints[ep.Namespace+"/"+ep.Name] = ep
			}
		}
	}
}

// TableCells returns the cells of obj's row, one per column of TableColumns of its kind, wide
// columns included: strings for text and int64 for integers, computed as kubectl 1.2x computes
// them. Ages are measured against now. It is TableCellsWith without a context.
func TableCells(obj Object, now time.Time) []any { return TableCellsWith(obj, now, nil) }

// TableCellsWith is TableCells with what rows need beyond their object (see TableContext);
// tc may be nil.
func TableCellsWith(obj Object, now time.Time, tc *TableContext) []any {
	switch o := obj.(type) {
	case *Pod:
		return tablePodCells(o, now)
	case *Node:
		return tableNodeCells(o, now, tc)
	case *Service:
		return tableServiceCells(o, now, tc)
	case *Endpoints:
		return []any{o.Name, tableFormatEndpoints(o, tableEndpointsMax), tableAge(o.CreationTimestamp, now)}
	case *ReplicaSet:
		return tableReplicaSetCells(o, now)
	case *HorizontalPodAutoscaler:
		return tableHPACells(o, now)
	case *Namespace:
		return []any{o.Name, o.Status.Phase, tableAge(o.CreationTimestamp, now)}
	case *Secret:
		return []any{o.Name, o.Type, int64(len(o.Data)), tableAge(o.CreationTimestamp, now)}
	case *Event:
		return tableEventCells(o, now)
	}
	m := obj.GetObjectMeta()
	return []any{m.Name, tableAge(m.CreationTimestamp, now)}
}

// BuildTable makes the Table of objs, which must all be of kind r: apiVersion meta.k8s.io/v1,
// kind Table, the columns of TableColumns(r) and one row per object, with the object's JSON in
// the row when includeObject. A nil r takes the kind of the first object. The caller fills in
// the list metadata. It fails on a nil object, on an object of another kind, and on an object
// that does not marshal. It is BuildTableWith without a context.
func BuildTable(r *Resource, objs []Object, now time.Time, includeObject bool) (*Table, error) {
	return BuildTableWith(r, objs, now, includeObject, nil)
}

// BuildTableWith is BuildTable with what rows need beyond their objects (see TableContext and
// TableNeeds); tc may be nil.
func BuildTableWith(r *Resource, objs []Object, now time.Time, includeObject bool, tc *TableContext) (*Table, error) {
	if r == nil && len(objs) > 0 && objs[0] != nil {
		r = ResourceFor(objs[0])
	}
	want := ""
	if r != nil {
		want = tablePrinterOf(r.Group, r.Kind)
	}
	t := &Table{
		TypeMeta:          TypeMeta{APIVersion: GroupMeta + "/v1", Kind: "Table"},
		ColumnDefinitions: TableColumns(r),
		Rows:              make([]TableRow, 0, len(objs)),
	}
	for i, obj := range objs {
		if obj == nil {
			return nil, fmt.Errorf("table: object %d is nil", i)
		}
		if got := tablePrinterOfObject(obj); got != want {
			kind := "objects"
			if r != nil {
				kind = r.Kind
			}
			return nil, fmt.Errorf("table: object %d (%T) is not a %s", i, obj, kind)
		}
		row := TableRow{Cells: TableCellsWith(obj, now, tc)}
		if len(row.Cells) != len(t.ColumnDefinitions) {
			return nil, fmt.Errorf("table: object %d (%T) has %d cells for %d columns", i, obj, len(row.Cells), len(t.ColumnDefinitions))
		}
		if includeObject {
			raw, err := tableObjectJSON(obj, r)
			if err != nil {
				return nil, fmt.Errorf("table: object %d: %v", i, err)
			}
			row.Object = raw
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

// tableObjectJSON marshals obj, adding apiVersion and kind when the object has neither, so that
// the embedded object is self-describing as in Kubernetes. obj itself is not modified.
func tableObjectJSON(obj Object, r *Resource) (json.RawMessage, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	if tm := obj.GetTypeMeta(); tm.APIVersion != "" || tm.Kind != "" {
		return raw, nil
	}
	if rr := ResourceFor(obj); rr != nil {
		r = rr
	}
	if r == nil || len(raw) < 2 || raw[0] != '{' {
		return raw, nil
	}
	head, err := json.Marshal(TypeMeta{APIVersion: r.APIVersion(), Kind: r.Kind})
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Write(head[:len(head)-1]) // `{"apiVersion":...,"kind":...` without the closing brace
	if rest := raw[1:]; len(bytes.TrimSpace(rest)) > 1 {
		b.WriteByte(',')
		b.Write(rest)
	} else {
		b.WriteByte('}')
	}
	return b.Bytes(), nil
}

// FormatTable writes t as kubectl prints it: left-aligned columns at least three spaces apart
// (kubectl's tabwriter: minimum width 6, padding 3), the header line upper case, priority 1
// columns only when opts.Wide, a NAMESPACE column first when opts.WithNamespace and a LABELS
// column last when opts.ShowLabels. As kubectl, it writes nothing at all for a table without
// rows (kubectl then says "No resources found" on stderr, which is the caller's business), cuts
// text cells at the first line break with "...", and escapes terminal control sequences.
func FormatTable(w io.Writer, t *Table, opts TableOptions) error {
	if t == nil || len(t.Rows) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 6, 4, 3, ' ', 0)
	var line strings.Builder
	if !opts.NoHeaders {
		var headers []string
		if opts.WithNamespace {
			headers = append(headers, "NAMESPACE")
		}
		for _, c := range t.ColumnDefinitions {
			if opts.Wide || c.Priority == 0 {
				headers = append(headers, strings.ToUpper(c.Name))
			}
		}
		if opts.ShowLabels {
			headers = append(headers, "LABELS")
		}
		line.WriteString(strings.Join(headers, "\t"))
		line.WriteByte('\n')
		if _, err := io.WriteString(tw, line.String()); err != nil {
			return err
		}
	}
	for i, row := range t.Rows {
		line.Reset()
		var cells []string
		var meta *tableRowMeta
		rowMeta := func() *tableRowMeta {
			if meta == nil {
				meta = tableParseRowMeta(row.Object)
			}
			return meta
		}
		if opts.WithNamespace {
			if i < len(opts.Namespaces) {
				cells = append(cells, tableEscape(opts.Namespaces[i]))
			} else {
				cells = append(cells, tableEscape(rowMeta().Metadata.Namespace))
			}
		}
		for j, cell := range row.Cells {
			if j >= len(t.ColumnDefinitions) {
				break // more cells than columns: ignore the rest, as kubectl does
			}
			if opts.Wide || t.ColumnDefinitions[j].Priority == 0 {
				cells = append(cells, tableFormatCell(cell))
			}
		}
		if opts.ShowLabels {
			var labels map[string]string
			if i < len(opts.Labels) {
				labels = opts.Labels[i]
			} else {
				labels = rowMeta().Metadata.Labels
			}
			cells = append(cells, tableEscape(tableFormatLabels(labels)))
		}
		line.WriteString(strings.Join(cells, "\t"))
		line.WriteByte('\n')
		if _, err := io.WriteString(tw, line.String()); err != nil {
			return err
		}
	}
	return tw.Flush()
}

// tableRowMeta is the part of a row's object that FormatTable may need.
type tableRowMeta struct {
	Metadata struct {
		Namespace string            `json:"namespace"`
		Labels    map[string]string `json:"labels"`
	} `json:"metadata"`
}

// tableParseRowMeta reads the metadata of a row's object; a missing or bad object gives empty
// metadata.
func tableParseRowMeta(raw json.RawMessage) *tableRowMeta {
	m := &tableRowMeta{}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, m)
	}
	return m
}

// tableFormatCell renders one cell as kubectl does: nothing for nil, text cut at the first line
// break, anything else with fmt. Integral float64 values (from JSON) print as integers.
func tableFormatCell(cell any) string {
	switch v := cell.(type) {
	case nil:
		return ""
	case string:
		if i := strings.IndexAny(v, "\f\n\r"); i >= 0 {
			return tableEscape(v[:i]) + "..."
		}
		return tableEscape(v)
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return strconv.FormatInt(int64(v), 10)
		}
		return tableEscape(fmt.Sprint(v))
	case json.Number:
		return tableEscape(v.String())
	}
	return tableEscape(fmt.Sprint(cell))
}

// tableEscaper makes terminal escape sequences visible, as kubectl's printers.EscapeTerminal.
var tableEscaper = strings.NewReplacer("\x1b", "^[", "\r", "\\r")

// tableEscape escapes terminal control characters in s.
func tableEscape(s string) string { return tableEscaper.Replace(s) }

// HumanDuration renders d as kubectl's AGE column does (k8s.io/apimachinery's
// duration.HumanDuration): "<invalid>" below -1s, "0s" for small negative values, seconds below
// 2 minutes ("90s"), minutes and seconds below 10 minutes ("5m30s", "5m"), minutes below 3 hours
// ("150m"), hours and minutes below 8 hours ("3h20m", "3h"), hours below 2 days ("36h"), days
// and hours below 8 days ("3d4h", "3d"), days below 2 years ("400d"), years and days below 8
// years ("2y10d", "2y"), and years after that ("9y").
func HumanDuration(d time.Duration) string {
	// Allow deviation no more than 2 seconds (excluded) to tolerate clock skew.
	if seconds := int(d.Seconds()); seconds < -1 {
		return "<invalid>"
	} else if seconds < 0 {
		return "0s"
	} else if seconds < 60*2 {
		return fmt.Sprintf("%ds", seconds)
	}
	minutes := int(d / time.Minute)
	if minutes < 10 {
		s := int(d/time.Second) % 60
		if s == 0 {
			return fmt.Sprintf("%dm", minutes)
		}
		return fmt.Sprintf("%dm%ds", minutes, s)
	} else if minutes < 60*3 {
		return fmt.Sprintf("%dm", minutes)
	}
	hours := int(d / time.Hour)
	if hours < 8 {
		m := int(d/time.Minute) % 60
		if m == 0 {
			return fmt.Sprintf("%dh", hours)
		}
		return fmt.Sprintf("%dh%dm", hours, m)
	} else if hours < 48 {
		return fmt.Sprintf("%dh", hours)
	} else if hours < 24*8 {
		h := hours % 24
		if h == 0 {
			return fmt.Sprintf("%dd", hours/24)
		}
		return fmt.Sprintf("%dd%dh", hours/24, h)
	} else if hours < 24*365*2 {
		return fmt.Sprintf("%dd", hours/24)
	} else if hours < 24*365*8 {
		dy := (hours / 24) % 365
		if dy == 0 {
			return fmt.Sprintf("%dy", hours/24/365)
		}
		return fmt.Sprintf("%dy%dd", hours/24/365, dy)
	}
	return fmt.Sprintf("%dy", hours/24/365)
}

// tableAge is kubectl's translateTimestampSince: "<unknown>" for a zero time, else the
// HumanDuration since ts.
func tableAge(ts Time, now time.Time) string {
	if ts.IsZero() {
		return "<unknown>"
	}
	return HumanDuration(now.Sub(ts.Time))
}

// tableFormatLabels is Kubernetes' labels.FormatLabels: "k=v" pairs sorted by key and joined by
// commas, or "<none>".
func tableFormatLabels(m map[string]string) string {
	if len(m) == 0 {
		return "<none>"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}

// tableOrNone returns s, or "<none>" when s is empty.
func tableOrNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// tablePodCells is kubectl's printPod.
func tablePodCells(pod *Pod, now time.Time) []any {
	restarts := 0
	totalContainers := len(pod.Spec.Containers)
	readyContainers := 0
	var lastRestart time.Time

	reason := pod.Status.Phase
	if pod.Status.Reason != "" {
		reason = pod.Status.Reason
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == PodScheduled && c.Reason == "SchedulingGated" {
			reason = "SchedulingGated"
		}
	}

	initializing := false
	for i := range pod.Status.InitContainerStatuses {
		cs := &pod.Status.InitContainerStatuses[i]
		restarts += int(cs.RestartCount)
		if t := cs.LastTerminationState.Terminated; t != nil && lastRestart.Before(t.FinishedAt.Time) {
			lastRestart = t.FinishedAt.Time
		}
		switch {
		case cs.State.Terminated != nil && cs.State.Terminated.ExitCode == 0:
			continue
		case cs.State.Terminated != nil:
			t := cs.State.Terminated
			switch {
			case t.Reason != "":
				reason = "Init:" + t.Reason
			case t.Signal != 0:
				reason = fmt.Sprintf("Init:Signal:%d", t.Signal)
			default:
				reason = fmt.Sprintf("Init:ExitCode:%d", t.ExitCode)
			}
			initializing = true
		case cs.State.Waiting != nil && cs.State.Waiting.Reason != "" && cs.State.Waiting.Reason != "PodInitializing":
			reason = "Init:" + cs.State.Waiting.Reason
			initializing = true
		default:
			reason = fmt.Sprintf("Init:%d/%d", i, len(pod.Spec.InitContainers))
			initializing = true
		}
		break
	}

	if !initializing || tablePodConditionTrue(pod.Status.Conditions, "Initialized") {
		// Restarts of (non-sidecar) init containers no longer count once the pod is initialized.
		restarts = 0
		lastRestart = time.Time{}
		hasRunning := false
		for i := len(pod.Status.ContainerStatuses) - 1; i >= 0; i-- {
			cs := &pod.Status.ContainerStatuses[i]
			restarts += int(cs.RestartCount)
			if t := cs.LastTerminationState.Terminated; t != nil && lastRestart.Before(t.FinishedAt.Time) {
				lastRestart = t.FinishedAt.Time
			}
			switch {
			case cs.State.Waiting != nil && cs.State.Waiting.Reason != "":
				reason = cs.State.Waiting.Reason
			case cs.State.Terminated != nil && cs.State.Terminated.Reason != "":
				reason = cs.State.Terminated.Reason
			case cs.State.Terminated != nil:
				if cs.State.Terminated.Signal != 0 {
					reason = fmt.Sprintf("Signal:%d", cs.State.Terminated.Signal)
				} else {
					reason = fmt.Sprintf("ExitCode:%d", cs.State.Terminated.ExitCode)
				}
			case cs.Ready && cs.State.Running != nil:
				hasRunning = true
				readyContainers++
			}
		}
		// Back to Running if a container still runs after another one completed.
		if reason == "Completed" && hasRunning {
			if tablePodConditionTrue(pod.Status.Conditions, PodReady) {
				reason = PodRunning
			} else {
				reason = "NotReady"
			}
		}
	}

	if pod.DeletionTimestamp != nil && pod.Status.Reason == "NodeLost" {
		reason = PodUnknown
	} else if pod.DeletionTimestamp != nil && pod.Status.Phase != PodSucceeded && pod.Status.Phase != PodFailed {
		reason = "Terminating"
	}

	restartsStr := strconv.Itoa(restarts)
	if restarts != 0 && !lastRestart.IsZero() {
		restartsStr = fmt.Sprintf("%d (%s ago)", restarts, tableAge(Time{lastRestart}, now))
	}

	podIP := ""
	if len(pod.Status.PodIPs) > 0 {
		podIP = pod.Status.PodIPs[0].IP
	}
	if podIP == "" {
		podIP = pod.Status.PodIP
	}
	return []any{
		pod.Name,
		fmt.Sprintf("%d/%d", readyContainers, totalContainers),
		reason,
		restartsStr,
		tableAge(pod.CreationTimestamp, now),
		tableOrNone(podIP),
		tableOrNone(pod.Spec.NodeName),
		"<none>", // nominated node: minik8s's scheduler does not preempt
		"<none>", // readiness gates: minik8s pods have none
	}
}

// tablePodConditionTrue reports whether the pod condition of type typ is True.
func tablePodConditionTrue(conds []PodCondition, typ string) bool {
	for _, c := range conds {
		if c.Type == typ {
			return c.Status == ConditionTrue
		}
	}
	return false
}

// tableNodeCells is the row of a node: kubectl's printNode for STATUS, and minik8s's own
// columns for the rest (one ROLE, the address and pod subnet, and what the node's Pods request
// against what it offers).
func tableNodeCells(node *Node, now time.Time, tc *TableContext) []any {
	var status []string
	for _, c := range node.Status.Conditions {
		if c.Type == NodeReady {
			if c.Status == ConditionTrue {
				status = []string{"Ready"}
			} else {
				status = []string{"NotReady"}
			}
		}
	}
	if len(status) == 0 {
		status = append(status, "Unknown")
	}
	if node.Spec.Unschedulable {
		status = append(status, "SchedulingDisabled")
	}

	role := "worker"
	if _, ok := node.Labels[tableControlPlaneLabel]; ok {
		role = "control-plane"
	}

	address := "<none>"
	for _, a := range node.Status.Addresses {
		if a.Type == "InternalIP" {
			address = a.Address
			break
		}
	}

	var cpuUsed, memUsed string
	if tc == nil || tc.PodsByNode == nil {
		cpuUsed, memUsed = "<unknown>", "<unknown>"
	} else {
		var milliCPU, memory int64
		for _, p := range tc.PodsByNode[node.Name] {
			if p == nil || p.Spec.NodeName != node.Name || p.Status.Phase == PodSucceeded || p.Status.Phase == PodFailed {
				continue
			}
			c, m := PodRequests(p, 0, 0)
			milliCPU, memory = milliCPU+c, memory+m
		}
		cpuUsed, memUsed = tableFormatMilliCPU(milliCPU), tableFormatMi(memory)
	}
	cpuAlloc, memAlloc := "<unknown>", "<unknown>"
	if q, ok := tableNodeAllocatable(node, ResourceCPU); ok {
		cpuAlloc = tableFormatMilliCPU(q.MilliValue())
	}
	if q, ok := tableNodeAllocatable(node, ResourceMemory); ok {
		memAlloc = tableFormatMi(q.Value())
	}

	unknown := func(s string) string {
		if s == "" {
			return "<unknown>"
		}
		return s
	}
	info := node.Status.NodeInfo
	return []any{
		node.Name,
		role,
		strings.Join(status, ","),
		tableAge(node.CreationTimestamp, now),
		address,
		tableOrNone(node.Spec.PodCIDR),
		cpuUsed + "/" + cpuAlloc,
		memUsed + "/" + memAlloc,
		unknown(info.KubeletVersion),
		unknown(info.OSImage),
		unknown(info.KernelVersion),
		unknown(info.ContainerRuntimeVersion),
	}
}

// tableControlPlaneLabel marks a control-plane node, as in Kubernetes; its value is
// ignored.
const tableControlPlaneLabel = "node-role.kubernetes.io/control-plane"

// tableNodeAllocatable returns what the node offers of a resource: its allocatable amount, or
// its capacity when it reports no allocatable one.
func tableNodeAllocatable(node *Node, name string) (Quantity, bool) {
	if q, ok := node.Status.Allocatable[name]; ok {
		return q, true
	}
	q, ok := node.Status.Capacity[name]
	return q, ok
}

// PodRequests returns the CPU (in millicores) and memory (in bytes) a Pod requests, as
// Kubernetes counts them: the sum over its containers, or the largest init container's request
// when that is larger, since init containers run one at a time first. A container that requests
// no CPU (memory) counts as defMilliCPU (defMemory): 0 for what the Pod reserves, the
// scheduler's non-zero defaults for scoring.
func PodRequests(pod *Pod, defMilliCPU, defMemory int64) (milliCPU, memory int64) {
	one := func(c *Container) (int64, int64) {
		cpu, mem := defMilliCPU, defMemory
		if q, ok := c.Resources.Requests[ResourceCPU]; ok {
			cpu = q.MilliValue()
		}
		if q, ok := c.Resources.Requests[ResourceMemory]; ok {
			mem = q.Value()
		}
		return cpu, mem
	}
	for i := range pod.Spec.Containers {
		c, m := one(&pod.Spec.Containers[i])
		milliCPU, memory = milliCPU+c, memory+m
	}
	for i := range pod.Spec.InitContainers {
		c, m := one(&pod.Spec.InitContainers[i])
		milliCPU, memory = max(milliCPU, c), max(memory, m)
	}
	return milliCPU, memory
}

// tableFormatMilliCPU writes an amount of CPU as Kubernetes does: whole cores as "2",
// fractions in millicores ("250m").
func tableFormatMilliCPU(milli int64) string {
	return NewMilliQuantity(milli).String()
}

// tableFormatMi writes an amount of memory in mebibytes, rounded down, as kubectl top does
// ("3934Mi"), so that used and allocatable read in the same unit.
func tableFormatMi(bytes int64) string {
	return strconv.FormatInt(bytes/(1<<20), 10) + "Mi"
}

// tableServiceCells is the row of a Service: kubectl's printService for TYPE, CLUSTER-IP and
// SELECTOR, and minik8s's own PORT(S) (port:targetPort, with :nodePort for a NodePort service)
// and ENDPOINTS (the ready addresses of its Endpoints object, known from tc).
func tableServiceCells(svc *Service, now time.Time, tc *TableContext) []any {
	clusterIP := svc.Spec.ClusterIP
	if len(svc.Spec.ClusterIPs) > 0 {
		clusterIP = svc.Spec.ClusterIPs[0]
	}

	ports := make([]string, len(svc.Spec.Ports))
	for i, p := range svc.Spec.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = ProtocolTCP
		}
		target := p.TargetPort.String()
		if p.TargetPort.IsZero() {
			target = strconv.Itoa(int(p.Port)) // the default: the port itself
		}
		if p.NodePort > 0 {
			ports[i] = fmt.Sprintf("%d:%s:%d/%s", p.Port, target, p.NodePort, proto)
		} else {
			ports[i] = fmt.Sprintf("%d:%s/%s", p.Port, target, proto)
		}
	}

	endpoints := "<unknown>"
	if tc != nil && tc.Endpoints != nil {
		limit := tableEndpointsMax
		if tc.Wide {
			limit = 0
		}
		endpoints = "<none>"
		if ep := tc.Endpoints[svc.Namespace+"/"+svc.Name]; ep != nil {
			endpoints = tableFormatEndpoints(ep, limit)
		}
	}

	return []any{
		svc.Name,
		svc.Spec.Type,
		tableOrNone(clusterIP),
		tableOrNone(strings.Join(ports, ",")),
		endpoints,
		tableAge(svc.CreationTimestamp, now),
		tableFormatLabels(svc.Spec.Selector),
	}
}

// tableEndpointsMax is how many addresses an ENDPOINTS cell shows before " + N more...".
const tableEndpointsMax = 3

// tableFormatEndpoints is kubectl's formatEndpoints: "ip:port" for every ready address and port,
// at most limit of them (all when limit is 0), then " + N more...". It is "<none>" when there
// is no ready address.
func tableFormatEndpoints(ep *Endpoints, limit int) string {
	var list []string
	more := false
	count := 0
	add := func(s string) {
		count++
		if limit > 0 && len(list) == limit {
			more = true
			return
		}
		list = append(list, s)
	}
	for i := range ep.Subsets {
		ss := &ep.Subsets[i]
		if len(ss.Ports) == 0 {
			// Headless services may have addresses without ports.
			for _, a := range ss.Addresses {
				add(a.IP)
			}
			continue
		}
		for _, p := range ss.Ports {
			for _, a := range ss.Addresses {
				add(net.JoinHostPort(a.IP, strconv.Itoa(int(p.Port))))
			}
		}
	}
	if len(list) == 0 {
		return "<none>"
	}
	ret := strings.Join(list, ",")
	if more {
		return fmt.Sprintf("%s + %d more...", ret, count-limit)
	}
	return ret
}

// tableReplicaSetCells is kubectl's printReplicaSet, with DESIRED and CURRENT folded into one
// REPLICAS cell, "current/desired", as the issue asks.
func tableReplicaSetCells(rs *ReplicaSet, now time.Time) []any {
	desired := int64(1)
	if rs.Spec.Replicas != nil {
		desired = int64(*rs.Spec.Replicas)
	}
	containers := rs.Spec.Template.Spec.Containers
	names := make([]string, len(containers))
	images := make([]string, len(containers))
	for i, c := range containers {
		names[i], images[i] = c.Name, c.Image
	}
	selector := "<none>"
	if sel, err := LabelSelectorAsSelector(rs.Spec.Selector); err != nil {
		selector = "<error>"
	} else if s := sel.String(); s != "" {
		selector = s
	}
	return []any{
		rs.Name,
		fmt.Sprintf("%d/%d", rs.Status.Replicas, desired),
		int64(rs.Status.ReadyReplicas),
		tableAge(rs.CreationTimestamp, now),
		strings.Join(names, ","),
		strings.Join(images, ","),
		selector,
	}
}

// tableHPACells is kubectl's printHorizontalPodAutoscaler, with kubectl 1.30's "name: current/target"
// targets.
func tableHPACells(h *HorizontalPodAutoscaler, now time.Time) []any {
	ref := h.Spec.ScaleTargetRef.Kind + "/" + h.Spec.ScaleTargetRef.Name
	minR := int64(1)
	if h.Spec.MinReplicas != nil {
		minR = int64(*h.Spec.MinReplicas)
	}
	return []any{h.Name, ref, FormatHPATargets(h), minR, int64(h.Spec.MaxReplicas), int64(h.Status.CurrentReplicas),
		tableAge(h.CreationTimestamp, now)}
}

// FormatHPATargets writes each metric of an autoscaler as "cpu: 73%/60%" or "memory: 120Mi/500Mi",
// joined by ", ", with <unknown> for a current value not yet measured; "<none>" without metrics.
func FormatHPATargets(h *HorizontalPodAutoscaler) string {
	var parts []string
	for _, m := range h.Spec.Metrics {
		if m.Type != MetricSourceResource || m.Resource == nil {
			continue
		}
		var cur *MetricValueStatus
		for _, c := range h.Status.CurrentMetrics {
			if c.Type == MetricSourceResource && c.Resource != nil && c.Resource.Name == m.Resource.Name {
				cur = &c.Resource.Current
				break
			}
		}
		name := m.Resource.Name
		current, target := "<unknown>", "<unknown>"
		switch t := m.Resource.Target; {
		case t.AverageUtilization != nil:
			target = fmt.Sprintf("%d%%", *t.AverageUtilization)
			if cur != nil && cur.AverageUtilization != nil {
				current = fmt.Sprintf("%d%%", *cur.AverageUtilization)
			}
		case t.AverageValue != nil:
			target = FormatUsage(name, *t.AverageValue)
			if cur != nil && cur.AverageValue != nil {
				current = FormatUsage(name, *cur.AverageValue)
			}
		}
		parts = append(parts, name+": "+current+"/"+target)
	}
	if len(parts) == 0 {
		return "<none>"
	}
	return strings.Join(parts, ", ")
}

// FormatUsage writes an amount of a resource as `top` does: CPU in millicores ("250m"), memory in
// whole mebibytes ("120Mi"), anything else as the quantity prints.
func FormatUsage(resource string, q Quantity) string {
	switch resource {
	case ResourceCPU:
		return fmt.Sprintf("%dm", q.MilliValue())
	case ResourceMemory:
		return tableFormatMi(q.Value())
	}
	return q.String()
}

// tableEventCells is kubectl's printEvent. minik8s events have no eventTime, so an event without
// firstTimestamp is dated by its creationTimestamp.
func tableEventCells(ev *Event, now time.Time) []any {
	first := ev.FirstTimestamp
	if first.IsZero() {
		first = ev.CreationTimestamp
	}
	firstSeen := tableAge(first, now)
	lastSeen := firstSeen
	if !ev.LastTimestamp.IsZero() {
		lastSeen = tableAge(ev.LastTimestamp, now)
	}
	count := int64(ev.Count)
	if count == 0 {
		count = 1
	}
	target := strings.ToLower(ev.InvolvedObject.Kind)
	if ev.InvolvedObject.Name != "" {
		target += "/" + ev.InvolvedObject.Name
	}
	component, instance := ev.Source.Component, ev.Source.Host
	if component == "" {
		component = ev.ReportingComponent
	}
	if instance == "" {
		instance = ev.ReportingInstance
	}
	source := component
	if instance != "" {
		source += ", " + instance
	}
	return []any{
		lastSeen,
		ev.Type,
		ev.Reason,
		target,
		ev.InvolvedObject.FieldPath,
		source,
		strings.TrimSpace(ev.Message),
		firstSeen,
		count,
		ev.Name,
	}
}
