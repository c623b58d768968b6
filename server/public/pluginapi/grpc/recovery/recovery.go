// Package recovery turns a panic in a gRPC handler into an INTERNAL status,
// so that one bad request cannot take the server process down.
package recovery

import (
	"context"
	"log/slog"
	"runtime/debug"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// internalMessage is what the caller sees; the panic value and the stack go
// to the log only.
const internalMessage = "recovery: the handler failed unexpectedly"

// UnaryServerInterceptor recovers panics of unary handlers and logs them
// with their stack to logger.
func UnaryServerInterceptor(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if p := recover(); p != nil {
				err = recovered(ctx, logger, info.FullMethod, p)
				resp = nil
			}
		}()
		return handler(ctx, req)
	}
}

// StreamServerInterceptor recovers panics of stream handlers.
func StreamServerInterceptor(logger *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = recovered(ss.Context(), logger, info.FullMethod, p)
			}
		}()
		return handler(srv, ss)
	}
}

func recovered(ctx context.Context, logger *slog.Logger, method string, p any) error {
	logger.ErrorContext(ctx, "recovered from panic in gRPC handler",
		slog.String("method", method),
		slog.Any("panic", p),
		slog.String("stack", string(debug.Stack())))
	return status.Error(codes.Internal, internalMessage)
}
