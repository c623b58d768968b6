package memory

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// sharedWorld is a world with shared channels on, a plugin remote and a
// channel to share.
type sharedWorld struct {
	world
	remoteID string
	channel  *pluginpb.Channel
}

func newSharedWorld(t *testing.T) sharedWorld {
	t.Helper()
	w := sharedWorld{world: newWorld(t)}
	section(w.b.config, "ConnectedWorkspacesSettings")["EnableSharedChannels"] = true
	resp, err := w.b.RegisterPluginForSharedChannels(context.Background(), &pluginpb.RegisterPluginForSharedChannelsRequest{
		Opts: &pluginpb.RegisterPluginOpts{DisplayName: "Bridge", PluginId: DefaultPluginID, AutoInvited: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	w.remoteID = resp.GetRemoteId()
	w.channel = createChannel(t, w.b, &pluginpb.Channel{TeamId: w.team.GetId(), Name: "bridge", DisplayName: "Bridge", Type: channelOpen})
	return w
}

func (w sharedWorld) invite(t *testing.T) {
	t.Helper()
	if _, err := w.b.InviteRemoteToChannel(context.Background(), &pluginpb.InviteRemoteToChannelRequest{
		ChannelId: w.channel.GetId(), RemoteId: w.remoteID, UserId: w.alice.GetId(), ShareIfNotShared: true,
	}); err != nil {
		t.Fatalf("InviteRemoteToChannel = %v", err)
	}
}

func TestSharedChannelsOffByDefault(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	calls := map[string]func() error{
		"ShareChannel": func() error {
			_, err := w.b.ShareChannel(ctx, &pluginpb.ShareChannelRequest{SharedChannel: &pluginpb.SharedChannel{ChannelId: newID()}})
			return err
		},
		"UnshareChannel": func() error {
			_, err := w.b.UnshareChannel(ctx, &pluginpb.UnshareChannelRequest{ChannelId: newID()})
			return err
		},
		"SyncSharedChannel": func() error {
			_, err := w.b.SyncSharedChannel(ctx, &pluginpb.SyncSharedChannelRequest{ChannelId: newID()})
			return err
		},
		"InviteRemoteToChannel": func() error {
			_, err := w.b.InviteRemoteToChannel(ctx, &pluginpb.InviteRemoteToChannelRequest{ChannelId: newID()})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			wantAppError(t, name, err, http.StatusBadRequest)
			if id := err.(*apperror.Error).ID; id != "api.command_share.service_disabled" {
				t.Errorf("%s error id = %q; want upstream's service_disabled", name, id)
			}
		})
	}
	// Registering needs no running service, as upstream.
	if _, err := w.b.RegisterPluginForSharedChannels(ctx, &pluginpb.RegisterPluginForSharedChannelsRequest{
		Opts: &pluginpb.RegisterPluginOpts{DisplayName: "Bridge", PluginId: DefaultPluginID},
	}); err != nil {
		t.Errorf("RegisterPluginForSharedChannels with the service off = %v", err)
	}
}

func TestRegisterPluginForSharedChannels(t *testing.T) {
	w := newSharedWorld(t)
	ctx := context.Background()
	again, err := w.b.RegisterPluginForSharedChannels(ctx, &pluginpb.RegisterPluginForSharedChannelsRequest{
		Opts: &pluginpb.RegisterPluginOpts{DisplayName: "Bridge", PluginId: DefaultPluginID, AutoShareDms: true},
	})
	if err != nil || again.GetRemoteId() != w.remoteID {
		t.Fatalf("registering again = %v, %v; want the same remote", again, err)
	}
	remotes := w.b.RemoteClusters()
	if len(remotes) != 1 || remotes[0].GetOptions() != remoteOptionAutoShareDMs || remotes[0].GetSiteUrl() != "plugin_"+DefaultPluginID {
		t.Fatalf("remotes = %v; want one, updated", remotes)
	}
	other, _ := w.b.RegisterPluginForSharedChannels(ctx, &pluginpb.RegisterPluginForSharedChannelsRequest{
		Opts: &pluginpb.RegisterPluginOpts{DisplayName: "Other", PluginId: "com.example.other"},
	})
	_, err = w.b.UnregisterPluginRemoteForSharedChannels(ctx, &pluginpb.UnregisterPluginRemoteForSharedChannelsRequest{RemoteId: other.GetRemoteId()})
	wantAppError(t, "UnregisterPluginRemoteForSharedChannels(another plugin's)", err, http.StatusForbidden)
	w.invite(t)
	if _, err := w.b.UnregisterPluginForSharedChannels(ctx, &pluginpb.UnregisterPluginForSharedChannelsRequest{PluginId: DefaultPluginID}); err != nil {
		t.Fatal(err)
	}
	if len(w.b.RemoteClusters()) != 1 {
		t.Errorf("remotes after unregistering = %v; want only the other plugin's", w.b.RemoteClusters())
	}
	_, err = w.b.UpdateSharedChannelCursor(ctx, &pluginpb.UpdateSharedChannelCursorRequest{
		ChannelId: w.channel.GetId(), RemoteId: w.remoteID, Cursor: &pluginpb.GetPostsSinceForSyncCursor{}})
	wantAppError(t, "UpdateSharedChannelCursor(unregistered remote)", err, http.StatusNotFound)

	tests := []struct {
		name string
		opts *pluginpb.RegisterPluginOpts
	}{
		{"no options", nil},
		{"no plugin id", &pluginpb.RegisterPluginOpts{DisplayName: "X"}},
		{"no display name", &pluginpb.RegisterPluginOpts{PluginId: "p"}},
		{"bad creator", &pluginpb.RegisterPluginOpts{PluginId: "p", DisplayName: "X", CreatorId: "short"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := w.b.RegisterPluginForSharedChannels(ctx, &pluginpb.RegisterPluginForSharedChannelsRequest{Opts: tt.opts})
			wantAppError(t, "RegisterPluginForSharedChannels", err, http.StatusBadRequest)
		})
	}
}

func TestShareUpdateUnshare(t *testing.T) {
	w := newSharedWorld(t)
	ctx := context.Background()
	share := &pluginpb.SharedChannel{ChannelId: w.channel.GetId(), Home: true, ShareName: "Bridge", ShareDisplayName: "Bridge", CreatorId: w.alice.GetId()}
	sc, err := w.b.ShareChannel(ctx, &pluginpb.ShareChannelRequest{SharedChannel: share})
	if err != nil {
		t.Fatal(err)
	}
	got := sc.GetSharedChannel()
	if got.GetShareName() != "bridge" || got.GetTeamId() != w.team.GetId() || got.GetType() != channelOpen || got.GetCreateAt() == 0 {
		t.Errorf("share = %v", got)
	}
	if c, _ := w.b.GetChannel(ctx, &pluginpb.GetChannelRequest{ChannelId: w.channel.GetId()}); !c.GetChannel().GetShared() {
		t.Error("a shared channel has shared false")
	}
	// Sharing again returns the share (see TestShareChannelFollowsTheService).
	if again, err := w.b.ShareChannel(ctx, &pluginpb.ShareChannelRequest{SharedChannel: share}); err != nil || !proto.Equal(again.GetSharedChannel(), got) {
		t.Errorf("ShareChannel(again) = %v, %v; want the share", again, err)
	}

	upd := proto.Clone(got).(*pluginpb.SharedChannel)
	upd.ShareHeader, upd.Readonly, upd.CreatorId = "Read me", true, w.bob.GetId()
	after, err := w.b.UpdateSharedChannel(ctx, &pluginpb.UpdateSharedChannelRequest{SharedChannel: upd})
	if err != nil || after.GetSharedChannel().GetShareHeader() != "Read me" || after.GetSharedChannel().GetCreatorId() != w.alice.GetId() {
		t.Errorf("UpdateSharedChannel = %v, %v; want the header changed and the creator kept", after, err)
	}

	w.invite(t) // the channel is shared already: no second share
	w.invite(t) // inviting again is no error
	un, err := w.b.UnshareChannel(ctx, &pluginpb.UnshareChannelRequest{ChannelId: w.channel.GetId()})
	if err != nil || !un.GetUnshared() {
		t.Fatalf("UnshareChannel = %v, %v", un, err)
	}
	if len(w.b.shared.invites) != 0 {
		t.Error("unsharing kept the invitations")
	}
	un, err = w.b.UnshareChannel(ctx, &pluginpb.UnshareChannelRequest{ChannelId: w.channel.GetId()})
	if err != nil || un.GetUnshared() {
		t.Errorf("UnshareChannel(not shared) = %v, %v; want false", un, err)
	}
	_, err = w.b.UpdateSharedChannel(ctx, &pluginpb.UpdateSharedChannelRequest{SharedChannel: upd})
	wantAppError(t, "UpdateSharedChannel(not shared)", err, http.StatusBadRequest)

	bad := []*pluginpb.SharedChannel{
		{ChannelId: w.channel.GetId(), Home: true, ShareName: "Not valid!", CreatorId: w.alice.GetId()},
		{ChannelId: w.channel.GetId(), Home: true, ShareName: "bridge", CreatorId: "nobody"},
		{ChannelId: w.channel.GetId(), ShareName: "bridge", CreatorId: w.alice.GetId()}, // not home, no remote
	}
	for _, sc := range bad {
		_, err := w.b.ShareChannel(ctx, &pluginpb.ShareChannelRequest{SharedChannel: sc})
		wantAppError(t, "ShareChannel(invalid)", err, http.StatusBadRequest)
	}
}

func TestInviteCursorAndSync(t *testing.T) {
	w := newSharedWorld(t)
	ctx := context.Background()
	_, err := w.b.InviteRemoteToChannel(ctx, &pluginpb.InviteRemoteToChannelRequest{
		ChannelId: w.channel.GetId(), RemoteId: w.remoteID, UserId: w.alice.GetId()})
	wantAppError(t, "InviteRemoteToChannel(not shared)", err, http.StatusBadRequest)
	w.invite(t)

	cursor := &pluginpb.GetPostsSinceForSyncCursor{LastPostCreateAt: 5, LastPostCreateId: newID()}
	if _, err := w.b.UpdateSharedChannelCursor(ctx, &pluginpb.UpdateSharedChannelCursorRequest{
		ChannelId: w.channel.GetId(), RemoteId: w.remoteID, Cursor: cursor}); err != nil {
		t.Fatal(err)
	}
	if got := w.b.shared.invites[membershipKey{w.channel.GetId(), w.remoteID}].cursor; !proto.Equal(got, cursor) {
		t.Errorf("cursor = %v; want %v", got, cursor)
	}
	if _, err := w.b.SyncSharedChannel(ctx, &pluginpb.SyncSharedChannelRequest{ChannelId: w.channel.GetId()}); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range w.b.Events() {
		kinds = append(kinds, e.Kind)
	}
	want := []string{"shared_channels_register", "shared_channel_invite", "shared_channel_cursor", "shared_channel_sync"}
	if len(kinds) != len(want) {
		t.Fatalf("events = %v; want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("events = %v; want %v", kinds, want)
		}
	}
	if _, err := w.b.UninviteRemoteFromChannel(ctx, &pluginpb.UninviteRemoteFromChannelRequest{ChannelId: w.channel.GetId(), RemoteId: w.remoteID}); err != nil {
		t.Fatal(err)
	}
	_, err = w.b.UninviteRemoteFromChannel(ctx, &pluginpb.UninviteRemoteFromChannelRequest{ChannelId: w.channel.GetId(), RemoteId: w.remoteID})
	wantAppErrorID(t, "UninviteRemoteFromChannel(twice)", err, "api.command_share.channel_remote_id_not_exists", http.StatusInternalServerError)
}

// TestSharedChannelsFollowTheService checks the invitations against
// sharedchannel.Service.InviteRemoteToChannel
// (server/platform/services/sharedchannel/service_api.go@9ce78308) and
// UninviteRemoteFromChannel with unshareChannelIfNoActiveRemotes
// (service_api.go@0000e54a), App.SyncSharedChannel and
// App.UpdateSharedChannelCursor (server/channels/app/shared_channel.go@01e0e121)
// and App.DeleteRemoteCluster (server/channels/app/remote_cluster.go@0c456385).
func TestSharedChannelsFollowTheService(t *testing.T) {
	w := newSharedWorld(t)
	ctx := context.Background()
	invite := func(channelID, remoteID, userID string, share bool) error {
		_, err := w.b.InviteRemoteToChannel(ctx, &pluginpb.InviteRemoteToChannelRequest{
			ChannelId: channelID, RemoteId: remoteID, UserId: userID, ShareIfNotShared: share})
		return err
	}
	tests := []struct {
		name                        string
		channelID, remoteID, userID string
		share                       bool
		id                          string
		status                      int
	}{
		{"not shared", w.channel.GetId(), w.remoteID, w.alice.GetId(), false, "api.command_share.channel_not_shared.error", http.StatusBadRequest},
		{"no channel to share", newID(), w.remoteID, w.alice.GetId(), true, "api.command_share.share_channel.error", http.StatusBadRequest},
		{"unknown remote", w.channel.GetId(), newID(), w.alice.GetId(), true, "api.command_share.remote_id_invalid.error", http.StatusInternalServerError},
	}
	for _, tt := range tests {
		wantAppErrorID(t, "InviteRemoteToChannel("+tt.name+")", invite(tt.channelID, tt.remoteID, tt.userID, tt.share), tt.id, tt.status)
	}
	// The user is not looked up; an invited remote is no error, before
	// any other check.
	if err := invite(w.channel.GetId(), w.remoteID, newID(), true); err != nil {
		t.Fatalf("InviteRemoteToChannel(unknown user) = %v", err)
	}
	if err := invite(w.channel.GetId(), w.remoteID, "", false); err != nil {
		t.Errorf("InviteRemoteToChannel(invited again) = %v", err)
	}
	// Sync looks nothing up; the cursor needs the invitation only.
	if _, err := w.b.SyncSharedChannel(ctx, &pluginpb.SyncSharedChannelRequest{ChannelId: "unknown"}); err != nil {
		t.Errorf("SyncSharedChannel(unknown) = %v", err)
	}
	if _, err := w.b.UpdateSharedChannelCursor(ctx, &pluginpb.UpdateSharedChannelCursorRequest{ChannelId: w.channel.GetId(), RemoteId: w.remoteID,
		Cursor: &pluginpb.GetPostsSinceForSyncCursor{LastPostCreateId: "not an id"}}); err != nil {
		t.Errorf("UpdateSharedChannelCursor(any cursor) = %v", err)
	}
	// The last remote uninvited: the channel is unshared.
	if _, err := w.b.UninviteRemoteFromChannel(ctx, &pluginpb.UninviteRemoteFromChannelRequest{ChannelId: w.channel.GetId(), RemoteId: w.remoteID}); err != nil {
		t.Fatal(err)
	}
	if _, shared := w.b.shared.shares[w.channel.GetId()]; shared {
		t.Errorf("a channel left with no remote is still shared")
	}
	// A deleted remote: its channels left with no remote are unshared,
	// and unregistering it again is no error.
	if err := invite(w.channel.GetId(), w.remoteID, w.alice.GetId(), true); err != nil {
		t.Fatal(err)
	}
	req := &pluginpb.UnregisterPluginRemoteForSharedChannelsRequest{RemoteId: w.remoteID}
	for range 2 {
		if _, err := w.b.UnregisterPluginRemoteForSharedChannels(ctx, req); err != nil {
			t.Fatalf("UnregisterPluginRemoteForSharedChannels = %v", err)
		}
	}
	if _, shared := w.b.shared.shares[w.channel.GetId()]; shared {
		t.Errorf("a channel whose only remote was deleted is still shared")
	}
	if _, err := w.b.UnregisterPluginForSharedChannels(ctx, &pluginpb.UnregisterPluginForSharedChannelsRequest{}); err != nil {
		t.Errorf("UnregisterPluginForSharedChannels(no plugin id) = %v", err)
	}
}

func TestReceiveSharedChannelSyncMsg(t *testing.T) {
	w := newSharedWorld(t)
	ctx := context.Background()
	msg := func() *pluginpb.SyncMsg {
		return &pluginpb.SyncMsg{Id: newID(), ChannelId: w.channel.GetId()}
	}
	_, err := w.b.ReceiveSharedChannelSyncMsg(ctx, &pluginpb.ReceiveSharedChannelSyncMsgRequest{RemoteId: w.remoteID, Msg: msg()})
	wantAppErrorID(t, "ReceiveSharedChannelSyncMsg(not invited)", err, "app.shared_channel.remote_not_invited", http.StatusNotFound)
	w.invite(t)

	remoteUser := &pluginpb.User{Id: newID(), Username: "zoe", Email: "zoe@remote.example", UpdateAt: 7}
	postID := newID()
	in := msg()
	in.Users = map[string]*pluginpb.User{
		remoteUser.GetId(): remoteUser,
		w.bob.GetId():      {Id: w.bob.GetId(), Username: "bob", Email: "bob@example.com"}, // a local user
	}
	in.Posts = []*pluginpb.Post{
		{Id: postID, ChannelId: w.channel.GetId(), UserId: remoteUser.GetId(), Message: "from afar", CreateAt: 10, UpdateAt: 10},
		{Id: newID(), ChannelId: newID(), UserId: remoteUser.GetId(), Message: "elsewhere"},
	}
	in.Reactions = []*pluginpb.Reaction{{UserId: remoteUser.GetId(), PostId: postID, EmojiName: "smile", CreateAt: 11}}
	resp, err := w.b.ReceiveSharedChannelSyncMsg(ctx, &pluginpb.ReceiveSharedChannelSyncMsgRequest{RemoteId: w.remoteID, Msg: in})
	if err != nil {
		t.Fatal(err)
	}
	r := resp.GetSyncResponse()
	if len(r.GetUsersSyncd()) != 1 || len(r.GetUserErrors()) != 1 || r.GetUserErrors()[0] != w.bob.GetId() || r.GetUsersLastUpdateAt() != 7 {
		t.Errorf("users: %v", r)
	}
	if len(r.GetPostErrors()) != 1 || r.GetPostsLastUpdateAt() != 10 || len(r.GetReactionErrors()) != 0 {
		t.Errorf("posts and reactions: %v", r)
	}
	got, err := w.b.GetPost(ctx, &pluginpb.GetPostRequest{PostId: postID})
	if err != nil || got.GetPost().GetRemoteId() != w.remoteID || !got.GetPost().GetHasReactions() {
		t.Errorf("synced post = %v, %v", got, err)
	}
	u, _ := w.b.GetUser(ctx, &pluginpb.GetUserRequest{UserId: remoteUser.GetId()})
	if got := u.GetUser(); got.GetRemoteId() != w.remoteID || got.GetUsername() != "zoe:bridge" ||
		got.GetProps()["RemoteUsername"] != "zoe" || got.GetProps()["RemoteEmail"] != "zoe@remote.example" ||
		!strings.HasSuffix(got.GetEmail(), "@bridge") {
		t.Errorf("synced user = %v; want zoe:bridge, a new email at the remote, the real ones in props", got)
	}
	if _, ok := w.b.channels.member(w.channel.GetId(), remoteUser.GetId()); !ok {
		t.Error("the synced user is not a member of the channel")
	}
	if m, ok := w.b.teams.member(w.team.GetId(), remoteUser.GetId()); !ok || m.GetDeleteAt() != 0 {
		t.Error("the synced user is not a member of the team")
	}

	// The remote edits its post and takes its reaction back.
	edit := msg()
	edit.Posts = []*pluginpb.Post{{Id: postID, ChannelId: w.channel.GetId(), UserId: remoteUser.GetId(), Message: "edited", EditAt: 20, UpdateAt: 20}}
	edit.Reactions = []*pluginpb.Reaction{{UserId: remoteUser.GetId(), PostId: postID, EmojiName: "smile", DeleteAt: 21}}
	if _, err := w.b.ReceiveSharedChannelSyncMsg(ctx, &pluginpb.ReceiveSharedChannelSyncMsgRequest{RemoteId: w.remoteID, Msg: edit}); err != nil {
		t.Fatal(err)
	}
	got, _ = w.b.GetPost(ctx, &pluginpb.GetPostRequest{PostId: postID})
	if got.GetPost().GetMessage() != "edited" || got.GetPost().GetHasReactions() {
		t.Errorf("post after the edit = %v", got.GetPost())
	}

	// Profile images: only for the remote's users.
	img := pngImage(t, 8, 8)
	if _, err := w.b.ReceiveSharedChannelProfileImageSyncMsg(ctx, &pluginpb.ReceiveSharedChannelProfileImageSyncMsgRequest{
		RemoteId: w.remoteID, UserId: remoteUser.GetId(), Image: img}); err != nil {
		t.Fatal(err)
	}
	_, err = w.b.ReceiveSharedChannelProfileImageSyncMsg(ctx, &pluginpb.ReceiveSharedChannelProfileImageSyncMsgRequest{
		RemoteId: w.remoteID, UserId: w.alice.GetId(), Image: img})
	wantAppError(t, "ReceiveSharedChannelProfileImageSyncMsg(local user)", err, http.StatusBadRequest)
}

// TestShareChannelFollowsTheService checks ShareChannel against
// sharedchannel.Service.ShareChannel
// (server/platform/services/sharedchannel/service_api.go@0000e54af2c5ded2514f0c624d79a386eedf490b):
// the empty fields are the channel's, and sharing a shared channel again
// returns its share rather than failing.
func TestShareChannelFollowsTheService(t *testing.T) {
	ctx := context.Background()
	b, _ := newTestBackend(t)
	setSetting(b, "ConnectedWorkspacesSettings", "EnableSharedChannels", true)
	team := createTeam(t, b, newTeam("team"))
	creator := create(t, b, newUser("creator"))
	c, err := b.CreateChannel(ctx, &pluginpb.CreateChannelRequest{Channel: &pluginpb.Channel{
		TeamId: team.GetId(), Name: "bridge", DisplayName: "Bridge", Purpose: "p", Header: "h", Type: "O", CreatorId: creator.GetId()}})
	if err != nil {
		t.Fatal(err)
	}
	id := c.GetChannel().GetId()
	first, err := b.ShareChannel(ctx, &pluginpb.ShareChannelRequest{SharedChannel: &pluginpb.SharedChannel{ChannelId: id, Home: true}})
	sc := first.GetSharedChannel()
	if err != nil || sc.GetShareName() != "bridge" || sc.GetShareDisplayName() != "Bridge" || sc.GetSharePurpose() != "p" ||
		sc.GetShareHeader() != "h" || sc.GetCreatorId() != creator.GetId() {
		t.Fatalf("ShareChannel = %v, %v; want the channel's fields", sc, err)
	}
	again, err := b.ShareChannel(ctx, &pluginpb.ShareChannelRequest{SharedChannel: &pluginpb.SharedChannel{ChannelId: id, Home: true, ShareName: "other"}})
	if err != nil || !proto.Equal(again.GetSharedChannel(), sc) {
		t.Errorf("ShareChannel(shared) = %v, %v; want the existing share", again, err)
	}
}

// syncHooks records the hooks that a remote's changes reach, and rejects
// the posts whose message is "reject".
type syncHooks struct {
	NoHooks
	mu     sync.Mutex
	events []string
}

func (h *syncHooks) record(event string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, event)
}

func (h *syncHooks) seen() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.events, ",")
}

