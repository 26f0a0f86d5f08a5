package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"

	"github.com/minik8s/minik8s/api"
)

// Runner reads and writes the node's iptables. ExecRunner runs the real tools;
// fake.Tables is one in memory for tests.
type Runner interface {
	// Save returns what `iptables-save -t table` prints.
	Save(ctx context.Context, table string) ([]byte, error)
	// Restore applies data as `iptables-restore --noflush` does: all of it or nothing.
	Restore(ctx context.Context, data []byte) error
}

// ExecRunner runs iptables-save and iptables-restore in the calling process's network
// namespace.
type ExecRunner struct{}

var _ Runner = ExecRunner{}

// Save runs `iptables-save -t table`.
func (ExecRunner) Save(ctx context.Context, table string) ([]byte, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "iptables-save", "-t", table)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("iptables-save -t %s: %w: %s", table, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

var errLine = regexp.MustCompile(`(?:line:?|at line:) ?(\d+)`)

// Restore runs `iptables-restore --noflush --wait` with data on its input. Its error
// quotes the line iptables-restore stumbled on.
func (ExecRunner) Restore(ctx context.Context, data []byte) error {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "iptables-restore", "--noflush", "--wait")
	cmd.Stdin = bytes.NewReader(data)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		if m := errLine.FindStringSubmatch(msg); m != nil {
			n, _ := strconv.Atoi(m[1])
			if lines := strings.Split(string(data), "\n"); n >= 1 && n <= len(lines) {
				msg += fmt.Sprintf(" (line %d: %s)", n, lines[n-1])
			}
		}
		return fmt.Errorf("iptables-restore: %w: %s", err, msg)
	}
	return nil
}

// save returns the nat and filter tables as one iptables-save text.
func save(ctx context.Context, r Runner) ([]byte, error) {
	var all []byte
	for _, t := range []string{"nat", "filter"} {
		b, err := r.Save(ctx, t)
		if err != nil {
			return nil, err
		}
		all = append(all, b...)
	}
	return all, nil
}

// SyncIPTables brings the node's tables to the ruleset for services and endpoints: it
// reads the tables, builds the whole ruleset over them (BuildIPTablesOver) and applies it
// in one restore. It is idempotent; callers serialize it.
func SyncIPTables(ctx context.Context, r Runner, services []*api.Service, endpoints []*api.Endpoints, opts Options) error {
	saved, err := save(ctx, r)
	if err != nil {
		return err
	}
	return r.Restore(ctx, BuildIPTablesOver(saved, services, endpoints, opts))
}

// Cleanup removes every MINIK8S-* chain from the nat and filter tables of the calling
// process's network namespace, and the rules that jump to them, in one restore per table
// (for `minik8s node reset`). It is idempotent, and touches nothing else. Where the
// kernel has IPVS it removes the virtual servers of IPVS mode and their dummy link too.
func Cleanup(ctx context.Context) error {
	var err error
	if _, lookErr := exec.LookPath("iptables-save"); lookErr == nil {
		err = CleanupIPTables(ctx, ExecRunner{})
	} // without iptables there is nothing of ours in it
	if kernelHasIPVS() {
		err = errors.Join(err, cleanupKernelIPVS())
	}
	return err
}

// CleanupIPTables is Cleanup's iptables half, on r.
func CleanupIPTables(ctx context.Context, r Runner) error {
	saved, err := save(ctx, r)
	if err != nil {
		return fmt.Errorf("clean up service rules: %w", err)
	}
	if data := cleanupRules(saved); len(data) > 0 {
		if err := r.Restore(ctx, data); err != nil {
			return fmt.Errorf("clean up service rules: %w", err)
		}
	}
	return nil
}
