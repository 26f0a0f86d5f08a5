// Command minik8s-cni is the node's CNI plugin on its own: the same code the minik8s binary runs
// under that name, without the rest of minik8s, so that every CNI call starts in a few
// milliseconds. Install it beside minik8s; the kubelet links it into the node's plugin directory.
package main

import "github.com/minik8s/minik8s/kubelet/network/cniplugin"

func main() { cniplugin.Main() }
