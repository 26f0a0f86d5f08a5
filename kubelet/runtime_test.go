package kubelet

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minik8s/minik8s/api"
)

// applySpec applies opts to an empty Linux spec whose root is a directory without
// /etc/passwd, as containerd would to a new container's spec.
func applySpec(t *testing.T, opts []oci.SpecOpts) *oci.Spec {
	t.Helper()
	s := &oci.Spec{
		Process: &specs.Process{},
		Root:    &specs.Root{Path: t.TempDir()},
		Linux:   &specs.Linux{Resources: &specs.LinuxResources{}},
	}
	for _, o := range opts {
		if err := o(context.Background(), nil, &containers.Container{}, s); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestResourceOpts(t *testing.T) {
	q := api.MustParseQuantity
	u64 := func(v uint64) *uint64 { return &v }
	i64 := func(v int64) *int64 { return &v }
	tests := []struct {
		name         string
		res          api.ResourceRequirements
		shares       *uint64
		quota        *int64
		period       *uint64
		memoryLimit  *int64
		wantCPUUnset bool
	}{
		{name: "nothing", wantCPUUnset: true},
		{name: "cpu request", res: api.ResourceRequirements{Requests: api.ResourceList{api.ResourceCPU: q("100m")}}, shares: u64(102)},
		{name: "one cpu request", res: api.ResourceRequirements{Requests: api.ResourceList{api.ResourceCPU: q("1")}}, shares: u64(1024)},
		{name: "tiny request has the minimum shares", res: api.ResourceRequirements{Requests: api.ResourceList{api.ResourceCPU: q("1m")}}, shares: u64(2)},
		{name: "cpu limit gives a quota and, without a request, the shares",
			res:    api.ResourceRequirements{Limits: api.ResourceList{api.ResourceCPU: q("500m")}},
			shares: u64(512), quota: i64(50000), period: u64(100000)},
		{name: "request and limit",
			res: api.ResourceRequirements{Requests: api.ResourceList{api.ResourceCPU: q("100m")},
				Limits: api.ResourceList{api.ResourceCPU: q("2")}},
			shares: u64(102), quota: i64(200000), period: u64(100000)},
		{name: "tiny limit has the minimum quota",
			res:    api.ResourceRequirements{Requests: api.ResourceList{api.ResourceCPU: q("1m")}, Limits: api.ResourceList{api.ResourceCPU: q("1m")}},
			shares: u64(2), quota: i64(1000), period: u64(100000)},
		{name: "memory limit", res: api.ResourceRequirements{Limits: api.ResourceList{api.ResourceMemory: q("128Mi")}},
			memoryLimit: i64(128 << 20), wantCPUUnset: true},
		{name: "memory request alone sets nothing", res: api.ResourceRequirements{Requests: api.ResourceList{api.ResourceMemory: q("128Mi")}},
			wantCPUUnset: true},
		{name: "decimal memory limit", res: api.ResourceRequirements{Limits: api.ResourceList{api.ResourceMemory: q("1G")}},
			memoryLimit: i64(1_000_000_000), wantCPUUnset: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := applySpec(t, resourceOpts(tt.res))
			r := s.Linux.Resources
			if tt.wantCPUUnset {
				if r.CPU != nil {
					t.Errorf("cpu = %+v, want unset", r.CPU)
				}
			} else {
				if r.CPU == nil {
					t.Fatal("cpu unset")
				}
				if !reflect.DeepEqual(r.CPU.Shares, tt.shares) {
					t.Errorf("shares = %v, want %v", deref(r.CPU.Shares), deref(tt.shares))
				}
				if !reflect.DeepEqual(r.CPU.Quota, tt.quota) || !reflect.DeepEqual(r.CPU.Period, tt.period) {
					t.Errorf("quota/period = %v/%v, want %v/%v", deref(r.CPU.Quota), deref(r.CPU.Period), deref(tt.quota), deref(tt.period))
				}
			}
			var limit *int64
			if r.Memory != nil {
				limit = r.Memory.Limit
			}
			if !reflect.DeepEqual(limit, tt.memoryLimit) {
				t.Errorf("memory limit = %v, want %v", deref(limit), deref(tt.memoryLimit))
			}
		})
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return "unset"
	}
	return *p
}

func TestSecurityOpts(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	tests := []struct {
		name     string
		pod      *api.PodSecurityContext
		c        *api.SecurityContext
		uid, gid uint32
		gids     []uint32
	}{
		{name: "nothing"},
		{name: "empty contexts", pod: &api.PodSecurityContext{}, c: &api.SecurityContext{}},
		{name: "pod user and group", pod: &api.PodSecurityContext{RunAsUser: i(1000), RunAsGroup: i(3000)},
			uid: 1000, gid: 3000, gids: []uint32{3000}},
		{name: "user without a group gets group 0 (no /etc/passwd)", pod: &api.PodSecurityContext{RunAsUser: i(1000)},
			uid: 1000, gid: 0, gids: []uint32{0}},
		{name: "group without a user runs as root", pod: &api.PodSecurityContext{RunAsGroup: i(3000)},
			uid: 0, gid: 3000, gids: []uint32{3000}},
		{name: "container overrides the pod",
			pod: &api.PodSecurityContext{RunAsUser: i(1000), RunAsGroup: i(3000)},
			c:   &api.SecurityContext{RunAsUser: i(2000)},
			uid: 2000, gid: 3000, gids: []uint32{3000}},
		{name: "container group only", c: &api.SecurityContext{RunAsGroup: i(42)}, uid: 0, gid: 42, gids: []uint32{42}},
		{name: "supplemental groups and fsGroup",
			pod: &api.PodSecurityContext{RunAsUser: i(1000), RunAsGroup: i(3000), SupplementalGroups: []int64{4000, 4001}, FSGroup: i(2000)},
			uid: 1000, gid: 3000, gids: []uint32{3000, 4000, 4001, 2000}},
		{name: "fsGroup alone", pod: &api.PodSecurityContext{FSGroup: i(2000)}, gids: []uint32{2000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := applySpec(t, securityOpts(tt.pod, tt.c))
			u := s.Process.User
			if u.UID != tt.uid || u.GID != tt.gid {
				t.Errorf("uid:gid = %d:%d, want %d:%d", u.UID, u.GID, tt.uid, tt.gid)
			}
			if len(u.AdditionalGids) != 0 || len(tt.gids) != 0 {
				if !reflect.DeepEqual(u.AdditionalGids, tt.gids) {
					t.Errorf("additional gids = %v, want %v", u.AdditionalGids, tt.gids)
				}
			}
		})
	}
}

func TestPodHostname(t *testing.T) {
	long := strings.Repeat("a", 70)
	tests := []struct {
		name, podName, hostname, want string
	}{
		{"the pod's name", "web-0", "", "web-0"},
		{"spec.hostname wins", "web-0", "db", "db"},
		{"exactly 63", strings.Repeat("b", 63), "", strings.Repeat("b", 63)},
		{"truncated to 63", long, "", long[:63]},
		{"no trailing dash after truncation", strings.Repeat("c", 62) + "-xyz", "", strings.Repeat("c", 62)},
		{"no trailing dot or dash after truncation", strings.Repeat("d", 61) + ".-" + "e", "", strings.Repeat("d", 61)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &api.Pod{ObjectMeta: api.ObjectMeta{Name: tt.podName}}
			pod.Spec.Hostname = tt.hostname
			if got := podHostname(pod); got != tt.want {
				t.Errorf("podHostname = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestContainerIDAndLogPath(t *testing.T) {
	if got := containerID("uid-1", "Web"); got != "uid-1-web" {
		t.Errorf("containerID = %q", got)
	}
	if got := containerID("uid-1", sandboxName); got != "uid-1-pod" {
		t.Errorf("sandbox containerID = %q", got)
	}
	r := &runtime{logDir: "/data/pods"}
	if got, want := r.logPath("uid-1", "web", 3), filepath.Join("/data/pods", "uid-1", "logs", "web", "3.log"); got != want {
		t.Errorf("logPath = %q, want %q", got, want)
	}
}
