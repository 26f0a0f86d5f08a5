// Package network gives a Pod sandbox its network through libcni, with minik8s'
// own CNI plugin (minik8s-cni, package cniplugin) on the standard ones (bridge,
// host-local, loopback), in Flannel's way.
//
// Each Pod gets a network namespace of its own, kept alive by a bind mount at
// StateDir/netns/<podUID> (the file the pause process and the containers join), a
// loopback interface, and an eth0 veth whose other end is on the node's bridge.
// The node's lease, its PodCIDR, is written to StateDir/subnet.env; the network
// list has the single plugin minik8s-cni (the minik8s binary, linked as
// StateDir/bin/minik8s-cni), which reads that file and delegates to bridge with
// host-local IPAM on the subnet. The bridge holds the first address of the
// PodCIDR and is the pods' gateway; host-local hands out the rest of the PodCIDR
// and keeps its leases under StateDir/ipam. Pods get routes to the cluster's
// ranges (ClusterCIDRs) through the gateway and no default route; nothing is
// masqueraded.
//
// Everything a node keeps lives under its StateDir (config, leases, libcni's result
// cache, netns mounts), so several nodes can share one machine, each in its own
// network namespace, and a restarted kubelet finds its pods' networks again.
package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/minik8s/minik8s/kubelet/network/cniplugin"
)

const (
	// DefaultBridgeName is the node bridge's name when Config.BridgeName is empty.
	DefaultBridgeName = "mk8s0"
	// NetworkName is the name of the CNI network list the pods are attached to; it
	// names the conflist, host-local's lease directory and libcni's cache entries.
	NetworkName = "minik8s"
	// PodInterface is the name of a pod's interface on the bridge network.
	PodInterface = "eth0"

	loopbackNetworkName = "minik8s-loopback"
	cniVersion          = "1.0.0"
	confFileName        = "10-minik8s.conflist"
	subnetFileName      = "subnet.env"
	cleanupTimeout      = 30 * time.Second
)

// DefaultPluginDirs are where the CNI plugin binaries are looked for when
// Config.PluginDirs is empty: Debian's containernetworking-plugins package, then
// the upstream default.
var DefaultPluginDirs = []string{"/usr/lib/cni", "/opt/cni/bin"}

// requiredPlugins are the standard CNI plugins New insists on: minik8s-cni
// delegates to bridge and host-local, and loopback gives pods their lo.
var requiredPlugins = []string{cniplugin.DelegateType, cniplugin.IPAMType, "loopback"}

// Config is one node's pod network.
type Config struct {
	// PluginDirs are searched, in order, for the standard CNI plugin binaries.
	// Default DefaultPluginDirs. StateDir/bin, where minik8s-cni is linked, comes
	// before them.
	PluginDirs []string
	// PluginBinary is the executable that acts as the minik8s-cni plugin when
	// run under that name (cniplugin.BinaryName). Default: a minik8s-cni binary
	// beside the running executable if there is one, else the running executable
	// (os.Executable), the minik8s binary.
	PluginBinary string
	// StateDir is the node's data directory for CNI (required): the conflist
	// (net.d/), the node's subnet (subnet.env), the minik8s-cni link (bin/),
	// host-local's leases (ipam/), libcni's result cache (cache/) and the pods'
	// netns mounts (netns/) live under it. Each node needs its own.
	StateDir string
	// BridgeName is the node's bridge, at most 15 characters. Default DefaultBridgeName.
	BridgeName string
	// PodCIDR is the node's pod subnet, such as "10.244.0.0/24" (required). The
	// bridge takes its first address; the pods get the others.
	PodCIDR string
	// ClusterCIDRs are the ranges pods get routes to, through the bridge, such as
	// ["10.244.0.0/16", "10.96.0.0/16"]. A default route (a /0) is refused: pods
	// reach the cluster only.
	ClusterCIDRs []string
	// MTU of the bridge and of the pods' interfaces; 0 leaves the kernel's default.
	MTU int
}

// Result is a pod's network as SetUp made it.
type Result struct {
	// NetNSPath is the pod's network namespace file, for the sandbox and its
	// containers to join (a bind mount under StateDir/netns).
	NetNSPath string
	// IP is the pod's address on the node's bridge network (eth0).
	IP net.IP
}

