package memory

import (
	"cmp"
	"slices"

	"google.golang.org/protobuf/proto"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// This file holds the state of the channels domain. Its methods do not
// lock: the Backend's mutex guards it.

// Channel types of model.ChannelType.
const (
	channelOpen    = "O"
	channelPrivate = "P"
	channelDirect  = "D"
	channelGroup   = "G"
)

// Scheme roles of the default channel scheme.
const (
	roleChannelUser  = "channel_user"
	roleChannelAdmin = "channel_admin"
	roleChannelGuest = "channel_guest"
)

// The channels that every team gets, and that every new team member joins
// (Mattermost's default TeamSettings.ExperimentalDefaultChannels).
const (
	townSquare = "town-square"
	offTopic   = "off-topic"
)

// channelStore holds channels, their members and the channels that this
// plugin guards. Archived channels stay, with delete_at set; a member who
// leaves is removed, and remembered in left, as Mattermost's channel member
// history does.
type channelStore struct {
	byID    map[string]*pluginpb.Channel
	byName  map[membershipKey]string // by team id and name
	members map[membershipKey]*pluginpb.ChannelMember
	left    map[membershipKey]int64 // when the user last left the channel
	guarded map[string]bool
}

func newChannelStore() channelStore {
	return channelStore{
		byID:    make(map[string]*pluginpb.Channel),
		byName:  make(map[membershipKey]string),
		members: make(map[membershipKey]*pluginpb.ChannelMember),
		left:    make(map[membershipKey]int64),
		guarded: make(map[string]bool),
	}
}

// put stores c, replacing the channel with its id.
func (s channelStore) put(c *pluginpb.Channel) {
	if old, ok := s.byID[c.GetId()]; ok {
		delete(s.byName, membershipKey{old.GetTeamId(), old.GetName()})
	}
	s.byID[c.GetId()] = c
	s.byName[membershipKey{c.GetTeamId(), c.GetName()}] = c.GetId()
}

// removeMember ends a membership and records when the user left.
func (s channelStore) removeMember(channelID, userID string, at int64) {
	delete(s.members, membershipKey{channelID, userID})
	s.left[membershipKey{channelID, userID}] = at
}

// sorted returns copies of the channels that keep reports true, by display
// name and then name, as Mattermost orders channel listings.
func (s channelStore) sorted(keep func(*pluginpb.Channel) bool) []*pluginpb.Channel {
	out := []*pluginpb.Channel{}
	for _, c := range s.byID {
		if keep(c) {
			out = append(out, proto.Clone(c).(*pluginpb.Channel))
		}
	}
	slices.SortFunc(out, func(a, b *pluginpb.Channel) int {
		return cmp.Or(cmp.Compare(a.GetDisplayName(), b.GetDisplayName()), cmp.Compare(a.GetName(), b.GetName()),
			cmp.Compare(a.GetId(), b.GetId()))
	})
	return out
}

// member returns the membership of userID in channelID.
func (s channelStore) member(channelID, userID string) (*pluginpb.ChannelMember, bool) {
	m, ok := s.members[membershipKey{channelID, userID}]
	return m, ok
}

// membersWhere returns copies of the memberships that keep reports true,
// ordered by channel id and then user id.
func (s channelStore) membersWhere(keep func(*pluginpb.ChannelMember) bool) []*pluginpb.ChannelMember {
	out := []*pluginpb.ChannelMember{}
	for _, m := range s.members {
		if keep(m) {
			out = append(out, withChannelRoles(m))
		}
	}
	slices.SortFunc(out, func(a, b *pluginpb.ChannelMember) int {
		return cmp.Or(cmp.Compare(a.GetChannelId(), b.GetChannelId()), cmp.Compare(a.GetUserId(), b.GetUserId()))
	})
	return out
}

// withChannelRoles returns a copy of m whose roles field lists the scheme
// roles and then the explicit roles.
func withChannelRoles(m *pluginpb.ChannelMember) *pluginpb.ChannelMember {
	c := proto.Clone(m).(*pluginpb.ChannelMember)
	c.Roles = channelSchemeRoles.join(memberRoles{c.GetSchemeGuest(), c.GetSchemeUser(), c.GetSchemeAdmin(), c.GetExplicitRoles()})
	return c
}

// defaultChannelNotifyProps are the notify props of a new channel member.
func defaultChannelNotifyProps() map[string]string {
	return map[string]string{
		"desktop":                     "default",
		"email":                       "default",
		"push":                        "default",
		"mark_unread":                 "all",
		"ignore_channel_mentions":     "default",
		"channel_auto_follow_threads": "off",
	}
}
