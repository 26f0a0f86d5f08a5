package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/minik8s/minik8s/api"
)

// Manifest is one object read from a manifest file, checked and ready to send to the API.
type Manifest struct {
	// File is the file as the user named it; standard input ("-") is "<stdin>".
	File string
	// Line is the 1-based line where the object starts in File.
	Line int
	// Resource is the kind of the object.
	Resource *api.Resource
	// Object is the object, decoded strictly, defaulted (api.Default) and valid (api.Validate).
	// metadata.namespace stays empty when the manifest does not set it: the caller fills in the
	// namespace of the command line or context.
	Object api.Object
	// JSON is the object as the user wrote it, converted to JSON, without defaults (apply keeps
	// it as the last-applied configuration).
	JSON []byte
}

// ManifestError is one problem with a manifest: where it is (file, line, field) and what it is.
type ManifestError struct {
	File    string // as the user named it, "<stdin>" for standard input; may be empty
	Line    int    // 1-based; 0 when unknown
	Field   string // Kubernetes-style path such as "spec.containers[0].image"; may be empty
	Message string
}

// Error returns "FILE:LINE: FIELD: MESSAGE", leaving out the parts that are empty.
func (e *ManifestError) Error() string {
	var parts []string
	switch {
	case e.File != "" && e.Line > 0:
		parts = append(parts, e.File+":"+strconv.Itoa(e.Line))
	case e.File != "":
		parts = append(parts, e.File)
	case e.Line > 0:
		parts = append(parts, "line "+strconv.Itoa(e.Line))
	}
	if e.Field != "" {
		parts = append(parts, e.Field)
	}
	if e.Message != "" {
		parts = append(parts, e.Message)
	}
	return strings.Join(parts, ": ")
}

// ManifestErrors is every problem found in the manifests of one command, in file order and, within
// a file, in line order.
type ManifestErrors []*ManifestError

// Error returns the problems one per line.
func (l ManifestErrors) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// ReadManifests reads the objects of `apply -f`, `create -f` and `delete -f`. Each path is a
// file, a directory (its *.yaml, *.yml and *.json files in name order, and those of its
// subdirectories when recursive is set) or "-" for stdin. A file may hold several YAML documents
// separated by "---", JSON, or a `kind: List` whose items are the objects; empty documents are
// skipped. Every object must have apiVersion, a known kind and metadata.name (or
// metadata.generateName), decode strictly and pass api.Validate.
//
// It reads everything and checks everything before returning: on any problem it returns no
// manifests and a ManifestErrors with every problem of every document of every file.
func ReadManifests(paths []string, stdin io.Reader, recursive bool) ([]Manifest, error) {
	r := &manifestReader{stdin: stdin, recursive: recursive}
	if len(paths) == 0 {
		r.errs = append(r.errs, &ManifestError{Message: "no manifest files given"})
	}
	for _, p := range paths {
		r.readPath(p)
	}
	if len(r.errs) > 0 {
		return nil, r.errs
	}
	return r.manifests, nil
}

const (
	stdinFileName = "<stdin>"
	// maxListDepth bounds nested `kind: List` documents.
	maxListDepth = 8
	// maxValues bounds the values of one document once aliases are expanded ("billion laughs").
	maxValues = 1 << 20
)

type manifestReader struct {
	stdin     io.Reader
	stdinRead bool
	recursive bool
	manifests []Manifest
	errs      ManifestErrors
}

func (r *manifestReader) fail(file string, line int, field, format string, args ...any) {
	r.errs = append(r.errs, &ManifestError{File: file, Line: line, Field: field, Message: fmt.Sprintf(format, args...)})
}

