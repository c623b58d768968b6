package ids

import (
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := New()
		if len(id) != Len || strings.Trim(id, "ybndrfg8ejkmcpqxot1uwisza345h769") != "" || seen[id] {
			t.Fatalf("New() = %q; want a new %d-character id in Mattermost's alphabet", id, Len)
		}
		seen[id] = true
	}
}
