package main

import (
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/minik8s/minik8s/cluster"
)

func clusterCommand() *cobra.Command {
	var o cluster.Options
	home, _ := os.UserHomeDir()
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Run a whole minik8s cluster on this machine (up, down, status)",
		Example: `  minik8s cluster up
  minik8s get namespaces
  minik8s cluster down`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&o.Dir, "dir", filepath.Join(home, ".minik8s", "cluster"), "directory for the cluster's data, logs and process IDs")
	pf.StringVar(&o.Listen, "listen", "127.0.0.1:6443", "API server address")
	pf.IntVar(&o.EtcdPort, "etcd-port", 2379, "embedded etcd client port (the peer port is the next one)")
	var install string
	var purge bool
	up := &cobra.Command{
		Use:   "up",
		Short: "Start the local cluster (idempotent) and install the admin config",
		Example: `  minik8s cluster up
  minik8s cluster up --dir /tmp/demo --listen 127.0.0.1:7443 --config-out /tmp/demo/config`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.InstallConfig = install
			o.Progress = cmd.OutOrStdout()
			return cluster.Up(cmd.Context(), o)
		},
	}
	up.Flags().StringVar(&install, "config-out", filepath.Join(home, ".minik8s", "config"), "where to install the admin's client config (\"\" for nowhere)")
	down := &cobra.Command{
		Use:     "down",
		Short:   "Stop the local cluster",
		Example: "  minik8s cluster down\n  minik8s cluster down --purge   # also delete its data",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Progress = cmd.OutOrStdout()
			return cluster.Down(o, purge)
		},
	}
	down.Flags().BoolVar(&purge, "purge", false, "also delete the cluster's directory")
	status := &cobra.Command{
		Use:     "status",
		Short:   "Say whether the local cluster runs",
		Example: "  minik8s cluster status",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cluster.Status(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	cmd.AddCommand(up, down, status)
	return cmd
}
