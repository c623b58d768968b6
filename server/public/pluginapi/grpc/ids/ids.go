// Package ids makes Mattermost ids: 26 characters, 16 random bytes in
// Mattermost's base32 alphabet, as model.NewId makes them. Object ids and
// request ids have this form alike.
package ids

import (
	"crypto/rand"
	"encoding/base32"
)

// Len is the length of every Mattermost id.
const Len = 26

// encoding is the base32 alphabet of Mattermost ids.
var encoding = base32.NewEncoding("ybndrfg8ejkmcpqxot1uwisza345h769").WithPadding(base32.NoPadding)

// New returns a new random id.
func New() string {
	var b [16]byte
	// crypto/rand.Read never fails on supported platforms (Go 1.24+).
	_, _ = rand.Read(b[:])
	return encoding.EncodeToString(b[:])
}
