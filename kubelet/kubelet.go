// Package kubelet is the node agent: it registers its Node and heartbeats, runs the Pods bound
// to it on containerd (a network namespace wired by CNI and held by a pause container, then the
// Pod's containers joined to it, with volumes, cgroup limits and restarts), reports their
// status, and serves their logs and exec over HTTPS. It is level-triggered: sync(pod) brings
// containerd to the Pod's spec and is safe to run again at any time, also after the kubelet
// itself restarts (it adopts what containerd already runs).
package kubelet

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/client"
	"github.com/minik8s/minik8s/client/cache"
	"github.com/minik8s/minik8s/client/workqueue"
	"github.com/minik8s/minik8s/kubelet/network"
)

// Config configures a kubelet.
type Config struct {
	NodeName string
	// Address is the node's InternalIP, where the kubelet's HTTPS server listens.
	Address string
	// Port is the kubelet's HTTPS port (default 10250).
	Port   int
	Client *client.Client
	// DataDir holds the node's pods (volumes, logs) and CNI state.
	DataDir string
	// ContainerdSocket and ContainerdNamespace say which containerd to use.
	ContainerdSocket    string
	ContainerdNamespace string
	// Registry is how to pull from the cluster's registry.
	RegistryHost  string
	RegistryCA    []byte
	RegistryToken string
	// FallbackRegistry is where images are looked for after the cluster's registry
	// ("docker.io" as Kubernetes; "" for nowhere).
	FallbackRegistry string
	// PauseImage holds each Pod's network namespace (default "pause:latest").
	PauseImage string
	// ClusterCIDRs are the ranges Pods get routes to (default the pod and service networks).
	ClusterCIDRs []string
	// HeartbeatInterval is how often the node reports (default 5s).
	HeartbeatInterval time.Duration
	// MetricsInterval is how often the kubelet samples and reports resource usage (default 5s).
	MetricsInterval time.Duration
	// SharedHost says that the machine runs several nodes (a local cluster): the node's usage
	// is then what its Pods and its kubelet use, not the whole machine's.
	SharedHost bool
	// BackoffBase and BackoffMax shape CrashLoopBackOff (defaults 10s and 5m, as Kubernetes).
	BackoffBase, BackoffMax time.Duration
	// TLSCert is the kubelet's serving certificate; ClientToken is the token the API server
	// presents when it proxies logs and exec.
	TLSCert     tls.Certificate
	ClientToken string
	// Labels are added to the Node.
	Labels map[string]string
	// Capacity overrides what the node reports of its machine (cpu, memory, pods).
	Capacity api.ResourceList
	Logger   *slog.Logger
}