func (r *manifestReader) readPath(p string) {
	if p == "-" {
		switch {
		case r.stdin == nil:
			r.fail(stdinFileName, 0, "", "no standard input to read")
		case r.stdinRead:
			r.fail(stdinFileName, 0, "", "standard input can be read only once")
		default:
			r.stdinRead = true
			data, err := io.ReadAll(r.stdin)
			if err != nil {
				r.fail(stdinFileName, 0, "", "%v", err)
				return
			}
			r.readData(stdinFileName, data)
		}
		return
	}
	if p == "" {
		r.fail("", 0, "", "empty file name")
		return
	}
	fi, err := os.Stat(p)
	if err != nil {
		r.fail(p, 0, "", "%s", osMessage(err))
		return
	}
	if fi.IsDir() {
		if n, subdirs := r.readDir(p); n == 0 {
			msg := "no manifest files (*.yaml, *.yml, *.json) found in directory"
			if subdirs && !r.recursive {
				msg += "; use --recursive (-R) to read its subdirectories"
			}
			r.fail(p, 0, "", "%s", msg)
		}
		return
	}
	r.readFile(p)
}

// readDir reads the manifest files of dir in name order, descending into subdirectories in place
// when recursive. It returns how many files it read and whether it skipped subdirectories.
func (r *manifestReader) readDir(dir string) (files int, subdirs bool) {
	entries, err := os.ReadDir(dir) // sorted by name
	if err != nil {
		r.fail(dir, 0, "", "%s", osMessage(err))
		return 1, false // reported; not "no files"
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		isDir := e.IsDir()
		if e.Type()&fs.ModeSymlink != 0 {
			// Follow links to files; links to directories are not followed (no loops), as
			// filepath.WalkDir does.
			fi, err := os.Stat(p)
			if err != nil || fi.IsDir() {
				continue
			}
			isDir = false
		}
		if isDir {
			subdirs = true
			if r.recursive {
				n, _ := r.readDir(p)
				files += n
			}
			continue
		}
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".yaml", ".yml", ".json":
			r.readFile(p)
			files++
		}
	}
	return files, subdirs
}

func (r *manifestReader) readFile(p string) {
	data, err := os.ReadFile(p)
	if err != nil {
		r.fail(p, 0, "", "%s", osMessage(err))
		return
	}
	r.readData(p, data)
}

// osMessage drops the operation and path from an os error: the file is named already.
func osMessage(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// readData reads every document of one file.
func (r *manifestReader) readData(file string, data []byte) {
	nManifests, nErrs := len(r.manifests), len(r.errs)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if err == io.EOF {
			break
		}
		if err != nil {
			line, msg := syntaxErrorLine(data, err)
			r.fail(file, line, "", "%s", msg)
			break
		}
		if len(doc.Content) == 0 {
			continue
		}
		root := doc.Content[0]
		if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
			continue // an empty document, or one that is only comments
		}
		r.readObject(file, root, 0)
	}
	if len(r.manifests) == nManifests && len(r.errs) == nErrs {
		r.fail(file, 0, "", "no objects found")
	}
}

// readObject checks one object (a document or an item of a List) and adds it to the manifests or
// its problems to the errors.
func (r *manifestReader) readObject(file string, root *yaml.Node, depth int) {
	if root.Kind != yaml.MappingNode {
		r.fail(file, root.Line, "", "expected an object with apiVersion and kind, got %s", describeYAML(root))
		return
	}
	conv := &yamlConverter{file: file, active: map[*yaml.Node]bool{}}
	value, _ := conv.convert(root, "").(map[string]any)
	var errs []*api.FieldError
	report := func(more ...*ManifestError) {
		all := append(conv.errs, fieldErrors(file, root, errs)...)
		all = append(all, more...)
		sort.SliceStable(all, func(i, j int) bool { return all[i].Line < all[j].Line })
		r.errs = append(r.errs, all...)
	}
	if conv.tooLarge {
		report()
		return
	}

	apiVersion, ok1 := requiredString(value, "apiVersion", &errs)
	kind, ok2 := requiredString(value, "kind", &errs)
	if !ok1 || !ok2 {
		report()
		return
	}
	if kind == "List" {
		items := r.listItems(root, value, depth, &errs)
		report()
		for _, item := range items {
			r.readObject(file, item, depth+1)
		}
		return
	}
	res := api.LookupKind(apiVersion, kind)
	if res == nil {
		report(&ManifestError{File: file, Line: lineOf(root, "kind"),
			Message: fmt.Sprintf("no kind %q is known in apiVersion %q; known kinds: %s", kind, apiVersion, knownKindsList())})
		return
	}
	if meta, ok := value["metadata"].(map[string]any); ok || value["metadata"] == nil {
		if isEmptyString(meta["name"]) && isEmptyString(meta["generateName"]) {
			errs = append(errs, api.Required("metadata.name", "name or generateName is required"))
		}
	}

	data, err := manifestJSON(value)
	if err != nil { // cannot happen: the converter makes only JSON values
		errs = append(errs, &api.FieldError{Type: api.FieldValueInvalid, Detail: err.Error()})
		report()
		return
	}
	obj, decodeErrs := decodeObject(res, data)
	errs = append(errs, decodeErrs...)
	if obj != nil {
		api.Default(obj)
		for _, fe := range api.Validate(obj) {
			if fe.Type == api.FieldValueRequired && fe.Field == "metadata.namespace" {
				continue // the namespace comes from the command line when the manifest has none
			}
			if underAny(fe.Field, decodeErrs, conv.errs) {
				continue // its value was dropped as unreadable, and that is reported
			}
			errs = append(errs, fe)
		}
	}
	if len(errs) > 0 || len(conv.errs) > 0 {
		report()
		return
	}
	r.manifests = append(r.manifests, Manifest{File: file, Line: root.Line, Resource: res, Object: obj, JSON: data})
}

