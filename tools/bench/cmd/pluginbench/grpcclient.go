package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/auth"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// runGRPCClient measures KVGet of a 1 KiB value and GetUser with a Go gRPC
// client of the server at -target.
func runGRPCClient(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("grpc-client", flag.ContinueOnError)
	var c commonFlags
	c.register(fs)
	target := fs.String("target", "", "the server's gRPC target")
	token := fs.String("token", "", "the server's token")
	userID := fs.String("user-id", "", "the user GetUser reads")
	key := fs.String("key", "bench-1k", "the KV key KVGet reads")
	stop, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	defer stop()
	if strings.HasPrefix(*target, "unix://") {
		*target = "unix:" + strings.TrimPrefix(*target, "unix://")
	}
	conn, err := grpc.NewClient(*target,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(tokenCreds(*token)))
	if err != nil {
		return err
	}
	defer conn.Close()
	api := pluginpb.NewPluginAPIClient(conn)
	ctx := context.Background()
	calls := map[string]func() error{
		"kvget": func() error {
			resp, err := api.KVGet(ctx, &pluginpb.KVGetRequest{Key: *key})
			if err == nil && len(resp.GetValue()) != 1024 {
				err = fmt.Errorf("KVGet read %d bytes; want 1024", len(resp.GetValue()))
			}
			return err
		},
		"getuser": func() error {
			_, err := api.GetUser(ctx, &pluginpb.GetUserRequest{UserId: *userID})
			return err
		},
	}
	for _, name := range []string{"kvget", "getuser"} {
		for _, n := range c.concurrency {
			s, err := measure("go-grpc/"+name, c.calls, n, c.warmup, calls[name])
			if err != nil {
				return err
			}
			if err := emit(out, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// tokenCreds sends the plugin token, as auth.PerRPCCredentials does.
type tokenCreds string

func (t tokenCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{auth.MetadataKey: auth.Scheme + " " + string(t)}, nil
}

func (tokenCreds) RequireTransportSecurity() bool { return false }
