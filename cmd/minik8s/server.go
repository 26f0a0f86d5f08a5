package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/minik8s/minik8s/apiserver"
	"github.com/minik8s/minik8s/client"
	"github.com/minik8s/minik8s/ctrl/endpoints"
	"github.com/minik8s/minik8s/ctrl/gc"
	"github.com/minik8s/minik8s/ctrl/hpa"
	"github.com/minik8s/minik8s/ctrl/nodelifecycle"
	"github.com/minik8s/minik8s/ctrl/replicaset"
	"github.com/minik8s/minik8s/ctrl/scheduler"
	"github.com/minik8s/minik8s/kubelet"
	"github.com/minik8s/minik8s/proxy"
	"github.com/minik8s/minik8s/registry"
)

// nodeFlags are the kubelet's settings, shared by `server` (which is also a node) and,
// later, `join`.
type nodeFlags struct {
	name, ip, socket, namespace string
	fallbackRegistry            string
	proxyMode, proxyBalance     string
	clusterCIDR, serviceCIDR    string
	nodeCIDR                    string
	port                        int
	backoffBase, backoffMax     time.Duration
	heartbeat                   time.Duration
	metricsInterval             time.Duration
	sharedHost                  bool
}

func (n *nodeFlags) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	host, _ := os.Hostname()
	f.StringVar(&n.name, "node-name", host, "this node's name")
	f.StringVar(&n.ip, "node-ip", "", "this node's address, where its kubelet listens (default: the advertise address)")
	f.IntVar(&n.port, "kubelet-port", 10250, "the kubelet's HTTPS port (logs, exec)")
	f.StringVar(&n.socket, "containerd-socket", "/run/containerd/containerd.sock", "containerd's socket")
	f.StringVar(&n.namespace, "containerd-namespace", "minik8s", "containerd namespace of this node's containers")
	f.DurationVar(&n.backoffBase, "restart-backoff", 10*time.Second, "first delay before restarting a crashed container (doubles up to --restart-backoff-max)")
	f.DurationVar(&n.backoffMax, "restart-backoff-max", 5*time.Minute, "longest delay before restarting a crashed container")
	f.DurationVar(&n.heartbeat, "heartbeat-interval", 5*time.Second, "how often the node reports that it is alive")
	f.DurationVar(&n.metricsInterval, "metrics-interval", 5*time.Second, "how often the node samples and reports the CPU and memory its Pods use")
	f.BoolVar(&n.sharedHost, "shared-host", false, "this machine runs several nodes (as `cluster up` does): report as the node's usage only what its Pods and kubelet use")
	f.StringVar(&n.fallbackRegistry, "fallback-registry", "docker.io", "where images without a registry host are looked for after the cluster's registry (\"\" for nowhere)")
	f.StringVar(&n.proxyMode, "proxy-mode", "auto", "how the node proxies Services: auto (IPVS where the kernel has it, else iptables), iptables, ipvs")
	f.StringVar(&n.proxyBalance, "proxy-balance", "random", "how connections are spread over a Service's endpoints: random or roundrobin")
	f.StringVar(&n.clusterCIDR, "cluster-cidr", "10.244.0.0/16", "the Pod network")
	f.StringVar(&n.serviceCIDR, "service-cidr", "10.96.0.0/16", "the Service network")
	f.StringVar(&n.nodeCIDR, "node-cidr", "", "the network of the nodes' addresses, routed from Pods through their node (so that replies to NodePort traffic from other nodes find their way); Pods get no default route")
}

