// Package testserver starts a real API server on a real embedded etcd for tests: each call
// gets its own data directory and free ports, and is stopped when the test ends.
package testserver

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"testing"

	"github.com/minik8s/minik8s/apiserver"
	"github.com/minik8s/minik8s/client"
)

// Server is a running test API server and an admin client for it.
type Server struct {
	*apiserver.Server
	Client *client.Client
	Config *client.Config
	// EtcdURL is where the embedded etcd listens for ordinary etcd clients.
	EtcdURL string
}

// Start starts a server for t and stops it in t's cleanup.
func Start(t testing.TB) *Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	srv, err := apiserver.Start(ctx, apiserver.Config{
		DataDir:       t.TempDir(),
		Listen:        "127.0.0.1:0",
		EtcdClientURL: etcdURL,
		EtcdPeerURL:   fmt.Sprintf("http://127.0.0.1:%d", freePort(t)),
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		cancel()
		t.Fatalf("start API server: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		srv.Stop()
	})
	cfg, err := client.LoadConfig(srv.AdminConfigPath())
	if err != nil {
		t.Fatalf("load admin.yaml: %v", err)
	}
	c, err := client.New(cfg)
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	return &Server{Server: srv, Client: c, Config: cfg, EtcdURL: etcdURL}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
