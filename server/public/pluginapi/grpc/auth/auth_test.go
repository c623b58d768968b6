package auth

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
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
	}{
		{"no metadata", nil, false},
		{"no authorization", metadata.Pairs("x", "y"), false},
		{"wrong scheme", metadata.Pairs(MetadataKey, "Basic s3cret"), false},
		{"bare token", metadata.Pairs(MetadataKey, "s3cret"), false},
		{"wrong token", metadata.Pairs(MetadataKey, "Bearer s3creT"), false},
		{"prefix of token", metadata.Pairs(MetadataKey, "Bearer s3cre"), false},
		{"token twice", metadata.Pairs(MetadataKey, "Bearer s3cret", MetadataKey, "Bearer s3cret"), false},
		{"right token", metadata.Pairs(MetadataKey, "Bearer s3cret"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.md != nil {
				ctx = metadata.NewIncomingContext(ctx, tt.md)
			}
			err := c.Check(ctx)
			if tt.ok {
				if err != nil {
					t.Fatalf("Check() = %v; want nil", err)
				}
				return
			}
			if status.Code(err) != codes.Unauthenticated {
				t.Fatalf("Check() = %v; want Unauthenticated", err)
			}
		})
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
