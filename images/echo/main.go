// Command echo is the echo:latest test image's server: it answers every HTTP request with a JSON
// object naming the pod and address that served it, so tests can see where a Service sent them.
//
//	{"pod":"web-1","ip":"10.244.1.5","path":"/hello","host":"web.default.svc"}
//
// It listens on $PORT (default 8080), names itself $POD_NAME (default: the host name), answers
// /healthz with "ok", logs one line per request on stdout, and exits 0 on SIGTERM or SIGINT.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

type reply struct {
	Pod  string `json:"pod"`
	IP   string `json:"ip"`
	Path string `json:"path"`
	Host string `json:"host"`
}

func main() {
	// `echo udp HOST:PORT TEXT` sends one datagram and prints the answer: a UDP client for tests.
	if len(os.Args) == 4 && os.Args[1] == "udp" {
		os.Exit(udpClient(os.Args[2], os.Args[3]))
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	pod := os.Getenv("POD_NAME")
	if pod == "" {
		pod, _ = os.Hostname()
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := json.Marshal(reply{Pod: pod, IP: firstIPv4(), Path: r.URL.Path, Host: r.Host})
		w.Header().Set("Content-Type", "application/json")
		w.Write(append(body, '\n'))
		fmt.Printf("%s %s %s host=%s from=%s\n", time.Now().UTC().Format(time.RFC3339), r.Method, r.URL.RequestURI(), r.Host, r.RemoteAddr)
	})

	srv := &http.Server{Addr: ":" + port, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	go serveUDP(ctx, port, pod)
	fmt.Printf("echo: pod %s listening on :%s (TCP: HTTP, UDP: one answer per datagram)\n", pod, port)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
}

// firstIPv4 is the first IPv4 address of an interface that is up and not loopback.
func firstIPv4() string {
	ifaces, err := net.Interfaces()
	if err != nil {
		return ""
	}
	for _, iface := range ifaces {
		if iface.Flags&net.FlagUp == 0 || iface.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := iface.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if ip4 := n.IP.To4(); ip4 != nil && !ip4.IsLoopback() {
					return ip4.String()
				}
			}
		}
	}
	return ""
}

// serveUDP answers every datagram on the same port with the same JSON, its "path" being the
// datagram's text, so that Services can be tested over UDP.
func serveUDP(ctx context.Context, port, pod string) {
	conn, err := net.ListenPacket("udp", ":"+port)
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo: udp:", err)
		return
	}
	go func() {
		<-ctx.Done()
		conn.Close()
	}()
	buf := make([]byte, 2048)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			return
		}
		body, _ := json.Marshal(reply{Pod: pod, IP: firstIPv4(), Path: strings.TrimSpace(string(buf[:n])), Host: "udp"})
		_, _ = conn.WriteTo(append(body, '\n'), from)
	}
}

func udpClient(addr, text string) int {
	conn, err := net.Dial("udp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo udp:", err)
		return 1
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := conn.Write([]byte(text)); err != nil {
		fmt.Fprintln(os.Stderr, "echo udp:", err)
		return 1
	}
	buf := make([]byte, 2048)
	n, err := conn.Read(buf)
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo udp:", err)
		return 1
	}
	os.Stdout.Write(buf[:n])
	return 0
}
