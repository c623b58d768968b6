package apperror

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// maxErrorLen bounds the text of Error, as model.AppError does.
const maxErrorLen = 1024

// Bounds on what an error sends back. Handlers may copy a caller's input
// into an error (a username into DetailedError, say); the status message
// travels in the grpc-message header and the AppError in the
// grpc-status-details-bin trailer, and clients drop or fail calls whose
// headers pass a few KiB (grpcio: 8 KiB soft, 16 KiB hard). So every field
// is cut here, in the one place every status is made, and no handler can
// forget.
const (
	// MaxMessageBytes bounds Message and DetailedError, in bytes.
	MaxMessageBytes = 512
	// MaxShortBytes bounds ID, Where, RequestID and each param key and
	// value, in bytes.
	MaxShortBytes = 128
	// MaxParams is the most Params entries sent; the rest are dropped.
	MaxParams = 16
	// MaxDetailsBytes bounds the encoded details of a status.
	MaxDetailsBytes = 4096
)

// ellipsis marks a value that was cut.
const ellipsis = "..."

// Truncate returns s cut to at most n bytes, at a rune boundary and marked
// with "...", with invalid UTF-8 replaced, so that it is always a valid
// proto3 string.
func Truncate(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= n {
		return s
	}
	cut := n - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:max(cut, 0)] + ellipsis
}

// Error is a Mattermost AppError: an error with an i18n id, a message for
// people, details for logs and the HTTP status code that classifies it.
type Error struct {
	// ID is the machine-readable error id, such as
	// "app.user.missing_account.const".
	ID string
	// Message is the human-readable message.
	Message string
	// DetailedError holds extra detail for logs.
	DetailedError string
	// RequestID is the id of the failed request, if known.
	RequestID string
	// StatusCode is the HTTP status code, such as 404.
	StatusCode int
	// Where names the operation that failed, such as "CreateUser".
	Where string
	// IsOAuth marks errors from an OAuth flow.
	IsOAuth bool
	// Params are the named values used to render Message.
	Params map[string]string
}

// New returns an Error with the given id, message, detail and HTTP status
// code. Where is left empty: the server's interceptor fills it with the
// name of the method that failed (see [UnaryServerInterceptor]).
func New(id, message, details string, statusCode int) *Error {
	return &Error{ID: id, Message: message, DetailedError: details, StatusCode: statusCode}
}

// Error renders the error as Mattermost does: "where: message, details".
func (e *Error) Error() string {
	s := e.Where + ": " + e.Message
	if e.DetailedError != "" {
		s += ", " + e.DetailedError
	}
	if len(s) > maxErrorLen {
		s = s[:maxErrorLen] + "..."
	}
	return s
}

// FromProto returns the Error that m describes.
func FromProto(m *pluginpb.AppError) *Error {
	return &Error{
		ID:            m.GetId(),
		Message:       m.GetMessage(),
		DetailedError: m.GetDetailedError(),
		RequestID:     m.GetRequestId(),
		StatusCode:    int(m.GetStatusCode()),
		Where:         m.GetWhere(),
		IsOAuth:       m.GetIsOauth(),
		Params:        m.GetParams(),
	}
}

// Proto returns the error as a contract message, each field cut to its
// bound and the whole within [MaxDetailsBytes], as it travels on the wire.
func (e *Error) Proto() *pluginpb.AppError {
	m := &pluginpb.AppError{
		Id:            Truncate(e.ID, MaxShortBytes),
		Message:       Truncate(e.Message, MaxMessageBytes),
		DetailedError: Truncate(e.DetailedError, MaxMessageBytes),
		RequestId:     Truncate(e.RequestID, MaxShortBytes),
		StatusCode:    int32(e.StatusCode),
		Where:         Truncate(e.Where, MaxShortBytes),
		IsOauth:       e.IsOAuth,
	}
	if len(e.Params) > 0 {
		keys := slices.Sorted(maps.Keys(e.Params))
		m.Params = make(map[string]string, min(len(keys), MaxParams))
		for _, k := range keys[:min(len(keys), MaxParams)] {
			m.Params[Truncate(k, MaxShortBytes)] = Truncate(e.Params[k], MaxShortBytes)
		}
	}
	// With the bounds above the message fits; this guards future fields.
	if proto.Size(m) > MaxDetailsBytes {
		m.Params = nil
		m.DetailedError = ""
	}
	return m
}

// GRPCStatus returns the status that carries e, bounded as the constants
// above say. It lets grpc-go and [status.FromError] recognise an Error.
func (e *Error) GRPCStatus() *status.Status {
	st := status.New(Code(e.StatusCode), Truncate(e.Message, MaxMessageBytes))
	withDetails, err := st.WithDetails(e.Proto())
	if err != nil {
		// Only a marshalling failure gets here; the code and message survive.
		return st
	}
	return withDetails
}

