package server

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"strings"
	"sync"
)

// requestIDKey is the context key of a call's request id.
type requestIDKey struct{}

// lazyID is a request id made the first time it is asked for, so that
// calls whose id nobody reads do not pay for it.
type lazyID struct {
	once sync.Once
	id   string
}

func (l *lazyID) get() string {
	l.once.Do(func() { l.id = NewRequestID() })
	return l.id
}

// withRequestID returns a copy of ctx with a request id of its own.
func withRequestID(ctx context.Context) context.Context {
	return context.WithValue(ctx, requestIDKey{}, &lazyID{})
}

// RequestID returns the id of the call of ctx: 26 lowercase base-32
// characters, as Mattermost's request ids, the same for every use within
// one call. Outside a call of a [Server] it returns "".
func RequestID(ctx context.Context) string {
	if l, ok := ctx.Value(requestIDKey{}).(*lazyID); ok {
		return l.get()
	}
	return ""
}

// NewRequestID returns a new request id: 16 random bytes as 26 lowercase
// base-32 characters, the form of Mattermost's request ids.
func NewRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}
