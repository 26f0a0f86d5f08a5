package api

import (
	"strings"
	"testing"
)

func vtInt64(v int64) *int64    { return &v }
func vtInt32(v int32) *int32    { return &v }
func vtString(v string) *string { return &v }
func vtBool(v bool) *bool       { return &v }

func vtPod() *Pod {
	return &Pod{
		ObjectMeta: ObjectMeta{Name: "web-0", Namespace: "default", Labels: map[string]string{"app": "web"},
			Annotations: map[string]string{"example.com/owner": "team-a"}},
		Spec: PodSpec{
			Containers: []Container{{
				Name:  "nginx",
				Image: "nginx:1.27",
				Ports: []ContainerPort{{Name: "http", ContainerPort: 80, Protocol: "TCP"}},
				Env: []EnvVar{{Name: "MODE", Value: "prod"},
					{Name: "POD_NAME", ValueFrom: &EnvVarSource{FieldRef: &ObjectFieldSelector{FieldPath: "metadata.name"}}},
					{Name: "APP", ValueFrom: &EnvVarSource{FieldRef: &ObjectFieldSelector{FieldPath: "metadata.labels['app']"}}}},
				Resources: ResourceRequirements{
					Requests: ResourceList{"cpu": MustParseQuantity("100m"), "memory": MustParseQuantity("64Mi")},
					Limits:   ResourceList{"cpu": MustParseQuantity("500m"), "memory": MustParseQuantity("128Mi"), "example.com/gpu": MustParseQuantity("1")},
				},
				VolumeMounts:   []VolumeMount{{Name: "data", MountPath: "/data"}, {Name: "creds", MountPath: "/etc/creds", ReadOnly: true}},
				LivenessProbe:  &Probe{HTTPGet: &HTTPGetAction{Path: "/healthz", Port: FromString("http")}},
				ReadinessProbe: &Probe{TCPSocket: &TCPSocketAction{Port: FromInt(80)}},
			}},
			InitContainers: []Container{{Name: "init", Image: "busybox", Command: []string{"true"}}},
			Volumes: []Volume{
				{Name: "data", EmptyDir: &EmptyDirVolumeSource{}},
				{Name: "creds", Secret: &SecretVolumeSource{SecretName: "creds"}},
				{Name: "host", HostPath: &HostPathVolumeSource{Path: "/var/log"}},
				{Name: "claim", PersistentVolumeClaim: &PersistentVolumeClaimVolumeSource{ClaimName: "pvc-1"}},
			},
			RestartPolicy:                 RestartPolicyAlways,
			TerminationGracePeriodSeconds: vtInt64(30),
			NodeSelector:                  map[string]string{"kubernetes.io/os": "linux"},
			SecurityContext: &PodSecurityContext{RunAsUser: vtInt64(1000), RunAsGroup: vtInt64(1000), FSGroup: vtInt64(2000),
				SupplementalGroupsPolicy: vtString("Merge")},
		},
	}
}

func vtService() *Service {
	return &Service{
		ObjectMeta: ObjectMeta{Name: "web", Namespace: "default"},
		Spec: ServiceSpec{
			Type:     ServiceTypeClusterIP,
			Selector: map[string]string{"app": "web"},
			Ports: []ServicePort{
				{Name: "http", Port: 80, TargetPort: FromString("http"), Protocol: "TCP"},
				{Name: "https", Port: 443, TargetPort: FromInt(8443)},
			},
			ClusterIP: "10.96.0.10",
		},
	}
}

func vtNodePortService() *Service {
	s := vtService()
	s.Spec.Type = ServiceTypeNodePort
	s.Spec.Ports[0].NodePort = 30080
	return s
}

func vtEndpoints() *Endpoints {
	return &Endpoints{
		ObjectMeta: ObjectMeta{Name: "web", Namespace: "default"},
		Subsets: []EndpointSubset{{
			Addresses:         []EndpointAddress{{IP: "10.244.1.5"}, {IP: "fd00::5"}},
			NotReadyAddresses: []EndpointAddress{{IP: "10.244.1.6"}},
			Ports:             []EndpointPort{{Name: "http", Port: 80, Protocol: "TCP"}, {Name: "https", Port: 443}},
		}},
	}
}

func vtReplicaSet() *ReplicaSet {
	p := vtPod()
	return &ReplicaSet{
		ObjectMeta: ObjectMeta{Name: "web", Namespace: "default"},
		Spec: ReplicaSetSpec{
			Replicas: vtInt32(3),
			Selector: &LabelSelector{MatchLabels: map[string]string{"app": "web"},
				MatchExpressions: []LabelSelectorRequirement{{Key: "tier", Operator: LabelSelectorOpNotIn, Values: []string{"db"}}}},
			Template: PodTemplateSpec{ObjectMeta: ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: p.Spec},
		},
	}
}

func vtSecret() *Secret {
	return &Secret{
		ObjectMeta: ObjectMeta{Name: "creds", Namespace: "default"},
		Type:       SecretTypeOpaque,
		Data:       map[string][]byte{"password": []byte("hunter2"), "tls.crt": []byte("x"), "KEY_NAME": nil},
		StringData: map[string]string{"user": "admin"},
	}
}

func vtNamespace() *Namespace {
	return &Namespace{ObjectMeta: ObjectMeta{Name: "team-a", Labels: map[string]string{"team": "a"}}}
}

func vtNode() *Node {
	return &Node{
		ObjectMeta: ObjectMeta{Name: "node-1.example.com"},
		Spec:       NodeSpec{Taints: []Taint{{Key: "node.kubernetes.io/not-ready", Effect: "NoSchedule"}}},
		Status: NodeStatus{Addresses: []NodeAddress{{Type: "InternalIP", Address: "192.168.1.10"},
			{Type: "Hostname", Address: "node-1"}}},
	}
}

