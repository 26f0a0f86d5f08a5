package api

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// Limits and messages of Kubernetes' validation.
const (
	// DNS1123LabelMaxLength is the longest DNS-1123 label.
	DNS1123LabelMaxLength = 63
	// DNS1123SubdomainMaxLength is the longest DNS-1123 subdomain.
	DNS1123SubdomainMaxLength = 253
	// MaxSecretSize is the most bytes a Secret's data may hold in all.
	MaxSecretSize = 1 << 20
	// TotalAnnotationSizeLimit is the most bytes an object's annotations may hold in all.
	TotalAnnotationSizeLimit = 256 << 10
	// NodePortMin and NodePortMax bound the node ports a NodePort Service may ask for.
	NodePortMin = 30000
	// NodePortMax is the largest node port.
	NodePortMax = 32767

	valDNS1123LabelMsg     = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc')"
	valDNS1123SubdomainMsg = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com')"
	valEnvVarNameMsg       = "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name', or 'MY_ENV.NAME', or 'MyEnvName1')"
	valConfigKeyMsg        = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name', or 'KEY_NAME', or 'key-name')"
	valPortRangeMsg        = "must be between 1 and 65535, inclusive"
	valNonNegativeMsg      = "must be greater than or equal to 0"
	valImmutableMsg        = "field is immutable"
	valIDRangeMsg          = "must be between 0 and 2147483647, inclusive"
)

var (
	valDNS1123LabelRE     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	valDNS1123SubdomainRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	valEnvVarNameRE       = regexp.MustCompile(`^[-._a-zA-Z][-._a-zA-Z0-9]*$`)
	valConfigKeyRE        = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)
	valPortNameCharsRE    = regexp.MustCompile(`^[-a-z0-9]+$`)
	valPortNameLetterRE   = regexp.MustCompile(`[a-z]`)

	valProtocols        = []string{ProtocolTCP, ProtocolUDP, ProtocolSCTP}
	valRestartPolicies  = []string{RestartPolicyAlways, RestartPolicyOnFailure, RestartPolicyNever}
	valPullPolicies     = []string{PullAlways, PullIfNotPresent, PullNever}
	valDNSPolicies      = []string{DNSClusterFirst, DNSClusterFirstWithHostNet, DNSDefault}
	valServiceTypes     = []string{ServiceTypeClusterIP, ServiceTypeNodePort}
	valSessionAffinity  = []string{ServiceAffinityNone, ServiceAffinityClientIP}
	valURISchemes       = []string{URISchemeHTTP, URISchemeHTTPS}
	valEventTypes       = []string{EventTypeNormal, EventTypeWarning}
	valNamespacePhases  = []string{NamespaceActive, NamespaceTerminating}
	valGroupsPolicies   = []string{"Merge", "Strict"}
	valNodeAddressTypes = []string{"InternalIP", "ExternalIP", "Hostname", "InternalDNS", "ExternalDNS"}
	valTaintEffects     = []string{"NoSchedule", "PreferNoSchedule", "NoExecute"}
	valTolerationOps    = []string{"Exists", "Equal"}
	valHostPathTypes    = []string{"", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice"}
	valStorageMedia     = []string{"", "Memory", "HugePages"}
	valContainerRes     = []string{ResourceCPU, ResourceMemory, "ephemeral-storage"}
	valEnvFieldPaths    = []string{"metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels", "metadata.annotations",
		"spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"}
)

// IsDNS1123Label checks that s is a lowercase RFC 1123 label, as Namespace and Service names
// must be: at most 63 lower case alphanumerics or '-', starting and ending with an alphanumeric.
func IsDNS1123Label(s string) error {
	var msgs []string
	if len(s) > DNS1123LabelMaxLength {
		msgs = append(msgs, fmt.Sprintf("must be no more than %d characters", DNS1123LabelMaxLength))
	}
	if !valDNS1123LabelRE.MatchString(s) {
		if valDNS1123SubdomainRE.MatchString(s) {
			msgs = append(msgs, "must not contain dots")
		} else {
			msgs = append(msgs, valDNS1123LabelMsg)
		}
	}
	return valJoin(msgs)
}

// IsDNS1123Subdomain checks that s is a lowercase RFC 1123 subdomain, as most object names must
// be: at most 253 characters of dot-separated DNS-1123 labels.
func IsDNS1123Subdomain(s string) error {
	var msgs []string
	if len(s) > DNS1123SubdomainMaxLength {
		msgs = append(msgs, fmt.Sprintf("must be no more than %d characters", DNS1123SubdomainMaxLength))
	}
	if !valDNS1123SubdomainRE.MatchString(s) {
		msgs = append(msgs, valDNS1123SubdomainMsg)
	}
	return valJoin(msgs)
}

// IsValidPortName checks that s is an IANA service name, as named ports must be: at most 15
// lower case alphanumerics or '-', at least one letter, no leading, trailing or doubled '-'.
func IsValidPortName(s string) error {
	var msgs []string
	if len(s) > 15 {
		msgs = append(msgs, "must be no more than 15 characters")
	}
	if !valPortNameCharsRE.MatchString(s) {
		msgs = append(msgs, "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
	}
	if !valPortNameLetterRE.MatchString(s) {
		msgs = append(msgs, "must contain at least one letter (a-z)")
	}
	if strings.Contains(s, "--") {
		msgs = append(msgs, "must not contain consecutive hyphens")
	}
	if s != "" && (s[0] == '-' || s[len(s)-1] == '-') {
		msgs = append(msgs, "must not begin or end with a hyphen")
	}
	return valJoin(msgs)
}

// IsEnvVarName checks that s may name an environment variable: [-._a-zA-Z][-._a-zA-Z0-9]*.
func IsEnvVarName(s string) error {
	if !valEnvVarNameRE.MatchString(s) {
		return fmt.Errorf("%s", valEnvVarNameMsg)
	}
	return nil
}

// IsConfigMapKey checks that s may be a key of a Secret's data: at most 253 alphanumerics, '-',
// '_' or '.', and neither "." nor "..", nor starting with "..".
func IsConfigMapKey(s string) error {
	var msgs []string
	if len(s) > DNS1123SubdomainMaxLength {
		msgs = append(msgs, fmt.Sprintf("must be no more than %d characters", DNS1123SubdomainMaxLength))
	}
	if !valConfigKeyRE.MatchString(s) {
		msgs = append(msgs, valConfigKeyMsg)
	}
	switch {
	case s == ".":
		msgs = append(msgs, "must not be '.'")
	case s == "..":
		msgs = append(msgs, "must not be '..'")
	case strings.HasPrefix(s, ".."):
		msgs = append(msgs, "must not start with '..'")
	}
	return valJoin(msgs)
}

func valJoin(msgs []string) error {
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(msgs, "; "))
}

