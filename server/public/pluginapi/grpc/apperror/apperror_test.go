package apperror

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestCode(t *testing.T) {
	tests := []struct {
		http int
		want codes.Code
	}{
		{http.StatusBadRequest, codes.InvalidArgument},
		{http.StatusUnauthorized, codes.Unauthenticated},
		{http.StatusForbidden, codes.PermissionDenied},
		{http.StatusNotFound, codes.NotFound},
		{http.StatusConflict, codes.AlreadyExists},
		{http.StatusRequestEntityTooLarge, codes.ResourceExhausted},
		{http.StatusTooManyRequests, codes.ResourceExhausted},
		{499, codes.Canceled},
		{http.StatusInternalServerError, codes.Internal},
		{http.StatusNotImplemented, codes.Unimplemented},
		{http.StatusServiceUnavailable, codes.Unavailable},
		{http.StatusGatewayTimeout, codes.DeadlineExceeded},
		{http.StatusTeapot, codes.FailedPrecondition},
		{599, codes.Internal},
		{0, codes.Internal},
		{http.StatusOK, codes.Internal},
	}
	for _, tt := range tests {
		if got := Code(tt.http); got != tt.want {
			t.Errorf("Code(%d) = %v; want %v", tt.http, got, tt.want)
		}
	}
}

func TestToStatus(t *testing.T) {
	appErr := &Error{
		ID: "app.user.missing_account.const", Message: "Unable to find the user.",
		DetailedError: "user_id=x", RequestID: "req1", StatusCode: http.StatusNotFound,
		Where: "GetUser", IsOAuth: true, Params: map[string]string{"k": "v"},
	}
	tests := []struct {
		name        string
		err         error
		wantCode    codes.Code
		wantMessage string
		wantApp     *Error
	}{
		{"app error", appErr, codes.NotFound, "Unable to find the user.", appErr},
		{"wrapped app error", fmt.Errorf("lookup: %w", appErr), codes.NotFound, "Unable to find the user.", appErr},
		{"status error", status.Error(codes.Aborted, "busy"), codes.Aborted, "busy", nil},
		{"canceled", context.Canceled, codes.Canceled, context.Canceled.Error(), nil},
		{"deadline", fmt.Errorf("wait: %w", context.DeadlineExceeded), codes.DeadlineExceeded, "wait: context deadline exceeded", nil},
		{"plain error", errors.New("disk on fire"), codes.Unknown, "disk on fire", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := ToStatus(tt.err)
			if st.Code() != tt.wantCode || st.Message() != tt.wantMessage {
				t.Fatalf("ToStatus(%v) = %v %q; want %v %q", tt.err, st.Code(), st.Message(), tt.wantCode, tt.wantMessage)
			}
			// The status must survive the trip through its wire form.
			back := status.Convert(st.Err())
			got, ok := FromStatus(back)
			if tt.wantApp == nil {
				if ok {
					t.Fatalf("FromStatus(ToStatus(%v)) = %+v; want no AppError", tt.err, got)
				}
				return
			}
			if !ok {
				t.Fatalf("FromStatus(ToStatus(%v)) found no AppError", tt.err)
			}
			if fmt.Sprint(*got) != fmt.Sprint(*tt.wantApp) {
				t.Errorf("FromStatus(ToStatus(%v)) = %+v; want %+v", tt.err, *got, *tt.wantApp)
			}
		})
	}
	if st := ToStatus(nil); st != nil {
		t.Errorf("ToStatus(nil) = %v; want nil", st)
	}
}

func TestErrorText(t *testing.T) {
	e := New("KVSet", "id", "Bad key.", "len=0", http.StatusBadRequest)
	if got, want := e.Error(), "KVSet: Bad key., len=0"; got != want {
		t.Errorf("Error() = %q; want %q", got, want)
	}
	long := New("W", "id", strings.Repeat("x", 2000), "", 500)
	if got := long.Error(); len(got) != maxErrorLen+3 || !strings.HasSuffix(got, "...") {
		t.Errorf("len(Error()) = %d; want %d ending in ...", len(got), maxErrorLen+3)
	}
}
