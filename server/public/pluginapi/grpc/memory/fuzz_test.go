package memory

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// FuzzRequests feeds arbitrary bytes, decoded as requests, to the write
// paths of the backend. Whatever the input, a call must return a response
// or an AppError, never panic, and leave the store consistent.
func FuzzRequests(f *testing.F) {
	seeds := []proto.Message{
		&pluginpb.CreateUserRequest{User: &pluginpb.User{Username: "a", Email: "a@example.com", Password: "passw0rd!"}},
		&pluginpb.KVSetWithOptionsRequest{Key: "k", Value: []byte("v"), Options: &pluginpb.PluginKVSetOptions{Atomic: true}},
		&pluginpb.GetUsersRequest{Options: &pluginpb.UserGetOptions{PerPage: 5, Sort: "create_at"}},
	}
	for _, s := range seeds {
		data, err := proto.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b := New()
		ctx := context.Background()
		check := func(call string, err error) {
			var appErr *apperror.Error
			if err != nil && !errors.As(err, &appErr) {
				t.Fatalf("%s returned %v, not an AppError", call, err)
			}
		}
		create := &pluginpb.CreateUserRequest{}
		if proto.Unmarshal(data, create) == nil {
			resp, err := b.CreateUser(ctx, create)
			check("CreateUser", err)
			if err == nil && !isValidID(resp.GetUser().GetId()) {
				t.Fatalf("CreateUser stored a user with id %q", resp.GetUser().GetId())
			}
			update := &pluginpb.UpdateUserRequest{User: create.GetUser()}
			_, err = b.UpdateUser(ctx, update)
			check("UpdateUser", err)
		}
		kv := &pluginpb.KVSetWithOptionsRequest{}
		if proto.Unmarshal(data, kv) == nil {
			_, err := b.KVSetWithOptions(ctx, kv)
			check("KVSetWithOptions", err)
			_, err = b.KVCompareAndDelete(ctx, &pluginpb.KVCompareAndDeleteRequest{Key: kv.GetKey(), OldValue: kv.GetValue()})
			check("KVCompareAndDelete", err)
		}
		list := &pluginpb.GetUsersRequest{}
		if proto.Unmarshal(data, list) == nil {
			_, err := b.GetUsers(ctx, list)
			check("GetUsers", err)
		}
		if len(b.users.byID) != len(b.users.byUsername) || len(b.users.byID) != len(b.users.byEmail) {
			t.Fatalf("indexes out of step: %d users, %d usernames, %d emails",
				len(b.users.byID), len(b.users.byUsername), len(b.users.byEmail))
		}
	})
}