func (c *Config) defaults() error {
	if c.NodeName == "" {
		h, err := os.Hostname()
		if err != nil {
			return err
		}
		c.NodeName = h
	}
	if c.Port == 0 {
		c.Port = 10250
	}
	if c.ContainerdSocket == "" {
		c.ContainerdSocket = "/run/containerd/containerd.sock"
	}
	if c.ContainerdNamespace == "" {
		c.ContainerdNamespace = "minik8s"
	}
	if c.PauseImage == "" {
		c.PauseImage = "pause:latest"
	}
	if len(c.ClusterCIDRs) == 0 {
		c.ClusterCIDRs = []string{"10.244.0.0/16", "10.96.0.0/16"}
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = 5 * time.Second
	}
	if c.MetricsInterval <= 0 {
		c.MetricsInterval = 5 * time.Second
	}
	if c.BackoffBase == 0 {
		c.BackoffBase = 10 * time.Second
	}
	if c.BackoffMax == 0 {
		c.BackoffMax = 5 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Client == nil || c.DataDir == "" {
		return errors.New("kubelet: a client and a data directory are required")
	}
	return nil
}

// Kubelet runs one node. Build it with Run.
type Kubelet struct {
	cfg     Config
	log     *slog.Logger
	client  *client.Client
	rt      *runtime
	net     *network.Network
	pods    *cache.Informer
	queue   *workqueue.Queue
	startAt time.Time

	mu     sync.Mutex
	states map[string]*podState // by pod UID
}

// podState is what the kubelet remembers of a Pod between syncs.
type podState struct {
	containers map[string]*containerMemory
}

type containerMemory struct {
	lastTermination *api.ContainerStateTerminated
	waitingReason   string
	waitingMessage  string
	pullFailures    int
	nextPull        time.Time
}

// Run registers the node and runs it until ctx ends. Pods keep running when it returns.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.defaults(); err != nil {
		return err
	}
	k := &Kubelet{cfg: cfg, log: cfg.Logger.With("node", cfg.NodeName), client: cfg.Client, states: map[string]*podState{}, startAt: time.Now()}
	podsDir := filepath.Join(cfg.DataDir, "pods")
	if err := os.MkdirAll(podsDir, 0o755); err != nil {
		return err
	}
	rt, err := newRuntime(ctx, cfg.ContainerdSocket, cfg.ContainerdNamespace, podsDir,
		registryAccess{Host: cfg.RegistryHost, CA: cfg.RegistryCA, Token: cfg.RegistryToken, Fallback: cfg.FallbackRegistry})
	if err != nil {
		return err
	}
	k.rt = rt
	defer rt.client.Close()

	// A node that ran before knows its pod subnet and goes on at once, registering in the
	// background: its Pods run (and restart) even if the control plane is down now.
	podCIDR := ""
	if b, err := os.ReadFile(filepath.Join(cfg.DataDir, podCIDRFile)); err == nil {
		podCIDR = strings.TrimSpace(string(b))
	}
	if podCIDR == "" {
		node, err := k.register(ctx)
		if err != nil {
			return err
		}
		podCIDR = node.Spec.PodCIDR
		if err := os.WriteFile(filepath.Join(cfg.DataDir, podCIDRFile), []byte(podCIDR+"\n"), 0o644); err != nil {
			return err
		}
	} else {
		go func() {
			if _, err := k.register(ctx); err != nil && ctx.Err() == nil {
				k.log.Error("register the node", "err", err)
			}
		}()
	}
	k.net, err = network.New(network.Config{
		StateDir:     filepath.Join(cfg.DataDir, "cni"),
		PodCIDR:      podCIDR,
		ClusterCIDRs: cfg.ClusterCIDRs,
	})
	if err != nil {
		return fmt.Errorf("pod network: %w", err)
	}

	srvErr := make(chan error, 1)
	go func() { srvErr <- k.serve(ctx) }()
	go k.heartbeat(ctx)

	k.queue = workqueue.New(workqueue.WithName("pods"), workqueue.WithBackoff(500*time.Millisecond, 30*time.Second),
		workqueue.WithErrorHandler(func(key string, err error) { k.log.Warn("sync pod", "pod", key, "err", err) }))
	k.pods = cache.New(cfg.Client.Pods("").Dynamic(), client.ListOptions{FieldSelector: "spec.nodeName=" + cfg.NodeName}, k.log)
	k.pods.AddHandler(cache.EnqueueHandler(k.queue))
	k.pods.Restore(k.loadCheckpoint())
	go k.pods.Run(ctx)
	go k.watchExits(ctx)
	go k.housekeeping(ctx)
	go k.routePods(ctx)
	go k.reportUsage(ctx)
	k.log.Info("kubelet running", "address", cfg.Address, "podCIDR", podCIDR)
	k.queue.Run(ctx, 4, k.sync)
	select {
	case err := <-srvErr:
		if err != nil && ctx.Err() == nil {
			return err
		}
	default:
	}
	return nil
}

func (k *Kubelet) state(uid string) *podState {
	k.mu.Lock()
	defer k.mu.Unlock()
	s, ok := k.states[uid]
	if !ok {
		s = &podState{containers: map[string]*containerMemory{}}
		k.states[uid] = s
	}
	return s
}

func (k *Kubelet) forget(uid string) {
	k.mu.Lock()
	delete(k.states, uid)
	k.mu.Unlock()
}

// housekeeping requeues every Pod now and then (exits missed, backoffs over, status drift),
// and removes what containerd and CNI still hold for Pods that no longer exist.
func (k *Kubelet) housekeeping(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !k.pods.HasSynced() {
			continue
		}
		known := map[string]bool{}
		pods := k.pods.List()
		for _, o := range pods {
			known[o.GetObjectMeta().UID] = true
			k.queue.Add(o.GetObjectMeta().Key())
		}
		if err := k.saveCheckpoint(pods); err != nil {
			k.log.Warn("save the pod checkpoint", "err", err)
		}
		k.cleanupOrphans(ctx, known)
	}
}

// watchExits requeues a Pod as soon as one of its containers exits.
func (k *Kubelet) watchExits(ctx context.Context) {
	for ctx.Err() == nil {
		ch, errs := k.rt.client.Subscribe(k.rt.ctx(ctx), `topic=="/tasks/exit"`)
	loop:
		for {
			select {
			case <-ctx.Done():
				return
			case err := <-errs:
				if err != nil && ctx.Err() == nil {
					k.log.Debug("containerd events", "err", err)
				}
				break loop
			case ev := <-ch:
				if ev == nil {
					break loop
				}
				k.requeueAll()
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (k *Kubelet) requeueAll() {
	if k.pods == nil {
		return
	}
	for _, o := range k.pods.List() {
		k.queue.Add(o.GetObjectMeta().Key())
	}
}

var listAll = client.ListOptions{}
