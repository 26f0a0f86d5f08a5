// Package apiserver serves the minik8s API: Kubernetes-shaped REST over HTTPS, with bearer-token
// authentication, strict decoding, validation, and storage and watches in etcd.
package apiserver

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3client"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver/storage"
	"github.com/minik8s/minik8s/client"
)

// Config configures a Server.
type Config struct {
	// DataDir holds the embedded etcd's data, the PKI, the tokens and admin.yaml.
	DataDir string
	// Listen is the HTTPS address, such as "0.0.0.0:6443" or "127.0.0.1:0".
	Listen string
	// AdvertiseAddress is the host that clients use to reach the server; it goes into
	// admin.yaml and the serving certificate. Empty means 127.0.0.1.
	AdvertiseAddress string
	// TLSSANs are further names and IPs for the serving certificate.
	TLSSANs []string
	// EtcdEndpoints selects an external etcd cluster; empty means an embedded etcd.
	EtcdEndpoints []string
	// EtcdClientURL and EtcdPeerURL are where the embedded etcd listens (defaults
	// http://127.0.0.1:2379 and http://127.0.0.1:2380).
	EtcdClientURL, EtcdPeerURL string
	// Handlers are served beside the API, after authentication, by path prefix (the image
	// registry under "/v2/").
	Handlers map[string]http.Handler
	Logger   *slog.Logger
}

// Server is a running API server. Its methods are safe for concurrent use.
type Server struct {
	cfg   Config
	log   *slog.Logger
	creds *Credentials
	store *storage.Store
	etcd  *embed.Etcd
	cli   *clientv3.Client
	ln    net.Listener
	http  *http.Server
	url   string

	// metrics is the usage the kubelets report (see metrics.go).
	metrics *metricsStore

	kubeletOnce sync.Once
	kubeletHTTP *http.Client

	nsWake    chan struct{}
	nsMu      sync.RWMutex
	nsCache   map[string]bool // namespace name → terminating
	stopLoops context.CancelFunc
	wg        sync.WaitGroup

	// nsCacheRev is the etcd revision nsCache reflects (under nsMu); nsWriteRev is the newest
	// revision at which this server marked or removed a namespace. The cache answers only when
	// it has caught up with nsWriteRev, so that a client sees its own namespace deletes.
	nsCacheRev int64
	nsWriteRev atomic.Int64
}

// Start brings up etcd (embedded unless external endpoints are given), the credentials, the
// built-in namespaces and the HTTPS listener, writes DATA_DIR/admin.yaml, and returns once the
// server answers. Stop (or cancelling ctx) shuts it down.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.DataDir == "" {
		return nil, errors.New("a data directory is required (--data-dir)")
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:6443"
	}
	if cfg.AdvertiseAddress == "" {
		cfg.AdvertiseAddress = "127.0.0.1"
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("make data directory: %w", err)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, nsWake: make(chan struct{}, 1), metrics: newMetricsStore()}
	hosts := append([]string{"127.0.0.1", "localhost", cfg.AdvertiseAddress}, cfg.TLSSANs...)
	if h, err := os.Hostname(); err == nil {
		hosts = append(hosts, h)
	}
	creds, err := LoadOrCreateCredentials(cfg.DataDir, hosts)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	s.creds = creds
	if err := s.startEtcd(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	s.store = storage.New(s.cli)
	if err := s.ensureNamespaces(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		s.Stop()
		return nil, fmt.Errorf("listen on %s: %w (is another server running? pick another --listen)", cfg.Listen, err)
	}
	s.ln = ln
	port := ln.Addr().(*net.TCPAddr).Port
	s.url = fmt.Sprintf("https://%s", net.JoinHostPort(cfg.AdvertiseAddress, fmt.Sprint(port)))
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug),
	}
	tlsLn := tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{creds.ServerCert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.http.Serve(tlsLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve", "err", err)
		}
	}()
	if err := client.WriteConfig(s.AdminConfigPath(), s.AdminConfig()); err != nil {
		s.Stop()
		return nil, fmt.Errorf("write admin.yaml: %w", err)
	}
	loopCtx, cancel := context.WithCancel(context.Background())
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		s.namespaceLoop(loopCtx)
	}()
	go func() {
		defer s.wg.Done()
		s.watchNamespaces(loopCtx)
	}()
	go func() {
		select {
		case <-ctx.Done():
		case <-loopCtx.Done():
		}
		cancel()
	}()
	s.stopLoops = cancel
	s.log.Info("API server ready", "url", s.url, "config", s.AdminConfigPath())
	return s, nil
}