func vtEvent() *Event {
	return &Event{
		ObjectMeta:     ObjectMeta{Name: "web-0.17a2b3c4d5e6f", Namespace: "default"},
		InvolvedObject: ObjectReference{Kind: "Pod", Name: "web-0", Namespace: "default"},
		Reason:         "Scheduled",
		Type:           EventTypeNormal,
		Count:          1,
	}
}

func TestValidateValidObjects(t *testing.T) {
	objs := []Object{vtPod(), vtService(), vtNodePortService(), vtEndpoints(), vtReplicaSet(), vtSecret(),
		vtNamespace(), vtNode(), vtEvent()}
	for _, obj := range objs {
		if errs := Validate(obj); len(errs) != 0 {
			t.Errorf("%T: unexpected errors: %v", obj, errs)
		}
		Default(obj)
		if errs := Validate(obj); len(errs) != 0 {
			t.Errorf("%T after Default: unexpected errors: %v", obj, errs)
		}
	}
	// A minimal Pod, ready for defaulting, is valid too.
	minimal := &Pod{ObjectMeta: ObjectMeta{Name: "p", Namespace: "default"},
		Spec: PodSpec{Containers: []Container{{Name: "c", Image: "busybox"}}}}
	if errs := Validate(minimal); len(errs) != 0 {
		t.Errorf("minimal pod: %v", errs)
	}
	// generateName with a trailing dash, and a headless Service without ports.
	gen := &Pod{ObjectMeta: ObjectMeta{GenerateName: "web-", Namespace: "default"},
		Spec: PodSpec{Containers: []Container{{Name: "c", Image: "busybox"}}}}
	if errs := Validate(gen); len(errs) != 0 {
		t.Errorf("generateName pod: %v", errs)
	}
	headless := &Service{ObjectMeta: ObjectMeta{Name: "db", Namespace: "default"}, Spec: ServiceSpec{ClusterIP: "None"}}
	if errs := Validate(headless); len(errs) != 0 {
		t.Errorf("headless service: %v", errs)
	}
}

type vtCase struct {
	name  string
	obj   func() Object
	field string
	typ   string
	// detail, when set, must appear in the error's message.
	detail string
}

func vtPodWith(f func(p *Pod)) func() Object {
	return func() Object { p := vtPod(); f(p); return p }
}

func vtSvcWith(f func(s *Service)) func() Object {
	return func() Object { s := vtService(); f(s); return s }
}

func vtRSWith(f func(r *ReplicaSet)) func() Object {
	return func() Object { r := vtReplicaSet(); f(r); return r }
}

func vtRun(t *testing.T, cases []vtCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs := Validate(tc.obj())
			if len(errs) == 0 {
				t.Fatalf("no errors; want %s at %s", tc.typ, tc.field)
			}
			found := false
			for _, e := range errs {
				if e.Field != tc.field {
					t.Errorf("unexpected error at another field: %v", e)
					continue
				}
				if e.Type == tc.typ && strings.Contains(e.Error(), tc.detail) {
					found = true
				}
			}
			if !found {
				t.Errorf("want %s at %s (detail %q); got %v", tc.typ, tc.field, tc.detail, errs)
			}
		})
	}
}

func TestValidateObjectMeta(t *testing.T) {
	vtRun(t, []vtCase{
		{"name required", vtPodWith(func(p *Pod) { p.Name = "" }), "metadata.name", FieldValueRequired, "name or generateName is required"},
		{"name upper case", vtPodWith(func(p *Pod) { p.Name = "Web" }), "metadata.name", FieldValueInvalid, "RFC 1123 subdomain"},
		{"name too long", vtPodWith(func(p *Pod) { p.Name = strings.Repeat("a", 254) }), "metadata.name", FieldValueInvalid, "no more than 253"},
		{"generateName invalid", vtPodWith(func(p *Pod) { p.Name = ""; p.GenerateName = "Web-" }), "metadata.generateName", FieldValueInvalid, ""},
		{"namespace required", vtPodWith(func(p *Pod) { p.Namespace = "" }), "metadata.namespace", FieldValueRequired, ""},
		{"namespace invalid", vtPodWith(func(p *Pod) { p.Namespace = "a.b" }), "metadata.namespace", FieldValueInvalid, "must not contain dots"},
		{"namespace forbidden", func() Object { n := vtNamespace(); n.Namespace = "default"; return n }, "metadata.namespace", FieldValueForbidden, ""},
		{"namespace name with dot", func() Object { n := vtNamespace(); n.Name = "team.a"; return n }, "metadata.name", FieldValueInvalid, "must not contain dots"},
		{"namespace name label", func() Object { n := vtNamespace(); n.Name = "-x"; return n }, "metadata.name", FieldValueInvalid,
			"a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc')"},
		{"namespace name too long", func() Object { n := vtNamespace(); n.Name = strings.Repeat("a", 64); return n }, "metadata.name", FieldValueInvalid, "no more than 63"},
		{"service name label", vtSvcWith(func(s *Service) { s.Name = "web.v1" }), "metadata.name", FieldValueInvalid, "must not contain dots"},
		{"node name subdomain", func() Object { n := vtNode(); n.Name = "Node_1"; return n }, "metadata.name", FieldValueInvalid, "RFC 1123 subdomain"},
		{"label key", vtPodWith(func(p *Pod) { p.Labels["bad key"] = "x" }), "metadata.labels[bad key]", FieldValueInvalid, ""},
		{"label value", vtPodWith(func(p *Pod) { p.Labels["app"] = "-web" }), "metadata.labels[app]", FieldValueInvalid, ""},
		{"annotation key", vtPodWith(func(p *Pod) { p.Annotations["a/b/c"] = "x" }), "metadata.annotations[a/b/c]", FieldValueInvalid, ""},
		{"annotations too long", vtPodWith(func(p *Pod) { p.Annotations["big"] = strings.Repeat("x", 256<<10) }), "metadata.annotations", FieldValueTooLong, ""},
		{"owner uid", vtPodWith(func(p *Pod) {
			p.OwnerReferences = []OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web"}}
		}), "metadata.ownerReferences[0].uid", FieldValueRequired, ""},
		{"owner apiVersion", vtPodWith(func(p *Pod) {
			p.OwnerReferences = []OwnerReference{{Kind: "ReplicaSet", Name: "web", UID: "u"}}
		}), "metadata.ownerReferences[0].apiVersion", FieldValueRequired, ""},
		{"owner kind", vtPodWith(func(p *Pod) {
			p.OwnerReferences = []OwnerReference{{APIVersion: "apps/v1", Name: "web", UID: "u"}}
		}), "metadata.ownerReferences[0].kind", FieldValueRequired, ""},
		{"owner name", vtPodWith(func(p *Pod) {
			p.OwnerReferences = []OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", UID: "u"}}
		}), "metadata.ownerReferences[0].name", FieldValueRequired, ""},
		{"two controllers", vtPodWith(func(p *Pod) {
			r := OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web", UID: "u", Controller: vtBool(true)}
			p.OwnerReferences = []OwnerReference{r, r}
		}), "metadata.ownerReferences", FieldValueInvalid, "Only one reference"},
		{"finalizer", vtPodWith(func(p *Pod) { p.Finalizers = []string{"bad finalizer"} }), "metadata.finalizers[0]", FieldValueInvalid, ""},
	})
}

