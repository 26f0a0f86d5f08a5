package tui

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/minik8s/minik8s/api"
)

// syncBuffer is the program's terminal: written by the renderer, read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until the terminal has shown want since offset, and returns the new offset.
func waitFor(t *testing.T, out *syncBuffer, offset int, want string) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		s := out.String()
		if i := strings.Index(s[offset:], want); i >= 0 {
			return offset + i + len(want)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("terminal never showed %q; it shows:\n%s", want, out.String()[offset:])
	return 0
}

// TestProgramMovesThroughViews runs the real bubbletea program headless: keys go in through
// WithInput, the screen comes out through WithOutput, and the data from a fake Source.
func TestProgramMovesThroughViews(t *testing.T) {
	src := fixture()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := New(ctx, Options{Source: src, Server: "https://headless:6443", Namespace: "default",
		Now: func() time.Time { return t0 }})
	in, keys := io.Pipe()
	out := &syncBuffer{}
	p := tea.NewProgram(m, tea.WithInput(in), tea.WithOutput(out), tea.WithoutSignals(), tea.WithContext(ctx))
	done := make(chan error, 1)
	go func() {
		_, err := p.Run()
		done <- err
	}()
	p.Send(tea.WindowSizeMsg{Width: 100, Height: 20})
	type_ := func(s string) {
		if _, err := keys.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}

	off := waitFor(t, out, 0, "web-1")
	type_(":rs\r")
	off = waitFor(t, out, off, "kind:replicasets")
	off = waitFor(t, out, off, "REPLICAS")

	// A ReplicaSet created in the cluster appears once the watch is open.
	deadline := time.Now().Add(5 * time.Second)
	for src.emit(api.Added, replicaSet("default", "frontend", 2), nil) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the program never watched replicasets")
		}
		time.Sleep(5 * time.Millisecond)
	}
	off = waitFor(t, out, off, "frontend")

	type_("?")
	off = waitFor(t, out, off, "shift+LETTER")
	type_("q/front\r")
	off = waitFor(t, out, off, "filter:/front")
	type_("0")
	off = waitFor(t, out, off, "ns:all")
	_ = off
	type_("q")

	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("program: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("q did not quit the program")
	}
	if m.cur.res.Name != "replicasets" || m.cur.ns != "" {
		t.Errorf("final view %s in %q, want replicasets in all namespaces", m.cur.res.Name, m.cur.ns)
	}
	if got := src.tableLists(); len(got) != 3 {
		t.Errorf("lists %q: want pods, replicasets, replicasets -A", got)
	}
}
