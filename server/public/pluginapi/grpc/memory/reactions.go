package memory

// This file holds the handlers of the reactions domain; posts_store.go
// holds its state.

import (
	"context"
	"net/http"
	"regexp"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// validEmojiName is the rule of model.Reaction.IsValid for emoji names.
var validEmojiName = regexp.MustCompile(`^[a-zA-Z0-9\-\+_]{1,64}$`)

func invalidReaction(field, message string) *apperror.Error {
	e := apperror.New("model.reaction.is_valid."+field+".app_error", message, "", http.StatusBadRequest)
	e.Where = "Reaction.IsValid"
	return e
}

// checkReaction validates a reaction's fields and finds its live post.
// The caller holds the lock.
func (b *Backend) checkReaction(r *pluginpb.Reaction) (*pluginpb.Post, error) {
	switch {
	case r == nil:
		return nil, invalidParam("reaction")
	case !isValidID(r.GetUserId()):
		return nil, invalidReaction("user_id", "Invalid user id.")
	case !isValidID(r.GetPostId()):
		return nil, invalidReaction("post_id", "Invalid post id.")
	case !validEmojiName.MatchString(r.GetEmojiName()):
		return nil, invalidReaction("emoji_name", "Invalid emoji name: 1 to 64 letters, digits, '-', '+' and '_'.")
	}
	if _, err := b.user(r.GetUserId()); err != nil {
		return nil, err
	}
	return b.livePost(r.GetPostId())
}

// setHasReactions keeps a post's has_reactions flag true to its
// reactions. The caller holds the lock.
func (b *Backend) setHasReactions(postID string) {
	p := proto.Clone(b.posts.byID[postID]).(*pluginpb.Post)
	p.HasReactions = len(b.posts.reactionsOf(postID)) > 0
	p.UpdateAt = b.nowMillis()
	b.posts.byID[postID] = p
}

// AddReaction stores a user's reaction to a post; a user reacts once per
// post and emoji, so reacting again returns the existing reaction.
func (b *Backend) AddReaction(ctx context.Context, req *pluginpb.AddReactionRequest) (*pluginpb.AddReactionResponse, error) {
	b.mu.Lock()
	p, err := b.checkReaction(req.GetReaction())
	var r *pluginpb.Reaction
	added := false
	if err == nil {
		c := b.channels.byID[p.GetChannelId()]
		if c.GetDeleteAt() != 0 {
			err = apperror.New("api.reaction.save.archived_channel.app_error",
				"You cannot react to a post in an archived channel.", "channel_id="+c.GetId(), http.StatusForbidden)
		}
	}
	if err == nil {
		in := req.GetReaction()
		key := reactionKey{in.GetUserId(), in.GetPostId(), in.GetEmojiName()}
		if existing, ok := b.posts.reactions[key]; ok {
			r = proto.Clone(existing).(*pluginpb.Reaction)
		} else {
			now := b.nowMillis()
			r = &pluginpb.Reaction{UserId: key.user, PostId: key.post, EmojiName: key.emoji, CreateAt: now,
				UpdateAt: now, ChannelId: p.GetChannelId(), RemoteId: in.RemoteId}
			b.posts.reactions[key] = r
			b.setHasReactions(key.post)
			r = proto.Clone(r).(*pluginpb.Reaction)
			added = true
		}
	}
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if added {
		b.hooks.ReactionHasBeenAdded(ctx, proto.Clone(r).(*pluginpb.Reaction))
	}
	return &pluginpb.AddReactionResponse{Reaction: r}, nil
}

// RemoveReaction removes a user's reaction to a post; removing one that
// does not exist changes nothing.
func (b *Backend) RemoveReaction(ctx context.Context, req *pluginpb.RemoveReactionRequest) (*pluginpb.RemoveReactionResponse, error) {
	b.mu.Lock()
	p, err := b.checkReaction(req.GetReaction())
	var removed *pluginpb.Reaction
	if err == nil {
		// App.DeleteReactionForPost refuses in an archived channel, as
		// SaveReactionForPost does, with its own id.
		if c := b.channels.byID[p.GetChannelId()]; c.GetDeleteAt() != 0 {
			err = apperror.New("api.reaction.delete.archived_channel.app_error",
				"You cannot remove a reaction in an archived channel.", "channel_id="+c.GetId(), http.StatusForbidden)
		}
	}
	if err == nil {
		in := req.GetReaction()
		key := reactionKey{in.GetUserId(), in.GetPostId(), in.GetEmojiName()}
		if r, ok := b.posts.reactions[key]; ok {
			delete(b.posts.reactions, key)
			b.setHasReactions(key.post)
			removed = proto.Clone(r).(*pluginpb.Reaction)
		}
	}
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if removed != nil {
		b.hooks.ReactionHasBeenRemoved(ctx, removed)
	}
	return &pluginpb.RemoveReactionResponse{}, nil
}

// GetReactions returns the reactions to a post, oldest first.
func (b *Backend) GetReactions(_ context.Context, req *pluginpb.GetReactionsRequest) (*pluginpb.GetReactionsResponse, error) {
	if !isValidID(req.GetPostId()) {
		return nil, invalidParam("post_id")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return &pluginpb.GetReactionsResponse{Reactions: b.posts.reactionsOf(req.GetPostId())}, nil
}
