package memory

// This file holds the handlers and the state of the channel sidebar
// domain: each user's categories in each team.

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// Sidebar category types and the step between sort orders.
const (
	categoryFavorites      = "favorites"
	categoryChannels       = "channels"
	categoryDirectMessages = "direct_messages"
	categoryCustom         = "custom"
	sidebarSortStep        = 10
)

// sidebarStore holds the categories of each user in each team, in order.
type sidebarStore map[membershipKey][]*pluginpb.SidebarCategoryWithChannels

// sidebar returns a user's categories in a team, creating the default ones
// on first use, with every channel of the user in exactly one category.
// The caller holds the lock.
func (b *Backend) sidebar(userID, teamID string) ([]*pluginpb.SidebarCategoryWithChannels, error) {
	if _, err := b.user(userID); err != nil {
		return nil, err
	}
	if _, err := b.team(teamID); err != nil {
		return nil, err
	}
	key := membershipKey{userID, teamID}
	cats, ok := b.sidebars[key]
	if !ok {
		for i, kind := range []struct{ typ, name string }{
			{categoryFavorites, "Favorites"}, {categoryChannels, "Channels"}, {categoryDirectMessages, "Direct Messages"},
		} {
			cats = append(cats, &pluginpb.SidebarCategoryWithChannels{
				Id: kind.typ + "_" + userID + "_" + teamID, UserId: userID, TeamId: teamID, Type: kind.typ,
				DisplayName: kind.name, SortOrder: int64(i * sidebarSortStep), ChannelIds: []string{},
			})
		}
	}
	// Drop channels the user left; file new ones under channels or DMs.
	placed := map[string]bool{}
	for _, c := range cats {
		c.ChannelIds = slices.DeleteFunc(c.ChannelIds, func(id string) bool {
			_, member := b.channels.member(id, userID)
			return !member || placed[id]
		})
		for _, id := range c.GetChannelIds() {
			placed[id] = true
		}
	}
	for _, m := range b.channels.membersWhere(func(m *pluginpb.ChannelMember) bool { return m.GetUserId() == userID }) {
		ch := b.channels.byID[m.GetChannelId()]
		if placed[ch.GetId()] || ch.GetTeamId() != teamID && ch.GetTeamId() != "" {
			continue
		}
		target := categoryChannels
		if ch.GetTeamId() == "" {
			target = categoryDirectMessages
		}
		for _, c := range cats {
			if c.GetType() == target {
				c.ChannelIds = append(c.ChannelIds, ch.GetId())
				break
			}
		}
	}
	b.sidebars[key] = cats
	return cats, nil
}

// checkSidebarChannels rejects channels that are not the user's in the
// team. The caller holds the lock.
func (b *Backend) checkSidebarChannels(userID, teamID string, ids []string) error {
	for _, id := range ids {
		c, ok := b.channels.byID[id]
		_, member := b.channels.member(id, userID)
		if !ok || !member || c.GetTeamId() != teamID && c.GetTeamId() != "" {
			return apperror.New("app.channel.sidebar_categories.channel_not_member.app_error",
				"A sidebar category may hold only the user's channels of the team.", "channel_id="+id, http.StatusBadRequest)
		}
	}
	return nil
}

// moveInto puts channel ids into category target, taking them out of the
// other categories.
func moveInto(cats []*pluginpb.SidebarCategoryWithChannels, target *pluginpb.SidebarCategoryWithChannels, ids []string) {
	for _, c := range cats {
		if c != target {
			c.ChannelIds = slices.DeleteFunc(c.ChannelIds, func(id string) bool { return slices.Contains(ids, id) })
		}
	}
	target.ChannelIds = slices.Compact(slices.Clone(ids))
}

func cloneCategories(cats []*pluginpb.SidebarCategoryWithChannels) []*pluginpb.SidebarCategoryWithChannels {
	out := make([]*pluginpb.SidebarCategoryWithChannels, len(cats))
	for i, c := range cats {
		out[i] = proto.Clone(c).(*pluginpb.SidebarCategoryWithChannels)
	}
	return out
}

