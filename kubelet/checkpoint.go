package kubelet

import (
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/minik8s/minik8s/api"
)

// checkpointFile keeps the node's Pods as last seen, so that a kubelet that starts while the
// control plane is down still runs (and restarts) them.
const checkpointFile = "pods.json"

func (k *Kubelet) saveCheckpoint(pods []api.Object) error {
	b, err := json.Marshal(pods)
	if err != nil {
		return err
	}
	path := filepath.Join(k.cfg.DataDir, checkpointFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func (k *Kubelet) loadCheckpoint() []api.Object {
	b, err := os.ReadFile(filepath.Join(k.cfg.DataDir, checkpointFile))
	if err != nil {
		return nil
	}
	var pods []*api.Pod
	if err := json.Unmarshal(b, &pods); err != nil {
		k.log.Warn("ignoring an unreadable pod checkpoint", "err", err)
		return nil
	}
	out := make([]api.Object, len(pods))
	for i, p := range pods {
		out[i] = p
	}
	return out
}
