// Package auth checks the plugin token that every Plugin API call carries.
//
// A client sends the token in the "authorization" metadata entry as
// "Bearer <token>"; the scheme's case does not matter (RFC 7235). The
// server compares the token in constant time. [Checker.TapHandle] rejects
// a missing or wrong token with UNAUTHENTICATED as soon as the request
// headers arrive, before any of the request message is read, so that an
// unauthenticated caller cannot make the server buffer its message.
//
// The gRPC health service (grpc.health.v1.Health) is exempt: it reveals
// only whether the server serves, and probes such as grpc-health-probe
// cannot send a token.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/wire"
)

// MetadataKey is the metadata entry that carries the token.
const MetadataKey = wire.MetadataKey

// Scheme is the authorization scheme of the token, which precedes it and a
// space in the metadata value. It is matched without regard to case.
const Scheme = wire.AuthScheme

// HealthService is the gRPC health service, which needs no token.
const HealthService = "grpc.health.v1.Health"

// tokenBytes is the entropy of a token made by [NewToken].
const tokenBytes = 32

// ErrEmptyToken is returned by [NewChecker] for an empty token.
var ErrEmptyToken = errors.New("auth: empty token")

// NewToken returns a random token: 32 bytes from crypto/rand, hex encoded.
func NewToken() (string, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("auth: read random token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Checker verifies the token of incoming calls.
type Checker struct {
	want []byte
}

// NewChecker returns a Checker that accepts token and nothing else.
func NewChecker(token string) (*Checker, error) {
	if token == "" {
		return nil, ErrEmptyToken
	}
	return &Checker{want: []byte(token)}, nil
}

// CheckMetadata returns nil when md carries the token, and an
// UNAUTHENTICATED status error that says what is wrong otherwise.
func (c *Checker) CheckMetadata(md metadata.MD) error {
	values := md.Get(MetadataKey)
	switch len(values) {
	case 0:
		return status.Error(codes.Unauthenticated, "auth: missing plugin token: send \"authorization: Bearer <token>\"")
	case 1:
	default:
		return status.Errorf(codes.Unauthenticated, "auth: %d authorization entries; send exactly one", len(values))
	}
	scheme, token, found := strings.Cut(values[0], " ")
	if !found || !strings.EqualFold(scheme, Scheme) {
		return status.Error(codes.Unauthenticated, "auth: authorization is not a Bearer token")
	}
	if subtle.ConstantTimeCompare([]byte(strings.TrimLeft(token, " ")), c.want) != 1 {
		return status.Error(codes.Unauthenticated, "auth: invalid plugin token")
	}
	return nil
}

// TapHandle is a [tap.ServerInHandle] for [grpc.InTapHandle]: it checks
// the token of every call except those of [HealthService] when the request
// headers arrive, before the server reads the request message.
func (c *Checker) TapHandle(ctx context.Context, info *tap.Info) (context.Context, error) {
	if service, _, _ := strings.Cut(strings.TrimPrefix(info.FullMethodName, "/"), "/"); service == HealthService {
		return ctx, nil
	}
	return ctx, c.CheckMetadata(info.Header)
}

// PerRPCCredentials returns call credentials that send token, for Go
// clients. They are allowed on insecure local connections.
func PerRPCCredentials(token string) grpc.CallOption {
	return grpc.PerRPCCredentials(tokenCredentials(token))
}

type tokenCredentials string

func (t tokenCredentials) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{MetadataKey: Scheme + " " + string(t)}, nil
}

func (tokenCredentials) RequireTransportSecurity() bool { return false }
