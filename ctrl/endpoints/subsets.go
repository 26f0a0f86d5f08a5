package endpoints

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/minik8s/minik8s/api"
)

// Subsets returns the endpoints of svc among pods (any Pods; those of other namespaces or that
// the selector does not match are skipped), in a canonical order: subsets by their ports,
// addresses by IP, ports by name. A Service without a selector has none. It is pure and
// does not change its arguments.
func Subsets(svc *api.Service, pods []*api.Pod) []api.EndpointSubset {
	if len(svc.Spec.Selector) == 0 {
		return nil
	}
	sel := api.SelectorFromSet(svc.Spec.Selector)
	type group struct {
		ports           []api.EndpointPort
		ready, notReady []api.EndpointAddress
	}
	groups := map[string]*group{}
	for _, pod := range pods {
		if pod.Namespace != svc.Namespace || !sel.Matches(pod.Labels) || !eligible(pod) {
			continue
		}
		ports, ok := resolvePorts(svc, pod)
		if !ok {
			continue
		}
		k := portsKey(ports)
		g := groups[k]
		if g == nil {
			g = &group{ports: ports}
			groups[k] = g
		}
		if podReady(pod) {
			g.ready = append(g.ready, address(svc, pod))
		} else {
			g.notReady = append(g.notReady, address(svc, pod))
		}
	}
	out := make([]api.EndpointSubset, 0, len(groups))
	for _, g := range groups {
		out = append(out, api.EndpointSubset{Addresses: g.ready, NotReadyAddresses: g.notReady, Ports: g.ports})
	}
	return canonical(out)
}

// eligible reports a Pod that has an address to offer: it has an IP, is not being deleted and
// has not finished.
func eligible(pod *api.Pod) bool {
	return pod.Status.PodIP != "" && pod.DeletionTimestamp == nil &&
		pod.Status.Phase != api.PodSucceeded && pod.Status.Phase != api.PodFailed
}

// podReady reports a Running Pod whose Ready condition is True.
func podReady(pod *api.Pod) bool {
	if pod.Status.Phase != api.PodRunning {
		return false
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == api.PodReady {
			return c.Status == api.ConditionTrue
		}
	}
	return false
}

func address(svc *api.Service, pod *api.Pod) api.EndpointAddress {
	a := api.EndpointAddress{
		IP:        pod.Status.PodIP,
		TargetRef: &api.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
	}
	if n := pod.Spec.NodeName; n != "" {
		a.NodeName = &n
	}
	// As Kubernetes: a Pod's hostname is published when its subdomain is the Service.
	if pod.Spec.Hostname != "" && pod.Spec.Subdomain == svc.Name {
		a.Hostname = pod.Spec.Hostname
	}
	return a
}

// resolvePorts returns the ports of svc as pod serves them, in canonical order; false when the
// Pod serves none of them (a headless Service without ports takes every Pod, without ports).
func resolvePorts(svc *api.Service, pod *api.Pod) ([]api.EndpointPort, bool) {
	if len(svc.Spec.Ports) == 0 {
		return nil, svc.Spec.ClusterIP == api.ClusterIPNone
	}
	var out []api.EndpointPort
	for _, sp := range svc.Spec.Ports {
		protocol := cmp.Or(sp.Protocol, api.ProtocolTCP)
		if port, ok := findPort(pod, sp.TargetPort, sp.Port, protocol); ok {
			out = append(out, api.EndpointPort{Name: sp.Name, Port: port, Protocol: protocol})
		}
	}
	slices.SortFunc(out, comparePorts)
	return out, len(out) > 0
}

// findPort resolves a target port: a number as it is (the Service port when unset), a name by
// the Pod's container ports of that protocol.
func findPort(pod *api.Pod, target api.IntOrString, servicePort int32, protocol string) (int32, bool) {
	if !target.IsString {
		if target.IntVal != 0 {
			return target.IntVal, true
		}
		return servicePort, true
	}
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.Name == target.StrVal && cmp.Or(p.Protocol, api.ProtocolTCP) == protocol {
				return p.ContainerPort, true
			}
		}
	}
	return 0, false
}

func comparePorts(a, b api.EndpointPort) int {
	return cmp.Or(strings.Compare(a.Name, b.Name), cmp.Compare(a.Port, b.Port), strings.Compare(a.Protocol, b.Protocol))
}

func compareAddresses(a, b api.EndpointAddress) int {
	c := strings.Compare(a.IP, b.IP)
	if c == 0 && a.TargetRef != nil && b.TargetRef != nil {
		c = strings.Compare(a.TargetRef.Name, b.TargetRef.Name)
	}
	return c
}

func portsKey(ports []api.EndpointPort) string {
	var b strings.Builder
	for _, p := range ports {
		b.WriteString(p.Name)
		b.WriteByte('/')
		b.WriteString(strconv.Itoa(int(p.Port)))
		b.WriteByte('/')
		b.WriteString(p.Protocol)
		b.WriteByte(',')
	}
	return b.String()
}

// canonical sorts subsets in place (their addresses and ports too) and returns them.
func canonical(subsets []api.EndpointSubset) []api.EndpointSubset {
	for i := range subsets {
		s := &subsets[i]
		slices.SortFunc(s.Addresses, compareAddresses)
		slices.SortFunc(s.NotReadyAddresses, compareAddresses)
		slices.SortFunc(s.Ports, comparePorts)
	}
	slices.SortFunc(subsets, func(a, b api.EndpointSubset) int {
		if c := strings.Compare(portsKey(a.Ports), portsKey(b.Ports)); c != 0 {
			return c
		}
		return slices.CompareFunc(slices.Concat(a.Addresses, a.NotReadyAddresses), slices.Concat(b.Addresses, b.NotReadyAddresses), compareAddresses)
	})
	if len(subsets) == 0 {
		return nil
	}
	return subsets
}

// equalSubsets reports whether a and b list the same endpoints, in whatever order.
func equalSubsets(a, b []api.EndpointSubset) bool {
	ca := canonical(clone(a))
	cb := canonical(clone(b))
	ja, err1 := json.Marshal(ca)
	jb, err2 := json.Marshal(cb)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

func clone(s []api.EndpointSubset) []api.EndpointSubset {
	out := make([]api.EndpointSubset, len(s))
	for i, ss := range s {
		out[i] = api.EndpointSubset{
			Addresses:         slices.Clone(ss.Addresses),
			NotReadyAddresses: slices.Clone(ss.NotReadyAddresses),
			Ports:             slices.Clone(ss.Ports),
		}
	}
	return out
}
