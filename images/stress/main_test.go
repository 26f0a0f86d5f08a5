package main

import "testing"

func TestQuantities(t *testing.T) {
	for in, want := range map[string]int64{"500m": 500, "1": 1000, "1.5": 1500, "0": 0, "2500m": 2500} {
		if got, err := parseCPU(in); err != nil || got != want {
			t.Errorf("parseCPU(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "-1", "5mm", "1.5m"} {
		if _, err := parseCPU(bad); err == nil {
			t.Errorf("parseCPU(%q) accepted", bad)
		}
	}
	for in, want := range map[string]int64{"64Mi": 64 << 20, "1Gi": 1 << 30, "100M": 100e6, "1k": 1000, "4096": 4096, "0": 0, "1.5Ki": 1536} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "Mi", "lots", "-1Mi"} {
		if _, err := parseBytes(bad); err == nil {
			t.Errorf("parseBytes(%q) accepted", bad)
		}
	}
}

func TestParseLoad(t *testing.T) {
	base := load{millis: 100, bytes: 0}
	cases := []struct {
		in   string
		want load
		bad  bool
	}{
		{"", base, false},
		{"cpu=300m", load{300, 0}, false},
		{"cpu=1.5 memory=64Mi\n", load{1500, 64 << 20}, false},
		{"memory=1Ki", load{100, 1024}, false},
		{"cpu=lots", base, true},
		{"disk=1", base, true},
		{"cpu", base, true},
	}
	for _, c := range cases {
		got, err := parseLoad(c.in, base)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("parseLoad(%q) = %+v, %v; want %+v, error %v", c.in, got, err, c.want, c.bad)
		}
	}
}
