package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/cli"
	"github.com/minik8s/minik8s/kubelet"
)

func joinCommand() *cobra.Command {
	var node nodeFlags
	var server, token, caFile, manifest, dataDir, logLevel string
	cmd := &cobra.Command{
		Use:   "join --server https://HOST:PORT --token TOKEN --ca-file CA.crt [-f node.yaml]",
		Short: "Join this machine to a cluster as a worker node",
		Long: `Join this machine to a cluster: trade the cluster's join token for the node's own
credentials, register the Node (from node.yaml if given: name, addresses, labels, capacity
overrides), and run the kubelet on containerd until interrupted. Running Pods keep running when
the node process stops, and are adopted when it starts again.

The server keeps the join token in DATA_DIR/tokens/join and its CA in DATA_DIR/pki/ca.crt.`,
		Example: `  minik8s join --server https://192.168.1.10:6443 --token $(cat join-token) \
      --ca-file ca.crt --node-ip 192.168.1.11

  # with a Node manifest (name, address, labels)
  minik8s join --server https://192.168.1.10:6443 --token $TOKEN --ca-file ca.crt -f node.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level: %w (use debug, info, warn or error)", err)
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			if server == "" || token == "" || caFile == "" {
				return fmt.Errorf("--server, --token and --ca-file are required; see `minik8s join --help`")
			}
			labels := map[string]string{}
			var capacity api.ResourceList
			if manifest != "" {
				ms, err := cli.ReadManifests([]string{manifest}, cmd.InOrStdin(), false)
				if err != nil {
					return err
				}
				if len(ms) != 1 || ms[0].Resource.Kind != "Node" {
					return fmt.Errorf("%s: expected one Node manifest", manifest)
				}
				n := ms[0].Object.(*api.Node)
				if n.Name != "" && !cmd.Flags().Changed("node-name") {
					node.name = n.Name
				}
				for k, v := range n.Labels {
					labels[k] = v
				}
				for _, a := range n.Status.Addresses {
					if a.Type == "InternalIP" && node.ip == "" {
						node.ip = a.Address
					}
				}
				capacity = n.Status.Capacity
			}
			if node.ip == "" {
				return fmt.Errorf("the node's address is needed: --node-ip, or an InternalIP address in the Node manifest")
			}
			ctx := cmd.Context()
			joined, err := kubelet.Join(ctx, kubelet.JoinConfig{Server: server, Token: token, CAFile: caFile,
				NodeName: node.name, Addresses: []string{node.ip}, DataDir: dataDir, Log: log})
			if err != nil {
				return err
			}
			log.Info("joined the cluster", "server", server, "node", node.name)
			return runNode(ctx, node, joined, dataDir, labels, capacity, log)
		},
	}
	f := cmd.Flags()
	f.StringVar(&server, "server", "", "the API server, https://HOST:PORT")
	f.StringVar(&token, "token", "", "the cluster's join token (DATA_DIR/tokens/join on the server)")
	f.StringVar(&caFile, "ca-file", "", "the cluster's CA certificate (DATA_DIR/pki/ca.crt on the server)")
	f.StringVarP(&manifest, "filename", "f", "", "a Node manifest: name, InternalIP address, labels, capacity overrides")
	f.StringVar(&dataDir, "data-dir", "/var/lib/minik8s/node", "directory for the node's pods, logs and network state")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	node.bind(cmd)
	return cmd
}

// runNode runs a kubelet with joined credentials until ctx ends.
func runNode(ctx context.Context, node nodeFlags, joined *kubelet.Joined, dataDir string, labels map[string]string, capacity api.ResourceList, log *slog.Logger) error {
	u, err := url.Parse(joined.Config.Server)
	if err != nil {
		return err
	}
	if !strings.EqualFold(u.Scheme, "https") {
		return fmt.Errorf("--server must be an https:// URL")
	}
	return runNodeWithProxy(ctx, node, joined.Client, kubelet.Config{
		NodeName: node.name, Address: node.ip, Port: node.port, Client: joined.Client, DataDir: dataDir,
		ContainerdSocket: node.socket, ContainerdNamespace: node.namespace,
		RegistryHost: u.Host, RegistryCA: joined.Config.CAData, RegistryToken: joined.Config.Token, FallbackRegistry: node.fallbackRegistry,
		HeartbeatInterval: node.heartbeat, BackoffBase: node.backoffBase, BackoffMax: node.backoffMax,
		MetricsInterval: node.metricsInterval, SharedHost: node.sharedHost,
		TLSCert: joined.TLSCert, ClientToken: joined.KubeletToken, Labels: labels, Capacity: capacity, Logger: log,
	}, log)
}
