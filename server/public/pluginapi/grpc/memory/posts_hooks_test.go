package memory

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// postAnsweringHooks records the post MessageWillBePosted sees and answers
// with it, changed by answer when answer is set.
type postAnsweringHooks struct {
	NoHooks
	saw    *pluginpb.Post
	answer func(*pluginpb.Post)
}

func (h *postAnsweringHooks) MessageWillBePosted(_ context.Context, p *pluginpb.Post) (*pluginpb.Post, string) {
	h.saw = proto.Clone(p).(*pluginpb.Post)
	if h.answer == nil {
		return nil, ""
	}
	h.answer(p)
	return p, ""
}

// TestMessageWillBePostedSeesAnUnsavedPost follows App.CreatePost
// (server/channels/app/post.go@004340fa1b599e5c2c24f28c6e18e2d0829889b9):
// MessageWillBePosted gets the post before "Pre-fill the CreateAt field",
// which sets create_at to now only if it is still 0, and before
// Store().Post().Save, whose SaveMultiple
// (server/channels/store/sqlstore/post_store.go@1a6a3a0d6d2d85b5b3399135434ffa5a28452cc5)
// refuses a post with an id (ErrInvalidInput, which CreatePost turns into
// app.post.save.existing.app_error, 400) and then runs model.Post.PreSave
// (server/public/model/post.go@bb39dc2c4819e3c40bc214f2405261279e9e8b3f):
// a new id, create_at now if 0, update_at = create_at. So the hook sees no
// id and the caller's create_at, and an answer's create_at is kept.
func TestMessageWillBePostedSeesAnUnsavedPost(t *testing.T) {
	const given, answered = int64(1_600_000_000_000), int64(1_650_000_000_000)
	tests := []struct {
		name       string
		createAt   int64 // the caller's
		answer     func(*pluginpb.Post)
		wantSeenAt int64 // the create_at the hook sees
		wantAt     int64 // the stored create_at; 0 means the clock's now
		wantErr    string
	}{
		{name: "unchanged", wantSeenAt: 0},
		{name: "caller's create_at", createAt: given, wantSeenAt: given, wantAt: given},
		{name: "answer's create_at", answer: func(p *pluginpb.Post) { p.CreateAt = answered }, wantAt: answered},
		{name: "answer's update_at", answer: func(p *pluginpb.Post) { p.UpdateAt = answered }},
		{name: "answer with an id", answer: func(p *pluginpb.Post) { p.Id = newID() }, wantErr: "app.post.save.existing.app_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hooks := &postAnsweringHooks{answer: tt.answer}
			clock := &fakeClock{now: time.UnixMilli(1_700_000_000_000)}
			b := New(Clock(clock.Now), WithHooks(hooks))
			ctx := context.Background()
			team := createTeam(t, b, newTeam("core"))
			alice := create(t, b, newUser("alice"))
			join(t, b, team.GetId(), alice.GetId())
			town, err := b.GetChannelByName(ctx, &pluginpb.GetChannelByNameRequest{TeamId: team.GetId(), Name: townSquare})
			if err != nil {
				t.Fatal(err)
			}
			clock.Advance(time.Second)
			resp, err := b.CreatePost(ctx, &pluginpb.CreatePostRequest{Post: &pluginpb.Post{
				ChannelId: town.GetChannel().GetId(), UserId: alice.GetId(), Message: "hi", CreateAt: tt.createAt,
			}})
			if hooks.saw.GetId() != "" || hooks.saw.GetCreateAt() != tt.wantSeenAt {
				t.Errorf("MessageWillBePosted saw id %q, create_at %d; want no id, create_at %d",
					hooks.saw.GetId(), hooks.saw.GetCreateAt(), tt.wantSeenAt)
			}
			list, _ := b.GetPostsForChannel(ctx, &pluginpb.GetPostsForChannelRequest{ChannelId: town.GetChannel().GetId(), PerPage: 10})
			if tt.wantErr != "" {
				wantAppErrorID(t, "CreatePost", err, tt.wantErr, http.StatusBadRequest)
				if n := len(list.GetPostList().GetOrder()); n != 0 {
					t.Errorf("stored posts = %d; want none", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("CreatePost = %v", err)
			}
			p := resp.GetPost()
			wantAt := tt.wantAt
			if wantAt == 0 {
				wantAt = clock.Now().UnixMilli()
			}
			if !isValidID(p.GetId()) || p.GetCreateAt() != wantAt || p.GetUpdateAt() != wantAt {
				t.Errorf("CreatePost = id %q, create_at %d, update_at %d; want a new id, %d and %d",
					p.GetId(), p.GetCreateAt(), p.GetUpdateAt(), wantAt, wantAt)
			}
			if got := list.GetPostList().GetPosts()[p.GetId()]; got.GetCreateAt() != wantAt {
				t.Errorf("stored post = %v; want it under its id with create_at %d", got, wantAt)
			}
		})
	}
}

// notifyingHooks answers NotificationsWillBeSent with reason and records
// the order of the post hooks and the posts NotificationsWillBeSent saw.
type notifyingHooks struct {
	NoHooks
	reason string
	calls  []string
	saw    []*pluginpb.Post
}

func (h *notifyingHooks) MessageHasBeenPosted(context.Context, *pluginpb.Post) {
	h.calls = append(h.calls, "MessageHasBeenPosted")
}

func (h *notifyingHooks) NotificationsWillBeSent(_ context.Context, p *pluginpb.Post) string {
	h.calls = append(h.calls, "NotificationsWillBeSent")
	h.saw = append(h.saw, p)
	return h.reason
}

// TestNotificationsWillBeSent follows App.CreatePost
// (server/channels/app/post.go@004340fa1b599e5c2c24f28c6e18e2d0829889b9):
// after the store's Save it starts MessageHasBeenPosted and then, in
// handlePostEvents, calls App.SendNotifications
// (server/channels/app/notification.go@003e57acc177bce65d7044d82b0397fb5a05bce4),
// which returns before the hook in an archived channel, runs
// NotificationsWillBeSent with the stored post, and on a reason logs
// "Notification for post rejected by plugin" and sends nothing; the post
// stays and CreatePost succeeds.
func TestNotificationsWillBeSent(t *testing.T) {
	tests := []struct {
		name      string
		reason    string
		archived  bool
		wantCalls []string
		wantLog   bool
	}{
		{name: "allowed", wantCalls: []string{"MessageHasBeenPosted", "NotificationsWillBeSent"}},
		{name: "rejected: logged, the post stays", reason: "quiet", wantCalls: []string{"MessageHasBeenPosted", "NotificationsWillBeSent"}, wantLog: true},
		{name: "archived channel: not called", reason: "quiet", archived: true, wantCalls: []string{"MessageHasBeenPosted"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			hooks := &notifyingHooks{reason: tt.reason}
			b := New(WithHooks(hooks), Logger(slog.New(slog.NewJSONHandler(&logs, nil))))
			ctx := context.Background()
			team := createTeam(t, b, newTeam("core"))
			alice := create(t, b, newUser("alice"))
			join(t, b, team.GetId(), alice.GetId())
			channelID := createChannel(t, b, &pluginpb.Channel{TeamId: team.GetId(), Name: "dev", DisplayName: "Dev", Type: channelOpen}).GetId()
			if tt.archived {
				if _, err := b.DeleteChannel(ctx, &pluginpb.DeleteChannelRequest{ChannelId: channelID}); err != nil {
					t.Fatal(err)
				}
			}
			resp, err := b.CreatePost(ctx, &pluginpb.CreatePostRequest{Post: &pluginpb.Post{ChannelId: channelID, UserId: alice.GetId(), Message: "hi"}})
			if err != nil {
				t.Fatalf("CreatePost = %v", err)
			}
			if !slices.Equal(hooks.calls, tt.wantCalls) {
				t.Errorf("hooks run = %v, want %v", hooks.calls, tt.wantCalls)
			}
			if len(hooks.saw) > 0 && !proto.Equal(hooks.saw[0], resp.GetPost()) {
				t.Errorf("NotificationsWillBeSent saw %v, want the stored post %v", hooks.saw[0], resp.GetPost())
			}
			if _, err := b.GetPost(ctx, &pluginpb.GetPostRequest{PostId: resp.GetPost().GetId()}); err != nil {
				t.Errorf("GetPost after CreatePost = %v; the post must stay", err)
			}
			logged := strings.Contains(logs.String(), "Notification for post rejected by plugin")
			if logged != tt.wantLog || tt.wantLog && !strings.Contains(logs.String(), tt.reason) {
				t.Errorf("log = %s; want the rejection logged: %v", logs.String(), tt.wantLog)
			}
		})
	}
}
