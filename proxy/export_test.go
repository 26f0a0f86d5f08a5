package proxy

// Internals the external tests (package proxy_test) use.

// ModeForKernel is ModeFor on a kernel that has IPVS or not.
var ModeForKernel = modeFor

// NewBoundedRunner exposes the coalescing runner.
var NewBoundedRunner = newBoundedRunner