// valDetail strips the "invalid key ..." and "invalid label value ..." prefixes of the label
// helpers' errors, which repeat the value the field error prints anyway.
func valDetail(err error) string {
	s := err.Error()
	for _, p := range []string{"invalid key ", "invalid label value "} {
		if strings.HasPrefix(s, p) {
			if i := strings.Index(s, ": "); i >= 0 {
				return s[i+2:]
			}
		}
	}
	return s
}

// Validate checks an object against Kubernetes' rules for its kind. An empty result means valid.
// Fields that defaulting fills (restartPolicy, protocols, types) may also be empty.
func Validate(obj Object) ErrorList {
	meta := Path("metadata")
	switch o := obj.(type) {
	case *Pod:
		errs := ValidateObjectMeta(&o.ObjectMeta, true, IsDNS1123Subdomain, meta)
		return append(errs, ValidatePodSpec(&o.Spec, "spec")...)
	case *Service:
		errs := ValidateObjectMeta(&o.ObjectMeta, true, IsDNS1123Label, meta)
		return append(errs, valServiceSpec(&o.Spec, "spec")...)
	case *Endpoints:
		errs := ValidateObjectMeta(&o.ObjectMeta, true, IsDNS1123Subdomain, meta)
		return append(errs, valEndpoints(o)...)
	case *ReplicaSet:
		errs := ValidateObjectMeta(&o.ObjectMeta, true, IsDNS1123Subdomain, meta)
		return append(errs, valReplicaSetSpec(&o.Spec, "spec")...)
	case *Secret:
		errs := ValidateObjectMeta(&o.ObjectMeta, true, IsDNS1123Subdomain, meta)
		return append(errs, valSecret(o)...)
	case *HorizontalPodAutoscaler:
		errs := ValidateObjectMeta(&o.ObjectMeta, true, IsDNS1123Subdomain, meta)
		return append(errs, valHPA(o)...)
	case *Namespace:
		errs := ValidateObjectMeta(&o.ObjectMeta, false, IsDNS1123Label, meta)
		for i, f := range o.Spec.Finalizers {
			if err := IsQualifiedName(f); err != nil {
				errs = append(errs, Invalid(Path("spec").Child("finalizers").Index(i).String(), f, valDetail(err)))
			}
		}
		if p := o.Status.Phase; p != "" && !slices.Contains(valNamespacePhases, p) {
			errs = append(errs, NotSupported("status.phase", p, valNamespacePhases))
		}
		return errs
	case *Node:
		errs := ValidateObjectMeta(&o.ObjectMeta, false, IsDNS1123Subdomain, meta)
		return append(errs, valNode(o)...)
	case *Event:
		errs := ValidateObjectMeta(&o.ObjectMeta, true, IsDNS1123Subdomain, meta)
		return append(errs, valEvent(o)...)
	}
	return ErrorList{Invalid("kind", fmt.Sprintf("%T", obj), "not a kind minik8s serves")}
}

// ValidateObjectMeta checks an object's metadata: name (with nameFn) or generateName, namespace
// (required when namespaced, forbidden otherwise), labels, annotations, owner references and
// finalizers. path is where the metadata lives, usually "metadata". A nil nameFn means
// IsDNS1123Subdomain.
func ValidateObjectMeta(meta *ObjectMeta, namespaced bool, nameFn func(string) error, path Path) ErrorList {
	if nameFn == nil {
		nameFn = IsDNS1123Subdomain
	}
	var errs ErrorList
	if meta.Name == "" {
		if meta.GenerateName == "" {
			errs = append(errs, Required(path.Child("name").String(), "name or generateName is required"))
		}
	} else if err := nameFn(meta.Name); err != nil {
		errs = append(errs, Invalid(path.Child("name").String(), meta.Name, err.Error()))
	}
	if g := meta.GenerateName; g != "" {
		// As Kubernetes: the prefix may end in '-' or '.', since a random suffix follows.
		masked := g
		if len(g) > 1 && (g[len(g)-1] == '-' || g[len(g)-1] == '.') {
			masked = g + "a"
		}
		if err := nameFn(masked); err != nil {
			errs = append(errs, Invalid(path.Child("generateName").String(), g, err.Error()))
		}
	}
	ns := path.Child("namespace").String()
	if namespaced {
		if meta.Namespace == "" {
			errs = append(errs, Required(ns, ""))
		} else if err := IsDNS1123Label(meta.Namespace); err != nil {
			errs = append(errs, Invalid(ns, meta.Namespace, err.Error()))
		}
	} else if meta.Namespace != "" {
		errs = append(errs, Forbidden(ns, "not allowed on this type"))
	}
	if meta.Generation < 0 {
		errs = append(errs, Invalid(path.Child("generation").String(), meta.Generation, valNonNegativeMsg))
	}
	errs = append(errs, ValidateLabels(meta.Labels, path.Child("labels"))...)
	errs = append(errs, valAnnotations(meta.Annotations, path.Child("annotations"))...)
	controllers := 0
	for i, ref := range meta.OwnerReferences {
		rp := path.Child("ownerReferences").Index(i)
		if ref.APIVersion == "" {
			errs = append(errs, Required(rp.Child("apiVersion").String(), ""))
		}
		if ref.Kind == "" {
			errs = append(errs, Required(rp.Child("kind").String(), ""))
		}
		if ref.Name == "" {
			errs = append(errs, Required(rp.Child("name").String(), ""))
		}
		if ref.UID == "" {
			errs = append(errs, Required(rp.Child("uid").String(), ""))
		}
		if ref.Controller != nil && *ref.Controller {
			controllers++
		}
	}
	if controllers > 1 {
		errs = append(errs, Invalid(path.Child("ownerReferences").String(), controllers, "Only one reference can have Controller set to true"))
	}
	for i, f := range meta.Finalizers {
		if err := IsQualifiedName(f); err != nil {
			errs = append(errs, Invalid(path.Child("finalizers").Index(i).String(), f, valDetail(err)))
		}
	}
	return errs
}

