package main

import (
	"io"
	"strings"
	"testing"

	"github.com/mattermost/mattermost-plugin-grpc/server/internal/pgtest"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// TestStoreSharesKVBetweenNodes runs two servers on one -store database:
// a key that one sets, the other reads and deletes, and the keys outlive
// both servers, without -state.
func TestStoreSharesKVBetweenNodes(t *testing.T) {
	dsn := pgtest.Start(t).NewDatabase(t)
	a, b := startServer(t, "-store", dsn), startServer(t, "-store", dsn)
	ctx := callCtx(t)
	if _, err := a.api.KVSet(ctx, &pluginpb.KVSetRequest{Key: "shared", Value: []byte("from a")}); err != nil {
		t.Fatalf("KVSet on a: %v", err)
	}
	got, err := b.api.KVGet(ctx, &pluginpb.KVGetRequest{Key: "shared"})
	if err != nil || string(got.GetValue()) != "from a" {
		t.Fatalf("KVGet on b = %v, %v", got, err)
	}
	ok, err := b.api.KVCompareAndSet(ctx, &pluginpb.KVCompareAndSetRequest{Key: "shared", OldValue: []byte("from a"), NewValue: []byte("from b")})
	if err != nil || !ok.GetSuccess() {
		t.Fatalf("KVCompareAndSet on b = %v, %v", ok, err)
	}
	for _, s := range []*devServer{a, b} {
		if err := s.stop(); err != nil {
			t.Fatalf("stop: %v\nlog:\n%s", err, s.logs)
		}
	}
	if !strings.Contains(a.logs.String(), "shared store opened") {
		t.Errorf("the log does not say that the store opened:\n%s", a.logs)
	}

	c := startServer(t, "-store", dsn)
	got, err = c.api.KVGet(callCtx(t), &pluginpb.KVGetRequest{Key: "shared"})
	if err != nil || string(got.GetValue()) != "from b" {
		t.Fatalf("KVGet on a new server = %v, %v", got, err)
	}
}

func TestStoreFlag(t *testing.T) {
	tests := []struct {
		value   string
		wantErr string
	}{
		{value: "", wantErr: ""},
		{value: "postgres://u@/db?host=/tmp", wantErr: ""},
		{value: "postgresql://u@localhost/db", wantErr: ""},
		{value: "mysql://u@localhost/db", wantErr: "-store: want a postgres://"},
		{value: "host=/tmp dbname=x", wantErr: "-store: want a postgres://"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			c, err := parseFlags([]string{"-store", tt.value}, io.Discard)
			if tt.wantErr == "" {
				if err != nil || c.storeDSN != tt.value {
					t.Fatalf("parseFlags(-store %q) = %q, %v", tt.value, c.storeDSN, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("parseFlags(-store %q) = %v; want %q", tt.value, err, tt.wantErr)
			}
		})
	}
}

// TestStoreUnreachableStopsTheServer: a -store database that cannot be
// reached stops the server before it listens, saying so.
func TestStoreUnreachableStopsTheServer(t *testing.T) {
	err := runContext(t.Context(), []string{"-store", "postgres://postgres@/none?host=" + t.TempDir() + "&connect_timeout=2"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "-store:") {
		t.Fatalf("runContext with an unreachable -store = %v", err)
	}
}
