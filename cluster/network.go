package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// The address plan of a local cluster (see docs/architecture.md).
const (
	hostBridge   = "mk8sbr0"
	hostAddress  = "198.18.0.1"
	nodeNetwork  = "198.18.0.0/24"
	podNetwork   = "10.244.0.0/16"
	svcNetwork   = "10.96.0.0/16"
	vethPrefix   = "mk8sv"
	forwardRule  = "-i " + hostBridge + " -o " + hostBridge + " -j ACCEPT"
	firstNodeOct = 11
)

// ip runs iproute2 and returns a readable error.
func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func linkExists(name string) bool { return exec.Command("ip", "link", "show", name).Run() == nil }

func netnsExists(name string) bool {
	_, err := os.Stat("/run/netns/" + name)
	return err == nil
}

// setUpNetwork makes the cluster's network on this machine, idempotently: a bridge with the
// host's address, and for each node a network namespace joined to it by a veth, with its
// address, loopback and forwarding on, and no default route. The host routes the pod and
// service ranges nowhere (unreachable) until nodes announce their subnets, so nothing meant
// for the cluster leaves the machine.
func setUpNetwork(nodes []node) error {
	if !linkExists(hostBridge) {
		if err := ip("link", "add", hostBridge, "type", "bridge"); err != nil {
			return err
		}
		if err := ip("addr", "add", hostAddress+"/24", "dev", hostBridge); err != nil {
			return err
		}
	}
	if err := ip("link", "set", hostBridge, "up"); err != nil {
		return err
	}
	for _, r := range []string{podNetwork, svcNetwork} {
		if err := ip("route", "replace", "unreachable", r); err != nil {
			return err
		}
	}
	for _, n := range nodes {
		if !netnsExists(n.NetNS) {
			if err := ip("netns", "add", n.NetNS); err != nil {
				return err
			}
		}
		if !linkExists(n.Veth) {
			if err := ip("link", "add", n.Veth, "type", "veth", "peer", "name", "eth0", "netns", n.NetNS); err != nil {
				return err
			}
			if err := ip("-n", n.NetNS, "addr", "add", n.IP+"/24", "dev", "eth0"); err != nil {
				return err
			}
		}
		for _, args := range [][]string{
			{"link", "set", n.Veth, "master", hostBridge, "up"},
			{"-n", n.NetNS, "link", "set", "lo", "up"},
			{"-n", n.NetNS, "link", "set", "eth0", "up"},
			// Processes of the node reach Service IPs: the route only lets the packet get as far
			// as the node's own NAT rules, which send it to a Pod; with no rule it goes to the
			// host, which has no route for it either.
			{"-n", n.NetNS, "route", "replace", svcNetwork, "dev", "eth0"},
		} {
			if err := ip(args...); err != nil {
				return err
			}
		}
		// Forwarding inside the node, between its Pods' bridge and eth0. The node's sysctls are
		// its network namespace's own.
		if out, err := exec.Command("nsenter", "--net=/run/netns/"+n.NetNS, "sysctl", "-qw", "net.ipv4.ip_forward=1").CombinedOutput(); err != nil {
			return fmt.Errorf("enable forwarding in %s: %v: %s", n.NetNS, err, out)
		}
	}
	// Frames between nodes cross the host's bridge, and so its FORWARD chain: accept them if
	// the chain's policy would drop them.
	if out, _ := exec.Command("iptables", "-S", "FORWARD").Output(); strings.Contains(string(out), "-P FORWARD DROP") {
		if exec.Command("iptables", append([]string{"-C", "FORWARD"}, strings.Fields(forwardRule)...)...).Run() != nil {
			if out, err := exec.Command("iptables", append([]string{"-I", "FORWARD"}, strings.Fields(forwardRule)...)...).CombinedOutput(); err != nil {
				return fmt.Errorf("iptables: %v: %s", err, out)
			}
		}
	}
	return nil
}

// routePodSubnet sends a node's pod subnet to the node, from the host.
func routePodSubnet(cidr, via string) error { return ip("route", "replace", cidr, "via", via) }

// tearDownNetwork removes everything setUpNetwork and routePodSubnet made. It is idempotent.
func tearDownNetwork(nodes []node) error {
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	for _, n := range nodes {
		if netnsExists(n.NetNS) {
			keep(ip("netns", "del", n.NetNS)) // takes the node's end of the veth, and so both ends
		}
		if linkExists(n.Veth) {
			if err := ip("link", "del", n.Veth); err != nil && linkExists(n.Veth) {
				keep(err) // gone meanwhile with its namespace is fine
			}
		}
	}
	if linkExists(hostBridge) {
		keep(ip("link", "del", hostBridge)) // takes the routes through it
	}
	for _, r := range []string{podNetwork, svcNetwork} {
		_ = exec.Command("ip", "route", "del", "unreachable", r).Run()
	}
	for exec.Command("iptables", append([]string{"-C", "FORWARD"}, strings.Fields(forwardRule)...)...).Run() == nil {
		if err := exec.Command("iptables", append([]string{"-D", "FORWARD"}, strings.Fields(forwardRule)...)...).Run(); err != nil {
			keep(err)
			break
		}
	}
	return first
}
