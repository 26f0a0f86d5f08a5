package kubelet

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestSeekTail(t *testing.T) {
	tests := []struct {
		name    string
		content string
		n       int
		want    string
	}{
		{"0 lines", "a\nb\nc\n", 0, ""},
		{"1 line", "a\nb\nc\n", 1, "c\n"},
		{"2 lines", "a\nb\nc\n", 2, "b\nc\n"},
		{"3 lines, the whole file", "a\nb\nc\n", 3, "a\nb\nc\n"},
		{"more lines than the file has", "a\nb\nc\n", 10, "a\nb\nc\n"},
		{"no trailing newline, 0 lines", "a\nb\nc", 0, ""},
		{"no trailing newline, 1 line", "a\nb\nc", 1, "c"},
		{"no trailing newline, 2 lines", "a\nb\nc", 2, "b\nc"},
		{"no trailing newline, more lines", "a\nb\nc", 5, "a\nb\nc"},
		{"one line", "only\n", 1, "only\n"},
		{"one line without newline", "only", 3, "only"},
		{"empty lines count", "a\n\n\n", 2, "\n\n"},
		{"long lines", "first line\nsecond line\nthird line\n", 2, "second line\nthird line\n"},
		{"empty file", "", 1, ""},
		{"empty file, 0 lines", "", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "0.log")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := seekTail(f, tt.n); err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(f)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("tail %d of %q = %q, want %q", tt.n, tt.content, got, tt.want)
			}
		})
	}
}