func (h *syncHooks) UserHasJoinedTeam(context.Context, *pluginpb.TeamMember, *pluginpb.User) {
	h.record("UserHasJoinedTeam")
}

func (h *syncHooks) UserHasJoinedChannel(_ context.Context, m *pluginpb.ChannelMember, _ *pluginpb.User) {
	h.record("UserHasJoinedChannel")
}

func (h *syncHooks) MessageWillBePosted(_ context.Context, p *pluginpb.Post) (*pluginpb.Post, string) {
	h.record("MessageWillBePosted")
	if p.GetMessage() == "reject" {
		return nil, "no"
	}
	return nil, ""
}

func (h *syncHooks) MessageHasBeenPosted(context.Context, *pluginpb.Post) {
	h.record("MessageHasBeenPosted")
}

func (h *syncHooks) MessageHasBeenUpdated(context.Context, *pluginpb.Post, *pluginpb.Post) {
	h.record("MessageHasBeenUpdated")
}

func (h *syncHooks) ReactionHasBeenAdded(context.Context, *pluginpb.Reaction) {
	h.record("ReactionHasBeenAdded")
}

func (h *syncHooks) FileWillBeUploaded(_ context.Context, info *pluginpb.FileInfo, _ io.Reader, _ io.Writer) (*pluginpb.FileInfo, string) {
	h.record("FileWillBeUploaded")
	return nil, ""
}

