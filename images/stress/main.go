// Command stress is the stress:latest test image: it burns a given amount of CPU and holds a given
// amount of memory, so that autoscaling and resource-limit tests have a load they can dial.
//
//	stress --cpu 500m              # half a core, as a duty cycle on one goroutine
//	stress --cpu 2 --memory 64Mi   # two cores, and 64 MiB touched page by page and held
//	stress --memory 1Gi --timeout 30s
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

	mem := hold(bytes)
	workers := int((millis + 999) / 1000)
	if workers > runtime.GOMAXPROCS(0) {
		runtime.GOMAXPROCS(workers)
	}
	fmt.Printf("stress: burning %dm CPU on %d goroutine(s), holding %d bytes\n", millis, workers, len(mem))

	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		share := float64(millis) / 1000 / float64(workers)
		wg.Add(1)
		go func() {
			defer wg.Done()
			burn(ctx, share)
		}()
	}
	<-ctx.Done()
	wg.Wait()
	runtime.KeepAlive(mem)
	fmt.Println("stress: done")
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
