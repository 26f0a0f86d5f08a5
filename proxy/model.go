package proxy

import (
	"cmp"
	"crypto/sha256"
	"encoding/base32"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/minik8s/minik8s/api"
)

// defaultAffinitySeconds is how long ClientIP session affinity sticks (Kubernetes' default).
const defaultAffinitySeconds = 10800

// servicePort is one port of one Service with the ready endpoints behind it: the unit
// that gets a chain (or an IPVS virtual server).
type servicePort struct {
	name        string // ns/name or ns/name:port, kube-proxy's ServicePortName
	protocol    string // tcp, udp, sctp
	clusterIP   string
	port        int32
	nodePort    int32
	externalIPs []string
	affinity    bool
	endpoints   []endpoint // sorted, distinct
}

// endpoint is one ready address and port behind a service port.
type endpoint struct {
	ip   string
	port int32
}

func (e endpoint) String() string { return net.JoinHostPort(e.ip, strconv.Itoa(int(e.port))) }

// servicePorts flattens Services and Endpoints into service ports, sorted by name and
// protocol. Services without a usable IPv4 cluster IP (headless ones, those not yet
// allocated) and addresses that are not IPv4 are left out: iptables here is IPv4.
func servicePorts(services []*api.Service, endpoints []*api.Endpoints) []servicePort {
	eps := map[string]*api.Endpoints{}
	for _, e := range endpoints {
		if e != nil {
			eps[e.Namespace+"/"+e.Name] = e
		}
	}
	var out []servicePort
	for _, svc := range services {
		if svc == nil || !isIPv4(svc.Spec.ClusterIP) {
			continue
		}
		key := svc.Namespace + "/" + svc.Name
		for _, p := range svc.Spec.Ports {
			portName := p.Name
			if portName == "" && len(svc.Spec.Ports) > 1 {
				portName = strconv.Itoa(int(p.Port)) // validation forbids it; stay unique anyway
			}
			protocol := p.Protocol
			if protocol == "" {
				protocol = api.ProtocolTCP
			}
			name := key // kube-proxy's ServicePortName: ns/name[:port]
			if portName != "" {
				name += ":" + portName
			}
			sp := servicePort{
				name:      name,
				protocol:  strings.ToLower(protocol),
				clusterIP: svc.Spec.ClusterIP,
				port:      p.Port,
				affinity:  svc.Spec.SessionAffinity == api.ServiceAffinityClientIP,
			}
			if svc.Spec.Type == api.ServiceTypeNodePort {
				sp.nodePort = p.NodePort
			}
			for _, ip := range svc.Spec.ExternalIPs {
				if isIPv4(ip) {
					sp.externalIPs = append(sp.externalIPs, ip)
				}
			}
			slices.Sort(sp.externalIPs)
			sp.externalIPs = slices.Compact(sp.externalIPs)
			sp.endpoints = endpointsFor(eps[key], p.Name, protocol)
			out = append(out, sp)
		}
	}
	slices.SortFunc(out, func(a, b servicePort) int {
		return cmp.Or(strings.Compare(a.name, b.name), strings.Compare(a.protocol, b.protocol))
	})
	return out
}

// endpointsFor returns the ready addresses of ep on the port named portName (Endpoints
// name their ports after the Service's), sorted and without duplicates.
func endpointsFor(ep *api.Endpoints, portName, protocol string) []endpoint {
	if ep == nil {
		return nil
	}
	var out []endpoint
	for _, ss := range ep.Subsets {
		for _, port := range ss.Ports {
			proto := port.Protocol
			if proto == "" {
				proto = api.ProtocolTCP
			}
			if port.Name != portName || proto != protocol || port.Port < 1 || port.Port > 65535 {
				continue
			}
			for _, a := range ss.Addresses {
				if isIPv4(a.IP) {
					out = append(out, endpoint{ip: a.IP, port: port.Port})
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b endpoint) int {
		return cmp.Or(compareIP(a.ip, b.ip), cmp.Compare(a.port, b.port))
	})
	return slices.Compact(out)
}

func isIPv4(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is4()
}

func compareIP(a, b string) int {
	x, _ := netip.ParseAddr(a)
	y, _ := netip.ParseAddr(b)
	return x.Compare(y)
}

// hashName is kube-proxy's chain-name hash: the first 16 characters of the base32 of the
// SHA-256 of the parts.
func hashName(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "")))
	return base32.StdEncoding.EncodeToString(sum[:])[:16]
}

func (sp servicePort) svcChain() string { return chainSvcPrefix + hashName(sp.name, sp.protocol) }

func (sp servicePort) sepChain(e endpoint) string {
	return chainSepPrefix + hashName(sp.name, sp.protocol, e.String())
}
