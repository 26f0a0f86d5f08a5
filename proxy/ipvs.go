package proxy

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/minik8s/minik8s/api"
)

// ErrNoIPVS is returned where IPVS mode is asked for and the kernel lacks it.
var ErrNoIPVS = errors.New("the kernel has no IPVS; use --proxy-mode=iptables")

// ipvsProcFile exists where the kernel has IPVS.
const ipvsProcFile = "/proc/net/ip_vs"

// IPVSLink is the dummy link that holds the service addresses in IPVS mode: IPVS only
// sees packets addressed to the node itself.
const IPVSLink = "minik8s-ipvs0"

func kernelHasIPVS() bool {
	_, err := os.Stat(ipvsProcFile)
	return err == nil
}

// ModeFor resolves the --proxy-mode flag: "iptables" and "ipvs" as asked (ipvs fails with
// ErrNoIPVS where the kernel lacks it), and "auto" (also "") takes ipvs where the kernel
// has it and iptables elsewhere.
func ModeFor(flag string) (string, error) { return modeFor(flag, kernelHasIPVS()) }

func modeFor(flag string, hasIPVS bool) (string, error) {
	switch flag {
	case ProxyModeIPTables:
		return ProxyModeIPTables, nil
	case ProxyModeIPVS:
		if !hasIPVS {
			return "", ErrNoIPVS
		}
		return ProxyModeIPVS, nil
	case ProxyModeAuto, "":
		if hasIPVS {
			return ProxyModeIPVS, nil
		}
		return ProxyModeIPTables, nil
	}
	return "", fmt.Errorf("unknown proxy mode %q: use auto, iptables or ipvs", flag)
}

// VirtualServer is an IPVS service: an address, port and protocol that IPVS balances.
type VirtualServer struct {
	IP       string
	Port     uint16
	Protocol string // tcp, udp or sctp
	// Scheduler is IPVS's scheduler name; "rr" for both of Options' modes, as IPVS has
	// no random scheduler.
	Scheduler string
	// Persistence, in seconds, keeps a client on its real server (ClientIP affinity); 0:
	// none.
	Persistence uint32
}

func (v VirtualServer) String() string {
	return v.Protocol + "/" + net.JoinHostPort(v.IP, strconv.Itoa(int(v.Port)))
}

// RealServer is an endpoint behind a VirtualServer.
type RealServer struct {
	IP     string
	Port   uint16
	Weight int
}

func (r RealServer) String() string { return net.JoinHostPort(r.IP, strconv.Itoa(int(r.Port))) }

// IPVS is the part of the kernel's IPVS that the proxy drives. NewKernelIPVS returns the
// real one; fake.IPVS is one in memory. The proxy owns the IPVS table of its network
// namespace: virtual servers it does not want are deleted.
type IPVS interface {
	VirtualServers() ([]VirtualServer, error)
	AddVirtualServer(VirtualServer) error
	DeleteVirtualServer(VirtualServer) error
	RealServers(VirtualServer) ([]RealServer, error)
	AddRealServer(VirtualServer, RealServer) error
	DeleteRealServer(VirtualServer, RealServer) error
	// BindAddresses makes ips exactly the addresses of IPVSLink (creating it), so that
	// packets to them are taken as local and reach IPVS.
	BindAddresses(ips []string) error
}

// IPVSRules is what IPVS mode wants of the kernel.
type IPVSRules struct {
	// Servers are the virtual servers, each with its real servers, sorted.
	Servers map[VirtualServer][]RealServer
	// Addresses are the cluster and external IPs to bind to IPVSLink, sorted.
	Addresses []string
}

// BuildIPVS returns the IPVS state for services and endpoints: a virtual server per
// service port on its cluster IP and external IPs, and on each of opts.NodeIPs for a
// NodePort (IPVS needs the addresses: without NodeIPs there are no NodePorts in IPVS mode).
// Like BuildIPTables it is pure.
func BuildIPVS(services []*api.Service, endpoints []*api.Endpoints, opts Options) IPVSRules {
	return ipvsRules(servicePorts(services, endpoints), opts)
}

func ipvsRules(sps []servicePort, opts Options) IPVSRules {
	out := IPVSRules{Servers: map[VirtualServer][]RealServer{}}
	for _, sp := range sps {
		var reals []RealServer
		for _, e := range sp.endpoints {
			reals = append(reals, RealServer{IP: e.ip, Port: uint16(e.port), Weight: 1})
		}
		var persist uint32
		if sp.affinity {
			persist = defaultAffinitySeconds
		}
		vs := func(ip string, port int32) {
			out.Servers[VirtualServer{IP: ip, Port: uint16(port), Protocol: sp.protocol, Scheduler: "rr", Persistence: persist}] = reals
		}
		vs(sp.clusterIP, sp.port)
		out.Addresses = append(out.Addresses, sp.clusterIP)
		for _, ip := range sp.externalIPs {
			vs(ip, sp.port)
			out.Addresses = append(out.Addresses, ip)
		}
		if sp.nodePort != 0 {
			for _, ip := range opts.NodeIPs {
				if isIPv4(ip) {
					vs(ip, sp.nodePort)
				}
			}
		}
	}
	slices.SortFunc(out.Addresses, compareIP)
	out.Addresses = slices.Compact(out.Addresses)
	return out
}

// SyncIPVS brings h to want with the fewest changes: virtual servers and real servers that
// are not wanted go, missing ones come, the rest are left alone (and with them their
// connections). It is idempotent; it goes on after an error and returns them all.
func SyncIPVS(h IPVS, want IPVSRules) error {
	var errs []error
	if err := h.BindAddresses(want.Addresses); err != nil {
		errs = append(errs, fmt.Errorf("bind service addresses: %w", err))
	}
	have, err := h.VirtualServers()
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("list IPVS services: %w", err))...)
	}
	for _, vs := range have {
		if _, ok := want.Servers[vs]; !ok {
			if err := h.DeleteVirtualServer(vs); err != nil {
				errs = append(errs, fmt.Errorf("delete IPVS service %s: %w", vs, err))
			}
		}
	}
	keys := make([]VirtualServer, 0, len(want.Servers))
	for vs := range want.Servers {
		keys = append(keys, vs)
	}
	slices.SortFunc(keys, func(a, b VirtualServer) int {
		return cmp.Or(compareIP(a.IP, b.IP), cmp.Compare(a.Port, b.Port), strings.Compare(a.Protocol, b.Protocol))
	})
	for _, vs := range keys {
		if !slices.Contains(have, vs) {
			if err := h.AddVirtualServer(vs); err != nil {
				errs = append(errs, fmt.Errorf("add IPVS service %s: %w", vs, err))
				continue
			}
		}
		cur, err := h.RealServers(vs)
		if err != nil {
			errs = append(errs, fmt.Errorf("list real servers of %s: %w", vs, err))
			continue
		}
		wantReals := want.Servers[vs]
		for _, rs := range cur {
			if !slices.Contains(wantReals, rs) {
				if err := h.DeleteRealServer(vs, rs); err != nil {
					errs = append(errs, fmt.Errorf("delete real server %s of %s: %w", rs, vs, err))
				}
			}
		}
		for _, rs := range wantReals {
			if !slices.Contains(cur, rs) {
				if err := h.AddRealServer(vs, rs); err != nil {
					errs = append(errs, fmt.Errorf("add real server %s to %s: %w", rs, vs, err))
				}
			}
		}
	}
	return errors.Join(errs...)
}
