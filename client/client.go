// Package client is the typed Go client of the minik8s API, and (in subpackages) the watch cache
// and work queue that controllers and agents are built from.
package client

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/minik8s/minik8s/api"
)

// Client talks to one API server. It is safe for concurrent use.
type Client struct {
	base  string
	token string
	http  *http.Client
	// watchHTTP has no overall timeout, for long-running watches.
	watchHTTP *http.Client
}

// New makes a client from a config. The server's certificate must be signed by cfg.CAData.
func New(cfg *Config) (*Client, error) {
	pool := x509.NewCertPool()
	if len(cfg.CAData) > 0 && !pool.AppendCertsFromPEM(cfg.CAData) {
		return nil, errors.New("client config: the CA data holds no PEM certificate")
	}
	tr := &http.Transport{
		Proxy:               nil,
		TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:   false,
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}
	return &Client{
		base:      strings.TrimRight(cfg.Server, "/"),
		token:     cfg.Token,
		http:      &http.Client{Transport: tr, Timeout: 60 * time.Second},
		watchHTTP: &http.Client{Transport: tr},
	}, nil
}

// Server returns the API server's URL.
func (c *Client) Server() string { return c.base }

// StatusError is an error answer of the API: a Kubernetes Status.
type StatusError struct {
	Status api.Status
}

func (e *StatusError) Error() string {
	if e.Status.Message != "" {
		return e.Status.Message
	}
	return fmt.Sprintf("the server answered %d %s", e.Status.Code, e.Status.Reason)
}

func reasonOf(err error) (string, int32) {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status.Reason, se.Status.Code
	}
	return "", 0
}

// IsNotFound reports a 404.
func IsNotFound(err error) bool { _, c := reasonOf(err); return c == http.StatusNotFound }

// IsAlreadyExists reports a create of a name that is taken.
func IsAlreadyExists(err error) bool {
	r, _ := reasonOf(err)
	return r == api.StatusReasonAlreadyExists
}

// IsConflict reports a write from a stale resourceVersion.
func IsConflict(err error) bool { r, _ := reasonOf(err); return r == api.StatusReasonConflict }

// IsGone reports a watch from a revision that is no longer kept: list again.
func IsGone(err error) bool { _, c := reasonOf(err); return c == http.StatusGone }

// IsInvalid reports a refused object; the Status details name the fields.
func IsInvalid(err error) bool { r, _ := reasonOf(err); return r == api.StatusReasonInvalid }

// IsUnauthorized reports a missing or wrong token.
func IsUnauthorized(err error) bool { _, c := reasonOf(err); return c == http.StatusUnauthorized }

func (c *Client) newRequest(ctx context.Context, method, path string, query url.Values, body []byte) (*http.Request, error) {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return req, nil
}

// Do sends one request and decodes a 2xx answer into out (if not nil). Any other answer is a
// *StatusError. contentType overrides application/json for the body (patches).
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body []byte, contentType string, out any) error {
	req, err := c.newRequest(ctx, method, path, query, body)
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w (is the server running? check the server URL in your config)", method, c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		return statusFromBody(resp.StatusCode, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

func statusFromBody(code int, data []byte) error {
	se := &StatusError{}
	if err := json.Unmarshal(data, &se.Status); err != nil || se.Status.Kind != "Status" {
		se.Status = api.Status{Code: int32(code), Reason: http.StatusText(code), Message: strings.TrimSpace(string(data))}
	}
	if se.Status.Code == 0 {
		se.Status.Code = int32(code)
	}
	return se
}

// ListOptions narrow a list or a watch.
type ListOptions struct {
	LabelSelector   string
	FieldSelector   string
	ResourceVersion string
	TimeoutSeconds  int
}

func (o ListOptions) query() url.Values {
	q := url.Values{}
	if o.LabelSelector != "" {
		q.Set("labelSelector", o.LabelSelector)
	}
	if o.FieldSelector != "" {
		q.Set("fieldSelector", o.FieldSelector)
	}
	if o.ResourceVersion != "" {
		q.Set("resourceVersion", o.ResourceVersion)
	}
	if o.TimeoutSeconds > 0 {
		q.Set("timeoutSeconds", fmt.Sprint(o.TimeoutSeconds))
	}
	return q
}

// Event is one watch event. For ERROR events Object is nil and Status says why.
type Event struct {
	Type   string
	Object api.Object
	Status *api.Status
}

// watch opens a watch stream on path; the channel closes when the stream ends or ctx does.
func (c *Client) watch(ctx context.Context, res *api.Resource, path string, opts ListOptions) (<-chan Event, error) {
	q := opts.query()
	q.Set("watch", "true")
	req, err := c.newRequest(ctx, http.MethodGet, path, q, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.watchHTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", res.Name, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return nil, statusFromBody(resp.StatusCode, data)
	}
	out := make(chan Event)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			var we api.WatchEvent
			if err := json.Unmarshal(sc.Bytes(), &we); err != nil {
				return
			}
			ev := Event{Type: we.Type}
			if we.Type == api.Error {
				var st api.Status
				_ = json.Unmarshal(we.Object, &st)
				ev.Status = &st
			} else {
				obj := res.New()
				if err := json.Unmarshal(we.Object, obj); err != nil {
					return
				}
				ev.Object = obj
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// Stream sends a request and returns the open answer for the caller to read (logs, exec). A
// non-2xx answer is returned as a *StatusError instead. The caller closes the body.
func (c *Client) Stream(ctx context.Context, method, path string, query url.Values, body io.Reader) (*http.Response, error) {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.watchHTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, c.base, err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return nil, statusFromBody(resp.StatusCode, data)
	}
	return resp, nil
}