func TestValidatePod(t *testing.T) {
	c0 := "spec.containers[0]"
	vtRun(t, []vtCase{
		{"no containers", vtPodWith(func(p *Pod) { p.Spec.Containers = nil }), "spec.containers", FieldValueRequired, ""},
		{"container name required", vtPodWith(func(p *Pod) { p.Spec.Containers[0].Name = "" }), c0 + ".name", FieldValueRequired, ""},
		{"container name invalid", vtPodWith(func(p *Pod) { p.Spec.Containers[0].Name = "Nginx" }), c0 + ".name", FieldValueInvalid, ""},
		{"container name duplicate", vtPodWith(func(p *Pod) {
			p.Spec.Containers = append(p.Spec.Containers, Container{Name: "nginx", Image: "nginx"})
		}), "spec.containers[1].name", FieldValueDuplicate, ""},
		{"container name duplicates init", vtPodWith(func(p *Pod) { p.Spec.Containers[0].Name = "init" }), c0 + ".name", FieldValueDuplicate, ""},
		{"init container image", vtPodWith(func(p *Pod) { p.Spec.InitContainers[0].Image = "" }), "spec.initContainers[0].image", FieldValueRequired, ""},
		{"init container probe", vtPodWith(func(p *Pod) {
			p.Spec.InitContainers[0].ReadinessProbe = &Probe{Exec: &ExecAction{Command: []string{"true"}}}
		}), "spec.initContainers[0].readinessProbe", FieldValueForbidden, ""},
		{"image required", vtPodWith(func(p *Pod) { p.Spec.Containers[0].Image = "" }), c0 + ".image", FieldValueRequired, ""},
		{"image whitespace", vtPodWith(func(p *Pod) { p.Spec.Containers[0].Image = " nginx" }), c0 + ".image", FieldValueInvalid, "whitespace"},
		{"port zero", vtPodWith(func(p *Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 0 }), c0 + ".ports[0].containerPort", FieldValueRequired, ""},
		{"port too big", vtPodWith(func(p *Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 65536 }), c0 + ".ports[0].containerPort", FieldValueInvalid, "between 1 and 65535"},
		{"host port", vtPodWith(func(p *Pod) { p.Spec.Containers[0].Ports[0].HostPort = -1 }), c0 + ".ports[0].hostPort", FieldValueInvalid, ""},
		{"host port with host network", vtPodWith(func(p *Pod) {
			p.Spec.HostNetwork = true
			p.Spec.Containers[0].Ports[0].HostPort = 8080
		}), c0 + ".ports[0].hostPort", FieldValueInvalid, "must match `containerPort`"},
		{"port protocol", vtPodWith(func(p *Pod) { p.Spec.Containers[0].Ports[0].Protocol = "tcp" }), c0 + ".ports[0].protocol", FieldValueNotSupported, `"TCP", "UDP", "SCTP"`},
		{"port name long", vtPodWith(func(p *Pod) { p.Spec.Containers[0].Ports[0].Name = "a-very-long-port-name" }), c0 + ".ports[0].name", FieldValueInvalid, "no more than 15"},
		{"port name no letter", vtPodWith(func(p *Pod) { p.Spec.Containers[0].Ports[0].Name = "8080" }), c0 + ".ports[0].name", FieldValueInvalid, "at least one letter"},
		{"port name upper", vtPodWith(func(p *Pod) { p.Spec.Containers[0].Ports[0].Name = "HTTP" }), c0 + ".ports[0].name", FieldValueInvalid, ""},
		{"port name duplicate", vtPodWith(func(p *Pod) {
			c := &p.Spec.Containers[0]
			c.Ports = append(c.Ports, ContainerPort{Name: "http", ContainerPort: 81})
		}), c0 + ".ports[1].name", FieldValueDuplicate, ""},
		{"env name required", vtPodWith(func(p *Pod) { p.Spec.Containers[0].Env[0].Name = "" }), c0 + ".env[0].name", FieldValueRequired, ""},
		{"env name invalid", vtPodWith(func(p *Pod) { p.Spec.Containers[0].Env[0].Name = "1MODE" }), c0 + ".env[0].name", FieldValueInvalid, "environment variable name"},
		{"env fieldPath required", vtPodWith(func(p *Pod) { p.Spec.Containers[0].Env[1].ValueFrom.FieldRef.FieldPath = "" }), c0 + ".env[1].valueFrom.fieldRef.fieldPath", FieldValueRequired, ""},
		{"env fieldPath unsupported", vtPodWith(func(p *Pod) { p.Spec.Containers[0].Env[1].ValueFrom.FieldRef.FieldPath = "spec.containers" }), c0 + ".env[1].valueFrom.fieldRef.fieldPath", FieldValueNotSupported, ""},
		{"env value and valueFrom", vtPodWith(func(p *Pod) { p.Spec.Containers[0].Env[1].Value = "x" }), c0 + ".env[1].valueFrom", FieldValueInvalid, ""},
		{"env secretKeyRef key", vtPodWith(func(p *Pod) {
			p.Spec.Containers[0].Env[1].ValueFrom = &EnvVarSource{SecretKeyRef: &SecretKeySelector{Name: "creds"}}
		}), c0 + ".env[1].valueFrom.secretKeyRef.key", FieldValueRequired, ""},
		{"negative quantity", vtPodWith(func(p *Pod) { p.Spec.Containers[0].Resources.Requests["memory"] = MustParseQuantity("-1") }), c0 + ".resources.requests[memory]", FieldValueInvalid, "greater than or equal to 0"},
		{"unknown resource", vtPodWith(func(p *Pod) { p.Spec.Containers[0].Resources.Limits["gpu"] = MustParseQuantity("1") }), c0 + ".resources.limits[gpu]", FieldValueInvalid, "standard resource"},
		{"requests over limits", vtPodWith(func(p *Pod) { p.Spec.Containers[0].Resources.Requests["cpu"] = MustParseQuantity("1") }), c0 + ".resources.requests[cpu]", FieldValueInvalid, "must be less than or equal to cpu limit of 500m"},
		{"extended request differs", vtPodWith(func(p *Pod) {
			p.Spec.Containers[0].Resources.Requests["example.com/gpu"] = MustParseQuantity("0")
		}), c0 + ".resources.requests[example.com/gpu]", FieldValueInvalid, "must be equal to example.com/gpu limit of 1"},
		{"extended fraction", vtPodWith(func(p *Pod) {
			p.Spec.Containers[0].Resources.Limits["example.com/gpu"] = MustParseQuantity("500m")
		}), c0 + ".resources.limits[example.com/gpu]", FieldValueInvalid, "integer"},
		{"mount unknown volume", vtPodWith(func(p *Pod) { p.Spec.Containers[0].VolumeMounts[0].Name = "nope" }), c0 + ".volumeMounts[0].name", FieldValueInvalid, ""},
		{"mount name required", vtPodWith(func(p *Pod) { p.Spec.Containers[0].VolumeMounts[0].Name = "" }), c0 + ".volumeMounts[0].name", FieldValueRequired, ""},
		{"mountPath required", vtPodWith(func(p *Pod) { p.Spec.Containers[0].VolumeMounts[0].MountPath = "" }), c0 + ".volumeMounts[0].mountPath", FieldValueRequired, ""},
		{"mountPath relative", vtPodWith(func(p *Pod) { p.Spec.Containers[0].VolumeMounts[0].MountPath = "data" }), c0 + ".volumeMounts[0].mountPath", FieldValueInvalid, "absolute"},
		{"mountPath duplicate", vtPodWith(func(p *Pod) { p.Spec.Containers[0].VolumeMounts[1].MountPath = "/data" }), c0 + ".volumeMounts[1].mountPath", FieldValueInvalid, "unique"},
		{"subPath escapes", vtPodWith(func(p *Pod) { p.Spec.Containers[0].VolumeMounts[0].SubPath = "../x" }), c0 + ".volumeMounts[0].subPath", FieldValueInvalid, ".."},
		{"volume name required", vtPodWith(func(p *Pod) { p.Spec.Volumes[2].Name = "" }), "spec.volumes[2].name", FieldValueRequired, ""},
		{"volume name invalid", vtPodWith(func(p *Pod) { p.Spec.Volumes[2].Name = "Host" }), "spec.volumes[2].name", FieldValueInvalid, ""},
		{"volume name duplicate", vtPodWith(func(p *Pod) { p.Spec.Volumes[2].Name = "data" }), "spec.volumes[2].name", FieldValueDuplicate, ""},
		{"volume no source", vtPodWith(func(p *Pod) { p.Spec.Volumes[2].HostPath = nil }), "spec.volumes[2]", FieldValueRequired, "must specify exactly one volume source"},
		{"volume two sources", vtPodWith(func(p *Pod) { p.Spec.Volumes[0].HostPath = &HostPathVolumeSource{Path: "/x"} }), "spec.volumes[0].hostPath", FieldValueForbidden, "may not specify more than 1 volume type"},
		{"hostPath required", vtPodWith(func(p *Pod) { p.Spec.Volumes[2].HostPath.Path = "" }), "spec.volumes[2].hostPath.path", FieldValueRequired, ""},
		{"hostPath relative", vtPodWith(func(p *Pod) { p.Spec.Volumes[2].HostPath.Path = "var/log" }), "spec.volumes[2].hostPath.path", FieldValueInvalid, "absolute"},
		{"hostPath type", vtPodWith(func(p *Pod) { p.Spec.Volumes[2].HostPath.Type = vtString("Dir") }), "spec.volumes[2].hostPath.type", FieldValueNotSupported, ""},
		{"secretName required", vtPodWith(func(p *Pod) { p.Spec.Volumes[1].Secret.SecretName = "" }), "spec.volumes[1].secret.secretName", FieldValueRequired, ""},
		{"claimName required", vtPodWith(func(p *Pod) { p.Spec.Volumes[3].PersistentVolumeClaim.ClaimName = "" }), "spec.volumes[3].persistentVolumeClaim.claimName", FieldValueRequired, ""},
		{"emptyDir sizeLimit", vtPodWith(func(p *Pod) { q := MustParseQuantity("-1Gi"); p.Spec.Volumes[0].EmptyDir.SizeLimit = &q }), "spec.volumes[0].emptyDir.sizeLimit", FieldValueInvalid, ""},
		{"restartPolicy", vtPodWith(func(p *Pod) { p.Spec.RestartPolicy = "Sometimes" }), "spec.restartPolicy", FieldValueNotSupported, `"Always", "OnFailure", "Never"`},
		{"imagePullPolicy", vtPodWith(func(p *Pod) { p.Spec.Containers[0].ImagePullPolicy = "Maybe" }), c0 + ".imagePullPolicy", FieldValueNotSupported, ""},
		{"dnsPolicy", vtPodWith(func(p *Pod) { p.Spec.DNSPolicy = "Cluster" }), "spec.dnsPolicy", FieldValueNotSupported, ""},
		{"grace period", vtPodWith(func(p *Pod) { p.Spec.TerminationGracePeriodSeconds = vtInt64(-1) }), "spec.terminationGracePeriodSeconds", FieldValueInvalid, ""},
		{"nodeName", vtPodWith(func(p *Pod) { p.Spec.NodeName = "Node 1" }), "spec.nodeName", FieldValueInvalid, ""},
		{"nodeSelector key", vtPodWith(func(p *Pod) { p.Spec.NodeSelector["-bad"] = "x" }), "spec.nodeSelector[-bad]", FieldValueInvalid, ""},
		{"nodeSelector value", vtPodWith(func(p *Pod) { p.Spec.NodeSelector["kubernetes.io/os"] = "linux!" }), "spec.nodeSelector[kubernetes.io/os]", FieldValueInvalid, ""},
		{"probe no handler", vtPodWith(func(p *Pod) { p.Spec.Containers[0].LivenessProbe = &Probe{} }), c0 + ".livenessProbe", FieldValueRequired, "must specify a handler type"},
		{"probe two handlers", vtPodWith(func(p *Pod) {
			p.Spec.Containers[0].ReadinessProbe.Exec = &ExecAction{Command: []string{"true"}}
		}), c0 + ".readinessProbe.tcpSocket", FieldValueForbidden, "may not specify more than 1 handler type"},
		{"probe port number", vtPodWith(func(p *Pod) { p.Spec.Containers[0].ReadinessProbe.TCPSocket.Port = FromInt(0) }), c0 + ".readinessProbe.tcpSocket.port", FieldValueInvalid, ""},
		{"probe port name", vtPodWith(func(p *Pod) { p.Spec.Containers[0].LivenessProbe.HTTPGet.Port = FromString("Http_") }), c0 + ".livenessProbe.httpGet.port", FieldValueInvalid, ""},
		{"probe scheme", vtPodWith(func(p *Pod) { p.Spec.Containers[0].LivenessProbe.HTTPGet.Scheme = "FTP" }), c0 + ".livenessProbe.httpGet.scheme", FieldValueNotSupported, ""},
		{"probe exec command", vtPodWith(func(p *Pod) { p.Spec.Containers[0].LivenessProbe = &Probe{Exec: &ExecAction{}} }), c0 + ".livenessProbe.exec.command", FieldValueRequired, ""},
		{"probe negative period", vtPodWith(func(p *Pod) { p.Spec.Containers[0].ReadinessProbe.PeriodSeconds = -1 }), c0 + ".readinessProbe.periodSeconds", FieldValueInvalid, ""},
		{"liveness successThreshold", vtPodWith(func(p *Pod) { p.Spec.Containers[0].LivenessProbe.SuccessThreshold = 2 }), c0 + ".livenessProbe.successThreshold", FieldValueInvalid, "must be 1"},
		{"runAsUser", vtPodWith(func(p *Pod) { p.Spec.SecurityContext.RunAsUser = vtInt64(-1) }), "spec.securityContext.runAsUser", FieldValueInvalid, ""},
		{"runAsGroup", vtPodWith(func(p *Pod) { p.Spec.SecurityContext.RunAsGroup = vtInt64(-1) }), "spec.securityContext.runAsGroup", FieldValueInvalid, ""},
		{"fsGroup", vtPodWith(func(p *Pod) { p.Spec.SecurityContext.FSGroup = vtInt64(-5) }), "spec.securityContext.fsGroup", FieldValueInvalid, ""},
		{"supplementalGroups", vtPodWith(func(p *Pod) { p.Spec.SecurityContext.SupplementalGroups = []int64{1, -1} }), "spec.securityContext.supplementalGroups[1]", FieldValueInvalid, ""},
		{"supplementalGroupsPolicy", vtPodWith(func(p *Pod) { p.Spec.SecurityContext.SupplementalGroupsPolicy = vtString("Union") }), "spec.securityContext.supplementalGroupsPolicy", FieldValueNotSupported, `"Merge", "Strict"`},
		{"container runAsUser", vtPodWith(func(p *Pod) {
			p.Spec.Containers[0].SecurityContext = &SecurityContext{RunAsUser: vtInt64(-1)}
		}), c0 + ".securityContext.runAsUser", FieldValueInvalid, ""},
		{"toleration operator", vtPodWith(func(p *Pod) { p.Spec.Tolerations = []Toleration{{Key: "k", Operator: "In"}} }), "spec.tolerations[0].operator", FieldValueNotSupported, ""},
		{"toleration effect", vtPodWith(func(p *Pod) { p.Spec.Tolerations = []Toleration{{Key: "k", Operator: "Exists", Effect: "Never"}} }), "spec.tolerations[0].effect", FieldValueNotSupported, ""},
	})
}

