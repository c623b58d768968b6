package supervisor

import (
	"bytes"
	"strings"
	"testing"
)

func TestLineWriter(t *testing.T) {
	long := strings.Repeat("x", maxLogLine+10)
	tests := []struct {
		name   string
		writes []string
		want   []string
	}{
		{"lines across writes", []string{"a\nb", "c\n", "d"}, []string{"a", "bc"}},
		{"an empty line", []string{"\n"}, []string{""}},
		{"a long line in pieces", []string{long + "\nz\n"}, []string{long[:maxLogLine], long[maxLogLine:], "z"}},
		{"a long line without its end", []string{long}, []string{long[:maxLogLine]}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			w := &lineWriter{emit: func(line []byte) { got = append(got, string(bytes.Clone(line))) }}
			for _, s := range tc.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("lines = %d %q..., want %d", len(got), first(got), len(tc.want))
			}
			if len(w.buf) > maxLogLine {
				t.Errorf("holds %d bytes, more than %d", len(w.buf), maxLogLine)
			}
		})
	}
}

func first(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return lines[0][:min(len(lines[0]), 20)]
}