func serverCommand() *cobra.Command {
	var cfg apiserver.Config
	var etcdEndpoints, sans, logLevel string
	var noNode bool
	var nodeGrace time.Duration
	hpaOpts := hpa.DefaultOptions()
	var node nodeFlags
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the control plane (etcd, the API server, the scheduler, the registry), and a node",
		Long: `Run the control plane: an embedded etcd (or an external one with --etcd-endpoints), the
API server on HTTPS, and the cluster's image registry (under /v2/ on the same port). Unless
--no-node, the server is also a node: its kubelet runs Pods on containerd.

On its first start the server makes a CA, a serving certificate, an admin token and a join token
in --data-dir, and writes the admin's client config to DATA_DIR/admin.yaml (a kubeconfig that
both minik8s and kubectl read).`,
		Example: `  # a control plane with its data in /var/lib/minik8s, on all interfaces
  minik8s server --data-dir /var/lib/minik8s --listen 0.0.0.0:6443 --advertise-address 192.168.1.10

  # then, as the admin:
  export MINIK8S_CONFIG=/var/lib/minik8s/admin.yaml
  minik8s get nodes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level: %w (use debug, info, warn or error)", err)
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			cfg.Logger = log
			if etcdEndpoints != "" {
				cfg.EtcdEndpoints = strings.Split(etcdEndpoints, ",")
			}
			if sans != "" {
				cfg.TLSSANs = strings.Split(sans, ",")
			}
			if node.ip == "" {
				node.ip = cfg.AdvertiseAddress
			}
			if nodeGrace <= node.heartbeat {
				return fmt.Errorf("--node-grace-period (%s) must be longer than --heartbeat-interval (%s)", nodeGrace, node.heartbeat)
			}
			if hpaOpts.SyncPeriod <= 0 || hpaOpts.Tolerance < 0 {
				return fmt.Errorf("--hpa-sync-period (%s) must be positive and --hpa-tolerance (%g) at least 0", hpaOpts.SyncPeriod, hpaOpts.Tolerance)
			}
			if !noNode {
				cfg.TLSSANs = append(cfg.TLSSANs, node.ip)
			}
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			reg, err := registry.NewHandler(ctx, filepath.Join(cfg.DataDir, "registry"), log)
			if err != nil {
				return fmt.Errorf("image registry: %w", err)
			}
			cfg.Handlers = map[string]http.Handler{"/v2/": reg}
			srv, err := apiserver.Start(ctx, cfg)
			if err != nil {
				return err
			}
			defer srv.Stop()
			admin, err := client.New(srv.AdminConfig())
			if err != nil {
				return err
			}
			go scheduler.New(admin, log.With("component", "scheduler")).Run(ctx, 32)
			go endpoints.New(admin, log.With("component", "endpoints")).Run(ctx, 4)
			go nodelifecycle.New(admin, nodeGrace, log.With("component", "node-controller")).Run(ctx)
			go replicaset.New(admin, log.With("component", "replicaset")).Run(ctx, 4)
			go hpa.New(admin, hpaOpts, log.With("component", "hpa")).Run(ctx, 4)
			go gc.New(admin, log.With("component", "gc")).Run(ctx)
			kubeletDone := make(chan error, 1)
			if !noNode {
				go func() { kubeletDone <- runLocalNode(ctx, srv, cfg, node, log) }()
			}
			select {
			case <-ctx.Done():
			case err := <-kubeletDone:
				if err != nil {
					log.Error("the node stopped; the control plane goes on", "err", err)
				}
				<-ctx.Done()
			}
			log.Info("shutting down")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data-dir", "/var/lib/minik8s", "directory for etcd data, certificates, tokens, images, the node's pods and admin.yaml")
	f.StringVar(&cfg.Listen, "listen", "0.0.0.0:6443", "HTTPS address of the API server")
	f.StringVar(&cfg.AdvertiseAddress, "advertise-address", "127.0.0.1", "address clients and nodes use to reach the server (written into admin.yaml and the certificate)")
	f.StringVar(&sans, "tls-san", "", "more names or IPs for the serving certificate, comma separated")
	f.StringVar(&etcdEndpoints, "etcd-endpoints", "", "external etcd endpoints, comma separated (default: an embedded etcd)")
	f.StringVar(&cfg.EtcdClientURL, "etcd-client-url", "http://127.0.0.1:2379", "where the embedded etcd listens for clients")
	f.StringVar(&cfg.EtcdPeerURL, "etcd-peer-url", "http://127.0.0.1:2380", "where the embedded etcd listens for peers")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	f.BoolVar(&noNode, "no-node", false, "run only the control plane, no kubelet")
	f.DurationVar(&nodeGrace, "node-grace-period", nodelifecycle.DefaultGracePeriod,
		"how long a node may go without a heartbeat before it is marked NotReady and tainted unreachable")
	f.DurationVar(&hpaOpts.SyncPeriod, "hpa-sync-period", hpa.DefaultSyncPeriod, "how often each HorizontalPodAutoscaler is looked at (a new or changed one at once)")
	f.Float64Var(&hpaOpts.Tolerance, "hpa-tolerance", hpa.DefaultTolerance,
		"how far (as a fraction) the metrics may be from an autoscaler's target before it scales: 0.1 leaves 90-110 % alone")
	node.bind(cmd)
	return cmd
}

// runLocalNode runs the server's own kubelet, with the admin's credentials.
func runLocalNode(ctx context.Context, srv *apiserver.Server, cfg apiserver.Config, node nodeFlags, log *slog.Logger) error {
	creds := srv.Credentials()
	cert, err := creds.IssueServingCert("kubelet-"+node.name, []string{node.ip, node.name, "localhost"})
	if err != nil {
		return err
	}
	admin := srv.AdminConfig()
	nodeCfg := &client.Config{Server: admin.Server, CAData: admin.CAData, Token: creds.NodeToken(node.name)}
	c, err := client.New(nodeCfg)
	if err != nil {
		return err
	}
	u, err := url.Parse(admin.Server)
	if err != nil {
		return err
	}
	registryHost := u.Host
	if host, port, err := net.SplitHostPort(u.Host); err == nil {
		registryHost = net.JoinHostPort(host, port)
	}
	return runNodeWithProxy(ctx, node, c, kubelet.Config{
		NodeName: node.name, Address: node.ip, Port: node.port, Client: c,
		DataDir:          filepath.Join(cfg.DataDir, "node"),
		ContainerdSocket: node.socket, ContainerdNamespace: node.namespace,
		RegistryHost: registryHost, RegistryCA: creds.CACertPEM, RegistryToken: nodeCfg.Token, FallbackRegistry: node.fallbackRegistry,
		HeartbeatInterval: node.heartbeat, BackoffBase: node.backoffBase, BackoffMax: node.backoffMax,
		MetricsInterval: node.metricsInterval, SharedHost: node.sharedHost,
		TLSCert: cert, ClientToken: creds.KubeletToken,
		Labels: map[string]string{"node-role.kubernetes.io/control-plane": ""},
		Logger: log,
	}, log)
}

func nodeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "node",
		Short:   "Node maintenance",
		Example: "  minik8s node reset --data-dir /var/lib/minik8s/node",
	}
	var rc kubelet.ResetConfig
	reset := &cobra.Command{
		Use:   "reset",
		Short: "Remove every container, Pod network and file a node made",
		Long: `Remove what a node's kubelet and proxy made: its containers and snapshots in containerd, the
Pods' network namespaces and IP leases, the bridge, the cgroups, the Service rules and the node's
data directory. Stop the
node (or the server it belongs to) first. Safe to run again.`,
		Example: "  minik8s node reset --data-dir /var/lib/minik8s/node --containerd-socket /run/containerd/containerd.sock",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rc.Progress = cmd.OutOrStdout()
			err := kubelet.Reset(cmd.Context(), rc)
			if perr := proxy.Cleanup(cmd.Context()); perr != nil && err == nil {
				err = fmt.Errorf("remove the Service rules: %w", perr)
			}
			return err
		},
	}
	reset.Flags().StringVar(&rc.DataDir, "data-dir", "/var/lib/minik8s/node", "the node's data directory")
	reset.Flags().StringVar(&rc.ContainerdSocket, "containerd-socket", "/run/containerd/containerd.sock", "containerd's socket")
	reset.Flags().StringVar(&rc.ContainerdNamespace, "containerd-namespace", "minik8s", "containerd namespace of the node's containers")
	cmd.AddCommand(reset)
	return cmd
}

// runNodeWithProxy runs the kubelet and the Service proxy of a node side by side until ctx ends
// or one of them fails.
func runNodeWithProxy(ctx context.Context, node nodeFlags, c *client.Client, kcfg kubelet.Config, log *slog.Logger) error {
	mode, err := proxy.ModeFor(node.proxyMode)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	kcfg.ClusterCIDRs = []string{node.clusterCIDR, node.serviceCIDR}
	if node.nodeCIDR != "" {
		kcfg.ClusterCIDRs = append(kcfg.ClusterCIDRs, node.nodeCIDR)
	}
	go func() { errc <- kubelet.Run(ctx, kcfg) }()
	go func() {
		errc <- proxy.New(c, proxy.Options{ProxyMode: mode, Mode: node.proxyBalance, ClusterCIDR: node.clusterCIDR,
			ServiceCIDR: node.serviceCIDR, NodeIPs: []string{node.ip}, MinSyncPeriod: 200 * time.Millisecond}, log).Run(ctx)
	}()
	err = <-errc
	cancel()
	<-errc
	return err
}
