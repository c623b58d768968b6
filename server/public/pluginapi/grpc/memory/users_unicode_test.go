package memory

import (
	"context"
	"testing"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// TestSanitizeUnicode checks sanitizeUnicode against model.SanitizeUnicode
// and its blocklist (server/public/model/utils.go@033bd0c6:SanitizeUnicode).
func TestSanitizeUnicode(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain text stays", "Ada Lovelace", "Ada Lovelace"},
		{"other scripts and emoji stay", "Ωμέγα 日本 🎉", "Ωμέγα 日本 🎉"},
		{"zero-width space stays (not on the list)", "a\u200bb", "a\u200bb"},
		{"deprecated accents", "e\u0340\u0341", "e"},
		{"obsolete Khmer", "\u17a3k\u17d3", "k"},
		{"line and paragraph separators", "a\u2028b\u2029c", "abc"},
		{"bidi embedding controls", "\u202aa\u202bb\u202cc\u202dd\u202e", "abcd"},
		{"deprecated shaping controls", "\u206ax\u206b\u206c\u206d\u206e\u206f", "x"},
		{"bidi isolates stay (not on the list)", "\u2066x\u2069", "\u2066x\u2069"},
		{"interlinear annotation and object replacement", "\ufff9a\ufffa\ufffb\ufffc", "a"},
		{"byte order mark", "\ufeffbom", "bom"},
		{"musical scoping", "m\U0001d173\U0001d17a", "m"},
		{"language tags", "\U000e0001en\U000e007f", "en"},
		{"just outside the ranges", "\U0001d172\U0001d17b\U000e0080", "\U0001d172\U0001d17b\U000e0080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sanitizeUnicode(tt.in); got != tt.want {
				t.Errorf("sanitizeUnicode(%+q) = %+q; want %+q", tt.in, got, tt.want)
			}
		})
	}
}

// TestUsersAreSanitized checks that CreateUser runs model.SanitizeUnicode
// over the fields User.PreSave sanitizes, and UpdateUser over those of
// User.PreUpdate (server/public/model/user.go@14e5a8a3:User.PreSave,
// User.PreUpdate): the username (before it is lower-cased and checked),
// first and last names and nickname, and on update the bot description;
// the position is left alone.
func TestUsersAreSanitized(t *testing.T) {
	ctx := context.Background()
	const rlo = "\u202e"
	tests := []struct {
		name   string
		update bool
		in     *pluginpb.User
		want   *pluginpb.User
	}{
		{
			name: "create",
			in:   &pluginpb.User{Username: "A" + rlo + "da", FirstName: "Ada" + rlo, LastName: "\ufeffLove", Nickname: "a\u2028b", Position: "Chief" + rlo},
			want: &pluginpb.User{Username: "ada", FirstName: "Ada", LastName: "Love", Nickname: "ab", Position: "Chief" + rlo},
		},
		{
			name:   "update",
			update: true,
			in:     &pluginpb.User{Username: "B" + rlo + "ob", FirstName: "Bob" + rlo, LastName: "\ufeffBuilder", Nickname: "b\u2029c", Position: "Lead" + rlo, BotDescription: "d" + rlo},
			want:   &pluginpb.User{Username: "bob", FirstName: "Bob", LastName: "Builder", Nickname: "bc", Position: "Lead" + rlo, BotDescription: "d"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := newTestBackend(t)
			var got *pluginpb.User
			if tt.update {
				u := create(t, b, newUser("someone"))
				u.Username, u.FirstName, u.LastName = tt.in.GetUsername(), tt.in.GetFirstName(), tt.in.GetLastName()
				u.Nickname, u.Position, u.BotDescription = tt.in.GetNickname(), tt.in.GetPosition(), tt.in.GetBotDescription()
				resp, err := b.UpdateUser(ctx, &pluginpb.UpdateUserRequest{User: u})
				if err != nil {
					t.Fatalf("UpdateUser = %v", err)
				}
				got = resp.GetUser()
			} else {
				u := newUser("x")
				u.Username, u.FirstName, u.LastName = tt.in.GetUsername(), tt.in.GetFirstName(), tt.in.GetLastName()
				u.Nickname, u.Position = tt.in.GetNickname(), tt.in.GetPosition()
				got = create(t, b, u)
			}
			if got.GetUsername() != tt.want.GetUsername() || got.GetFirstName() != tt.want.GetFirstName() ||
				got.GetLastName() != tt.want.GetLastName() || got.GetNickname() != tt.want.GetNickname() ||
				got.GetPosition() != tt.want.GetPosition() || got.GetBotDescription() != tt.want.GetBotDescription() {
				t.Errorf("user = %+q %+q %+q %+q %+q %+q; want %+q %+q %+q %+q %+q %+q",
					got.GetUsername(), got.GetFirstName(), got.GetLastName(), got.GetNickname(), got.GetPosition(), got.GetBotDescription(),
					tt.want.GetUsername(), tt.want.GetFirstName(), tt.want.GetLastName(), tt.want.GetNickname(), tt.want.GetPosition(), tt.want.GetBotDescription())
			}
		})
	}
}

// TestRemoveUserCustomStatusClearsTheProp checks RemoveUserCustomStatus
// against App.RemoveCustomStatus (server/channels/app/status.go@894b4f90)
// and model.User.ClearCustomStatus
// (server/public/model/user.go@14e5a8a3:User.ClearCustomStatus): the
// "customStatus" prop is set to "", not removed, also for a user who never
// had one.
func TestRemoveUserCustomStatusClearsTheProp(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		setBefore bool
	}{
		{"a set status", true},
		{"no status", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := newTestBackend(t)
			alice := create(t, b, newUser("alice"))
			if tt.setBefore {
				if _, err := b.UpdateUserCustomStatus(ctx, &pluginpb.UpdateUserCustomStatusRequest{UserId: alice.GetId(), CustomStatus: &pluginpb.CustomStatus{Text: "away"}}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := b.RemoveUserCustomStatus(ctx, &pluginpb.RemoveUserCustomStatusRequest{UserId: alice.GetId()}); err != nil {
				t.Fatalf("RemoveUserCustomStatus = %v", err)
			}
			got, err := b.GetUser(ctx, &pluginpb.GetUserRequest{UserId: alice.GetId()})
			if err != nil {
				t.Fatal(err)
			}
			if value, ok := got.GetUser().GetProps()["customStatus"]; !ok || value != "" {
				t.Errorf("customStatus prop = %q (present %v); want present and empty", value, ok)
			}
		})
	}
}
