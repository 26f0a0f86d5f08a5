package apiserver_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"

	"github.com/minik8s/minik8s/api"
	"github.com/minik8s/minik8s/apiserver"
	"github.com/minik8s/minik8s/client"
)

// TestExternalEtcd runs the API server against an etcd it did not start (--etcd-endpoints),
// stops it, and starts a new one on the same etcd: the objects are still there.
func TestExternalEtcd(t *testing.T) {
	dir := t.TempDir()
	port := func() int {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}
	cu, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", port()))
	pu, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", port()))
	ec := embed.NewConfig()
	ec.Dir = filepath.Join(dir, "etcd")
	ec.LogLevel = "error"
	ec.LogOutputs = []string{filepath.Join(dir, "etcd.log")}
	ec.ListenClientUrls, ec.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	ec.ListenPeerUrls, ec.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	ec.InitialCluster = ec.Name + "=" + pu.String()
	e, err := embed.StartEtcd(ec)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		t.Fatal("etcd did not start")
	}

	start := func() (*apiserver.Server, *client.Client) {
		srv, err := apiserver.Start(context.Background(), apiserver.Config{
			DataDir: filepath.Join(dir, "server"), Listen: "127.0.0.1:0", EtcdEndpoints: []string{cu.String()},
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := client.LoadConfig(srv.AdminConfigPath())
		if err != nil {
			t.Fatal(err)
		}
		c, err := client.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return srv, c
	}
	ctx := context.Background()
	srv, c := start()
	pod := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "kept"}, Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "busybox"}}}}
	created, err := c.Pods("default").Create(ctx, pod)
	if err != nil {
		t.Fatal(err)
	}
	srv.Stop()

	srv, c = start()
	defer srv.Stop()
	got, err := c.Pods("default").Get(ctx, "kept")
	if err != nil {
		t.Fatalf("the pod is gone after the API server restarted on the same external etcd: %v", err)
	}
	if got.UID != created.UID {
		t.Fatalf("uid changed: %s != %s", got.UID, created.UID)
	}
}
