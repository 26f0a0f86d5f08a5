// Package cniplugin is minik8s-cni, minik8s' own CNI plugin: it gives the node's pod
// subnet to the standard bridge and host-local plugins, as Flannel's plugin does.
//
// The kubelet writes the node's lease, its pod subnet, to a file (subnet.env, one
// line MINIK8S_SUBNET=10.244.1.0/24). The plugin reads it at every call, builds
// the bridge plugin's configuration from its own "delegate" settings with
// host-local IPAM on that subnet, the routes and the lease directory, and runs
// bridge (found in CNI_PATH) with the same command, container, netns and
// interface. It returns bridge's result unchanged. Its network configuration:
//
//	{
//	  "cniVersion": "1.0.0", "name": "minik8s", "type": "minik8s-cni",
//	  "subnetFile": "/var/lib/minik8s/cni/subnet.env",
//	  "dataDir": "/var/lib/minik8s/cni/ipam",
//	  "routes": ["10.244.0.0/16", "10.96.0.0/16"],
//	  "delegate": {"bridge": "mk8s0", "isGateway": true, "isDefaultGateway": false,
//	               "ipMasq": false, "hairpinMode": true, "mtu": 1450}
//	}
//
// Pods get routes to "routes" only: a default route (a /0) is refused, and so are
// "isDefaultGateway" and "ipMasq" in the delegate, so nothing is NATed and pods
// reach the cluster's ranges and nothing else.
//
// The minik8s binary is this plugin when it is run under the name BinaryName (the
// kubelet links it into its CNI plugin directory under that name).
package cniplugin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/pkg/version"
)

const (
	// BinaryName is the plugin's name: its "type" in a network configuration, and
	// the name under which the minik8s binary acts as the plugin.
	BinaryName = "minik8s-cni"
	// SubnetVar is the subnet file's variable that holds the node's pod subnet.
	SubnetVar = "MINIK8S_SUBNET"
	// DelegateType is the plugin that minik8s-cni delegates to.
	DelegateType = "bridge"
	// IPAMType is the IPAM plugin the delegate is given.
	IPAMType = "host-local"
)

// SupportedVersions are the CNI specification versions the plugin speaks.
var SupportedVersions = []string{"0.4.0", "1.0.0"}

// NetConf is the plugin's network configuration.
type NetConf struct {
	types.NetConf
	// SubnetFile is the file with the node's pod subnet (required, absolute):
	// MINIK8S_SUBNET=10.244.1.0/24.
	SubnetFile string `json:"subnetFile"`
	// DataDir is host-local's lease directory (absolute); empty leaves host-local's
	// default.
	DataDir string `json:"dataDir,omitempty"`
	// Routes are the destinations the pods get routes to, through the bridge's
	// address. A /0 is refused.
	Routes []string `json:"routes,omitempty"`
	// Delegate is the bridge plugin's own settings (bridge, isGateway, hairpinMode,
	// mtu, ...). The plugin sets type, name, cniVersion and ipam.
	Delegate map[string]any `json:"delegate,omitempty"`
}

// Main runs the plugin: it reads the command from the CNI_* environment and the
// configuration from stdin, and answers on stdout. On an error it prints the CNI
// error and exits with status 1; otherwise it returns.
func Main() {
	skel.PluginMain(cmdAdd, cmdCheck, cmdDel, version.PluginSupports(SupportedVersions...),
		"CNI plugin "+BinaryName+" (minik8s): the node's pod subnet for the "+DelegateType+" and "+IPAMType+" plugins")
}

// delegateOf reads the plugin's configuration and the node's subnet file, and returns the
// configuration to hand to the delegate plugin.
func delegateOf(args *skel.CmdArgs) (*NetConf, []byte, error) {
	conf, err := ParseNetConf(args.StdinData)
	if err != nil {
		return nil, nil, err
	}
	subnet, err := ReadSubnetFile(conf.SubnetFile)
	if err != nil {
		return nil, nil, err
	}
	delegate, err := DelegateConfig(conf, subnet)
	if err != nil {
		return nil, nil, err
	}
	return conf, delegate, nil
}

