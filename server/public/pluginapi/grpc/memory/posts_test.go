package memory

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// postWorld is a world with a clock and town-square.
type postWorld struct {
	world
	clock *fakeClock
	town  *pluginpb.Channel
}

func newPostWorld(t *testing.T) postWorld {
	t.Helper()
	clock := &fakeClock{now: time.UnixMilli(1_700_000_000_000)}
	b := New(Clock(clock.Now))
	w := world{b: b, team: createTeam(t, b, newTeam("core"))}
	w.alice = create(t, b, newUser("alice"))
	w.bob = create(t, b, newUser("bob"))
	w.carol = create(t, b, newUser("carol"))
	join(t, b, w.team.GetId(), w.alice.GetId())
	join(t, b, w.team.GetId(), w.bob.GetId())
	town, err := b.GetChannelByName(context.Background(), &pluginpb.GetChannelByNameRequest{TeamId: w.team.GetId(), Name: townSquare})
	if err != nil {
		t.Fatal(err)
	}
	return postWorld{world: w, clock: clock, town: town.GetChannel()}
}

func (w postWorld) post(t *testing.T, author *pluginpb.User, message, rootID string) *pluginpb.Post {
	t.Helper()
	w.clock.Advance(time.Millisecond)
	resp, err := w.b.CreatePost(context.Background(), &pluginpb.CreatePostRequest{Post: &pluginpb.Post{
		ChannelId: w.town.GetId(), UserId: author.GetId(), Message: message, RootId: rootID,
	}})
	if err != nil {
		t.Fatalf("CreatePost(%q) = %v", message, err)
	}
	return resp.GetPost()
}

