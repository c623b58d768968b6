package server

import (
	"log/slog"
	"time"
)

// DefaultMaxMessageSize is the default limit, in bytes, on received and
// sent messages: 64 MiB, room for a 20 MiB KV value and then some. The
// Python client uses the same limit.
const DefaultMaxMessageSize = 64 << 20

// DefaultKeepaliveMinTime is the default shortest interval at which the
// server accepts client keepalive pings. The Python client pings every 30
// seconds by default, well above it, so the server never answers with a
// too_many_pings GOAWAY.
const DefaultKeepaliveMinTime = 10 * time.Second

// DefaultStopTimeout is how long [Server.GracefulStop] waits for calls in
// flight before it cancels them.
const DefaultStopTimeout = 10 * time.Second

type options struct {
	maxMessageSize   int
	keepaliveMinTime time.Duration
	stopTimeout      time.Duration
	logger           *slog.Logger
}

func defaultOptions() options {
	return options{
		maxMessageSize:   DefaultMaxMessageSize,
		keepaliveMinTime: DefaultKeepaliveMinTime,
		stopTimeout:      DefaultStopTimeout,
		logger:           slog.Default(),
	}
}

// An Option configures a [Server].
type Option interface {
	apply(*options)
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// MaxMessageSize sets the limit, in bytes, on messages the server receives
// and sends. The default is [DefaultMaxMessageSize]. Values below 1 keep
// the default.
func MaxMessageSize(n int) Option {
	return optionFunc(func(o *options) {
		if n > 0 {
			o.maxMessageSize = n
		}
	})
}

// KeepaliveMinTime sets the shortest interval at which clients may send
// keepalive pings; a client that pings more often is disconnected. The
// default is [DefaultKeepaliveMinTime]. Values below 1 keep the default.
func KeepaliveMinTime(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d > 0 {
			o.keepaliveMinTime = d
		}
	})
}

// StopTimeout sets how long [Server.GracefulStop] waits for calls in
// flight. The default is [DefaultStopTimeout]. Values below 1 keep the
// default.
func StopTimeout(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d > 0 {
			o.stopTimeout = d
		}
	})
}

// Logger sets the logger for recovered panics and server events. The
// default is [slog.Default]. A nil logger keeps the default.
func Logger(l *slog.Logger) Option {
	return optionFunc(func(o *options) {
		if l != nil {
			o.logger = l
		}
	})
}
