package kubelet

import (
	"bufio"
	"bytes"
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minik8s/minik8s/api"
)

// serve runs the kubelet's HTTPS API until ctx ends:
//
//	GET  /containerLogs/{namespace}/{pod}/{container}?follow=true&tailLines=N&previous=true
//	POST /exec/{namespace}/{pod}/{container}?command=sh&command=-c&command=...
//
// Both need the bearer token the API server presents (Config.ClientToken). Exec answers the
// command's stdout and stderr as they come, and its exit code in the X-Exit-Code trailer.
func (k *Kubelet) serve(ctx context.Context) error {
	if len(k.cfg.TLSCert.Certificate) == 0 {
		k.log.Warn("no serving certificate: logs and exec are not served")
		return nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{ns}/{pod}/{container}", k.handleLogs)
	mux.HandleFunc("POST /exec/{ns}/{pod}/{container}", k.handleExec)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	srv := &http.Server{
		Handler:           k.authorize(mux),
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{k.cfg.TLSCert}, MinVersion: tls.VersionTLS12},
	}
	addr := net.JoinHostPort(k.cfg.Address, strconv.Itoa(k.cfg.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("kubelet listen on %s: %w", addr, err)
	}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (k *Kubelet) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			next.ServeHTTP(w, r)
			return
		}
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if k.cfg.ClientToken == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(k.cfg.ClientToken)) != 1 {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// podByName finds a Pod of this node in the cache.
func (k *Kubelet) podByName(ns, name string) (*api.Pod, bool) {
	o, ok := k.pods.Get(ns + "/" + name)
	if !ok {
		return nil, false
	}
	return o.(*api.Pod), true
}

func (k *Kubelet) handleLogs(w http.ResponseWriter, r *http.Request) {
	ns, name, cname := r.PathValue("ns"), r.PathValue("pod"), r.PathValue("container")
	pod, ok := k.podByName(ns, name)
	if !ok {
		http.Error(w, fmt.Sprintf("pod %s/%s is not on node %s", ns, name, k.cfg.NodeName), http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	cs, err := k.containersByName(r.Context(), string(pod.UID))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	st, ok := cs[cname]
	if !ok {
		http.Error(w, fmt.Sprintf("container %q in pod %q is waiting to start", cname, name), http.StatusBadRequest)
		return
	}
	n := atoi(st.Labels[labelRestarts])
	if q.Get("previous") == "true" {
		if n == 0 {
			http.Error(w, fmt.Sprintf("previous terminated container %q in pod %q not found", cname, name), http.StatusBadRequest)
			return
		}
		n--
	}
	path := k.rt.logPath(string(pod.UID), cname, n)
	f, err := os.Open(path)
	if err != nil {
		http.Error(w, fmt.Sprintf("no logs for container %q: %v", cname, err), http.StatusNotFound)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if t := q.Get("tailLines"); t != "" {
		lines, err := strconv.Atoi(t)
		if err != nil || lines < 0 {
			http.Error(w, "tailLines must be a non-negative integer", http.StatusBadRequest)
			return
		}
		if err := seekTail(f, lines); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	if _, err := io.Copy(w, f); err != nil {
		return
	}
	if q.Get("follow") != "true" || q.Get("previous") == "true" {
		return
	}
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	// Follow: copy what is appended until the container stops or the client goes.
	buf := make([]byte, 32<<10)
	for {
		nr, err := f.Read(buf)
		if nr > 0 {
			if _, werr := w.Write(buf[:nr]); werr != nil {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return
		}
		if s, err := k.rt.Inspect(r.Context(), st.Container); err != nil || !s.Running {
			// One last read for output written just before the exit.
			_, _ = io.Copy(w, f)
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// seekTail positions f at the start of its last n lines.
func seekTail(f *os.File, n int) error {
	data, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	trimmed := bytes.TrimSuffix(data, []byte("\n"))
	start := len(trimmed)
	for i := 0; i < n; i++ {
		j := bytes.LastIndexByte(trimmed[:start], '\n')
		if j < 0 {
			start = 0
			break
		}
		start = j
		if i == n-1 {
			start = j + 1
		}
	}
	if n == 0 {
		start = len(data)
	}
	_, err = f.Seek(int64(start), io.SeekStart)
	return err
}

// flushWriter flushes after every write, so exec output streams.
type flushWriter struct {
	mu sync.Mutex
	w  io.Writer
	f  http.Flusher
}

func (fw *flushWriter) Write(p []byte) (int, error) {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	n, err := fw.w.Write(p)
	if fw.f != nil {
		fw.f.Flush()
	}
	return n, err
}

var execSeq struct {
	sync.Mutex
	n int
}

func (k *Kubelet) handleExec(w http.ResponseWriter, r *http.Request) {
	ns, name, cname := r.PathValue("ns"), r.PathValue("pod"), r.PathValue("container")
	pod, ok := k.podByName(ns, name)
	if !ok {
		http.Error(w, fmt.Sprintf("pod %s/%s is not on node %s", ns, name, k.cfg.NodeName), http.StatusNotFound)
		return
	}
	args := r.URL.Query()["command"]
	if len(args) == 0 {
		http.Error(w, "no command given", http.StatusBadRequest)
		return
	}
	cs, err := k.containersByName(r.Context(), string(pod.UID))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	st, ok := cs[cname]
	if !ok || !st.Running {
		http.Error(w, fmt.Sprintf("container %q in pod %q is not running", cname, name), http.StatusBadRequest)
		return
	}
	execSeq.Lock()
	execSeq.n++
	id := fmt.Sprintf("exec-%d-%d", time.Now().UnixNano(), execSeq.n)
	execSeq.Unlock()
	w.Header().Set("Trailer", "X-Exit-Code")
	w.Header().Set("Content-Type", "application/octet-stream")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	out := &flushWriter{w: w, f: flusher}
	var stdin *os.File
	if r.URL.Query().Get("stdin") == "true" {
		pr, pw, err := os.Pipe()
		if err == nil {
			stdin = pr
			go func() {
				_, _ = io.Copy(pw, bufio.NewReader(r.Body))
				pw.Close()
			}()
			defer pr.Close()
		}
	}
	code, err := k.rt.Exec(r.Context(), st.Container, args, stdin, out, out, id)
	if err != nil {
		fmt.Fprintf(out, "minik8s: exec failed: %v\n", err)
		if code < 0 {
			code = 126
		}
	}
	w.Header().Set("X-Exit-Code", strconv.Itoa(code))
}
