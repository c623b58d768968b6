package memory

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// sidebarWorld is a team with alice as a member, her default channels and
// a channel "zeta" and "alpha" she joined.
type sidebarWorld struct {
	b            *Backend
	team         *pluginpb.Team
	alice        *pluginpb.User
	alpha, zeta  *pluginpb.Channel
	town, offTop string
}

func newSidebarWorld(t *testing.T) sidebarWorld {
	t.Helper()
	b, _ := newTestBackend(t)
	ctx := context.Background()
	w := sidebarWorld{b: b, team: createTeam(t, b, newTeam("core")), alice: create(t, b, newUser("alice"))}
	join(t, b, w.team.GetId(), w.alice.GetId())
	for _, c := range []**pluginpb.Channel{&w.zeta, &w.alpha} {
		name := "zeta"
		if c == &w.alpha {
			name = "alpha"
		}
		*c = createChannel(t, b, &pluginpb.Channel{TeamId: w.team.GetId(), Name: name, DisplayName: name, Type: channelOpen})
		if _, err := b.AddChannelMember(ctx, &pluginpb.AddChannelMemberRequest{ChannelId: (*c).GetId(), UserId: w.alice.GetId()}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []struct {
		name string
		id   *string
	}{{townSquare, &w.town}, {offTopic, &w.offTop}} {
		c, err := b.GetChannelByName(ctx, &pluginpb.GetChannelByNameRequest{TeamId: w.team.GetId(), Name: n.name})
		if err != nil {
			t.Fatal(err)
		}
		*n.id = c.GetChannel().GetId()
	}
	return w
}

func (w sidebarWorld) categories(t *testing.T) []*pluginpb.SidebarCategoryWithChannels {
	t.Helper()
	resp, err := w.b.GetChannelSidebarCategories(context.Background(), &pluginpb.GetChannelSidebarCategoriesRequest{UserId: w.alice.GetId(), TeamId: w.team.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetCategories().GetCategories()
}

func (w sidebarWorld) markUnread(t *testing.T, channelID string) string {
	t.Helper()
	m, ok := w.b.channels.member(channelID, w.alice.GetId())
	if !ok {
		t.Fatalf("alice is not a member of %s", channelID)
	}
	return m.GetNotifyProps()["mark_unread"]
}

// TestSidebarFollowsTheStore checks the sidebar against
// server/channels/app/channel_category.go@08107a67 (App.GetSidebarCategoriesForTeamForUser,
// App.CreateSidebarCategory, App.UpdateSidebarCategories,
// App.muteChannelsForUpdatedCategories) and
// server/channels/store/sqlstore/channel_store_categories.go@006d06fe
// (createInitialSidebarCategoriesT, completePopulatingCategoryChannelsT,
// CreateSidebarCategory, UpdateSidebarCategories, ClearSidebarOnTeamLeave).
func TestSidebarFollowsTheStore(t *testing.T) {
	ctx := context.Background()

	t.Run("defaults, with unfiled channels by display name", func(t *testing.T) {
		w := newSidebarWorld(t)
		cats := w.categories(t)
		if len(cats) != 3 || cats[2].GetSorting() != sidebarSortRecent || cats[0].GetSorting() != "" {
			t.Fatalf("categories = %v; want three, direct messages sorted by recency", cats)
		}
		// Off-Topic, Town Square, alpha, zeta: by display name, in byte
		// order.
		want := []string{w.offTop, w.town, w.alpha.GetId(), w.zeta.GetId()}
		if got := cats[1].GetChannelIds(); !slices.Equal(got, want) {
			t.Errorf("channels = %v; want %v", got, want)
		}
	})
	t.Run("no lookups: a non-member has no categories", func(t *testing.T) {
		w := newSidebarWorld(t)
		resp, err := w.b.GetChannelSidebarCategories(ctx, &pluginpb.GetChannelSidebarCategoriesRequest{UserId: newID(), TeamId: w.team.GetId()})
		if err != nil || len(resp.GetCategories().GetCategories()) != 0 {
			t.Errorf("GetChannelSidebarCategories(unknown user) = %v, %v; want none", resp, err)
		}
		_, err = w.b.CreateChannelSidebarCategory(ctx, &pluginpb.CreateChannelSidebarCategoryRequest{
			UserId: w.alice.GetId(), TeamId: "not-a-team", NewCategory: &pluginpb.SidebarCategoryWithChannels{DisplayName: "W"},
		})
		wantAppErrorID(t, "CreateChannelSidebarCategory(no categories)", err, "app.channel.sidebar_categories.app_error", http.StatusNotFound)
	})
	t.Run("a custom category needs no display name and is not collapsed", func(t *testing.T) {
		w := newSidebarWorld(t)
		resp, err := w.b.CreateChannelSidebarCategory(ctx, &pluginpb.CreateChannelSidebarCategoryRequest{
			UserId: w.alice.GetId(), TeamId: w.team.GetId(), NewCategory: &pluginpb.SidebarCategoryWithChannels{Collapsed: true, Muted: true},
		})
		if err != nil || resp.GetCategory().GetCollapsed() || !resp.GetCategory().GetMuted() {
			t.Errorf("CreateChannelSidebarCategory = %v, %v; want a muted, not collapsed category", resp, err)
		}
	})
	t.Run("muting a category mutes its channels, unmuting unmutes them", func(t *testing.T) {
		w := newSidebarWorld(t)
		channels := w.categories(t)[1]
		channels.Muted = true
		if _, err := w.b.UpdateChannelSidebarCategories(ctx, &pluginpb.UpdateChannelSidebarCategoriesRequest{
			UserId: w.alice.GetId(), TeamId: w.team.GetId(), Categories: []*pluginpb.SidebarCategoryWithChannels{channels},
		}); err != nil {
			t.Fatal(err)
		}
		if got := w.markUnread(t, w.zeta.GetId()); got != "mention" {
			t.Errorf("mark_unread after muting = %q; want mention", got)
		}
		channels.Muted = false
		if _, err := w.b.UpdateChannelSidebarCategories(ctx, &pluginpb.UpdateChannelSidebarCategoriesRequest{
			UserId: w.alice.GetId(), TeamId: w.team.GetId(), Categories: []*pluginpb.SidebarCategoryWithChannels{channels},
		}); err != nil {
			t.Fatal(err)
		}
		if got := w.markUnread(t, w.zeta.GetId()); got != "all" {
			t.Errorf("mark_unread after unmuting = %q; want all", got)
		}
	})
	t.Run("a channel moved into a muted category is muted", func(t *testing.T) {
		w := newSidebarWorld(t)
		resp, err := w.b.CreateChannelSidebarCategory(ctx, &pluginpb.CreateChannelSidebarCategoryRequest{
			UserId: w.alice.GetId(), TeamId: w.team.GetId(), NewCategory: &pluginpb.SidebarCategoryWithChannels{DisplayName: "Quiet", Muted: true},
		})
		if err != nil {
			t.Fatal(err)
		}
		quiet := resp.GetCategory()
		quiet.ChannelIds = []string{w.alpha.GetId()}
		// Only channels moved between the categories of the update count
		// (diffChannelsBetweenCategories), so both go in it.
		channels := w.categories(t)[2]
		channels.ChannelIds = slices.DeleteFunc(channels.ChannelIds, func(id string) bool { return id == w.alpha.GetId() })
		if _, err := w.b.UpdateChannelSidebarCategories(ctx, &pluginpb.UpdateChannelSidebarCategoriesRequest{
			UserId: w.alice.GetId(), TeamId: w.team.GetId(), Categories: []*pluginpb.SidebarCategoryWithChannels{quiet, channels},
		}); err != nil {
			t.Fatal(err)
		}
		if a, z := w.markUnread(t, w.alpha.GetId()), w.markUnread(t, w.zeta.GetId()); a != "mention" || z != "all" {
			t.Errorf("mark_unread of alpha, zeta = %q, %q; want mention, all", a, z)
		}
	})
	t.Run("direct messages keep their channels and muted flag", func(t *testing.T) {
		w := newSidebarWorld(t)
		dms := w.categories(t)[2]
		in := &pluginpb.SidebarCategoryWithChannels{Id: dms.GetId(), Muted: true, Collapsed: true, ChannelIds: []string{w.zeta.GetId()}}
		resp, err := w.b.UpdateChannelSidebarCategories(ctx, &pluginpb.UpdateChannelSidebarCategoriesRequest{
			UserId: w.alice.GetId(), TeamId: w.team.GetId(), Categories: []*pluginpb.SidebarCategoryWithChannels{in},
		})
		if err != nil {
			t.Fatal(err)
		}
		got := resp.GetCategories()[0]
		if got.GetMuted() || !got.GetCollapsed() || len(got.GetChannelIds()) != 0 {
			t.Errorf("direct messages = %v; want collapsed, not muted, no channel", got)
		}
	})
	t.Run("leaving the team clears the sidebar", func(t *testing.T) {
		w := newSidebarWorld(t)
		w.categories(t)
		if _, err := w.b.DeleteTeamMember(ctx, &pluginpb.DeleteTeamMemberRequest{TeamId: w.team.GetId(), UserId: w.alice.GetId()}); err != nil {
			t.Fatal(err)
		}
		if _, kept := w.b.sidebars[membershipKey{w.alice.GetId(), w.team.GetId()}]; kept {
			t.Errorf("the sidebar of a user who left the team was kept")
		}
	})
}

// TestSidebarCreatePlacesAfterFavorites follows
// server/channels/store/sqlstore/channel_store_categories.go@006d06fe:SqlChannelStore.CreateSidebarCategory:
// a new category goes after Favorites when Favorites is first, else first,
// and the categories are renumbered in steps of 10.
func TestSidebarCreatePlacesAfterFavorites(t *testing.T) {
	tests := []struct {
		name string
		// first moves the category of this type to the front beforehand.
		first string
		want  []string
	}{
		{"favorites first", categoryFavorites, []string{categoryFavorites, categoryCustom, categoryChannels, categoryDirectMessages}},
		{"channels first", categoryChannels, []string{categoryCustom, categoryChannels, categoryFavorites, categoryDirectMessages}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newSidebarWorld(t)
			cats := w.categories(t)
			key := membershipKey{w.alice.GetId(), w.team.GetId()}
			stored := w.b.sidebars[key]
			i := slices.IndexFunc(stored, func(c *pluginpb.SidebarCategoryWithChannels) bool { return c.GetType() == tt.first })
			w.b.sidebars[key] = append([]*pluginpb.SidebarCategoryWithChannels{stored[i]}, slices.Delete(slices.Clone(stored), i, i+1)...)
			resp, err := w.b.CreateChannelSidebarCategory(context.Background(), &pluginpb.CreateChannelSidebarCategoryRequest{
				UserId: w.alice.GetId(), TeamId: w.team.GetId(), NewCategory: &pluginpb.SidebarCategoryWithChannels{DisplayName: "Work"},
			})
			if err != nil {
				t.Fatal(err)
			}
			cats = w.categories(t)
			var types []string
			for j, c := range cats {
				types = append(types, c.GetType())
				if c.GetSortOrder() != int64(j*sidebarSortStep) {
					t.Errorf("sort order of %s = %d; want %d", c.GetType(), c.GetSortOrder(), j*sidebarSortStep)
				}
			}
			if !slices.Equal(types, tt.want) {
				t.Errorf("categories = %v; want %v", types, tt.want)
			}
			at := int64(slices.Index(tt.want, categoryCustom) * sidebarSortStep)
			if got := resp.GetCategory().GetSortOrder(); got != at {
				t.Errorf("the created category's sort order = %d; want %d", got, at)
			}
		})
	}
}

// TestSidebarUpdateFollowsTheStore follows
// server/channels/store/sqlstore/channel_store_categories.go@006d06fe:SqlChannelStore.UpdateSidebarCategories
// and server/channels/app/channel_category.go@08107a67:App.UpdateSidebarCategories:
// every category is read before anything changes and any store error is
// app.channel.sidebar_categories.app_error (500); the favorite_channel
// preferences follow the categories sent as favorites, by the type sent.
func TestSidebarUpdateFollowsTheStore(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// favorites are favorite_channel preferences saved "true" first.
		favorites func(w sidebarWorld) []string
		// send builds the categories sent from the current ones
		// (favorites, channels, direct messages).
		send       func(w sidebarWorld, cats []*pluginpb.SidebarCategoryWithChannels) []*pluginpb.SidebarCategoryWithChannels
		wantStatus int
		// wantFavorites are the channels with a favorite_channel
		// preference afterwards.
		wantFavorites func(w sidebarWorld) []string
	}{
		{
			name: "an unknown category is a 500, before any channel is checked",
			send: func(w sidebarWorld, cats []*pluginpb.SidebarCategoryWithChannels) []*pluginpb.SidebarCategoryWithChannels {
				cats[1].ChannelIds = []string{newID()}
				return []*pluginpb.SidebarCategoryWithChannels{cats[1], {Id: "nope"}}
			},
			wantStatus: http.StatusInternalServerError,
		},
		{
			name: "a channel moved into Favorites becomes a favorite",
			send: func(w sidebarWorld, cats []*pluginpb.SidebarCategoryWithChannels) []*pluginpb.SidebarCategoryWithChannels {
				cats[0].ChannelIds = []string{w.alpha.GetId()}
				return cats[:1]
			},
			wantFavorites: func(w sidebarWorld) []string { return []string{w.alpha.GetId()} },
		},
		{
			name:      "a channel moved out of Favorites is no longer a favorite",
			favorites: func(w sidebarWorld) []string { return []string{w.alpha.GetId(), w.zeta.GetId()} },
			send: func(w sidebarWorld, cats []*pluginpb.SidebarCategoryWithChannels) []*pluginpb.SidebarCategoryWithChannels {
				cats[0].ChannelIds = []string{w.zeta.GetId()}
				cats[1].ChannelIds = append(cats[1].ChannelIds, w.alpha.GetId())
				return cats[:2]
			},
			wantFavorites: func(w sidebarWorld) []string { return []string{w.zeta.GetId()} },
		},
		{
			name:      "another category drops the favorites of the channels sent",
			favorites: func(w sidebarWorld) []string { return []string{w.alpha.GetId(), w.zeta.GetId()} },
			send: func(w sidebarWorld, cats []*pluginpb.SidebarCategoryWithChannels) []*pluginpb.SidebarCategoryWithChannels {
				cats[1].ChannelIds = append(cats[1].ChannelIds, w.alpha.GetId())
				return cats[1:2]
			},
			wantFavorites: func(w sidebarWorld) []string { return []string{w.zeta.GetId()} },
		},
		{
			name:      "Favorites sent without its type drops the favorites of its channels",
			favorites: func(w sidebarWorld) []string { return []string{w.alpha.GetId()} },
			send: func(w sidebarWorld, cats []*pluginpb.SidebarCategoryWithChannels) []*pluginpb.SidebarCategoryWithChannels {
				cats[0].Type = ""
				return cats[:1]
			},
			wantFavorites: func(sidebarWorld) []string { return nil },
		},
		{
			name: "a favorite that is not a valid preference is a 500",
			send: func(w sidebarWorld, cats []*pluginpb.SidebarCategoryWithChannels) []*pluginpb.SidebarCategoryWithChannels {
				// Direct Messages' channels are not checked; sent as
				// favorites, they become preferences.
				cats[2].Type = categoryFavorites
				cats[2].ChannelIds = []string{strings.Repeat("x", 33)}
				return cats[2:]
			},
			wantStatus:    http.StatusInternalServerError,
			wantFavorites: func(sidebarWorld) []string { return nil },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newSidebarWorld(t)
			if tt.favorites != nil {
				var prefs []*pluginpb.Preference
				for _, id := range tt.favorites(w) {
					prefs = append(prefs, &pluginpb.Preference{UserId: w.alice.GetId(), Category: preferenceCategoryFavoriteChannel, Name: id, Value: "true"})
				}
				if _, err := w.b.UpdatePreferencesForUser(ctx, &pluginpb.UpdatePreferencesForUserRequest{UserId: w.alice.GetId(), Preferences: prefs}); err != nil {
					t.Fatal(err)
				}
			}
			_, err := w.b.UpdateChannelSidebarCategories(ctx, &pluginpb.UpdateChannelSidebarCategoriesRequest{
				UserId: w.alice.GetId(), TeamId: w.team.GetId(), Categories: tt.send(w, w.categories(t)),
			})
			if tt.wantStatus != 0 {
				wantAppErrorID(t, "UpdateChannelSidebarCategories", err, "app.channel.sidebar_categories.app_error", tt.wantStatus)
			} else if err != nil {
				t.Fatal(err)
			}
			if tt.wantFavorites == nil {
				return
			}
			var got []string
			for _, p := range w.b.preferences.ofUser(w.alice.GetId()) {
				if p.GetCategory() == preferenceCategoryFavoriteChannel && p.GetValue() == "true" {
					got = append(got, p.GetName())
				}
			}
			want := tt.wantFavorites(w)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("favorites = %v; want %v", got, want)
			}
		})
	}
}
