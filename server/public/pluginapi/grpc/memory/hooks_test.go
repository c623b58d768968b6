package memory

import (
	"context"
	"sync"
	"testing"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// notificationHooks records the notification hooks it gets.
type notificationHooks struct {
	NoHooks
	mu      sync.Mutex
	deleted []*pluginpb.Post
	created []*pluginpb.User
}

func (h *notificationHooks) MessageHasBeenDeleted(_ context.Context, p *pluginpb.Post) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.deleted = append(h.deleted, p)
}

func (h *notificationHooks) UserHasBeenCreated(_ context.Context, u *pluginpb.User) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.created = append(h.created, u)
}

// TestNotificationHooksFire: DeletePost and CreateUser run their hooks
// after the change is stored, with what was stored, and only on success.
func TestNotificationHooksFire(t *testing.T) {
	h := &notificationHooks{}
	b := New(WithHooks(h))
	ctx := context.Background()
	alice := create(t, b, &pluginpb.User{Username: "alice", Email: "alice@example.com", Password: "passw0rd!"})
	if _, err := b.CreateUser(ctx, &pluginpb.CreateUserRequest{User: &pluginpb.User{Username: "alice", Email: "a2@example.com", Password: "passw0rd!"}}); err == nil {
		t.Fatal("a second alice was created")
	}
	if len(h.created) != 1 || h.created[0].GetId() != alice.GetId() || h.created[0].GetPassword() != "" {
		t.Errorf("UserHasBeenCreated got %v; want alice once, without her password", h.created)
	}

	team := createTeam(t, b, newTeam("core"))
	join(t, b, team.GetId(), alice.GetId())
	town, err := b.GetChannelByName(ctx, &pluginpb.GetChannelByNameRequest{TeamId: team.GetId(), Name: townSquare})
	if err != nil {
		t.Fatal(err)
	}
	post, err := b.CreatePost(ctx, &pluginpb.CreatePostRequest{Post: &pluginpb.Post{ChannelId: town.GetChannel().GetId(), UserId: alice.GetId(), Message: "bye"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.DeletePost(ctx, &pluginpb.DeletePostRequest{PostId: post.GetPost().GetId()}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.DeletePost(ctx, &pluginpb.DeletePostRequest{PostId: post.GetPost().GetId()}); err == nil {
		t.Fatal("a deleted post was deleted again")
	}
	if len(h.deleted) != 1 || h.deleted[0].GetId() != post.GetPost().GetId() || h.deleted[0].GetDeleteAt() == 0 {
		t.Errorf("MessageHasBeenDeleted got %v; want the post once, with delete_at set", h.deleted)
	}
}
