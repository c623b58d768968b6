package memory

// This file holds the state of the KV domain: the Backend's store.KV, in
// memory by default or shared ([WithKV]); kv.go holds its handlers.

import (
	"time"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/store"
)

// WithKV sets the store of every plugin's KV values, such as the
// PostgreSQL store that the nodes of a cluster share. A nil store keeps
// the default: a [store.MemoryKV] on the Backend's [Clock], which the
// state file (SaveState, LoadState) saves and loads. A shared store keeps
// its values itself: the state file then holds no KV values, and loading
// one ignores its KV values. The Backend's mutex is not held while the
// store is called, so that a slow store does not hold up other domains.
func WithKV(kv store.KV) Option {
	return optionFunc(func(b *Backend) {
		if kv != nil {
			b.kv = kv
		}
	})
}

// defaultKV returns the in-memory store of a Backend without [WithKV],
// whose clock is the Backend's.
func defaultKV(b *Backend) store.KV {
	return store.NewMemoryKV(func() time.Time { return b.now() })
}

// memoryKV returns the Backend's store when it is the in-memory one.
func (b *Backend) memoryKV() (*store.MemoryKV, bool) {
	m, ok := b.kv.(*store.MemoryKV)
	return m, ok
}