// GetChannelSidebarCategories returns a user's sidebar in a team.
func (b *Backend) GetChannelSidebarCategories(_ context.Context, req *pluginpb.GetChannelSidebarCategoriesRequest) (*pluginpb.GetChannelSidebarCategoriesResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	cats, err := b.sidebar(req.GetUserId(), req.GetTeamId())
	if err != nil {
		return nil, err
	}
	out := &pluginpb.OrderedSidebarCategories{Categories: cloneCategories(cats)}
	for _, c := range cats {
		out.Order = append(out.Order, c.GetId())
	}
	return &pluginpb.GetChannelSidebarCategoriesResponse{Categories: out}, nil
}

// CreateChannelSidebarCategory creates a custom category at the top of a
// user's sidebar and moves its channels into it.
func (b *Backend) CreateChannelSidebarCategory(_ context.Context, req *pluginpb.CreateChannelSidebarCategoryRequest) (*pluginpb.CreateChannelSidebarCategoryResponse, error) {
	in := req.GetNewCategory()
	if in == nil || strings.TrimSpace(in.GetDisplayName()) == "" {
		return nil, apperror.New("app.channel.sidebar_categories.display_name.app_error",
			"A custom category needs a display name.", "", http.StatusBadRequest)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	cats, err := b.sidebar(req.GetUserId(), req.GetTeamId())
	if err != nil {
		return nil, err
	}
	if err := b.checkSidebarChannels(req.GetUserId(), req.GetTeamId(), in.GetChannelIds()); err != nil {
		return nil, err
	}
	c := &pluginpb.SidebarCategoryWithChannels{
		Id: newID(), UserId: req.GetUserId(), TeamId: req.GetTeamId(), Type: categoryCustom,
		DisplayName: in.GetDisplayName(), Sorting: in.GetSorting(), Muted: in.GetMuted(), Collapsed: in.GetCollapsed(),
	}
	cats = append([]*pluginpb.SidebarCategoryWithChannels{c}, cats...)
	for i, cat := range cats {
		cat.SortOrder = int64(i * sidebarSortStep)
	}
	moveInto(cats, c, in.GetChannelIds())
	b.sidebars[membershipKey{req.GetUserId(), req.GetTeamId()}] = cats
	return &pluginpb.CreateChannelSidebarCategoryResponse{Category: proto.Clone(c).(*pluginpb.SidebarCategoryWithChannels)}, nil
}

// UpdateChannelSidebarCategories updates a user's categories, all or none:
// the sorting, muting, collapsing and channels of each, and the display
// name of custom ones. A channel moved into a category leaves the others.
func (b *Backend) UpdateChannelSidebarCategories(_ context.Context, req *pluginpb.UpdateChannelSidebarCategoriesRequest) (*pluginpb.UpdateChannelSidebarCategoriesResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	stored, err := b.sidebar(req.GetUserId(), req.GetTeamId())
	if err != nil {
		return nil, err
	}
	cats := cloneCategories(stored)
	var updated []*pluginpb.SidebarCategoryWithChannels
	for _, in := range req.GetCategories() {
		i := slices.IndexFunc(cats, func(c *pluginpb.SidebarCategoryWithChannels) bool { return c.GetId() == in.GetId() })
		if i < 0 {
			return nil, apperror.New("app.channel.sidebar_categories.app_error",
				"Unable to find the sidebar category.", "category_id="+in.GetId(), http.StatusNotFound)
		}
		if err := b.checkSidebarChannels(req.GetUserId(), req.GetTeamId(), in.GetChannelIds()); err != nil {
			return nil, err
		}
		c := cats[i]
		if c.GetType() == categoryCustom {
			if strings.TrimSpace(in.GetDisplayName()) == "" {
				return nil, apperror.New("app.channel.sidebar_categories.display_name.app_error",
					"A custom category needs a display name.", "", http.StatusBadRequest)
			}
			c.DisplayName = in.GetDisplayName()
		}
		c.Sorting, c.Muted, c.Collapsed = in.GetSorting(), in.GetMuted(), in.GetCollapsed()
		moveInto(cats, c, in.GetChannelIds())
		updated = append(updated, c)
	}
	b.sidebars[membershipKey{req.GetUserId(), req.GetTeamId()}] = cats
	return &pluginpb.UpdateChannelSidebarCategoriesResponse{Categories: cloneCategories(updated)}, nil
}
