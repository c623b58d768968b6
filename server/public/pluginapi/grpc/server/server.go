package server

import (
	"fmt"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"

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
}

// New returns a Server for impl that accepts calls carrying token.
func New(impl pluginpb.PluginAPIServer, token string, opts ...Option) (*Server, error) {
	if impl == nil {
		return nil, fmt.Errorf("server: nil implementation")
	}
	checker, err := auth.NewChecker(token)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	o := defaultOptions()
	for _, opt := range opts {
		opt.apply(&o)
	}

	gs := grpc.NewServer(
		grpc.MaxRecvMsgSize(o.maxMessageSize),
		grpc.MaxSendMsgSize(o.maxMessageSize),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             o.keepaliveMinTime,
			PermitWithoutStream: true,
		}),
		// Recovery is outermost, so that a panic anywhere below it, the
		// interceptors included, becomes INTERNAL.
		grpc.ChainUnaryInterceptor(
			recovery.UnaryServerInterceptor(o.logger),
			checker.UnaryServerInterceptor(),
			apperror.UnaryServerInterceptor(),
		),
		grpc.ChainStreamInterceptor(
			recovery.StreamServerInterceptor(o.logger),
			checker.StreamServerInterceptor(),
			apperror.StreamServerInterceptor(),
		),
	)
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus(ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(gs, hs)
	pluginpb.RegisterPluginAPIServer(gs, impl)

	return &Server{grpc: gs, health: hs, opts: o}, nil
}

// Serve accepts connections on lis until the server stops. It returns nil
// after a stop, and the listener's error otherwise.
func (s *Server) Serve(lis net.Listener) error {
	if err := s.grpc.Serve(lis); err != nil && err != grpc.ErrServerStopped {
		return fmt.Errorf("server: serve %s: %w", lis.Addr(), err)
	}
	return nil
}

// GracefulStop marks the server NOT_SERVING, stops accepting connections
// and waits for calls in flight, at most for the stop timeout; then it
// cancels what is left. It reports whether every call finished in time.
func (s *Server) GracefulStop() bool {
	s.health.Shutdown()
	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	timer := time.NewTimer(s.opts.stopTimeout)
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
	s.health.Shutdown()
	s.grpc.Stop()
}
