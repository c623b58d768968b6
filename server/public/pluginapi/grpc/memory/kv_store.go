package memory

import (
	"bytes"
	"math"
	"slices"
)

// This file holds the state of the KV domain; kv.go holds its handlers.

// kvEntry is a stored value and its expiry time in milliseconds since the
// Unix epoch; 0 means it never expires.
type kvEntry struct {
	value    []byte
	expireAt int64
}

func (e kvEntry) expired(nowMillis int64) bool {
	return e.expireAt != 0 && e.expireAt <= nowMillis
}

// kvStore is the plugin's key-value store. Its methods do not lock: the
// Backend's mutex guards it.
type kvStore map[string]kvEntry

// lookup returns the live value of key; an expired entry is dropped.
func (s kvStore) lookup(key string, now int64) ([]byte, bool) {
	e, ok := s[key]
	if !ok {
		return nil, false
	}
	if e.expired(now) {
		delete(s, key)
		return nil, false
	}
	return e.value, true
}

// store stores a copy of value under key, or deletes key when value is nil.
func (s kvStore) store(key string, value []byte, expireInSeconds int64, now int64) {
	if value == nil {
		delete(s, key)
		return
	}
	s[key] = kvEntry{value: bytes.Clone(value), expireAt: expiryTime(now, expireInSeconds)}
}

// liveKeys returns the keys that have not expired, in ascending order.
func (s kvStore) liveKeys(now int64) []string {
	keys := make([]string, 0, len(s))
	for k, e := range s {
		if !e.expired(now) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// expiryTime returns when a value stored at now (in milliseconds) expires,
// given its lifetime in seconds: 0 for never when the lifetime is 0 or
// less. A lifetime past the end of int64 milliseconds is clamped there, so
// that a huge lifetime means "practically never" instead of overflowing
// into the past.
func expiryTime(now, expireInSeconds int64) int64 {
	if expireInSeconds <= 0 {
		return 0
	}
	if expireInSeconds > (math.MaxInt64-now)/1000 {
		return math.MaxInt64
	}
	return now + expireInSeconds*1000
}
