package fake

import (
	"context"
	"strings"
	"testing"
)

// The fake refuses what it cannot judge or what iptables would refuse, and changes nothing
// when it does.
func TestRestoreRefuses(t *testing.T) {
	tests := []struct{ name, rules, want string }{
		{"unknown match", "*nat\n:A - [0:0]\n-A A -m owner --uid-owner 0 -j RETURN\nCOMMIT\n", "not modelled"},
		{"unknown option", "*nat\n:A - [0:0]\n-A A -i eth0 -j RETURN\nCOMMIT\n", "not modelled"},
		{"missing chain", "*nat\n-A A -j RETURN\nCOMMIT\n", "does not exist"},
		{"jump to nowhere", "*nat\n:A - [0:0]\n-A A -j B\nCOMMIT\n", "no such chain"},
		{"--dport without -m", "*nat\n:A - [0:0]\n-A A -p tcp --dport 80 -j RETURN\nCOMMIT\n", "--dport without"},
		{"long chain name", "*nat\n:MINIK8S-SVC-ABCDEFGHIJKLMNOPQ - [0:0]\nCOMMIT\n", "longer than 28"},
		{"delete a referenced chain", "*nat\n:A - [0:0]\n:B - [0:0]\n-A A -j B\n-X B\nCOMMIT\n", "referenced"},
		{"delete a rule that is not there", "*nat\n-D PREROUTING -j RETURN\nCOMMIT\n", "does a matching rule exist"},
		{"REJECT in nat", "*nat\n:A - [0:0]\n-A A -j REJECT\nCOMMIT\n", "filter"},
		{"tcp-reset for udp", "*filter\n:A - [0:0]\n-A A -p udp -j REJECT --reject-with tcp-reset\nCOMMIT\n", "only for -p tcp"},
		{"no COMMIT", "*nat\n:A - [0:0]\n", "not committed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ft := NewTables()
			err := ft.Restore(context.Background(), []byte(tc.rules))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			if ft.Restores() != 0 || len(ft.Chains("nat")) != 4 {
				t.Errorf("a failed restore changed the tables: %v", ft.Chains("nat"))
			}
		})
	}
}

func TestTraceRefusesDNATOutsideItsHooks(t *testing.T) {
	ft := NewTables()
	rules := "*nat\n:A - [0:0]\n-A POSTROUTING -j A\n-A A -p tcp -m tcp -j DNAT --to-destination 10.0.0.1:80\nCOMMIT\n"
	if err := ft.Restore(context.Background(), []byte(rules)); err != nil {
		t.Fatal(err)
	}
	if _, err := ft.Trace(Packet{Src: "10.244.0.2", Dst: "10.0.0.9", Port: 80}); err == nil || !strings.Contains(err.Error(), "DNAT reached from POSTROUTING") {
		t.Errorf("err %v", err)
	}
}

func TestSaveRestoresAsItWasWritten(t *testing.T) {
	ft := NewTables()
	ctx := context.Background()
	rules := "*nat\n:A - [0:0]\n-A PREROUTING -m comment --comment \"a \\\"b\\\" c\" -j A\nCOMMIT\n"
	if err := ft.Restore(ctx, []byte(rules)); err != nil {
		t.Fatal(err)
	}
	saved, _ := ft.Save(ctx, "nat")
	var spec string
	for _, l := range strings.Split(string(saved), "\n") {
		if strings.HasPrefix(l, "-A PREROUTING ") {
			spec = strings.TrimPrefix(l, "-A PREROUTING ")
		}
	}
	if err := ft.Restore(ctx, []byte("*nat\n-D PREROUTING "+spec+"\n-X A\nCOMMIT\n")); err != nil {
		t.Fatalf("deleting what Save printed: %v\n%s", err, saved)
	}
	if len(ft.Chains("nat")) != 4 {
		t.Errorf("chains left: %v", ft.Chains("nat"))
	}
}
