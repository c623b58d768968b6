// Package server hosts an implementation of the Plugin API service over
// gRPC.
//
// It adds what every Plugin API server needs around the implementation:
//   - token authentication on every call (package auth);
//   - conversion of AppErrors and other handler errors to gRPC statuses
//     (package apperror);
//   - recovery from handler panics (package recovery);
//   - the grpc.health.v1 service;
//   - message size limits and a keepalive policy that match the Python
//     client's;
//   - listeners on a private unix socket or on loopback TCP;
//   - graceful stop.
package server
