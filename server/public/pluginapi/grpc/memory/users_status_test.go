package memory

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// TestCustomStatusFollowsTheAppPath checks UpdateUserCustomStatus against
// App.SetCustomStatus and App.addRecentCustomStatus
// (server/channels/app/status.go@894b4f90), model.User.SetCustomStatus
// (server/public/model/user.go@14e5a8a3) and
// model.RecentCustomStatuses.Add (server/public/model/custom_status.go@42c05bfe).
func TestCustomStatusFollowsTheAppPath(t *testing.T) {
	ctx := context.Background()
	b, _ := newTestBackend(t)
	alice := create(t, b, newUser("alice"))
	set := func(cs *pluginpb.CustomStatus) error {
		_, err := b.UpdateUserCustomStatus(ctx, &pluginpb.UpdateUserCustomStatusRequest{UserId: alice.GetId(), CustomStatus: cs})
		return err
	}
	for _, bad := range []*pluginpb.CustomStatus{nil, {Duration: "one_hour"}} {
		wantAppErrorID(t, "UpdateUserCustomStatus(empty)", set(bad), "api.custom_status.set_custom_statuses.update.app_error", http.StatusBadRequest)
	}
	_, err := b.UpdateUserCustomStatus(ctx, &pluginpb.UpdateUserCustomStatusRequest{UserId: "nope", CustomStatus: &pluginpb.CustomStatus{Text: "x"}})
	wantAppErrorID(t, "UpdateUserCustomStatus(nope)", err, "app.user.missing_account.const", http.StatusNotFound)

	// The REST handler's checks and defaults do not apply.
	long := strings.Repeat("t", 150)
	if err := set(&pluginpb.CustomStatus{Text: long, Duration: "next_year", ExpiresAt: 1_700_000_000_000}); err != nil {
		t.Fatalf("UpdateUserCustomStatus(long text, unknown duration) = %v", err)
	}
	got, _ := b.GetUser(ctx, &pluginpb.GetUserRequest{UserId: alice.GetId()})
	want := `{"emoji":"","text":"` + long + `","duration":"next_year","expires_at":"2023-11-14T22:13:20Z"}`
	if stored := got.GetUser().GetProps()["customStatus"]; stored != want {
		t.Errorf("customStatus prop = %s; want %s", stored, want)
	}

	for _, text := range []string{"a", "b", "c", "d", "e", "f", "b"} {
		if err := set(&pluginpb.CustomStatus{Emoji: "calendar", Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	pref, ok := b.preferences.get(alice.GetId(), "custom_status", "recent_custom_statuses")
	if !ok {
		t.Fatal("no recent_custom_statuses preference")
	}
	var recent []customStatusJSON
	if err := json.Unmarshal([]byte(pref.GetValue()), &recent); err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, s := range recent {
		texts = append(texts, s.Text)
	}
	if got := strings.Join(texts, ","); got != "b,f,e,d,c" {
		t.Errorf("recent custom statuses = %s; want b,f,e,d,c (the latest first, one per text, 5 kept)", got)
	}
}
