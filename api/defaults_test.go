package api

import (
	"reflect"
	"testing"
)

func TestDefaultPod(t *testing.T) {
	p := &Pod{
		ObjectMeta: ObjectMeta{Name: "p", Namespace: "default"},
		Spec: PodSpec{
			InitContainers: []Container{{Name: "init", Image: "busybox"}},
			Containers: []Container{
				{Name: "a", Image: "nginx", Ports: []ContainerPort{{ContainerPort: 80}, {ContainerPort: 53, Protocol: "UDP"}},
					LivenessProbe:  &Probe{HTTPGet: &HTTPGetAction{Port: FromInt(80)}},
					ReadinessProbe: &Probe{TCPSocket: &TCPSocketAction{Port: FromInt(80)}, PeriodSeconds: 5},
					Resources: ResourceRequirements{
						Limits:   ResourceList{"cpu": MustParseQuantity("1"), "memory": MustParseQuantity("1Gi")},
						Requests: ResourceList{"cpu": MustParseQuantity("250m")},
					}},
				{Name: "b", Image: "nginx:latest", Resources: ResourceRequirements{Limits: ResourceList{"memory": MustParseQuantity("64Mi")}}},
				{Name: "c", Image: "nginx:1.27"},
				{Name: "d", Image: "localhost:5000/app"},
				{Name: "e", Image: "localhost:5000/app:v2"},
				{Name: "f", Image: "nginx@sha256:0123456789abcdef"},
				{Name: "g", Image: "nginx:latest@sha256:0123456789abcdef"},
				{Name: "h", Image: "nginx", ImagePullPolicy: PullNever},
			},
		},
	}
	Default(p)
	s := p.Spec
	if s.RestartPolicy != RestartPolicyAlways || s.TerminationGracePeriodSeconds == nil || *s.TerminationGracePeriodSeconds != 30 ||
		s.DNSPolicy != "ClusterFirst" || s.SchedulerName != "default-scheduler" {
		t.Errorf("pod spec defaults: %+v", s)
	}
	if p.Status.Phase != PodPending {
		t.Errorf("phase = %q", p.Status.Phase)
	}
	wantPull := map[string]string{"a": PullAlways, "b": PullAlways, "c": PullIfNotPresent, "d": PullAlways,
		"e": PullIfNotPresent, "f": PullIfNotPresent, "g": PullAlways, "h": PullNever}
	for _, c := range s.Containers {
		if c.ImagePullPolicy != wantPull[c.Name] {
			t.Errorf("container %s (%s): imagePullPolicy = %q, want %q", c.Name, c.Image, c.ImagePullPolicy, wantPull[c.Name])
		}
	}
	if s.InitContainers[0].ImagePullPolicy != PullAlways {
		t.Errorf("init container imagePullPolicy = %q", s.InitContainers[0].ImagePullPolicy)
	}
	a := s.Containers[0]
	if a.Ports[0].Protocol != "TCP" || a.Ports[1].Protocol != "UDP" {
		t.Errorf("port protocols: %+v", a.Ports)
	}
	lp := a.LivenessProbe
	if lp.TimeoutSeconds != 1 || lp.PeriodSeconds != 10 || lp.SuccessThreshold != 1 || lp.FailureThreshold != 3 ||
		lp.HTTPGet.Scheme != "HTTP" || lp.HTTPGet.Path != "/" {
		t.Errorf("liveness probe defaults: %+v %+v", lp, lp.HTTPGet)
	}
	if rp := a.ReadinessProbe; rp.PeriodSeconds != 5 || rp.TimeoutSeconds != 1 {
		t.Errorf("readiness probe: %+v", rp)
	}
	if got := a.Resources.Requests["cpu"]; got.Cmp(MustParseQuantity("250m")) != 0 {
		t.Errorf("cpu request overwritten: %v", got)
	}
	if got := a.Resources.Requests["memory"]; got.Cmp(MustParseQuantity("1Gi")) != 0 {
		t.Errorf("memory request = %v, want the limit", got)
	}
	if got, ok := s.Containers[1].Resources.Requests["memory"]; !ok || got.Cmp(MustParseQuantity("64Mi")) != 0 {
		t.Errorf("container b memory request = %v", got)
	}
	if s.Containers[2].Resources.Requests != nil {
		t.Errorf("container c got requests: %v", s.Containers[2].Resources.Requests)
	}
	vtIdempotent(t, p)
}

