package server

import (
	"context"
	"sync"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/ids"
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
	l.once.Do(func() { l.id = ids.New() })
	return l.id
}

// withRequestID returns a copy of ctx with a request id of its own.
func withRequestID(ctx context.Context) context.Context {
	return context.WithValue(ctx, requestIDKey{}, &lazyID{})
}

// RequestID returns the id of the call of ctx, a Mattermost id as
// Mattermost's request ids are ([ids.New]), the same for every use within
// one call. Outside a call of a [Server] it returns "".
func RequestID(ctx context.Context) string {
	if l, ok := ctx.Value(requestIDKey{}).(*lazyID); ok {
		return l.get()
	}
	return ""
}
