package tui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"sigs.k8s.io/yaml"

	"github.com/minik8s/minik8s/api"
)

// delete deletes obj, of kind res; the table drops its row when the watch says it is gone.
func (m *Model) delete(res *api.Resource, obj api.Object) tea.Cmd {
	if obj == nil || m.opts.ReadOnly {
		return nil
	}
	ctx, src, meta := m.ctx, m.opts.Source, obj.GetObjectMeta()
	what := m.describeName(res, obj)
	m.flash = "deleting " + what + "…"
	return func() tea.Msg {
		return actionMsg{verb: "delete", done: "deleted", what: what, err: src.Delete(ctx, res, meta.Namespace, meta.Name)}
	}
}

func isReplicaSet(res *api.Resource) bool {
	return res.Group == api.GroupApps && res.Kind == "ReplicaSet"
}

// startScale opens the scale dialog for the selected ReplicaSet, with its replicas to edit.
func (m *Model) startScale() {
	obj := m.Selected()
	switch {
	case m.opts.ReadOnly:
		m.flash = "read-only: scale is disabled"
	case !isReplicaSet(m.cur.res):
		m.flash = "s scales ReplicaSets (:rs); " + m.cur.res.Name + " cannot be scaled"
	case obj != nil:
		rs := obj.(*api.ReplicaSet)
		n := int32(1)
		if rs.Spec.Replicas != nil {
			n = *rs.Spec.Replicas
		}
		m.mode, m.target, m.tres, m.input = modeScale, obj, m.cur.res, strconv.Itoa(int(n))
	}
}

func (m *Model) scaleKey(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	switch k.Type {
	case tea.KeyEsc:
		m.mode, m.flash = modeTable, "scale cancelled"
	case tea.KeyEnter:
		n, err := strconv.ParseInt(m.input, 10, 32)
		if err != nil || n < 0 {
			m.flash = fmt.Sprintf("replicas must be a whole number, 0 or more, not %q", m.input)
			return m, nil
		}
		m.mode = modeTable
		return m, m.scale(m.target, int32(n))
	case tea.KeyBackspace:
		if len(m.input) > 0 {
			m.input = m.input[:len(m.input)-1]
		}
	case tea.KeyRunes:
		for _, r := range k.Runes {
			if r >= '0' && r <= '9' && len(m.input) < 6 {
				m.input += string(r)
			}
		}
	}
	return m, nil
}

// scale sets a ReplicaSet's spec.replicas with a merge patch, as `minik8s scale` does.
func (m *Model) scale(obj api.Object, n int32) tea.Cmd {
	if obj == nil || m.opts.ReadOnly {
		return nil
	}
	ctx, src, res, meta := m.ctx, m.opts.Source, m.tres, obj.GetObjectMeta()
	what := fmt.Sprintf("%s to %d", m.describeName(res, obj), n)
	m.flash = "scaling " + what + "…"
	patch := fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, n)
	return func() tea.Msg {
		return actionMsg{verb: "scale", done: "scaled", what: what, err: src.Patch(ctx, res, meta.Namespace, meta.Name, patch)}
	}
}

// drillable reports whether enter opens something from a row of res.
func drillable(res *api.Resource) bool {
	switch res.Kind {
	case "ReplicaSet", "Node", "Service", "Namespace", "Pod", "HorizontalPodAutoscaler", "Event", "Endpoints":
		return true
	}
	return false
}

// drill opens what the selected object leads to: a ReplicaSet's or a Service's Pods (by its
// selector; a Service without one opens its Endpoints), an Endpoints' Service, a Node's Pods
// (spec.nodeName), a Namespace's Pods, an autoscaler's ReplicaSet, an Event's object, a
// Pod's logs.
func (m *Model) drill() tea.Cmd {
	obj := m.Selected()
	if obj == nil {
		return nil
	}
	pods := api.LookupResource("pods")
	via := m.cur.res.Singular + "/" + obj.GetObjectMeta().Name
	meta := obj.GetObjectMeta()
	switch o := obj.(type) {
	case *api.Pod:
		return m.openLogs()
	case *api.ReplicaSet:
		sel, err := api.LabelSelectorAsSelector(o.Spec.Selector)
		if err != nil {
			m.flash = "bad selector: " + err.Error()
			return nil
		}
		return m.switchTo(view{res: pods, ns: meta.Namespace, selector: sel.String(), via: via})
	case *api.Service:
		if len(o.Spec.Selector) == 0 {
			return m.switchTo(view{res: api.LookupResource("endpoints"), ns: meta.Namespace, fields: "metadata.name=" + meta.Name, via: via})
		}
		return m.switchTo(view{res: pods, ns: meta.Namespace, selector: api.SelectorFromSet(o.Spec.Selector).String(), via: via})
	case *api.Endpoints:
		return m.switchTo(view{res: api.LookupResource("services"), ns: meta.Namespace, fields: "metadata.name=" + meta.Name, via: via})
	case *api.Node:
		return m.switchTo(view{res: pods, fields: "spec.nodeName=" + meta.Name, via: via})
	case *api.Namespace:
		return m.switchTo(view{res: pods, ns: meta.Name, via: via})
	case *api.HorizontalPodAutoscaler:
		ref := o.Spec.ScaleTargetRef
		res := api.LookupResource(ref.Kind)
		if res == nil {
			m.flash = "unknown scale target kind " + ref.Kind
			return nil
		}
		return m.switchTo(view{res: res, ns: meta.Namespace, fields: "metadata.name=" + ref.Name, via: via})
	case *api.Event:
		ref := o.InvolvedObject
		res := api.LookupResource(ref.Kind)
		if res == nil {
			m.flash = "unknown kind " + ref.Kind
			return nil
		}
		ns := ref.Namespace
		if ns == "" {
			ns = meta.Namespace
		}
		return m.switchTo(view{res: res, ns: ns, fields: "metadata.name=" + ref.Name, via: via})
	}
	m.flash = "enter opens nothing from " + m.cur.res.Name
	return nil
}

