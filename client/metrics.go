package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/minik8s/minik8s/api"
)

// metricsBase is where the API server serves resource usage, as metrics-server does.
const metricsBase = "/apis/" + api.GroupMetrics + "/" + api.MetricsVersion

// PodMetrics lists the latest usage of the Pods in ns ("" for every namespace) that match the
// label selector (may be empty). Pods not measured yet, or no longer reported, are left out.
func (c *Client) PodMetrics(ctx context.Context, ns, selector string) (*api.PodMetricsList, error) {
	path := metricsBase + "/pods"
	if ns != "" {
		path = metricsBase + "/namespaces/" + url.PathEscape(ns) + "/pods"
	}
	var q url.Values
	if selector != "" {
		q = url.Values{"labelSelector": {selector}}
	}
	out := &api.PodMetricsList{}
	return out, c.Do(ctx, http.MethodGet, path, q, nil, "", out)
}

// NodeMetrics lists the latest usage of every node that reports it.
func (c *Client) NodeMetrics(ctx context.Context) (*api.NodeMetricsList, error) {
	out := &api.NodeMetricsList{}
	return out, c.Do(ctx, http.MethodGet, metricsBase+"/nodes", nil, nil, "", out)
}

// PodUsageHistory returns the window of samples held for one Pod, oldest first.
func (c *Client) PodUsageHistory(ctx context.Context, ns, name string) (*api.UsageHistory, error) {
	out := &api.UsageHistory{}
	path := "/minik8s/v1/metrics/namespaces/" + url.PathEscape(ns) + "/pods/" + url.PathEscape(name)
	return out, c.Do(ctx, http.MethodGet, path, nil, nil, "", out)
}

// NodeUsageHistory returns the window of samples held for one node, oldest first.
func (c *Client) NodeUsageHistory(ctx context.Context, name string) (*api.UsageHistory, error) {
	out := &api.UsageHistory{}
	return out, c.Do(ctx, http.MethodGet, "/minik8s/v1/metrics/nodes/"+url.PathEscape(name), nil, nil, "", out)
}

// ReportUsage sends a kubelet's samples for its node.
func (c *Client) ReportUsage(ctx context.Context, r *api.UsageReport) error {
	body, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return c.Do(ctx, http.MethodPost, "/minik8s/v1/metrics/nodes/"+url.PathEscape(r.Node.Name), nil, body, "", nil)
}
