package server

import (
	"log/slog"
	"time"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/auth"
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

// DefaultMaxConcurrentStreams is the default limit on calls in flight on
// one connection; a client queues calls beyond it.
const DefaultMaxConcurrentStreams = 1024

// DefaultMaxHeaderListSize is the default limit, in bytes, on the request
// headers (metadata) of one call.
const DefaultMaxHeaderListSize = 64 << 10

// DefaultConnectionTimeout is how long a new connection may take to send
// its HTTP/2 preface; a connection that sends nothing is closed then.
const DefaultConnectionTimeout = 5 * time.Second

// DefaultMaxConnectionIdle is how long a connection without calls is kept
// before the server closes it with a GOAWAY; a client reconnects on its
// next call. Calls refused for a missing token leave their connection
// idle, so this also bounds how long such a connection stays.
const DefaultMaxConnectionIdle = 5 * time.Minute

// DefaultDrainQuiet is how long no call may be in flight before a
// graceful stop sends its GOAWAY. A client may have started calls that it
// has not yet put on its connection: the Python client, for one, sends
// large messages one after another, with gaps of tens of milliseconds
// between them under load. A GOAWAY sent in such a gap would refuse those
// calls, so the stop waits until the connections have been quiet this long.
const DefaultDrainQuiet = 500 * time.Millisecond

// DefaultDrainMax is the longest a graceful stop waits for the drain quiet
// period before it sends its GOAWAY anyway. Under steady traffic the
// connections are never quiet, and without a bound the stop would serve
// new calls until its timeout and then cancel the calls in flight; with
// it, new calls are refused early (UNAVAILABLE, which a client may retry
// elsewhere), and those in flight get the rest of the stop timeout.
const DefaultDrainMax = time.Second

type options struct {
	maxMessageSize       int
	maxConcurrentStreams uint32
	maxHeaderListSize    uint32
	connectionTimeout    time.Duration
	maxConnectionIdle    time.Duration
	keepaliveMinTime     time.Duration
	stopTimeout          time.Duration
	drainQuiet           time.Duration
	drainMax             time.Duration
	logger               *slog.Logger
	pluginTokens         []auth.PluginToken
	hookStreams          HookStreamHandler
}

func defaultOptions() options {
	return options{
		maxMessageSize:       DefaultMaxMessageSize,
		maxConcurrentStreams: DefaultMaxConcurrentStreams,
		maxHeaderListSize:    DefaultMaxHeaderListSize,
		connectionTimeout:    DefaultConnectionTimeout,
		maxConnectionIdle:    DefaultMaxConnectionIdle,
		keepaliveMinTime:     DefaultKeepaliveMinTime,
		stopTimeout:          DefaultStopTimeout,
		drainQuiet:           DefaultDrainQuiet,
		drainMax:             DefaultDrainMax,
		logger:               slog.Default(),
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

// MaxConcurrentStreams sets the limit on calls in flight on one
// connection. The default is [DefaultMaxConcurrentStreams]. 0 keeps the
// default.
func MaxConcurrentStreams(n uint32) Option {
	return optionFunc(func(o *options) {
		if n > 0 {
			o.maxConcurrentStreams = n
		}
	})
}

// MaxConnectionIdle sets how long a connection without calls is kept. The
// default is [DefaultMaxConnectionIdle]. Values below 1 keep the default.
func MaxConnectionIdle(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d > 0 {
			o.maxConnectionIdle = d
		}
	})
}

// ConnectionTimeout sets how long a new connection may take to start
// HTTP/2. The default is [DefaultConnectionTimeout]. Values below 1 keep
// the default.
func ConnectionTimeout(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d > 0 {
			o.connectionTimeout = d
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

// DrainQuiet sets how long the connections must be without calls before a
// graceful stop sends its GOAWAY. The default is [DefaultDrainQuiet].
// Values below 1 keep the default.
func DrainQuiet(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d > 0 {
			o.drainQuiet = d
		}
	})
}

// DrainMax sets the longest a graceful stop waits for the drain quiet
// period (see [DrainQuiet]) before it sends its GOAWAY; the wait never
// takes more than half the stop timeout, so that the calls in flight keep
// the other half. The default is [DefaultDrainMax]. Values below 1 keep
// the default.
func DrainMax(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d > 0 {
			o.drainMax = d
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

// PluginTokens adds the tokens of the plugins that the server serves, each
// naming its plugin: the context of a call with one of them carries the
// plugin's id ([auth.PluginIDFromContext]). The token given to [New] is
// still accepted, and names no plugin. Each token must differ from the
// others; [New] fails otherwise.
func PluginTokens(tokens ...auth.PluginToken) Option {
	return optionFunc(func(o *options) {
		o.pluginTokens = append(o.pluginTokens, tokens...)
	})
}

// HookStreams sets the host's handler of the hook streams that plugins
// open (PluginStreams.HookStream); without it a plugin's stream is
// UNIMPLEMENTED and its hooks stay on PluginHooks.
func HookStreams(h HookStreamHandler) Option {
	return optionFunc(func(o *options) { o.hookStreams = h })
}
