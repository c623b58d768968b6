package memory

import (
	"bytes"
	"cmp"
	"net/http"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// This file holds the state of the emoji domain. Its methods do not lock:
// the Backend's mutex guards it.

// customEmoji is a custom emoji and its image.
type customEmoji struct {
	emoji     *pluginpb.Emoji
	image     []byte
	imageType string
}

// clone returns a deep copy of e.
func (e customEmoji) clone() customEmoji {
	return customEmoji{emoji: proto.Clone(e.emoji).(*pluginpb.Emoji), image: bytes.Clone(e.image), imageType: e.imageType}
}

// emojiStore holds the custom emojis in creation order. Names are unique.
type emojiStore []customEmoji

// add stores a new emoji with a copy of its image, created at now, and
// returns a copy of it. A name that another emoji has is
// api.emoji.create.duplicate.app_error (400).
func (s *emojiStore) add(name string, image []byte, imageType string, now int64) (*pluginpb.Emoji, error) {
	if _, taken := s.find(func(e *pluginpb.Emoji) bool { return e.GetName() == name }); taken {
		return nil, apperror.New("api.emoji.create.duplicate.app_error", "A custom emoji with that name exists.", "", http.StatusBadRequest)
	}
	e := &pluginpb.Emoji{Id: newID(), Name: name, CreateAt: now, UpdateAt: now}
	*s = append(*s, customEmoji{emoji: e, image: bytes.Clone(image), imageType: imageType})
	return proto.Clone(e).(*pluginpb.Emoji), nil
}

// find returns a copy of the first emoji that matches.
func (s emojiStore) find(match func(*pluginpb.Emoji) bool) (customEmoji, bool) {
	i := slices.IndexFunc(s, func(e customEmoji) bool { return match(e.emoji) })
	if i < 0 {
		return customEmoji{}, false
	}
	return s[i].clone(), true
}

// list returns copies of every emoji: by name when byName is set (emojis
// with the same name cannot exist, so the order is total), else in
// creation order.
func (s emojiStore) list(byName bool) []*pluginpb.Emoji {
	out := make([]*pluginpb.Emoji, len(s))
	for i, e := range s {
		out[i] = proto.Clone(e.emoji).(*pluginpb.Emoji)
	}
	if byName {
		slices.SortStableFunc(out, func(x, y *pluginpb.Emoji) int { return cmp.Compare(x.GetName(), y.GetName()) })
	}
	return out
}
