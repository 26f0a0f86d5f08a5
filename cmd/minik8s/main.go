// Command minik8s is the one binary of minik8s: the control plane (server), and the CLI.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/minik8s/minik8s/apiserver"
	"github.com/minik8s/minik8s/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := cli.NewRootCommand(os.Stdin, os.Stdout, os.Stderr)
	root.AddCommand(serverCommand(), clusterCommand())
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func serverCommand() *cobra.Command {
	var cfg apiserver.Config
	var etcdEndpoints, sans, logLevel string
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the control plane: etcd, the API server",
		Long: `Run the control plane: an embedded etcd (or an external one with --etcd-endpoints) and the
API server on HTTPS. On its first start the server makes a CA, a serving certificate, an admin
token and a join token in --data-dir, and writes the admin's client config to DATA_DIR/admin.yaml
(a kubeconfig that both minik8s and kubectl read).`,
		Example: `  # a control plane with its data in /var/lib/minik8s, on all interfaces
  minik8s server --data-dir /var/lib/minik8s --listen 0.0.0.0:6443

  # then, as the admin:
  export MINIK8S_CONFIG=/var/lib/minik8s/admin.yaml
  minik8s get namespaces`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level: %w (use debug, info, warn or error)", err)
			}
			cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			if etcdEndpoints != "" {
				cfg.EtcdEndpoints = strings.Split(etcdEndpoints, ",")
			}
			if sans != "" {
				cfg.TLSSANs = strings.Split(sans, ",")
			}
			srv, err := apiserver.Start(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			<-cmd.Context().Done()
			cfg.Logger.Info("shutting down")
			srv.Stop()
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data-dir", "/var/lib/minik8s", "directory for etcd data, certificates, tokens and admin.yaml")
	f.StringVar(&cfg.Listen, "listen", "0.0.0.0:6443", "HTTPS address of the API server")
	f.StringVar(&cfg.AdvertiseAddress, "advertise-address", "127.0.0.1", "address clients and nodes use to reach the server (written into admin.yaml and the certificate)")
	f.StringVar(&sans, "tls-san", "", "more names or IPs for the serving certificate, comma separated")
	f.StringVar(&etcdEndpoints, "etcd-endpoints", "", "external etcd endpoints, comma separated (default: an embedded etcd)")
	f.StringVar(&cfg.EtcdClientURL, "etcd-client-url", "http://127.0.0.1:2379", "where the embedded etcd listens for clients")
	f.StringVar(&cfg.EtcdPeerURL, "etcd-peer-url", "http://127.0.0.1:2380", "where the embedded etcd listens for peers")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	return cmd
}