func TestValidateService(t *testing.T) {
	vtRun(t, []vtCase{
		{"type", vtSvcWith(func(s *Service) { s.Spec.Type = "LoadBalancer" }), "spec.type", FieldValueNotSupported, `"ClusterIP", "NodePort"`},
		{"no ports", vtSvcWith(func(s *Service) { s.Spec.Ports = nil }), "spec.ports", FieldValueRequired, ""},
		{"port zero", vtSvcWith(func(s *Service) { s.Spec.Ports[0].Port = 0 }), "spec.ports[0].port", FieldValueInvalid, "between 1 and 65535"},
		{"port too big", vtSvcWith(func(s *Service) { s.Spec.Ports[1].Port = 70000 }), "spec.ports[1].port", FieldValueInvalid, ""},
		{"name required with two ports", vtSvcWith(func(s *Service) { s.Spec.Ports[1].Name = "" }), "spec.ports[1].name", FieldValueRequired, ""},
		{"name duplicate", vtSvcWith(func(s *Service) { s.Spec.Ports[1].Name = "http" }), "spec.ports[1].name", FieldValueDuplicate, ""},
		{"name invalid", vtSvcWith(func(s *Service) { s.Spec.Ports[1].Name = "HTTPS" }), "spec.ports[1].name", FieldValueInvalid, ""},
		{"port duplicate", vtSvcWith(func(s *Service) { s.Spec.Ports[1].Port = 80 }), "spec.ports[1]", FieldValueDuplicate, ""},
		{"protocol", vtSvcWith(func(s *Service) { s.Spec.Ports[0].Protocol = "HTTP" }), "spec.ports[0].protocol", FieldValueNotSupported, ""},
		{"targetPort number", vtSvcWith(func(s *Service) { s.Spec.Ports[1].TargetPort = FromInt(65536) }), "spec.ports[1].targetPort", FieldValueInvalid, ""},
		{"targetPort name", vtSvcWith(func(s *Service) { s.Spec.Ports[0].TargetPort = FromString("no_such_name") }), "spec.ports[0].targetPort", FieldValueInvalid, ""},
		{"nodePort on ClusterIP", vtSvcWith(func(s *Service) { s.Spec.Ports[0].NodePort = 30080 }), "spec.ports[0].nodePort", FieldValueForbidden, "may not be used when `type` is 'ClusterIP'"},
		{"nodePort range", func() Object { s := vtNodePortService(); s.Spec.Ports[0].NodePort = 8080; return s }, "spec.ports[0].nodePort", FieldValueInvalid, "30000-32767"},
		{"nodePort duplicate", func() Object {
			s := vtNodePortService()
			s.Spec.Ports[1].NodePort = 30080
			return s
		}, "spec.ports[1].nodePort", FieldValueDuplicate, ""},
		{"clusterIP", vtSvcWith(func(s *Service) { s.Spec.ClusterIP = "10.96.0.300" }), "spec.clusterIP", FieldValueInvalid, ""},
		{"clusterIP IPv6", vtSvcWith(func(s *Service) { s.Spec.ClusterIP = "fd00::1" }), "spec.clusterIP", FieldValueInvalid, ""},
		{"headless NodePort", func() Object { s := vtNodePortService(); s.Spec.ClusterIP = "None"; return s }, "spec.clusterIP", FieldValueInvalid, ""},
		{"sessionAffinity", vtSvcWith(func(s *Service) { s.Spec.SessionAffinity = "Sticky" }), "spec.sessionAffinity", FieldValueNotSupported, ""},
		{"selector value", vtSvcWith(func(s *Service) { s.Spec.Selector["app"] = "web!" }), "spec.selector[app]", FieldValueInvalid, ""},
		{"selector key", vtSvcWith(func(s *Service) { s.Spec.Selector["/app"] = "web" }), "spec.selector[/app]", FieldValueInvalid, ""},
	})
}

