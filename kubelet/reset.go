package kubelet

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"

	"github.com/minik8s/minik8s/kubelet/network"
)

// podCIDRFile remembers the node's pod subnet, so that Reset can tear the network down
// without the API server.
const podCIDRFile = "podcidr"

// ResetConfig says which node to reset.
type ResetConfig struct {
	DataDir             string
	ContainerdSocket    string
	ContainerdNamespace string
	Progress            io.Writer
}

// Reset removes everything a node's kubelet made: every container and snapshot in its
// containerd namespace, every Pod network namespace and IP lease, the bridge, the cgroups and
// the data directory. It needs no API server and is idempotent: `minik8s node reset`.
func Reset(ctx context.Context, cfg ResetConfig) error {
	if cfg.ContainerdNamespace == "" {
		cfg.ContainerdNamespace = "minik8s"
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	var firstErr error
	keep := func(err error) {
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if _, err := os.Stat(cfg.ContainerdSocket); err == nil {
		keep(removeAllContainers(ctx, cfg))
	}
	stateDir := filepath.Join(cfg.DataDir, "cni")
	if b, err := os.ReadFile(filepath.Join(cfg.DataDir, podCIDRFile)); err == nil {
		n, err := network.New(network.Config{StateDir: stateDir, PodCIDR: strings.TrimSpace(string(b))})
		if err == nil {
			for _, uid := range n.Pods() {
				fmt.Fprintf(cfg.Progress, "removing the network of pod %s\n", uid)
				keep(n.TearDown(ctx, uid))
			}
			keep(n.Close())
		} else {
			keep(err)
		}
	}
	if out, err := exec.Command("ip", "link", "del", network.DefaultBridgeName).CombinedOutput(); err != nil &&
		!strings.Contains(string(out), "Cannot find device") {
		keep(fmt.Errorf("delete bridge %s: %v: %s", network.DefaultBridgeName, err, out))
	}
	removeCgroups()
	if firstErr == nil {
		keep(os.RemoveAll(cfg.DataDir))
	}
	return firstErr
}

func removeAllContainers(ctx context.Context, cfg ResetConfig) error {
	c, err := containerd.New(cfg.ContainerdSocket, containerd.WithDefaultNamespace(cfg.ContainerdNamespace), containerd.WithTimeout(5*time.Second))
	if err != nil {
		return err
	}
	defer c.Close()
	rt := &runtime{client: c, namespace: cfg.ContainerdNamespace}
	cs, err := c.Containers(rt.ctx(ctx))
	if err != nil {
		return err
	}
	for _, ctr := range cs {
		fmt.Fprintf(cfg.Progress, "removing container %s\n", ctr.ID())
		if err := rt.Stop(ctx, ctr, 0); err != nil && !errdefs.IsNotFound(err) {
			return err
		}
		if err := rt.Remove(ctx, ctr); err != nil {
			return err
		}
	}
	imgs, err := c.ImageService().List(rt.ctx(ctx))
	if err == nil {
		for _, img := range imgs {
			_ = c.ImageService().Delete(rt.ctx(ctx), img.Name)
		}
	}
	return nil
}

// removeCgroups removes the (empty) cgroups of Pods under every hierarchy.
func removeCgroups() {
	roots, _ := filepath.Glob("/sys/fs/cgroup/*/minik8s")
	if d := "/sys/fs/cgroup/minik8s"; dirExists(d) {
		roots = append(roots, d)
	}
	for _, root := range roots {
		var dirs []string
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		sort.Slice(dirs, func(a, b int) bool { return len(dirs[a]) > len(dirs[b]) })
		for _, d := range dirs {
			_ = os.Remove(d)
		}
	}
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
