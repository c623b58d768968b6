// Package server hosts an implementation of the Plugin API service over
// gRPC.
//
// It adds what every Plugin API server needs around the implementation:
//   - token authentication when a call's headers arrive, before its message
//     is read (package auth); the grpc.health.v1 service needs no token;
//   - decoding that answers unparseable requests, invalid UTF-8, and NaN
//     or infinities in google.protobuf.Value, with INVALID_ARGUMENT and an
//     AppError (decode.go, nonfinite.go);
//   - conversion of AppErrors and other handler errors to bounded gRPC
//     statuses, with AppError.where set to the method (package apperror);
//   - recovery from handler panics (package recovery);
//   - the grpc.health.v1 service and server reflection;
//   - limits on messages, streams, headers and connection set-up and idle
//     time, and a keepalive policy that matches the Python client's;
//   - gzip request decompression;
//   - a log line for every GOAWAY it sends (goaway.go);
//   - listeners on a private unix socket or on loopback TCP;
//   - a graceful stop that lets started calls finish (drain.go);
//   - PluginStreams.CallStream, one stream that carries a client's unary
//     calls, each through the same handlers and interceptors as a unary
//     call (callstream.go).
package server