func TestValidateEndpoints(t *testing.T) {
	with := func(f func(e *Endpoints)) func() Object {
		return func() Object { e := vtEndpoints(); f(e); return e }
	}
	vtRun(t, []vtCase{
		{"ip", with(func(e *Endpoints) { e.Subsets[0].Addresses[0].IP = "10.244.1" }), "subsets[0].addresses[0].ip", FieldValueInvalid, ""},
		{"ip required", with(func(e *Endpoints) { e.Subsets[0].Addresses[1].IP = "" }), "subsets[0].addresses[1].ip", FieldValueRequired, ""},
		{"not ready ip", with(func(e *Endpoints) { e.Subsets[0].NotReadyAddresses[0].IP = "pod-a" }), "subsets[0].notReadyAddresses[0].ip", FieldValueInvalid, ""},
		{"port", with(func(e *Endpoints) { e.Subsets[0].Ports[0].Port = 0 }), "subsets[0].ports[0].port", FieldValueInvalid, ""},
		{"protocol", with(func(e *Endpoints) { e.Subsets[0].Ports[1].Protocol = "ICMP" }), "subsets[0].ports[1].protocol", FieldValueNotSupported, ""},
		{"port name required", with(func(e *Endpoints) { e.Subsets[0].Ports[1].Name = "" }), "subsets[0].ports[1].name", FieldValueRequired, ""},
		{"port name duplicate", with(func(e *Endpoints) { e.Subsets[0].Ports[1].Name = "http" }), "subsets[0].ports[1].name", FieldValueDuplicate, ""},
	})
}

