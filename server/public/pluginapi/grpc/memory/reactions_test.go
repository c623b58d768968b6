package memory

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

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

// reactionHooks records the reactions its hooks get.
type reactionHooks struct {
	NoHooks
	mu      sync.Mutex
	added   []*pluginpb.Reaction
	removed []*pluginpb.Reaction
}

func (h *reactionHooks) ReactionHasBeenAdded(_ context.Context, r *pluginpb.Reaction) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.added = append(h.added, r)
}

func (h *reactionHooks) ReactionHasBeenRemoved(_ context.Context, r *pluginpb.Reaction) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removed = append(h.removed, r)
}

// TestReactionsFollowTheAppLayer follows
// server/channels/app/reaction.go@0153ff029b0b92e14833fb02c623dae0aa02a071
// (App.SaveReactionForPost, App.DeleteReactionForPost),
// server/channels/store/sqlstore/reaction_store.go@18b8f650f288a74a7e5b4f2b9577607284801eca
// (SqlReactionStore.Save, Delete, GetForPost) and
// server/public/model/reaction.go@9d9f51848b1cecf11b2c5d9ea6ccfed26489f5e3
// (Reaction.IsValid, PreSave, PreUpdate): the post is looked up first, so
// any miss is app.post.get.app_error (404) before IsValid; then the limit
// of distinct emoji per post (app.reaction.save.save.too_many_reactions,
// 400); the user is not looked up; a saved reaction keeps a given
// create_at; saving again is an upsert and runs ReactionHasBeenAdded
// again; removing checks no field, succeeds for a missing reaction, stamps
// the post and runs ReactionHasBeenRemoved with the reaction as given;
// GetReactions checks no post id.
func TestReactionsFollowTheAppLayer(t *testing.T) {
	w := newPostWorld(t)
	h := &reactionHooks{}
	w.b.hooks = h
	ctx := context.Background()
	p := w.post(t, w.alice, "react to me", "")
	add := func(r *pluginpb.Reaction) (*pluginpb.Reaction, error) {
		resp, err := w.b.AddReaction(ctx, &pluginpb.AddReactionRequest{Reaction: r})
		return resp.GetReaction(), err
	}
	remove := func(r *pluginpb.Reaction) error {
		_, err := w.b.RemoveReaction(ctx, &pluginpb.RemoveReactionRequest{Reaction: r})
		return err
	}

	refusals := []struct {
		name   string
		call   func() error
		id     string
		status int
	}{
		{"unknown post, bad emoji", func() error {
			_, err := add(&pluginpb.Reaction{UserId: w.bob.GetId(), PostId: newID(), EmojiName: "no spaces"})
			return err
		}, "app.post.get.app_error", http.StatusNotFound},
		{"malformed post id", func() error {
			_, err := add(&pluginpb.Reaction{UserId: w.bob.GetId(), PostId: "nope", EmojiName: "smile"})
			return err
		}, "app.post.get.app_error", http.StatusNotFound},
		{"bad emoji", func() error {
			_, err := add(&pluginpb.Reaction{UserId: w.bob.GetId(), PostId: p.GetId(), EmojiName: "no spaces"})
			return err
		}, "model.reaction.is_valid.emoji_name.app_error", http.StatusBadRequest},
		{"malformed user id", func() error {
			_, err := add(&pluginpb.Reaction{UserId: "nope", PostId: p.GetId(), EmojiName: "smile"})
			return err
		}, "model.reaction.is_valid.user_id.app_error", http.StatusBadRequest},
		{"remove from an unknown post", func() error {
			return remove(&pluginpb.Reaction{UserId: w.bob.GetId(), PostId: newID(), EmojiName: "smile"})
		}, "app.post.get.app_error", http.StatusNotFound},
	}
	for _, tt := range refusals {
		wantErrorID(t, tt.name, tt.call(), tt.id, tt.status)
	}
	if len(h.added)+len(h.removed) != 0 {
		t.Fatalf("hooks ran for refused calls: added %v, removed %v", h.added, h.removed)
	}

	// No user lookup; a given create_at is kept; saving again upserts.
	stranger := &pluginpb.Reaction{UserId: newID(), PostId: p.GetId(), EmojiName: "smile", CreateAt: 1234}
	got, err := add(stranger)
	if err != nil || got.GetCreateAt() != 1234 || got.GetUpdateAt() == 0 || got.GetRemoteId() != "" || got.RemoteId == nil {
		t.Fatalf("AddReaction(unknown user, create_at 1234) = %v, %v; want it saved with create_at 1234, update_at now, remote_id \"\"", got, err)
	}
	w.clock.Advance(time.Second)
	again, err := add(&pluginpb.Reaction{UserId: stranger.GetUserId(), PostId: p.GetId(), EmojiName: "smile"})
	if err != nil || again.GetCreateAt() != w.clock.Now().UnixMilli() {
		t.Fatalf("AddReaction(again) = %v, %v; want the reaction saved, create_at now", again, err)
	}
	list, _ := w.b.GetReactions(ctx, &pluginpb.GetReactionsRequest{PostId: p.GetId()})
	if len(list.GetReactions()) != 1 || list.GetReactions()[0].GetCreateAt() != 1234 || list.GetReactions()[0].GetUpdateAt() != again.GetUpdateAt() {
		t.Errorf("stored = %v; want one reaction, create_at 1234, update_at of the second save", list.GetReactions())
	}
	if len(h.added) != 2 {
		t.Errorf("ReactionHasBeenAdded ran %d times; want 2, once a save", len(h.added))
	}

	// The limit of distinct emoji: an emoji already on the post passes.
	w.b.mu.Lock()
	section(w.b.config, "ServiceSettings")["UniqueEmojiReactionLimitPerPost"] = float64(2)
	w.b.mu.Unlock()
	if _, err := add(&pluginpb.Reaction{UserId: w.bob.GetId(), PostId: p.GetId(), EmojiName: "+1"}); err != nil {
		t.Fatal(err)
	}
	_, err = add(&pluginpb.Reaction{UserId: w.bob.GetId(), PostId: p.GetId(), EmojiName: "tada"})
	wantErrorID(t, "a third emoji", err, "app.reaction.save.save.too_many_reactions", http.StatusBadRequest)
	if _, err := add(&pluginpb.Reaction{UserId: w.alice.GetId(), PostId: p.GetId(), EmojiName: "smile"}); err != nil {
		t.Errorf("AddReaction(an emoji on the post) = %v; want it saved", err)
	}

	// Removing checks no field and needs no reaction; the post is stamped.
	before, _ := w.b.GetPost(ctx, &pluginpb.GetPostRequest{PostId: p.GetId()})
	w.clock.Advance(time.Second)
	missing := &pluginpb.Reaction{UserId: "nope", PostId: p.GetId(), EmojiName: "no spaces"}
	if err := remove(missing); err != nil {
		t.Fatalf("RemoveReaction(nothing stored, bad fields) = %v; want no error", err)
	}
	after, _ := w.b.GetPost(ctx, &pluginpb.GetPostRequest{PostId: p.GetId()})
	if after.GetPost().GetUpdateAt() <= before.GetPost().GetUpdateAt() {
		t.Errorf("post update_at %d after a removal; want it stamped past %d", after.GetPost().GetUpdateAt(), before.GetPost().GetUpdateAt())
	}
	if len(h.removed) != 1 || h.removed[0].GetUserId() != "nope" || h.removed[0].GetUpdateAt() != w.clock.Now().UnixMilli() {
		t.Errorf("ReactionHasBeenRemoved got %v; want the reaction as given, update_at now", h.removed)
	}

	for _, id := range []string{"nope", newID(), ""} {
		list, err := w.b.GetReactions(ctx, &pluginpb.GetReactionsRequest{PostId: id})
		if err != nil || len(list.GetReactions()) != 0 {
			t.Errorf("GetReactions(%q) = %v, %v; want none, no error", id, list, err)
		}
	}
}
