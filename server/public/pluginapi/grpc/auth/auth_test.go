package auth

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"
)

func TestCheck(t *testing.T) {
	c, err := NewChecker("s3cret")
	if err != nil {
		t.Fatalf("NewChecker() = %v", err)
	}
	tests := []struct {
		name string
		md   metadata.MD // nil: no metadata at all
		ok   bool
		want string // part of the error message
	}{
		{"no metadata", nil, false, "missing plugin token"},
		{"no authorization", metadata.Pairs("x", "y"), false, "missing plugin token"},
		{"wrong scheme", metadata.Pairs(MetadataKey, "Basic s3cret"), false, "not a Bearer token"},
		{"bare token", metadata.Pairs(MetadataKey, "s3cret"), false, "not a Bearer token"},
		{"scheme glued to token", metadata.Pairs(MetadataKey, "Bearers3cret"), false, "not a Bearer token"},
		{"wrong token", metadata.Pairs(MetadataKey, "Bearer s3creT"), false, "invalid plugin token"},
		{"prefix of token", metadata.Pairs(MetadataKey, "Bearer s3cre"), false, "invalid plugin token"},
		{"token twice", metadata.Pairs(MetadataKey, "Bearer s3cret", MetadataKey, "Bearer s3cret"), false, "2 authorization entries"},
		{"right token", metadata.Pairs(MetadataKey, "Bearer s3cret"), true, ""},
		{"lower-case scheme", metadata.Pairs(MetadataKey, "bearer s3cret"), true, ""},
		{"upper-case scheme", metadata.Pairs(MetadataKey, "BEARER s3cret"), true, ""},
		{"two spaces", metadata.Pairs(MetadataKey, "Bearer  s3cret"), false, "invalid plugin token"},
		{"three spaces", metadata.Pairs(MetadataKey, "Bearer   s3cret"), false, "invalid plugin token"},
		{"tab", metadata.Pairs(MetadataKey, "Bearer\ts3cret"), false, "not a Bearer token"},
		{"trailing space", metadata.Pairs(MetadataKey, "Bearer s3cret "), false, "invalid plugin token"},
		{"mixed-case scheme", metadata.Pairs(MetadataKey, "bEaReR s3cret"), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.CheckMetadata(tt.md)
			if tt.ok {
				if err != nil {
					t.Fatalf("CheckMetadata() = %v; want nil", err)
				}
				return
			}
			if status.Code(err) != codes.Unauthenticated || !strings.Contains(status.Convert(err).Message(), tt.want) {
				t.Fatalf("CheckMetadata() = %v; want Unauthenticated with %q", err, tt.want)
			}
		})
	}
}

func TestTapHandle(t *testing.T) {
	c, err := NewChecker("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method string
		md     metadata.MD
		ok     bool
	}{
		{"/grpc.health.v1.Health/Check", nil, true},
		{"/grpc.health.v1.Health/Watch", nil, true},
		{"/grpc.health.v1.HealthX/Check", nil, false},
		{"/mattermost.plugin.PluginAPI/GetUser", nil, false},
		{"/mattermost.plugin.PluginAPI/GetUser", metadata.Pairs(MetadataKey, "Bearer s3cret"), true},
		{"/unknown.Service/Method", nil, false},
	}
	for _, tt := range tests {
		_, err := c.TapHandle(context.Background(), &tap.Info{FullMethodName: tt.method, Header: tt.md})
		if (err == nil) != tt.ok {
			t.Errorf("TapHandle(%s) = %v; want ok=%v", tt.method, err, tt.ok)
		}
	}
}

func TestNewCheckerEmpty(t *testing.T) {
	if _, err := NewChecker(""); err != ErrEmptyToken {
		t.Errorf("NewChecker(\"\") = %v; want ErrEmptyToken", err)
	}
}

func TestNewToken(t *testing.T) {
	a, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 2*tokenBytes || a == b {
		t.Errorf("NewToken() = %q, %q; want two distinct %d-character tokens", a, b, 2*tokenBytes)
	}
}

func TestPluginTokens(t *testing.T) {
	c, err := NewChecker("main", PluginToken{Token: "tok-a", PluginID: "com.example.a"}, PluginToken{Token: "tok-b", PluginID: "com.example.b"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		token  string
		wantID string
		ok     bool
	}{
		{"main", "", true},
		{"tok-a", "com.example.a", true},
		{"tok-b", "com.example.b", true},
		{"tok-c", "", false},
		{"tok-a ", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		md := metadata.Pairs(MetadataKey, "Bearer "+tt.token)
		ctx, err := c.TapHandle(context.Background(), &tap.Info{FullMethodName: "/mattermost.plugin.PluginAPI/GetUser", Header: md})
		if (err == nil) != tt.ok {
			t.Errorf("token %q: TapHandle = %v; want ok=%v", tt.token, err, tt.ok)
			continue
		}
		id, named := PluginIDFromContext(ctx)
		if id != tt.wantID || named != (tt.wantID != "") {
			t.Errorf("token %q: plugin id = %q, %v; want %q", tt.token, id, named, tt.wantID)
		}
	}
}

func TestNewCheckerPluginTokens(t *testing.T) {
	tests := []struct {
		name    string
		plugins []PluginToken
	}{
		{"empty token", []PluginToken{{Token: "", PluginID: "a"}}},
		{"empty id", []PluginToken{{Token: "x", PluginID: ""}}},
		{"the main token", []PluginToken{{Token: "main", PluginID: "a"}}},
		{"a token twice", []PluginToken{{Token: "x", PluginID: "a"}, {Token: "x", PluginID: "b"}}},
	}
	for _, tt := range tests {
		if _, err := NewChecker("main", tt.plugins...); err == nil {
			t.Errorf("%s: NewChecker accepted %v", tt.name, tt.plugins)
		}
	}
}
