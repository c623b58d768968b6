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
	"google.golang.org/protobuf/proto"
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
		// Every INVALID_ARGUMENT carries an AppError.
		{
			"invalid argument status", status.Error(codes.InvalidArgument, "bad key"), codes.InvalidArgument,
			"Invalid or missing request in request body.",
			&Error{
				ID: InvalidParamID, Message: "Invalid or missing request in request body.", DetailedError: "bad key",
				StatusCode: http.StatusBadRequest, Where: "Other", Params: map[string]string{"Name": "request"},
			},
		},
		{"invalid argument app error", New("x.app_error", "Bad.", "", http.StatusBadRequest), codes.InvalidArgument, "Bad.",
			&Error{ID: "x.app_error", Message: "Bad.", StatusCode: http.StatusBadRequest, Where: "Other"}},
		{"canceled", context.Canceled, codes.Canceled, context.Canceled.Error(), nil},
		{"deadline", fmt.Errorf("wait: %w", context.DeadlineExceeded), codes.DeadlineExceeded, "wait: context deadline exceeded", nil},
		{"plain error", errors.New("disk on fire"), codes.Unknown, "disk on fire", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := ToStatus(tt.err, "Other")
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
	if st := ToStatus(nil, "GetUser"); st != nil {
		t.Errorf("ToStatus(nil) = %v; want nil", st)
	}
}

func TestErrorText(t *testing.T) {
	e := New("id", "Bad key.", "len=0", http.StatusBadRequest)
	e.Where = "KVSet"
	if got, want := e.Error(), "KVSet: Bad key., len=0"; got != want {
		t.Errorf("Error() = %q; want %q", got, want)
	}
	long := New("id", strings.Repeat("x", 2000), "", 500)
	long.Where = "W"
	if got := long.Error(); len(got) != maxErrorLen+3 || !strings.HasSuffix(got, "...") {
		t.Errorf("len(Error()) = %d; want %d ending in ...", len(got), maxErrorLen+3)
	}
}

func TestToStatusFillsWhere(t *testing.T) {
	got, ok := FromStatus(ToStatus(New("id", "m", "", http.StatusNotFound), "GetUser"))
	if !ok || got.Where != "GetUser" {
		t.Errorf("Where = %q; want GetUser", got.Where)
	}
	set := New("id", "m", "", http.StatusBadRequest)
	set.Where = "User.IsValid"
	if got, _ := FromStatus(ToStatus(set, "CreateUser")); got.Where != "User.IsValid" {
		t.Errorf("Where = %q; want the error's own User.IsValid", got.Where)
	}
}

func TestMethodName(t *testing.T) {
	for in, want := range map[string]string{
		"/mattermost.plugin.PluginAPI/GetUser": "GetUser",
		"GetUser":                              "GetUser",
		"":                                     "",
	} {
		if got := MethodName(in); got != want {
			t.Errorf("MethodName(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"0123456789abc", 10, "0123456..."},
		{"ééééé", 8, "éé..."}, // never splits a rune
		{"bad\xffutf8", 64, "bad\uFFFDutf8"},
	}
	for _, tt := range tests {
		if got := Truncate(tt.in, tt.n); got != tt.want {
			t.Errorf("Truncate(%q, %d) = %q; want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// TestStatusIsBoundedForAnyInput feeds errors that echo huge inputs and
// checks that the status, its message and its details stay within bounds
// and that the AppError survives the wire form.
func TestStatusIsBoundedForAnyInput(t *testing.T) {
	huge := strings.Repeat("é", 1<<20) + "\xff"
	params := map[string]string{}
	for i := range 100 {
		params[fmt.Sprintf("key%03d%s", i, huge[:1000])] = huge
	}
	tests := []struct {
		name string
		err  error
	}{
		{"every field huge", &Error{ID: huge, Message: huge, DetailedError: huge, RequestID: huge, Where: huge, StatusCode: 404, Params: params}},
		{"detail echoes input", New("app.user.missing_account.const", "Unable to find the user.", "username="+huge, http.StatusNotFound)},
		{"plain error", errors.New(huge)},
		{"status error", status.Error(codes.Aborted, huge)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := ToStatus(tt.err, huge)
			if len(st.Message()) > MaxMessageBytes {
				t.Errorf("message has %d bytes; want at most %d", len(st.Message()), MaxMessageBytes)
			}
			wire := st.Proto()
			if size := proto.Size(wire) - len(wire.GetMessage()); size > MaxDetailsBytes+16 {
				t.Errorf("details have %d bytes; want at most %d", size, MaxDetailsBytes)
			}
			back := status.Convert(st.Err())
			if _, isApp := tt.err.(*Error); isApp {
				got, ok := FromStatus(back)
				if !ok {
					t.Fatal("the AppError did not survive")
				}
				if back.Code() != Code(got.StatusCode) || got.ID == "" || got.Message == "" {
					t.Errorf("status %v carries %+v", back.Code(), got)
				}
			}
		})
	}
}