func TestDefaultPodKeepsSetValues(t *testing.T) {
	g := int64(0)
	p := &Pod{Spec: PodSpec{RestartPolicy: RestartPolicyNever, TerminationGracePeriodSeconds: &g, DNSPolicy: "Default",
		SchedulerName: "mine", Containers: []Container{{Name: "a", Image: "x"}}}, Status: PodStatus{Phase: PodRunning}}
	Default(p)
	if p.Spec.RestartPolicy != RestartPolicyNever || *p.Spec.TerminationGracePeriodSeconds != 0 || p.Spec.DNSPolicy != "Default" ||
		p.Spec.SchedulerName != "mine" || p.Status.Phase != PodRunning {
		t.Errorf("set values overwritten: %+v %+v", p.Spec, p.Status)
	}
}

func TestDefaultService(t *testing.T) {
	s := &Service{Spec: ServiceSpec{Ports: []ServicePort{{Port: 80}, {Port: 53, Protocol: "UDP", TargetPort: FromInt(5353)},
		{Port: 443, TargetPort: FromString("https")}}}}
	Default(s)
	if s.Spec.Type != ServiceTypeClusterIP || s.Spec.SessionAffinity != "None" {
		t.Errorf("service defaults: %+v", s.Spec)
	}
	want := []ServicePort{{Port: 80, Protocol: "TCP", TargetPort: FromInt(80)}, {Port: 53, Protocol: "UDP", TargetPort: FromInt(5353)},
		{Port: 443, Protocol: "TCP", TargetPort: FromString("https")}}
	if !reflect.DeepEqual(s.Spec.Ports, want) {
		t.Errorf("ports = %+v, want %+v", s.Spec.Ports, want)
	}
	vtIdempotent(t, s)
}

func TestDefaultReplicaSet(t *testing.T) {
	r := &ReplicaSet{Spec: ReplicaSetSpec{
		Selector: &LabelSelector{MatchLabels: map[string]string{"app": "web"}},
		Template: PodTemplateSpec{ObjectMeta: ObjectMeta{Labels: map[string]string{"app": "web"}},
			Spec: PodSpec{Containers: []Container{{Name: "a", Image: "nginx"}}}},
	}}
	Default(r)
	if r.Spec.Replicas == nil || *r.Spec.Replicas != 1 {
		t.Errorf("replicas = %v", r.Spec.Replicas)
	}
	if !reflect.DeepEqual(r.Labels, map[string]string{"app": "web"}) {
		t.Errorf("labels = %v", r.Labels)
	}
	r.Labels["x"] = "y"
	if _, ok := r.Spec.Template.Labels["x"]; ok {
		t.Errorf("labels alias the template's")
	}
	if ts := r.Spec.Template.Spec; ts.RestartPolicy != RestartPolicyAlways || ts.Containers[0].ImagePullPolicy != PullAlways {
		t.Errorf("template not defaulted: %+v", ts)
	}
	vtIdempotent(t, r)

	zero := int32(0)
	r2 := &ReplicaSet{ObjectMeta: ObjectMeta{Labels: map[string]string{"own": "label"}}, Spec: ReplicaSetSpec{Replicas: &zero,
		Template: PodTemplateSpec{ObjectMeta: ObjectMeta{Labels: map[string]string{"app": "web"}}}}}
	Default(r2)
	if *r2.Spec.Replicas != 0 || !reflect.DeepEqual(r2.Labels, map[string]string{"own": "label"}) {
		t.Errorf("set values overwritten: %v %v", *r2.Spec.Replicas, r2.Labels)
	}
}

