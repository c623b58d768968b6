package apperror

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// maxErrorLen bounds the text of Error, as model.AppError does.
const maxErrorLen = 1024

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

// New returns an Error raised in where, with the given id, message, detail
// and HTTP status code.
func New(where, id, message, details string, statusCode int) *Error {
	return &Error{ID: id, Message: message, DetailedError: details, StatusCode: statusCode, Where: where}
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

// Proto returns the error as a contract message.
func (e *Error) Proto() *pluginpb.AppError {
	return &pluginpb.AppError{
		Id:            e.ID,
		Message:       e.Message,
		DetailedError: e.DetailedError,
		RequestId:     e.RequestID,
		StatusCode:    int32(e.StatusCode),
		Where:         e.Where,
		IsOauth:       e.IsOAuth,
		Params:        e.Params,
	}
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

// GRPCStatus returns the status that carries e. It lets grpc-go and
// [status.FromError] recognise an Error.
func (e *Error) GRPCStatus() *status.Status {
	st := status.New(Code(e.StatusCode), e.Message)
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

// ToStatus converts any handler error to a status:
//   - nil gives nil;
//   - an [*Error] anywhere in the chain gives its own status, with details;
//   - an error that already is a status keeps it;
//   - context.Canceled and context.DeadlineExceeded give Canceled and
//     DeadlineExceeded;
//   - any other error gives Unknown with the error text, as a plain error
//     returned by a Go plugin API method would.
func ToStatus(err error) *status.Status {
	if err == nil {
		return nil
	}
	var appErr *Error
	if errors.As(err, &appErr) {
		return appErr.GRPCStatus()
	}
	if st, ok := status.FromError(err); ok {
		return st
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return status.FromContextError(err)
	}
	return status.New(codes.Unknown, err.Error())
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

// Errorf returns a 500 Error for an unexpected failure in where.
func Errorf(where, id string, format string, args ...any) *Error {
	return New(where, id, "An internal error occurred.", fmt.Sprintf(format, args...), http.StatusInternalServerError)
}
