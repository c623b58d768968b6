package memory

// This file holds the handlers and the state of the channel sidebar
// domain: each user's categories in each team.

import (
	"cmp"
	"context"
	"maps"
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
	sidebarSortRecent      = "recent"
)

// sidebarStore holds the categories of each user in each team, in order.
type sidebarStore map[membershipKey][]*pluginpb.SidebarCategoryWithChannels

// sidebarsError is the one error id of upstream's sidebar calls
// (channel_category.go@08107a67), with the status each call gives it.
func sidebarsError(details string, status int) *apperror.Error {
	return apperror.New("app.channel.sidebar_categories.app_error",
		"Unable to get or update the sidebar categories.", details, status)
}

// sidebar returns a user's categories in a team, creating the default ones
// on first use, with every channel of the user in exactly one category.
// As the store's getSidebarCategoriesT joins the live team and the user's
// current membership of it (channel_store_categories.go@006d06fe), there
// is no user or team lookup: a user who is not a current member of the
// live team has no categories (nil). The caller holds the lock.
func (b *Backend) sidebar(userID, teamID string) []*pluginpb.SidebarCategoryWithChannels {
	t, ok := b.teams.byID[teamID]
	if !ok || t.GetDeleteAt() != 0 || !b.teams.isMember(teamID, userID) {
		return nil
	}
	key := membershipKey{userID, teamID}
	cats, ok := b.sidebars[key]
	if !ok {
		// createInitialSidebarCategoriesT: deterministic ids, direct
		// messages sorted by recency.
		for i, kind := range []struct{ typ, name, sorting string }{
			{categoryFavorites, "Favorites", ""}, {categoryChannels, "Channels", ""},
			{categoryDirectMessages, "Direct Messages", sidebarSortRecent},
		} {
			cats = append(cats, &pluginpb.SidebarCategoryWithChannels{
				Id: kind.typ + "_" + userID + "_" + teamID, UserId: userID, TeamId: teamID, Type: kind.typ,
				DisplayName: kind.name, Sorting: kind.sorting, SortOrder: int64(i * sidebarSortStep), ChannelIds: []string{},
			})
		}
		cats[0].ChannelIds = b.favoritesFromPreferences(userID, teamID)
	}
	// Drop channels the user left; file the others under channels or DMs,
	// before the filed ones and by display name, as
	// completePopulatingCategoryChannelsT lists the live channels of no
	// category.
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
	unfiled := map[string][]*pluginpb.Channel{}
	for _, m := range b.channels.membersWhere(func(m *pluginpb.ChannelMember) bool { return m.GetUserId() == userID }) {
		ch := b.channels.byID[m.GetChannelId()]
		if placed[ch.GetId()] || ch.GetDeleteAt() != 0 || ch.GetTeamId() != teamID && ch.GetTeamId() != "" {
			continue
		}
		target := categoryChannels
		if ch.GetTeamId() == "" {
			target = categoryDirectMessages
		}
		unfiled[target] = append(unfiled[target], ch)
	}
	for _, c := range cats {
		chs := unfiled[c.GetType()]
		slices.SortStableFunc(chs, func(x, y *pluginpb.Channel) int { return strings.Compare(x.GetDisplayName(), y.GetDisplayName()) })
		ids := make([]string, 0, len(chs)+len(c.GetChannelIds()))
		for _, ch := range chs {
			ids = append(ids, ch.GetId())
		}
		c.ChannelIds = append(ids, c.GetChannelIds()...)
	}
	b.sidebars[key] = cats
	return cats
}

