package server

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
)

// grpc-go turns any error of the codec into INTERNAL ("failed to unmarshal
// the received message"), which the contract keeps for server faults. A
// request that does not parse, or whose string field holds invalid UTF-8,
// is the caller's fault: INVALID_ARGUMENT, with an AppError as every
// INVALID_ARGUMENT has. So the server's codec hands the raw bytes of a
// request to the method handlers, which decode them here, where the error
// can get its proper code.

// rawRequest holds the undecoded bytes of one received message.
type rawRequest struct{ data []byte }

// requestCodec is the server's codec: the proto codec, except that it
// receives into a *rawRequest without decoding.
type requestCodec struct{ proto encoding.CodecV2 }

func newRequestCodec() requestCodec {
	return requestCodec{proto: encoding.GetCodecV2("proto")}
}

func (c requestCodec) Marshal(v any) (mem.BufferSlice, error) { return c.proto.Marshal(v) }

func (c requestCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if raw, ok := v.(*rawRequest); ok {
		raw.data = data.Materialize()
		return nil
	}
	return c.proto.Unmarshal(data, v)
}

func (requestCodec) Name() string { return "proto" }

// unmarshalRequest decodes data into m. A request that does not parse, or
// that holds a number JSON cannot (see [findNonFinite]), is refused with
// INVALID_ARGUMENT carrying an AppError ([apperror.InvalidParam]) whose
// Where is the method and whose details name the fault. The unary handlers
// decode before any interceptor runs, so the AppError is made here rather
// than by [apperror.UnaryServerInterceptor].
func unmarshalRequest(method string, data []byte, m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return status.Errorf(codes.Internal, "server: %T is not a proto message", m)
	}
	if err := proto.Unmarshal(data, msg); err != nil {
		details := fmt.Sprintf("the request is not a valid %s: %v", msg.ProtoReflect().Descriptor().FullName(), err)
		return invalidParam(method, "request", details)
	}
	if path, value, found := findNonFinite(msg.ProtoReflect()); found {
		details := fmt.Sprintf("%s holds %s, which is not a JSON number", path, nonFiniteName(value))
		return invalidParam(method, path, details)
	}
	return nil
}

// invalidParam returns the INVALID_ARGUMENT status error of method for
// the request part name.
func invalidParam(method, name, details string) error {
	e := apperror.InvalidParam(name, details)
	e.Where = method
	return e.GRPCStatus().Err()
}

// decodingDesc returns a copy of desc whose handlers receive raw bytes and
// decode them with [unmarshalRequest].
func decodingDesc(desc *grpc.ServiceDesc) *grpc.ServiceDesc {
	out := *desc
	out.Methods = make([]grpc.MethodDesc, len(desc.Methods))
	for i, m := range desc.Methods {
		handler, name := m.Handler, m.MethodName
		out.Methods[i] = grpc.MethodDesc{
			MethodName: name,
			Handler: func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
				return handler(srv, ctx, func(m any) error {
					var raw rawRequest
					if err := dec(&raw); err != nil {
						return err
					}
					return unmarshalRequest(name, raw.data, m)
				}, interceptor)
			},
		}
	}
	out.Streams = make([]grpc.StreamDesc, len(desc.Streams))
	for i, s := range desc.Streams {
		handler, name := s.Handler, s.StreamName
		s.Handler = func(srv any, stream grpc.ServerStream) error {
			return handler(srv, decodingStream{ServerStream: stream, method: name})
		}
		out.Streams[i] = s
	}
	return &out
}

// decodingStream receives raw bytes and decodes them with
// [unmarshalRequest].
type decodingStream struct {
	grpc.ServerStream
	method string
}

func (s decodingStream) RecvMsg(m any) error {
	var raw rawRequest
	if err := s.ServerStream.RecvMsg(&raw); err != nil {
		return err
	}
	return unmarshalRequest(s.method, raw.data, m)
}
