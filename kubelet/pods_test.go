package kubelet

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/containerd/containerd"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minik8s/minik8s/api"
)

func TestBackoff(t *testing.T) {
	const base, max = 10 * time.Second, 5 * time.Minute
	tests := []struct {
		restarts int
		want     time.Duration
	}{
		{0, 10 * time.Second},
		{1, 20 * time.Second},
		{2, 40 * time.Second},
		{3, 80 * time.Second},
		{4, 160 * time.Second},
		{5, 5 * time.Minute}, // 320s, capped
		{6, 5 * time.Minute},
		{1000, 5 * time.Minute},
	}
	for _, tt := range tests {
		if got := backoff(base, max, tt.restarts); got != tt.want {
			t.Errorf("backoff(10s, 5m, %d) = %v, want %v", tt.restarts, got, tt.want)
		}
	}
	if got := backoff(time.Minute, 30*time.Second, 0); got != 30*time.Second {
		t.Errorf("a base above the cap: backoff = %v, want the cap", got)
	}
	if got := backoff(time.Second, 5*time.Minute, 3); got != 8*time.Second {
		t.Errorf("backoff(1s, 5m, 3) = %v, want 8s", got)
	}
}

func TestShouldRestart(t *testing.T) {
	tests := []struct {
		policy string
		code   uint32
		want   bool
	}{
		{api.RestartPolicyAlways, 0, true},
		{api.RestartPolicyAlways, 1, true},
		{api.RestartPolicyAlways, 137, true},
		{"", 0, true}, // the default is Always
		{"", 1, true},
		{api.RestartPolicyOnFailure, 0, false},
		{api.RestartPolicyOnFailure, 1, true},
		{api.RestartPolicyOnFailure, 137, true},
		{api.RestartPolicyNever, 0, false},
		{api.RestartPolicyNever, 1, false},
		{api.RestartPolicyNever, 137, false},
	}
	for _, tt := range tests {
		if got := shouldRestart(tt.policy, tt.code); got != tt.want {
			t.Errorf("shouldRestart(%q, %d) = %v, want %v", tt.policy, tt.code, got, tt.want)
		}
	}
}

// fakeImage is a containerd.Image of which only Spec works.
type fakeImage struct {
	containerd.Image
	entrypoint, cmd []string
	err             error
}

func (f fakeImage) Spec(context.Context) (ocispec.Image, error) {
	if f.err != nil {
		return ocispec.Image{}, f.err
	}
	return ocispec.Image{Config: ocispec.ImageConfig{Entrypoint: f.entrypoint, Cmd: f.cmd}}, nil
}

func TestContainerArgs(t *testing.T) {
	withBoth := fakeImage{entrypoint: []string{"/entry", "-x"}, cmd: []string{"serve", "--port=80"}}
	cmdOnly := fakeImage{cmd: []string{"sh"}}
	empty := fakeImage{}
	tests := []struct {
		name          string
		img           fakeImage
		command, args []string
		want          []string
		wantErr       string
	}{
		{"image defaults", withBoth, nil, nil, []string{"/entry", "-x", "serve", "--port=80"}, ""},
		{"args replace cmd", withBoth, nil, []string{"run", "fast"}, []string{"/entry", "-x", "run", "fast"}, ""},
		{"command replaces entrypoint and cmd", withBoth, []string{"/bin/sh", "-c"}, nil, []string{"/bin/sh", "-c"}, ""},
		{"command and args", withBoth, []string{"/bin/sh", "-c"}, []string{"echo hi"}, []string{"/bin/sh", "-c", "echo hi"}, ""},
		{"cmd only image", cmdOnly, nil, nil, []string{"sh"}, ""},
		{"args with a cmd-only image", cmdOnly, nil, []string{"echo", "hi"}, []string{"echo", "hi"}, ""},
		{"command with an empty image", empty, []string{"/app"}, nil, []string{"/app"}, ""},
		{"nothing to run", empty, nil, nil, nil, "has no entrypoint or command"},
		{"unreadable image config", fakeImage{err: errors.New("blob missing")}, nil, nil, nil, "blob missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &api.Container{Name: "c", Image: "img:1", Command: tt.command, Args: tt.args}
			got, err := containerArgs(context.Background(), tt.img, c)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "img:1") {
					t.Fatalf("err = %v, want one naming img:1 and containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("args = %q, want %q", got, tt.want)
			}
		})
	}
	// The image's slices are not modified by appending to the result.
	c := &api.Container{Args: []string{"a"}}
	entry := make([]string, 1, 8)
	entry[0] = "/e"
	img := fakeImage{entrypoint: entry}
	got1, _ := containerArgs(context.Background(), img, c)
	got2, _ := containerArgs(context.Background(), img, &api.Container{Args: []string{"b"}})
	if got1[1] != "a" || got2[1] != "b" {
		t.Errorf("results share memory: %q %q", got1, got2)
	}
}