// Code returns the gRPC code for an HTTP status code. Unlisted 4xx codes
// map to FailedPrecondition, unlisted 5xx codes and everything else to
// Internal, so that a failure is never reported as OK.
func Code(httpStatus int) codes.Code {
	switch httpStatus {
	case http.StatusBadRequest:
		return codes.InvalidArgument
	case http.StatusUnauthorized:
		return codes.Unauthenticated
	case http.StatusForbidden:
		return codes.PermissionDenied
	case http.StatusNotFound, http.StatusGone:
		return codes.NotFound
	case http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return codes.Unimplemented
	case http.StatusRequestTimeout, http.StatusGatewayTimeout:
		return codes.DeadlineExceeded
	case http.StatusConflict:
		return codes.AlreadyExists
	case http.StatusPreconditionFailed:
		return codes.FailedPrecondition
	case http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
		return codes.ResourceExhausted
	case http.StatusRequestedRangeNotSatisfiable:
		return codes.OutOfRange
	case statusClientClosedRequest:
		return codes.Canceled
	case http.StatusBadGateway, http.StatusServiceUnavailable:
		return codes.Unavailable
	}
	if httpStatus >= 400 && httpStatus < 500 {
		return codes.FailedPrecondition
	}
	return codes.Internal
}

// statusClientClosedRequest is nginx's 499: the client went away.
const statusClientClosedRequest = 499

// ToStatus converts any handler error to a bounded status:
//   - nil gives nil;
//   - an [*Error] anywhere in the chain gives its own status, with details;
//     an empty Where is filled with where, the failed method's name;
//   - an error that already is a status keeps it, except that an
//     INVALID_ARGUMENT status without an AppError gets one
//     ([InvalidParam] of the request, with the status message as details),
//     so that every INVALID_ARGUMENT carries an AppError;
//   - context.Canceled and context.DeadlineExceeded give Canceled and
//     DeadlineExceeded;
//   - any other error gives Unknown with the error text, as a plain error
//     returned by a Go plugin API method would.
//
// The status message is cut to [MaxMessageBytes], and details beyond
// [MaxDetailsBytes] are dropped.
func ToStatus(err error, where string) *status.Status {
	if err == nil {
		return nil
	}
	var appErr *Error
	if errors.As(err, &appErr) {
		if appErr.Where == "" && where != "" {
			filled := *appErr
			filled.Where = where
			appErr = &filled
		}
		return appErr.GRPCStatus()
	}
	if st, ok := status.FromError(err); ok {
		if _, has := FromStatus(st); st.Code() == codes.InvalidArgument && !has {
			e := InvalidParam("request", st.Message())
			e.Where = where
			return e.GRPCStatus()
		}
		return boundStatus(st)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return status.FromContextError(err)
	}
	return status.New(codes.Unknown, Truncate(err.Error(), MaxMessageBytes))
}

// boundStatus returns st with its message cut and oversized details dropped.
func boundStatus(st *status.Status) *status.Status {
	p := st.Proto()
	if len(p.GetMessage()) <= MaxMessageBytes && proto.Size(p)-len(p.GetMessage()) <= MaxDetailsBytes {
		return st
	}
	p.Message = Truncate(p.GetMessage(), MaxMessageBytes)
	if proto.Size(p)-len(p.GetMessage()) > MaxDetailsBytes {
		p.Details = nil
	}
	return status.FromProto(p)
}

// MethodName returns the last element of a full gRPC method name:
// "/mattermost.plugin.PluginAPI/GetUser" gives "GetUser".
func MethodName(fullMethod string) string {
	return fullMethod[strings.LastIndexByte(fullMethod, '/')+1:]
}

// FromStatus returns the AppError that st carries, if any.
func FromStatus(st *status.Status) (*Error, bool) {
	if st == nil {
		return nil, false
	}
	for _, d := range st.Details() {
		if m, ok := d.(*pluginpb.AppError); ok {
			return FromProto(m), true
		}
	}
	return nil, false
}

// InvalidParamID is the id of the error for a request that does not parse
// or holds a value that no request may hold, as Mattermost's
// web.NewInvalidParamError gives for a bad request body.
const InvalidParamID = "api.context.invalid_body_param.app_error"

// InvalidParam returns the 400 Error for the request part name that is
// invalid, with details for logs, as Mattermost's
// web.NewInvalidParamDetailedError: the message is Mattermost's English
// text of [InvalidParamID], and Params holds the name as "Name".
func InvalidParam(name, details string) *Error {
	e := New(InvalidParamID, "Invalid or missing "+name+" in request body.", details, http.StatusBadRequest)
	e.Params = map[string]string{"Name": name}
	return e
}

// Errorf returns a 500 Error for an unexpected failure.
func Errorf(id string, format string, args ...any) *Error {
	return New(id, "An internal error occurred.", fmt.Sprintf(format, args...), http.StatusInternalServerError)
}