func TestDefaultSecret(t *testing.T) {
	s := &Secret{Data: map[string][]byte{"a": []byte("1"), "b": []byte("old")}, StringData: map[string]string{"b": "2", "c": "3"}}
	Default(s)
	if s.Type != "Opaque" || s.StringData != nil {
		t.Errorf("secret: type %q stringData %v", s.Type, s.StringData)
	}
	want := map[string][]byte{"a": []byte("1"), "b": []byte("2"), "c": []byte("3")}
	if !reflect.DeepEqual(s.Data, want) {
		t.Errorf("data = %q", s.Data)
	}
	vtIdempotent(t, s)

	s2 := &Secret{Type: SecretTypeTLS, StringData: map[string]string{"tls.crt": "c"}}
	Default(s2)
	if s2.Type != SecretTypeTLS || string(s2.Data["tls.crt"]) != "c" {
		t.Errorf("secret 2: %+v", s2)
	}
}

func TestDefaultOtherKinds(t *testing.T) {
	ns := &Namespace{}
	Default(ns)
	if ns.Status.Phase != NamespaceActive {
		t.Errorf("namespace phase = %q", ns.Status.Phase)
	}
	vtIdempotent(t, ns)
	term := &Namespace{Status: NamespaceStatus{Phase: NamespaceTerminating}}
	Default(term)
	if term.Status.Phase != NamespaceTerminating {
		t.Errorf("terminating namespace phase = %q", term.Status.Phase)
	}

	ev := &Event{}
	Default(ev)
	if ev.Type != EventTypeNormal || ev.Count != 1 {
		t.Errorf("event: %+v", ev)
	}
	vtIdempotent(t, ev)
	warn := &Event{Type: EventTypeWarning, Count: 7}
	Default(warn)
	if warn.Type != EventTypeWarning || warn.Count != 7 {
		t.Errorf("event overwritten: %+v", warn)
	}

	ep := &Endpoints{Subsets: []EndpointSubset{{Ports: []EndpointPort{{Port: 80}, {Port: 53, Protocol: "UDP"}}}}}
	Default(ep)
	if ep.Subsets[0].Ports[0].Protocol != "TCP" || ep.Subsets[0].Ports[1].Protocol != "UDP" {
		t.Errorf("endpoints ports: %+v", ep.Subsets[0].Ports)
	}
	vtIdempotent(t, ep)

	node := &Node{ObjectMeta: ObjectMeta{Name: "n"}}
	Default(node)
	vtIdempotent(t, node)
}

// vtIdempotent checks that defaulting obj again changes nothing.
func vtIdempotent(t *testing.T, obj Object) {
	t.Helper()
	before := vtDeepCopy(t, obj)
	Default(obj)
	if !reflect.DeepEqual(before, obj) {
		t.Errorf("Default is not idempotent for %T:\nbefore %+v\nafter  %+v", obj, before, obj)
	}
}

// vtDeepCopy returns a deep copy of obj, with fresh pointers, maps and slices.
func vtDeepCopy(t *testing.T, obj Object) Object {
	t.Helper()
	r := ResourceFor(obj)
	if r == nil {
		t.Fatalf("no resource for %T", obj)
	}
	cp := r.New()
	vtCopyValue(reflect.ValueOf(cp).Elem(), reflect.ValueOf(obj).Elem())
	return cp
}

// vtCopyValue deep-copies src into dst, which has the same type.
func vtCopyValue(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		n := reflect.New(src.Type().Elem())
		vtCopyValue(n.Elem(), src.Elem())
		dst.Set(n)
	case reflect.Struct:
		// Structs with unexported fields (Quantity, Time) are copied whole; they hold no
		// references that Default changes.
		for i := 0; i < src.NumField(); i++ {
			if !src.Type().Field(i).IsExported() {
				dst.Set(src)
				return
			}
		}
		for i := 0; i < src.NumField(); i++ {
			vtCopyValue(dst.Field(i), src.Field(i))
		}
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		n := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		for i := 0; i < src.Len(); i++ {
			vtCopyValue(n.Index(i), src.Index(i))
		}
		dst.Set(n)
	case reflect.Map:
		if src.IsNil() {
			return
		}
		n := reflect.MakeMapWithSize(src.Type(), src.Len())
		iter := src.MapRange()
		for iter.Next() {
			v := reflect.New(src.Type().Elem()).Elem()
			vtCopyValue(v, iter.Value())
			n.SetMapIndex(iter.Key(), v)
		}
		dst.Set(n)
	default:
		dst.Set(src)
	}
}