// attachmentStream is the server side of a
// ReceiveSharedChannelAttachmentSyncMsg call: a head, then the data.
type attachmentStream struct {
	grpc.ServerStream
	ctx  context.Context
	reqs []*pluginpb.ReceiveSharedChannelAttachmentSyncMsgRequest
	resp *pluginpb.ReceiveSharedChannelAttachmentSyncMsgResponse
}

func (s *attachmentStream) Context() context.Context { return s.ctx }

func (s *attachmentStream) Recv() (*pluginpb.ReceiveSharedChannelAttachmentSyncMsgRequest, error) {
	if len(s.reqs) == 0 {
		return nil, io.EOF
	}
	r := s.reqs[0]
	s.reqs = s.reqs[1:]
	return r, nil
}

func (s *attachmentStream) SendAndClose(r *pluginpb.ReceiveSharedChannelAttachmentSyncMsgResponse) error {
	s.resp = r
	return nil
}

func (w sharedWorld) receiveAttachment(ctx context.Context, remoteID string, fi *pluginpb.FileInfo, data []byte) (*pluginpb.FileInfo, error) {
	s := &attachmentStream{ctx: ctx}
	s.reqs = append(s.reqs, &pluginpb.ReceiveSharedChannelAttachmentSyncMsgRequest{Part: &pluginpb.ReceiveSharedChannelAttachmentSyncMsgRequest_Head{
		Head: &pluginpb.ReceiveSharedChannelAttachmentSyncMsgHead{RemoteId: remoteID, ChannelId: w.channel.GetId(), FileInfo: fi}}})
	if len(data) > 0 {
		s.reqs = append(s.reqs, &pluginpb.ReceiveSharedChannelAttachmentSyncMsgRequest{Part: &pluginpb.ReceiveSharedChannelAttachmentSyncMsgRequest_Chunk{Chunk: data}})
	}
	if err := w.b.ReceiveSharedChannelAttachmentSyncMsg(s); err != nil {
		return nil, err
	}
	return s.resp.GetFileInfo(), nil
}