func TestValidateReplicaSet(t *testing.T) {
	tpl := "spec.template.spec"
	vtRun(t, []vtCase{
		{"replicas", vtRSWith(func(r *ReplicaSet) { r.Spec.Replicas = vtInt32(-1) }), "spec.replicas", FieldValueInvalid, ""},
		{"selector required", vtRSWith(func(r *ReplicaSet) { r.Spec.Selector = nil }), "spec.selector", FieldValueRequired, ""},
		{"selector empty", vtRSWith(func(r *ReplicaSet) { r.Spec.Selector = &LabelSelector{} }), "spec.selector", FieldValueInvalid, "empty selector"},
		{"selector invalid", vtRSWith(func(r *ReplicaSet) {
			r.Spec.Selector.MatchExpressions[0].Operator = "Like"
		}), "spec.selector", FieldValueInvalid, ""},
		{"selector does not match", vtRSWith(func(r *ReplicaSet) { r.Spec.Template.Labels = map[string]string{"app": "db"} }),
			"spec.template.metadata.labels", FieldValueInvalid, "selector does not match template labels"},
		{"selector expression does not match", vtRSWith(func(r *ReplicaSet) { r.Spec.Template.Labels["tier"] = "db" }),
			"spec.template.metadata.labels", FieldValueInvalid, "selector does not match template labels"},
		{"template label value", vtRSWith(func(r *ReplicaSet) {
			r.Spec.Selector = &LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "app", Operator: LabelSelectorOpExists}}}
			r.Spec.Template.Labels["app"] = "web!"
		}), "spec.template.metadata.labels[app]", FieldValueInvalid, ""},
		{"template restartPolicy", vtRSWith(func(r *ReplicaSet) { r.Spec.Template.Spec.RestartPolicy = RestartPolicyNever }),
			tpl + ".restartPolicy", FieldValueNotSupported, `"Always"`},
		{"template image", vtRSWith(func(r *ReplicaSet) { r.Spec.Template.Spec.Containers[0].Image = "" }), tpl + ".containers[0].image", FieldValueRequired, ""},
		{"template volume", vtRSWith(func(r *ReplicaSet) { r.Spec.Template.Spec.Volumes[1].Secret.SecretName = "" }), tpl + ".volumes[1].secret.secretName", FieldValueRequired, ""},
		{"name", vtRSWith(func(r *ReplicaSet) { r.Name = "web_1" }), "metadata.name", FieldValueInvalid, ""},
	})
}

