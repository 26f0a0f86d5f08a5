//go:build !linux

package proxy

// NewKernelIPVS returns ErrNoIPVS: IPVS is Linux's.
func NewKernelIPVS() (IPVS, error) { return nil, ErrNoIPVS }

func cleanupKernelIPVS() error { return nil }