// ValidateLabels checks label keys (qualified names) and values. Errors name the label's field:
// "metadata.labels[app]".
func ValidateLabels(labels map[string]string, path Path) ErrorList {
	var errs ErrorList
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		v := labels[k]
		if err := IsQualifiedName(k); err != nil {
			errs = append(errs, Invalid(path.Key(k).String(), k, valDetail(err)))
		}
		if err := IsValidLabelValue(v); err != nil {
			errs = append(errs, Invalid(path.Key(k).String(), v, valDetail(err)))
		}
	}
	return errs
}

func valAnnotations(annotations map[string]string, path Path) ErrorList {
	var errs ErrorList
	total := 0
	for _, k := range slices.Sorted(maps.Keys(annotations)) {
		total += len(k) + len(annotations[k])
		if err := IsQualifiedName(strings.ToLower(k)); err != nil {
			errs = append(errs, Invalid(path.Key(k).String(), k, valDetail(err)))
		}
	}
	if total > TotalAnnotationSizeLimit {
		errs = append(errs, &FieldError{Type: FieldValueTooLong, Field: path.String(),
			Detail: fmt.Sprintf("may not be more than %d bytes", TotalAnnotationSizeLimit)})
	}
	return errs
}

// ValidatePodSpec checks a Pod spec (of a Pod or of a controller's Pod template). path is where
// the spec lives: "spec" or "spec.template.spec".
func ValidatePodSpec(spec *PodSpec, path Path) ErrorList {
	var errs ErrorList
	volumes, vErrs := valVolumes(spec.Volumes, path.Child("volumes"))
	errs = append(errs, vErrs...)

	if len(spec.Containers) == 0 {
		errs = append(errs, Required(path.Child("containers").String(), ""))
	}
	names := map[string]bool{}
	for i := range spec.InitContainers {
		errs = append(errs, valContainer(&spec.InitContainers[i], true, spec.HostNetwork, volumes, names, path.Child("initContainers").Index(i))...)
	}
	for i := range spec.Containers {
		errs = append(errs, valContainer(&spec.Containers[i], false, spec.HostNetwork, volumes, names, path.Child("containers").Index(i))...)
	}

	if p := spec.RestartPolicy; p != "" && !slices.Contains(valRestartPolicies, p) {
		errs = append(errs, NotSupported(path.Child("restartPolicy").String(), p, valRestartPolicies))
	}
	if p := spec.DNSPolicy; p != "" && !slices.Contains(valDNSPolicies, p) {
		errs = append(errs, NotSupported(path.Child("dnsPolicy").String(), p, valDNSPolicies))
	}
	if g := spec.TerminationGracePeriodSeconds; g != nil && *g < 0 {
		errs = append(errs, Invalid(path.Child("terminationGracePeriodSeconds").String(), *g, valNonNegativeMsg))
	}
	if n := spec.NodeName; n != "" {
		if err := IsDNS1123Subdomain(n); err != nil {
			errs = append(errs, Invalid(path.Child("nodeName").String(), n, err.Error()))
		}
	}
	errs = append(errs, ValidateLabels(spec.NodeSelector, path.Child("nodeSelector"))...)
	if h := spec.Hostname; h != "" {
		if err := IsDNS1123Label(h); err != nil {
			errs = append(errs, Invalid(path.Child("hostname").String(), h, err.Error()))
		}
	}
	if s := spec.Subdomain; s != "" {
		if err := IsDNS1123Label(s); err != nil {
			errs = append(errs, Invalid(path.Child("subdomain").String(), s, err.Error()))
		}
	}
	if s := spec.SchedulerName; s != "" {
		if err := IsDNS1123Subdomain(s); err != nil {
			errs = append(errs, Invalid(path.Child("schedulerName").String(), s, err.Error()))
		}
	}
	if s := spec.ServiceAccountName; s != "" {
		if err := IsDNS1123Subdomain(s); err != nil {
			errs = append(errs, Invalid(path.Child("serviceAccountName").String(), s, err.Error()))
		}
	}
	if sc := spec.SecurityContext; sc != nil {
		sp := path.Child("securityContext")
		errs = append(errs, valID(sc.RunAsUser, sp.Child("runAsUser"))...)
		errs = append(errs, valID(sc.RunAsGroup, sp.Child("runAsGroup"))...)
		errs = append(errs, valID(sc.FSGroup, sp.Child("fsGroup"))...)
		for i, g := range sc.SupplementalGroups {
			errs = append(errs, valID(&g, sp.Child("supplementalGroups").Index(i))...)
		}
		if p := sc.SupplementalGroupsPolicy; p != nil && !slices.Contains(valGroupsPolicies, *p) {
			errs = append(errs, NotSupported(sp.Child("supplementalGroupsPolicy").String(), *p, valGroupsPolicies))
		}
	}
	for i, t := range spec.Tolerations {
		errs = append(errs, valToleration(&t, path.Child("tolerations").Index(i))...)
	}
	return errs
}

func valID(id *int64, path Path) ErrorList {
	if id != nil && (*id < 0 || *id > math.MaxInt32) {
		return ErrorList{Invalid(path.String(), *id, valIDRangeMsg)}
	}
	return nil
}

func valNonNegative(v int64, path Path) ErrorList {
	if v < 0 {
		return ErrorList{Invalid(path.String(), v, valNonNegativeMsg)}
	}
	return nil
}

