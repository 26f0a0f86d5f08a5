package cniplugin

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/types"
)

// TestMain makes the test binary the plugin when it runs as minik8s-cni, for the
// tests that run it as a CNI runtime would.
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == BinaryName {
		Main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestParseSubnetEnv(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"MINIK8S_SUBNET=10.244.1.0/24\n", "10.244.1.0/24"},
		{"MINIK8S_SUBNET=10.244.1.0/24", "10.244.1.0/24"},
		{"# the node's pod subnet\n\nOTHER=x\n  MINIK8S_SUBNET = 10.244.7.0/24  \n", "10.244.7.0/24"},
		{"MINIK8S_SUBNET=10.244.1.1/24\n", "10.244.1.0/24"}, // Flannel's style: host bits cleared
		{`MINIK8S_SUBNET="10.244.2.0/25"`, "10.244.2.0/25"},
		{"MINIK8S_SUBNET='10.244.2.0/30'", "10.244.2.0/30"},
		{"MINIK8S_SUBNET=10.244.1.0/24\nMINIK8S_SUBNET=10.244.2.0/24\n", "10.244.2.0/24"}, // the last one, as in a shell
		{"MINIK8S_SUBNET=fd00:10:244:1::/64\r\n", "fd00:10:244:1::/64"},
	} {
		got, err := ParseSubnetEnv([]byte(tc.in))
		if err != nil || got.String() != tc.want {
			t.Errorf("ParseSubnetEnv(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
			continue
		}
		if strings.Contains(tc.want, ".") && len(got.IP) != net.IPv4len {
			t.Errorf("ParseSubnetEnv(%q): IP %v is not a 4-byte address", tc.in, []byte(got.IP))
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"", "no MINIK8S_SUBNET=CIDR in it"},
		{"# nothing\nFLANNEL_SUBNET=10.244.1.1/24\n", "no MINIK8S_SUBNET=CIDR in it"},
		{"MINIK8S_SUBNET\n", `line 1: "MINIK8S_SUBNET" is not NAME=VALUE`},
		{"MINIK8S_SUBNET=\n", `MINIK8S_SUBNET="" is not a CIDR`},
		{"MINIK8S_SUBNET=10.244.1.0\n", `MINIK8S_SUBNET="10.244.1.0" is not a CIDR`},
		{"MINIK8S_SUBNET=10.244.1.0/33\n", "is not a CIDR"},
		{"MINIK8S_SUBNET=0.0.0.0/0\n", "would be a default route"},
		{"MINIK8S_SUBNET=::/0\n", "would be a default route"},
		{"MINIK8S_SUBNET=10.244.1.0/31\n", "leaves no addresses for pods"},
		{"MINIK8S_SUBNET=10.244.1.0/24 trailing\n", "is not a CIDR"},
	} {
		got, err := ParseSubnetEnv([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseSubnetEnv(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.want)
		}
	}
}

func TestSubnetFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "subnet.env")
	if _, err := ReadSubnetFile(path); err == nil || !strings.Contains(err.Error(), path+" does not exist") {
		t.Fatalf("ReadSubnetFile of a missing file: %v", err)
	}
	_, subnet, _ := net.ParseCIDR("10.244.9.0/24")
	if err := os.WriteFile(path, SubnetEnv(subnet), 0o644); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), "\nMINIK8S_SUBNET=10.244.9.0/24\n") {
		t.Fatalf("SubnetEnv wrote %q", data)
	}
	if got, err := ReadSubnetFile(path); err != nil || got.String() != "10.244.9.0/24" {
		t.Fatalf("ReadSubnetFile = %v, %v", got, err)
	}
	if err := os.WriteFile(path, []byte("MINIK8S_SUBNET=nope\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadSubnetFile(path); err == nil || !strings.Contains(err.Error(), "subnet file "+path+": ") {
		t.Fatalf("ReadSubnetFile of a malformed file: %v", err)
	}
}

