package main

import (
	"fmt"
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
		Long: `Run a whole cluster on this machine: each node in a network namespace of its own with an
address on the bridge mk8sbr0 (198.18.0.11, .12, ...), its own containerd and kubelet; the control
plane on the first node. Nodes have no default route and the host sends the pod and service
ranges only into the cluster: nothing the cluster sends leaves the machine. Needs root.`,
		Example: `  minik8s cluster up --nodes 3 --images build/images
  minik8s get nodes -o wide
  minik8s cluster down`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&o.Name, "name", "minik8s", "the cluster's name: its nodes' network namespaces are NAME-node-1, ...")
	pf.StringVar(&o.Dir, "dir", filepath.Join(home, ".minik8s", "cluster"), "directory for the cluster's data, logs and process IDs")
	pf.IntVar(&o.Nodes, "nodes", 1, "number of nodes")
	pf.IntVar(&o.APIPort, "api-port", 6443, "API server port on the first node")
	var install, imagesDir string
	var purge bool
	up := &cobra.Command{
		Use:   "up",
		Short: "Start the local cluster (idempotent) and install the admin config",
		Example: `  minik8s cluster up --nodes 3
  minik8s cluster up --dir /tmp/demo --config-out /tmp/demo/config --images build/images`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.InstallConfig = install
			o.Progress = cmd.OutOrStdout()
			if imagesDir != "" {
				imgs, err := filepath.Glob(filepath.Join(imagesDir, "*.tar"))
				if err != nil {
					return err
				}
				if len(imgs) == 0 {
					return fmt.Errorf("--images %s holds no .tar image archives; build them with `make images`", imagesDir)
				}
				o.Images = imgs
			}
			return cluster.Up(cmd.Context(), o)
		},
	}
	uf := up.Flags()
	uf.StringVar(&install, "config-out", filepath.Join(home, ".minik8s", "config"), "where to install the admin's client config (\"\" for nowhere)")
	uf.StringVar(&imagesDir, "images", "", "push every .tar image archive of this directory into the cluster's registry")
	uf.StringArrayVar(&o.ServerArgs, "server-arg", nil, "an extra flag for `minik8s server`, e.g. --server-arg=--log-level=debug (repeatable)")
	uf.StringArrayVar(&o.NodeArgs, "node-arg", nil, "an extra flag for every node's `minik8s join`, e.g. --node-arg=--restart-backoff=1s (repeatable)")
	down := &cobra.Command{
		Use:     "down",
		Short:   "Stop the local cluster and remove its containers, networks and processes",
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
		Short:   "Say what of the local cluster runs",
		Example: "  minik8s cluster status",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cluster.Status(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	cmd.AddCommand(up, down, status)
	return cmd
}