func valToleration(t *Toleration, path Path) ErrorList {
	var errs ErrorList
	if t.Key != "" {
		if err := IsQualifiedName(t.Key); err != nil {
			errs = append(errs, Invalid(path.Child("key").String(), t.Key, valDetail(err)))
		}
	}
	switch t.Operator {
	case "Exists":
		if t.Value != "" {
			errs = append(errs, Invalid(path.Child("value").String(), t.Value, "value must be empty when `operator` is 'Exists'"))
		}
	case "Equal", "":
		if t.Key == "" {
			errs = append(errs, Invalid(path.Child("operator").String(), t.Operator, "operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
		}
		if err := IsValidLabelValue(t.Value); err != nil {
			errs = append(errs, Invalid(path.Child("value").String(), t.Value, valDetail(err)))
		}
	default:
		errs = append(errs, NotSupported(path.Child("operator").String(), t.Operator, valTolerationOps))
	}
	if t.Effect != "" && !slices.Contains(valTaintEffects, t.Effect) {
		errs = append(errs, NotSupported(path.Child("effect").String(), t.Effect, valTaintEffects))
	}
	if t.TolerationSeconds != nil && t.Effect != "NoExecute" {
		errs = append(errs, Invalid(path.Child("effect").String(), t.Effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
	}
	return errs
}

// valContainer checks one container. names holds the container names seen so far, across
// containers and init containers; volumes the Pod's volume names.
func valContainer(c *Container, init, hostNetwork bool, volumes, names map[string]bool, path Path) ErrorList {
	var errs ErrorList
	np := path.Child("name").String()
	switch {
	case c.Name == "":
		errs = append(errs, Required(np, ""))
	case IsDNS1123Label(c.Name) != nil:
		errs = append(errs, Invalid(np, c.Name, IsDNS1123Label(c.Name).Error()))
	case names[c.Name]:
		errs = append(errs, Duplicate(np, c.Name))
	default:
		names[c.Name] = true
	}

	ip := path.Child("image").String()
	if c.Image == "" {
		errs = append(errs, Required(ip, ""))
	} else if strings.IndexFunc(c.Image, unicode.IsSpace) >= 0 {
		errs = append(errs, Invalid(ip, c.Image, "must not contain whitespace"))
	}
	if p := c.ImagePullPolicy; p != "" && !slices.Contains(valPullPolicies, p) {
		errs = append(errs, NotSupported(path.Child("imagePullPolicy").String(), p, valPullPolicies))
	}

	portNames := map[string]bool{}
	for i, p := range c.Ports {
		pp := path.Child("ports").Index(i)
		if p.Name != "" {
			if err := IsValidPortName(p.Name); err != nil {
				errs = append(errs, Invalid(pp.Child("name").String(), p.Name, err.Error()))
			} else if portNames[p.Name] {
				errs = append(errs, Duplicate(pp.Child("name").String(), p.Name))
			} else {
				portNames[p.Name] = true
			}
		}
		if p.ContainerPort == 0 {
			errs = append(errs, Required(pp.Child("containerPort").String(), ""))
		} else if p.ContainerPort < 1 || p.ContainerPort > 65535 {
			errs = append(errs, Invalid(pp.Child("containerPort").String(), p.ContainerPort, valPortRangeMsg))
		}
		if p.HostPort != 0 {
			if p.HostPort < 1 || p.HostPort > 65535 {
				errs = append(errs, Invalid(pp.Child("hostPort").String(), p.HostPort, valPortRangeMsg))
			} else if hostNetwork && p.HostPort != p.ContainerPort {
				errs = append(errs, Invalid(pp.Child("hostPort").String(), p.HostPort, "must match `containerPort` when `hostNetwork` is true"))
			}
		}
		if p.Protocol != "" && !slices.Contains(valProtocols, p.Protocol) {
			errs = append(errs, NotSupported(pp.Child("protocol").String(), p.Protocol, valProtocols))
		}
	}

	for i := range c.Env {
		errs = append(errs, valEnvVar(&c.Env[i], path.Child("env").Index(i))...)
	}
	errs = append(errs, valResources(&c.Resources, path.Child("resources"))...)

	mountPaths := map[string]bool{}
	for i, m := range c.VolumeMounts {
		mp := path.Child("volumeMounts").Index(i)
		if m.Name == "" {
			errs = append(errs, Required(mp.Child("name").String(), ""))
		} else if !volumes[m.Name] {
			errs = append(errs, Invalid(mp.Child("name").String(), m.Name, "must match the name of a volume in spec.volumes"))
		}
		pathField := mp.Child("mountPath").String()
		switch {
		case m.MountPath == "":
			errs = append(errs, Required(pathField, ""))
		case !strings.HasPrefix(m.MountPath, "/"):
			errs = append(errs, Invalid(pathField, m.MountPath, "must be an absolute path"))
		case mountPaths[m.MountPath]:
			errs = append(errs, Invalid(pathField, m.MountPath, "must be unique"))
		default:
			mountPaths[m.MountPath] = true
		}
		if m.SubPath != "" {
			errs = append(errs, valLocalDescendingPath(m.SubPath, mp.Child("subPath"))...)
		}
	}

	errs = append(errs, valProbe(c.LivenessProbe, true, init, path.Child("livenessProbe"))...)
	errs = append(errs, valProbe(c.ReadinessProbe, false, init, path.Child("readinessProbe"))...)

	if sc := c.SecurityContext; sc != nil {
		sp := path.Child("securityContext")
		errs = append(errs, valID(sc.RunAsUser, sp.Child("runAsUser"))...)
		errs = append(errs, valID(sc.RunAsGroup, sp.Child("runAsGroup"))...)
		if sc.Privileged != nil && *sc.Privileged && sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
			errs = append(errs, Invalid(sp.String(), "", "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
		}
	}
	return errs
}

// valLocalDescendingPath checks a path that must stay below a directory: relative, no "..".
func valLocalDescendingPath(p string, path Path) ErrorList {
	var errs ErrorList
	if strings.HasPrefix(p, "/") {
		errs = append(errs, Invalid(path.String(), p, "must be a relative path"))
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			errs = append(errs, Invalid(path.String(), p, "must not contain '..'"))
			break
		}
	}
	return errs
}

func valEnvVar(e *EnvVar, path Path) ErrorList {
	var errs ErrorList
	np := path.Child("name").String()
	if e.Name == "" {
		errs = append(errs, Required(np, ""))
	} else if err := IsEnvVarName(e.Name); err != nil {
		errs = append(errs, Invalid(np, e.Name, err.Error()))
	}
	if e.ValueFrom == nil {
		return errs
	}
	vp := path.Child("valueFrom")
	if e.Value != "" {
		errs = append(errs, Invalid(vp.String(), "", "may not be specified when `value` is not empty"))
	}
	n := 0
	if f := e.ValueFrom.FieldRef; f != nil {
		n++
		fp := vp.Child("fieldRef").Child("fieldPath").String()
		switch {
		case f.FieldPath == "":
			errs = append(errs, Required(fp, ""))
		case valEnvFieldPathOK(f.FieldPath):
		default:
			errs = append(errs, NotSupported(fp, f.FieldPath, valEnvFieldPaths))
		}
	}
	if s := e.ValueFrom.SecretKeyRef; s != nil {
		n++
		sp := vp.Child("secretKeyRef")
		if n > 1 {
			errs = append(errs, Invalid(vp.String(), "", "may not have more than one field specified at a time"))
		}
		if s.Name == "" {
			errs = append(errs, Required(sp.Child("name").String(), ""))
		}
		if s.Key == "" {
			errs = append(errs, Required(sp.Child("key").String(), ""))
		} else if err := IsConfigMapKey(s.Key); err != nil {
			errs = append(errs, Invalid(sp.Child("key").String(), s.Key, err.Error()))
		}
	}
	if n == 0 {
		errs = append(errs, Invalid(vp.String(), "", "must specify one of: `fieldRef` or `secretKeyRef`"))
	}
	return errs
}

// valEnvFieldPathOK reports whether the downward API supports fieldPath: one of the plain paths,
// or metadata.labels['key'] / metadata.annotations['key'].
func valEnvFieldPathOK(fp string) bool {
	if slices.Contains(valEnvFieldPaths, fp) {
		return fp != "metadata.labels" && fp != "metadata.annotations"
	}
	for _, prefix := range []string{"metadata.labels['", "metadata.annotations['"} {
		if rest, ok := strings.CutPrefix(fp, prefix); ok {
			key, ok := strings.CutSuffix(rest, "']")
			return ok && IsQualifiedName(key) == nil
		}
	}
	return false
}

// valResourceName reports whether a container may request a resource: the standard ones, or an
// extended resource named with a domain ("example.com/gpu").
func valResourceName(name string) (standard bool, err error) {
	if slices.Contains(valContainerRes, name) {
		return true, nil
	}
	if strings.HasPrefix(name, "hugepages-") {
		return true, nil
	}
	if !strings.Contains(name, "/") {
		return false, fmt.Errorf("must be a standard resource for containers")
	}
	if err := IsQualifiedName(name); err != nil {
		return false, fmt.Errorf("%s", valDetail(err))
	}
	return false, nil
}

func valResources(r *ResourceRequirements, path Path) ErrorList {
	var errs ErrorList
	var zero Quantity
	check := func(list ResourceList, p Path) {
		for _, name := range slices.Sorted(maps.Keys(list)) {
			q := list[name]
			fp := p.Key(name).String()
			standard, err := valResourceName(name)
			if err != nil {
				errs = append(errs, Invalid(fp, name, err.Error()))
				continue
			}
			if q.Cmp(zero) < 0 {
				errs = append(errs, Invalid(fp, q.String(), valNonNegativeMsg))
			} else if !standard && q.MilliValue()%1000 != 0 {
				errs = append(errs, Invalid(fp, q.String(), "must be an integer"))
			}
		}
	}
	check(r.Limits, path.Child("limits"))
	check(r.Requests, path.Child("requests"))
	for _, name := range slices.Sorted(maps.Keys(r.Requests)) {
		req := r.Requests[name]
		lim, ok := r.Limits[name]
		standard, err := valResourceName(name)
		if err != nil {
			continue
		}
		fp := path.Child("requests").Key(name).String()
		switch {
		case standard && ok && req.Cmp(lim) > 0:
			errs = append(errs, Invalid(fp, req.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, lim.String())))
		case !standard && !ok:
			errs = append(errs, Forbidden(path.Child("limits").String(), fmt.Sprintf("must specify a limit for %s", name)))
		case !standard && req.Cmp(lim) != 0:
			errs = append(errs, Invalid(fp, req.String(), fmt.Sprintf("must be equal to %s limit of %s", name, lim.String())))
		}
	}
	return errs
}

func valProbe(p *Probe, liveness, init bool, path Path) ErrorList {
	if p == nil {
		return nil
	}
	if init {
		return ErrorList{Forbidden(path.String(), "may not be set for init containers")}
	}
	var errs ErrorList
	n := 0
	if p.Exec != nil {
		n++
		if len(p.Exec.Command) == 0 {
			errs = append(errs, Required(path.Child("exec").Child("command").String(), ""))
		}
	}
	if h := p.HTTPGet; h != nil {
		hp := path.Child("httpGet")
		if n++; n > 1 {
			errs = append(errs, Forbidden(hp.String(), "may not specify more than 1 handler type"))
		} else {
			errs = append(errs, valPortNumOrName(h.Port, hp.Child("port"))...)
			if h.Scheme != "" && !slices.Contains(valURISchemes, h.Scheme) {
				errs = append(errs, NotSupported(hp.Child("scheme").String(), h.Scheme, valURISchemes))
			}
		}
	}
	if t := p.TCPSocket; t != nil {
		tp := path.Child("tcpSocket")
		if n++; n > 1 {
			errs = append(errs, Forbidden(tp.String(), "may not specify more than 1 handler type"))
		} else {
			errs = append(errs, valPortNumOrName(t.Port, tp.Child("port"))...)
		}
	}
	if n == 0 {
		errs = append(errs, Required(path.String(), "must specify a handler type"))
	}
	errs = append(errs, valNonNegative(int64(p.InitialDelaySeconds), path.Child("initialDelaySeconds"))...)
	errs = append(errs, valNonNegative(int64(p.TimeoutSeconds), path.Child("timeoutSeconds"))...)
	errs = append(errs, valNonNegative(int64(p.PeriodSeconds), path.Child("periodSeconds"))...)
	errs = append(errs, valNonNegative(int64(p.SuccessThreshold), path.Child("successThreshold"))...)
	errs = append(errs, valNonNegative(int64(p.FailureThreshold), path.Child("failureThreshold"))...)
	if liveness && p.SuccessThreshold > 1 {
		errs = append(errs, Invalid(path.Child("successThreshold").String(), p.SuccessThreshold, "must be 1"))
	}
	return errs
}

// valPortNumOrName checks a port given as a number (1-65535) or as a port name.
func valPortNumOrName(v IntOrString, path Path) ErrorList {
	if v.IsString {
		if err := IsValidPortName(v.StrVal); err != nil {
			return ErrorList{Invalid(path.String(), v.StrVal, err.Error())}
		}
		return nil
	}
	if v.IntVal < 1 || v.IntVal > 65535 {
		return ErrorList{Invalid(path.String(), v.IntVal, valPortRangeMsg)}
	}
	return nil
}

// valVolumes checks the Pod's volumes and returns the set of their names.
func valVolumes(volumes []Volume, path Path) (map[string]bool, ErrorList) {
	var errs ErrorList
	names := map[string]bool{}
	for i := range volumes {
		v := &volumes[i]
		vp := path.Index(i)
		np := vp.Child("name").String()
		switch {
		case v.Name == "":
			errs = append(errs, Required(np, ""))
		case IsDNS1123Label(v.Name) != nil:
			errs = append(errs, Invalid(np, v.Name, IsDNS1123Label(v.Name).Error()))
		case names[v.Name]:
			errs = append(errs, Duplicate(np, v.Name))
		}
		if v.Name != "" {
			names[v.Name] = true
		}
		n := 0
		more := func(field string) bool {
			if n++; n > 1 {
				errs = append(errs, Forbidden(vp.Child(field).String(), "may not specify more than 1 volume type"))
				return true
			}
			return false
		}
		if e := v.EmptyDir; e != nil && !more("emptyDir") {
			ep := vp.Child("emptyDir")
			if !slices.Contains(valStorageMedia, e.Medium) {
				errs = append(errs, NotSupported(ep.Child("medium").String(), e.Medium, valStorageMedia))
			}
			if e.SizeLimit != nil && e.SizeLimit.Cmp(Quantity{}) < 0 {
				errs = append(errs, Invalid(ep.Child("sizeLimit").String(), e.SizeLimit.String(), valNonNegativeMsg))
			}
		}
		if h := v.HostPath; h != nil && !more("hostPath") {
			hp := vp.Child("hostPath")
			pp := hp.Child("path").String()
			switch {
			case h.Path == "":
				errs = append(errs, Required(pp, ""))
			case !strings.HasPrefix(h.Path, "/"):
				errs = append(errs, Invalid(pp, h.Path, "must be an absolute path"))
			case slices.Contains(strings.Split(h.Path, "/"), ".."):
				errs = append(errs, Invalid(pp, h.Path, "must not contain '..'"))
			}
			if h.Type != nil && !slices.Contains(valHostPathTypes, *h.Type) {
				errs = append(errs, NotSupported(hp.Child("type").String(), *h.Type, valHostPathTypes))
			}
		}
		if s := v.Secret; s != nil && !more("secret") {
			sp := vp.Child("secret").Child("secretName").String()
			if s.SecretName == "" {
				errs = append(errs, Required(sp, ""))
			} else if err := IsDNS1123Subdomain(s.SecretName); err != nil {
				errs = append(errs, Invalid(sp, s.SecretName, err.Error()))
			}
		}
		if c := v.PersistentVolumeClaim; c != nil && !more("persistentVolumeClaim") {
			if c.ClaimName == "" {
				errs = append(errs, Required(vp.Child("persistentVolumeClaim").Child("claimName").String(), ""))
			}
		}
		if n == 0 {
			errs = append(errs, Required(vp.String(), "must specify exactly one volume source"))
		}
	}
	return names, errs
}

// valIPv4 reports whether s is a dotted-quad IPv4 address.
func valIPv4(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is4()
}

// valIP reports whether s is an IPv4 or IPv6 address without a zone.
func valIP(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Zone() == ""
}

func valServiceSpec(s *ServiceSpec, path Path) ErrorList {
	var errs ErrorList
	if s.Type != "" && !slices.Contains(valServiceTypes, s.Type) {
		errs = append(errs, NotSupported(path.Child("type").String(), s.Type, valServiceTypes))
	}
	headless := s.ClusterIP == ClusterIPNone
	if len(s.Ports) == 0 && !headless {
		errs = append(errs, Required(path.Child("ports").String(), ""))
	}
	type key struct {
		protocol string
		port     int32
	}
	names := map[string]bool{}
	ports := map[key]bool{}
	nodePorts := map[key]bool{}
	for i, p := range s.Ports {
		pp := path.Child("ports").Index(i)
		np := pp.Child("name").String()
		switch {
		case p.Name == "" && len(s.Ports) > 1:
			errs = append(errs, Required(np, ""))
		case p.Name == "":
		case IsDNS1123Label(p.Name) != nil:
			errs = append(errs, Invalid(np, p.Name, IsDNS1123Label(p.Name).Error()))
		case names[p.Name]:
			errs = append(errs, Duplicate(np, p.Name))
		default:
			names[p.Name] = true
		}
		if p.Port < 1 || p.Port > 65535 {
			errs = append(errs, Invalid(pp.Child("port").String(), p.Port, valPortRangeMsg))
		}
		protocol := p.Protocol
		if protocol == "" {
			protocol = ProtocolTCP
		} else if !slices.Contains(valProtocols, protocol) {
			errs = append(errs, NotSupported(pp.Child("protocol").String(), p.Protocol, valProtocols))
		}
		if k := (key{protocol, p.Port}); ports[k] {
			errs = append(errs, Duplicate(pp.String(), fmt.Sprintf("%d/%s", p.Port, protocol)))
		} else {
			ports[k] = true
		}
		if !p.TargetPort.IsZero() {
			errs = append(errs, valPortNumOrName(p.TargetPort, pp.Child("targetPort"))...)
		}
		if p.NodePort != 0 {
			nf := pp.Child("nodePort").String()
			switch {
			case s.Type != ServiceTypeNodePort:
				t := s.Type
				if t == "" {
					t = ServiceTypeClusterIP
				}
				errs = append(errs, Forbidden(nf, fmt.Sprintf("may not be used when `type` is '%s'", t)))
			case p.NodePort < NodePortMin || p.NodePort > NodePortMax:
				errs = append(errs, Invalid(nf, p.NodePort, fmt.Sprintf("provided port is not in the valid range. The range of valid ports is %d-%d", NodePortMin, NodePortMax)))
			case nodePorts[key{protocol, p.NodePort}]:
				errs = append(errs, Duplicate(nf, p.NodePort))
			default:
				nodePorts[key{protocol, p.NodePort}] = true
			}
		}
	}
	cp := path.Child("clusterIP").String()
	switch {
	case s.ClusterIP == "":
	case headless:
		if s.Type == ServiceTypeNodePort {
			errs = append(errs, Invalid(cp, s.ClusterIP, "may not be set to 'None' for NodePort services"))
		}
	case !valIPv4(s.ClusterIP):
		errs = append(errs, Invalid(cp, s.ClusterIP, "must be empty, 'None', or a valid IPv4 address (e.g. 10.9.8.7)"))
	}
	for i, ip := range s.ClusterIPs {
		ipp := path.Child("clusterIPs").Index(i).String()
		if i == 0 && s.ClusterIP != "" && ip != s.ClusterIP {
			errs = append(errs, Invalid(ipp, ip, "must match `clusterIP`"))
		} else if ip != ClusterIPNone && !valIPv4(ip) {
			errs = append(errs, Invalid(ipp, ip, "must be 'None' or a valid IPv4 address (e.g. 10.9.8.7)"))
		}
	}
	if a := s.SessionAffinity; a != "" && !slices.Contains(valSessionAffinity, a) {
		errs = append(errs, NotSupported(path.Child("sessionAffinity").String(), a, valSessionAffinity))
	}
	for i, ip := range s.ExternalIPs {
		if !valIP(ip) {
			errs = append(errs, Invalid(path.Child("externalIPs").Index(i).String(), ip, "must be a valid IP address (e.g. 10.9.8.7 or 2001:db8::ffff)"))
		}
	}
	errs = append(errs, ValidateLabels(s.Selector, path.Child("selector"))...)
	return errs
}

func valEndpoints(e *Endpoints) ErrorList {
	var errs ErrorList
	for i, ss := range e.Subsets {
		sp := Path("subsets").Index(i)
		checkAddrs := func(addrs []EndpointAddress, ap Path) {
			for j, a := range addrs {
				p := ap.Index(j)
				if a.IP == "" {
					errs = append(errs, Required(p.Child("ip").String(), ""))
				} else if !valIP(a.IP) {
					errs = append(errs, Invalid(p.Child("ip").String(), a.IP, "must be a valid IP address"))
				}
				if a.Hostname != "" {
					if err := IsDNS1123Label(a.Hostname); err != nil {
						errs = append(errs, Invalid(p.Child("hostname").String(), a.Hostname, err.Error()))
					}
				}
				if a.NodeName != nil && *a.NodeName != "" {
					if err := IsDNS1123Subdomain(*a.NodeName); err != nil {
						errs = append(errs, Invalid(p.Child("nodeName").String(), *a.NodeName, err.Error()))
					}
				}
			}
		}
		checkAddrs(ss.Addresses, sp.Child("addresses"))
		checkAddrs(ss.NotReadyAddresses, sp.Child("notReadyAddresses"))
		names := map[string]bool{}
		for j, p := range ss.Ports {
			pp := sp.Child("ports").Index(j)
			np := pp.Child("name").String()
			switch {
			case p.Name == "" && len(ss.Ports) > 1:
				errs = append(errs, Required(np, ""))
			case p.Name == "":
			case IsDNS1123Label(p.Name) != nil:
				errs = append(errs, Invalid(np, p.Name, IsDNS1123Label(p.Name).Error()))
			case names[p.Name]:
				errs = append(errs, Duplicate(np, p.Name))
			default:
				names[p.Name] = true
			}
			if p.Port < 1 || p.Port > 65535 {
				errs = append(errs, Invalid(pp.Child("port").String(), p.Port, valPortRangeMsg))
			}
			if p.Protocol != "" && !slices.Contains(valProtocols, p.Protocol) {
				errs = append(errs, NotSupported(pp.Child("protocol").String(), p.Protocol, valProtocols))
			}
		}
	}
	return errs
}

func valReplicaSetSpec(s *ReplicaSetSpec, path Path) ErrorList {
	var errs ErrorList
	if s.Replicas != nil {
		errs = append(errs, valNonNegative(int64(*s.Replicas), path.Child("replicas"))...)
	}
	errs = append(errs, valNonNegative(int64(s.MinReadySeconds), path.Child("minReadySeconds"))...)

	tp := path.Child("template")
	tmp := tp.Child("metadata")
	sel := path.Child("selector").String()
	if s.Selector == nil {
		errs = append(errs, Required(sel, ""))
	} else if selector, err := LabelSelectorAsSelector(s.Selector); err != nil {
		errs = append(errs, Invalid(sel, s.Selector, err.Error()))
	} else if selector.Empty() {
		errs = append(errs, Invalid(sel, s.Selector, "empty selector is invalid for replicaset"))
	} else if !selector.Matches(s.Template.Labels) {
		errs = append(errs, Invalid(tmp.Child("labels").String(), s.Template.Labels, "selector does not match template labels"))
	}

	errs = append(errs, ValidateLabels(s.Template.Labels, tmp.Child("labels"))...)
	errs = append(errs, valAnnotations(s.Template.Annotations, tmp.Child("annotations"))...)
	sp := tp.Child("spec")
	errs = append(errs, ValidatePodSpec(&s.Template.Spec, sp)...)
	if p := s.Template.Spec.RestartPolicy; p != "" && p != RestartPolicyAlways {
		errs = append(errs, NotSupported(sp.Child("restartPolicy").String(), p, []string{RestartPolicyAlways}))
	}
	return errs
}

// Secret types whose data must hold given keys.
const (
	// SecretTypeTLS holds a certificate and its key.
	SecretTypeTLS = "kubernetes.io/tls"
	// SecretTypeDockerConfigJSON holds a ~/.docker/config.json.
	SecretTypeDockerConfigJSON = "kubernetes.io/dockerconfigjson"
)

func valSecret(s *Secret) ErrorList {
	var errs ErrorList
	total := 0
	checkKeys := func(keys []string, sizes func(string) int, p Path) {
		for _, k := range keys {
			total += sizes(k)
			kp := p.Key(k).String()
			if k == "" {
				errs = append(errs, Required(kp, "a key must not be empty"))
			} else if err := IsConfigMapKey(k); err != nil {
				errs = append(errs, Invalid(kp, k, err.Error()))
			}
		}
	}
	checkKeys(slices.Sorted(maps.Keys(s.Data)), func(k string) int { return len(s.Data[k]) }, "data")
	checkKeys(slices.Sorted(maps.Keys(s.StringData)), func(k string) int { return len(s.StringData[k]) }, "stringData")
	if total > MaxSecretSize {
		errs = append(errs, &FieldError{Type: FieldValueTooLong, Field: "data",
			Detail: fmt.Sprintf("may not be more than %d bytes", MaxSecretSize)})
	}
	has := func(k string) bool {
		_, a := s.Data[k]
		_, b := s.StringData[k]
		return a || b
	}
	var need []string
	switch s.Type {
	case SecretTypeTLS:
		need = []string{"tls.crt", "tls.key"}
	case SecretTypeDockerConfigJSON:
		need = []string{".dockerconfigjson"}
	}
	for _, k := range need {
		if !has(k) {
			errs = append(errs, Required(Path("data").Key(k).String(), ""))
		}
	}
	return errs
}

func valNode(n *Node) ErrorList {
	var errs ErrorList
	for i, a := range n.Status.Addresses {
		ap := Path("status").Child("addresses").Index(i)
		if !slices.Contains(valNodeAddressTypes, a.Type) {
			errs = append(errs, NotSupported(ap.Child("type").String(), a.Type, valNodeAddressTypes))
		}
		if a.Address == "" {
			errs = append(errs, Required(ap.Child("address").String(), ""))
		}
	}
	for i, t := range n.Spec.Taints {
		tp := Path("spec").Child("taints").Index(i)
		if t.Key == "" {
			errs = append(errs, Required(tp.Child("key").String(), ""))
		} else if err := IsQualifiedName(t.Key); err != nil {
			errs = append(errs, Invalid(tp.Child("key").String(), t.Key, valDetail(err)))
		}
		if err := IsValidLabelValue(t.Value); err != nil {
			errs = append(errs, Invalid(tp.Child("value").String(), t.Value, valDetail(err)))
		}
		if t.Effect == "" {
			errs = append(errs, Required(tp.Child("effect").String(), ""))
		} else if !slices.Contains(valTaintEffects, t.Effect) {
			errs = append(errs, NotSupported(tp.Child("effect").String(), t.Effect, valTaintEffects))
		}
	}
	return errs
}

func valEvent(e *Event) ErrorList {
	var errs ErrorList
	if e.InvolvedObject.Name == "" {
		errs = append(errs, Required("involvedObject.name", ""))
	}
	if e.InvolvedObject.Kind == "" {
		errs = append(errs, Required("involvedObject.kind", ""))
	}
	if ns := e.InvolvedObject.Namespace; ns != "" && e.Namespace != "" && ns != e.Namespace {
		errs = append(errs, Invalid("involvedObject.namespace", ns, "does not match event.namespace"))
	}
	if e.Type != "" && !slices.Contains(valEventTypes, e.Type) {
		errs = append(errs, NotSupported("type", e.Type, valEventTypes))
	}
	if e.Count < 0 {
		errs = append(errs, Invalid("count", e.Count, valNonNegativeMsg))
	}
	return errs
}

// ValidateUpdate checks obj as Validate does and, against the stored old object, that no
// immutable field changed: metadata.name, metadata.namespace and metadata.uid of every kind; a
// Pod's containers (count and names; images may change), init containers, volumes,
// restartPolicy, and nodeName once set; a Service's clusterIP once set; the data and type of a
// Secret, and data not at all once it is immutable; a ReplicaSet's selector.
func ValidateUpdate(obj, old Object) ErrorList {
	errs := Validate(obj)
	if reflect.TypeOf(obj) != reflect.TypeOf(old) {
		return append(errs, Invalid("kind", fmt.Sprintf("%T", obj), fmt.Sprintf("may not change from %T", old)))
	}
	nm, om := obj.GetObjectMeta(), old.GetObjectMeta()
	meta := Path("metadata")
	errs = append(errs, valImmutable(nm.Name, om.Name, meta.Child("name"))...)
	errs = append(errs, valImmutable(nm.Namespace, om.Namespace, meta.Child("namespace"))...)
	if nm.UID != "" && om.UID != "" {
		errs = append(errs, valImmutable(nm.UID, om.UID, meta.Child("uid"))...)
	}

	switch o := obj.(type) {
	case *Pod:
		errs = append(errs, valPodSpecUpdate(&o.Spec, &old.(*Pod).Spec, "spec")...)
	case *Service:
		oldIP := old.(*Service).Spec.ClusterIP
		if oldIP != "" {
			errs = append(errs, valImmutable(o.Spec.ClusterIP, oldIP, Path("spec").Child("clusterIP"))...)
		}
	case *Secret:
		os := old.(*Secret)
		if os.Type != "" && o.Type != "" {
			errs = append(errs, valImmutable(o.Type, os.Type, "type")...)
		}
		if os.Immutable != nil && *os.Immutable {
			if o.Immutable == nil || !*o.Immutable {
				errs = append(errs, Forbidden("immutable", "field is immutable when `immutable` is set"))
			}
			if !valSameData(o.Data, os.Data) || len(o.StringData) > 0 {
				errs = append(errs, Forbidden("data", "field is immutable when `immutable` is set"))
			}
		}
	case *ReplicaSet:
		if os := old.(*ReplicaSet); os.Spec.Selector != nil && !reflect.DeepEqual(o.Spec.Selector, os.Spec.Selector) {
			errs = append(errs, Invalid(Path("spec").Child("selector").String(), o.Spec.Selector, valImmutableMsg))
		}
	}
	return errs
}

func valImmutable[T comparable](v, old T, path Path) ErrorList {
	if v != old {
		return ErrorList{Invalid(path.String(), v, valImmutableMsg)}
	}
	return nil
}

func valSameData(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}

func valPodSpecUpdate(spec, old *PodSpec, path Path) ErrorList {
	var errs ErrorList
	sameNames := func(cs, olds []Container, p Path, what string) {
		if len(cs) != len(olds) {
			errs = append(errs, Forbidden(p.String(), fmt.Sprintf("pod updates may not add or remove %s", what)))
			return
		}
		for i := range cs {
			errs = append(errs, valImmutable(cs[i].Name, olds[i].Name, p.Index(i).Child("name"))...)
		}
	}
	sameNames(spec.Containers, old.Containers, path.Child("containers"), "containers")
	sameNames(spec.InitContainers, old.InitContainers, path.Child("initContainers"), "init containers")
	if (len(spec.Volumes) > 0 || len(old.Volumes) > 0) && !reflect.DeepEqual(spec.Volumes, old.Volumes) {
		errs = append(errs, Forbidden(path.Child("volumes").String(), "pod updates may not change volumes"))
	}
	errs = append(errs, valImmutable(spec.RestartPolicy, old.RestartPolicy, path.Child("restartPolicy"))...)
	if old.NodeName != "" {
		errs = append(errs, valImmutable(spec.NodeName, old.NodeName, path.Child("nodeName"))...)
	}
	return errs
}