func (s *Server) startEtcd(ctx context.Context) error {
	endpoints := s.cfg.EtcdEndpoints
	if len(endpoints) == 0 {
		ec := embed.NewConfig()
		ec.Dir = filepath.Join(s.cfg.DataDir, "etcd")
		ec.Logger = "zap"
		ec.LogLevel = "error"
		ec.LogOutputs = []string{filepath.Join(s.cfg.DataDir, "etcd.log")}
		clientURL, peerURL := s.cfg.EtcdClientURL, s.cfg.EtcdPeerURL
		if clientURL == "" {
			clientURL = "http://127.0.0.1:2379"
		}
		if peerURL == "" {
			peerURL = "http://127.0.0.1:2380"
		}
		cu, err := parseURL(clientURL)
		if err != nil {
			return fmt.Errorf("etcd client URL: %w", err)
		}
		pu, err := parseURL(peerURL)
		if err != nil {
			return fmt.Errorf("etcd peer URL: %w", err)
		}
		ec.ListenClientUrls, ec.AdvertiseClientUrls = cu, cu
		ec.ListenPeerUrls, ec.AdvertisePeerUrls = pu, pu
		ec.InitialCluster = ec.Name + "=" + peerURL
		ec.AutoCompactionMode = "periodic"
		ec.AutoCompactionRetention = "10m"
		e, err := embed.StartEtcd(ec)
		if err != nil {
			return fmt.Errorf("start embedded etcd in %s: %w (is another server using %s? see %s)", ec.Dir, err, clientURL, ec.LogOutputs[0])
		}
		s.etcd = e
		select {
		case <-e.Server.ReadyNotify():
		case <-time.After(60 * time.Second):
			return errors.New("embedded etcd did not become ready within 60s; see " + ec.LogOutputs[0])
		case <-ctx.Done():
			return ctx.Err()
		}
		// The embedded etcd is reached in-process, without gRPC over the network.
		s.cli = v3client.New(e.Server)
		return nil
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 10 * time.Second, Logger: nopZap()})
	if err != nil {
		return fmt.Errorf("connect to etcd %v: %w", endpoints, err)
	}
	s.cli = cli
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if _, err := cli.Get(sctx, "/registry/~probe"); err != nil {
		return fmt.Errorf("etcd at %v does not answer: %w", endpoints, err)
	}
	return nil
}

// ensureNamespaces creates default, kube-system and kube-public if they are missing.
func (s *Server) ensureNamespaces(ctx context.Context) error {
	res := api.LookupResource("namespaces")
	for _, name := range []string{"default", "kube-system", "kube-public"} {
		ns := &api.Namespace{ObjectMeta: api.ObjectMeta{Name: name, UID: newUID(), CreationTimestamp: api.Now()}}
		api.SetTypeMeta(ns)
		api.Default(ns)
		data, err := encodeForStore(ns)
		if err != nil {
			return err
		}
		if _, err := s.store.Create(ctx, storageKey(res, "", name), data); err != nil && !errors.Is(err, storage.ErrAlreadyExists) {
			return fmt.Errorf("create namespace %s: %w", name, err)
		}
	}
	return nil
}

// Stop shuts the server down and waits for it. It is safe to call more than once.
func (s *Server) Stop() {
	if s.stopLoops != nil {
		s.stopLoops()
	}
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = s.http.Shutdown(ctx)
		cancel()
		_ = s.http.Close()
	}
	s.wg.Wait()
	if s.cli != nil {
		_ = s.cli.Close()
	}
	if s.etcd != nil {
		s.etcd.Close()
	}
}

// URL is the server's HTTPS URL as clients reach it.
func (s *Server) URL() string { return s.url }

// Credentials returns the CA and tokens.
func (s *Server) Credentials() *Credentials { return s.creds }

// Etcd returns the server's etcd client (for benchmarks and tests that compare against it).
func (s *Server) Etcd() *clientv3.Client { return s.cli }

// AdminConfigPath is DATA_DIR/admin.yaml.
func (s *Server) AdminConfigPath() string { return filepath.Join(s.cfg.DataDir, "admin.yaml") }

// AdminConfig is the admin's client config.
func (s *Server) AdminConfig() *client.Config {
	return &client.Config{Server: s.url, CAData: s.creds.CACertPEM, Token: s.creds.AdminToken}
}

// Users: who a token belongs to.
const (
	userAdmin     = "admin"
	userBootstrap = "system:bootstrap"
	// userNodePrefix + NAME is a node, by its node token.
	userNodePrefix = "system:node:"
)

func (s *Server) authenticate(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return ""
	}
	if subtle.ConstantTimeCompare([]byte(tok), []byte(s.creds.AdminToken)) == 1 {
		return userAdmin
	}
	if subtle.ConstantTimeCompare([]byte(tok), []byte(s.creds.JoinToken)) == 1 {
		return userBootstrap
	}
	if node := s.creds.nodeOfToken(tok); node != "" {
		return userNodePrefix + node
	}
	return ""
}

