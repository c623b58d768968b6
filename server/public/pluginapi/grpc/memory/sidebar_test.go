package memory

import (
	"context"
	"net/http"
	"slices"
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