// Network sets up and tears down pods' networks on one node.
//
// All methods are safe for concurrent use. Calls for the same podUID are
// serialized; calls for different pods run in parallel (host-local serializes its
// own leases with a file lock, and the bridge plugin tolerates creating the bridge
// twice).
type Network struct {
	cfg      Config
	paths    []string // where libcni looks for plugins: StateDir/bin, then PluginDirs
	podNet   *net.IPNet
	gateway  net.IP
	confPath string
	cni      *libcni.CNIConfig
	list     *libcni.NetworkConfigList
	lo       *libcni.NetworkConfig

	locks keyedMutex

	dirMu    sync.Mutex
	dirReady bool
}

// New checks cfg, looks for the CNI plugins, writes the node's subnet to
// StateDir/subnet.env, links cfg.PluginBinary as StateDir/bin/minik8s-cni and
// writes the node's conflist to StateDir/net.d/10-minik8s.conflist. It runs each
// plugin once (CNI VERSION). It creates the state directories but touches no
// network and no mount: New is cheap, safe to call again with the same Config (as
// a restarted kubelet does), and needs no privileges.
func New(cfg Config) (*Network, error) {
	if cmd := os.Getenv("CNI_COMMAND"); cmd != "" {
		// A program that is not the plugin was run as minik8s-cni (a test binary
		// as PluginBinary, say) and got here: stop rather than run it again.
		return nil, fmt.Errorf("pod network: New called from a CNI plugin (CNI_COMMAND=%s): the plugin binary %s does not act as %s",
			cmd, os.Args[0], cniplugin.BinaryName)
	}
	c, podNet, err := cfg.normalize()
	if err != nil {
		return nil, err
	}

	var missing []string
	for _, p := range requiredPlugins {
		if _, err := invoke.FindInPath(p, c.PluginDirs); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("CNI plugin(s) %s not found in %s: `apt-get install containernetworking-plugins` provides them",
			strings.Join(missing, ", "), strings.Join(c.PluginDirs, ":"))
	}

	binDir := filepath.Join(c.StateDir, "bin")
	for _, d := range []string{c.StateDir, filepath.Join(c.StateDir, "net.d"), filepath.Join(c.StateDir, "ipam"), filepath.Join(c.StateDir, "cache"), binDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("pod network state dir: %w", err)
		}
	}

	n := &Network{
		cfg:      c,
		paths:    []string{binDir},
		podNet:   podNet,
		gateway:  cniplugin.NextIP(podNet.IP),
		confPath: filepath.Join(c.StateDir, "net.d", confFileName),
	}
	for _, d := range c.PluginDirs {
		if filepath.Clean(d) != binDir {
			n.paths = append(n.paths, d)
		}
	}

	// The node's lease, for minik8s-cni; it reads it at every ADD.
	if err := writeFileAtomic(n.subnetFile(), cniplugin.SubnetEnv(podNet), 0o644); err != nil {
		return nil, fmt.Errorf("write the node's subnet file: %w", err)
	}
	if err := linkPlugin(c.PluginBinary, filepath.Join(binDir, cniplugin.BinaryName)); err != nil {
		return nil, fmt.Errorf("pod network: link the CNI plugin %s: %w", cniplugin.BinaryName, err)
	}

	data, err := n.conflist()
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(n.confPath, data, 0o644); err != nil {
		return nil, fmt.Errorf("write CNI config: %w", err)
	}
	if n.list, err = libcni.ConfListFromFile(n.confPath); err != nil {
		return nil, fmt.Errorf("read back CNI config %s: %w", n.confPath, err)
	}
	if n.lo, err = libcni.ConfFromBytes([]byte(fmt.Sprintf(`{"cniVersion":%q,"name":%q,"type":"loopback"}`, cniVersion, loopbackNetworkName))); err != nil {
		return nil, fmt.Errorf("loopback CNI config: %w", err)
	}
	n.cni = libcni.NewCNIConfigWithCacheDir(n.paths, filepath.Join(c.StateDir, "cache"), nil)

	// Run each plugin once (VERSION) to learn that it executes and speaks our
	// CNI version, so a broken install fails here and not at the first pod.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := n.cni.ValidateNetworkList(ctx, n.list); err != nil {
		return nil, fmt.Errorf("CNI plugins in %s (%s is %s): %w", strings.Join(n.paths, ":"), cniplugin.BinaryName, c.PluginBinary, err)
	}
	if _, err := n.cni.ValidateNetwork(ctx, n.lo); err != nil {
		return nil, fmt.Errorf("CNI plugins in %s: %w", strings.Join(n.paths, ":"), err)
	}
	for _, p := range []string{cniplugin.DelegateType, cniplugin.IPAMType} {
		info, err := n.cni.GetVersionInfo(ctx, p)
		if err == nil && !slices.Contains(info.SupportedVersions(), cniVersion) {
			err = fmt.Errorf("it supports CNI %s, not %s", strings.Join(info.SupportedVersions(), ", "), cniVersion)
		}
		if err != nil {
			return nil, fmt.Errorf("CNI plugin %s in %s: %w", p, strings.Join(n.paths, ":"), err)
		}
	}
	return n, nil
}

