package api

import "strings"

// Defaulted values, as Kubernetes spells them.
const (
	// DefaultSchedulerName is the scheduler a Pod gets when it names none.
	DefaultSchedulerName = "default-scheduler"
	// DNSClusterFirst is the default dnsPolicy: cluster DNS first, then the node's resolvers.
	DNSClusterFirst = "ClusterFirst"
	// DNSClusterFirstWithHostNet is ClusterFirst for Pods on the host network.
	DNSClusterFirstWithHostNet = "ClusterFirstWithHostNet"
	// DNSDefault makes a Pod use the node's resolvers.
	DNSDefault = "Default"
	// ProtocolTCP is the default port protocol.
	ProtocolTCP = "TCP"
	// ProtocolUDP is the UDP port protocol.
	ProtocolUDP = "UDP"
	// ProtocolSCTP is the SCTP port protocol.
	ProtocolSCTP = "SCTP"
	// URISchemeHTTP is the default scheme of an HTTP probe.
	URISchemeHTTP = "HTTP"
	// URISchemeHTTPS makes an HTTP probe use TLS.
	URISchemeHTTPS = "HTTPS"
	// ServiceAffinityNone is the default sessionAffinity of a Service.
	ServiceAffinityNone = "None"
	// ServiceAffinityClientIP sends each client to the same endpoint.
	ServiceAffinityClientIP = "ClientIP"
	// SecretTypeOpaque is the default type of a Secret.
	SecretTypeOpaque = "Opaque"
	// ClusterIPNone marks a headless Service.
	ClusterIPNone = "None"
	// DefaultTerminationGracePeriodSeconds is the grace period a Pod gets when it names none.
	DefaultTerminationGracePeriodSeconds int64 = 30
)

// Default sets Kubernetes' defaults on obj in place. It is idempotent: defaulting a defaulted
// object changes nothing. Kinds without defaults are left alone.
func Default(obj Object) {
	switch o := obj.(type) {
	case *Pod:
		if o == nil {
			return
		}
		DefaultPodSpec(&o.Spec)
		if o.Status.Phase == "" {
			o.Status.Phase = PodPending
		}
	case *Service:
		if o == nil {
			return
		}
		defServiceSpec(&o.Spec)
	case *HorizontalPodAutoscaler:
		if o == nil {
			return
		}
		defHPA(o)
	case *ReplicaSet:
		if o == nil {
			return
		}
		if o.Spec.Replicas == nil {
			one := int32(1)
			o.Spec.Replicas = &one
		}
		DefaultPodSpec(&o.Spec.Template.Spec)
		if len(o.Labels) == 0 && len(o.Spec.Template.Labels) > 0 {
			o.Labels = make(map[string]string, len(o.Spec.Template.Labels))
			for k, v := range o.Spec.Template.Labels {
				o.Labels[k] = v
			}
		}
	case *Secret:
		if o == nil {
			return
		}
		if o.Type == "" {
			o.Type = SecretTypeOpaque
		}
		if len(o.StringData) > 0 {
			if o.Data == nil {
				o.Data = make(map[string][]byte, len(o.StringData))
			}
			for k, v := range o.StringData {
				o.Data[k] = []byte(v)
			}
		}
		o.StringData = nil
	case *Namespace:
		if o == nil {
			return
		}
		if o.Status.Phase == "" {
			o.Status.Phase = NamespaceActive
		}
	case *Event:
		if o == nil {
			return
		}
		if o.Type == "" {
			o.Type = EventTypeNormal
		}
		if o.Count == 0 {
			o.Count = 1
		}
	case *Endpoints:
		if o == nil {
			return
		}
		for i := range o.Subsets {
			for j := range o.Subsets[i].Ports {
				if o.Subsets[i].Ports[j].Protocol == "" {
					o.Subsets[i].Ports[j].Protocol = ProtocolTCP
				}
			}
		}
	}
}

