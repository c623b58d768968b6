package server

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"sync"
	"time"

	"google.golang.org/grpc"
	// Registers the gzip decompressor: a client that compresses its
	// requests must not get UNIMPLEMENTED, which the contract keeps for
	// methods the server does not provide.
	_ "google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/tap"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/auth"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/recovery"
)

// ServiceName is the full name of the Plugin API service; the health
// service reports it, and the empty name, as SERVING while the server runs.
const ServiceName = "mattermost.plugin.PluginAPI"

// Server serves one Plugin API implementation.
type Server struct {
	grpc   *grpc.Server
	health *health.Server
	opts   options
	calls  *callTracker
	// callStreams runs the calls of CallStream (see callstream.go).
	callStreams *callDispatcher
	// streams ends the long-lived streams (see hookStreamDesc) when the
	// server stops; stopStreams ends it.
	streams     context.Context
	stopStreams context.CancelFunc

	mu        sync.Mutex
	listeners []net.Listener
	stopping  bool
}

// New returns a Server for impl that accepts calls carrying token.
func New(impl pluginpb.PluginAPIServer, token string, opts ...Option) (*Server, error) {
	if impl == nil {
		return nil, fmt.Errorf("server: nil implementation")
	}
	o := defaultOptions()
	for _, opt := range opts {
		opt.apply(&o)
	}
	checker, err := auth.NewChecker(token, o.pluginTokens...)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	calls := newCallTracker()
	// Recovery is outermost, so that a panic anywhere below it, the
	// interceptors included, becomes INTERNAL. CallStream runs its calls
	// through the same chain.
	unary := []grpc.UnaryServerInterceptor{
		recovery.UnaryServerInterceptor(o.logger),
		apperror.UnaryServerInterceptor(),
	}
	callStreams := newCallDispatcher(impl, unary, calls, o)

	gs := grpc.NewServer(
		// The token is checked when the request headers arrive, before
		// any of the message is read (see package auth).
		// Every call gets a request id (see RequestID).
		grpc.InTapHandle(func(ctx context.Context, info *tap.Info) (context.Context, error) {
			ctx, err := checker.TapHandle(ctx, info)
			return withRequestID(ctx), err
		}),
		// Requests that do not parse fail with INVALID_ARGUMENT (see
		// decode.go).
		grpc.ForceServerCodecV2(newRequestCodec()),
		grpc.MaxRecvMsgSize(o.maxMessageSize),
		grpc.MaxSendMsgSize(o.maxMessageSize),
		grpc.MaxConcurrentStreams(o.maxConcurrentStreams),
		// A worker per CPU serves calls on goroutines whose stacks have
		// already grown; a goroutine per call spent about a tenth of the
		// server's CPU time growing its stack (runtime.morestack, in a
		// profile of KVGet). Calls beyond the busy workers still get a
		// goroutine each.
		grpc.NumStreamWorkers(uint32(runtime.GOMAXPROCS(0))),
		grpc.MaxHeaderListSize(o.maxHeaderListSize),
		grpc.ConnectionTimeout(o.connectionTimeout),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: o.maxConnectionIdle}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             o.keepaliveMinTime,
			PermitWithoutStream: true,
		}),
		// Recovery is outermost, so that a panic anywhere below it, the
		// interceptors included, becomes INTERNAL.
		grpc.StatsHandler(calls),
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(
			recovery.StreamServerInterceptor(o.logger),
			apperror.StreamServerInterceptor(),
			// A failed upload's status reaches the client (see discard.go).
			discardOnError,
		),
	)
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus(ServiceName, healthpb.HealthCheckResponse_SERVING)
	gs.RegisterService(decodingDesc(&healthpb.Health_ServiceDesc), hs)
	gs.RegisterService(decodingDesc(&pluginpb.PluginAPI_ServiceDesc), impl)
	// Server reflection lets grpcurl and other generic clients discover
	// the contract. Like every service but health, it needs the token;
	// like every service, a request that does not parse is
	// INVALID_ARGUMENT (grpc-go's codec would make it INTERNAL).
	// PluginStreams carries long-lived streams of many calls each, opened
	// by plugins (see hookstream.go).
	streams, stopStreams := context.WithCancel(context.Background())
	gs.RegisterService(&grpc.ServiceDesc{
		ServiceName: pluginpb.PluginStreams_ServiceDesc.ServiceName,
		HandlerType: (*any)(nil),
		Streams:     []grpc.StreamDesc{hookStreamDesc(o.hookStreams, streams), callStreamDesc(callStreams)},
		Metadata:    pluginpb.PluginStreams_ServiceDesc.Metadata,
	}, struct{}{})
	reflectionOpts := reflection.ServerOptions{Services: gs}
	gs.RegisterService(decodingDesc(&reflectionv1.ServerReflection_ServiceDesc), reflection.NewServerV1(reflectionOpts))
	gs.RegisterService(decodingDesc(&reflectionv1alpha.ServerReflection_ServiceDesc), reflection.NewServer(reflectionOpts))

	return &Server{grpc: gs, health: hs, opts: o, calls: calls, callStreams: callStreams, streams: streams, stopStreams: stopStreams}, nil
}