// linkPlugin makes link a symbolic link to target, replacing whatever is there
// unless it already is that link.
func linkPlugin(target, link string) error {
	if cur, err := os.Readlink(link); err == nil && cur == target {
		return nil
	}
	tmp := filepath.Join(filepath.Dir(link), fmt.Sprintf(".%s.%d.%d", filepath.Base(link), os.Getpid(), time.Now().UnixNano()))
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, link); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

// subnetFile is the node's subnet file for minik8s-cni.
func (n *Network) subnetFile() string { return filepath.Join(n.cfg.StateDir, subnetFileName) }

// normalize fills defaults and checks every field, naming the one that is wrong.
func (cfg Config) normalize() (Config, *net.IPNet, error) {
	c := cfg
	if len(c.PluginDirs) == 0 {
		c.PluginDirs = append([]string(nil), DefaultPluginDirs...)
	}
	if c.StateDir == "" {
		return c, nil, errors.New("pod network: StateDir is required")
	}
	abs, err := filepath.Abs(c.StateDir)
	if err != nil {
		return c, nil, fmt.Errorf("pod network: StateDir %q: %w", c.StateDir, err)
	}
	c.StateDir = abs
	if c.PluginBinary == "" {
		exe, err := os.Executable()
		if err != nil {
			return c, nil, fmt.Errorf("pod network: PluginBinary: the running executable: %w", err)
		}
		// The small minik8s-cni binary beside minik8s starts in a few milliseconds, where the
		// whole minik8s binary spends ~20 ms in package initialization on every CNI call; the
		// minik8s binary is the plugin too, when the small one is not installed.
		c.PluginBinary = exe
		if small := filepath.Join(filepath.Dir(exe), cniplugin.BinaryName); small != exe {
			if st, err := os.Stat(small); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
				c.PluginBinary = small
			}
		}
	}
	if c.PluginBinary, err = filepath.Abs(c.PluginBinary); err != nil {
		return c, nil, fmt.Errorf("pod network: PluginBinary %q: %w", cfg.PluginBinary, err)
	}
	if st, err := os.Stat(c.PluginBinary); err != nil {
		return c, nil, fmt.Errorf("pod network: PluginBinary: %w", err)
	} else if !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
		return c, nil, fmt.Errorf("pod network: PluginBinary %s is not an executable file", c.PluginBinary)
	}
	if c.BridgeName == "" {
		c.BridgeName = DefaultBridgeName
	}
	if len(c.BridgeName) > 15 || !ifNameRE.MatchString(c.BridgeName) {
		return c, nil, fmt.Errorf("pod network: BridgeName %q is not a valid interface name (at most 15 of a-z A-Z 0-9 . _ -)", c.BridgeName)
	}
	if c.PodCIDR == "" {
		return c, nil, errors.New("pod network: PodCIDR is required (the node's pod subnet, such as 10.244.0.0/24)")
	}
	_, podNet, err := net.ParseCIDR(c.PodCIDR)
	if err != nil {
		return c, nil, fmt.Errorf("pod network: PodCIDR %q: %w", c.PodCIDR, err)
	}
	ones, bits := podNet.Mask.Size()
	if bits-ones < 2 {
		return c, nil, fmt.Errorf("pod network: PodCIDR %s leaves no addresses for pods", podNet)
	}
	if v4 := podNet.IP.To4(); v4 != nil {
		podNet.IP = v4
	}
	c.PodCIDR = podNet.String()
	seen := map[string]bool{}
	var routes []string
	for _, s := range c.ClusterCIDRs {
		_, r, err := net.ParseCIDR(s)
		if err != nil {
			return c, nil, fmt.Errorf("pod network: ClusterCIDRs %q: %w", s, err)
		}
		if ones, _ := r.Mask.Size(); ones == 0 {
			return c, nil, fmt.Errorf("pod network: ClusterCIDRs %q would be a default route; pods get routes to the cluster's ranges only", s)
		}
		if (r.IP.To4() != nil) != (podNet.IP.To4() != nil) {
			return c, nil, fmt.Errorf("pod network: ClusterCIDRs %q is not of PodCIDR %s's IP family", s, podNet)
		}
		if !seen[r.String()] {
			seen[r.String()] = true
			routes = append(routes, r.String())
		}
	}
	c.ClusterCIDRs = routes
	if c.MTU < 0 || (c.MTU > 0 && c.MTU < 576) || c.MTU > 65535 {
		return c, nil, fmt.Errorf("pod network: MTU %d out of range (0 for the default, or 576 to 65535)", c.MTU)
	}
	return c, podNet, nil
}