// An edit writes the object's YAML to a file, runs the editor on it with the terminal handed
// over (tea.ExecProcess), and sends what was saved back as an update with the resourceVersion it
// had. If the API (or the decoding) refuses it, the text is kept, and the next `e` on the same
// object opens it again with the error on top, as `kubectl edit` does.

// pendingEdit is an edit the API refused, kept for another try.
type pendingEdit struct {
	text []byte
	err  error
	// base is the object as the first editor session showed it: the edit is sent as the
	// difference from it, so that it applies whatever changed since.
	base []byte
}

type editedMsg struct {
	res      *api.Resource
	key      string
	what     string
	ns, name string
	path     string
	original []byte // the text the editor started with, comments removed
	base     []byte // the object as first shown, which the edit is a change of
	err      error
}

type editAppliedMsg struct {
	key, what string
	text      []byte
	base      []byte
	err       error
}

const editHelp = `# Please edit the object below. Lines beginning with a '#' will be ignored,
# and an empty file will abort the edit. If an error occurs while saving, the
# next 'e' on this object reopens the file with the error.
`

func (m *Model) edit() tea.Cmd {
	obj := m.Selected()
	switch {
	case m.opts.ReadOnly:
		m.flash = "read-only: edit is disabled"
		return nil
	case obj == nil:
		return nil
	}
	res, key := m.cur.res, m.cur.res.Name+"/"+objectKey(obj)
	what := m.describeName(res, obj)
	var body, base []byte
	header := editHelp
	if p, ok := m.edits[key]; ok {
		body, base = p.text, p.base
		header += "#\n# The last save was refused:\n"
		for _, l := range strings.Split(strings.TrimSpace(p.err.Error()), "\n") {
			header += "# " + l + "\n"
		}
	} else {
		b, err := yaml.Marshal(obj)
		if err != nil {
			m.flash = "edit: " + err.Error()
			return nil
		}
		if tm := obj.GetTypeMeta(); tm.Kind == "" {
			b = append([]byte("apiVersion: "+res.APIVersion()+"\nkind: "+res.Kind+"\n"), b...)
		}
		body = b
		base = stripComments(b)
	}
	f, err := os.CreateTemp("", "minik8s-edit-*.yaml")
	if err == nil {
		_, err = f.Write(append([]byte(header+"#\n"), body...))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		m.flash = "edit: write a temporary file: " + err.Error()
		return nil
	}
	// The editor runs through the shell, as kubectl runs it: $EDITOR may hold arguments.
	editor := strings.TrimSpace(m.opts.Editor)
	if editor == "" {
		editor = "vi"
	}
	cmd := exec.Command("sh", "-c", editor+` "$1"`, "sh", f.Name())
	path, original, meta := f.Name(), stripComments(body), obj.GetObjectMeta()
	return m.opts.Exec(cmd, func(err error) tea.Msg {
		return editedMsg{res: res, key: key, what: what, ns: meta.Namespace, name: meta.Name, path: path, original: original, base: base, err: err}
	})
}

// stripComments drops the lines that begin with '#'.
func stripComments(b []byte) []byte {
	var out [][]byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(l), []byte("#")) {
			out = append(out, l)
		}
	}
	return bytes.Join(out, []byte("\n"))
}

