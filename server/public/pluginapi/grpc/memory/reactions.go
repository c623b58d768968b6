package memory

// This file holds the handlers of the reactions domain; posts_store.go
// holds its state.

import (
	"cmp"
	"context"
	"net/http"
	"regexp"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// validEmojiName is the rule of model.Reaction.IsValid for emoji names
// (EmojiNameMaxLength is 64).
var validEmojiName = regexp.MustCompile(`^[a-zA-Z0-9\-\+_]{1,64}$`)

// defaultUniqueReactionLimit is ServiceSettings.UniqueEmojiReactionLimitPerPost's
// default: the distinct emoji a post may carry.
const defaultUniqueReactionLimit = 50

func invalidReaction(field, message string) *apperror.Error {
	e := apperror.New("model.reaction.is_valid."+field+".app_error", message, "", http.StatusBadRequest)
	e.Where = "Reaction.IsValid"
	return e
}

// reactionPost finds the live post of a reaction as App.GetSinglePost
// does: no id check, and any miss (an unknown, deleted or malformed id) is
// app.post.get.app_error (404). The caller holds the lock.
func (b *Backend) reactionPost(postID string) (*pluginpb.Post, error) {
	p, ok := b.posts.byID[postID]
	if !ok || !live(p) {
		return nil, postNotFound(apperror.Truncate(postID, apperror.MaxShortBytes))
	}
	return p, nil
}

// validReaction is model.Reaction.IsValid on a reaction that PreSave has
// stamped.
func validReaction(r *pluginpb.Reaction) error {
	switch {
	case !isValidID(r.GetUserId()):
		return invalidReaction("user_id", "Invalid user id.")
	case !isValidID(r.GetPostId()):
		return invalidReaction("post_id", "Invalid post id.")
	case !validEmojiName.MatchString(r.GetEmojiName()):
		return invalidReaction("emoji_name", "Invalid emoji name: 1 to 64 letters, digits, '-', '+' and '_'.")
	}
	return nil
}

// checkReaction validates a remote's reaction for the shared-channel sync:
// IsValid's fields, a known user and a live post. The caller holds the
// lock.
func (b *Backend) checkReaction(r *pluginpb.Reaction) (*pluginpb.Post, error) {
	if err := validReaction(r); err != nil {
		return nil, err
	}
	if _, err := b.user(r.GetUserId()); err != nil {
		return nil, err
	}
	return b.livePost(r.GetPostId())
}

// uniqueEmojiLimit is ServiceSettings.UniqueEmojiReactionLimitPerPost. The
// caller holds the lock.
func (b *Backend) uniqueEmojiLimit() int {
	if n := int(b.configNumber("ServiceSettings", "UniqueEmojiReactionLimitPerPost")); n > 0 {
		return n
	}
	return defaultUniqueReactionLimit
}

// emojiCount reports how many distinct emoji a post's reactions use, and
// whether emoji is among them. The caller holds the lock.
func (b *Backend) emojiCount(postID, emoji string) (count int, present bool) {
	seen := map[string]bool{}
	for k := range b.posts.reactions {
		if k.post == postID {
			seen[k.emoji] = true
		}
	}
	return len(seen), seen[emoji]
}

// setHasReactions keeps a post's has_reactions flag true to its
// reactions, and stamps its update_at, as the reaction store's writes do.
// The caller holds the lock.
func (b *Backend) setHasReactions(postID string) {
	p := proto.Clone(b.posts.byID[postID]).(*pluginpb.Post)
	p.HasReactions = len(b.posts.reactionsOf(postID)) > 0
	p.UpdateAt = b.nowMillis()
	b.posts.byID[postID] = p
}

// AddReaction saves a reaction as App.SaveReactionForPost and the
// reaction store's Save do: the live post first, then the limit of
// distinct emoji per post (an emoji already on the post passes), then an
// archived channel; then PreSave (create_at kept when given, update_at
// now) and IsValid. Saving a reaction again is an upsert: the stored one
// keeps its create_at, and the answer is the reaction saved. The user is
// not looked up. ReactionHasBeenAdded runs after every save.
func (b *Backend) AddReaction(ctx context.Context, req *pluginpb.AddReactionRequest) (*pluginpb.AddReactionResponse, error) {
	in := req.GetReaction()
	if in == nil {
		return nil, invalidParam("reaction")
	}
	b.mu.Lock()
	r, err := b.addReaction(in)
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	b.hooks.ReactionHasBeenAdded(ctx, proto.Clone(r).(*pluginpb.Reaction))
	return &pluginpb.AddReactionResponse{Reaction: r}, nil
}

// addReaction is AddReaction's check and save. The caller holds the lock.
func (b *Backend) addReaction(in *pluginpb.Reaction) (*pluginpb.Reaction, error) {
	p, err := b.reactionPost(in.GetPostId())
	if err != nil {
		return nil, err
	}
	if count, present := b.emojiCount(p.GetId(), in.GetEmojiName()); !present && count >= b.uniqueEmojiLimit() {
		return nil, apperror.New("app.reaction.save.save.too_many_reactions",
			"Reaction limit has been reached for this post.", "post_id="+p.GetId(), http.StatusBadRequest)
	}
	c, err := b.channel(p.GetChannelId())
	if err != nil {
		return nil, err
	}
	if c.GetDeleteAt() != 0 {
		return nil, apperror.New("api.reaction.save.archived_channel.app_error",
			"You cannot react to a post in an archived channel.", "channel_id="+c.GetId(), http.StatusForbidden)
	}
	now := b.nowMillis()
	r := &pluginpb.Reaction{UserId: in.GetUserId(), PostId: p.GetId(), EmojiName: in.GetEmojiName(),
		CreateAt: cmp.Or(in.GetCreateAt(), now), UpdateAt: now, ChannelId: p.GetChannelId(),
		RemoteId: proto.String(in.GetRemoteId())}
	if err := validReaction(r); err != nil {
		return nil, err
	}
	key := reactionKey{r.GetUserId(), r.GetPostId(), r.GetEmojiName()}
	stored := proto.Clone(r).(*pluginpb.Reaction)
	if old, ok := b.posts.reactions[key]; ok {
		stored.CreateAt = old.GetCreateAt()
	}
	b.posts.reactions[key] = stored
	b.setHasReactions(key.post)
	return r, nil
}

// RemoveReaction removes a reaction as App.DeleteReactionForPost and the
// reaction store's Delete do: the live post first, then an archived
// channel; no IsValid, and removing a reaction that is not there is no
// error. The post's update_at is stamped either way, and
// ReactionHasBeenRemoved runs with the reaction as given, update_at now.
func (b *Backend) RemoveReaction(ctx context.Context, req *pluginpb.RemoveReactionRequest) (*pluginpb.RemoveReactionResponse, error) {
	in := req.GetReaction()
	if in == nil {
		return nil, invalidParam("reaction")
	}
	b.mu.Lock()
	r, err := b.removeReaction(in)
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	b.hooks.ReactionHasBeenRemoved(ctx, r)
	return &pluginpb.RemoveReactionResponse{}, nil
}

// removeReaction is RemoveReaction's check and delete. The caller holds
// the lock.
func (b *Backend) removeReaction(in *pluginpb.Reaction) (*pluginpb.Reaction, error) {
	p, err := b.reactionPost(in.GetPostId())
	if err != nil {
		return nil, err
	}
	c, err := b.channel(p.GetChannelId())
	if err != nil {
		return nil, err
	}
	if c.GetDeleteAt() != 0 {
		return nil, apperror.New("api.reaction.delete.archived_channel.app_error",
			"You cannot remove a reaction in an archived channel.", "channel_id="+c.GetId(), http.StatusForbidden)
	}
	r := proto.Clone(in).(*pluginpb.Reaction)
	r.UpdateAt = b.nowMillis()
	r.RemoteId = proto.String(in.GetRemoteId())
	delete(b.posts.reactions, reactionKey{in.GetUserId(), in.GetPostId(), in.GetEmojiName()})
	b.setHasReactions(p.GetId())
	return r, nil
}

// GetReactions returns the live reactions to a post, oldest first, as
// the reaction store's GetForPost: no check of the post id, so an unknown
// or malformed one has none.
func (b *Backend) GetReactions(_ context.Context, req *pluginpb.GetReactionsRequest) (*pluginpb.GetReactionsResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return &pluginpb.GetReactionsResponse{Reactions: b.posts.reactionsOf(req.GetPostId())}, nil
}