func TestPostsThreadsAndCounters(t *testing.T) {
	w := newPostWorld(t)
	ctx := context.Background()
	root := w.post(t, w.alice, "hello @bob #launch", "")
	if root.GetHashtags() != "#launch" || root.GetProps().GetFields()["from_plugin"].GetStringValue() != "true" {
		t.Errorf("root = %v; want hashtags and from_plugin", root)
	}
	reply := w.post(t, w.bob, "hi", root.GetId())
	thread, err := w.b.GetPostThread(ctx, &pluginpb.GetPostThreadRequest{PostId: reply.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(thread.GetPostList().GetOrder()) != fmt.Sprint([]string{reply.GetId(), root.GetId()}) {
		t.Errorf("thread order = %v; want newest first", thread.GetPostList().GetOrder())
	}
	got, _ := w.b.GetPost(ctx, &pluginpb.GetPostRequest{PostId: root.GetId()})
	if got.GetPost().GetReplyCount() != 1 {
		t.Errorf("reply count = %d; want 1", got.GetPost().GetReplyCount())
	}
	c, _ := w.b.GetChannel(ctx, &pluginpb.GetChannelRequest{ChannelId: w.town.GetId()})
	if c.GetChannel().GetTotalMsgCount() != 2 || c.GetChannel().GetTotalMsgCountRoot() != 1 {
		t.Errorf("channel counters = %v", c.GetChannel())
	}
	// bob was mentioned once and has read up to his reply; alice has not
	// read bob's reply.
	unread, _ := w.b.GetTeamsUnreadForUser(ctx, &pluginpb.GetTeamsUnreadForUserRequest{UserId: w.alice.GetId()})
	if u := unread.GetTeamUnreads()[0]; u.GetMsgCount() != 1 {
		t.Errorf("alice's unread = %v; want 1 message", u)
	}
	bobs, _ := w.b.GetChannelMember(ctx, &pluginpb.GetChannelMemberRequest{ChannelId: w.town.GetId(), UserId: w.bob.GetId()})
	if bobs.GetChannelMember().GetMentionCount() != 1 {
		t.Errorf("bob's mentions = %d; want 1", bobs.GetChannelMember().GetMentionCount())
	}

	// Edits keep create_at; deleting the root deletes the thread.
	w.clock.Advance(time.Second)
	edited, err := w.b.UpdatePost(ctx, &pluginpb.UpdatePostRequest{Post: &pluginpb.Post{Id: root.GetId(), Message: "edited", CreateAt: 1}})
	if err != nil || edited.GetPost().GetCreateAt() != root.GetCreateAt() || edited.GetPost().GetEditAt() == 0 {
		t.Fatalf("UpdatePost = %v, %v", edited, err)
	}
	if _, err := w.b.DeletePost(ctx, &pluginpb.DeletePostRequest{PostId: root.GetId()}); err != nil {
		t.Fatal(err)
	}
	_, err = w.b.GetPost(ctx, &pluginpb.GetPostRequest{PostId: reply.GetId()})
	wantAppError(t, "GetPost(reply of a deleted root)", err, http.StatusNotFound)
	since, _ := w.b.GetPostsSince(ctx, &pluginpb.GetPostsSinceRequest{ChannelId: w.town.GetId(), Time: root.GetCreateAt()})
	if len(since.GetPostList().GetOrder()) != 2 {
		t.Errorf("GetPostsSince = %v; want both deleted posts, so clients drop them", since.GetPostList().GetOrder())
	}
}

func TestPostPaging(t *testing.T) {
	w := newPostWorld(t)
	ctx := context.Background()
	var ids []string // oldest first
	for i := range 6 {
		ids = append(ids, w.post(t, w.alice, fmt.Sprint("post ", i), "").GetId())
	}
	order := func(l *pluginpb.PostList) string { return fmt.Sprint(l.GetOrder()) }
	want := func(idx ...int) string {
		var out []string
		for _, i := range idx {
			out = append(out, ids[i])
		}
		return fmt.Sprint(out)
	}
	page0, _ := w.b.GetPostsForChannel(ctx, &pluginpb.GetPostsForChannelRequest{ChannelId: w.town.GetId(), Page: 0, PerPage: 2})
	page1, _ := w.b.GetPostsForChannel(ctx, &pluginpb.GetPostsForChannelRequest{ChannelId: w.town.GetId(), Page: 1, PerPage: 2})
	before, _ := w.b.GetPostsBefore(ctx, &pluginpb.GetPostsBeforeRequest{ChannelId: w.town.GetId(), PostId: ids[4], Page: 0, PerPage: 2})
	before1, _ := w.b.GetPostsBefore(ctx, &pluginpb.GetPostsBeforeRequest{ChannelId: w.town.GetId(), PostId: ids[4], Page: 1, PerPage: 2})
	after, _ := w.b.GetPostsAfter(ctx, &pluginpb.GetPostsAfterRequest{ChannelId: w.town.GetId(), PostId: ids[1], Page: 0, PerPage: 2})
	after1, _ := w.b.GetPostsAfter(ctx, &pluginpb.GetPostsAfterRequest{ChannelId: w.town.GetId(), PostId: ids[1], Page: 1, PerPage: 2})
	tests := []struct {
		name      string
		got, want string
	}{
		{"page 0", order(page0.GetPostList()), want(5, 4)},
		{"page 1", order(page1.GetPostList()), want(3, 2)},
		{"before 4, page 0", order(before.GetPostList()), want(3, 2)},
		{"before 4, page 1", order(before1.GetPostList()), want(1, 0)},
		{"after 1, page 0", order(after.GetPostList()), want(3, 2)},
		{"after 1, page 1", order(after1.GetPostList()), want(5, 4)},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %s; want %s", tt.name, tt.got, tt.want)
		}
	}
}

// wantErrorID fails the test unless err is an AppError with that id and
// HTTP status.
func wantErrorID(t *testing.T, call string, err error, id string, httpStatus int) {
	t.Helper()
	var appErr *apperror.Error
	if !errors.As(err, &appErr) || appErr.ID != id || appErr.StatusCode != httpStatus {
		t.Errorf("%s = %v; want an AppError %s with status %d", call, err, id, httpStatus)
	}
}

// TestPostFailures checks CreatePost's refusals. The root post checks
// follow App.CreatePost (server/channels/app/post.go@004340fa1b599e5c2c24f28c6e18e2d0829889b9,
// "Verify the parent/child relationships are correct"), which the plugin
// path reaches through CreatePostMissingChannel
// (server/channels/app/plugin_api.go@f56166d6baa65d91684ba3b6455b65feef3ceace,
// PluginAPI.CreatePost): a root that is not found is root_id (400), a root
// in another channel is channel_root_id with App.CreatePost's 500 (only
// CreatePostAsUser, the REST path, makes it a 400), and a root that is a
// reply is root_id (400).
func TestPostFailures(t *testing.T) {
	w := newPostWorld(t)
	ctx := context.Background()
	root := w.post(t, w.alice, "root", "")
	reply := w.post(t, w.alice, "reply", root.GetId())
	gone := w.post(t, w.alice, "gone", "")
	if _, err := w.b.DeletePost(ctx, &pluginpb.DeletePostRequest{PostId: gone.GetId()}); err != nil {
		t.Fatal(err)
	}
	other := createChannel(t, w.b, &pluginpb.Channel{TeamId: w.team.GetId(), Name: "other", DisplayName: "Other", Type: channelOpen})
	elsewhere, err := w.b.CreatePost(ctx, &pluginpb.CreatePostRequest{Post: &pluginpb.Post{ChannelId: other.GetId(), UserId: w.alice.GetId(), Message: "elsewhere"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		post *pluginpb.Post
		id   string
		code int
	}{
		{"unknown channel", &pluginpb.Post{ChannelId: newID(), UserId: w.alice.GetId(), Message: "x"}, "app.channel.get.existing.app_error", http.StatusNotFound},
		{"reply to a reply", &pluginpb.Post{ChannelId: w.town.GetId(), UserId: w.alice.GetId(), RootId: reply.GetId()}, "api.post.create_post.root_id.app_error", http.StatusBadRequest},
		{"unknown root", &pluginpb.Post{ChannelId: w.town.GetId(), UserId: w.alice.GetId(), RootId: newID()}, "api.post.create_post.root_id.app_error", http.StatusBadRequest},
		{"deleted root", &pluginpb.Post{ChannelId: w.town.GetId(), UserId: w.alice.GetId(), RootId: gone.GetId()}, "api.post.create_post.root_id.app_error", http.StatusBadRequest},
		{"root in another channel", &pluginpb.Post{ChannelId: w.town.GetId(), UserId: w.alice.GetId(), RootId: elsewhere.GetPost().GetId()},
			"api.post.create_post.channel_root_id.app_error", http.StatusInternalServerError},
		{"bad type", &pluginpb.Post{ChannelId: w.town.GetId(), UserId: w.alice.GetId(), Type: "weird"}, "model.post.is_valid.type.app_error", http.StatusBadRequest},
		// No check before MessageWillBePosted: the store's Save refuses the
		// id after it (server/channels/app/post.go@285f792d:App.CreatePost).
		{"id set", &pluginpb.Post{Id: newID(), ChannelId: w.town.GetId(), UserId: w.alice.GetId()}, "app.post.save.existing.app_error", http.StatusBadRequest},
	}
	for _, tt := range tests {
		_, err := w.b.CreatePost(ctx, &pluginpb.CreatePostRequest{Post: tt.post})
		wantErrorID(t, "CreatePost("+tt.name+")", err, tt.id, tt.code)
	}
}

// TestDeletePostFollowsTheAppLayer checks DeletePost's refusals against
// server/channels/app/post.go@285f792d:App.DeletePost: the store's
// GetSingle of a live post, whose every failure is app.post.get.app_error
// with status 400 (no id check), then an archived channel's
// api.post.delete_post.can_not_delete_post_in_deleted.error (400).
func TestDeletePostFollowsTheAppLayer(t *testing.T) {
	w := newPostWorld(t)
	ctx := context.Background()
	gone := w.post(t, w.alice, "gone", "")
	if _, err := w.b.DeletePost(ctx, &pluginpb.DeletePostRequest{PostId: gone.GetId()}); err != nil {
		t.Fatal(err)
	}
	old := createChannel(t, w.b, &pluginpb.Channel{TeamId: w.team.GetId(), Name: "old", DisplayName: "Old", Type: channelOpen})
	kept, err := w.b.CreatePost(ctx, &pluginpb.CreatePostRequest{Post: &pluginpb.Post{ChannelId: old.GetId(), UserId: w.alice.GetId(), Message: "kept"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.b.DeleteChannel(ctx, &pluginpb.DeleteChannelRequest{ChannelId: old.GetId()}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, postID, id string
		code             int
	}{
		{"unknown post", newID(), "app.post.get.app_error", http.StatusBadRequest},
		{"malformed id", "nope", "app.post.get.app_error", http.StatusBadRequest},
		{"deleted post", gone.GetId(), "app.post.get.app_error", http.StatusBadRequest},
		{"archived channel", kept.GetPost().GetId(), "api.post.delete_post.can_not_delete_post_in_deleted.error", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := w.b.DeletePost(ctx, &pluginpb.DeletePostRequest{PostId: tt.postID})
			wantErrorID(t, "DeletePost", err, tt.id, tt.code)
		})
	}
}

// TestPostsInArchivedChannels follows the plugin path of
// server/channels/app/post.go@004340fa1b599e5c2c24f28c6e18e2d0829889b9:
// App.CreatePost, reached through CreatePostMissingChannel, does not check
// the channel's delete_at (CreatePostAsUserWithFlags, the REST path, does),
// so a plugin posts to an archived channel; updatePostWithChannel refuses
// an edit there with api.post.update_post.can_not_update_post_in_deleted.error
// (400).
func TestPostsInArchivedChannels(t *testing.T) {
	w := newPostWorld(t)
	ctx := context.Background()
	c := createChannel(t, w.b, &pluginpb.Channel{TeamId: w.team.GetId(), Name: "old", DisplayName: "Old", Type: channelOpen})
	say := func(message string) (*pluginpb.Post, error) {
		resp, err := w.b.CreatePost(ctx, &pluginpb.CreatePostRequest{Post: &pluginpb.Post{ChannelId: c.GetId(), UserId: w.alice.GetId(), Message: message}})
		return resp.GetPost(), err
	}
	before, err := say("before")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.b.DeleteChannel(ctx, &pluginpb.DeleteChannelRequest{ChannelId: c.GetId()}); err != nil {
		t.Fatal(err)
	}
	after, err := say("after")
	if err != nil {
		t.Fatalf("CreatePost(archived channel) = %v; want it posted, as the plugin path does", err)
	}
	got, err := w.b.GetPost(ctx, &pluginpb.GetPostRequest{PostId: after.GetId()})
	if err != nil || got.GetPost().GetChannelId() != c.GetId() {
		t.Errorf("GetPost(post in archived channel) = %v, %v", got, err)
	}
	for _, p := range []*pluginpb.Post{before, after} {
		_, err = w.b.UpdatePost(ctx, &pluginpb.UpdatePostRequest{Post: &pluginpb.Post{Id: p.GetId(), Message: "edited"}})
		wantErrorID(t, "UpdatePost("+p.GetMessage()+" in archived channel)", err, "api.post.update_post.can_not_update_post_in_deleted.error", http.StatusBadRequest)
	}
	if _, err := w.b.RestoreChannel(ctx, &pluginpb.RestoreChannelRequest{ChannelId: c.GetId()}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.b.UpdatePost(ctx, &pluginpb.UpdatePostRequest{Post: &pluginpb.Post{Id: before.GetId(), Message: "edited"}}); err != nil {
		t.Errorf("UpdatePost(restored channel) = %v", err)
	}
}

// TestFromBotProp follows App.CreatePost
// (server/channels/app/post.go@004340fa1b599e5c2c24f28c6e18e2d0829889b9),
// which adds props["from_bot"] = "true" when the author is a bot, before
// MessageWillBePosted runs; a person's post has no from_bot.
func TestFromBotProp(t *testing.T) {
	seen := &seenPosts{}
	b := New(WithHooks(seen))
	ctx := context.Background()
	team := createTeam(t, b, newTeam("core"))
	alice := create(t, b, newUser("alice"))
	join(t, b, team.GetId(), alice.GetId())
	bot, err := b.CreateBot(ctx, &pluginpb.CreateBotRequest{Bot: &pluginpb.Bot{Username: "helper", DisplayName: "Helper"}})
	if err != nil {
		t.Fatal(err)
	}
	town, _ := b.GetChannelByName(ctx, &pluginpb.GetChannelByNameRequest{TeamId: team.GetId(), Name: townSquare})
	tests := []struct {
		name    string
		userID  string
		fromBot bool
	}{
		{"bot", bot.GetBot().GetUserId(), true},
		{"person", alice.GetId(), false},
	}
	for _, tt := range tests {
		resp, err := b.CreatePost(ctx, &pluginpb.CreatePostRequest{Post: &pluginpb.Post{ChannelId: town.GetChannel().GetId(), UserId: tt.userID, Message: "hi"}})
		if err != nil {
			t.Fatalf("CreatePost(%s) = %v", tt.name, err)
		}
		v, ok := resp.GetPost().GetProps().GetFields()["from_bot"]
		if ok != tt.fromBot || ok && v.GetStringValue() != "true" {
			t.Errorf("CreatePost(%s).props = %v; want from_bot %v", tt.name, resp.GetPost().GetProps(), tt.fromBot)
		}
		_, hookSaw := seen.last.GetProps().GetFields()["from_bot"]
		if hookSaw != tt.fromBot {
			t.Errorf("MessageWillBePosted(%s) saw from_bot %v; want %v", tt.name, hookSaw, tt.fromBot)
		}
	}
}

// seenPosts records the post MessageWillBePosted last saw.
type seenPosts struct {
	NoHooks
	last *pluginpb.Post
}

func (s *seenPosts) MessageWillBePosted(_ context.Context, p *pluginpb.Post) (*pluginpb.Post, string) {
	s.last = p
	return nil, ""
}

// rejectingHooks rejects posts that say "nope" and rewrites "darn".
type rejectingHooks struct{ NoHooks }

func (rejectingHooks) MessageWillBePosted(_ context.Context, p *pluginpb.Post) (*pluginpb.Post, string) {
	switch p.GetMessage() {
	case "nope":
		return nil, "not allowed"
	case "darn":
		p.Message = "d**n"
		return p, ""
	}
	return nil, ""
}

func TestMessageWillBePosted(t *testing.T) {
	b := New(WithHooks(rejectingHooks{}))
	ctx := context.Background()
	team := createTeam(t, b, newTeam("core"))
	u := create(t, b, newUser("alice"))
	join(t, b, team.GetId(), u.GetId())
	town, _ := b.GetChannelByName(ctx, &pluginpb.GetChannelByNameRequest{TeamId: team.GetId(), Name: townSquare})
	send := func(msg string) (*pluginpb.Post, error) {
		resp, err := b.CreatePost(ctx, &pluginpb.CreatePostRequest{Post: &pluginpb.Post{ChannelId: town.GetChannel().GetId(), UserId: u.GetId(), Message: msg}})
		return resp.GetPost(), err
	}
	if p, err := send("fine"); err != nil || p.GetMessage() != "fine" {
		t.Errorf("send(fine) = %v, %v", p, err)
	}
	if p, err := send("darn"); err != nil || p.GetMessage() != "d**n" {
		t.Errorf("send(darn) = %v, %v; want it rewritten", p, err)
	}
	_, err := send("nope")
	wantAppError(t, "send(nope)", err, http.StatusBadRequest)
	list, _ := b.GetPostsForChannel(ctx, &pluginpb.GetPostsForChannelRequest{ChannelId: town.GetChannel().GetId(), PerPage: 10})
	if len(list.GetPostList().GetOrder()) != 2 {
		t.Errorf("stored posts = %d; want the rejected one left out", len(list.GetPostList().GetOrder()))
	}
}

func TestReactionsAreUnique(t *testing.T) {
	w := newPostWorld(t)
	ctx := context.Background()
	p := w.post(t, w.alice, "react to me", "")
	r := &pluginpb.Reaction{UserId: w.bob.GetId(), PostId: p.GetId(), EmojiName: "smile"}
	first, err := w.b.AddReaction(ctx, &pluginpb.AddReactionRequest{Reaction: r})
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(time.Second)
	if _, err := w.b.AddReaction(ctx, &pluginpb.AddReactionRequest{Reaction: r}); err != nil {
		t.Fatal(err)
	}
	list, _ := w.b.GetReactions(ctx, &pluginpb.GetReactionsRequest{PostId: p.GetId()})
	if len(list.GetReactions()) != 1 || list.GetReactions()[0].GetCreateAt() != first.GetReaction().GetCreateAt() {
		t.Errorf("reactions = %v; want the first one, its create_at kept", list.GetReactions())
	}
	got, _ := w.b.GetPost(ctx, &pluginpb.GetPostRequest{PostId: p.GetId()})
	if !got.GetPost().GetHasReactions() || len(got.GetPost().GetMetadata().GetReactions()) != 1 {
		t.Errorf("post = %v; want has_reactions and the reaction in its metadata", got.GetPost())
	}
	if _, err := w.b.RemoveReaction(ctx, &pluginpb.RemoveReactionRequest{Reaction: r}); err != nil {
		t.Fatal(err)
	}
	got, _ = w.b.GetPost(ctx, &pluginpb.GetPostRequest{PostId: p.GetId()})
	if got.GetPost().GetHasReactions() {
		t.Errorf("has_reactions survived the last reaction")
	}
	_, err = w.b.AddReaction(ctx, &pluginpb.AddReactionRequest{Reaction: &pluginpb.Reaction{UserId: w.bob.GetId(), PostId: p.GetId(), EmojiName: "no spaces"}})
	wantAppError(t, "AddReaction(bad emoji)", err, http.StatusBadRequest)
}

func TestSidebar(t *testing.T) {
	w := newPostWorld(t)
	ctx := context.Background()
	cats, err := w.b.GetChannelSidebarCategories(ctx, &pluginpb.GetChannelSidebarCategoriesRequest{UserId: w.alice.GetId(), TeamId: w.team.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	got := cats.GetCategories().GetCategories()
	if len(got) != 3 || got[1].GetType() != categoryChannels || len(got[1].GetChannelIds()) != 2 {
		t.Fatalf("default sidebar = %v", got)
	}
	custom, err := w.b.CreateChannelSidebarCategory(ctx, &pluginpb.CreateChannelSidebarCategoryRequest{
		UserId: w.alice.GetId(), TeamId: w.team.GetId(),
		NewCategory: &pluginpb.SidebarCategoryWithChannels{DisplayName: "Work", ChannelIds: []string{w.town.GetId()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cats, _ = w.b.GetChannelSidebarCategories(ctx, &pluginpb.GetChannelSidebarCategoriesRequest{UserId: w.alice.GetId(), TeamId: w.team.GetId()})
	got = cats.GetCategories().GetCategories()
	// After Favorites, as SqlChannelStore.CreateSidebarCategory
	// (server/channels/store/sqlstore/channel_store_categories.go@006d06fe).
	if got[1].GetId() != custom.GetCategory().GetId() || len(got[2].GetChannelIds()) != 1 {
		t.Errorf("sidebar = %v; want the custom category after Favorites, holding town-square", got)
	}
	_, err = w.b.UpdateChannelSidebarCategories(ctx, &pluginpb.UpdateChannelSidebarCategoriesRequest{
		UserId: w.alice.GetId(), TeamId: w.team.GetId(),
		Categories: []*pluginpb.SidebarCategoryWithChannels{{Id: "nope"}},
	})
	// Any store error is a 500 (App.UpdateSidebarCategories,
	// server/channels/app/channel_category.go@08107a67).
	wantAppError(t, "UpdateChannelSidebarCategories(unknown)", err, http.StatusInternalServerError)
}

// TestUpdateSystemPost follows App.updatePostWithChannel
// (server/channels/app/post.go@004340fa1b599e5c2c24f28c6e18e2d0829889b9),
// which the plugin path's UpdatePost reaches: a system message (a type with
// model.Post.IsSystemMessage's "system_" prefix) is refused with
// api.post.update_post.system_message.app_error (400) before the channel's
// archived check; a custom type is edited.
func TestUpdateSystemPost(t *testing.T) {
	w := newPostWorld(t)
	ctx := context.Background()
	c := createChannel(t, w.b, &pluginpb.Channel{TeamId: w.team.GetId(), Name: "old", DisplayName: "Old", Type: channelOpen})
	tests := []struct {
		name     string
		typ      string
		archived bool
		wantID   string
	}{
		{"system", "system_header_change", false, "api.post.update_post.system_message.app_error"},
		{"system in archived channel", "system_header_change", true, "api.post.update_post.system_message.app_error"},
		{"custom", "custom_poll", false, ""},
		{"plain", "", false, ""},
	}
	for _, tt := range tests {
		resp, err := w.b.CreatePost(ctx, &pluginpb.CreatePostRequest{Post: &pluginpb.Post{ChannelId: c.GetId(), UserId: w.alice.GetId(), Message: tt.name, Type: tt.typ}})
		if err != nil {
			t.Fatalf("CreatePost(%s) = %v", tt.name, err)
		}
		if tt.archived {
			if _, err := w.b.DeleteChannel(ctx, &pluginpb.DeleteChannelRequest{ChannelId: c.GetId()}); err != nil {
				t.Fatal(err)
			}
		}
		_, err = w.b.UpdatePost(ctx, &pluginpb.UpdatePostRequest{Post: &pluginpb.Post{Id: resp.GetPost().GetId(), Message: "edited", Type: tt.typ}})
		if tt.wantID != "" {
			wantErrorID(t, "UpdatePost("+tt.name+")", err, tt.wantID, http.StatusBadRequest)
		} else if err != nil {
			t.Errorf("UpdatePost(%s) = %v; want it edited", tt.name, err)
		}
		if tt.archived {
			if _, err := w.b.RestoreChannel(ctx, &pluginpb.RestoreChannelRequest{ChannelId: c.GetId()}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestPostListingsFollowTheStore follows the listings the plugin path
// reaches: App.GetPostsSince, GetPostsPage, GetPostsBeforePost and
// GetPostsAfterPost (server/channels/app/post.go@004340fa1b599e5c2c24f28c6e18e2d0829889b9)
// go straight to the store without looking the channel up, and
// SqlPostStore's queries (server/channels/store/sqlstore/post_store.go@1a6a3a0d6d2d85b5b3399135434ffa5a28452cc5:
// GetPostsSince, GetPosts, getPostsAround) select by channel id and by the
// anchor's create_at: an unknown channel or anchor gives an empty list, an
// anchor in another channel still places the page by its create_at;
// GetPosts refuses per_page > 1000 (app.post.get_posts.app_error, 400) and
// getPostsAround a negative page or per_page
// (app.post.get_posts_around.get.app_error, 400).
func TestPostListingsFollowTheStore(t *testing.T) {
	w := newPostWorld(t)
	ctx := context.Background()
	var ids []string // oldest first
	for i := range 3 {
		w.clock.Advance(10 * time.Millisecond) // no ties on create_at
		ids = append(ids, w.post(t, w.alice, fmt.Sprint("post ", i), "").GetId())
	}
	other := createChannel(t, w.b, &pluginpb.Channel{TeamId: w.team.GetId(), Name: "other", DisplayName: "Other", Type: channelOpen})
	// An anchor in another channel, between ids[0] and ids[1] in time.
	elsewhere, err := w.b.CreatePost(ctx, &pluginpb.CreatePostRequest{Post: &pluginpb.Post{ChannelId: other.GetId(), UserId: w.alice.GetId(), Message: "elsewhere",
		CreateAt: w.b.posts.byID[ids[1]].GetCreateAt() - 5}})
	if err != nil {
		t.Fatal(err)
	}
	anchorElsewhere := elsewhere.GetPost().GetId()
	unknown := newID()
	lists := []struct {
		name string
		call func() (*pluginpb.PostList, error)
		want []string
	}{
		{"GetPostsSince(unknown channel)", func() (*pluginpb.PostList, error) {
			r, err := w.b.GetPostsSince(ctx, &pluginpb.GetPostsSinceRequest{ChannelId: unknown})
			return r.GetPostList(), err
		}, nil},
		{"GetPostsForChannel(unknown channel)", func() (*pluginpb.PostList, error) {
			r, err := w.b.GetPostsForChannel(ctx, &pluginpb.GetPostsForChannelRequest{ChannelId: unknown, PerPage: 10})
			return r.GetPostList(), err
		}, nil},
		{"GetPostsBefore(unknown channel)", func() (*pluginpb.PostList, error) {
			r, err := w.b.GetPostsBefore(ctx, &pluginpb.GetPostsBeforeRequest{ChannelId: unknown, PostId: ids[2], PerPage: 10})
			return r.GetPostList(), err
		}, nil},
		{"GetPostsBefore(unknown anchor)", func() (*pluginpb.PostList, error) {
			r, err := w.b.GetPostsBefore(ctx, &pluginpb.GetPostsBeforeRequest{ChannelId: w.town.GetId(), PostId: unknown, PerPage: 10})
			return r.GetPostList(), err
		}, nil},
		{"GetPostsAfter(unknown anchor)", func() (*pluginpb.PostList, error) {
			r, err := w.b.GetPostsAfter(ctx, &pluginpb.GetPostsAfterRequest{ChannelId: w.town.GetId(), PostId: unknown, PerPage: 10})
			return r.GetPostList(), err
		}, nil},
		{"GetPostsBefore(anchor in another channel)", func() (*pluginpb.PostList, error) {
			r, err := w.b.GetPostsBefore(ctx, &pluginpb.GetPostsBeforeRequest{ChannelId: w.town.GetId(), PostId: anchorElsewhere, PerPage: 10})
			return r.GetPostList(), err
		}, []string{ids[0]}},
		{"GetPostsAfter(anchor in another channel)", func() (*pluginpb.PostList, error) {
			r, err := w.b.GetPostsAfter(ctx, &pluginpb.GetPostsAfterRequest{ChannelId: w.town.GetId(), PostId: anchorElsewhere, PerPage: 10})
			return r.GetPostList(), err
		}, []string{ids[2], ids[1]}},
	}
	for _, tt := range lists {
		l, err := tt.call()
		if err != nil || fmt.Sprint(l.GetOrder()) != fmt.Sprint(tt.want) {
			t.Errorf("%s = %v, %v; want order %v", tt.name, l.GetOrder(), err, tt.want)
		}
	}
	refusals := []struct {
		name string
		call func() error
		id   string
	}{
		{"GetPostsForChannel(per_page 1001)", func() error {
			_, err := w.b.GetPostsForChannel(ctx, &pluginpb.GetPostsForChannelRequest{ChannelId: w.town.GetId(), PerPage: 1001})
			return err
		}, "app.post.get_posts.app_error"},
		{"GetPostsBefore(page -1)", func() error {
			_, err := w.b.GetPostsBefore(ctx, &pluginpb.GetPostsBeforeRequest{ChannelId: w.town.GetId(), PostId: ids[2], Page: -1, PerPage: 10})
			return err
		}, "app.post.get_posts_around.get.app_error"},
		{"GetPostsAfter(per_page -1)", func() error {
			_, err := w.b.GetPostsAfter(ctx, &pluginpb.GetPostsAfterRequest{ChannelId: w.town.GetId(), PostId: ids[0], PerPage: -1})
			return err
		}, "app.post.get_posts_around.get.app_error"},
	}
	for _, tt := range refusals {
		wantErrorID(t, tt.name, tt.call(), tt.id, http.StatusBadRequest)
	}
	if r, err := w.b.GetPostsForChannel(ctx, &pluginpb.GetPostsForChannelRequest{ChannelId: w.town.GetId(), PerPage: 1000}); err != nil || len(r.GetPostList().GetOrder()) != 3 {
		t.Errorf("GetPostsForChannel(per_page 1000) = %v, %v; want the 3 posts", r, err)
	}
}

// TestGetPostAndThreadFollowTheStore follows App.GetSinglePost and
// App.GetPostThread (server/channels/app/post.go@285f792d) over
// SqlPostStore.GetSingle and SqlPostStore.Get
// (server/channels/store/sqlstore/post_store.go@1a6a3a0d6d2d85b5b3399135434ffa5a28452cc5):
// no id check but Get's empty id (ErrInvalidInput, 400); any other miss is
// app.post.get.app_error (404); Get lists the requested post first, then
// the rest of its thread.
func TestGetPostAndThreadFollowTheStore(t *testing.T) {
	w := newPostWorld(t)
	ctx := context.Background()
	root := w.post(t, w.alice, "root", "")
	w.clock.Advance(time.Second)
	first := w.post(t, w.bob, "first", root.GetId())
	w.clock.Advance(time.Second)
	second := w.post(t, w.alice, "second", root.GetId())

	for _, tc := range []struct {
		name, id, wantID string
		wantStatus       int
	}{
		{"GetPost unknown", newID(), "app.post.get.app_error", http.StatusNotFound},
		{"GetPost malformed", "not an id", "app.post.get.app_error", http.StatusNotFound},
		{"GetPost empty", "", "app.post.get.app_error", http.StatusNotFound},
	} {
		_, err := w.b.GetPost(ctx, &pluginpb.GetPostRequest{PostId: tc.id})
		wantAppErrorID(t, tc.name, err, tc.wantID, tc.wantStatus)
	}
	for _, tc := range []struct {
		name, id, wantID string
		wantStatus       int
	}{
		{"GetPostThread unknown", newID(), "app.post.get.app_error", http.StatusNotFound},
		{"GetPostThread malformed", "not an id", "app.post.get.app_error", http.StatusNotFound},
		{"GetPostThread empty", "", "app.post.get.app_error", http.StatusBadRequest},
	} {
		_, err := w.b.GetPostThread(ctx, &pluginpb.GetPostThreadRequest{PostId: tc.id})
		wantAppErrorID(t, tc.name, err, tc.wantID, tc.wantStatus)
	}

	for _, tc := range []struct {
		name      string
		requested *pluginpb.Post
		want      []string
	}{
		{"the root", root, []string{root.GetId(), first.GetId(), second.GetId()}},
		{"a reply", second, []string{second.GetId(), root.GetId(), first.GetId()}},
	} {
		resp, err := w.b.GetPostThread(ctx, &pluginpb.GetPostThreadRequest{PostId: tc.requested.GetId()})
		if err != nil {
			t.Fatalf("GetPostThread(%s) = %v", tc.name, err)
		}
		if got := resp.GetPostList().GetOrder(); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("GetPostThread(%s) order = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestSearchSkipsTheWildcardAlone follows App.searchPostsInTeam
// (server/channels/app/post.go@285f792d): a search whose terms are "*"
// is skipped, so it finds nothing rather than every post.
func TestSearchSkipsTheWildcardAlone(t *testing.T) {
	w := newPostWorld(t)
	ctx := context.Background()
	w.post(t, w.alice, "hello world", "")
	for _, tc := range []struct {
		terms string
		want  int
	}{{"*", 0}, {"hel*", 1}, {"hello", 1}} {
		// No team id check: a malformed one finds nothing.
		if resp, err := w.b.SearchPostsInTeam(ctx, &pluginpb.SearchPostsInTeamRequest{
			TeamId: "not an id", ParamsList: []*pluginpb.SearchParams{{Terms: tc.terms}},
		}); err != nil || len(resp.GetPosts()) != 0 {
			t.Errorf("SearchPostsInTeam(malformed team, %q) = %v, %v; want nothing found", tc.terms, resp.GetPosts(), err)
		}
		resp, err := w.b.SearchPostsInTeam(ctx, &pluginpb.SearchPostsInTeamRequest{
			TeamId: w.team.GetId(), ParamsList: []*pluginpb.SearchParams{{Terms: tc.terms}},
		})
		if err != nil {
			t.Fatalf("SearchPostsInTeam(%q) = %v", tc.terms, err)
		}
		if n := len(resp.GetPosts()); n != tc.want {
			t.Errorf("SearchPostsInTeam(%q) found %d posts, want %d", tc.terms, n, tc.want)
		}
		user, err := w.b.SearchPostsInTeamForUser(ctx, &pluginpb.SearchPostsInTeamForUserRequest{
			TeamId: w.team.GetId(), UserId: w.alice.GetId(), SearchParams: &pluginpb.SearchParameter{Terms: &tc.terms},
		})
		if err != nil {
			t.Fatalf("SearchPostsInTeamForUser(%q) = %v", tc.terms, err)
		}
		if n := len(user.GetResults().GetPostList().GetOrder()); n != tc.want {
			t.Errorf("SearchPostsInTeamForUser(%q) found %d posts, want %d", tc.terms, n, tc.want)
		}
	}
}

// TestMoveThreadsFollowsTheInterfaceDoc follows the doc comment of
// API.MoveThreadsToBackingChannel (server/public/plugin/api.go@004340fa1b599e5c2c24f28c6e18e2d0829889b9),
// the only stored upstream text of it: threads move in place with their
// ids and timestamps, a reply id is refused, and an id that matches no
// post moves nothing and does not fail the call.
func TestMoveThreadsFollowsTheInterfaceDoc(t *testing.T) {
	w := newPostWorld(t)
	ctx := context.Background()
	target := createChannel(t, w.b, &pluginpb.Channel{TeamId: w.team.GetId(), Name: "backing", DisplayName: "Backing", Type: channelPrivate})
	root := w.post(t, w.alice, "root", "")
	reply := w.post(t, w.bob, "reply", root.GetId())
	w.clock.Advance(time.Hour)
	for _, tc := range []struct {
		name   string
		ids    []string
		wantID string
	}{
		{"a reply is refused", []string{reply.GetId()}, "app.post.move_thread.not_root.app_error"},
		{"unknown and malformed ids move nothing", []string{newID(), "not an id"}, ""},
		{"a root with its replies, in place", []string{root.GetId(), newID()}, ""},
	} {
		_, err := w.b.MoveThreadsToBackingChannel(ctx, &pluginpb.MoveThreadsToBackingChannelRequest{RootIds: tc.ids, ChannelId: target.GetId()})
		if tc.wantID != "" {
			wantAppErrorID(t, tc.name, err, tc.wantID, http.StatusBadRequest)
			continue
		}
		if err != nil {
			t.Fatalf("%s: MoveThreadsToBackingChannel = %v", tc.name, err)
		}
	}
	for _, before := range []*pluginpb.Post{root, reply} {
		got, err := w.b.GetPost(ctx, &pluginpb.GetPostRequest{PostId: before.GetId()})
		if err != nil {
			t.Fatal(err)
		}
		p := got.GetPost()
		if p.GetChannelId() != target.GetId() || p.GetUpdateAt() != before.GetUpdateAt() || p.GetCreateAt() != before.GetCreateAt() {
			t.Errorf("moved post = channel %s, create_at %d, update_at %d; want %s, %d, %d",
				p.GetChannelId(), p.GetCreateAt(), p.GetUpdateAt(), target.GetId(), before.GetCreateAt(), before.GetUpdateAt())
		}
	}
}

// TestSearchWithNoTermsFindsNothing follows PluginAPI.SearchPostsInTeamForUser
// and App.SearchPostsForUser (post.go@285f792d): nil terms are read as "",
// and ParseSearchParams keeps no search without terms or filters, so the
// answer is empty, not an error; a filter alone still searches.
func TestSearchWithNoTermsFindsNothing(t *testing.T) {
	w := newPostWorld(t)
	ctx := context.Background()
	w.post(t, w.alice, "hello world", "")
	empty, fromAlice := "", "from:alice"
	for _, tc := range []struct {
		name   string
		params *pluginpb.SearchParameter
		want   int
	}{
		{"no params", nil, 0},
		{"nil terms", &pluginpb.SearchParameter{}, 0},
		{"empty terms", &pluginpb.SearchParameter{Terms: &empty}, 0},
		{"a filter alone", &pluginpb.SearchParameter{Terms: &fromAlice}, 1},
	} {
		resp, err := w.b.SearchPostsInTeamForUser(ctx, &pluginpb.SearchPostsInTeamForUserRequest{
			TeamId: w.team.GetId(), UserId: w.alice.GetId(), SearchParams: tc.params,
		})
		if err != nil {
			t.Errorf("%s: SearchPostsInTeamForUser = %v; want no error", tc.name, err)
			continue
		}
		if n := len(resp.GetResults().GetPostList().GetOrder()); n != tc.want {
			t.Errorf("%s: found %d posts; want %d", tc.name, n, tc.want)
		}
	}
}