// ServeHTTP authenticates, then routes by the Kubernetes URL scheme.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic in request", "method", r.Method, "path", r.URL.Path, "panic", v)
			writeJSON(w, http.StatusInternalServerError, newStatus(http.StatusInternalServerError, api.StatusReasonInternalError, "internal error").status)
		}
	}()
	switch r.URL.Path {
	case "/healthz", "/readyz", "/livez":
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok"))
		return
	}
	user := s.authenticate(r)
	if user == "" {
		writeJSON(w, http.StatusUnauthorized, newStatus(http.StatusUnauthorized, api.StatusReasonUnauthorized,
			"Unauthorized: a valid bearer token is required (see the server's admin.yaml)").status)
		return
	}
	for prefix, h := range s.cfg.Handlers {
		if strings.HasPrefix(r.URL.Path, prefix) || r.URL.Path+"/" == prefix {
			if user != userAdmin && r.Method != http.MethodGet && r.Method != http.MethodHead {
				writeJSON(w, http.StatusForbidden, newStatus(http.StatusForbidden, api.StatusReasonForbidden, "the join token may only read "+prefix).status)
				return
			}
			h.ServeHTTP(w, r)
			return
		}
	}
	switch r.URL.Path {
	case "/minik8s/v1/join":
		s.serveJoin(w, r, user)
		return
	case "/version":
		writeJSON(w, http.StatusOK, versionInfo())
		return
	case "/openapi/v2":
		s.serveOpenAPI(w, r)
		return
	}
	if isMetricsPath(r.URL.Path) {
		s.serveMetrics(w, r, user)
		return
	}
	ri, ok := parsePath(r.URL.Path)
	if !ok {
		writeJSON(w, http.StatusNotFound, newStatus(http.StatusNotFound, api.StatusReasonNotFound, "the server could not find the requested resource").status)
		return
	}
	if ri.Discovery {
		s.serveDiscovery(w, r, ri)
		return
	}
	res := api.LookupPath(ri.Group, ri.Version, ri.Resource)
	if res == nil {
		writeJSON(w, http.StatusNotFound, newStatus(http.StatusNotFound, api.StatusReasonNotFound,
			fmt.Sprintf("the server could not find the requested resource %q in %s", ri.Resource, strings.TrimPrefix(ri.Group+"/"+ri.Version, "/"))).status)
		return
	}
	if user == userBootstrap && res.Kind != "Node" {
		writeJSON(w, http.StatusForbidden, newStatus(http.StatusForbidden, api.StatusReasonForbidden,
			fmt.Sprintf("the join token may only register nodes, not access %s", res.Name)).status)
		return
	}
	if strings.HasPrefix(user, userNodePrefix) {
		if err := nodeMay(res, ri, r.Method); err != nil {
			writeJSON(w, http.StatusForbidden, newStatus(http.StatusForbidden, api.StatusReasonForbidden, err.Error()).status)
			return
		}
	}
	if !res.Namespaced && ri.Namespace != "" {
		writeJSON(w, http.StatusNotFound, newStatus(http.StatusNotFound, api.StatusReasonNotFound, res.Name+" are not namespaced").status)
		return
	}
	if res.Kind == "Pod" && ri.Name != "" && podSubresources[ri.Subresource] != "" {
		if r.Method != podSubresources[ri.Subresource] {
			writeJSON(w, http.StatusMethodNotAllowed, newStatus(http.StatusMethodNotAllowed, api.StatusReasonMethodNotAllowed,
				fmt.Sprintf("use %s for pods/%s", podSubresources[ri.Subresource], ri.Subresource)).status)
			return
		}
		s.proxyToKubelet(w, r, res, ri)
		return
	}
	if res.Kind == "Pod" && ri.Name != "" && ri.Subresource == "binding" {
		if r.Method != http.MethodPost {
			writeJSON(w, http.StatusMethodNotAllowed, newStatus(http.StatusMethodNotAllowed, api.StatusReasonMethodNotAllowed, "use POST for pods/binding").status)
			return
		}
		s.bind(w, r, res, ri)
		return
	}
	if ri.Subresource != "" && !(ri.Subresource == "status" && res.HasStatus) {
		writeJSON(w, http.StatusNotFound, newStatus(http.StatusNotFound, api.StatusReasonNotFound,
			fmt.Sprintf("%s has no subresource %q", res.Name, ri.Subresource)).status)
		return
	}
	q := r.URL.Query()
	watching := q.Get("watch") == "true" || q.Get("watch") == "1"
	switch {
	case r.Method == http.MethodGet && watching:
		s.watch(w, r, res, ri)
	case r.Method == http.MethodGet && ri.Name == "":
		s.list(w, r, res, ri)
	case r.Method == http.MethodGet:
		s.get(w, r, res, ri)
	case r.Method == http.MethodPost && ri.Name == "":
		s.create(w, r, res, ri)
	case r.Method == http.MethodPut && ri.Name != "":
		s.update(w, r, res, ri)
	case r.Method == http.MethodPatch && ri.Name != "":
		s.patch(w, r, res, ri)
	case r.Method == http.MethodDelete && ri.Name != "" && ri.Subresource == "":
		s.del(w, r, res, ri)
	default:
		writeJSON(w, http.StatusMethodNotAllowed, newStatus(http.StatusMethodNotAllowed, api.StatusReasonMethodNotAllowed,
			fmt.Sprintf("%s is not supported on %s", r.Method, r.URL.Path)).status)
	}
}
