//go:build !linux

package network

import "errors"

var errNotLinux = errors.New("pod networking needs Linux network namespaces")

func createNetNS(string) error             { return errNotLinux }
func isNetNS(string) bool                  { return false }
func removeNetNS(string) error             { return errNotLinux }
func ensureSharedMountDir(string) error    { return errNotLinux }
func unmountDir(string) error              { return nil }
func mountPoints(string) ([]string, error) { return nil, errNotLinux }