func cmdAdd(args *skel.CmdArgs) error {
	conf, delegate, err := delegateOf(args)
	if err != nil {
		return err
	}
	ctx := context.Background()
	res, err := invoke.DelegateAdd(ctx, DelegateType, delegate, nil)
	if err != nil {
		return err
	}
	// bridge makes no default route with isDefaultGateway off; make sure of it.
	if err := checkNoDefaultRoute(res); err != nil {
		_ = invoke.DelegateDel(ctx, DelegateType, delegate, nil)
		return err
	}
	return types.PrintResult(res, conf.CNIVersion)
}

func cmdCheck(args *skel.CmdArgs) error {
	_, delegate, err := delegateOf(args)
	if err != nil {
		return err
	}
	return invoke.DelegateCheck(context.Background(), DelegateType, delegate, nil)
}

// cmdDel does not depend on the subnet: host-local releases the container's
// leases by container ID and interface, whatever the range, and bridge removes the
// interface by name. So a DEL works without a readable subnet file (as the spec
// asks, a DEL should succeed when things are missing): the subnet is then taken
// from prevResult, or else a placeholder range is given, from which DEL allocates
// nothing.
func cmdDel(args *skel.CmdArgs) error {
	conf, err := ParseNetConf(args.StdinData)
	if err != nil {
		return err
	}
	subnet, err := ReadSubnetFile(conf.SubnetFile)
	if err != nil {
		if subnet = prevResultSubnet(args.StdinData); subnet == nil {
			subnet = placeholderSubnet(conf)
		}
	}
	delegate, err := DelegateConfig(conf, subnet)
	if err != nil {
		return err
	}
	return invoke.DelegateDel(context.Background(), DelegateType, delegate, nil)
}

// placeholderSubnet is the range given to the delegate for a DEL when the node's
// subnet is unknown: a documentation range (RFC 5737, RFC 3849) of the routes' IP
// family. A DEL allocates nothing from it.
func placeholderSubnet(conf *NetConf) *net.IPNet {
	cidr := "192.0.2.0/24"
	for _, s := range conf.Routes {
		if ip, _, err := net.ParseCIDR(s); err == nil && ip.To4() == nil {
			cidr = "2001:db8::/64"
		}
	}
	_, subnet, _ := net.ParseCIDR(cidr)
	return subnet
}

// prevResultSubnet is the subnet of the first address in the configuration's
// prevResult, or nil.
func prevResultSubnet(stdin []byte) *net.IPNet {
	var c types.NetConf
	if err := json.Unmarshal(stdin, &c); err != nil || c.RawPrevResult == nil {
		return nil
	}
	if err := version.ParsePrevResult(&c); err != nil || c.PrevResult == nil {
		return nil
	}
	r, err := current.NewResultFromResult(c.PrevResult)
	if err != nil {
		return nil
	}
	for _, ipc := range r.IPs {
		if ipc == nil || ipc.Address.IP == nil || ipc.Address.Mask == nil {
			continue
		}
		s, err := normalizeSubnet(&net.IPNet{IP: ipc.Address.IP, Mask: ipc.Address.Mask})
		if err == nil {
			return s
		}
	}
	return nil
}

func checkNoDefaultRoute(res types.Result) error {
	r, err := current.NewResultFromResult(res)
	if err != nil {
		return fmt.Errorf("%s: read %s's result: %w", BinaryName, DelegateType, err)
	}
	for _, rt := range r.Routes {
		if rt != nil {
			if ones, _ := rt.Dst.Mask.Size(); ones == 0 {
				return fmt.Errorf("%s: %s gave the pod a default route (%s); pods get routes to the cluster's ranges only", BinaryName, DelegateType, rt.Dst.String())
			}
		}
	}
	return nil
}

