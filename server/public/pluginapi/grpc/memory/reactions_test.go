package memory

import (
	"context"
	"net/http"
	"testing"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// TestReactionsInArchivedChannels follows
// server/channels/app/reaction.go@07da5f69ae3f5f0c25540224db364f0520352635:
// App.SaveReactionForPost refuses a reaction to a post in an archived
// channel with api.reaction.save.archived_channel.app_error (403), and
// App.DeleteReactionForPost refuses its removal with
// api.reaction.delete.archived_channel.app_error (403); both pass again
// once the channel is restored.
func TestReactionsInArchivedChannels(t *testing.T) {
	w := newPostWorld(t)
	ctx := context.Background()
	p := w.post(t, w.alice, "react to me", "")
	r := &pluginpb.Reaction{UserId: w.bob.GetId(), PostId: p.GetId(), EmojiName: "smile"}
	if _, err := w.b.AddReaction(ctx, &pluginpb.AddReactionRequest{Reaction: r}); err != nil {
		t.Fatal(err)
	}
	other := createChannel(t, w.b, &pluginpb.Channel{TeamId: w.team.GetId(), Name: "old", DisplayName: "Old", Type: channelOpen})
	q, err := w.b.CreatePost(ctx, &pluginpb.CreatePostRequest{Post: &pluginpb.Post{ChannelId: other.GetId(), UserId: w.alice.GetId(), Message: "old"}})
	if err != nil {
		t.Fatal(err)
	}
	kept := &pluginpb.Reaction{UserId: w.bob.GetId(), PostId: q.GetPost().GetId(), EmojiName: "smile"}
	if _, err := w.b.AddReaction(ctx, &pluginpb.AddReactionRequest{Reaction: kept}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.b.DeleteChannel(ctx, &pluginpb.DeleteChannelRequest{ChannelId: other.GetId()}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
		id   string
	}{
		{"AddReaction", func() error {
			_, err := w.b.AddReaction(ctx, &pluginpb.AddReactionRequest{Reaction: &pluginpb.Reaction{UserId: w.bob.GetId(), PostId: q.GetPost().GetId(), EmojiName: "+1"}})
			return err
		}, "api.reaction.save.archived_channel.app_error"},
		{"RemoveReaction", func() error {
			_, err := w.b.RemoveReaction(ctx, &pluginpb.RemoveReactionRequest{Reaction: kept})
			return err
		}, "api.reaction.delete.archived_channel.app_error"},
	}
	for _, tt := range tests {
		wantErrorID(t, tt.name+"(archived channel)", tt.call(), tt.id, http.StatusForbidden)
	}
	list, _ := w.b.GetReactions(ctx, &pluginpb.GetReactionsRequest{PostId: q.GetPost().GetId()})
	if len(list.GetReactions()) != 1 {
		t.Errorf("reactions in the archived channel = %d; want the one reaction kept", len(list.GetReactions()))
	}
	if _, err := w.b.RemoveReaction(ctx, &pluginpb.RemoveReactionRequest{Reaction: r}); err != nil {
		t.Errorf("RemoveReaction(open channel) = %v", err)
	}
	if _, err := w.b.RestoreChannel(ctx, &pluginpb.RestoreChannelRequest{ChannelId: other.GetId()}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		if err := tt.call(); err != nil {
			t.Errorf("%s(restored channel) = %v", tt.name, err)
		}
	}
}
