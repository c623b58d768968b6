package memory

import (
	"context"
	"net/http"
	"testing"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// TestFavoritesFollowPreferences checks that favorite_channel preferences
// move channels into and out of the Favorites sidebar category, as
// App.UpdatePreferences and App.DeletePreferences do
// (server/channels/app/preference.go@0a29d834) through the store's
// UpdateSidebarChannelsByPreferences, DeleteSidebarChannelsByPreferences and,
// for categories created later, migrateFavoritesToSidebarT
// (server/channels/store/sqlstore/channel_store_categories.go@b1683404).
func TestFavoritesFollowPreferences(t *testing.T) {
	ctx := context.Background()
	b, _ := newTestBackend(t)
	alice := create(t, b, newUser("alice"))
	team := createTeam(t, b, newTeam("core"))
	join(t, b, team.GetId(), alice.GetId())
	ch := createChannel(t, b, &pluginpb.Channel{TeamId: team.GetId(), Type: channelOpen, Name: "plans", DisplayName: "Plans"})
	if _, err := b.AddChannelMember(ctx, &pluginpb.AddChannelMemberRequest{ChannelId: ch.GetId(), UserId: alice.GetId()}); err != nil {
		t.Fatal(err)
	}
	fav := func(value string) *pluginpb.Preference {
		return &pluginpb.Preference{UserId: alice.GetId(), Category: "favorite_channel", Name: ch.GetId(), Value: value}
	}
	favorites := func() []string {
		t.Helper()
		resp, err := b.GetChannelSidebarCategories(ctx, &pluginpb.GetChannelSidebarCategoriesRequest{UserId: alice.GetId(), TeamId: team.GetId()})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range resp.GetCategories().GetCategories() {
			if c.GetType() == categoryFavorites {
				return c.GetChannelIds()
			}
		}
		t.Fatal("no Favorites category")
		return nil
	}
	update := func(p *pluginpb.Preference) error {
		_, err := b.UpdatePreferencesForUser(ctx, &pluginpb.UpdatePreferencesForUserRequest{UserId: alice.GetId(), Preferences: []*pluginpb.Preference{p}})
		return err
	}

	// Categories created after the preference start from it.
	if err := update(fav("true")); err != nil {
		t.Fatal(err)
	}
	if got := favorites(); len(got) != 1 || got[0] != ch.GetId() {
		t.Errorf("favorites = %v; want the channel (the new categories read the preference)", got)
	}
	if err := update(fav("false")); err != nil {
		t.Fatal(err)
	}
	if got := favorites(); len(got) != 0 {
		t.Errorf("favorites after false = %v; want none", got)
	}
	if err := update(fav("true")); err != nil {
		t.Fatal(err)
	}
	if got := favorites(); len(got) != 1 {
		t.Errorf("favorites after true = %v; want the channel", got)
	}
	if _, err := b.DeletePreferencesForUser(ctx, &pluginpb.DeletePreferencesForUserRequest{UserId: alice.GetId(), Preferences: []*pluginpb.Preference{fav("")}}); err != nil {
		t.Fatal(err)
	}
	if got := favorites(); len(got) != 0 {
		t.Errorf("favorites after delete = %v; want none", got)
	}

	// A favorite that names no channel fails the sidebar update, with the
	// preference saved and no hook.
	missing := &pluginpb.Preference{UserId: alice.GetId(), Category: "favorite_channel", Name: newID(), Value: "true"}
	wantAppErrorID(t, "UpdatePreferencesForUser(unknown channel)", update(missing),
		"api.preference.update_preferences.update_sidebar.app_error", http.StatusInternalServerError)
	if _, ok := b.preferences.get(alice.GetId(), "favorite_channel", missing.GetName()); !ok {
		t.Errorf("the preference was not saved")
	}
}