func TestParseNetConf(t *testing.T) {
	conf, err := ParseNetConf([]byte(`{"cniVersion":"1.0.0","name":"minik8s","type":"minik8s-cni","subnetFile":"/s/subnet.env",
		"dataDir":"/s/ipam","routes":["10.244.0.0/16"],"delegate":{"bridge":"mk8s0","mtu":1400},"somethingElse":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if conf.Name != "minik8s" || conf.CNIVersion != "1.0.0" || conf.Type != BinaryName || conf.SubnetFile != "/s/subnet.env" || conf.DataDir != "/s/ipam" ||
		!reflect.DeepEqual(conf.Routes, []string{"10.244.0.0/16"}) || conf.Delegate["bridge"] != "mk8s0" || conf.Delegate["mtu"] != float64(1400) {
		t.Fatalf("ParseNetConf = %+v", conf)
	}
	for in, want := range map[string]string{
		`{"name":"n"}`:                                    "subnetFile is required",
		`{"name":"n","subnetFile":"subnet.env"}`:          "not an absolute path",
		`{"name":"n","subnetFile":"/s","dataDir":"ipam"}`: `dataDir "ipam" is not an absolute path`,
		`{"name":"n","subnetFile":`:                       "parse network configuration",
		`{"name":"n","subnetFile":"/s","routes":"x"}`:     "parse network configuration",
	} {
		if _, err := ParseNetConf([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseNetConf(%s) = %v, want an error with %q", in, err, want)
		}
	}
}

func testConf() *NetConf {
	return &NetConf{
		NetConf:    types.NetConf{CNIVersion: "1.0.0", Name: "minik8s", Type: BinaryName},
		SubnetFile: "/state/subnet.env",
		DataDir:    "/state/ipam",
		Routes:     []string{"10.244.0.0/16", "10.96.0.0/16", "10.244.0.0/16"},
		Delegate: map[string]any{
			"bridge": "mk8s0", "isGateway": true, "isDefaultGateway": false, "ipMasq": false,
			"hairpinMode": true, "mtu": float64(1400),
		},
	}
}

func TestDelegateConfig(t *testing.T) {
	_, subnet, _ := net.ParseCIDR("10.244.1.0/24")
	conf := testConf()
	data, err := DelegateConfig(conf, subnet)
	if err != nil {
		t.Fatal(err)
	}
	var got, want any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal([]byte(`{
		"cniVersion": "1.0.0", "name": "minik8s", "type": "bridge",
		"bridge": "mk8s0", "isGateway": true, "isDefaultGateway": false, "ipMasq": false, "hairpinMode": true, "mtu": 1400,
		"ipam": {
			"type": "host-local",
			"ranges": [[{"subnet": "10.244.1.0/24", "gateway": "10.244.1.1"}]],
			"routes": [{"dst": "10.244.0.0/16", "gw": "10.244.1.1"}, {"dst": "10.96.0.0/16", "gw": "10.244.1.1"}],
			"dataDir": "/state/ipam"
		}
	}`), &want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("DelegateConfig:\n%s\nwant\n%v", data, want)
	}
	if len(conf.Delegate) != 6 {
		t.Fatalf("DelegateConfig changed the configuration's delegate: %v", conf.Delegate)
	}

	// Minimal: no routes, no dataDir, defaults for the safety switches; the
	// configuration's prevResult goes to the delegate.
	min := &NetConf{NetConf: types.NetConf{CNIVersion: "0.4.0", Name: "n", RawPrevResult: map[string]any{"cniVersion": "0.4.0", "ips": []any{}}}, SubnetFile: "/s"}
	data, err = DelegateConfig(min, subnet)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	ipam, _ := m["ipam"].(map[string]any)
	if m["type"] != "bridge" || m["cniVersion"] != "0.4.0" || m["isDefaultGateway"] != false || m["ipMasq"] != false ||
		m["prevResult"] == nil || ipam == nil || ipam["dataDir"] != nil || len(ipam["routes"].([]any)) != 0 {
		t.Fatalf("minimal DelegateConfig:\n%s", data)
	}

	_, v6, _ := net.ParseCIDR("fd00:10:244:1::/64")
	for _, tc := range []struct {
		name   string
		change func(*NetConf)
		subnet *net.IPNet
		want   string
	}{
		{"default route", func(c *NetConf) { c.Routes = append(c.Routes, "0.0.0.0/0") }, subnet, `route "0.0.0.0/0" would be a default route`},
		{"default route v6", func(c *NetConf) { c.Routes = []string{"::/0"} }, v6, `route "::/0" would be a default route`},
		{"bad route", func(c *NetConf) { c.Routes = []string{"10.96.0.0"} }, subnet, `route "10.96.0.0"`},
		{"other family", func(c *NetConf) { c.Routes = []string{"fd00::/8"} }, subnet, "IP family"},
		{"default gateway", func(c *NetConf) { c.Delegate["isDefaultGateway"] = true }, subnet, "isDefaultGateway true"},
		{"masquerade", func(c *NetConf) { c.Delegate["ipMasq"] = true }, subnet, "ipMasq true"},
		{"masquerade as a string", func(c *NetConf) { c.Delegate["ipMasq"] = "false" }, subnet, "ipMasq false"},
		{"other plugin", func(c *NetConf) { c.Delegate["type"] = "macvlan" }, subnet, `delegate type macvlan: only "bridge"`},
		{"own ipam", func(c *NetConf) { c.Delegate["ipam"] = map[string]any{"type": "dhcp"} }, subnet, `delegate may not set "ipam"`},
		{"own name", func(c *NetConf) { c.Delegate["name"] = "x" }, subnet, `delegate may not set "name"`},
		{"no subnet", func(c *NetConf) {}, nil, "no subnet"},
		{"everything", func(c *NetConf) {}, &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}, "would be a default route"},
	} {
		c := testConf()
		tc.change(c)
		if data, err := DelegateConfig(c, tc.subnet); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: DelegateConfig = %s, %v; want an error with %q", tc.name, data, err, tc.want)
		}
	}
	// "type": "bridge" is allowed; IPv6 works.
	c := testConf()
	c.Delegate["type"] = "bridge"
	c.Routes = []string{"fd00:10:244::/48"}
	if data, err := DelegateConfig(c, v6); err != nil || !strings.Contains(string(data), `"gateway":"fd00:10:244:1::1"`) {
		t.Fatalf("IPv6 DelegateConfig = %s, %v", data, err)
	}
}

func TestPrevResultSubnet(t *testing.T) {
	in := `{"cniVersion":"1.0.0","name":"n","prevResult":{"cniVersion":"1.0.0","interfaces":[{"name":"eth0"}],
		"ips":[{"interface":0,"address":"10.244.5.7/24","gateway":"10.244.5.1"}]}}`
	if got := prevResultSubnet([]byte(in)); got == nil || got.String() != "10.244.5.0/24" {
		t.Fatalf("prevResultSubnet = %v", got)
	}
	if got := prevResultSubnet([]byte(`{"cniVersion":"1.0.0","name":"n"}`)); got != nil {
		t.Fatalf("prevResultSubnet without prevResult = %v", got)
	}
	if got := placeholderSubnet(testConf()); got.String() != "192.0.2.0/24" {
		t.Fatalf("placeholderSubnet = %v", got)
	}
	if got := placeholderSubnet(&NetConf{Routes: []string{"fd00::/8"}}); got.String() != "2001:db8::/64" {
		t.Fatalf("placeholderSubnet for IPv6 routes = %v", got)
	}
}

// The plugin as a runtime runs it: this test binary as minik8s-cni, with a fake
// bridge (a shell script in CNI_PATH) that records what it is given.
func TestPluginBinary(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs a shell")
	}
	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	plugin := filepath.Join(dir, BinaryName)
	if err := os.Symlink(exe, plugin); err != nil {
		t.Fatal(err)
	}
	cniPath := filepath.Join(dir, "bin")
	_ = os.Mkdir(cniPath, 0o755)
	result := `{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/x"}],"ips":[{"interface":0,"address":"10.244.1.2/24","gateway":"10.244.1.1"}],"routes":[{"dst":"10.244.0.0/16","gw":"10.244.1.1"}],"dns":{}}`
	fake := "#!/bin/sh\necho \"$CNI_COMMAND $CNI_CONTAINERID $CNI_IFNAME $CNI_NETNS\" >> " + dir + "/log\ncat > " + dir + "/stdin.$CNI_COMMAND\n" +
		"if [ \"$CNI_COMMAND\" = ADD ]; then cat " + dir + "/result; fi\n"
	if err := os.WriteFile(filepath.Join(cniPath, "bridge"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "result"), []byte(result), 0o644); err != nil {
		t.Fatal(err)
	}
	subnetFile := filepath.Join(dir, "subnet.env")
	if err := os.WriteFile(subnetFile, []byte("MINIK8S_SUBNET=10.244.1.0/24\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := `{"cniVersion":"1.0.0","name":"minik8s","type":"minik8s-cni","subnetFile":"` + subnetFile + `","dataDir":"/state/ipam",` +
		`"routes":["10.244.0.0/16","10.96.0.0/16"],"delegate":{"bridge":"mk8s0","isGateway":true,"hairpinMode":true}}`
	run := func(cmd, stdin string) (string, error) {
		c := exec.Command(plugin)
		c.Env = append(os.Environ(), "CNI_COMMAND="+cmd, "CNI_CONTAINERID=pod-1", "CNI_NETNS=/var/run/netns/pod-1", "CNI_IFNAME=eth0", "CNI_PATH="+cniPath)
		c.Stdin = strings.NewReader(stdin)
		out, err := c.Output()
		return string(out), err
	}

	out, err := run("VERSION", `{"cniVersion":"1.0.0"}`)
	if err != nil {
		t.Fatalf("VERSION: %v %s", err, out)
	}
	var vi struct {
		CNIVersion        string   `json:"cniVersion"`
		SupportedVersions []string `json:"supportedVersions"`
	}
	if err := json.Unmarshal([]byte(out), &vi); err != nil || !reflect.DeepEqual(vi.SupportedVersions, []string{"0.4.0", "1.0.0"}) {
		t.Fatalf("VERSION answered %s (%v)", out, err)
	}

	out, err = run("ADD", conf)
	if err != nil {
		t.Fatalf("ADD: %v %s", err, out)
	}
	var res, want any
	_ = json.Unmarshal([]byte(out), &res)
	_ = json.Unmarshal([]byte(result), &want)
	if !reflect.DeepEqual(res, want) {
		t.Fatalf("ADD printed %s, want the delegate's result %s", out, result)
	}
	stdin, _ := os.ReadFile(filepath.Join(dir, "stdin.ADD"))
	var d map[string]any
	if err := json.Unmarshal(stdin, &d); err != nil {
		t.Fatalf("bridge got %q: %v", stdin, err)
	}
	ipam, _ := d["ipam"].(map[string]any)
	if d["type"] != "bridge" || d["name"] != "minik8s" || d["bridge"] != "mk8s0" || d["isDefaultGateway"] != false || d["ipMasq"] != false ||
		ipam == nil || ipam["type"] != "host-local" || !strings.Contains(string(stdin), `"ranges":[[{"subnet":"10.244.1.0/24","gateway":"10.244.1.1"}]]`) {
		t.Fatalf("bridge got %s", stdin)
	}

	// CHECK and DEL pass prevResult along; DEL works without the subnet file.
	withPrev := strings.TrimSuffix(conf, "}") + `,"prevResult":` + result + `}`
	if out, err := run("CHECK", withPrev); err != nil {
		t.Fatalf("CHECK: %v %s", err, out)
	}
	if stdin, _ := os.ReadFile(filepath.Join(dir, "stdin.CHECK")); !strings.Contains(string(stdin), `"prevResult"`) {
		t.Fatalf("bridge got no prevResult on CHECK: %s", stdin)
	}
	if err := os.Remove(subnetFile); err != nil {
		t.Fatal(err)
	}
	if out, err := run("DEL", withPrev); err != nil {
		t.Fatalf("DEL without the subnet file: %v %s", err, out)
	}
	if stdin, _ := os.ReadFile(filepath.Join(dir, "stdin.DEL")); !strings.Contains(string(stdin), `"subnet":"10.244.1.0/24"`) {
		t.Fatalf("DEL without the subnet file did not take the subnet from prevResult: %s", stdin)
	}
	if out, err := run("DEL", conf); err != nil {
		t.Fatalf("DEL without the subnet file and prevResult: %v %s", err, out)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "log"))
	if want := "ADD pod-1 eth0 /var/run/netns/pod-1\nCHECK pod-1 eth0 /var/run/netns/pod-1\nDEL pod-1 eth0 /var/run/netns/pod-1\nDEL pod-1 eth0 /var/run/netns/pod-1\n"; string(log) != want {
		t.Fatalf("bridge was run as:\n%s\nwant\n%s", log, want)
	}

	// Errors are CNI errors on stdout with a non-zero exit; bridge is not run.
	_ = os.Remove(filepath.Join(dir, "log"))
	for _, tc := range []struct{ stdin, want string }{
		{conf, "subnet.env does not exist"},
		{strings.Replace(conf, `"10.96.0.0/16"`, `"0.0.0.0/0"`, 1), "would be a default route"},
		{strings.Replace(conf, `"isGateway":true`, `"isDefaultGateway":true`, 1), "no default route and no NAT"},
		{strings.Replace(conf, `"cniVersion":"1.0.0"`, `"cniVersion":"0.3.1"`, 1), "incompatible CNI versions"},
	} {
		_ = os.WriteFile(subnetFile, []byte("MINIK8S_SUBNET=10.244.1.0/24\n"), 0o644)
		if tc.want == "subnet.env does not exist" {
			_ = os.Remove(subnetFile)
		}
		out, err := run("ADD", tc.stdin)
		var e types.Error
		if err == nil || json.Unmarshal([]byte(out), &e) != nil || !strings.Contains(e.Msg+" "+e.Details, tc.want) {
			t.Errorf("ADD: %v, printed %s; want a CNI error with %q", err, out, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "log")); err == nil {
		t.Error("bridge was run for a configuration that was refused")
	}

	// A delegate that hands out a default route is undone and refused.
	_ = os.WriteFile(subnetFile, []byte("MINIK8S_SUBNET=10.244.1.0/24\n"), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "result"), []byte(strings.Replace(result, `"10.244.0.0/16"`, `"0.0.0.0/0"`, 1)), 0o644)
	if out, err := run("ADD", conf); err == nil || !strings.Contains(out, "default route") {
		t.Fatalf("ADD with a delegate that made a default route: %v %s", err, out)
	}
	if log, _ := os.ReadFile(filepath.Join(dir, "log")); string(log) != "ADD pod-1 eth0 /var/run/netns/pod-1\nDEL pod-1 eth0 /var/run/netns/pod-1\n" {
		t.Fatalf("bridge was run as:\n%s", log)
	}
}
