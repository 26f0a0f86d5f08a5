package api

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var tableNow = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// tableAgo returns the Time d before tableNow.
func tableAgo(d time.Duration) Time { return NewTime(tableNow.Add(-d)) }

func tableAgoPtr(d time.Duration) *Time { t := tableAgo(d); return &t }

func tableInt32(i int32) *int32 { return &i }

// tableText builds the table of objs and formats it.
func tableText(t *testing.T, objs []Object, opts TableOptions) string {
	t.Helper()
	tbl, err := BuildTable(ResourceFor(objs[0]), objs, tableNow, false)
	if err != nil {
		t.Fatalf("BuildTable: %v", err)
	}
	var b bytes.Buffer
	if err := FormatTable(&b, tbl, opts); err != nil {
		t.Fatalf("FormatTable: %v", err)
	}
	return b.String()
}

// tableLines joins lines with newlines, adding the final one.
func tableLines(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

func tablePods() []Object {
	running := &Pod{
		ObjectMeta: ObjectMeta{Name: "nginx-7c5ddbdf54-x8f9p", Namespace: "default", CreationTimestamp: tableAgo(5 * time.Minute),
			Labels: map[string]string{"pod-template-hash": "7c5ddbdf54", "app": "nginx"}},
		Spec: PodSpec{NodeName: "node-1", Containers: []Container{{Name: "nginx", Image: "nginx:1.25"}}},
		Status: PodStatus{
			Phase:      PodRunning,
			Conditions: []PodCondition{{Type: PodReady, Status: ConditionTrue}},
			PodIP:      "10.244.1.5", PodIPs: []PodIP{{IP: "10.244.1.5"}},
			ContainerStatuses: []ContainerStatus{{Name: "nginx", Ready: true,
				State: ContainerState{Running: &ContainerStateRunning{StartedAt: tableAgo(4 * time.Minute)}}}},
		},
	}
	crashing := &Pod{
		ObjectMeta: ObjectMeta{Name: "crasher", Namespace: "kube-system", CreationTimestamp: tableAgo(10 * time.Minute)},
		Spec:       PodSpec{NodeName: "node-1", Containers: []Container{{Name: "app", Image: "busybox"}}},
		Status: PodStatus{
			Phase: PodRunning,
			PodIP: "10.244.1.6",
			ContainerStatuses: []ContainerStatus{{Name: "app", RestartCount: 5,
				State: ContainerState{Waiting: &ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
				LastTerminationState: ContainerState{Terminated: &ContainerStateTerminated{ExitCode: 1, Reason: "Error",
					StartedAt: tableAgo(150 * time.Second), FinishedAt: tableAgo(2 * time.Minute)}}}},
		},
	}
	terminating := &Pod{
		ObjectMeta: ObjectMeta{Name: "old-web", Namespace: "default", CreationTimestamp: tableAgo(3*time.Hour + 20*time.Minute),
			DeletionTimestamp: tableAgoPtr(10 * time.Second)},
		Spec: PodSpec{NodeName: "node-2", Containers: []Container{{Name: "web", Image: "nginx"}, {Name: "log", Image: "fluentbit"}}},
		Status: PodStatus{
			Phase: PodRunning,
			ContainerStatuses: []ContainerStatus{
				{Name: "log", Ready: true, State: ContainerState{Running: &ContainerStateRunning{}}},
				{Name: "web", Ready: true, State: ContainerState{Running: &ContainerStateRunning{}}},
			},
		},
	}
	completed := &Pod{
		ObjectMeta: ObjectMeta{Name: "job-abc", Namespace: "default", CreationTimestamp: tableAgo(51 * time.Hour)},
		Spec:       PodSpec{NodeName: "node-2", RestartPolicy: RestartPolicyNever, Containers: []Container{{Name: "job", Image: "busybox"}}},
		Status: PodStatus{
			Phase: PodSucceeded,
			ContainerStatuses: []ContainerStatus{{Name: "job",
				State: ContainerState{Terminated: &ContainerStateTerminated{ExitCode: 0, Reason: "Completed"}}}},
		},
	}
	return []Object{running, crashing, terminating, completed}
}

func TestFormatTablePods(t *testing.T) {
	pods := tablePods()
	tests := []struct {
		name string
		objs []Object
		opts TableOptions
		want string
	}{
		{
			name: "default",
			objs: pods,
			want: tableLines(
				"NAME                     READY   STATUS             RESTARTS     AGE",
				"nginx-7c5ddbdf54-x8f9p   1/1     Running            0            5m",
				"crasher                  0/1     CrashLoopBackOff   5 (2m ago)   10m",
				"old-web                  2/2     Terminating        0            3h20m",
				"job-abc                  0/1     Completed          0            2d3h",
			),
		},
		{
			name: "wide",
			objs: []Object{pods[0], pods[3]},
			opts: TableOptions{Wide: true},
			want: tableLines(
				"NAME                     READY   STATUS      RESTARTS   AGE    IP           NODE     NOMINATED NODE   READINESS GATES",
				"nginx-7c5ddbdf54-x8f9p   1/1     Running     0          5m     10.244.1.5   node-1   <none>           <none>",
				"job-abc                  0/1     Completed   0          2d3h   <none>       node-2   <none>           <none>",
			),
		},
		{
			name: "all namespaces with labels",
			objs: pods[:2],
			opts: TableOptions{WithNamespace: true, ShowLabels: true,
				Namespaces: []string{"default", "kube-system"},
				Labels:     []map[string]string{pods[0].GetObjectMeta().Labels, nil}},
			want: tableLines(
				"NAMESPACE     NAME                     READY   STATUS             RESTARTS     AGE   LABELS",
				"default       nginx-7c5ddbdf54-x8f9p   1/1     Running            0            5m    app=nginx,pod-template-hash=7c5ddbdf54",
				"kube-system   crasher                  0/1     CrashLoopBackOff   5 (2m ago)   10m   <none>",
			),
		},
		{
			name: "no headers",
			objs: pods[2:],
			opts: TableOptions{NoHeaders: true},
			want: tableLines(
				"old-web   2/2   Terminating   0     3h20m",
				"job-abc   0/1   Completed     0     2d3h",
			),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tableText(t, tt.objs, tt.opts); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestPodStatusCells(t *testing.T) {
	base := func() *Pod {
		return &Pod{
			ObjectMeta: ObjectMeta{Name: "p", CreationTimestamp: tableAgo(time.Minute)},
			Spec:       PodSpec{Containers: []Container{{Name: "a"}, {Name: "b"}}},
			Status:     PodStatus{Phase: PodPending},
		}
	}
	tests := []struct {
		name     string
		mutate   func(p *Pod)
		ready    string
		status   string
		restarts string
	}{
		{"pending without statuses", func(p *Pod) {}, "0/2", "Pending", "0"},
		{"container creating", func(p *Pod) {
			p.Status.ContainerStatuses = []ContainerStatus{
				{Name: "a", State: ContainerState{Waiting: &ContainerStateWaiting{Reason: "ContainerCreating"}}},
				{Name: "b", State: ContainerState{Waiting: &ContainerStateWaiting{Reason: "ContainerCreating"}}},
			}
		}, "0/2", "ContainerCreating", "0"},
		{"first container's reason wins", func(p *Pod) {
			p.Status.ContainerStatuses = []ContainerStatus{
				{Name: "a", State: ContainerState{Waiting: &ContainerStateWaiting{Reason: "ImagePullBackOff"}}},
				{Name: "b", State: ContainerState{Waiting: &ContainerStateWaiting{Reason: "ErrImagePull"}}},
			}
		}, "0/2", "ImagePullBackOff", "0"},
		{"one ready, one OOMKilled", func(p *Pod) {
			p.Status.Phase = PodRunning
			p.Status.ContainerStatuses = []ContainerStatus{
				{Name: "a", Ready: true, State: ContainerState{Running: &ContainerStateRunning{}}},
				{Name: "b", RestartCount: 1, State: ContainerState{Terminated: &ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}}},
			}
		}, "1/2", "OOMKilled", "1"},
		{"error exit", func(p *Pod) {
			p.Status.Phase = PodFailed
			p.Status.ContainerStatuses = []ContainerStatus{
				{Name: "a", State: ContainerState{Terminated: &ContainerStateTerminated{ExitCode: 2, Reason: "Error"}}},
				{Name: "b", State: ContainerState{Terminated: &ContainerStateTerminated{ExitCode: 0, Reason: "Completed"}}},
			}
		}, "0/2", "Error", "0"},
		{"exit code without reason", func(p *Pod) {
			p.Status.Phase = PodFailed
			p.Status.ContainerStatuses = []ContainerStatus{
				{Name: "a", State: ContainerState{Terminated: &ContainerStateTerminated{ExitCode: 3}}},
				{Name: "b", State: ContainerState{Terminated: &ContainerStateTerminated{Signal: 9}}},
			}
		}, "0/2", "ExitCode:3", "0"},
		{"completed sidecar with running container is Running", func(p *Pod) {
			p.Status.Phase = PodRunning
			p.Status.Conditions = []PodCondition{{Type: PodReady, Status: ConditionTrue}}
			p.Status.ContainerStatuses = []ContainerStatus{
				{Name: "a", Ready: true, State: ContainerState{Running: &ContainerStateRunning{}}},
				{Name: "b", State: ContainerState{Terminated: &ContainerStateTerminated{Reason: "Completed"}}},
			}
		}, "1/2", "Running", "0"},
		{"status reason", func(p *Pod) {
			p.Status.Phase = PodFailed
			p.Status.Reason = "Evicted"
		}, "0/2", "Evicted", "0"},
		{"deleted on a lost node", func(p *Pod) {
			p.Status.Phase = PodRunning
			p.Status.Reason = "NodeLost"
			p.DeletionTimestamp = tableAgoPtr(time.Second)
		}, "0/2", "Unknown", "0"},
		{"deleted after success is not Terminating", func(p *Pod) {
			p.Status.Phase = PodSucceeded
			p.DeletionTimestamp = tableAgoPtr(time.Second)
		}, "0/2", "Succeeded", "0"},
		{"init container running", func(p *Pod) {
			p.Spec.InitContainers = []Container{{Name: "i1"}, {Name: "i2"}}
			p.Status.InitContainerStatuses = []ContainerStatus{
				{Name: "i1", State: ContainerState{Terminated: &ContainerStateTerminated{ExitCode: 0, Reason: "Completed"}}},
				{Name: "i2", State: ContainerState{Running: &ContainerStateRunning{}}},
			}
		}, "0/2", "Init:1/2", "0"},
		{"init container crash looping", func(p *Pod) {
			p.Spec.InitContainers = []Container{{Name: "i1"}}
			p.Status.InitContainerStatuses = []ContainerStatus{
				{Name: "i1", RestartCount: 3, State: ContainerState{Waiting: &ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
					LastTerminationState: ContainerState{Terminated: &ContainerStateTerminated{ExitCode: 1, FinishedAt: tableAgo(40 * time.Second)}}},
			}
		}, "0/2", "Init:CrashLoopBackOff", "3 (40s ago)"},
		{"init container failed", func(p *Pod) {
			p.Spec.InitContainers = []Container{{Name: "i1"}}
			p.Status.InitContainerStatuses = []ContainerStatus{
				{Name: "i1", State: ContainerState{Terminated: &ContainerStateTerminated{ExitCode: 1}}},
			}
		}, "0/2", "Init:ExitCode:1", "0"},
		{"restarts of both containers, latest restart", func(p *Pod) {
			p.Status.Phase = PodRunning
			p.Status.ContainerStatuses = []ContainerStatus{
				{Name: "a", Ready: true, RestartCount: 2, State: ContainerState{Running: &ContainerStateRunning{}},
					LastTerminationState: ContainerState{Terminated: &ContainerStateTerminated{FinishedAt: tableAgo(3 * time.Hour)}}},
				{Name: "b", Ready: true, RestartCount: 1, State: ContainerState{Running: &ContainerStateRunning{}},
					LastTerminationState: ContainerState{Terminated: &ContainerStateTerminated{FinishedAt: tableAgo(5*time.Minute + 7*time.Second)}}},
			}
		}, "2/2", "Running", "3 (5m7s ago)"},
		{"restarts without a known time", func(p *Pod) {
			p.Status.Phase = PodRunning
			p.Status.ContainerStatuses = []ContainerStatus{{Name: "a", RestartCount: 4, State: ContainerState{Running: &ContainerStateRunning{}}}}
		}, "0/2", "Running", "4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := base()
			tt.mutate(p)
			cells := TableCells(p, tableNow)
			if len(cells) != len(TableColumns(ResourceFor(p))) {
				t.Fatalf("%d cells for %d columns", len(cells), len(TableColumns(ResourceFor(p))))
			}
			if cells[1] != tt.ready || cells[2] != tt.status || cells[3] != tt.restarts {
				t.Errorf("READY, STATUS, RESTARTS = %q, %q, %q; want %q, %q, %q", cells[1], cells[2], cells[3], tt.ready, tt.status, tt.restarts)
			}
		})
	}
}

func TestFormatTableNodes(t *testing.T) {
	control := &Node{
		ObjectMeta: ObjectMeta{Name: "node-1", CreationTimestamp: tableAgo(30 * 24 * time.Hour),
			Labels: map[string]string{"node-role.kubernetes.io/control-plane": "", "kubernetes.io/hostname": "node-1"}},
		Spec: NodeSpec{PodCIDR: "10.244.0.0/24", Unschedulable: true},
		Status: NodeStatus{
			Capacity: ResourceList{ResourceCPU: MustParseQuantity("4"), ResourceMemory: MustParseQuantity("8Gi")},
			Allocatable: ResourceList{ResourceCPU: MustParseQuantity("2"), ResourceMemory: MustParseQuantity("4028428Ki"),
				ResourcePods: MustParseQuantity("110")},
			Conditions: []NodeCondition{{Type: "MemoryPressure", Status: ConditionFalse}, {Type: NodeReady, Status: ConditionTrue}},
			Addresses:  []NodeAddress{{Type: "Hostname", Address: "node-1"}, {Type: "InternalIP", Address: "198.18.0.11"}},
			NodeInfo: NodeSystemInfo{KubeletVersion: "v1.29.0", OSImage: "Ubuntu 22.04.4 LTS", KernelVersion: "6.5.0-1020-aws",
				ContainerRuntimeVersion: "containerd://1.7.12"},
		},
	}
	worker := &Node{
		ObjectMeta: ObjectMeta{Name: "node-2", CreationTimestamp: tableAgo(36 * time.Hour),
			Labels: map[string]string{"node-role.kubernetes.io/worker": "", "kubernetes.io/role": "gpu"}},
		Spec: NodeSpec{PodCIDR: "10.244.1.0/24"},
		Status: NodeStatus{
			// No allocatable: the capacity is what the node offers.
			Capacity:   ResourceList{ResourceCPU: MustParseQuantity("1500m"), ResourceMemory: MustParseQuantity("1Gi")},
			Conditions: []NodeCondition{{Type: NodeReady, Status: ConditionUnknown, Reason: "NodeStatusUnknown"}},
			Addresses:  []NodeAddress{{Type: "ExternalIP", Address: "34.1.2.3"}, {Type: "InternalIP", Address: "198.18.0.12"}},
			NodeInfo:   NodeSystemInfo{KubeletVersion: "v1.29.0"},
		},
	}
	fresh := &Node{
		ObjectMeta: ObjectMeta{Name: "node-3", CreationTimestamp: tableAgo(90 * time.Second)},
		Status:     NodeStatus{Conditions: []NodeCondition{{Type: NodeReady, Status: ConditionFalse}}},
	}
	never := &Node{ObjectMeta: ObjectMeta{Name: "node-4", CreationTimestamp: tableAgo(5 * time.Second)}}

	req := func(cpu, mem string) ResourceRequirements {
		r := ResourceList{}
		if cpu != "" {
			r[ResourceCPU] = MustParseQuantity(cpu)
		}
		if mem != "" {
			r[ResourceMemory] = MustParseQuantity(mem)
		}
		return ResourceRequirements{Requests: r}
	}
	pod := func(name, node, phase string, containers ...Container) *Pod {
		return &Pod{ObjectMeta: ObjectMeta{Name: name, Namespace: "default"},
			Spec: PodSpec{NodeName: node, Containers: containers}, Status: PodStatus{Phase: phase}}
	}
	withInit := pod("init", "node-1", PodPending, Container{Name: "a", Resources: req("50m", "16Mi")})
	withInit.Spec.InitContainers = []Container{{Name: "setup", Resources: req("150m", "8Mi")}}
	pods := []Object{
		pod("web", "node-1", PodRunning, Container{Name: "a", Resources: req("100m", "64Mi")}, Container{Name: "b", Resources: req("", "16Mi")}),
		withInit, // 150m (its init container) and 16Mi (its container)
		pod("done", "node-1", PodSucceeded, Container{Name: "a", Resources: req("1", "1Gi")}),
		pod("failed", "node-1", PodFailed, Container{Name: "a", Resources: req("1", "1Gi")}),
		pod("best-effort", "node-1", PodRunning, Container{Name: "a"}),
		pod("pending", "", PodPending, Container{Name: "a", Resources: req("1", "1Gi")}),
		pod("big", "node-2", PodRunning, Container{Name: "a", Resources: req("1", "100M")}),
		&Node{ObjectMeta: ObjectMeta{Name: "not-a-pod"}},
	}
	tc := NewTableContext(pods)

	tests := []struct {
		name string
		objs []Object
		tc   *TableContext
		opts TableOptions
		want string
	}{
		{
			name: "default",
			objs: []Object{control, worker, fresh, never},
			tc:   tc,
			want: tableLines(
				"NAME     ROLE            STATUS                     AGE   ADDRESS       POD-CIDR",
				"node-1   control-plane   Ready,SchedulingDisabled   30d   198.18.0.11   10.244.0.0/24",
				"node-2   worker          NotReady                   36h   198.18.0.12   10.244.1.0/24",
				"node-3   worker          NotReady                   90s   <none>        <none>",
				"node-4   worker          Unknown                    5s    <none>        <none>",
			),
		},
		{
			name: "wide",
			objs: []Object{control, worker, fresh},
			tc:   tc,
			opts: TableOptions{Wide: true},
			want: tableLines(
				"NAME     ROLE            STATUS                     AGE   ADDRESS       POD-CIDR        CPU           MEMORY          VERSION     OS-IMAGE             KERNEL-VERSION   CONTAINER-RUNTIME",
				"node-1   control-plane   Ready,SchedulingDisabled   30d   198.18.0.11   10.244.0.0/24   250m/2        96Mi/3934Mi     v1.29.0     Ubuntu 22.04.4 LTS   6.5.0-1020-aws   containerd://1.7.12",
				"node-2   worker          NotReady                   36h   198.18.0.12   10.244.1.0/24   1/1500m       95Mi/1024Mi     v1.29.0     <unknown>            <unknown>        <unknown>",
				"node-3   worker          NotReady                   90s   <none>        <none>          0/<unknown>   0Mi/<unknown>   <unknown>   <unknown>            <unknown>        <unknown>",
			),
		},
		{
			name: "wide without the pods",
			objs: []Object{control},
			opts: TableOptions{Wide: true},
			want: tableLines(
				"NAME     ROLE            STATUS                     AGE   ADDRESS       POD-CIDR        CPU           MEMORY             VERSION   OS-IMAGE             KERNEL-VERSION   CONTAINER-RUNTIME",
				"node-1   control-plane   Ready,SchedulingDisabled   30d   198.18.0.11   10.244.0.0/24   <unknown>/2   <unknown>/3934Mi   v1.29.0   Ubuntu 22.04.4 LTS   6.5.0-1020-aws   containerd://1.7.12",
			),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tbl, err := BuildTableWith(ResourceFor(tt.objs[0]), tt.objs, tableNow, false, tt.tc)
			if err != nil {
				t.Fatalf("BuildTableWith: %v", err)
			}
			var b bytes.Buffer
			if err := FormatTable(&b, tbl, tt.opts); err != nil {
				t.Fatalf("FormatTable: %v", err)
			}
			if got := b.String(); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}

	if !TableNeedsPods(LookupResource("nodes")) || TableNeedsPods(LookupResource("pods")) || TableNeedsPods(nil) {
		t.Error("TableNeedsPods: only nodes need the pods")
	}
	if got := len(tc.PodsByNode["node-1"]); got != 5 {
		t.Errorf("NewTableContext put %d pods on node-1, want 5 (unbound pods and other objects are skipped)", got)
	}
}

func TestFormatTableServices(t *testing.T) {
	web := &Service{
		ObjectMeta: ObjectMeta{Name: "web", Namespace: "default", CreationTimestamp: tableAgo(90 * time.Second),
			Labels: map[string]string{"app": "web"}},
		Spec: ServiceSpec{Type: ServiceTypeNodePort, ClusterIP: "10.96.120.7", ClusterIPs: []string{"10.96.120.7"},
			Selector: map[string]string{"tier": "frontend", "app": "web"},
			Ports: []ServicePort{
				{Name: "http", Protocol: "TCP", Port: 80, TargetPort: FromInt(8080), NodePort: 30080},
				{Name: "https", Protocol: "TCP", Port: 443, TargetPort: FromString("https"), NodePort: 30443},
			}},
	}
	kubernetes := &Service{
		ObjectMeta: ObjectMeta{Name: "kubernetes", Namespace: "default", CreationTimestamp: tableAgo(45 * 24 * time.Hour)},
		Spec: ServiceSpec{Type: ServiceTypeClusterIP, ClusterIP: "10.96.0.1",
			Ports: []ServicePort{{Name: "https", Protocol: "TCP", Port: 443, TargetPort: FromInt(6443)}}},
	}
	dns := &Service{
		ObjectMeta: ObjectMeta{Name: "dns", Namespace: "kube-system", CreationTimestamp: tableAgo(4*time.Minute + 30*time.Second)},
		Spec: ServiceSpec{Type: ServiceTypeClusterIP, ClusterIP: "10.96.0.10", Selector: map[string]string{"app": "dns"},
			Ports: []ServicePort{{Name: "dns", Protocol: "UDP", Port: 53, TargetPort: FromInt(53)}, {Name: "dns-tcp", Port: 53}}},
	}
	lonely := &Service{ // selects nothing: its Endpoints object has no subsets
		ObjectMeta: ObjectMeta{Name: "lonely", Namespace: "default", CreationTimestamp: tableAgo(time.Hour)},
		Spec: ServiceSpec{Type: ServiceTypeClusterIP, ClusterIP: "10.96.3.3", Selector: map[string]string{"app": "none"},
			Ports: []ServicePort{{Protocol: "TCP", Port: 8080, TargetPort: FromInt(80)}}},
	}
	addrs := func(ips ...string) []EndpointAddress {
		var out []EndpointAddress
		for _, ip := range ips {
			out = append(out, EndpointAddress{IP: ip})
		}
		return out
	}
	eps := []Object{
		&Endpoints{ObjectMeta: ObjectMeta{Name: "web", Namespace: "default"}, Subsets: []EndpointSubset{{
			Addresses:         addrs("10.244.1.5", "10.244.2.3", "10.244.3.4", "10.244.1.9", "10.244.2.7"),
			NotReadyAddresses: addrs("10.244.3.8"),
			Ports:             []EndpointPort{{Name: "http", Port: 8080}},
		}}},
		&Endpoints{ObjectMeta: ObjectMeta{Name: "kubernetes", Namespace: "default"}, Subsets: []EndpointSubset{{
			Addresses: addrs("198.18.0.11"), Ports: []EndpointPort{{Name: "https", Port: 6443}}}}},
		// Same name as a Service of another namespace: not its endpoints.
		&Endpoints{ObjectMeta: ObjectMeta{Name: "dns", Namespace: "default"}, Subsets: []EndpointSubset{{
			Addresses: addrs("10.9.9.9"), Ports: []EndpointPort{{Port: 53}}}}},
		&Endpoints{ObjectMeta: ObjectMeta{Name: "lonely", Namespace: "default"}},
		&Pod{ObjectMeta: ObjectMeta{Name: "not-endpoints"}},
	}
	tc := &TableContext{}
	tc.Add("endpoints", eps)
	wide := &TableContext{Endpoints: tc.Endpoints, Wide: true}
	objs := []Object{web, kubernetes, dns, lonely}
	tests := []struct {
		name string
		tc   *TableContext
		opts TableOptions
		want string
	}{
		{
			name: "default",
			tc:   tc,
			want: tableLines(
				"NAME         TYPE        CLUSTER-IP    PORT(S)                                 ENDPOINTS                                                     AGE",
				"web          NodePort    10.96.120.7   80:8080:30080/TCP,443:https:30443/TCP   10.244.1.5:8080,10.244.2.3:8080,10.244.3.4:8080 + 2 more...   90s",
				"kubernetes   ClusterIP   10.96.0.1     443:6443/TCP                            198.18.0.11:6443                                              45d",
				"dns          ClusterIP   10.96.0.10    53:53/UDP,53:53/TCP                     <none>                                                        4m30s",
				"lonely       ClusterIP   10.96.3.3     8080:80/TCP                             <none>                                                        60m",
			),
		},
		{
			name: "wide, all namespaces, labels",
			tc:   wide,
			opts: TableOptions{Wide: true, WithNamespace: true, ShowLabels: true,
				Namespaces: []string{"default", "default", "kube-system", "default"},
				Labels:     []map[string]string{web.Labels, nil, nil, nil}},
			want: tableLines(
				"NAMESPACE     NAME         TYPE        CLUSTER-IP    PORT(S)                                 ENDPOINTS                                                                         AGE     SELECTOR                LABELS",
				"default       web          NodePort    10.96.120.7   80:8080:30080/TCP,443:https:30443/TCP   10.244.1.5:8080,10.244.2.3:8080,10.244.3.4:8080,10.244.1.9:8080,10.244.2.7:8080   90s     app=web,tier=frontend   app=web",
				"default       kubernetes   ClusterIP   10.96.0.1     443:6443/TCP                            198.18.0.11:6443                                                                  45d     <none>                  <none>",
				"kube-system   dns          ClusterIP   10.96.0.10    53:53/UDP,53:53/TCP                     <none>                                                                            4m30s   app=dns                 <none>",
				"default       lonely       ClusterIP   10.96.3.3     8080:80/TCP                             <none>                                                                            60m     app=none                <none>",
			),
		},
		{
			name: "without the endpoints",
			want: tableLines(
				"NAME         TYPE        CLUSTER-IP    PORT(S)                                 ENDPOINTS   AGE",
				"web          NodePort    10.96.120.7   80:8080:30080/TCP,443:https:30443/TCP   <unknown>   90s",
				"kubernetes   ClusterIP   10.96.0.1     443:6443/TCP                            <unknown>   45d",
				"dns          ClusterIP   10.96.0.10    53:53/UDP,53:53/TCP                     <unknown>   4m30s",
				"lonely       ClusterIP   10.96.3.3     8080:80/TCP                             <unknown>   60m",
			),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tbl, err := BuildTableWith(LookupResource("services"), objs, tableNow, false, tt.tc)
			if err != nil {
				t.Fatalf("BuildTableWith: %v", err)
			}
			var b bytes.Buffer
			if err := FormatTable(&b, tbl, tt.opts); err != nil {
				t.Fatalf("FormatTable: %v", err)
			}
			if got := b.String(); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}

	// External IPs are not shown; a service without ports has none; a context that knows the
	// endpoints but has none of this service's shows "<none>".
	svc := &Service{ObjectMeta: ObjectMeta{Name: "x"}, Spec: ServiceSpec{Type: ServiceTypeClusterIP, ExternalIPs: []string{"1.2.3.4", "5.6.7.8"}}}
	cells := TableCellsWith(svc, tableNow, &TableContext{Endpoints: map[string]*Endpoints{}})
	want := []any{"x", ServiceTypeClusterIP, "<none>", "<none>", "<none>", "<unknown>", "<none>"}
	if len(cells) != len(want) {
		t.Fatalf("cells = %q", cells)
	}
	for i := range want {
		if cells[i] != want[i] {
			t.Errorf("cell %d = %#v, want %#v", i, cells[i], want[i])
		}
	}
}

func TestTableNeeds(t *testing.T) {
	want := map[string]string{"nodes": "pods(wide)", "services": "endpoints"}
	for _, r := range Resources() {
		var got []string
		for _, n := range TableNeeds(r) {
			s := n.Resource
			if LookupResource(s) == nil {
				t.Errorf("%s needs %q, which is not a resource", r.Name, s)
			}
			if n.Wide {
				s += "(wide)"
			}
			got = append(got, s)
		}
		if g := strings.Join(got, ","); g != want[r.Name] {
			t.Errorf("TableNeeds(%s) = %q, want %q", r.Name, g, want[r.Name])
		}
	}
	if TableNeeds(nil) != nil {
		t.Error("TableNeeds(nil) is not nil")
	}
	if !TableNeedsEndpoints(LookupResource("services")) || TableNeedsEndpoints(LookupResource("endpoints")) || TableNeedsEndpoints(nil) {
		t.Error("TableNeedsEndpoints: only services need the endpoints")
	}

	in := func(ns, name string) Object { return &Service{ObjectMeta: ObjectMeta{Name: name, Namespace: ns}} }
	for _, tt := range []struct {
		objs []Object
		want string
	}{
		{nil, ""},
		{[]Object{in("dev", "a"), in("dev", "b")}, "dev"},
		{[]Object{in("dev", "a"), in("prod", "b")}, ""},
		{[]Object{in("", "a"), in("dev", "b")}, ""},
		{[]Object{&Node{ObjectMeta: ObjectMeta{Name: "n"}}}, ""},
	} {
		if got := TableNeedsNamespace(tt.objs); got != tt.want {
			t.Errorf("TableNeedsNamespace(%d objects) = %q, want %q", len(tt.objs), got, tt.want)
		}
	}

	// Add makes what it is given known, even when it is empty; unknown resources add nothing.
	tc := &TableContext{}
	tc.Add("endpoints", nil)
	tc.Add("gadgets", []Object{&Pod{}})
	if tc.Endpoints == nil || len(tc.Endpoints) != 0 || tc.PodsByNode != nil {
		t.Errorf("context = %+v", tc)
	}
}

func tableReplicaSets() []Object {
	web := &ReplicaSet{
		ObjectMeta: ObjectMeta{Name: "web-7c5ddbdf54", Namespace: "default", CreationTimestamp: tableAgo(5*time.Minute + 30*time.Second)},
		Spec: ReplicaSetSpec{
			Replicas: tableInt32(3),
			Selector: &LabelSelector{MatchLabels: map[string]string{"pod-template-hash": "7c5ddbdf54", "app": "web"}},
			Template: PodTemplateSpec{Spec: PodSpec{Containers: []Container{
				{Name: "nginx", Image: "nginx:1.25"}, {Name: "sidecar", Image: "busybox:1.36"}}}},
		},
		Status: ReplicaSetStatus{Replicas: 2, ReadyReplicas: 1, AvailableReplicas: 1},
	}
	old := &ReplicaSet{
		ObjectMeta: ObjectMeta{Name: "old-5f9b", Namespace: "default", CreationTimestamp: tableAgo(12 * 24 * time.Hour)},
		Spec: ReplicaSetSpec{
			Replicas: tableInt32(0),
			Selector: &LabelSelector{
				MatchLabels:      map[string]string{"app": "web"},
				MatchExpressions: []LabelSelectorRequirement{{Key: "tier", Operator: LabelSelectorOpIn, Values: []string{"frontend"}}},
			},
			Template: PodTemplateSpec{Spec: PodSpec{Containers: []Container{{Name: "nginx", Image: "nginx:1.24"}}}},
		},
	}
	return []Object{web, old}
}

func TestFormatTableReplicaSets(t *testing.T) {
	objs := tableReplicaSets()
	tests := []struct {
		name string
		opts TableOptions
		want string
	}{
		{
			name: "default",
			want: tableLines(
				"NAME             REPLICAS   READY   AGE",
				"web-7c5ddbdf54   2/3        1       5m30s",
				"old-5f9b         0/0        0       12d",
			),
		},
		{
			name: "wide",
			opts: TableOptions{Wide: true},
			want: tableLines(
				"NAME             REPLICAS   READY   AGE     CONTAINERS      IMAGES                    SELECTOR",
				"web-7c5ddbdf54   2/3        1       5m30s   nginx,sidecar   nginx:1.25,busybox:1.36   app=web,pod-template-hash=7c5ddbdf54",
				"old-5f9b         0/0        0       12d     nginx           nginx:1.24                app=web,tier in (frontend)",
			),
		},
		{
			// kubectl's tabwriter has a minimum cell width of 6, which shows without headers.
			name: "no headers",
			opts: TableOptions{NoHeaders: true},
			want: tableLines(
				"web-7c5ddbdf54   2/3   1     5m30s",
				"old-5f9b         0/0   0     12d",
			),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tableText(t, objs, tt.opts); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}

	rs := &ReplicaSet{ObjectMeta: ObjectMeta{Name: "bare"}}
	cells := TableCells(rs, tableNow)
	if cells[1] != "0/1" || cells[3] != "<unknown>" || cells[6] != "<none>" {
		t.Errorf("cells of a bare ReplicaSet = %#v", cells)
	}
}

func TestFormatTableEvents(t *testing.T) {
	scheduled := &Event{
		ObjectMeta:     ObjectMeta{Name: "nginx.17c8a", Namespace: "default", CreationTimestamp: tableAgo(time.Hour)},
		InvolvedObject: ObjectReference{Kind: "Pod", Name: "nginx", Namespace: "default"},
		Reason:         "Scheduled", Type: EventTypeNormal,
		Message:        "Successfully assigned default/nginx to node-1\n",
		Source:         EventSource{Component: "default-scheduler"},
		FirstTimestamp: tableAgo(time.Hour), LastTimestamp: tableAgo(30 * time.Second), Count: 3,
	}
	backoff := &Event{
		ObjectMeta:         ObjectMeta{Name: "crasher.17c8b", Namespace: "default", CreationTimestamp: tableAgo(2 * time.Minute)},
		InvolvedObject:     ObjectReference{Kind: "Pod", Name: "crasher", FieldPath: "spec.containers{app}"},
		Reason:             "BackOff",
		Type:               EventTypeWarning,
		Message:            "Back-off restarting failed container\nin pod crasher",
		ReportingComponent: "kubelet", ReportingInstance: "node-1",
	}
	got := tableText(t, []Object{scheduled, backoff}, TableOptions{})
	want := tableLines(
		"LAST SEEN   TYPE      REASON      OBJECT        MESSAGE",
		"30s         Normal    Scheduled   pod/nginx     Successfully assigned default/nginx to node-1",
		"2m          Warning   BackOff     pod/crasher   Back-off restarting failed container...",
	)
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}

	cells := TableCells(backoff, tableNow)
	wantCells := []any{"2m", "Warning", "BackOff", "pod/crasher", "spec.containers{app}", "kubelet, node-1",
		"Back-off restarting failed container\nin pod crasher", "2m", int64(1), "crasher.17c8b"}
	if len(cells) != len(wantCells) {
		t.Fatalf("cells = %#v", cells)
	}
	for i := range cells {
		if cells[i] != wantCells[i] {
			t.Errorf("cell %d = %#v, want %#v", i, cells[i], wantCells[i])
		}
	}
	if c := TableCells(scheduled, tableNow); c[5] != "default-scheduler" || c[7] != "60m" || c[8] != int64(3) {
		t.Errorf("cells = %#v", c)
	}
}

func TestTableCellsOtherKinds(t *testing.T) {
	addrs := func(ips ...string) []EndpointAddress {
		var out []EndpointAddress
		for _, ip := range ips {
			out = append(out, EndpointAddress{IP: ip})
		}
		return out
	}
	tests := []struct {
		name string
		obj  Object
		want []any
	}{
		{"endpoints", &Endpoints{ObjectMeta: ObjectMeta{Name: "web", CreationTimestamp: tableAgo(time.Hour)},
			Subsets: []EndpointSubset{{Addresses: addrs("10.244.1.5", "10.244.2.3"), Ports: []EndpointPort{{Port: 80}}}}},
			[]any{"web", "10.244.1.5:80,10.244.2.3:80", "60m"}},
		{"endpoints, more than three", &Endpoints{ObjectMeta: ObjectMeta{Name: "web"},
			Subsets: []EndpointSubset{
				{Addresses: addrs("10.0.0.1", "10.0.0.2"), Ports: []EndpointPort{{Port: 80}, {Port: 443}}},
				{Addresses: addrs("fd00::1"), NotReadyAddresses: addrs("10.0.0.9"), Ports: []EndpointPort{{Port: 8080}}},
			}},
			[]any{"web", "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 2 more...", "<unknown>"}},
		{"endpoints, IPv6 and no ports", &Endpoints{ObjectMeta: ObjectMeta{Name: "dns"},
			Subsets: []EndpointSubset{{Addresses: addrs("fd00::1"), Ports: []EndpointPort{{Port: 53}}}, {Addresses: addrs("10.0.0.1")}}},
			[]any{"dns", "[fd00::1]:53,10.0.0.1", "<unknown>"}},
		{"endpoints, empty", &Endpoints{ObjectMeta: ObjectMeta{Name: "none"}},
			[]any{"none", "<none>", "<unknown>"}},
		{"endpoints, none ready", &Endpoints{ObjectMeta: ObjectMeta{Name: "starting"},
			Subsets: []EndpointSubset{{NotReadyAddresses: addrs("10.0.0.9"), Ports: []EndpointPort{{Port: 80}}}}},
			[]any{"starting", "<none>", "<unknown>"}},
		{"namespace", &Namespace{ObjectMeta: ObjectMeta{Name: "dev", CreationTimestamp: tableAgo(400 * 24 * time.Hour)},
			Status: NamespaceStatus{Phase: NamespaceActive}},
			[]any{"dev", "Active", "400d"}},
		{"secret", &Secret{ObjectMeta: ObjectMeta{Name: "creds", CreationTimestamp: tableAgo(3 * 24 * time.Hour)},
			Type: "Opaque", Data: map[string][]byte{"user": []byte("a"), "password": []byte("b")}},
			[]any{"creds", "Opaque", int64(2), "3d"}},
		{"other kinds", &tableWidget{ObjectMeta: ObjectMeta{Name: "w", CreationTimestamp: tableAgo(-time.Hour)}},
			[]any{"w", "<invalid>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := TableCells(tt.obj, tableNow)
			if len(got) != len(tt.want) {
				t.Fatalf("cells = %#v, want %#v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("cell %d = %#v, want %#v", i, got[i], tt.want[i])
				}
			}
			if n := len(TableColumns(ResourceFor(tt.obj))); n != len(got) {
				t.Errorf("%d cells for %d columns", len(got), n)
			}
		})
	}
}

// tableWidget is a kind without columns of its own.
type tableWidget struct {
	TypeMeta
	ObjectMeta
}

func TestTableColumns(t *testing.T) {
	want := map[string]string{
		"pods":                     "Name,Ready,Status,Restarts,Age,IP*,Node*,Nominated Node*,Readiness Gates*",
		"nodes":                    "Name,Role,Status,Age,Address,Pod-CIDR,CPU*,Memory*,Version*,OS-Image*,Kernel-Version*,Container-Runtime*",
		"services":                 "Name,Type,Cluster-IP,Port(s),Endpoints,Age,Selector*",
		"endpoints":                "Name,Endpoints,Age",
		"replicasets":              "Name,Replicas,Ready,Age,Containers*,Images*,Selector*",
		"namespaces":               "Name,Status,Age",
		"secrets":                  "Name,Type,Data,Age",
		"events":                   "Last Seen,Type,Reason,Object,Subobject*,Source*,Message,First Seen*,Count*,Name*",
		"horizontalpodautoscalers": "Name,Reference,Targets,Min,Max,Replicas,Age",
	}
	for _, r := range Resources() {
		var names []string
		for _, c := range TableColumns(r) {
			if c.Type == "" || c.Description == "" {
				t.Errorf("%s: column %q lacks type or description", r.Name, c.Name)
			}
			n := c.Name
			if c.Priority == 1 {
				n += "*"
			}
			names = append(names, n)
		}
		if got := strings.Join(names, ","); got != want[r.Name] {
			t.Errorf("%s: columns %s, want %s", r.Name, got, want[r.Name])
		}
	}
	if got := TableColumns(nil); len(got) != 2 || got[0].Name != "Name" || got[0].Format != "name" || got[1].Name != "Age" {
		t.Errorf("default columns = %+v", got)
	}
	// The result is the caller's.
	TableColumns(LookupResource("pods"))[0].Name = "changed"
	if TableColumns(LookupResource("pods"))[0].Name != "Name" {
		t.Error("TableColumns returned shared storage")
	}
}

func TestBuildTable(t *testing.T) {
	pods := tablePods()[:2]
	tbl, err := BuildTable(LookupResource("pods"), pods, tableNow, true)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(tbl)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		APIVersion        string                  `json:"apiVersion"`
		Kind              string                  `json:"kind"`
		Metadata          map[string]any          `json:"metadata"`
		ColumnDefinitions []TableColumnDefinition `json:"columnDefinitions"`
		Rows              []struct {
			Cells  []any          `json:"cells"`
			Object map[string]any `json:"object"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if got.APIVersion != "meta.k8s.io/v1" || got.Kind != "Table" || got.Metadata == nil {
		t.Errorf("apiVersion, kind, metadata = %q, %q, %v", got.APIVersion, got.Kind, got.Metadata)
	}
	if len(got.ColumnDefinitions) != 9 || got.ColumnDefinitions[7].Name != "Nominated Node" || got.ColumnDefinitions[7].Priority != 1 {
		t.Errorf("columns = %+v", got.ColumnDefinitions)
	}
	if len(got.Rows) != 2 || got.Rows[1].Cells[2] != "CrashLoopBackOff" || got.Rows[1].Cells[3] != "5 (2m ago)" {
		t.Fatalf("rows = %+v", got.Rows)
	}
	obj := got.Rows[1].Object
	if obj["kind"] != "Pod" || obj["apiVersion"] != "v1" || obj["metadata"].(map[string]any)["name"] != "crasher" {
		t.Errorf("row object = %v", obj)
	}
	if pods[1].GetTypeMeta().Kind != "" {
		t.Error("BuildTable modified the object")
	}

	// Rows decoded from JSON, as the CLI gets them, print as the originals do; namespaces and
	// labels come from the row objects.
	var decoded Table
	if err := json.Unmarshal(raw, &decoded); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := FormatTable(&b, &decoded, TableOptions{WithNamespace: true, ShowLabels: true}); err != nil {
		t.Fatal(err)
	}
	want := tableLines(
		"NAMESPACE     NAME                     READY   STATUS             RESTARTS     AGE   LABELS",
		"default       nginx-7c5ddbdf54-x8f9p   1/1     Running            0            5m    app=nginx,pod-template-hash=7c5ddbdf54",
		"kube-system   crasher                  0/1     CrashLoopBackOff   5 (2m ago)   10m   <none>",
	)
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}

	// Integer cells survive the JSON round trip.
	rsTable, err := BuildTable(nil, tableReplicaSets(), tableNow, false)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = json.Marshal(rsTable)
	if strings.Contains(string(raw), `"object"`) {
		t.Errorf("row object without includeObject: %s", raw)
	}
	var rsDecoded Table
	if err := json.Unmarshal(raw, &rsDecoded); err != nil {
		t.Fatal(err)
	}
	var b1, b2 bytes.Buffer
	_ = FormatTable(&b1, rsTable, TableOptions{Wide: true})
	_ = FormatTable(&b2, &rsDecoded, TableOptions{Wide: true})
	if b1.String() != b2.String() {
		t.Errorf("decoded table prints\n%s\nnot\n%s", b2.String(), b1.String())
	}

	// Empty lists have empty, not null, rows.
	empty, err := BuildTable(LookupResource("nodes"), nil, tableNow, true)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = json.Marshal(empty)
	if !strings.Contains(string(raw), `"rows":[]`) || !strings.Contains(string(raw), `"metadata":{}`) {
		t.Errorf("empty table = %s", raw)
	}
	b.Reset()
	if err := FormatTable(&b, empty, TableOptions{}); err != nil || b.Len() != 0 {
		t.Errorf("empty table printed %q, %v", b.String(), err)
	}

	// Objects of another kind, and nil objects, are errors.
	if _, err := BuildTable(LookupResource("pods"), []Object{&Node{}}, tableNow, false); err == nil {
		t.Error("no error for a Node in a Pod table")
	}
	if _, err := BuildTable(LookupResource("pods"), []Object{nil}, tableNow, false); err == nil {
		t.Error("no error for a nil object")
	}
	if _, err := BuildTable(nil, []Object{&tableWidget{}, &Pod{}}, tableNow, false); err == nil {
		t.Error("no error for a Pod in a table of other objects")
	}
	if tbl, err := BuildTable(nil, []Object{&tableWidget{ObjectMeta: ObjectMeta{Name: "w"}}}, tableNow, true); err != nil ||
		len(tbl.ColumnDefinitions) != 2 || string(tbl.Rows[0].Object) == "" {
		t.Errorf("table of other objects = %+v, %v", tbl, err)
	}
}

func TestFormatTableCells(t *testing.T) {
	tbl := &Table{
		ColumnDefinitions: []TableColumnDefinition{{Name: "Name"}, {Name: "Value"}, {Name: "Extra", Priority: 1}},
		Rows: []TableRow{
			{Cells: []any{"a", nil, "x"}},
			{Cells: []any{"b\x1b[31mred", 2.5, "y", "ignored"}},
			{Cells: []any{"c", true}},
		},
	}
	var b bytes.Buffer
	if err := FormatTable(&b, tbl, TableOptions{}); err != nil {
		t.Fatal(err)
	}
	want := tableLines(
		"NAME         VALUE",
		"a            ",
		"b^[[31mred   2.5",
		"c            true",
	)
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
}

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-3 * time.Second, "<invalid>"},
		{-2 * time.Second, "<invalid>"},
		{-1500 * time.Millisecond, "0s"},
		{-time.Second, "0s"},
		{0, "0s"},
		{999 * time.Millisecond, "0s"},
		{5 * time.Second, "5s"},
		{90 * time.Second, "90s"},
		{119*time.Second + 999*time.Millisecond, "119s"},
		{2 * time.Minute, "2m"},
		{150 * time.Second, "2m30s"},
		{9*time.Minute + 59*time.Second, "9m59s"},
		{10 * time.Minute, "10m"},
		{10*time.Minute + 30*time.Second, "10m"},
		{179 * time.Minute, "179m"},
		{3 * time.Hour, "3h"},
		{3*time.Hour + 20*time.Minute, "3h20m"},
		{7*time.Hour + 59*time.Minute, "7h59m"},
		{8 * time.Hour, "8h"},
		{8*time.Hour + 30*time.Minute, "8h"},
		{47 * time.Hour, "47h"},
		{48 * time.Hour, "2d"},
		{51 * time.Hour, "2d3h"},
		{7*24*time.Hour + 23*time.Hour, "7d23h"},
		{8 * 24 * time.Hour, "8d"},
		{729 * 24 * time.Hour, "729d"},
		{730 * 24 * time.Hour, "2y"},
		{731 * 24 * time.Hour, "2y1d"},
		{(8*365 - 1) * 24 * time.Hour, "7y364d"},
		{8 * 365 * 24 * time.Hour, "8y"},
		{10*365*24*time.Hour + 100*24*time.Hour, "10y"},
	}
	for _, tt := range tests {
		if got := HumanDuration(tt.d); got != tt.want {
			t.Errorf("HumanDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
