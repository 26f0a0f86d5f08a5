package kubelet

import (
	"reflect"
	"testing"

	"github.com/minik8s/minik8s/api"
)

func TestWantedRoutes(t *testing.T) {
	node := func(name, cidr string, addrs ...api.NodeAddress) *api.Node {
		return &api.Node{ObjectMeta: api.ObjectMeta{Name: name}, Spec: api.NodeSpec{PodCIDR: cidr}, Status: api.NodeStatus{Addresses: addrs}}
	}
	ip := func(a string) api.NodeAddress { return api.NodeAddress{Type: "InternalIP", Address: a} }
	nodes := []*api.Node{
		node("node-1", "10.244.0.0/24", ip("198.18.0.11")),
		node("node-2", "10.244.1.0/24", ip("198.18.0.12"), api.NodeAddress{Type: "Hostname", Address: "n2"}),
		node("node-3", "10.244.2.0/24", ip("198.18.0.13")),
		node("no-cidr", "", ip("198.18.0.14")),
		node("loopback", "10.244.4.0/24", ip("127.0.0.1")),
		node("no-address", "10.244.5.0/24"),
		node("bad-cidr", "10.244.6.0", ip("198.18.0.16")),
	}
	got := wantedRoutes("node-1", nodes)
	want := map[string]string{"10.244.1.0/24": "198.18.0.12", "10.244.2.0/24": "198.18.0.13"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("routes = %v, want %v", got, want)
	}
}
