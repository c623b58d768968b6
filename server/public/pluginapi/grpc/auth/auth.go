// Package auth checks the plugin token that every Plugin API call carries.
//
// A client sends the token in the "authorization" metadata entry as
// "Bearer <token>". The server compares it in constant time and rejects a
// missing or wrong token with UNAUTHENTICATED before the handler runs.
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
)

// MetadataKey is the metadata entry that carries the token.
const MetadataKey = "authorization"

// Scheme is the prefix of the metadata value, before the token.
const Scheme = "Bearer "

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

// Check returns nil when ctx carries the token, and an UNAUTHENTICATED
// status error otherwise.
func (c *Checker) Check(ctx context.Context) error {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok {
		return status.Error(codes.Unauthenticated, "auth: missing plugin token")
	}
	values := md.Get(MetadataKey)
	if len(values) != 1 {
		return status.Error(codes.Unauthenticated, "auth: missing plugin token")
	}
	got, found := strings.CutPrefix(values[0], Scheme)
	if !found {
		return status.Error(codes.Unauthenticated, "auth: authorization is not a Bearer token")
	}
	if subtle.ConstantTimeCompare([]byte(got), c.want) != 1 {
		return status.Error(codes.Unauthenticated, "auth: invalid plugin token")
	}
	return nil
}

// UnaryServerInterceptor rejects unary calls that lack the token.
func (c *Checker) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := c.Check(ctx); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamServerInterceptor rejects streams that lack the token.
func (c *Checker) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if err := c.Check(ss.Context()); err != nil {
			return err
		}
		return handler(srv, ss)
	}
}

// PerRPCCredentials returns call credentials that send token, for Go
// clients. They are allowed on insecure local connections.
func PerRPCCredentials(token string) grpc.CallOption {
	return grpc.PerRPCCredentials(tokenCredentials(token))
}

type tokenCredentials string

func (t tokenCredentials) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{MetadataKey: Scheme + string(t)}, nil
}

func (tokenCredentials) RequireTransportSecurity() bool { return false }
