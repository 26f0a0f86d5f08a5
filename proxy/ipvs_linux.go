//go:build linux

package proxy

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"syscall"

	"github.com/moby/ipvs"
	"github.com/vishvananda/netlink"
)

// ipvsPersistent is IP_VS_SVC_F_PERSISTENT.
const ipvsPersistent = 0x1

// kernelIPVS is IPVS in the calling process's network namespace, over netlink.
type kernelIPVS struct {
	h *ipvs.Handle
}

var _ IPVS = (*kernelIPVS)(nil)

// NewKernelIPVS returns the kernel's IPVS, or ErrNoIPVS where the kernel lacks it.
func NewKernelIPVS() (IPVS, error) {
	if !kernelHasIPVS() {
		return nil, ErrNoIPVS
	}
	h, err := ipvs.New("")
	if err != nil {
		return nil, fmt.Errorf("open IPVS: %w", err)
	}
	return &kernelIPVS{h: h}, nil
}

var protocols = map[string]uint16{"tcp": syscall.IPPROTO_TCP, "udp": syscall.IPPROTO_UDP, "sctp": 132}

func (k *kernelIPVS) service(v VirtualServer) *ipvs.Service {
	s := &ipvs.Service{Address: net.ParseIP(v.IP).To4(), Protocol: protocols[v.Protocol], Port: v.Port,
		SchedName: v.Scheduler, AddressFamily: syscall.AF_INET, Netmask: 0xffffffff}
	if v.Persistence > 0 {
		s.Flags |= ipvsPersistent
		s.Timeout = v.Persistence
	}
	return s
}

func (k *kernelIPVS) VirtualServers() ([]VirtualServer, error) {
	svcs, err := k.h.GetServices()
	if err != nil {
		return nil, err
	}
	var out []VirtualServer
	for _, s := range svcs {
		if s.AddressFamily != syscall.AF_INET || s.FWMark != 0 {
			continue
		}
		v := VirtualServer{IP: s.Address.String(), Port: s.Port, Scheduler: s.SchedName}
		for name, p := range protocols {
			if p == s.Protocol {
				v.Protocol = name
			}
		}
		if s.Flags&ipvsPersistent != 0 {
			v.Persistence = s.Timeout
		}
		out = append(out, v)
	}
	return out, nil
}

func (k *kernelIPVS) AddVirtualServer(v VirtualServer) error    { return k.h.NewService(k.service(v)) }
func (k *kernelIPVS) DeleteVirtualServer(v VirtualServer) error { return k.h.DelService(k.service(v)) }

func (k *kernelIPVS) RealServers(v VirtualServer) ([]RealServer, error) {
	ds, err := k.h.GetDestinations(k.service(v))
	if err != nil {
		return nil, err
	}
	out := make([]RealServer, 0, len(ds))
	for _, d := range ds {
		out = append(out, RealServer{IP: d.Address.String(), Port: d.Port, Weight: d.Weight})
	}
	return out, nil
}

func (k *kernelIPVS) destination(r RealServer) *ipvs.Destination {
	return &ipvs.Destination{Address: net.ParseIP(r.IP).To4(), Port: r.Port, Weight: r.Weight,
		ConnectionFlags: ipvs.ConnectionFlagMasq, AddressFamily: syscall.AF_INET}
}

func (k *kernelIPVS) AddRealServer(v VirtualServer, r RealServer) error {
	return k.h.NewDestination(k.service(v), k.destination(r))
}

func (k *kernelIPVS) DeleteRealServer(v VirtualServer, r RealServer) error {
	return k.h.DelDestination(k.service(v), k.destination(r))
}

func (k *kernelIPVS) BindAddresses(ips []string) error {
	link, err := netlink.LinkByName(IPVSLink)
	if errors.As(err, new(netlink.LinkNotFoundError)) {
		if err := netlink.LinkAdd(&netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: IPVSLink}}); err != nil {
			return fmt.Errorf("add link %s: %w", IPVSLink, err)
		}
		link, err = netlink.LinkByName(IPVSLink)
	}
	if err != nil {
		return err
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return err
	}
	have, err := netlink.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		return err
	}
	var errs []error
	var bound []string
	for _, a := range have {
		ip := a.IP.String()
		bound = append(bound, ip)
		if !slices.Contains(ips, ip) {
			if err := netlink.AddrDel(link, &a); err != nil {
				errs = append(errs, fmt.Errorf("remove %s from %s: %w", ip, IPVSLink, err))
			}
		}
	}
	for _, ip := range ips {
		if slices.Contains(bound, ip) {
			continue
		}
		a, err := netlink.ParseAddr(ip + "/32")
		if err == nil {
			err = netlink.AddrAdd(link, a)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("add %s to %s: %w", ip, IPVSLink, err))
		}
	}
	return errors.Join(errs...)
}

// cleanupKernelIPVS removes the virtual servers on the addresses of IPVSLink, and the
// link.
func cleanupKernelIPVS() error {
	link, err := netlink.LinkByName(IPVSLink)
	if errors.As(err, new(netlink.LinkNotFoundError)) {
		return nil
	}
	if err != nil {
		return err
	}
	addrs, err := netlink.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		return err
	}
	k, err := NewKernelIPVS()
	if err != nil {
		return err
	}
	vss, err := k.VirtualServers()
	if err != nil {
		return err
	}
	var errs []error
	for _, vs := range vss {
		for _, a := range addrs {
			if a.IP.String() == vs.IP {
				errs = append(errs, k.DeleteVirtualServer(vs))
			}
		}
	}
	errs = append(errs, netlink.LinkDel(link))
	return errors.Join(errs...)
}