// listItems checks the fields of a `kind: List` document and returns its items.
func (r *manifestReader) listItems(root *yaml.Node, value map[string]any, depth int, errs *[]*api.FieldError) []*yaml.Node {
	for _, k := range slices.Sorted(maps.Keys(value)) {
		switch k {
		case "apiVersion", "kind", "metadata", "items":
		default:
			*errs = append(*errs, &api.FieldError{Type: api.FieldValueUnknown, Field: k, Detail: fmt.Sprintf("List has no field %q", k)})
		}
	}
	_, items := yamlFindKey(root, "items", 0)
	if items == nil {
		return nil
	}
	items = yamlResolve(items)
	switch {
	case items.Kind == yaml.ScalarNode && items.ShortTag() == "!!null":
		return nil
	case items.Kind != yaml.SequenceNode:
		*errs = append(*errs, &api.FieldError{Type: api.FieldValueTypeInvalid, Field: "items", Detail: "expected a list, got " + describeYAML(items)})
		return nil
	case depth >= maxListDepth:
		*errs = append(*errs, &api.FieldError{Type: api.FieldValueInvalid, Field: "items", Detail: "Lists are nested too deeply"})
		return nil
	}
	var out []*yaml.Node
	for _, item := range items.Content {
		if item = yamlResolve(item); item.Kind == yaml.ScalarNode && item.ShortTag() == "!!null" {
			continue
		}
		out = append(out, item)
	}
	return out
}