// TestReceiveFollowsTheApp checks the inbound sync against
// App.ReceiveSharedChannelSyncMsg, App.ReceiveSharedChannelAttachmentSyncMsg
// and App.ReceiveSharedChannelProfileImageSyncMsg (server/channels/app/shared_channel.go,
// a stored version whose commit the index does not name) and the service's
// upsertSyncUser and upsertSyncPost
// (server/platform/services/sharedchannel/sync_recv.go@ab89d76a): the
// remote must be the calling plugin's; synced users join the team and the
// channel and synced posts run the post hooks; an attachment needs its
// creator and name, a creator that is the remote's, file attachments on
// and a size within MaxFileSize, and is stored under a new id after
// FileWillBeUploaded (server/channels/app/upload.go@5c839440:App.UploadData);
// a profile image is bounded by MaxFileSize.
func TestReceiveFollowsTheApp(t *testing.T) {
	w := newSharedWorld(t)
	hooks := &syncHooks{}
	w.b.hooks = hooks
	ctx := context.Background()
	w.invite(t)
	zoe := &pluginpb.User{Id: newID(), Username: "zoe", Email: "zoe@remote.example"}
	in := &pluginpb.SyncMsg{Id: newID(), ChannelId: w.channel.GetId(), Users: map[string]*pluginpb.User{zoe.GetId(): zoe}}
	postID := newID()
	in.Posts = []*pluginpb.Post{
		{Id: postID, ChannelId: w.channel.GetId(), UserId: zoe.GetId(), Message: "hello"},
		{Id: newID(), ChannelId: w.channel.GetId(), UserId: zoe.GetId(), Message: "reject"},
	}
	in.Reactions = []*pluginpb.Reaction{{UserId: zoe.GetId(), PostId: postID, EmojiName: "smile"}}
	resp, err := w.b.ReceiveSharedChannelSyncMsg(ctx, &pluginpb.ReceiveSharedChannelSyncMsgRequest{RemoteId: w.remoteID, Msg: in})
	if err != nil {
		t.Fatal(err)
	}
	if errs := resp.GetSyncResponse().GetPostErrors(); len(errs) != 1 || errs[0] != in.Posts[1].GetId() {
		t.Errorf("post errors = %v; want the rejected post", errs)
	}
	want := "UserHasJoinedTeam,UserHasJoinedChannel,MessageWillBePosted,MessageHasBeenPosted,MessageWillBePosted,ReactionHasBeenAdded"
	if got := hooks.seen(); got != want {
		t.Errorf("hooks = %s; want %s", got, want)
	}
	edit := &pluginpb.SyncMsg{Id: newID(), ChannelId: w.channel.GetId(),
		Posts: []*pluginpb.Post{{Id: postID, ChannelId: w.channel.GetId(), UserId: zoe.GetId(), Message: "edited"}}}
	if _, err := w.b.ReceiveSharedChannelSyncMsg(ctx, &pluginpb.ReceiveSharedChannelSyncMsgRequest{RemoteId: w.remoteID, Msg: edit}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(hooks.seen(), "MessageHasBeenUpdated") {
		t.Errorf("an edit ran %s; want MessageHasBeenUpdated last", hooks.seen())
	}

	// Another plugin's remote.
	other, err := w.b.RegisterPluginForSharedChannels(ctx, &pluginpb.RegisterPluginForSharedChannelsRequest{
		Opts: &pluginpb.RegisterPluginOpts{DisplayName: "Other", PluginId: "com.example.other"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.b.ReceiveSharedChannelSyncMsg(ctx, &pluginpb.ReceiveSharedChannelSyncMsgRequest{RemoteId: other.GetRemoteId(), Msg: in})
	wantAppErrorID(t, "ReceiveSharedChannelSyncMsg(another plugin's remote)", err, "app.remote_cluster.plugin_mismatch", http.StatusForbidden)
	_, err = w.b.ReceiveSharedChannelProfileImageSyncMsg(ctx, &pluginpb.ReceiveSharedChannelProfileImageSyncMsgRequest{
		RemoteId: other.GetRemoteId(), UserId: zoe.GetId(), Image: pngImage(t, 8, 8)})
	wantAppErrorID(t, "ReceiveSharedChannelProfileImageSyncMsg(another plugin's remote)", err, "app.remote_cluster.plugin_mismatch", http.StatusForbidden)

	// Attachments.
	data := []byte("hello, world")
	file := func(creator, name string, size int64) *pluginpb.FileInfo {
		return &pluginpb.FileInfo{Id: newID(), CreatorId: creator, Name: name, Size: size}
	}
	tests := []struct {
		name     string
		remoteID string
		fi       *pluginpb.FileInfo
		setup    func()
		id       string
		status   int
	}{
		{"no file info", w.remoteID, nil, nil, "api.shared_channel.attachment.file_info_required.app_error", http.StatusBadRequest},
		{"no creator", w.remoteID, file("", "a.txt", 12), nil, "api.shared_channel.attachment.creator_id_required.app_error", http.StatusBadRequest},
		{"no name", w.remoteID, file(zoe.GetId(), "", 12), nil, "api.shared_channel.attachment.filename_required.app_error", http.StatusBadRequest},
		{"another plugin's remote", other.GetRemoteId(), file(zoe.GetId(), "a.txt", 12), nil, "app.remote_cluster.plugin_mismatch", http.StatusForbidden},
		{"a local creator", w.remoteID, file(w.alice.GetId(), "a.txt", 12), nil, "app.shared_channel.user_not_remote", http.StatusBadRequest},
		{"attachments off", w.remoteID, file(zoe.GetId(), "a.txt", 12),
			func() { setSetting(w.b, "FileSettings", "EnableFileAttachments", false) }, "api.file.attachments.disabled.app_error", http.StatusNotImplemented},
		{"over MaxFileSize", w.remoteID, file(zoe.GetId(), "a.txt", 12), func() {
			setSetting(w.b, "FileSettings", "EnableFileAttachments", true)
			setSetting(w.b, "FileSettings", "MaxFileSize", float64(11))
		}, "api.upload.create.upload_too_large.app_error", http.StatusRequestEntityTooLarge},
		{"no size", w.remoteID, file(zoe.GetId(), "a.txt", 0), func() { setSetting(w.b, "FileSettings", "MaxFileSize", float64(1<<20)) },
			"model.upload_session.is_valid.file_size.app_error", http.StatusBadRequest},
		{"short data", w.remoteID, file(zoe.GetId(), "a.txt", 13), nil, "app.upload.upload_data.first_part_too_small.app_error", http.StatusBadRequest},
	}
	for _, tt := range tests {
		if tt.setup != nil {
			tt.setup()
		}
		_, err := w.receiveAttachment(ctx, tt.remoteID, tt.fi, data)
		wantAppErrorID(t, "ReceiveSharedChannelAttachmentSyncMsg("+tt.name+")", err, tt.id, tt.status)
	}
	fi := file(zoe.GetId(), "a.txt", 12)
	got, err := w.receiveAttachment(ctx, w.remoteID, fi, append(bytes.Clone(data), "ignored"...))
	if err != nil {
		t.Fatal(err)
	}
	if got.GetId() == fi.GetId() || got.GetSize() != 12 || got.GetRemoteId() != w.remoteID || got.GetCreatorId() != zoe.GetId() {
		t.Errorf("attachment = %v; want a new id, 12 bytes, the remote's, by zoe", got)
	}
	if !strings.HasSuffix(hooks.seen(), "FileWillBeUploaded") {
		t.Errorf("hooks = %s; want FileWillBeUploaded last", hooks.seen())
	}

	// A profile image over MaxFileSize.
	img := pngImage(t, 8, 8)
	setSetting(w.b, "FileSettings", "MaxFileSize", float64(len(img)-1))
	_, err = w.b.ReceiveSharedChannelProfileImageSyncMsg(ctx, &pluginpb.ReceiveSharedChannelProfileImageSyncMsgRequest{
		RemoteId: w.remoteID, UserId: zoe.GetId(), Image: img})
	wantAppErrorID(t, "ReceiveSharedChannelProfileImageSyncMsg(too large)", err, "api.user.upload_profile_user.too_large.app_error", http.StatusRequestEntityTooLarge)
}
