// Package apperror carries Mattermost AppErrors across gRPC.
//
// A Plugin API method that fails returns an [*Error]. [ToStatus] turns it
// into a gRPC status whose code is derived from the HTTP status code of the
// error and whose details hold the whole error as a
// mattermost.plugin.AppError message, so that a client can rebuild every
// field. [FromStatus] is the inverse.
//
// Every status it makes is bounded (see [MaxMessageBytes] and
// [MaxDetailsBytes]), whatever input a handler echoed into the error, so
// that it fits in the headers every gRPC client accepts.
//
// The invariants are those of package status in grpc-go: a nil error is
// never a failed status, and OK never carries an AppError.
package apperror
