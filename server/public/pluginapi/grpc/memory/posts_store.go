package memory

import (
	"cmp"
	"slices"

	"google.golang.org/protobuf/proto"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// This file holds the state of the posts and reactions domains. Its
// methods do not lock: the Backend's mutex guards it.

// reactionKey names one reaction: a user reacts once per post and emoji.
type reactionKey struct{ user, post, emoji string }

// postStore holds posts, deleted ones included, and reactions.
type postStore struct {
	byID      map[string]*pluginpb.Post
	reactions map[reactionKey]*pluginpb.Reaction
}

func newPostStore() postStore {
	return postStore{byID: make(map[string]*pluginpb.Post), reactions: make(map[reactionKey]*pluginpb.Reaction)}
}

// newestFirst orders posts by create_at, newest first, then by id.
func newestFirst(a, b *pluginpb.Post) int {
	return cmp.Or(cmp.Compare(b.GetCreateAt(), a.GetCreateAt()), cmp.Compare(b.GetId(), a.GetId()))
}

// inChannel returns the posts of a channel that keep reports true, newest
// first.
func (s postStore) inChannel(channelID string, keep func(*pluginpb.Post) bool) []*pluginpb.Post {
	var out []*pluginpb.Post
	for _, p := range s.byID {
		if p.GetChannelId() == channelID && keep(p) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, newestFirst)
	return out
}

// live reports whether a post is not deleted.
func live(p *pluginpb.Post) bool { return p.GetDeleteAt() == 0 }

// reactionsOf returns the live reactions to a post, oldest first.
func (s postStore) reactionsOf(postID string) []*pluginpb.Reaction {
	out := []*pluginpb.Reaction{}
	for k, r := range s.reactions {
		if k.post == postID {
			out = append(out, proto.Clone(r).(*pluginpb.Reaction))
		}
	}
	slices.SortFunc(out, func(a, b *pluginpb.Reaction) int {
		return cmp.Or(cmp.Compare(a.GetCreateAt(), b.GetCreateAt()), cmp.Compare(a.GetUserId(), b.GetUserId()),
			cmp.Compare(a.GetEmojiName(), b.GetEmojiName()))
	})
	return out
}

// list builds a PostList of posts, in the given order, with the root
// posts of their threads among its posts, as Mattermost builds them.
func (s postStore) list(posts []*pluginpb.Post) *pluginpb.PostList {
	l := &pluginpb.PostList{Order: []string{}, Posts: map[string]*pluginpb.Post{}}
	for _, p := range posts {
		l.Order = append(l.Order, p.GetId())
		l.Posts[p.GetId()] = proto.Clone(p).(*pluginpb.Post)
		if root, ok := s.byID[p.GetRootId()]; ok {
			if _, listed := l.Posts[root.GetId()]; !listed {
				l.Posts[root.GetId()] = proto.Clone(root).(*pluginpb.Post)
			}
		}
	}
	return l
}