func TestContainerEnv(t *testing.T) {
	k := &Kubelet{cfg: Config{Address: "192.168.0.2"}}
	pod := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "web-1", Namespace: "shop", UID: "1234-abcd"}}
	pod.Spec.NodeName = "node-1"
	field := func(name, path string) api.EnvVar {
		return api.EnvVar{Name: name, ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: path}}}
	}
	c := &api.Container{Env: []api.EnvVar{
		{Name: "PLAIN", Value: "x=y z"},
		{Name: "EMPTY"},
		field("POD_NAME", "metadata.name"),
		field("POD_NAMESPACE", "metadata.namespace"),
		field("POD_UID", "metadata.uid"),
		field("NODE_NAME", "spec.nodeName"),
		field("POD_IP", "status.podIP"),
		field("HOST_IP", "status.hostIP"),
	}}
	want := []string{
		"PLAIN=x=y z", "EMPTY=", "POD_NAME=web-1", "POD_NAMESPACE=shop", "POD_UID=1234-abcd",
		"NODE_NAME=node-1", "POD_IP=10.244.0.9", "HOST_IP=192.168.0.2",
	}
	if got := k.containerEnv(pod, c, "10.244.0.9"); !reflect.DeepEqual(got, want) {
		t.Errorf("env =\n%q\nwant\n%q", got, want)
	}
	if got := k.containerEnv(pod, &api.Container{}, ""); len(got) != 0 {
		t.Errorf("no env gives %q", got)
	}
	if !needsPodIP(&api.Pod{Spec: api.PodSpec{Containers: []api.Container{{}, *c}}}) {
		t.Errorf("needsPodIP is false with status.podIP in the env")
	}
	if needsPodIP(&api.Pod{Spec: api.PodSpec{Containers: []api.Container{{Env: []api.EnvVar{{Name: "A", Value: "status.podIP"}, field("B", "status.hostIP")}}}}}) {
		t.Errorf("needsPodIP is true without status.podIP in the env")
	}
}

func TestVolumeMounts(t *testing.T) {
	podsDir := t.TempDir()
	hostDir := t.TempDir()
	k := &Kubelet{rt: &runtime{logDir: podsDir}}
	dirOrCreate := "DirectoryOrCreate"
	created := filepath.Join(hostDir, "made", "here")
	pod := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p", Namespace: "ns", UID: "uid-1"}}
	pod.Spec.Volumes = []api.Volume{
		{Name: "scratch", EmptyDir: &api.EmptyDirVolumeSource{}},
		{Name: "host", HostPath: &api.HostPathVolumeSource{Path: hostDir}},
		{Name: "made", HostPath: &api.HostPathVolumeSource{Path: created, Type: &dirOrCreate}},
		{Name: "unused", EmptyDir: &api.EmptyDirVolumeSource{}},
	}
	pod.Spec.Containers = []api.Container{
		{Name: "writer", VolumeMounts: []api.VolumeMount{
			{Name: "scratch", MountPath: "/out"},
			{Name: "host", MountPath: "/host", ReadOnly: true},
			{Name: "made", MountPath: "/made"},
		}},
		{Name: "reader", VolumeMounts: []api.VolumeMount{
			{Name: "scratch", MountPath: "/in", ReadOnly: true},
			{Name: "scratch", MountPath: "/in-sub", SubPath: "a/b"},
		}},
		{Name: "plain"},
	}
	got, err := k.volumeMounts(pod)
	if err != nil {
		t.Fatal(err)
	}
	scratch := filepath.Join(podsDir, "uid-1", "volumes", "scratch")
	rw, ro := []string{"rbind", "rw"}, []string{"rbind", "ro"}
	want := map[string][]specs.Mount{
		"writer": {
			{Type: "bind", Source: scratch, Destination: "/out", Options: rw},
			{Type: "bind", Source: hostDir, Destination: "/host", Options: ro},
			{Type: "bind", Source: created, Destination: "/made", Options: rw},
		},
		"reader": {
			{Type: "bind", Source: scratch, Destination: "/in", Options: ro},
			{Type: "bind", Source: filepath.Join(scratch, "a", "b"), Destination: "/in-sub", Options: rw},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mounts =\n%+v\nwant\n%+v", got, want)
	}
	for _, dir := range []string{scratch, filepath.Join(scratch, "a", "b"), created, filepath.Join(podsDir, "uid-1", "volumes", "unused")} {
		fi, err := os.Stat(dir)
		if err != nil || !fi.IsDir() {
			t.Errorf("%s is not a directory: %v", dir, err)
		}
	}
	if fi, err := os.Stat(scratch); err == nil && fi.Mode().Perm() != 0o777 {
		t.Errorf("emptyDir mode = %v, want 0777 (any user in the pod may write)", fi.Mode().Perm())
	}
	// A second sync finds the same directories.
	again, err := k.volumeMounts(pod)
	if err != nil || !reflect.DeepEqual(again, want) {
		t.Errorf("second call: %v, %+v", err, again)
	}
}

func TestVolumeMountsErrors(t *testing.T) {
	tests := []struct {
		name    string
		volumes []api.Volume
		mounts  []api.VolumeMount
		want    []string
	}{
		{"unknown volume", []api.Volume{{Name: "data", EmptyDir: &api.EmptyDirVolumeSource{}}},
			[]api.VolumeMount{{Name: "dta", MountPath: "/d"}}, []string{`"dta"`, "app"}},
		{"no volumes at all", nil, []api.VolumeMount{{Name: "data", MountPath: "/d"}}, []string{`"data"`}},
		{"secret volume", []api.Volume{{Name: "creds", Secret: &api.SecretVolumeSource{SecretName: "s"}}},
			nil, []string{`"creds"`, "emptyDir", "hostPath"}},
		{"persistentVolumeClaim volume", []api.Volume{{Name: "db", PersistentVolumeClaim: &api.PersistentVolumeClaimVolumeSource{ClaimName: "c"}}},
			nil, []string{`"db"`}},
		{"volume without a source", []api.Volume{{Name: "nothing"}}, nil, []string{`"nothing"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := &Kubelet{rt: &runtime{logDir: t.TempDir()}}
			pod := &api.Pod{ObjectMeta: api.ObjectMeta{UID: "u"}}
			pod.Spec.Volumes = tt.volumes
			pod.Spec.Containers = []api.Container{{Name: "app", VolumeMounts: tt.mounts}}
			_, err := k.volumeMounts(pod)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
		})
	}
}
