// Command stress is the stress:latest test image: it burns a given amount of CPU and holds a given
// amount of memory, so that autoscaling and resource-limit tests have a load they can dial.
//
//	stress --cpu 500m              # half a core, as a duty cycle on one goroutine
//	stress --cpu 2 --memory 64Mi   # two cores, and 64 MiB touched page by page and held
//	stress --memory 1Gi --timeout 30s
//	stress --control /load/now      # the load the file says ("cpu=300m memory=64Mi"), as it changes
//
// Quantities are written as in Kubernetes (500m, 1.5, 2; 64Mi, 1G, 1048576). It runs until
// --timeout passes (default: forever) or it gets SIGTERM or SIGINT, and then exits 0.
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// period is one duty cycle: busy for the share of it, asleep for the rest.
const period = 100 * time.Millisecond

func main() {
	cpuFlag := flag.String("cpu", "0", "CPU to burn, in cores (2, 1.5) or millicores (500m)")
	memFlag := flag.String("memory", "0", "memory to hold, in bytes or with a suffix (64Mi, 1Gi, 100M, 1k)")
	timeout := flag.Duration("timeout", 0, "stop after this long (0: run until SIGTERM)")
	control := flag.String("control", "", "a file to follow (read twice a second): \"cpu=300m memory=64Mi\" sets the load while it exists; without it, --cpu and --memory")
	flag.Parse()
	if flag.NArg() > 0 {
		fail("unexpected argument %q", flag.Arg(0))
	}
	millis, err := parseCPU(*cpuFlag)
	if err != nil {
		fail("--cpu %q: %v", *cpuFlag, err)
	}
	bytes, err := parseBytes(*memFlag)
	if err != nil {
		fail("--memory %q: %v", *memFlag, err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}

	want := load{millis: millis, bytes: bytes}
	cur := start(ctx, want)
	if *control != "" {
		fmt.Printf("stress: following %s\n", *control)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
	follow:
		for {
			select {
			case <-ctx.Done():
				break follow
			case <-t.C:
			}
			next := want
			if data, err := os.ReadFile(*control); err == nil {
				if next, err = parseLoad(string(data), want); err != nil {
					fmt.Fprintf(os.Stderr, "stress: %s: %v\n", *control, err)
					continue
				}
			}
			if next != cur.load {
				cur.stop()
				cur = start(ctx, next)
			}
		}
	}
	<-ctx.Done()
	cur.stop()
	fmt.Println("stress: done")
}

// load is an amount of CPU (millicores) to burn and of memory (bytes) to hold.
type load struct {
	millis, bytes int64
}

// running is a load being applied.
type running struct {
	load
	cancel context.CancelFunc
	wg     *sync.WaitGroup
	mem    []byte
}

// start applies l until its stop (or ctx's end).
func start(ctx context.Context, l load) *running {
	ctx, cancel := context.WithCancel(ctx)
	r := &running{load: l, cancel: cancel, wg: &sync.WaitGroup{}, mem: hold(l.bytes)}
	workers := int((l.millis + 999) / 1000)
	if workers > runtime.GOMAXPROCS(0) {
		runtime.GOMAXPROCS(workers)
	}
	fmt.Printf("stress: burning %dm CPU on %d goroutine(s), holding %d bytes\n", l.millis, workers, len(r.mem))
	for i := 0; i < workers; i++ {
		share := float64(l.millis) / 1000 / float64(workers)
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			burn(ctx, share)
		}()
	}
	return r
}

// stop ends the load and gives its memory back to the system.
func (r *running) stop() {
	r.cancel()
	r.wg.Wait()
	runtime.KeepAlive(r.mem)
	r.mem = nil
	debug.FreeOSMemory()
}

// parseLoad reads a control file: "cpu=300m memory=64Mi" (either may be left out; what is left
// out comes from base). An empty file means base.
func parseLoad(s string, base load) (load, error) {
	l := base
	for _, f := range strings.Fields(s) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return base, fmt.Errorf("%q: expected cpu=QUANTITY or memory=QUANTITY", f)
		}
		var err error
		switch k {
		case "cpu":
			l.millis, err = parseCPU(v)
		case "memory":
			l.bytes, err = parseBytes(v)
		default:
			return base, fmt.Errorf("%q: unknown key %q (cpu, memory)", f, k)
		}
		if err != nil {
			return base, fmt.Errorf("%s=%q: %v", k, v, err)
		}
	}
	return l, nil
}

// burn keeps one goroutine busy for share (0..1) of every period until ctx ends.
func burn(ctx context.Context, share float64) {
	busy := time.Duration(share * float64(period))
	for ctx.Err() == nil {
		start := time.Now()
		for time.Since(start) < busy {
			// spin
		}
		if rest := period - time.Since(start); rest > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(rest):
			}
		}
	}
}

// hold allocates n bytes and writes to every page, so that they are resident, not just reserved.
func hold(n int64) []byte {
	if n <= 0 {
		return nil
	}
	b := make([]byte, n)
	page := os.Getpagesize()
	for i := 0; i < len(b); i += page {
		b[i] = 1
	}
	return b
}

// parseCPU reads a CPU quantity as millicores: "500m", "1", "1.5".
func parseCPU(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if m, ok := strings.CutSuffix(s, "m"); ok {
		v, err := strconv.ParseInt(m, 10, 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("not a number of millicores")
		}
		return v, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("not a number of cores")
	}
	return int64(math.Round(v * 1000)), nil
}

// parseBytes reads a memory quantity: a number with an optional suffix (Ki Mi Gi Ti, k K M G T).
func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   float64
	}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40},
		{"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}}
	mult := 1.0
	for _, u := range units {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = v, u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("not a quantity of memory")
	}
	return int64(v * mult), nil
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "stress: "+format+"\n", args...)
	os.Exit(2)
}
