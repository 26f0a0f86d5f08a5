package fake

import (
	"fmt"
	"net/netip"
	"slices"
	"sync"

	"github.com/minik8s/minik8s/proxy"
)

// IPVS is an IPVS table in memory. It refuses what the kernel refuses (a virtual server
// added twice, a real server on a missing virtual server) and counts every change. It is
// safe for concurrent use.
type IPVS struct {
	mu      sync.Mutex
	servers map[proxy.VirtualServer][]proxy.RealServer
	addrs   []string
	changes int
}

var _ proxy.IPVS = (*IPVS)(nil)

// NewIPVS returns an empty IPVS table.
func NewIPVS() *IPVS { return &IPVS{servers: map[proxy.VirtualServer][]proxy.RealServer{}} }

// State returns a copy of the table and the bound addresses.
func (f *IPVS) State() proxy.IPVSRules {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := proxy.IPVSRules{Servers: map[proxy.VirtualServer][]proxy.RealServer{}, Addresses: slices.Clone(f.addrs)}
	for vs, rs := range f.servers {
		out.Servers[vs] = slices.Clone(rs)
	}
	return out
}

// Changes returns how many adds, deletes and address changes there were.
func (f *IPVS) Changes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changes
}

func (f *IPVS) VirtualServers() ([]proxy.VirtualServer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []proxy.VirtualServer
	for vs := range f.servers {
		out = append(out, vs)
	}
	return out, nil
}

func (f *IPVS) AddVirtualServer(vs proxy.VirtualServer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.servers[vs]; ok {
		return fmt.Errorf("virtual server %s exists", vs)
	}
	f.servers[vs] = nil
	f.changes++
	return nil
}

func (f *IPVS) DeleteVirtualServer(vs proxy.VirtualServer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.servers[vs]; !ok {
		return fmt.Errorf("no virtual server %s", vs)
	}
	delete(f.servers, vs)
	f.changes++
	return nil
}

func (f *IPVS) RealServers(vs proxy.VirtualServer) ([]proxy.RealServer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rs, ok := f.servers[vs]
	if !ok {
		return nil, fmt.Errorf("no virtual server %s", vs)
	}
	return slices.Clone(rs), nil
}

func (f *IPVS) AddRealServer(vs proxy.VirtualServer, r proxy.RealServer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	rs, ok := f.servers[vs]
	if !ok {
		return fmt.Errorf("no virtual server %s", vs)
	}
	if slices.ContainsFunc(rs, func(x proxy.RealServer) bool { return x.IP == r.IP && x.Port == r.Port }) {
		return fmt.Errorf("real server %s of %s exists", r, vs)
	}
	f.servers[vs] = append(rs, r)
	f.changes++
	return nil
}

func (f *IPVS) DeleteRealServer(vs proxy.VirtualServer, r proxy.RealServer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	rs, ok := f.servers[vs]
	if !ok {
		return fmt.Errorf("no virtual server %s", vs)
	}
	i := slices.Index(rs, r)
	if i < 0 {
		return fmt.Errorf("no real server %s in %s", r, vs)
	}
	f.servers[vs] = slices.Delete(rs, i, i+1)
	f.changes++
	return nil
}

func (f *IPVS) BindAddresses(ips []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	want := slices.Clone(ips)
	slices.SortFunc(want, func(a, b string) int {
		x, _ := netip.ParseAddr(a)
		y, _ := netip.ParseAddr(b)
		return x.Compare(y)
	})
	if !slices.Equal(want, f.addrs) {
		f.addrs = want
		f.changes++
	}
	return nil
}