// decodeObject decodes data strictly into a new object of the kind. When strict decoding fails it
// decodes again without the fields it refused, so that validation can still report the other
// problems; the object is nil when even that fails.
func decodeObject(res *api.Resource, data []byte) (api.Object, []*api.FieldError) {
	obj := res.New()
	err := api.DecodeStrict(data, obj)
	if err == nil {
		return obj, nil
	}
	var list api.ErrorList
	if !errors.As(err, &list) {
		return nil, []*api.FieldError{{Type: api.FieldValueInvalid, Detail: err.Error()}}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var generic any
	if dec.Decode(&generic) != nil {
		return nil, list
	}
	for _, fe := range list {
		if fe.Field == "" {
			return nil, list
		}
		pruneField(generic, parseFieldPath(fe.Field))
	}
	pruned, err := manifestJSON(generic)
	if err != nil {
		return nil, list
	}
	obj = res.New()
	if api.DecodeStrict(pruned, obj) != nil {
		return nil, list
	}
	return obj, list
}

// underAny reports whether field is one of the fields of the errors or inside one.
func underAny(field string, decodeErrs []*api.FieldError, convErrs ManifestErrors) bool {
	under := func(parent string) bool {
		return parent != "" && (field == parent || strings.HasPrefix(field, parent+".") || strings.HasPrefix(field, parent+"["))
	}
	for _, fe := range decodeErrs {
		if under(fe.Field) {
			return true
		}
	}
	for _, me := range convErrs {
		if under(me.Field) {
			return true
		}
	}
	return false
}

// fieldErrors turns the field errors of one object into ManifestErrors with lines, without
// repeats.
func fieldErrors(file string, root *yaml.Node, errs []*api.FieldError) ManifestErrors {
	out := make(ManifestErrors, 0, len(errs))
	seen := map[string]bool{}
	for _, fe := range errs {
		msg := *fe
		msg.Field = ""
		text := msg.Error()
		if fe.Field == "" && fe.Type == api.FieldValueInvalid && fe.Value == nil && fe.Detail != "" {
			text = fe.Detail // a problem of the whole object: "Invalid value: null" would mislead
		}
		me := &ManifestError{File: file, Line: fieldLine(root, fe), Field: fe.Field, Message: text}
		if key := me.Error(); !seen[key] {
			seen[key] = true
			out = append(out, me)
		}
	}
	return out
}

// fieldLine is the line to report a field error at: the key's line for a field the kind does not
// have, the value's line otherwise.
func fieldLine(root *yaml.Node, fe *api.FieldError) int {
	keyLine, valueLine, _ := locateField(root, fe.Field)
	if fe.Type == api.FieldValueUnknown {
		return keyLine
	}
	return valueLine
}

// requiredString reads a required top-level string such as apiVersion or kind.
func requiredString(value map[string]any, name string, errs *[]*api.FieldError) (string, bool) {
	v, ok := value[name]
	if !ok || v == nil || v == "" {
		*errs = append(*errs, api.Required(name, ""))
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		*errs = append(*errs, &api.FieldError{Type: api.FieldValueTypeInvalid, Field: name, Value: v,
			Detail: fmt.Sprintf("expected a string, got %v", v)})
		return "", false
	}
	return s, true
}

func isEmptyString(v any) bool {
	return v == nil || v == ""
}

func knownKindsList() string {
	rs := slices.Clone(api.Resources())
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].Kind < rs[j].Kind })
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = fmt.Sprintf("%s (%s)", r.Kind, r.APIVersion())
	}
	return strings.Join(names, ", ")
}

func manifestJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: (?:line (\d+): )?`)

// syntaxErrorLine returns the line and message of a YAML syntax error. yaml.v3 reports scanner
// errors at their line but parser errors at the 0-based line of the construct that encloses them,
// so the line is found again: it is the shortest prefix of the input, in whole lines, that fails
// with the same message.
func syntaxErrorLine(data []byte, err error) (int, string) {
	s := err.Error()
	m := yamlLineRE.FindStringSubmatch(s)
	if m == nil {
		return 0, s
	}
	msg := s[len(m[0]):]
	reported, _ := strconv.Atoi(m[1])
	lines := bytes.SplitAfter(data, []byte("\n"))
	failsAt := func(n int) bool { // the first n lines fail with msg
		dec := yaml.NewDecoder(bytes.NewReader(bytes.Join(lines[:n], nil)))
		for {
			var doc yaml.Node
			err := dec.Decode(&doc)
			if err == io.EOF {
				return false
			}
			if err != nil {
				m := yamlLineRE.FindStringSubmatch(err.Error())
				return m != nil && err.Error()[len(m[0]):] == msg
			}
		}
	}
	lo, hi := max(reported, 1), len(lines) // the construct starts at or after reported
	if lo > hi || !failsAt(hi) {
		return reported, msg
	}
	for lo < hi {
		mid := (lo + hi) / 2
		if failsAt(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, msg
}

// yamlConverter turns a YAML node into the value encoding/json would make of the same JSON: maps
// with string keys, lists, strings, numbers, booleans and nil. It resolves aliases and merge keys
// (<<) and reports what JSON cannot hold.
type yamlConverter struct {
	file     string
	errs     ManifestErrors
	active   map[*yaml.Node]bool // nodes being converted, to catch an alias inside its own anchor
	values   int
	tooLarge bool
}

func (c *yamlConverter) fail(line int, field, format string, args ...any) {
	c.errs = append(c.errs, &ManifestError{File: c.file, Line: line, Field: field, Message: fmt.Sprintf(format, args...)})
}

func (c *yamlConverter) convert(n *yaml.Node, path string) any {
	if c.tooLarge {
		return nil
	}
	if c.values++; c.values > maxValues {
		c.tooLarge = true
		c.fail(n.Line, path, "too many values (more than %d once aliases are expanded)", maxValues)
		return nil
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			c.fail(n.Line, path, "unknown alias *%s", n.Value)
			return nil
		}
		if c.active[n.Alias] {
			c.fail(n.Line, path, "alias *%s refers to the value it is in", n.Value)
			return nil
		}
		return c.convert(n.Alias, path)
	}
	c.active[n] = true
	defer delete(c.active, n)
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return c.convert(n.Content[0], path)
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, e := range n.Content {
			out[i] = c.convert(e, fmt.Sprintf("%s[%d]", path, i))
		}
		return out
	case yaml.MappingNode:
		out := map[string]any{}
		c.mapping(n, path, out)
		return out
	case yaml.ScalarNode:
		return c.scalar(n, path)
	}
	return nil
}

// mapping adds the pairs of n to out. Keys set explicitly win over merged ones, and earlier
// merged maps over later ones, as YAML says.
func (c *yamlConverter) mapping(n *yaml.Node, path string, out map[string]any) {
	var merges []*yaml.Node
	seen := map[string]int{} // key -> line
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		rk := yamlResolve(k)
		if rk.Kind != yaml.ScalarNode || rk.ShortTag() == "!!null" {
			c.fail(k.Line, path, "map keys must be strings, got %s", describeYAML(rk))
			continue
		}
		key := rk.Value
		child := convPath(path, key)
		if _, dup := seen[key]; dup {
			c.fail(k.Line, child, "duplicate key: already set at line %d", seen[key])
			continue
		}
		seen[key] = k.Line
		out[key] = c.convert(v, child)
	}
	for _, m := range merges {
		m = yamlResolve(m)
		srcs := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			srcs = m.Content
		}
		for _, src := range srcs {
			src = yamlResolve(src)
			if src.Kind != yaml.MappingNode {
				c.fail(src.Line, path, "a merge (<<) needs a map or a list of maps, got %s", describeYAML(src))
				continue
			}
			if c.active[src] {
				c.fail(src.Line, path, "a merge (<<) refers to the map it is in")
				continue
			}
			merged := map[string]any{}
			c.active[src] = true
			c.mapping(src, path, merged)
			delete(c.active, src)
			for k, v := range merged {
				if _, ok := out[k]; !ok {
					out[k] = v
				}
			}
		}
	}
}

func (c *yamlConverter) scalar(n *yaml.Node, path string) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool", "!!int", "!!float":
		var v any
		if err := n.Decode(&v); err != nil {
			c.fail(n.Line, path, "cannot read %q as %s", n.Value, n.ShortTag())
			return nil
		}
		if f, ok := v.(float64); ok && (math.IsInf(f, 0) || math.IsNaN(f)) {
			c.fail(n.Line, path, "%s cannot be represented in JSON", n.Value)
			return nil
		}
		return v
	}
	// !!str, !!timestamp (kept as written, as Kubernetes does), !!binary (base64 text, which is
	// what []byte fields read) and custom tags.
	return n.Value
}

var plainKeyRE = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$-]*$`)

func convPath(path, key string) string {
	if !plainKeyRE.MatchString(key) {
		return path + "[" + key + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func describeYAML(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "an object"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!bool":
			return n.Value
		}
		return strconv.Quote(n.Value)
	}
	return "nothing"
}

// yamlResolve follows aliases to the node they name.
func yamlResolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// pathSeg is one step of a field path: a name ("spec"), or a bracket ("[0]", "[app]").
type pathSeg struct {
	key     string
	index   int
	isIndex bool // key is a number, which can index a list
}