// ParseNetConf reads the plugin's network configuration.
func ParseNetConf(data []byte) (*NetConf, error) {
	conf := &NetConf{}
	if err := json.Unmarshal(data, conf); err != nil {
		return nil, fmt.Errorf("%s: parse network configuration: %w", BinaryName, err)
	}
	if conf.SubnetFile == "" {
		return nil, fmt.Errorf("%s: network configuration: subnetFile is required (the file with the node's %s)", BinaryName, SubnetVar)
	}
	if !filepath.IsAbs(conf.SubnetFile) {
		return nil, fmt.Errorf("%s: network configuration: subnetFile %q is not an absolute path", BinaryName, conf.SubnetFile)
	}
	if conf.DataDir != "" && !filepath.IsAbs(conf.DataDir) {
		return nil, fmt.Errorf("%s: network configuration: dataDir %q is not an absolute path", BinaryName, conf.DataDir)
	}
	return conf, nil
}

// delegateOwnKeys are the delegate's settings that the plugin makes itself.
var delegateOwnKeys = []string{"name", "cniVersion", "ipam", "prevResult"}

// DelegateConfig builds the bridge plugin's network configuration for the node's
// subnet: conf's delegate settings, with host-local IPAM on subnet (the bridge
// takes its first address as the pods' gateway), conf's routes and dataDir, and
// conf's name, cniVersion and prevResult. It refuses a default route (a /0), a
// route of another IP family than subnet, and a delegate that asks for a default
// gateway, masquerading, another plugin than bridge or sets what the plugin sets.
func DelegateConfig(conf *NetConf, subnet *net.IPNet) ([]byte, error) {
	if subnet == nil {
		return nil, fmt.Errorf("%s: no subnet", BinaryName)
	}
	subnet, err := normalizeSubnet(subnet)
	if err != nil {
		return nil, err
	}
	v4 := subnet.IP.To4() != nil

	d := make(map[string]any, len(conf.Delegate)+5)
	for k, v := range conf.Delegate {
		d[k] = v
	}
	if t, ok := d["type"]; ok && t != DelegateType {
		return nil, fmt.Errorf("%s: delegate type %v: only %q is supported", BinaryName, t, DelegateType)
	}
	for _, k := range delegateOwnKeys {
		if _, ok := d[k]; ok {
			return nil, fmt.Errorf("%s: delegate may not set %q: %s sets it", BinaryName, k, BinaryName)
		}
	}
	for _, k := range []string{"isDefaultGateway", "ipMasq"} {
		if v, ok := d[k]; ok && v != false {
			return nil, fmt.Errorf("%s: delegate %s %v: pods get no default route and no NAT", BinaryName, k, v)
		}
		d[k] = false
	}

	// Each route names the gateway (the bridge's address), which is what bridge
	// makes of a route without one anyway, so that CHECK finds it as it is.
	gateway := NextIP(subnet.IP).String()
	type route struct {
		Dst string `json:"dst"`
		GW  string `json:"gw"`
	}
	routes := []route{}
	seen := map[string]bool{}
	for _, s := range conf.Routes {
		_, r, err := net.ParseCIDR(s)
		if err != nil {
			return nil, fmt.Errorf("%s: route %q: %w", BinaryName, s, err)
		}
		if ones, _ := r.Mask.Size(); ones == 0 {
			return nil, fmt.Errorf("%s: route %q would be a default route; pods get routes to the cluster's ranges only", BinaryName, s)
		}
		if (r.IP.To4() != nil) != v4 {
			return nil, fmt.Errorf("%s: route %q is not of subnet %s's IP family", BinaryName, s, subnet)
		}
		if !seen[r.String()] {
			seen[r.String()] = true
			routes = append(routes, route{Dst: r.String(), GW: gateway})
		}
	}

	type ipRange struct {
		Subnet  string `json:"subnet"`
		Gateway string `json:"gateway"`
	}
	type ipam struct {
		Type    string      `json:"type"`
		Ranges  [][]ipRange `json:"ranges"`
		Routes  []route     `json:"routes"`
		DataDir string      `json:"dataDir,omitempty"`
	}
	d["type"] = DelegateType
	d["name"] = conf.Name
	d["cniVersion"] = conf.CNIVersion
	d["ipam"] = ipam{
		Type:    IPAMType,
		Ranges:  [][]ipRange{{{Subnet: subnet.String(), Gateway: gateway}}},
		Routes:  routes,
		DataDir: conf.DataDir,
	}
	if conf.RawPrevResult != nil {
		d["prevResult"] = conf.RawPrevResult
	}
	return json.Marshal(d)
}

