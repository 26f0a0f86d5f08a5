// Command mkimage builds the project's container images (busybox, echo, stress, pause, minik8s)
// as image archives in a folder: `make images` runs it. See package images.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/minik8s/minik8s/images"
)

func main() {
	var opts images.Options
	flag.StringVar(&opts.OutDir, "out", "build/images", "folder to write NAME.tar into")
	flag.StringVar(&opts.Minik8sBinary, "minik8s", "", "static minik8s binary for minik8s:latest (empty: skip that image)")
	flag.StringVar(&opts.Busybox, "busybox", images.DefaultBusybox, "static busybox binary (Debian: apt-get install busybox-static)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), `Usage: mkimage [--out DIR] [--minik8s PATH] [--busybox PATH]

Builds the images %v, reproducibly, as archives DIR/NAME.tar that
"minik8s image push" and "ctr images import" read.

Flags:
`, images.Names)
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	opts.Progress = os.Stdout
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := images.Build(ctx, opts); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}