// parseFieldPath splits a Kubernetes field path: "spec.containers[0].image",
// "metadata.labels[app.kubernetes.io/name]". A bracket runs to the "]" that is followed by ".",
// "[" or the end, so keys may hold dots and slashes.
func parseFieldPath(field string) []pathSeg {
	var segs []pathSeg
	for i := 0; i < len(field); {
		switch field[i] {
		case '.':
			i++
		case '[':
			end := -1
			for j := i + 1; j < len(field); j++ {
				if field[j] == ']' && (j+1 == len(field) || field[j+1] == '.' || field[j+1] == '[') {
					end = j
					break
				}
			}
			if end < 0 {
				end = len(field)
			}
			key := field[i+1 : end]
			seg := pathSeg{key: key}
			if n, err := strconv.Atoi(key); err == nil && n >= 0 {
				seg.index, seg.isIndex = n, true
			}
			segs = append(segs, seg)
			i = end + 1
		default:
			j := i
			for j < len(field) && field[j] != '.' && field[j] != '[' {
				j++
			}
			segs = append(segs, pathSeg{key: field[i:j]})
			i = j
		}
	}
	return segs
}

// lineOf returns the line of a field of a document, given by its Kubernetes path
// ("spec.containers[0].image", "metadata.labels[app.kubernetes.io/name]"): the line of its value
// (of its key when the value is an object or a list, which starts there, or is empty). When the
// path cannot be followed to the end, as for a missing required field, it returns the line of the
// deepest field it reached: the key of the parent object, or the list item. It falls back to the
// document's line.
func lineOf(doc *yaml.Node, field string) int {
	_, valueLine, _ := locateField(doc, field)
	return valueLine
}

// locateField follows field through doc and returns the line of the field's key and of its value, and
// whether it got all the way. When it did not, both lines are those of the deepest field reached.
func locateField(doc *yaml.Node, field string) (keyLine, valueLine int, found bool) {
	if doc == nil {
		return 0, 0, false
	}
	n := doc
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return n.Line, n.Line, field == ""
		}
		n = n.Content[0]
	}
	line := n.Line
	for _, seg := range parseFieldPath(field) {
		r := yamlResolve(n)
		switch {
		case r.Kind == yaml.MappingNode:
			k, v := yamlFindKey(r, seg.key, 0)
			if k == nil {
				return line, line, false
			}
			line, n = k.Line, v
		case r.Kind == yaml.SequenceNode && seg.isIndex && seg.index < len(r.Content):
			n = r.Content[seg.index]
			line = n.Line
		default:
			return line, line, false
		}
	}
	switch r := yamlResolve(n); {
	case r.Kind == yaml.MappingNode || r.Kind == yaml.SequenceNode:
		return line, line, true
	case r.Kind == yaml.ScalarNode && r.ShortTag() == "!!null" && r.Value == "":
		return line, line, true // "image:" with nothing after it
	}
	return line, n.Line, true
}

// yamlFindKey finds key in a mapping, then in what it merges (<<).
func yamlFindKey(m *yaml.Node, key string, depth int) (k, v *yaml.Node) {
	if depth > 16 {
		return nil, nil
	}
	var merges []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		kn := m.Content[i]
		if kn.Kind == yaml.ScalarNode && kn.ShortTag() == "!!merge" {
			merges = append(merges, m.Content[i+1])
			continue
		}
		if rk := yamlResolve(kn); rk.Kind == yaml.ScalarNode && rk.Value == key {
			return kn, m.Content[i+1]
		}
	}
	for _, mv := range merges {
		mv = yamlResolve(mv)
		srcs := []*yaml.Node{mv}
		if mv.Kind == yaml.SequenceNode {
			srcs = mv.Content
		}
		for _, src := range srcs {
			if src = yamlResolve(src); src.Kind == yaml.MappingNode {
				if k, v := yamlFindKey(src, key, depth+1); k != nil {
					return k, v
				}
			}
		}
	}
	return nil, nil
}

// prune removes the value at path from a generic JSON value; a list item becomes null, so that
// the indexes of the others stay.
func pruneField(v any, path []pathSeg) {
	for i, seg := range path {
		last := i == len(path)-1
		switch x := v.(type) {
		case map[string]any:
			if last {
				delete(x, seg.key)
				return
			}
			v = x[seg.key]
		case []any:
			if !seg.isIndex || seg.index >= len(x) {
				return
			}
			if last {
				x[seg.index] = nil
				return
			}
			v = x[seg.index]
		default:
			return
		}
	}
}
