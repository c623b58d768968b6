package memory

import (
	"context"
	"net/http"
	"slices"
	"testing"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// setSetting changes one setting of the stored configuration, as a test
// needs it, without SaveConfig's hooks.
func setSetting(b *Backend, sectionName, key string, value any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	section(b.config, sectionName)[key] = value
}

// TestEmojiFollowsTheAppLayer checks the emoji lookups against the app
// layer and the store that upstream's plugin API calls:
// server/channels/app/emoji.go@b1683404fdfe4e12f591a7387d7a7cd7d157d343
// (App.GetEmojiList, App.GetEmoji, App.GetEmojiByName, App.GetEmojiImage)
// and server/channels/store/sqlstore/emoji_store.go@0e2f9fbc38dba542114147b064d8715592c95f1b
// (SqlEmojiStore.GetList, SqlEmojiStore.getBy).
func TestEmojiFollowsTheAppLayer(t *testing.T) {
	ctx := context.Background()
	image := pngImage(t, 8, 8)
	newEmojiBackend := func(t *testing.T) *Backend {
		t.Helper()
		b, _ := newTestBackend(t)
		for _, name := range []string{"zebra", "apple", "mango"} {
			if err := b.AddEmoji(name, image); err != nil {
				t.Fatal(err)
			}
		}
		return b
	}
	names := func(resp *pluginpb.GetEmojiListResponse) []string {
		var out []string
		for _, e := range resp.GetEmojis() {
			out = append(out, e.GetName())
		}
		return out
	}

	t.Run("list", func(t *testing.T) {
		b := newEmojiBackend(t)
		tests := []struct {
			sortBy        string
			page, perPage int32
			want          []string
			status        int
		}{
			{"", 0, 10, []string{"zebra", "apple", "mango"}, 0},
			{"name", 0, 10, []string{"apple", "mango", "zebra"}, 0},
			{"name", 1, 2, []string{"zebra"}, 0},
			// Any other sort is the store's order, not an error.
			{"size", 0, 10, []string{"zebra", "apple", "mango"}, 0},
			{"", 0, 0, nil, 0},
			{"", -1, 0, nil, 0},
			// A negative limit or offset is the database's error.
			{"", 0, -1, nil, http.StatusInternalServerError},
			{"", -1, 10, nil, http.StatusInternalServerError},
		}
		for _, tt := range tests {
			got, err := b.GetEmojiList(ctx, &pluginpb.GetEmojiListRequest{SortBy: tt.sortBy, Page: tt.page, PerPage: tt.perPage})
			if tt.status != 0 {
				wantAppErrorID(t, "GetEmojiList", err, "app.emoji.get_list.internal_error", tt.status)
				continue
			}
			if err != nil || !slices.Equal(names(got), tt.want) {
				t.Errorf("GetEmojiList(%q, %d, %d) = %v, %v; want %v", tt.sortBy, tt.page, tt.perPage, names(got), err, tt.want)
			}
		}
		// App.GetEmojiList does not check EnableCustomEmoji.
		setSetting(b, "ServiceSettings", "EnableCustomEmoji", false)
		if got, err := b.GetEmojiList(ctx, &pluginpb.GetEmojiListRequest{PerPage: 10}); err != nil || len(got.GetEmojis()) != 3 {
			t.Errorf("GetEmojiList(custom emoji off) = %v, %v; want the list", got, err)
		}
	})

	t.Run("lookups", func(t *testing.T) {
		b := newEmojiBackend(t)
		zebra, err := b.GetEmojiByName(ctx, &pluginpb.GetEmojiByNameRequest{Name: "zebra"})
		if err != nil {
			t.Fatal(err)
		}
		id := zebra.GetEmoji().GetId()
		_, err = b.GetEmojiByName(ctx, &pluginpb.GetEmojiByNameRequest{Name: "nope"})
		wantAppErrorID(t, "GetEmojiByName(unknown)", err, "app.emoji.get_by_name.no_result", http.StatusNotFound)
		// No id format check: a malformed id is not found.
		for _, bad := range []string{newID(), "bad", ""} {
			_, err = b.GetEmoji(ctx, &pluginpb.GetEmojiRequest{EmojiId: bad})
			wantAppErrorID(t, "GetEmoji("+bad+")", err, "app.emoji.get.no_result", http.StatusNotFound)
			_, err = b.GetEmojiImage(ctx, &pluginpb.GetEmojiImageRequest{EmojiId: bad})
			wantAppErrorID(t, "GetEmojiImage("+bad+")", err, "app.emoji.get.no_result", http.StatusNotFound)
		}
		// Custom emoji off: GetEmoji and GetEmojiByName refuse with 403
		// before the lookup; GetEmojiImage does not check the setting.
		setSetting(b, "ServiceSettings", "EnableCustomEmoji", false)
		_, err = b.GetEmoji(ctx, &pluginpb.GetEmojiRequest{EmojiId: id})
		wantAppErrorID(t, "GetEmoji(off)", err, "api.emoji.disabled.app_error", http.StatusForbidden)
		_, err = b.GetEmojiByName(ctx, &pluginpb.GetEmojiByNameRequest{Name: "nope"})
		wantAppErrorID(t, "GetEmojiByName(off)", err, "api.emoji.disabled.app_error", http.StatusForbidden)
		if img, err := b.GetEmojiImage(ctx, &pluginpb.GetEmojiImageRequest{EmojiId: id}); err != nil || img.GetImageType() != "png" {
			t.Errorf("GetEmojiImage(off) = %v, %v; want the image", img, err)
		}
		// No file store: api.emoji.storage.app_error, 403.
		setSetting(b, "ServiceSettings", "EnableCustomEmoji", true)
		setSetting(b, "FileSettings", "DriverName", "")
		_, err = b.GetEmoji(ctx, &pluginpb.GetEmojiRequest{EmojiId: id})
		wantAppErrorID(t, "GetEmoji(no driver)", err, "api.emoji.storage.app_error", http.StatusForbidden)
	})
}
