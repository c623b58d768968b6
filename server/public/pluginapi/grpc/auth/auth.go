// Package auth checks the plugin token that every Plugin API call carries.
//
// A client sends the token in the "authorization" metadata entry as
// "Bearer <token>", with exactly one space between the scheme and the
// token, as RFC 7235 (section 2.1) and RFC 6750 (section 2.1) put it; the
// scheme's case does not matter. The server compares the token in
// constant time. [Checker.TapHandle] rejects
// a missing or wrong token with UNAUTHENTICATED as soon as the request
// headers arrive, before any of the request message is read, so that an
// unauthenticated caller cannot make the server buffer its message.
//
// The gRPC health service (grpc.health.v1.Health) is exempt: it reveals
// only whether the server serves, and probes such as grpc-health-probe
// cannot send a token.
//
// A server that serves several plugins gives each its own token
// ([PluginToken]); a call with one of them carries the plugin's id in its
// context, for the implementation to read with [PluginIDFromContext].
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

// PluginToken is the token of one plugin of a server that serves several.
type PluginToken struct {
	// Token is the token that the plugin's calls carry.
	Token string
	// PluginID is the id of the plugin, which the calls' context carries.
	PluginID string
}

// Checker verifies the token of incoming calls.
type Checker struct {
	want    []byte
	plugins []pluginToken
}

type pluginToken struct {
	token []byte
	id    string
}

// NewChecker returns a Checker that accepts token, which names no plugin,
// and the tokens of plugins, which name theirs, and nothing else. Every
// token must be non-empty and different from the others, and every plugin
// id non-empty.
func NewChecker(token string, plugins ...PluginToken) (*Checker, error) {
	if token == "" {
		return nil, ErrEmptyToken
	}
	c := &Checker{want: []byte(token)}
	seen := map[string]bool{token: true}
	for _, p := range plugins {
		switch {
		case p.Token == "":
			return nil, fmt.Errorf("%w for plugin %q", ErrEmptyToken, p.PluginID)
		case p.PluginID == "":
			return nil, errors.New("auth: a plugin token without a plugin id")
		case seen[p.Token]:
			return nil, fmt.Errorf("auth: the token of plugin %q is not unique", p.PluginID)
		}
		seen[p.Token] = true
		c.plugins = append(c.plugins, pluginToken{token: []byte(p.Token), id: p.PluginID})
	}
	return c, nil
}

// CheckMetadata returns nil when md carries an accepted token, and an
// UNAUTHENTICATED status error that says what is wrong otherwise.
func (c *Checker) CheckMetadata(md metadata.MD) error {
	_, err := c.Identify(md)
	return err
}

// Identify returns the plugin id that the token in md names: "" for the
// token that names no plugin. A missing or wrong token is an
// UNAUTHENTICATED status error that says what is wrong. Every accepted
// token is compared, each in constant time, whichever matches.
func (c *Checker) Identify(md metadata.MD) (string, error) {
	values := md.Get(MetadataKey)
	switch len(values) {
	case 0:
		return "", status.Error(codes.Unauthenticated, "auth: missing plugin token: send \"authorization: Bearer <token>\"")
	case 1:
	default:
		return "", status.Errorf(codes.Unauthenticated, "auth: %d authorization entries; send exactly one", len(values))
	}
	scheme, token, found := strings.Cut(values[0], " ")
	if !found || !strings.EqualFold(scheme, Scheme) {
		return "", status.Error(codes.Unauthenticated, "auth: authorization is not a Bearer token")
	}
	// RFC 7235 puts exactly one space before the token, and a token68
	// holds no space, so a second space makes the token wrong.
	got := []byte(token)
	ok := subtle.ConstantTimeCompare(got, c.want) == 1
	id := ""
	for _, p := range c.plugins {
		if subtle.ConstantTimeCompare(got, p.token) == 1 {
			ok, id = true, p.id
		}
	}
	if !ok {
		return "", status.Error(codes.Unauthenticated, "auth: invalid plugin token")
	}
	return id, nil
}

// TapHandle is a [tap.ServerInHandle] for [grpc.InTapHandle]: it checks
// the token of every call except those of [HealthService] when the request
// headers arrive, before the server reads the request message. The
// context of a call with a plugin's token carries the plugin's id.
func (c *Checker) TapHandle(ctx context.Context, info *tap.Info) (context.Context, error) {
	if service, _, _ := strings.Cut(strings.TrimPrefix(info.FullMethodName, "/"), "/"); service == HealthService {
		return ctx, nil
	}
	id, err := c.Identify(info.Header)
	if err != nil {
		return ctx, err
	}
	if id != "" {
		ctx = NewContext(ctx, id)
	}
	return ctx, nil
}

type pluginIDKey struct{}

// NewContext returns a copy of ctx that carries the id of the calling
// plugin.
func NewContext(ctx context.Context, pluginID string) context.Context {
	return context.WithValue(ctx, pluginIDKey{}, pluginID)
}

// PluginIDFromContext returns the id of the plugin whose token the call
// of ctx carried, and false when the token names no plugin.
func PluginIDFromContext(ctx context.Context) (string, bool) {
	id, ok := ctx.Value(pluginIDKey{}).(string)
	return id, ok && id != ""
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
