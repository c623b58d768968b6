package apperror

import (
	"context"

	"google.golang.org/grpc"
)

// UnaryServerInterceptor returns an interceptor that converts the error of
// every handler with [ToStatus], so that only bounded status errors leave
// the server, and every AppError names the method that failed.
func UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		if err != nil {
			return nil, ToStatus(err, MethodName(info.FullMethod)).Err()
		}
		return resp, nil
	}
}

// StreamServerInterceptor is the streaming twin of [UnaryServerInterceptor].
func StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if err := handler(srv, ss); err != nil {
			return ToStatus(err, MethodName(info.FullMethod)).Err()
		}
		return nil
	}
}
