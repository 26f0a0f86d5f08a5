package cli

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/minik8s/minik8s/api"
)

// manifestAt is what a test expects of one manifest.
type manifestAt struct {
	File string
	Line int
	Kind string
	Name string
}

func manifestsAt(ms []Manifest) []manifestAt {
	out := make([]manifestAt, len(ms))
	for i, m := range ms {
		out[i] = manifestAt{m.File, m.Line, m.Resource.Kind, m.Object.GetObjectMeta().Name}
	}
	return out
}

func TestReadManifestsValid(t *testing.T) {
	const td = "testdata/manifests"
	tests := []struct {
		name      string
		paths     []string
		stdin     string
		recursive bool
		want      []manifestAt
	}{
		{
			name:  "multi-document file",
			paths: []string{td + "/all.yaml"},
			want: []manifestAt{
				{td + "/all.yaml", 2, "Namespace", "demo"},
				{td + "/all.yaml", 7, "Pod", "web"},
				{td + "/all.yaml", 23, "Service", "web"},
			},
		},
		{
			name:  "directory",
			paths: []string{td + "/dir"},
			want: []manifestAt{
				{td + "/dir/01-namespace.yaml", 1, "Namespace", "demo"},
				{td + "/dir/02-pod.yml", 1, "Pod", "web"},
			},
		},
		{
			name:      "directory, recursive",
			paths:     []string{td + "/dir/"},
			recursive: true,
			want: []manifestAt{
				{td + "/dir/01-namespace.yaml", 1, "Namespace", "demo"},
				{td + "/dir/02-pod.yml", 1, "Pod", "web"},
				{td + "/dir/sub/rs.json", 1, "ReplicaSet", "web"},
			},
		},
		{
			name:  "list",
			paths: []string{td + "/list.yaml"},
			want: []manifestAt{
				{td + "/list.yaml", 4, "Namespace", "demo"},
				{td + "/list.yaml", 8, "Pod", "web"},
			},
		},
		{
			name:  "stdin between files",
			paths: []string{td + "/dir/01-namespace.yaml", "-", td + "/dir/02-pod.yml"},
			stdin: "\n\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: demo}\nstringData: {a: b}\n",
			want: []manifestAt{
				{td + "/dir/01-namespace.yaml", 1, "Namespace", "demo"},
				{"<stdin>", 4, "Secret", "s"},
				{td + "/dir/02-pod.yml", 1, "Pod", "web"},
			},
		},
		{
			name:  "json with tabs",
			paths: []string{"-"},
			stdin: "{\n\t\"apiVersion\": \"v1\",\n\t\"kind\": \"Namespace\",\n\t\"metadata\": {\"name\": \"x\"}\n}\n",
			want:  []manifestAt{{"<stdin>", 1, "Namespace", "x"}},
		},
		{
			name:  "generateName instead of name",
			paths: []string{"-"},
			stdin: "apiVersion: v1\nkind: Pod\nmetadata: {generateName: web-}\nspec: {containers: [{name: c, image: i}]}\n",
			want:  []manifestAt{{"<stdin>", 1, "Pod", ""}},
		},
		{
			name:  "anchors, aliases and merge keys",
			paths: []string{"-"},
			stdin: `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: &labels {app: web}
spec:
  containers:
  - &c
    name: a
    image: nginx
  - <<: *c
    name: b
  nodeSelector: *labels
`,
			want: []manifestAt{{"<stdin>", 1, "Pod", "web"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := ReadManifests(tt.paths, strings.NewReader(tt.stdin), tt.recursive)
			if err != nil {
				t.Fatalf("ReadManifests: %v", err)
			}
			if got := manifestsAt(ms); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestReadManifestsObjectAndJSON(t *testing.T) {
	ms, err := ReadManifests([]string{"testdata/manifests/all.yaml"}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	pod, ok := ms[1].Object.(*api.Pod)
	if !ok {
		t.Fatalf("Object is %T, want *api.Pod", ms[1].Object)
	}
	// Object is defaulted ...
	if pod.Spec.RestartPolicy != "Always" || pod.Spec.Containers[0].Ports[0].Protocol != "TCP" {
		t.Errorf("not defaulted: restartPolicy %q, protocol %q", pod.Spec.RestartPolicy, pod.Spec.Containers[0].Ports[0].Protocol)
	}
	if pod.APIVersion != "v1" || pod.Kind != "Pod" || pod.Namespace != "demo" {
		t.Errorf("TypeMeta %+v, namespace %q", pod.TypeMeta, pod.Namespace)
	}
	// ... JSON is as written.
	var got map[string]any
	if err := json.Unmarshal(ms[1].JSON, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": "web", "namespace": "demo", "labels": map[string]any{"app.kubernetes.io/name": "web"}},
		"spec": map[string]any{"containers": []any{map[string]any{
			"name": "web", "image": "nginx:1.27", "ports": []any{map[string]any{"containerPort": 80.0}}}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("JSON %s\nwant %v", ms[1].JSON, want)
	}
	if ms[0].Resource != api.LookupKind("v1", "Namespace") {
		t.Errorf("Resource %+v", ms[0].Resource)
	}
}

func TestReadManifestsNamespaceLeftEmpty(t *testing.T) {
	ms, err := ReadManifests([]string{"testdata/manifests/dir/02-pod.yml"}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if ns := ms[0].Object.GetObjectMeta().Namespace; ns != "" {
		t.Errorf("namespace %q, want it left to the caller", ns)
	}
}

const validPodYAML = `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: web
    image: nginx
`

func TestReadManifestsErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string // written to a temporary directory, which is the working directory
		paths []string
		want  []string // exact messages, or prefixes ending in "..."
	}{
		{
			name: "unknown field",
			files: map[string]string{"pod.yaml": `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: web
    imagee: nginx
`},
			paths: []string{"pod.yaml"},
			want: []string{
				"pod.yaml:7: spec.containers[0].image: Required value",
				`pod.yaml:8: spec.containers[0].imagee: unknown field: Container has no field "imagee"`,
			},
		},
		{
			name: "unknown field holding an object is reported at its key",
			files: map[string]string{"pod.yaml": `apiVersion: v1
kind: Pod
metadata:
  name: web
  extra:
    a: b
spec:
  containers: [{name: web, image: nginx}]
`},
			paths: []string{"pod.yaml"},
			want:  []string{`pod.yaml:5: metadata.extra: unknown field: ObjectMeta has no field "extra"`},
		},
		{
			name: "wrong type",
			files: map[string]string{"rs.yaml": `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web
spec:
  replicas: "three"
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
`},
			paths: []string{"rs.yaml"},
			want:  []string{`rs.yaml:6: spec.replicas: wrong type: expected an integer, got the string "three"`},
		},
		{
			name: "missing required fields",
			files: map[string]string{"pod.yaml": `apiVersion: v1
kind: Pod
metadata:
  labels:
    app.kubernetes.io/name: "not valid!"
spec:
  containers:
  - name: web
    ports:
    - containerPort: 80
`},
			paths: []string{"pod.yaml"},
			want: []string{
				"pod.yaml:3: metadata.name: Required value: name or generateName is required",
				`pod.yaml:5: metadata.labels[app.kubernetes.io/name]: Invalid value: "not valid!": ...`,
				"pod.yaml:8: spec.containers[0].image: Required value",
			},
		},
		{
			name:  "missing apiVersion and kind",
			files: map[string]string{"x.yaml": "# comment\nmetadata:\n  name: x\n"},
			paths: []string{"x.yaml"},
			want: []string{
				"x.yaml:2: apiVersion: Required value",
				"x.yaml:2: kind: Required value",
			},
		},
		{
			name:  "unknown kind",
			files: map[string]string{"x.yaml": "apiVersion: v1\nkind: Foo\nmetadata: {name: x}\n"},
			paths: []string{"x.yaml"},
			want: []string{`x.yaml:2: no kind "Foo" is known in apiVersion "v1"; known kinds: ` +
				"Endpoints (v1), Event (v1), HorizontalPodAutoscaler (autoscaling/v2), Namespace (v1), Node (v1), Pod (v1), ReplicaSet (apps/v1), Secret (v1), Service (v1)"},
		},
		{
			name:  "kind in the wrong apiVersion",
			files: map[string]string{"x.yaml": "apiVersion: v1\nkind: ReplicaSet\nmetadata: {name: x}\n"},
			paths: []string{"x.yaml"},
			want:  []string{`x.yaml:2: no kind "ReplicaSet" is known in apiVersion "v1"; known kinds: ...`},
		},
		{
			name:  "YAML syntax error (scanner)",
			files: map[string]string{"x.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n   labels: {}\n"},
			paths: []string{"x.yaml"},
			want:  []string{"x.yaml:5: mapping values are not allowed in this context"},
		},
		{
			// yaml.v3 puts this one at the line before the mapping that holds it.
			name:  "YAML syntax error (parser) in the second document",
			files: map[string]string{"x.yaml": validPodYAML + "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n- b\n"},
			paths: []string{"x.yaml"},
			want:  []string{"x.yaml:14: did not find expected key"},
		},
		{
			name:  "one bad document of two",
			files: map[string]string{"x.yaml": validPodYAML + "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: Not_Valid\n"},
			paths: []string{"x.yaml"},
			want:  []string{`x.yaml:13: metadata.name: Invalid value: "Not_Valid": ...`},
		},
		{
			name: "every problem of every file",
			files: map[string]string{
				"a.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: a}]}\n",
				"b.yaml": validPodYAML,
				"c.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: c}\nspec: {}\n",
			},
			paths: []string{"a.yaml", "b.yaml", "missing.yaml", "c.yaml"},
			want: []string{
				"a.yaml:4: spec.containers[0].image: Required value",
				"missing.yaml: no such file or directory",
				"c.yaml:4: spec.ports: Required value",
			},
		},
		{
			name:  "no objects",
			files: map[string]string{"empty.yaml": "# nothing here\n---\n---\n", "d/notes.txt": "x", "d/sub/a.yaml": validPodYAML},
			paths: []string{"empty.yaml", "d"},
			want: []string{
				"empty.yaml: no objects found",
				"d: no manifest files (*.yaml, *.yml, *.json) found in directory; use --recursive (-R) to read its subdirectories",
			},
		},
		{
			name:  "not an object",
			files: map[string]string{"x.yaml": "- a\n- b\n"},
			paths: []string{"x.yaml"},
			want:  []string{"x.yaml:1: expected an object with apiVersion and kind, got a list"},
		},
		{
			name:  "duplicate key",
			files: map[string]string{"x.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  name: b\n"},
			paths: []string{"x.yaml"},
			want:  []string{"x.yaml:5: metadata.name: duplicate key: already set at line 4"},
		},
		{
			name: "list with a bad item",
			files: map[string]string{"x.yaml": `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata: {name: ok}
- apiVersion: v1
  kind: Pod
  metadata: {name: web}
  spec:
    containers:
    - {name: web, image: nginx, tyy: true}
`},
			paths: []string{"x.yaml"},
			want:  []string{`x.yaml:12: spec.containers[0].tyy: unknown field: Container has no field "tyy"`},
		},
		{
			name:  "stdin",
			paths: []string{"-"},
			want:  []string{"<stdin>:3: spec.containers: wrong type: expected a list, got an object"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			t.Chdir(dir)
			stdin := strings.NewReader("apiVersion: v1\nkind: Pod\nspec: {containers: {name: a}}\nmetadata: {name: a}\n")
			ms, err := ReadManifests(tt.paths, stdin, false)
			if ms != nil {
				t.Errorf("got %d manifests with errors, want none", len(ms))
			}
			var errs ManifestErrors
			if !errors.As(err, &errs) {
				t.Fatalf("error %v (%T), want ManifestErrors", err, err)
			}
			if len(errs) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(tt.want), err)
			}
			for i, e := range errs {
				got, want := e.Error(), tt.want[i]
				if prefix, ok := strings.CutSuffix(want, "..."); ok {
					if !strings.HasPrefix(got, prefix) {
						t.Errorf("error %d:\n got %s\nwant %s", i, got, want)
					}
				} else if got != want {
					t.Errorf("error %d:\n got %s\nwant %s", i, got, want)
				}
			}
			if n := strings.Count(err.Error(), "\n") + 1; n != len(tt.want) {
				t.Errorf("Error() has %d lines, want one per problem:\n%s", n, err)
			}
		})
	}
}

func TestReadManifestsStdin(t *testing.T) {
	if _, err := ReadManifests([]string{"-"}, nil, false); err == nil || err.Error() != "<stdin>: no standard input to read" {
		t.Errorf("nil stdin: %v", err)
	}
	if _, err := ReadManifests([]string{"-", "-"}, strings.NewReader(validPodYAML), false); err == nil ||
		err.Error() != "<stdin>: standard input can be read only once" {
		t.Errorf("stdin twice: %v", err)
	}
	if _, err := ReadManifests(nil, nil, false); err == nil || err.Error() != "no manifest files given" {
		t.Errorf("no paths: %v", err)
	}
}

func TestLineOf(t *testing.T) {
	const doc = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app.kubernetes.io/name: web
    tier: &tier front
spec:
  containers:
  - name: web
    image:
      nginx
    command: ["a",
      "b"]
  - <<: &base
      name: side
      image: busybox
    tty:
  nodeSelector: {tier: *tier}
`
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &node); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		field string
		want  int
	}{
		{"", 1},
		{"kind", 2},
		{"metadata", 3},
		{"metadata.name", 4},
		{"metadata.labels", 5},
		{"metadata.labels[app.kubernetes.io/name]", 6},
		{"metadata.labels[tier]", 7},
		{"metadata.namespace", 3},        // missing: the parent's key
		{"status.phase", 1},              // nothing of it: the document
		{"spec.containers", 9},           // a list: its key
		{"spec.containers[0]", 10},       // an item: its first line
		{"spec.containers[0].image", 12}, // a scalar on the next line: the value
		{"spec.containers[0].command", 13},
		{"spec.containers[0].command[1]", 14},
		{"spec.containers[0].command[5]", 13},    // past the end: the list's key
		{"spec.containers[0].ports[0].name", 10}, // missing: the item
		{"spec.containers[1].name", 16},          // merged from the anchor
		{"spec.containers[1].tty", 18},           // empty value: the key
		{"spec.containers[2].image", 9},
		{"spec.nodeSelector[tier]", 19}, // an alias: where it is used
		{"spec.containers.x", 9},        // not a mapping
	}
	for _, tt := range tests {
		if got := lineOf(&node, tt.field); got != tt.want {
			t.Errorf("lineOf(%q) = %d, want %d", tt.field, got, tt.want)
		}
	}
}

func TestParseFieldPath(t *testing.T) {
	got := parseFieldPath("metadata.labels[app.kubernetes.io/name].x[3][a.b][c]")
	want := []pathSeg{{key: "metadata"}, {key: "labels"}, {key: "app.kubernetes.io/name"}, {key: "x"},
		{key: "3", index: 3, isIndex: true}, {key: "a.b"}, {key: "c"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestManifestErrorString(t *testing.T) {
	tests := []struct {
		e    ManifestError
		want string
	}{
		{ManifestError{File: "a.yaml", Line: 3, Field: "spec", Message: "bad"}, "a.yaml:3: spec: bad"},
		{ManifestError{File: "a.yaml", Message: "bad"}, "a.yaml: bad"},
		{ManifestError{File: "a.yaml", Line: 3, Message: "bad"}, "a.yaml:3: bad"},
		{ManifestError{Field: "spec", Message: "bad"}, "spec: bad"},
		{ManifestError{Line: 2, Message: "bad"}, "line 2: bad"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%+v: got %q, want %q", tt.e, got, tt.want)
		}
	}
	l := ManifestErrors{&tests[0].e, &tests[1].e}
	if got := l.Error(); got != "a.yaml:3: spec: bad\na.yaml: bad" {
		t.Errorf("ManifestErrors: %q", got)
	}
}
