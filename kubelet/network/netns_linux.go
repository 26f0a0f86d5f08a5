//go:build linux

package network

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// createNetNS makes a new network namespace and keeps it alive by bind-mounting it
// onto path, which must not exist yet. It does what `ip netns add` does, without
// `ip netns` and without a private mount namespace: a goroutine locked to its OS
// thread unshares the thread's network namespace, bind-mounts
// /proc/self/task/<tid>/ns/net onto path in the process's own mount namespace, and
// returns the thread to the namespace it came from before unlocking it. (Simply
// ending the goroutine locked is not enough: on the main thread Go keeps the thread,
// and the pod's namespace would live as long as the process.)
func createNetNS(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return fmt.Errorf("create netns file: %w", err)
	}
	f.Close()

	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		err := withNewNetNS(func(tid int) error {
			src := fmt.Sprintf("/proc/self/task/%d/ns/net", tid)
			if err := unix.Mount(src, path, "none", unix.MS_BIND, ""); err != nil {
				return fmt.Errorf("bind-mount %s onto %s: %w", src, path, err)
			}
			return nil
		})
		if !errors.Is(err, errThreadTainted) {
			runtime.UnlockOSThread()
		} // else: stay locked, so that the thread ends with this goroutine
		done <- err
	}()
	if err := <-done; err != nil {
		_ = removeNetNS(path)
		return err
	}
	return nil
}

var errThreadTainted = errors.New("could not return the thread to its network namespace")

// withNewNetNS runs fn on the calling (locked) thread inside a new network
// namespace, then puts the thread back into its own. If that fails the error wraps
// errThreadTainted and the thread must not be unlocked.
func withNewNetNS(fn func(tid int) error) error {
	tid := unix.Gettid()
	orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", tid))
	if err != nil {
		return fmt.Errorf("open the thread's network namespace: %w", err)
	}
	defer orig.Close()
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("unshare network namespace: %w", err)
	}
	fnErr := fn(tid)
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		return errors.Join(fnErr, fmt.Errorf("%w: %w", errThreadTainted, err))
	}
	return fnErr
}

// isNetNS reports whether path is a mounted network namespace (an nsfs file), as
// opposed to a missing file or the plain file left behind after a reboot.
func isNetNS(path string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return false
	}
	return st.Type == unix.NSFS_MAGIC
}

// removeNetNS unmounts path (as often as it is mounted) and removes the file. A
// missing path is not an error.
func removeNetNS(path string) error {
	for i := 0; i < 16 && isNetNS(path); i++ {
		if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("unmount netns %s: %w", path, err)
		}
	}
	if isNetNS(path) {
		return fmt.Errorf("unmount netns %s: still mounted", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove netns file: %w", err)
	}
	return nil
}

// ensureSharedMountDir makes dir a mount point with shared propagation, as `ip netns`
// does with /run/netns and containernetworking's testutils with their netns dir, so
// that netns bind mounts made in it reach mount namespaces that copied it (and their
// unmounts do too). A dir that is not a mount point yet is bind-mounted onto itself
// and given a peer group of its own; an existing mount point is only made shared.
func ensureSharedMountDir(dir string) error {
	mi, err := findMount(dir)
	if err != nil {
		return err
	}
	if mi == nil {
		if err := unix.Mount(dir, dir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind-mount %s onto itself: %w", dir, err)
		}
		// Leave the parent's peer group (if it was shared) so that netns mounts
		// here do not propagate back onto the parent, then start a group of our own.
		if err := unix.Mount("", dir, "none", unix.MS_PRIVATE, ""); err != nil {
			return fmt.Errorf("make %s private: %w", dir, err)
		}
	} else if mi.shared {
		return nil
	}
	if err := unix.Mount("", dir, "none", unix.MS_SHARED, ""); err != nil {
		return fmt.Errorf("make %s a shared mount: %w", dir, err)
	}
	return nil
}

// unmountDir undoes ensureSharedMountDir's bind mount when dir is a mount point.
func unmountDir(dir string) error {
	for i := 0; i < 16; i++ {
		mi, err := findMount(dir)
		if err != nil {
			return err
		}
		if mi == nil {
			return nil
		}
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("unmount %s: %w", dir, err)
		}
	}
	return fmt.Errorf("unmount %s: still mounted", dir)
}

type mountInfo struct {
	shared bool
}

// findMount returns the topmost mount at exactly dir from /proc/self/mountinfo, or nil.
func findMount(dir string) (*mountInfo, error) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, err
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var found *mountInfo
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		// 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
		fields := strings.Fields(sc.Text())
		if len(fields) < 7 || unescapeMountPath(fields[4]) != real {
			continue
		}
		mi := &mountInfo{}
		for _, opt := range fields[6:] {
			if opt == "-" {
				break
			}
			if strings.HasPrefix(opt, "shared:") {
				mi.shared = true
			}
		}
		found = mi // later lines are mounted on top of earlier ones
	}
	return found, sc.Err()
}

// mountPoints lists the mount points at or below dir, from /proc/self/mountinfo.
func mountPoints(dir string) ([]string, error) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMountPath(fields[4])
		if mp == real || strings.HasPrefix(mp, real+"/") {
			out = append(out, mp)
		}
	}
	return out, nil
}

// unescapeMountPath undoes mountinfo's octal escapes (\040 for a space, ...).
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			o := s[i+1 : i+4]
			if o[0] >= '0' && o[0] <= '3' && o[1] >= '0' && o[1] <= '7' && o[2] >= '0' && o[2] <= '7' {
				b.WriteByte((o[0]-'0')<<6 | (o[1]-'0')<<3 | (o[2] - '0'))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
