// Command minik8s is the one binary of minik8s: the control plane (server), and the CLI.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/minik8s/minik8s/cli"
	"github.com/minik8s/minik8s/kubelet/network/cniplugin"
)

func main() {
	if filepath.Base(os.Args[0]) == cniplugin.BinaryName { // the node's CNI plugin (kubelet/network)
		cniplugin.Main()
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := cli.NewRootCommand(os.Stdin, os.Stdout, os.Stderr)
	root.AddCommand(serverCommand(), joinCommand(), clusterCommand(), nodeCommand())
	if err := root.ExecuteContext(ctx); err != nil {
		var exit *cli.ExitError
		if errors.As(err, &exit) {
			os.Exit(exit.Code)
		}
		if err.Error() != "" {
			fmt.Fprintln(os.Stderr, "error:", err)
		}
		os.Exit(1)
	}
}