// DefaultPodSpec sets Kubernetes' defaults on a Pod spec in place (also used for the Pod
// templates of controllers): restartPolicy Always, a 30 second termination grace period, dnsPolicy
// ClusterFirst, the default scheduler, and the container defaults (image pull policy, port
// protocols, probe timings, requests from limits).
func DefaultPodSpec(spec *PodSpec) {
	if spec == nil {
		return
	}
	if spec.RestartPolicy == "" {
		spec.RestartPolicy = RestartPolicyAlways
	}
	if spec.TerminationGracePeriodSeconds == nil {
		g := DefaultTerminationGracePeriodSeconds
		spec.TerminationGracePeriodSeconds = &g
	}
	if spec.DNSPolicy == "" {
		spec.DNSPolicy = DNSClusterFirst
	}
	if spec.SchedulerName == "" {
		spec.SchedulerName = DefaultSchedulerName
	}
	for i := range spec.InitContainers {
		defContainer(&spec.InitContainers[i])
	}
	for i := range spec.Containers {
		defContainer(&spec.Containers[i])
	}
}

// defContainer sets the defaults of one container.
func defContainer(c *Container) {
	if c.ImagePullPolicy == "" {
		if defImageTag(c.Image) == "latest" {
			c.ImagePullPolicy = PullAlways
		} else {
			c.ImagePullPolicy = PullIfNotPresent
		}
	}
	for i := range c.Ports {
		if c.Ports[i].Protocol == "" {
			c.Ports[i].Protocol = ProtocolTCP
		}
	}
	defProbe(c.LivenessProbe)
	defProbe(c.ReadinessProbe)
	if len(c.Resources.Limits) > 0 {
		for name, limit := range c.Resources.Limits {
			if _, ok := c.Resources.Requests[name]; ok {
				continue
			}
			if c.Resources.Requests == nil {
				c.Resources.Requests = make(ResourceList, len(c.Resources.Limits))
			}
			c.Resources.Requests[name] = limit
		}
	}
}

// defImageTag returns the tag of an image reference as the pull policy default sees it:
// "latest" when the reference has neither a tag nor a digest (as Docker reads it), "" when it has
// only a digest, and the tag otherwise. "registry:5000/app" has no tag; "app:1.0@sha256:..." has
// tag "1.0".
func defImageTag(image string) string {
	ref := image
	hasDigest := false
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		ref, hasDigest = ref[:i], true
	}
	last := ref
	if i := strings.LastIndexByte(ref, '/'); i >= 0 {
		last = ref[i+1:]
	}
	if i := strings.LastIndexByte(last, ':'); i >= 0 {
		return last[i+1:]
	}
	if hasDigest {
		return ""
	}
	return "latest"
}

// defProbe sets the defaults of a probe, when there is one.
func defProbe(p *Probe) {
	if p == nil {
		return
	}
	if p.TimeoutSeconds == 0 {
		p.TimeoutSeconds = 1
	}
	if p.PeriodSeconds == 0 {
		p.PeriodSeconds = 10
	}
	if p.SuccessThreshold == 0 {
		p.SuccessThreshold = 1
	}
	if p.FailureThreshold == 0 {
		p.FailureThreshold = 3
	}
	if h := p.HTTPGet; h != nil {
		if h.Scheme == "" {
			h.Scheme = URISchemeHTTP
		}
		if h.Path == "" {
			h.Path = "/"
		}
	}
}

// defServiceSpec sets the defaults of a Service spec.
func defServiceSpec(s *ServiceSpec) {
	if s.Type == "" {
		s.Type = ServiceTypeClusterIP
	}
	if s.SessionAffinity == "" {
		s.SessionAffinity = ServiceAffinityNone
	}
	for i := range s.Ports {
		p := &s.Ports[i]
		if p.Protocol == "" {
			p.Protocol = ProtocolTCP
		}
		if p.TargetPort.IsZero() {
			p.TargetPort = FromInt(p.Port)
		}
	}
}
