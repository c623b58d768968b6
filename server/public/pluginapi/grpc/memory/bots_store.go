package memory

import (
	"cmp"
	"slices"

	"google.golang.org/protobuf/proto"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// This file holds the state of the bots domain. Its methods do not lock:
// the Backend's mutex guards it.

// botStore holds the bot records, by the id of the bot's user; the users
// themselves are in the userStore. A deactivated bot keeps its record,
// with delete_at set.
type botStore map[string]*pluginpb.Bot

// get returns a copy of a bot, deactivated or not.
func (s botStore) get(userID string) (*pluginpb.Bot, bool) {
	bot, ok := s[userID]
	if !ok {
		return nil, false
	}
	return proto.Clone(bot).(*pluginpb.Bot), true
}

// isBot reports whether the user is a bot, deactivated or not.
func (s botStore) isBot(userID string) bool {
	_, ok := s[userID]
	return ok
}

// put stores a copy of bot under its user id.
func (s botStore) put(bot *pluginpb.Bot) {
	s[bot.GetUserId()] = proto.Clone(bot).(*pluginpb.Bot)
}

// remove deletes a bot's record; an unknown id is no error.
func (s botStore) remove(userID string) {
	delete(s, userID)
}

// sorted returns copies of the bots that keep selects, oldest first and
// then by username, as SqlBotStore.GetAll orders them. Usernames are
// unique, so the order is total.
func (s botStore) sorted(keep func(*pluginpb.Bot) bool) []*pluginpb.Bot {
	var out []*pluginpb.Bot
	for _, bot := range s {
		if keep(bot) {
			out = append(out, proto.Clone(bot).(*pluginpb.Bot))
		}
	}
	slices.SortFunc(out, func(x, y *pluginpb.Bot) int {
		return cmp.Or(cmp.Compare(x.GetCreateAt(), y.GetCreateAt()), cmp.Compare(x.GetUsername(), y.GetUsername()))
	})
	return out
}
