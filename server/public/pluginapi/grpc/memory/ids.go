package memory

import (
	"crypto/rand"
	"encoding/base32"
)

// idEncoding is the base32 alphabet of Mattermost ids.
var idEncoding = base32.NewEncoding("ybndrfg8ejkmcpqxot1uwisza345h769").WithPadding(base32.NoPadding)

// idLen is the length of every Mattermost id.
const idLen = 26

// newID returns a random 26-character id, made as model.NewId makes it:
// 16 random bytes in Mattermost's base32 alphabet.
func newID() string {
	var b [16]byte
	// crypto/rand.Read never fails on supported platforms (Go 1.24+).
	_, _ = rand.Read(b[:])
	return idEncoding.EncodeToString(b[:])
}

// isValidID reports whether s has the form of a Mattermost id.
func isValidID(s string) bool {
	if len(s) != idLen {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