// ReadSubnetFile reads the node's pod subnet from a subnet file (ParseSubnetEnv).
func ReadSubnetFile(path string) (*net.IPNet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: subnet file %s does not exist (the kubelet writes it when it has the node's pod subnet)", BinaryName, path)
		}
		return nil, fmt.Errorf("%s: read subnet file: %w", BinaryName, err)
	}
	subnet, err := ParseSubnetEnv(data)
	if err != nil {
		return nil, fmt.Errorf("subnet file %s: %w", path, err)
	}
	return subnet, nil
}

// ParseSubnetEnv reads a subnet file: lines of NAME=VALUE (blank lines and #
// comments are skipped, a value may be quoted) of which MINIK8S_SUBNET is the
// node's pod subnet, such as 10.244.1.0/24 (host bits are cleared, as in
// Flannel's 10.244.1.1/24). Other names are ignored.
func ParseSubnetEnv(data []byte) (*net.IPNet, error) {
	var value string
	found := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s: line %d: %q is not NAME=VALUE", BinaryName, n, line)
		}
		if strings.TrimSpace(name) != SubnetVar {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		value, found = v, true
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", BinaryName, err)
	}
	if !found {
		return nil, fmt.Errorf("%s: no %s=CIDR in it", BinaryName, SubnetVar)
	}
	_, subnet, err := net.ParseCIDR(value)
	if err != nil {
		return nil, fmt.Errorf("%s: %s=%q is not a CIDR such as 10.244.1.0/24", BinaryName, SubnetVar, value)
	}
	return normalizeSubnet(subnet)
}

// SubnetEnv is the content of the subnet file for subnet.
func SubnetEnv(subnet *net.IPNet) []byte {
	return []byte("# The node's pod subnet, written by the minik8s kubelet for " + BinaryName + ".\n" +
		SubnetVar + "=" + subnet.String() + "\n")
}

// normalizeSubnet clears host bits and checks that the subnet has room for a
// gateway and pods and is not everything (a /0 would be a default route).
func normalizeSubnet(s *net.IPNet) (*net.IPNet, error) {
	ip := s.IP
	if v4 := ip.To4(); v4 != nil && len(s.Mask) == net.IPv4len {
		ip = v4
	}
	ones, bits := s.Mask.Size()
	if bits == 0 || len(ip) != len(s.Mask) {
		return nil, fmt.Errorf("%s: subnet %s: invalid mask", BinaryName, s)
	}
	out := &net.IPNet{IP: ip.Mask(s.Mask), Mask: s.Mask}
	if ones == 0 {
		return nil, fmt.Errorf("%s: subnet %s would be a default route", BinaryName, out)
	}
	if bits-ones < 2 {
		return nil, fmt.Errorf("%s: subnet %s leaves no addresses for pods", BinaryName, out)
	}
	return out, nil
}

// NextIP is the address after ip (the gateway after a subnet's network address).
func NextIP(ip net.IP) net.IP {
	out := append(net.IP(nil), ip...)
	for i := len(out) - 1; i >= 0; i-- {
		out[i]++
		if out[i] != 0 {
			break
		}
	}
	return out
}
