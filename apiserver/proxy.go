package apiserver

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/minik8s/minik8s/api"
)

// podSubresources are the Pod subresources served by the Pod's kubelet through the API server.
var podSubresources = map[string]string{"log": http.MethodGet, "exec": http.MethodPost}

// proxyToKubelet answers GET .../pods/NAME/log and POST .../pods/NAME/exec by forwarding them
// to the kubelet of the Pod's node over HTTPS (its certificate is signed by the cluster CA; the
// API server presents the kubelet token) and streaming the answer back.
func (s *Server) proxyToKubelet(w http.ResponseWriter, r *http.Request, res *api.Resource, ri requestInfo) {
	ctx := r.Context()
	kv, err := s.store.Get(ctx, storageKey(res, ri.Namespace, ri.Name))
	if err != nil {
		s.writeError(w, r, err, res, ri.Name)
		return
	}
	obj, err := decodeStored(res, kv.Value, kv.ModRev)
	if err != nil {
		s.writeError(w, r, err, res, ri.Name)
		return
	}
	pod := obj.(*api.Pod)
	q := r.URL.Query()
	container := q.Get("container")
	if container == "" {
		if len(pod.Spec.Containers) != 1 {
			names := make([]string, len(pod.Spec.Containers))
			for i, c := range pod.Spec.Containers {
				names[i] = c.Name
			}
			s.writeError(w, r, errBadRequest("a container name must be specified for pod %s, choose one of: [%s]", pod.Name, strings.Join(names, " ")), res, ri.Name)
			return
		}
		container = pod.Spec.Containers[0].Name
	}
	if pod.Spec.NodeName == "" {
		s.writeError(w, r, errBadRequest("pod %s is not scheduled to a node yet", pod.Name), res, ri.Name)
		return
	}
	nodeRes := api.LookupResource("nodes")
	nkv, err := s.store.Get(ctx, storageKey(nodeRes, "", pod.Spec.NodeName))
	if err != nil {
		s.writeError(w, r, fmt.Errorf("node %s of pod %s: %w", pod.Spec.NodeName, pod.Name, err), res, ri.Name)
		return
	}
	nobj, err := decodeStored(nodeRes, nkv.Value, nkv.ModRev)
	if err != nil {
		s.writeError(w, r, err, res, ri.Name)
		return
	}
	node := nobj.(*api.Node)
	addr := ""
	for _, a := range node.Status.Addresses {
		if a.Type == "InternalIP" {
			addr = a.Address
		}
	}
	port := node.Status.DaemonEndpoints.KubeletEndpoint.Port
	if addr == "" || port == 0 {
		s.writeError(w, r, errBadRequest("node %s has not reported where its kubelet listens", node.Name), res, ri.Name)
		return
	}
	target := url.URL{Scheme: "https", Host: net.JoinHostPort(addr, strconv.Itoa(int(port)))}
	fwd := url.Values{}
	switch ri.Subresource {
	case "log":
		target.Path = fmt.Sprintf("/containerLogs/%s/%s/%s", pod.Namespace, pod.Name, container)
		for _, k := range []string{"follow", "tailLines", "previous"} {
			if v := q.Get(k); v != "" {
				fwd.Set(k, v)
			}
		}
	case "exec":
		target.Path = fmt.Sprintf("/exec/%s/%s/%s", pod.Namespace, pod.Name, container)
		fwd["command"] = q["command"]
		if q.Get("stdin") == "true" {
			fwd.Set("stdin", "true")
		}
	}
	target.RawQuery = fwd.Encode()
	var body io.Reader
	if ri.Subresource == "exec" {
		body = r.Body
	}
	req, err := http.NewRequestWithContext(ctx, podSubresources[ri.Subresource], target.String(), body)
	if err != nil {
		s.writeError(w, r, err, res, ri.Name)
		return
	}
	req.Header.Set("Authorization", "Bearer "+s.creds.KubeletToken)
	resp, err := s.kubeletClient().Do(req)
	if err != nil {
		s.writeError(w, r, newStatus(http.StatusBadGateway, "ServiceUnavailable",
			fmt.Sprintf("cannot reach the kubelet of node %s at %s: %v", node.Name, target.Host, err)), res, ri.Name)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		writeJSON(w, resp.StatusCode, newStatus(resp.StatusCode, http.StatusText(resp.StatusCode), strings.TrimSpace(string(msg))).status)
		return
	}
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	// Declare the kubelet's trailers (exec's exit code), so that HTTP/1.1 clients get them
	// even when the body is empty.
	for t := range resp.Trailer { // the keys are known before the body, the values after it
		w.Header().Add("Trailer", t)
	}
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
		if err != nil {
			break
		}
	}
	for k, v := range resp.Trailer {
		if len(v) > 0 {
			w.Header().Set(k, v[0])
		}
	}
}

func (s *Server) kubeletClient() *http.Client {
	s.kubeletOnce.Do(func() {
		pool := x509.NewCertPool()
		pool.AddCert(s.creds.CACert)
		s.kubeletHTTP = &http.Client{Transport: &http.Transport{
			Proxy:               nil,
			TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout: 10 * time.Second,
		}}
	})
	return s.kubeletHTTP
}
