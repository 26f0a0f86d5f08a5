package api

import (
	"encoding/json"
	"fmt"
	"time"
)

// GroupMetrics is the API group of resource usage, as Kubernetes' metrics-server serves it.
const (
	GroupMetrics   = "metrics.k8s.io"
	MetricsVersion = "v1beta1"
)

// Duration is a time.Duration that reads and writes as a Go duration string ("15s"), as
// Kubernetes' metav1.Duration does.
type Duration struct {
	time.Duration
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.Duration.String()) }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"15s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// NodeMetrics is the CPU (cores) and memory (working set, bytes) a node uses, averaged over Window
// and sampled at Timestamp. minik8s's kubelets report it; the API server keeps a short window.
type NodeMetrics struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata"`
	Timestamp  Time         `json:"timestamp"`
	Window     Duration     `json:"window"`
	Usage      ResourceList `json:"usage"`
}

// NodeMetricsList is a list of NodeMetrics.
type NodeMetricsList struct {
	TypeMeta `json:",inline"`
	ListMeta `json:"metadata"`
	Items    []NodeMetrics `json:"items"`
}

// PodMetrics is the usage of each container of a Pod.
type PodMetrics struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata"`
	Timestamp  Time               `json:"timestamp"`
	Window     Duration           `json:"window"`
	Containers []ContainerMetrics `json:"containers"`
}

// ContainerMetrics is the usage of one container.
type ContainerMetrics struct {
	Name  string       `json:"name"`
	Usage ResourceList `json:"usage"`
}

// PodMetricsList is a list of PodMetrics.
type PodMetricsList struct {
	TypeMeta `json:",inline"`
	ListMeta `json:"metadata"`
	Items    []PodMetrics `json:"items"`
}

// UsageReport is what a kubelet sends every sampling interval: its node's usage and the usage of
// each Pod it runs. POST /minik8s/v1/metrics/nodes/NAME, with that node's token.
type UsageReport struct {
	TypeMeta `json:",inline"`
	Node     NodeMetrics  `json:"node"`
	Pods     []PodMetrics `json:"pods,omitempty"`
	// Unmeasured names ("namespace/name") the Pods that run on the node but could not be
	// measured this time (a container just restarted, the kubelet just started): their earlier
	// samples are kept, where a Pod left out of a report is gone.
	Unmeasured []string `json:"unmeasured,omitempty"`
}

// UsageHistory is the window of samples the API server holds for one node or Pod, oldest first:
// GET /minik8s/v1/metrics/nodes/NAME and /minik8s/v1/metrics/namespaces/NS/pods/NAME.
// Terminal UIs draw it as sparklines.
type UsageHistory struct {
	TypeMeta  `json:",inline"`
	Resource  string       `json:"resource"` // "nodes" or "pods"
	Namespace string       `json:"namespace,omitempty"`
	Name      string       `json:"name"`
	Points    []UsagePoint `json:"points"`
}

// UsagePoint is one sample: CPU in millicores and memory working set in bytes.
type UsagePoint struct {
	Timestamp   Time  `json:"timestamp"`
	CPUMilli    int64 `json:"cpuMilli"`
	MemoryBytes int64 `json:"memoryBytes"`
}

// PodUsage sums a PodMetrics' containers: CPU in millicores, memory in bytes.
func PodUsage(m *PodMetrics) (cpuMilli, memBytes int64) {
	for _, c := range m.Containers {
		if q, ok := c.Usage[ResourceCPU]; ok {
			cpuMilli += q.MilliValue()
		}
		if q, ok := c.Usage[ResourceMemory]; ok {
			memBytes += q.Value()
		}
	}
	return cpuMilli, memBytes
}