// edited reads what the editor saved and sends it as an update.
func (m *Model) edited(msg editedMsg) tea.Cmd {
	data, rerr := os.ReadFile(msg.path)
	_ = os.Remove(msg.path)
	switch {
	case msg.err != nil:
		m.flash = fmt.Sprintf("edit %s: the editor failed: %v", msg.what, msg.err)
		return nil
	case rerr != nil:
		m.flash = fmt.Sprintf("edit %s: %v", msg.what, rerr)
		return nil
	}
	text := stripComments(data)
	switch {
	case len(bytes.TrimSpace(text)) == 0:
		delete(m.edits, msg.key)
		m.flash = "edit cancelled: the file is empty"
		return nil
	case bytes.Equal(bytes.TrimSpace(text), bytes.TrimSpace(msg.original)):
		delete(m.edits, msg.key)
		m.flash = "edit cancelled: no changes"
		return nil
	}
	if _, err := decodeEdited(msg.res, text, msg.ns, msg.name); err != nil {
		m.edits[msg.key] = pendingEdit{text: text, err: err, base: msg.base}
		m.flash = fmt.Sprintf("edit %s refused: %v (e reopens your text)", msg.what, oneLine(err))
		return nil
	}
	patch, err := editPatch(msg.base, text)
	if err != nil {
		m.edits[msg.key] = pendingEdit{text: text, err: err, base: msg.base}
		m.flash = fmt.Sprintf("edit %s refused: %v (e reopens your text)", msg.what, oneLine(err))
		return nil
	}
	if patch == nil {
		delete(m.edits, msg.key)
		m.flash = "edit cancelled: no changes"
		return nil
	}
	if m.opts.ReadOnly {
		return nil
	}
	ctx, src, res, key, what, base, ns, name := m.ctx, m.opts.Source, msg.res, msg.key, msg.what, msg.base, msg.ns, msg.name
	m.flash = "saving " + what + "…"
	return func() tea.Msg {
		err := src.Patch(ctx, res, ns, name, patch)
		return editAppliedMsg{key: key, what: what, text: text, base: base, err: err}
	}
}

func (m *Model) editApplied(msg editAppliedMsg) {
	if msg.err != nil {
		m.edits[msg.key] = pendingEdit{text: msg.text, err: msg.err, base: msg.base}
		m.flash = fmt.Sprintf("edit %s refused: %v (e reopens your text)", msg.what, oneLine(msg.err))
		return
	}
	delete(m.edits, msg.key)
	m.flash = "edited " + msg.what
}

// decodeEdited decodes an edited manifest strictly, as `apply` does, and checks that it is
// still the object that was opened: kind res, namespace ns, name name.
func decodeEdited(res *api.Resource, text []byte, ns, name string) (api.Object, error) {
	j, err := yaml.YAMLToJSON(text)
	if err != nil {
		return nil, fmt.Errorf("not valid YAML: %w", err)
	}
	obj := res.New()
	if err := api.DecodeStrict(j, obj); err != nil {
		return nil, err
	}
	tm := obj.GetTypeMeta()
	if tm.Kind != res.Kind || tm.APIVersion != res.APIVersion() {
		return nil, fmt.Errorf("apiVersion and kind must stay %s %s, not %q %q", res.APIVersion(), res.Kind, tm.APIVersion, tm.Kind)
	}
	meta := obj.GetObjectMeta()
	if meta.Namespace == "" {
		meta.Namespace = ns
	}
	if meta.Name != name || meta.Namespace != ns {
		return nil, fmt.Errorf("metadata.name and metadata.namespace cannot change in an edit (still %s, in %q)", name, ns)
	}
	return obj, nil
}

// editPatch is the JSON merge patch from base to edited (both YAML), as kubectl edit sends it:
// only what the user changed, so that it applies on top of whatever changed meanwhile (a status
// written by a controller, a heartbeat). The status and the fields the server owns
// (resourceVersion, uid, creationTimestamp, generation) are left out. nil means no change.
func editPatch(base, edited []byte) ([]byte, error) {
	read := func(b []byte) (map[string]any, error) {
		j, err := yaml.YAMLToJSON(b)
		if err != nil {
			return nil, fmt.Errorf("not valid YAML: %w", err)
		}
		m := map[string]any{}
		if err := json.Unmarshal(j, &m); err != nil {
			return nil, fmt.Errorf("not an object: %w", err)
		}
		delete(m, "status")
		if meta, ok := m["metadata"].(map[string]any); ok {
			for _, k := range []string{"resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"} {
				delete(meta, k)
			}
		}
		return m, nil
	}
	b, err := read(base)
	if err != nil {
		return nil, err
	}
	e, err := read(edited)
	if err != nil {
		return nil, err
	}
	p := mergeDiff(b, e)
	if len(p) == 0 {
		return nil, nil
	}
	return json.Marshal(p)
}

// mergeDiff is the RFC 7386 merge patch that turns a into b: removed keys as null, nested
// objects as their own differences, anything else (lists included) whole.
func mergeDiff(a, b map[string]any) map[string]any {
	p := map[string]any{}
	for k := range a {
		if _, ok := b[k]; !ok {
			p[k] = nil
		}
	}
	for k, bv := range b {
		av, ok := a[k]
		if !ok {
			p[k] = bv
			continue
		}
		am, aok := av.(map[string]any)
		bm, bok := bv.(map[string]any)
		if aok && bok {
			if sub := mergeDiff(am, bm); len(sub) > 0 {
				p[k] = sub
			}
			continue
		}
		if !reflect.DeepEqual(av, bv) {
			p[k] = bv
		}
	}
	return p
}

// oneLine joins a multi-line error for the footer.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
}