// conflist is the node's CNI network list: minik8s-cni, which gives the node's
// subnet (from StateDir/subnet.env) to the bridge plugin with host-local IPAM.
// isGateway gives the bridge the PodCIDR's first address; isDefaultGateway and
// ipMasq stay off (minik8s-cni refuses them), so pods have no default route and
// nothing is NATed.
func (n *Network) conflist() ([]byte, error) {
	type bridge struct {
		Bridge           string `json:"bridge"`
		IsGateway        bool   `json:"isGateway"`
		IsDefaultGateway bool   `json:"isDefaultGateway"`
		IPMasq           bool   `json:"ipMasq"`
		HairpinMode      bool   `json:"hairpinMode"`
		MTU              int    `json:"mtu,omitempty"`
	}
	type plugin struct {
		Type       string   `json:"type"`
		SubnetFile string   `json:"subnetFile"`
		DataDir    string   `json:"dataDir"`
		Routes     []string `json:"routes"`
		Delegate   bridge   `json:"delegate"`
	}
	type list struct {
		CNIVersion string   `json:"cniVersion"`
		Name       string   `json:"name"`
		Plugins    []plugin `json:"plugins"`
	}
	l := list{
		CNIVersion: cniVersion,
		Name:       NetworkName,
		Plugins: []plugin{{
			Type:       cniplugin.BinaryName,
			SubnetFile: n.subnetFile(),
			DataDir:    filepath.Join(n.cfg.StateDir, "ipam"),
			Routes:     append([]string{}, n.cfg.ClusterCIDRs...),
			Delegate: bridge{
				Bridge:           n.cfg.BridgeName,
				IsGateway:        true,
				IsDefaultGateway: false,
				IPMasq:           false,
				HairpinMode:      true,
				MTU:              n.cfg.MTU,
			},
		}},
	}
	data, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// Gateway is the bridge's address, the first of the PodCIDR: the pods' next hop
// to the ClusterCIDRs, and the node's own address on its pod network.
func (n *Network) Gateway() net.IP { return append(net.IP(nil), n.gateway...) }

// ConfigPath is the node's CNI conflist that New wrote.
func (n *Network) ConfigPath() string { return n.confPath }

// NetNSPath is where podUID's network namespace is (or would be) mounted.
func (n *Network) NetNSPath(podUID string) string {
	return filepath.Join(n.cfg.StateDir, "netns", podUID)
}

// SetUp gives the pod a network: a new network namespace mounted at
// StateDir/netns/<podUID>, then CNI ADD of loopback and of the bridge network with
// CNI_ARGS K8S_POD_NAMESPACE, K8S_POD_NAME and K8S_POD_INFRA_CONTAINER_ID=podUID.
// It returns the namespace's path and the pod's IP.
//
// SetUp is idempotent: when the pod's namespace exists and libcni's cache holds the
// result of its ADD, that result is returned without a second ADD; this is how a
// restarted kubelet adopts running pods. Whatever an earlier attempt, crash or
// reboot left (a namespace without a result, a stale netns file, a lease) is torn
// down before a fresh start. A failed SetUp leaves nothing behind. Calls for the
// same podUID are serialized.
func (n *Network) SetUp(ctx context.Context, podUID, namespace, name string) (Result, error) {
	return n.SetUpNotify(ctx, podUID, namespace, name, nil)
}

// SetUpNotify is SetUp that calls nsReady (if not nil) as soon as the network namespace exists
// at NetNSPath, before the CNI plugins wire it, so that a caller can prepare containers that
// join it meanwhile (their processes must not start before SetUpNotify returns). It is not
// called when the set-up fails before the namespace exists.
func (n *Network) SetUpNotify(ctx context.Context, podUID, namespace, name string, nsReady func()) (Result, error) {
	if err := validatePodUID(podUID); err != nil {
		return Result{}, err
	}
	for _, v := range []string{namespace, name} {
		if strings.ContainsAny(v, ";=") {
			return Result{}, fmt.Errorf("pod network: pod %s/%s: namespace and name may not contain ';' or '='", namespace, name)
		}
	}
	what := fmt.Sprintf("pod %s/%s (%s)", namespace, name, podUID)
	unlock := n.locks.lock(podUID)
	defer unlock()

	if err := n.ensureNetNSDir(); err != nil {
		return Result{}, fmt.Errorf("set up network of %s: %w", what, err)
	}
	nsPath := n.NetNSPath(podUID)
	if isNetNS(nsPath) {
		if res, ok, err := n.cachedResult(podUID); err == nil && ok {
			return res, nil
		}
	}
	if n.hasState(podUID) {
		if err := n.tearDown(ctx, podUID); err != nil {
			return Result{}, fmt.Errorf("set up network of %s: clean up what an earlier set-up left: %w", what, err)
		}
	}

	if err := createNetNS(nsPath); err != nil {
		return Result{}, fmt.Errorf("set up network of %s: %w", what, err)
	}
	if nsReady != nil {
		nsReady()
	}
	fail := func(err error) (Result, error) {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		if cerr := n.tearDown(cctx, podUID); cerr != nil {
			return Result{}, fmt.Errorf("set up network of %s: %w (cleaning up after it also failed: %v)", what, err, cerr)
		}
		return Result{}, fmt.Errorf("set up network of %s: %w", what, err)
	}

	if _, err := n.cni.AddNetwork(ctx, n.lo, n.runtimeConf(podUID, nsPath, "lo", namespace, name)); err != nil {
		return fail(fmt.Errorf("CNI ADD loopback: %w", err))
	}
	res, err := n.cni.AddNetworkList(ctx, n.list, n.runtimeConf(podUID, nsPath, PodInterface, namespace, name))
	if err != nil {
		return fail(fmt.Errorf("CNI ADD %s: %w", NetworkName, err))
	}
	ip, err := n.podIP(res)
	if err != nil {
		return fail(err)
	}
	return Result{NetNSPath: nsPath, IP: ip}, nil
}

// TearDown removes the pod's network: CNI DEL of the bridge network and of
// loopback, with the configuration and arguments cached at ADD (so a changed
// config still releases the old lease), then the netns mount and file. The
// host-local lease is released even when the namespace is already gone (for
// instance after a reboot). Afterwards no namespace, veth, lease or cache entry
// of the pod is left.
//
// TearDown is idempotent: tearing down a pod that has no network is no error. If
// a CNI DEL fails, the namespace is kept (Pods still lists it) so that a retry can
// finish the job. Calls for the same podUID are serialized.
func (n *Network) TearDown(ctx context.Context, podUID string) error {
	if err := validatePodUID(podUID); err != nil {
		return err
	}
	unlock := n.locks.lock(podUID)
	defer unlock()
	if err := n.tearDown(ctx, podUID); err != nil {
		return fmt.Errorf("tear down network of pod %s: %w", podUID, err)
	}
	return nil
}

func (n *Network) tearDown(ctx context.Context, podUID string) error {
	nsPath := n.NetNSPath(podUID)
	netns := ""
	if isNetNS(nsPath) {
		netns = nsPath
	}
	var errs []error

	rt := &libcni.RuntimeConf{ContainerID: podUID, NetNS: netns, IfName: PodInterface}
	list := n.list
	if data, crt, err := n.cni.GetNetworkListCachedConfig(n.list, rt); err != nil {
		// An unreadable cache entry would fail every DEL; drop it and use today's config.
		_ = os.Remove(n.cacheFile(NetworkName, podUID, PodInterface))
	} else if data != nil {
		if l, err := libcni.ConfListFromBytes(data); err == nil && l.Name == n.list.Name {
			list, rt = l, crt
		}
	}
	if err := n.cni.DelNetworkList(ctx, list, rt); err != nil {
		errs = append(errs, fmt.Errorf("CNI DEL %s: %w", NetworkName, err))
	}

	lrt := &libcni.RuntimeConf{ContainerID: podUID, NetNS: netns, IfName: "lo"}
	lo := n.lo
	if data, crt, err := n.cni.GetNetworkCachedConfig(n.lo, lrt); err != nil {
		_ = os.Remove(n.cacheFile(loopbackNetworkName, podUID, "lo"))
	} else if data != nil {
		if c, err := libcni.ConfFromBytes(data); err == nil && c.Network.Name == n.lo.Network.Name {
			lo, lrt = c, crt
		}
	}
	if err := n.cni.DelNetwork(ctx, lo, lrt); err != nil {
		errs = append(errs, fmt.Errorf("CNI DEL loopback: %w", err))
	}

	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return removeNetNS(nsPath)
}

// Status returns what SetUp gave the pod, from libcni's cache, if the pod's
// network namespace still exists. It runs no plugin. It waits for a SetUp or
// TearDown of the same pod in progress.
func (n *Network) Status(podUID string) (Result, bool) {
	if validatePodUID(podUID) != nil {
		return Result{}, false
	}
	unlock := n.locks.lock(podUID)
	defer unlock()
	if !isNetNS(n.NetNSPath(podUID)) {
		return Result{}, false
	}
	res, ok, err := n.cachedResult(podUID)
	if err != nil || !ok {
		return Result{}, false
	}
	return res, true
}

// Pods returns, sorted, the UIDs of the pods that have any network state on this
// node: a netns file (mounted or left stale by a reboot) or a cached CNI result.
// The kubelet tears down those it has no pod for.
func (n *Network) Pods() []string {
	set := map[string]bool{}
	if ents, err := os.ReadDir(filepath.Join(n.cfg.StateDir, "netns")); err == nil {
		for _, e := range ents {
			if !e.IsDir() && validatePodUID(e.Name()) == nil {
				set[e.Name()] = true
			}
		}
	}
	if ents, err := os.ReadDir(filepath.Join(n.cfg.StateDir, "cache", "results")); err == nil {
		prefix, suffix := NetworkName+"-", "-"+PodInterface
		for _, e := range ents {
			name := e.Name()
			if strings.HasPrefix(name, prefix) && strings.HasSuffix(name, suffix) && len(name) > len(prefix)+len(suffix) {
				if uid := name[len(prefix) : len(name)-len(suffix)]; validatePodUID(uid) == nil {
					set[uid] = true
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for uid := range set {
		out = append(out, uid)
	}
	sort.Strings(out)
	return out
}

// Close releases the mount SetUp made of StateDir/netns onto itself, when no pod
// namespace is mounted in it any more, so that the StateDir can be removed. It
// tears down nothing: pods keep their network while the kubelet is away. Call it
// after the last SetUp or TearDown; a later SetUp makes the mount again.
func (n *Network) Close() error {
	n.dirMu.Lock()
	defer n.dirMu.Unlock()
	dir := filepath.Join(n.cfg.StateDir, "netns")
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		if isNetNS(filepath.Join(dir, e.Name())) {
			return nil
		}
	}
	n.dirReady = false
	return unmountDir(dir)
}

// ensureNetNSDir makes StateDir/netns a shared mount point, once per Network.
func (n *Network) ensureNetNSDir() error {
	n.dirMu.Lock()
	defer n.dirMu.Unlock()
	if n.dirReady {
		return nil
	}
	dir := filepath.Join(n.cfg.StateDir, "netns")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := ensureSharedMountDir(dir); err != nil {
		return err
	}
	n.dirReady = true
	return nil
}

// hasState reports whether anything of the pod's may exist: a netns file or a
// cached ADD result.
func (n *Network) hasState(podUID string) bool {
	for _, p := range []string{
		n.NetNSPath(podUID),
		n.cacheFile(NetworkName, podUID, PodInterface),
		n.cacheFile(loopbackNetworkName, podUID, "lo"),
	} {
		if _, err := os.Lstat(p); err == nil {
			return true
		}
	}
	return false
}

// cacheFile is libcni's cache entry for one attachment.
func (n *Network) cacheFile(network, podUID, ifName string) string {
	return filepath.Join(n.cfg.StateDir, "cache", "results", network+"-"+podUID+"-"+ifName)
}

func (n *Network) cachedResult(podUID string) (Result, bool, error) {
	nsPath := n.NetNSPath(podUID)
	res, err := n.cni.GetNetworkListCachedResult(n.list, &libcni.RuntimeConf{ContainerID: podUID, NetNS: nsPath, IfName: PodInterface})
	if err != nil || res == nil {
		return Result{}, false, err
	}
	ip, err := n.podIP(res)
	if err != nil {
		return Result{}, false, err
	}
	return Result{NetNSPath: nsPath, IP: ip}, true, nil
}

func (n *Network) runtimeConf(podUID, nsPath, ifName, namespace, name string) *libcni.RuntimeConf {
	return &libcni.RuntimeConf{
		ContainerID: podUID,
		NetNS:       nsPath,
		IfName:      ifName,
		Args: [][2]string{
			{"IgnoreUnknown", "1"},
			{"K8S_POD_NAMESPACE", namespace},
			{"K8S_POD_NAME", name},
			{"K8S_POD_INFRA_CONTAINER_ID", podUID},
			{"K8S_POD_UID", podUID},
		},
	}
}

// podIP picks the pod's address out of a CNI result: the first one in the PodCIDR,
// else the first one on the pod's side.
func (n *Network) podIP(res types.Result) (net.IP, error) {
	r, err := current.NewResultFromResult(res)
	if err != nil {
		return nil, fmt.Errorf("read CNI result: %w", err)
	}
	var first net.IP
	for _, ipc := range r.IPs {
		if ipc == nil || ipc.Address.IP == nil {
			continue
		}
		ip := ipc.Address.IP
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		if n.podNet.Contains(ip) {
			return ip, nil
		}
		if first == nil {
			first = ip
		}
	}
	if first == nil {
		return nil, errors.New("CNI result has no IP address")
	}
	return first, nil
}

var (
	// podUIDRE is libcni's rule for container IDs; it also keeps podUID a plain
	// file name.
	podUIDRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$`)
	ifNameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$`)
)

func validatePodUID(uid string) error {
	if len(uid) > 200 || !podUIDRE.MatchString(uid) {
		return fmt.Errorf("pod network: pod UID %q is not a valid CNI container ID", uid)
	}
	return nil
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	if old, err := os.ReadFile(path); err == nil && string(old) == string(data) {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// keyedMutex is one mutex per key, made on demand and dropped when unused.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*refMutex
}

type refMutex struct {
	sync.Mutex
	refs int
}

func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*refMutex{}
	}
	m := k.m[key]
	if m == nil {
		m = &refMutex{}
		k.m[key] = m
	}
	m.refs++
	k.mu.Unlock()
	m.Lock()
	return func() {
		m.Unlock()
		k.mu.Lock()
		m.refs--
		if m.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}
