package server

import (
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Bounds of what a failed client stream is read for.
const (
	maxDiscardBytes = 16 << 20
	maxDiscardTime  = 2 * time.Second
)

// discardOnError is a stream interceptor for calls whose client streams:
// when the handler fails while the client is still sending, it reads and
// drops the rest of the stream, up to maxDiscardBytes or maxDiscardTime,
// before the status goes out. Without it, a client's write can break on
// the finished call before the status arrives, and grpcio's asyncio client
// then reports INTERNAL ("Internal error from Core") instead of the
// handler's status.
func discardOnError(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	err := handler(srv, ss)
	if err == nil || !info.IsClientStream || ss.Context().Err() != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for n := 0; n < maxDiscardBytes; {
			var m emptypb.Empty // the fields arrive as unknown fields
			if ss.RecvMsg(&m) != nil {
				return
			}
			n += proto.Size(&m)
		}
	}()
	timer := time.NewTimer(maxDiscardTime)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
	case <-ss.Context().Done():
	}
	return err
}