// Serve accepts connections on lis until the server stops. It returns nil
// after a stop, and the listener's error otherwise.
func (s *Server) Serve(lis net.Listener) error {
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		return nil
	}
	s.listeners = append(s.listeners, lis)
	s.mu.Unlock()
	err := s.grpc.Serve(goAwayListener{Listener: lis, logger: s.opts.logger})
	s.mu.Lock()
	stopping := s.stopping
	s.mu.Unlock()
	if err != nil && err != grpc.ErrServerStopped && !stopping {
		return fmt.Errorf("server: serve %s: %w", lis.Addr(), err)
	}
	return nil
}

// GracefulStop stops the server, letting the calls that clients have
// started finish, within the stop timeout:
//
//  1. it marks the server NOT_SERVING and stops accepting connections;
//  2. it keeps serving the open connections until no call has been in
//     flight for the drain quiet period (see [DefaultDrainQuiet]), so that
//     calls that clients have started but not yet sent are not refused,
//     but no longer than the drain maximum (see [DefaultDrainMax]) or half
//     the stop timeout, so that steady traffic cannot hold the stop open;
//  3. it sends GOAWAY, which refuses new calls, and waits for the calls in
//     flight, a slow upload included.
//
// At the stop timeout it cancels what is left. It reports whether every
// call finished in time, and returns as soon as they have.
func (s *Server) GracefulStop() bool {
	defer s.callStreams.workers.stop()
	start := time.Now()
	deadline := start.Add(s.opts.stopTimeout)
	s.health.Shutdown()
	s.mu.Lock()
	s.stopping = true
	listeners := s.listeners
	s.mu.Unlock()
	for _, lis := range listeners {
		lis.Close()
	}
	s.calls.waitQuiet(s.opts.drainQuiet, start.Add(min(s.opts.drainMax, s.opts.stopTimeout/2)))
	// A call stream answers its calls in flight, refuses new ones and
	// ends; GracefulStop below waits for it.
	s.callStreams.drain()
	// A hook stream is open for as long as its plugin runs: it would hold
	// the stop to its timeout. Its plugin falls back to PluginHooks.
	s.stopStreams()
	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case <-done:
		return true
	case <-timer.C:
		s.grpc.Stop()
		<-done
		return false
	}
}

// MaxMessageSize returns the limit, in bytes, on messages received and sent.
func (s *Server) MaxMessageSize() int { return s.opts.maxMessageSize }

// KeepaliveMinTime returns the shortest keepalive ping interval the server
// accepts from clients.
func (s *Server) KeepaliveMinTime() time.Duration { return s.opts.keepaliveMinTime }

// Stop cancels every call and closes every connection at once.
func (s *Server) Stop() {
	defer s.callStreams.workers.stop()
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	s.health.Shutdown()
	s.stopStreams()
	s.grpc.Stop()
}