func TestValidateSecret(t *testing.T) {
	with := func(f func(s *Secret)) func() Object {
		return func() Object { s := vtSecret(); f(s); return s }
	}
	vtRun(t, []vtCase{
		{"key empty", with(func(s *Secret) { s.Data[""] = []byte("x") }), "data[]", FieldValueRequired, ""},
		{"key chars", with(func(s *Secret) { s.Data["a/b"] = []byte("x") }), "data[a/b]", FieldValueInvalid, "valid config key"},
		{"key dotdot", with(func(s *Secret) { s.Data["..a"] = []byte("x") }), "data[..a]", FieldValueInvalid, ""},
		{"key too long", with(func(s *Secret) { s.Data[strings.Repeat("k", 254)] = nil }), "data[" + strings.Repeat("k", 254) + "]", FieldValueInvalid, "253"},
		{"stringData key", with(func(s *Secret) { s.StringData["a b"] = "x" }), "stringData[a b]", FieldValueInvalid, ""},
		{"too big", with(func(s *Secret) {
			s.Data["a"] = make([]byte, 1<<19)
			s.Data["b"] = make([]byte, 1<<19)
		}), "data", FieldValueTooLong, "1048576"},
		{"tls keys", with(func(s *Secret) { s.Type = SecretTypeTLS }), "data[tls.key]", FieldValueRequired, ""},
	})
}

func TestValidateNamespaceNodeEvent(t *testing.T) {
	node := func(f func(n *Node)) func() Object {
		return func() Object { n := vtNode(); f(n); return n }
	}
	event := func(f func(e *Event)) func() Object {
		return func() Object { e := vtEvent(); f(e); return e }
	}
	vtRun(t, []vtCase{
		{"namespace phase", func() Object { n := vtNamespace(); n.Status.Phase = "Gone"; return n }, "status.phase", FieldValueNotSupported, ""},
		{"node namespace", node(func(n *Node) { n.Namespace = "default" }), "metadata.namespace", FieldValueForbidden, ""},
		{"node address type", node(func(n *Node) { n.Status.Addresses[0].Type = "PublicIP" }), "status.addresses[0].type", FieldValueNotSupported, "InternalDNS"},
		{"node address", node(func(n *Node) { n.Status.Addresses[1].Address = "" }), "status.addresses[1].address", FieldValueRequired, ""},
		{"node taint effect", node(func(n *Node) { n.Spec.Taints[0].Effect = "" }), "spec.taints[0].effect", FieldValueRequired, ""},
		{"event name", event(func(e *Event) { e.InvolvedObject.Name = "" }), "involvedObject.name", FieldValueRequired, ""},
		{"event kind", event(func(e *Event) { e.InvolvedObject.Kind = "" }), "involvedObject.kind", FieldValueRequired, ""},
		{"event namespace", event(func(e *Event) { e.InvolvedObject.Namespace = "other" }), "involvedObject.namespace", FieldValueInvalid, ""},
		{"event type", event(func(e *Event) { e.Type = "Error" }), "type", FieldValueNotSupported, `"Normal", "Warning"`},
	})
}

