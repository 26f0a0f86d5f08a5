//go:build e2e

package e2e

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// tmux drives the real binary in a terminal, as a person at the keyboard would.
type tmux struct {
	t       *testing.T
	session string
}

func (m tmux) run(args ...string) string {
	m.t.Helper()
	out, err := exec.Command("tmux", args...).CombinedOutput()
	if err != nil {
		m.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (m tmux) keys(keys ...string) { m.run(append([]string{"send-keys", "-t", m.session}, keys...)...) }

func (m tmux) screen() string { return m.run("capture-pane", "-t", m.session, "-p") }

// waitScreen waits until the screen shows all of want.
func (m tmux) waitScreen(what string, want ...string) string {
	m.t.Helper()
	var screen string
	eventually(m.t, 20*time.Second, what, func() (bool, string) {
		screen = m.screen()
		for _, w := range want {
			if !strings.Contains(screen, w) {
				return false, screen
			}
		}
		return true, screen
	})
	return screen
}

// TestTUI lists Pods in the terminal UI, filters them, describes one, opens its logs and finds a
// line it wrote, and deletes it after confirming; it vanishes from the table and from
// `minik8s get pods`.
func TestTUI(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is not installed (apt-get install tmux)")
	}
	ns := namespace(t)
	for _, name := range []string{"tui-a", "tui-b"} {
		applyText(t, ns, fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n    - name: c\n      image: busybox:latest\n      command: [\"sh\", \"-c\", \"echo hello from %s; exec sleep 600\"]\n", name, name))
		waitPod(t, ns, name, 60*time.Second, "to run", running)
	}
	m := tmux{t: t, session: "minik8s-e2e-tui"}
	_ = exec.Command("tmux", "kill-session", "-t", m.session).Run()
	m.run("new-session", "-d", "-s", m.session, "-x", "120", "-y", "30",
		fmt.Sprintf("MINIK8S_CONFIG=%s %s tui -n %s", env.config, env.bin, ns))
	t.Cleanup(func() { _ = exec.Command("tmux", "kill-session", "-t", m.session).Run() })

	m.waitScreen("the pods table", "kind:pods", "rows:2", "tui-a", "tui-b", "Running", "nodes:", " ready", "user:admin")
	m.keys("/", "tui-b", "Enter")
	eventually(t, 20*time.Second, "the filter to keep only tui-b", func() (bool, string) {
		s := m.screen()
		return strings.Contains(s, "tui-b") && !strings.Contains(s, "tui-a"), s
	})
	m.keys("d")
	m.waitScreen("the description of tui-b", "Name:", "tui-b", "Namespace:", ns)
	m.keys("Escape")
	m.waitScreen("the table again", "NAME", "READY", "tui-b")

	// Its logs, followed through the API, with the line it wrote; a search finds it.
	m.keys("l")
	m.waitScreen("the logs of tui-b", "Logs pod/"+ns+"/tui-b", "hello from tui-b")
	m.keys("/", "hello", "Enter")
	m.waitScreen("the search", "/hello (1 lines)")
	m.keys("Escape") // clears the search
	eventually(t, 20*time.Second, "the search to clear", func() (bool, string) {
		s := m.screen()
		return !strings.Contains(s, "/hello (") && strings.Contains(s, "Logs pod/"), s
	})
	m.keys("Escape") // back to the table
	m.waitScreen("the table after the logs", "NAME", "READY", "tui-b", "filter:/tui-b")
	m.keys("C-d")
	m.waitScreen("a confirmation", "tui-b")
	m.keys("y")
	row := regexp.MustCompile(`(?m)^tui-b\s`)
	eventually(t, 30*time.Second, "tui-b to vanish from the table", func() (bool, string) {
		s := m.screen()
		return !row.MatchString(s), s
	})
	eventually(t, 30*time.Second, "tui-b to vanish from get pods", func() (bool, string) {
		r := minik8s(t, "get", "pods", "-n", ns)
		return !strings.Contains(r.stdout, "tui-b") && strings.Contains(r.stdout, "tui-a"), r.String()
	})
	m.keys("q")
}