// muteChannels sets the user's memberships of channelIDs muted or unmuted,
// as App.setChannelsMuted does (channel.go@003a6338): mark_unread becomes
// "mention" or "all" where it differs, and last_update_at is stamped. The
// caller holds the lock.
func (b *Backend) muteChannels(userID string, channelIDs []string, muted bool) {
	want := "all"
	if muted {
		want = "mention"
	}
	for _, id := range channelIDs {
		old, ok := b.channels.member(id, userID)
		if !ok || (old.GetNotifyProps()["mark_unread"] == "mention") == muted {
			continue
		}
		m := proto.Clone(old).(*pluginpb.ChannelMember)
		if m.NotifyProps == nil {
			m.NotifyProps = map[string]string{}
		}
		m.NotifyProps["mark_unread"] = want
		m.LastUpdateAt = b.nowMillis()
		b.channels.members[membershipKey{id, userID}] = m
	}
}

// muteForUpdatedCategories mutes or unmutes channels as
// App.muteChannelsForUpdatedCategories does (channel_category.go@08107a67):
// the channels of a category whose muted flag changed, and the channels
// moved between a muted and an unmuted category. The caller holds the
// lock.
func (b *Backend) muteForUpdatedCategories(userID string, updated, original []*pluginpb.SidebarCategoryWithChannels) {
	var mute, unmute []string
	for i, u := range updated {
		o := original[i]
		switch {
		case u.GetMuted() && !o.GetMuted():
			mute = append(mute, u.GetChannelIds()...)
		case !u.GetMuted() && o.GetMuted():
			unmute = append(unmute, u.GetChannelIds()...)
		}
	}
	byID := func(cats []*pluginpb.SidebarCategoryWithChannels) (map[string]*pluginpb.SidebarCategoryWithChannels, map[string]string) {
		cat, of := map[string]*pluginpb.SidebarCategoryWithChannels{}, map[string]string{}
		for _, c := range cats {
			cat[c.GetId()] = c
			for _, id := range c.GetChannelIds() {
				of[id] = c.GetId()
			}
		}
		return cat, of
	}
	updatedCats, updatedOf := byID(updated)
	originalCats, originalOf := byID(original)
	for channelID, from := range originalOf {
		to := updatedOf[channelID]
		if to == "" || to == from {
			continue
		}
		switch {
		case updatedCats[to].GetMuted() && !originalCats[from].GetMuted():
			mute = append(mute, channelID)
		case !updatedCats[to].GetMuted() && originalCats[from].GetMuted():
			unmute = append(unmute, channelID)
		}
	}
	b.muteChannels(userID, mute, true)
	b.muteChannels(userID, unmute, false)
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

// GetChannelSidebarCategories returns a user's sidebar in a team, as
// App.GetSidebarCategoriesForTeamForUser (channel_category.go@08107a67):
// none for a user who is not a current member of the live team.
func (b *Backend) GetChannelSidebarCategories(_ context.Context, req *pluginpb.GetChannelSidebarCategoriesRequest) (*pluginpb.GetChannelSidebarCategoriesResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	cats := b.sidebar(req.GetUserId(), req.GetTeamId())
	out := &pluginpb.OrderedSidebarCategories{Categories: cloneCategories(cats), Order: []string{}}
	for _, c := range cats {
		out.Order = append(out.Order, c.GetId())
	}
	return &pluginpb.GetChannelSidebarCategoriesResponse{Categories: out}, nil
}

// CreateChannelSidebarCategory creates a custom category in a user's
// sidebar, as the store's CreateSidebarCategory
// (channel_store_categories.go@006d06fe): no categories (the user is not
// a current member of the live team) is
// app.channel.sidebar_categories.app_error (404); the new category goes
// after Favorites when Favorites is first, else first, with the sorting,
// muted flag and channels given (not collapsed), and the categories are
// renumbered; its channels leave their categories. The display name is
// not checked.
func (b *Backend) CreateChannelSidebarCategory(_ context.Context, req *pluginpb.CreateChannelSidebarCategoryRequest) (*pluginpb.CreateChannelSidebarCategoryResponse, error) {
	in := req.GetNewCategory()
	if in == nil {
		return nil, invalidParam("new_category")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	cats := b.sidebar(req.GetUserId(), req.GetTeamId())
	if len(cats) == 0 {
		return nil, sidebarsError("user_id="+apperror.Truncate(req.GetUserId(), apperror.MaxShortBytes)+
			" team_id="+apperror.Truncate(req.GetTeamId(), apperror.MaxShortBytes), http.StatusNotFound)
	}
	if err := b.checkSidebarChannels(req.GetUserId(), req.GetTeamId(), in.GetChannelIds()); err != nil {
		return nil, err
	}
	c := &pluginpb.SidebarCategoryWithChannels{
		Id: newID(), UserId: req.GetUserId(), TeamId: req.GetTeamId(), Type: categoryCustom,
		DisplayName: in.GetDisplayName(), Sorting: in.GetSorting(), Muted: in.GetMuted(),
	}
	// After Favorites when Favorites is first, else first.
	at := 0
	if cats[0].GetType() == categoryFavorites {
		at = 1
	}
	cats = slices.Insert(cats, at, c)
	for i, cat := range cats {
		cat.SortOrder = int64(i * sidebarSortStep)
	}
	moveInto(cats, c, in.GetChannelIds())
	b.sidebars[membershipKey{req.GetUserId(), req.GetTeamId()}] = cats
	return &pluginpb.CreateChannelSidebarCategoryResponse{Category: proto.Clone(c).(*pluginpb.SidebarCategoryWithChannels)}, nil
}

// UpdateChannelSidebarCategories updates a user's categories, all or
// none, as App.UpdateSidebarCategories and the store's
// UpdateSidebarCategories do (channel_category.go@08107a67,
// channel_store_categories.go@006d06fe): every category is looked up
// before any changes, and a failure is
// app.channel.sidebar_categories.app_error (500); the sorting and
// collapsed flag of each category, the display name of a custom one, and
// the muted flag and channels of any but Direct Messages, whose channels
// are filed by the server; a channel moved into a category leaves the
// others. The favorite_channel preferences follow the categories sent as
// favorites ([Backend.favoritesToPreferences]). Then the channels of a
// category whose muted flag changed, and those moved between a muted and
// an unmuted category, are muted or unmuted.
func (b *Backend) UpdateChannelSidebarCategories(_ context.Context, req *pluginpb.UpdateChannelSidebarCategoriesRequest) (*pluginpb.UpdateChannelSidebarCategoriesResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	stored := b.sidebar(req.GetUserId(), req.GetTeamId())
	// The store reads every category, by id, before it changes any; a
	// miss is a store error, which the app answers with 500.
	at := make([]int, len(req.GetCategories()))
	for j, in := range req.GetCategories() {
		at[j] = slices.IndexFunc(stored, func(c *pluginpb.SidebarCategoryWithChannels) bool { return c.GetId() == in.GetId() })
		if at[j] < 0 {
			return nil, sidebarsError("category_id="+apperror.Truncate(in.GetId(), apperror.MaxShortBytes), http.StatusInternalServerError)
		}
	}
	for j, in := range req.GetCategories() {
		if stored[at[j]].GetType() == categoryDirectMessages {
			continue
		}
		if err := b.checkSidebarChannels(req.GetUserId(), req.GetTeamId(), in.GetChannelIds()); err != nil {
			return nil, err
		}
	}
	cats := cloneCategories(stored)
	updated := make([]*pluginpb.SidebarCategoryWithChannels, 0, len(at))
	original := make([]*pluginpb.SidebarCategoryWithChannels, 0, len(at))
	for j, in := range req.GetCategories() {
		c := cats[at[j]]
		original = append(original, proto.Clone(stored[at[j]]).(*pluginpb.SidebarCategoryWithChannels))
		if c.GetType() == categoryCustom {
			c.DisplayName = in.GetDisplayName()
		}
		c.Sorting, c.Collapsed = in.GetSorting(), in.GetCollapsed()
		if c.GetType() != categoryDirectMessages {
			c.Muted = in.GetMuted()
			moveInto(cats, c, in.GetChannelIds())
		}
		updated = append(updated, c)
	}
	if err := b.favoritesToPreferences(req.GetUserId(), req.GetCategories(), original); err != nil {
		return nil, err
	}
	b.sidebars[membershipKey{req.GetUserId(), req.GetTeamId()}] = cats
	// File the channels that left every category, as the store's
	// completePopulatingCategoryChannelsT does before it answers.
	b.sidebar(req.GetUserId(), req.GetTeamId())
	b.muteForUpdatedCategories(req.GetUserId(), updated, original)
	return &pluginpb.UpdateChannelSidebarCategoriesResponse{Categories: cloneCategories(updated)}, nil
}

// favoritesToPreferences rewrites a user's favorite_channel preferences
// as the store's UpdateSidebarCategories does once it has filed the
// channels (channel_store_categories.go@006d06fe), category by category
// in the order sent, by the type each was sent with: for "favorites", the
// preferences of the channels the category held are deleted, then each
// channel sent is saved with the value "true" (SqlPreferenceStore.save,
// preference_store.go@04e85894, which validates it); for any other type,
// the preferences of the channels sent are deleted. A preference that is
// not valid fails the whole update with
// app.channel.sidebar_categories.app_error (500), before anything
// changes. As the store writes the table itself, the sidebar is not
// synced again from these preferences and no hook runs. The caller holds
// the lock.
func (b *Backend) favoritesToPreferences(userID string, sent, original []*pluginpb.SidebarCategoryWithChannels) error {
	for _, in := range sent {
		if in.GetType() != categoryFavorites {
			continue
		}
		for _, id := range in.GetChannelIds() {
			p := &pluginpb.Preference{UserId: userID, Category: preferenceCategoryFavoriteChannel, Name: id, Value: "true"}
			if err := validatePreference(p); err != nil {
				return sidebarsError("favorite_channel="+apperror.Truncate(id, apperror.MaxShortBytes), http.StatusInternalServerError)
			}
		}
	}
	for i, in := range sent {
		drop := in.GetChannelIds()
		if in.GetType() == categoryFavorites {
			drop = original[i].GetChannelIds()
		}
		for _, id := range drop {
			delete(b.preferences, preferenceKey{userID, preferenceCategoryFavoriteChannel, id})
		}
		if in.GetType() != categoryFavorites {
			continue
		}
		for _, id := range in.GetChannelIds() {
			b.preferences.put([]*pluginpb.Preference{{UserId: userID, Category: preferenceCategoryFavoriteChannel, Name: id, Value: "true"}})
		}
	}
	return nil
}

// preferenceCategoryFavoriteChannel is the preference category of a
// user's favorite channels, named by channel id
// (model.PreferenceCategoryFavoriteChannel).
const preferenceCategoryFavoriteChannel = "favorite_channel"

// favoritesFromPreferences returns the channels a new Favorites category
// starts with, as the store's migrateFavoritesToSidebarT does when it
// creates a user's categories in a team
// (server/channels/store/sqlstore/channel_store_categories.go@b1683404):
// the channels of the user's favorite_channel preferences whose value is
// "true", that the user is a member of, in the team or in none, by display
// name and then name. The caller holds the lock.
func (b *Backend) favoritesFromPreferences(userID, teamID string) []string {
	var chs []*pluginpb.Channel
	for k, p := range b.preferences {
		if k.userID != userID || k.category != preferenceCategoryFavoriteChannel || p.GetValue() != "true" {
			continue
		}
		ch, ok := b.channels.byID[k.name]
		if _, member := b.channels.member(k.name, userID); !ok || !member || ch.GetTeamId() != teamID && ch.GetTeamId() != "" {
			continue
		}
		chs = append(chs, ch)
	}
	slices.SortFunc(chs, func(x, y *pluginpb.Channel) int {
		return cmp.Or(strings.Compare(x.GetDisplayName(), y.GetDisplayName()), strings.Compare(x.GetName(), y.GetName()))
	})
	ids := make([]string, 0, len(chs))
	for _, ch := range chs {
		ids = append(ids, ch.GetId())
	}
	return ids
}

// favoritesCategory returns the Favorites category of cats, or nil.
func favoritesCategory(cats []*pluginpb.SidebarCategoryWithChannels) *pluginpb.SidebarCategoryWithChannels {
	i := slices.IndexFunc(cats, func(c *pluginpb.SidebarCategoryWithChannels) bool { return c.GetType() == categoryFavorites })
	if i < 0 {
		return nil
	}
	return cats[i]
}

// unfavorite takes channelID out of the user's Favorites categories in
// every team, as the store's removeSidebarEntriesForPreferenceT does; the
// next read files the channel under Channels or Direct Messages again.
// The caller holds the lock.
func unfavorite(sidebars map[membershipKey][]*pluginpb.SidebarCategoryWithChannels, userID, channelID string) {
	for key, cats := range sidebars {
		if key.container != userID {
			continue
		}
		if fav := favoritesCategory(cats); fav != nil {
			fav.ChannelIds = slices.DeleteFunc(fav.ChannelIds, func(id string) bool { return id == channelID })
		}
	}
}

// updateSidebarByPreferences keeps the Favorites categories in step with
// saved preferences, as App.UpdatePreferences does through
// SqlChannelStore.UpdateSidebarChannelsByPreferences
// (server/channels/app/preference.go@0a29d834,
// server/channels/store/sqlstore/channel_store_categories.go@b1683404), in
// one transaction: each favorite_channel preference whose value is "false"
// takes its channel out of the user's Favorites categories; any other value
// needs the channel, archived or not (else the whole update of the sidebar
// fails, and nothing of it is kept), and puts it first in the Favorites
// category of its team (of every team for a direct or group channel) where
// it is not yet. Unlike upstream, which leaves it in a custom category too,
// the channel leaves its other categories: here a channel is in one
// category. Categories not yet created start from the preferences (see
// [Backend.favoritesFromPreferences]). The caller holds the lock.
func (b *Backend) updateSidebarByPreferences(prefs []*pluginpb.Preference) error {
	staged := make(map[membershipKey][]*pluginpb.SidebarCategoryWithChannels, len(b.sidebars))
	for key, cats := range b.sidebars {
		staged[key] = cloneCategories(cats)
	}
	for _, p := range prefs {
		if p.GetCategory() != preferenceCategoryFavoriteChannel {
			continue
		}
		if p.GetValue() == "false" {
			unfavorite(staged, p.GetUserId(), p.GetName())
			continue
		}
		ch, ok := b.channels.byID[p.GetName()]
		if !ok {
			return apperror.New("api.preference.update_preferences.update_sidebar.app_error",
				"Unable to update the sidebar categories to match the preferences.",
				"channel_id="+apperror.Truncate(p.GetName(), apperror.MaxShortBytes), http.StatusInternalServerError)
		}
		for key, cats := range staged {
			if key.container != p.GetUserId() || ch.GetTeamId() != "" && key.user != ch.GetTeamId() {
				continue
			}
			fav := favoritesCategory(cats)
			if fav == nil || slices.Contains(fav.GetChannelIds(), ch.GetId()) {
				continue
			}
			for _, c := range cats {
				c.ChannelIds = slices.DeleteFunc(c.ChannelIds, func(id string) bool { return id == ch.GetId() })
			}
			fav.ChannelIds = slices.Insert(fav.ChannelIds, 0, ch.GetId())
		}
	}
	maps.Copy(b.sidebars, staged)
	return nil
}

// deleteSidebarByPreferences is
// SqlChannelStore.DeleteSidebarChannelsByPreferences, which
// App.DeletePreferences runs (channel_store_categories.go@b1683404): each
// deleted favorite_channel preference, whatever its value, takes its
// channel out of the user's Favorites categories. The caller holds the
// lock.
func (b *Backend) deleteSidebarByPreferences(prefs []*pluginpb.Preference) {
	for _, p := range prefs {
		if p.GetCategory() == preferenceCategoryFavoriteChannel {
			unfavorite(b.sidebars, p.GetUserId(), p.GetName())
		}
	}
}