func TestValidateUpdate(t *testing.T) {
	type upd struct {
		name  string
		old   func() Object
		new   func(Object) // mutates a copy of old
		field string       // "" means valid
		typ   string
	}
	cases := []upd{
		{"pod image may change", func() Object { return vtPod() }, func(o Object) { o.(*Pod).Spec.Containers[0].Image = "nginx:1.28" }, "", ""},
		{"pod labels may change", func() Object { return vtPod() }, func(o Object) { o.(*Pod).Labels["v"] = "2" }, "", ""},
		{"pod nodeName may be set", func() Object { return vtPod() }, func(o Object) { o.(*Pod).Spec.NodeName = "node-1" }, "", ""},
		{"pod nodeName once set", func() Object { p := vtPod(); p.Spec.NodeName = "node-1"; return p },
			func(o Object) { o.(*Pod).Spec.NodeName = "node-2" }, "spec.nodeName", FieldValueInvalid},
		{"pod container added", func() Object { return vtPod() }, func(o Object) {
			p := o.(*Pod)
			p.Spec.Containers = append(p.Spec.Containers, Container{Name: "sidecar", Image: "busybox"})
		}, "spec.containers", FieldValueForbidden},
		{"pod container renamed", func() Object { return vtPod() }, func(o Object) { o.(*Pod).Spec.Containers[0].Name = "web" },
			"spec.containers[0].name", FieldValueInvalid},
		{"pod volumes", func() Object { return vtPod() }, func(o Object) { o.(*Pod).Spec.Volumes[2].HostPath.Path = "/tmp" },
			"spec.volumes", FieldValueForbidden},
		{"pod restartPolicy", func() Object { return vtPod() }, func(o Object) { o.(*Pod).Spec.RestartPolicy = RestartPolicyNever },
			"spec.restartPolicy", FieldValueInvalid},
		{"name", func() Object { return vtPod() }, func(o Object) { o.(*Pod).Name = "web-1" }, "metadata.name", FieldValueInvalid},
		{"namespace", func() Object { return vtSecret() }, func(o Object) { o.(*Secret).Namespace = "other" }, "metadata.namespace", FieldValueInvalid},
		{"node name", func() Object { return vtNode() }, func(o Object) { o.(*Node).Name = "node-2" }, "metadata.name", FieldValueInvalid},
		{"uid", func() Object { p := vtPod(); p.UID = "a"; return p }, func(o Object) { o.(*Pod).UID = "b" }, "metadata.uid", FieldValueInvalid},
		{"clusterIP may be allocated", func() Object { s := vtService(); s.Spec.ClusterIP = ""; return s },
			func(o Object) { o.(*Service).Spec.ClusterIP = "10.96.0.11" }, "", ""},
		{"clusterIP once set", func() Object { return vtService() }, func(o Object) { o.(*Service).Spec.ClusterIP = "10.96.0.11" },
			"spec.clusterIP", FieldValueInvalid},
		{"service ports may change", func() Object { return vtService() }, func(o Object) { o.(*Service).Spec.Ports[0].Port = 8080 }, "", ""},
		{"secret data may change", func() Object { return vtSecret() }, func(o Object) { o.(*Secret).Data["password"] = []byte("x") }, "", ""},
		{"immutable secret data", func() Object { s := vtSecret(); s.Immutable = vtBool(true); return s },
			func(o Object) { o.(*Secret).Data["password"] = []byte("x") }, "data", FieldValueForbidden},
		{"immutable secret flag", func() Object { s := vtSecret(); s.Immutable = vtBool(true); return s },
			func(o Object) { o.(*Secret).Immutable = vtBool(false) }, "immutable", FieldValueForbidden},
		{"immutable secret labels may change", func() Object { s := vtSecret(); s.Immutable = vtBool(true); return s },
			func(o Object) { o.(*Secret).Labels = map[string]string{"a": "b"} }, "", ""},
		{"secret type", func() Object { return vtSecret() }, func(o Object) { o.(*Secret).Type = "example.com/other" }, "type", FieldValueInvalid},
		{"replicaset replicas may change", func() Object { return vtReplicaSet() }, func(o Object) { o.(*ReplicaSet).Spec.Replicas = vtInt32(5) }, "", ""},
		{"replicaset selector", func() Object { return vtReplicaSet() }, func(o Object) {
			r := o.(*ReplicaSet)
			r.Spec.Selector = &LabelSelector{MatchLabels: map[string]string{"app": "web"}}
		}, "spec.selector", FieldValueInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := tc.old()
			Default(old)
			obj := tc.old()
			Default(obj)
			tc.new(obj)
			errs := ValidateUpdate(obj, old)
			if tc.field == "" {
				if len(errs) != 0 {
					t.Fatalf("unexpected errors: %v", errs)
				}
				return
			}
			if len(errs) != 1 || errs[0].Field != tc.field || errs[0].Type != tc.typ {
				t.Fatalf("want one %s at %s; got %v", tc.typ, tc.field, errs)
			}
		})
	}
	// Validate's errors are reported too, and a change of kind is refused.
	old := vtPod()
	bad := vtPod()
	bad.Spec.Containers[0].Image = ""
	if errs := ValidateUpdate(bad, old); len(errs) != 1 || errs[0].Field != "spec.containers[0].image" {
		t.Errorf("invalid update: %v", errs)
	}
	if errs := ValidateUpdate(vtService(), vtPod()); len(errs) == 0 {
		t.Errorf("kind change: no errors")
	}
}

func TestNameHelpers(t *testing.T) {
	for _, s := range []string{"a", "my-name", "123-abc", strings.Repeat("a", 63)} {
		if err := IsDNS1123Label(s); err != nil {
			t.Errorf("IsDNS1123Label(%q) = %v", s, err)
		}
	}
	for _, s := range []string{"", "A", "-a", "a-", "a.b", "a_b", strings.Repeat("a", 64)} {
		if err := IsDNS1123Label(s); err == nil {
			t.Errorf("IsDNS1123Label(%q) = nil", s)
		}
	}
	for _, s := range []string{"a", "example.com", "a-b.c-d", strings.Repeat("a", 63) + "." + strings.Repeat("b", 63)} {
		if err := IsDNS1123Subdomain(s); err != nil {
			t.Errorf("IsDNS1123Subdomain(%q) = %v", s, err)
		}
	}
	for _, s := range []string{"", "a..b", ".a", "a.", "A.b", "a_b", strings.Repeat("a", 254)} {
		if err := IsDNS1123Subdomain(s); err == nil {
			t.Errorf("IsDNS1123Subdomain(%q) = nil", s)
		}
	}
	for _, s := range []string{"http", "h2c", "web-80", strings.Repeat("a", 15)} {
		if err := IsValidPortName(s); err != nil {
			t.Errorf("IsValidPortName(%q) = %v", s, err)
		}
	}
	for _, s := range []string{"", "80", "-http", "http-", "a--b", "HTTP", "a_b", strings.Repeat("a", 16)} {
		if err := IsValidPortName(s); err == nil {
			t.Errorf("IsValidPortName(%q) = nil", s)
		}
	}
	for _, s := range []string{"PATH", "_x", "my.env-name", "-a"} {
		if err := IsEnvVarName(s); err != nil {
			t.Errorf("IsEnvVarName(%q) = %v", s, err)
		}
	}
	for _, s := range []string{"", "1A", "A=B", "A B"} {
		if err := IsEnvVarName(s); err == nil {
			t.Errorf("IsEnvVarName(%q) = nil", s)
		}
	}
	want := "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc')"
	if err := IsDNS1123Label("My_Name"); err == nil || err.Error() != want {
		t.Errorf("IsDNS1123Label message = %v", err)
	}
}
