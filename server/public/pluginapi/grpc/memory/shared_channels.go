package memory

// This file holds the handlers of the shared-channels domain: the plugin's
// registrations as remote clusters, shared channels, the remotes invited
// to them with their sync cursors, and what plugin remotes send in.

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// Bits of RemoteCluster.options, as model.BitflagOption*.
const (
	remoteOptionAutoShareDMs = 1 << 0
	remoteOptionAutoInvited  = 1 << 1
)

// siteURLPlugin prefixes the site URL of a plugin's remote, as
// model.SiteURLPlugin.
const siteURLPlugin = "plugin_"

// channelRemote is a remote invited to a shared channel, with how far it
// has synced the channel.
type channelRemote struct {
	creatorID          string
	createAt, updateAt int64
	cursor             *pluginpb.GetPostsSinceForSyncCursor
}

// sharedChannelStore holds the remote clusters, deleted ones included,
// the shared channels and the invitations.
type sharedChannelStore struct {
	remotes map[string]*pluginpb.RemoteCluster
	shares  map[string]*pluginpb.SharedChannel
	invites map[membershipKey]*channelRemote // by channel id and remote id
}

func newSharedChannelStore() sharedChannelStore {
	return sharedChannelStore{
		remotes: make(map[string]*pluginpb.RemoteCluster),
		shares:  make(map[string]*pluginpb.SharedChannel),
		invites: make(map[membershipKey]*channelRemote),
	}
}

// RemoteClusters returns copies of the live remote clusters, as the hooks
// client needs them to call the OnSharedChannels hooks.
func (b *Backend) RemoteClusters() []*pluginpb.RemoteCluster {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []*pluginpb.RemoteCluster
	for _, rc := range b.shared.remotes {
		if rc.GetDeleteAt() == 0 {
			out = append(out, proto.Clone(rc).(*pluginpb.RemoteCluster))
		}
	}
	slices.SortFunc(out, func(x, y *pluginpb.RemoteCluster) int { return strings.Compare(x.GetRemoteId(), y.GetRemoteId()) })
	return out
}

// sharedChannelsOff is upstream's error while the shared-channels service
// does not run. The caller holds the lock.
func (b *Backend) sharedChannelsOff() error {
	if b.configBool("ConnectedWorkspacesSettings", "EnableSharedChannels") {
		return nil
	}
	return apperror.New("api.command_share.service_disabled",
		"Shared channels are off: set ConnectedWorkspacesSettings.EnableSharedChannels.", "", http.StatusBadRequest)
}

func remoteNotFound(remoteID string) *apperror.Error {
	return apperror.New("app.remote_cluster.get.not_found", "No remote cluster has that id.", "remote_id="+remoteID, http.StatusNotFound)
}

func channelNotShared(channelID string) *apperror.Error {
	return apperror.New("app.shared_channel.not_shared", "The channel is not shared.", "channel_id="+channelID, http.StatusBadRequest)
}

// liveRemote returns a live remote cluster. The caller holds the lock.
func (b *Backend) liveRemote(remoteID string) (*pluginpb.RemoteCluster, error) {
	if !isValidID(remoteID) {
		return nil, invalidParam("remote_id")
	}
	rc, ok := b.shared.remotes[remoteID]
	if !ok || rc.GetDeleteAt() != 0 {
		return nil, remoteNotFound(remoteID)
	}
	return rc, nil
}

// RegisterPluginForSharedChannels registers a plugin as a remote cluster.
// A plugin that registered under the same display name before keeps its
// remote, updated.
func (b *Backend) RegisterPluginForSharedChannels(ctx context.Context, req *pluginpb.RegisterPluginForSharedChannelsRequest) (*pluginpb.RegisterPluginForSharedChannelsResponse, error) {
	o := req.GetOpts()
	switch {
	case o == nil:
		return nil, invalidParam("opts")
	case o.GetPluginId() == "":
		return nil, invalidParam("opts.plugin_id")
	case o.GetDisplayName() == "" || utf8.RuneCountInString(o.GetDisplayName()) > 64:
		return nil, apperror.New("model.remote_cluster.is_valid.name.app_error",
			"Invalid display name: 1 to 64 characters.", "", http.StatusBadRequest)
	case o.GetCreatorId() != "" && !isValidID(o.GetCreatorId()):
		return nil, invalidParam("opts.creator_id")
	}
	var options int32
	if o.GetAutoShareDms() {
		options |= remoteOptionAutoShareDMs
	}
	if o.GetAutoInvited() {
		options |= remoteOptionAutoInvited
	}
	b.mu.Lock()
	var rc *pluginpb.RemoteCluster
	for _, r := range b.shared.remotes {
		if r.GetPluginId() == o.GetPluginId() && r.GetDisplayName() == o.GetDisplayName() && r.GetDeleteAt() == 0 {
			rc = proto.Clone(r).(*pluginpb.RemoteCluster)
		}
	}
	if rc == nil {
		rc = &pluginpb.RemoteCluster{
			RemoteId: newID(), Name: o.GetDisplayName(), DisplayName: o.GetDisplayName(),
			SiteUrl: siteURLPlugin + o.GetPluginId(), CreateAt: b.nowMillis(), Token: newID(), PluginId: o.GetPluginId(),
		}
	}
	rc.CreatorId, rc.Options = o.GetCreatorId(), options
	b.shared.remotes[rc.GetRemoteId()] = rc
	b.mu.Unlock()
	b.record(ctx, "shared_channels_register", req)
	return &pluginpb.RegisterPluginForSharedChannelsResponse{RemoteId: rc.GetRemoteId()}, nil
}

// deleteRemote deletes a remote and ends its invitations; a channel left
// with no remote is unshared, as App.DeleteRemoteCluster
// (server/channels/app/remote_cluster.go@0c456385). The caller holds the
// lock.
func (b *Backend) deleteRemote(rc *pluginpb.RemoteCluster) {
	rc = proto.Clone(rc).(*pluginpb.RemoteCluster)
	rc.DeleteAt = b.nowMillis()
	b.shared.remotes[rc.GetRemoteId()] = rc
	var left []string
	for k := range b.shared.invites {
		if k.user == rc.GetRemoteId() {
			delete(b.shared.invites, k)
			left = append(left, k.container)
		}
	}
	for _, channelID := range left {
		b.unshareIfNoRemotes(channelID)
	}
}

// UnregisterPluginForSharedChannels deletes every remote of a plugin; a
// plugin without one, an empty id too, is no error, as
// App.UnregisterPluginForSharedChannels (remote_cluster.go@0c456385).
func (b *Backend) UnregisterPluginForSharedChannels(ctx context.Context, req *pluginpb.UnregisterPluginForSharedChannelsRequest) (*pluginpb.UnregisterPluginForSharedChannelsResponse, error) {
	b.mu.Lock()
	for _, rc := range b.shared.remotes {
		if rc.GetPluginId() == req.GetPluginId() && rc.GetDeleteAt() == 0 {
			b.deleteRemote(rc)
		}
	}
	b.mu.Unlock()
	b.record(ctx, "shared_channels_unregister", req)
	return &pluginpb.UnregisterPluginForSharedChannelsResponse{}, nil
}

// UnregisterPluginRemoteForSharedChannels deletes one remote of this
// plugin, as App.UnregisterPluginRemoteForSharedChannels
// (remote_cluster.go@0c456385): any id is looked up, deleted remotes
// included; another plugin's remote is refused; a deleted one is no error.
func (b *Backend) UnregisterPluginRemoteForSharedChannels(ctx context.Context, req *pluginpb.UnregisterPluginRemoteForSharedChannelsRequest) (*pluginpb.UnregisterPluginRemoteForSharedChannelsResponse, error) {
	b.mu.Lock()
	rc, ok := b.shared.remotes[req.GetRemoteId()]
	var err error
	switch {
	case !ok:
		err = remoteNotFound(req.GetRemoteId())
	case rc.GetPluginId() != b.caller(ctx):
		err = apperror.New("app.remote_cluster.plugin_mismatch", "The remote belongs to another plugin.",
			"remote_id="+req.GetRemoteId(), http.StatusForbidden)
	case rc.GetDeleteAt() == 0:
		b.deleteRemote(rc)
	}
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	b.record(ctx, "shared_channels_unregister", req)
	return &pluginpb.UnregisterPluginRemoteForSharedChannelsResponse{}, nil
}

// validateShare checks a share as model.SharedChannel.IsValid does.
func validateShare(sc *pluginpb.SharedChannel) error {
	bad := func(field, message string) error {
		e := apperror.New("model.channel.is_valid."+field+".app_error", message, "", http.StatusBadRequest)
		e.Where = "SharedChannel.IsValid"
		return e
	}
	switch {
	case !isValidID(sc.GetChannelId()):
		return bad("id", "Invalid channel id.")
	case sc.GetType() != channelDirect && sc.GetType() != channelGroup && !isValidID(sc.GetTeamId()):
		return bad("team_id", "Invalid team id.")
	case len(sc.GetShareName()) > 64 || !validChannelName.MatchString(sc.GetShareName()):
		return bad("name", "Invalid share name: a valid channel name.")
	case utf8.RuneCountInString(sc.GetShareDisplayName()) > 64:
		return bad("display_name", "Invalid share display name: at most 64 characters.")
	case utf8.RuneCountInString(sc.GetSharePurpose()) > 250:
		return bad("purpose", "Invalid share purpose: at most 250 characters.")
	case utf8.RuneCountInString(sc.GetShareHeader()) > 1024:
		return bad("header", "Invalid share header: at most 1,024 characters.")
	case !isValidID(sc.GetCreatorId()):
		return bad("creator_id", "Invalid creator id.")
	case !sc.GetHome() && !isValidID(sc.GetRemoteId()):
		return bad("remote_id", "A channel that is not home here needs the id of its remote.")
	}
	return nil
}

// shareChannel stores a new share of an existing channel and marks the
// channel shared, as sharedchannel.Service.ShareChannel does
// (server/platform/services/sharedchannel/service_api.go@0000e54af2c5ded2514f0c624d79a386eedf490b):
// a channel that is shared already keeps its share, which is returned, and
// the names, purpose, header and creator left empty are the channel's. The caller holds the lock.
func (b *Backend) shareChannel(in *pluginpb.SharedChannel) (*pluginpb.SharedChannel, error) {
	sc := proto.Clone(in).(*pluginpb.SharedChannel)
	c, err := b.channel(sc.GetChannelId())
	if err != nil {
		return nil, err
	}
	if existing, shared := b.shared.shares[c.GetId()]; shared {
		return proto.Clone(existing).(*pluginpb.SharedChannel), nil
	}
	// The type and team are always the channel's: upstream keeps given ones.
	sc.TeamId, sc.Type = c.GetTeamId(), c.GetType()
	sc.ShareName = cmpOr(sc.GetShareName(), c.GetName())
	sc.ShareDisplayName = cmpOr(sc.GetShareDisplayName(), c.GetDisplayName())
	sc.SharePurpose = cmpOr(sc.GetSharePurpose(), c.GetPurpose())
	sc.ShareHeader = cmpOr(sc.GetShareHeader(), c.GetHeader())
	sc.CreatorId = cmpOr(sc.GetCreatorId(), c.GetCreatorId())
	now := b.nowMillis()
	sc.ShareName = strings.ToLower(sc.GetShareName())
	sc.CreateAt, sc.UpdateAt = now, now
	if err := validateShare(sc); err != nil {
		return nil, err
	}
	b.shared.shares[c.GetId()] = sc
	c = proto.Clone(c).(*pluginpb.Channel)
	c.Shared = proto.Bool(true)
	b.channels.put(c)
	return proto.Clone(sc).(*pluginpb.SharedChannel), nil
}

// ShareChannel shares a channel.
func (b *Backend) ShareChannel(_ context.Context, req *pluginpb.ShareChannelRequest) (*pluginpb.ShareChannelResponse, error) {
	if req.GetSharedChannel() == nil {
		return nil, invalidParam("shared_channel")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.sharedChannelsOff(); err != nil {
		return nil, err
	}
	sc, err := b.shareChannel(req.GetSharedChannel())
	if err != nil {
		return nil, err
	}
	return &pluginpb.ShareChannelResponse{SharedChannel: sc}, nil
}

// UpdateSharedChannel changes a share's name, display name, purpose,
// header, home and readonly; the channel, team, creator and times stay. As
// sharedchannel.Service.UpdateSharedChannel (service_api.go@9ce78308), the
// channel is looked up first.
func (b *Backend) UpdateSharedChannel(_ context.Context, req *pluginpb.UpdateSharedChannelRequest) (*pluginpb.UpdateSharedChannelResponse, error) {
	in := req.GetSharedChannel()
	if in == nil {
		return nil, invalidParam("shared_channel")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.sharedChannelsOff(); err != nil {
		return nil, err
	}
	if _, err := b.channel(in.GetChannelId()); err != nil {
		return nil, err
	}
	old, ok := b.shared.shares[in.GetChannelId()]
	if !ok {
		return nil, channelNotShared(in.GetChannelId())
	}
	sc := proto.Clone(in).(*pluginpb.SharedChannel)
	sc.ShareName = strings.ToLower(sc.GetShareName())
	sc.TeamId, sc.Type, sc.CreatorId, sc.CreateAt = old.GetTeamId(), old.GetType(), old.GetCreatorId(), old.GetCreateAt()
	sc.UpdateAt = b.nowMillis()
	if err := validateShare(sc); err != nil {
		return nil, err
	}
	b.shared.shares[sc.GetChannelId()] = sc
	return &pluginpb.UpdateSharedChannelResponse{SharedChannel: proto.Clone(sc).(*pluginpb.SharedChannel)}, nil
}

// UnshareChannel stops sharing a channel and ends its invitations; it
// reports false for a channel that was not shared.
func (b *Backend) UnshareChannel(_ context.Context, req *pluginpb.UnshareChannelRequest) (*pluginpb.UnshareChannelResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.sharedChannelsOff(); err != nil {
		return nil, err
	}
	c, err := b.channel(req.GetChannelId())
	if err != nil {
		return nil, err
	}
	if _, ok := b.shared.shares[c.GetId()]; !ok {
		return &pluginpb.UnshareChannelResponse{Unshared: false}, nil
	}
	b.unshare(c)
	return &pluginpb.UnshareChannelResponse{Unshared: true}, nil
}

// unshare deletes a channel's share and invitations and clears its shared
// flag. The caller holds the lock.
func (b *Backend) unshare(c *pluginpb.Channel) {
	delete(b.shared.shares, c.GetId())
	for k := range b.shared.invites {
		if k.container == c.GetId() {
			delete(b.shared.invites, k)
		}
	}
	c = proto.Clone(c).(*pluginpb.Channel)
	c.Shared = proto.Bool(false)
	b.channels.put(c)
}

// unshareIfNoRemotes unshares a shared channel that no remote is invited
// to any more, as sharedchannel.Service.unshareChannelIfNoActiveRemotes
// (service_api.go@0000e54a). The caller holds the lock.
func (b *Backend) unshareIfNoRemotes(channelID string) {
	if _, shared := b.shared.shares[channelID]; !shared {
		return
	}
	for k := range b.shared.invites {
		if k.container == channelID {
			return
		}
	}
	if c, err := b.channel(channelID); err == nil {
		b.unshare(c)
	}
}

// invite returns the invitation of a remote to a shared channel. The
// caller holds the lock.
func (b *Backend) invite(channelID, remoteID string) (*channelRemote, error) {
	if _, err := b.channel(channelID); err != nil {
		return nil, err
	}
	if _, ok := b.shared.shares[channelID]; !ok {
		return nil, channelNotShared(channelID)
	}
	if _, err := b.liveRemote(remoteID); err != nil {
		return nil, err
	}
	inv, ok := b.shared.invites[membershipKey{channelID, remoteID}]
	if !ok {
		return nil, apperror.New("app.shared_channel.remote_not_invited", "The remote is not invited to the channel.",
			"channel_id="+channelID+" remote_id="+remoteID, http.StatusNotFound)
	}
	return inv, nil
}

// UpdateSharedChannelCursor records how far a remote has synced a channel.
// As App.UpdateSharedChannelCursor (shared_channel.go@01e0e121), only the
// invitation is looked up: no service, channel or cursor check.
func (b *Backend) UpdateSharedChannelCursor(ctx context.Context, req *pluginpb.UpdateSharedChannelCursorRequest) (*pluginpb.UpdateSharedChannelCursorResponse, error) {
	cur := req.GetCursor()
	if cur == nil {
		cur = &pluginpb.GetPostsSinceForSyncCursor{}
	}
	b.mu.Lock()
	inv, ok := b.shared.invites[membershipKey{req.GetChannelId(), req.GetRemoteId()}]
	var err error
	if ok {
		inv.cursor = proto.Clone(cur).(*pluginpb.GetPostsSinceForSyncCursor)
		inv.updateAt = b.nowMillis()
	} else {
		err = apperror.New("app.shared_channel.remote_not_invited", "The remote is not invited to the channel.",
			"channel_id="+req.GetChannelId()+" remote_id="+req.GetRemoteId(), http.StatusNotFound)
	}
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	b.record(ctx, "shared_channel_cursor", req)
	return &pluginpb.UpdateSharedChannelCursorResponse{}, nil
}

// SyncSharedChannel records a request to send a shared channel's changes
// to its remotes. As App.SyncSharedChannel (shared_channel.go@01e0e121),
// only the service is checked: the channel is not looked up.
func (b *Backend) SyncSharedChannel(ctx context.Context, req *pluginpb.SyncSharedChannelRequest) (*pluginpb.SyncSharedChannelResponse, error) {
	b.mu.Lock()
	err := b.sharedChannelsOff()
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	b.record(ctx, "shared_channel_sync", req)
	return &pluginpb.SyncSharedChannelResponse{}, nil
}

// InviteRemoteToChannel invites a remote to a shared channel, sharing the
// channel first if asked. Inviting an invited remote again is no error.
func (b *Backend) InviteRemoteToChannel(ctx context.Context, req *pluginpb.InviteRemoteToChannelRequest) (*pluginpb.InviteRemoteToChannelResponse, error) {
	b.mu.Lock()
	err := b.inviteRemote(req)
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	b.record(ctx, "shared_channel_invite", req)
	return &pluginpb.InviteRemoteToChannelResponse{}, nil
}

// inviteRemote does the work of InviteRemoteToChannel, in the order of
// sharedchannel.Service.InviteRemoteToChannel
// (server/platform/services/sharedchannel/service_api.go@9ce78308): an
// invited remote is no error, before any other check; the channel is shared
// if asked (api.command_share.share_channel.error) or must be shared
// (api.command_share.channel_not_shared.error); the remote must be live
// (api.command_share.remote_id_invalid.error, 500) and the channel homed
// here (api.command_share.channel_invite_not_home.error). The user is not
// looked up. The caller holds the lock.
func (b *Backend) inviteRemote(req *pluginpb.InviteRemoteToChannelRequest) error {
	if err := b.sharedChannelsOff(); err != nil {
		return err
	}
	key := membershipKey{req.GetChannelId(), req.GetRemoteId()}
	if _, ok := b.shared.invites[key]; ok {
		return nil
	}
	if req.GetShareIfNotShared() {
		if _, err := b.shareChannel(&pluginpb.SharedChannel{ChannelId: req.GetChannelId(), CreatorId: req.GetUserId(), Home: true}); err != nil {
			return apperror.New("api.command_share.share_channel.error", "Unable to share the channel.", err.Error(), http.StatusBadRequest)
		}
	} else if _, shared := b.shared.shares[req.GetChannelId()]; !shared {
		return apperror.New("api.command_share.channel_not_shared.error", "The channel is not shared.",
			"channel_id="+req.GetChannelId(), http.StatusBadRequest)
	}
	if rc, ok := b.shared.remotes[req.GetRemoteId()]; !ok || rc.GetDeleteAt() != 0 {
		return apperror.New("api.command_share.remote_id_invalid.error", "Invalid remote id.",
			"remote_id="+req.GetRemoteId(), http.StatusInternalServerError)
	}
	if !b.shared.shares[req.GetChannelId()].GetHome() {
		return apperror.New("api.command_share.channel_invite_not_home.error",
			"A channel shared from a remote cannot be shared with another remote.", "", http.StatusBadRequest)
	}
	now := b.nowMillis()
	b.shared.invites[key] = &channelRemote{creatorID: req.GetUserId(), createAt: now, updateAt: now}
	return nil
}

// UninviteRemoteFromChannel ends a remote's invitation to a channel, as
// sharedchannel.Service.UninviteRemoteFromChannel (service_api.go@0000e54a):
// no invitation, whatever is missing, is
// api.command_share.channel_remote_id_not_exists (500); a channel left
// with no remote is unshared.
func (b *Backend) UninviteRemoteFromChannel(ctx context.Context, req *pluginpb.UninviteRemoteFromChannelRequest) (*pluginpb.UninviteRemoteFromChannelResponse, error) {
	b.mu.Lock()
	err := b.sharedChannelsOff()
	key := membershipKey{req.GetChannelId(), req.GetRemoteId()}
	if _, ok := b.shared.invites[key]; err == nil && !ok {
		err = apperror.New("api.command_share.channel_remote_id_not_exists", "The remote is not invited to the channel.",
			"remote_id="+req.GetRemoteId(), http.StatusInternalServerError)
	}
	if err == nil {
		delete(b.shared.invites, key)
		b.unshareIfNoRemotes(req.GetChannelId())
	}
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	b.record(ctx, "shared_channel_uninvite", req)
	return &pluginpb.UninviteRemoteFromChannelResponse{}, nil
}

// checkInbound checks that a plugin remote may send changes of a channel:
// the service runs, the remote is live and invited to the shared channel.
// The caller holds the lock.
func (b *Backend) checkInbound(remoteID, channelID string) (*pluginpb.RemoteCluster, error) {
	if err := b.sharedChannelsOff(); err != nil {
		return nil, err
	}
	rc, err := b.liveRemote(remoteID)
	if err != nil {
		return nil, err
	}
	if _, err := b.invite(channelID, remoteID); err != nil {
		return nil, err
	}
	return rc, nil
}

// ReceiveSharedChannelSyncMsg takes a remote's users, posts and reactions
// for a channel. Each item that fails is reported by id in the response,
// and the others are kept; a channel that is not shared with the remote
// fails the whole call. Users are taken as the remote's (remote_id set);
// posts keep their ids, and plugin hooks do not run for them.
func (b *Backend) ReceiveSharedChannelSyncMsg(ctx context.Context, req *pluginpb.ReceiveSharedChannelSyncMsgRequest) (*pluginpb.ReceiveSharedChannelSyncMsgResponse, error) {
	msg := req.GetMsg()
	if msg == nil {
		return nil, invalidParam("msg")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, err := b.checkInbound(req.GetRemoteId(), msg.GetChannelId()); err != nil {
		return nil, err
	}
	resp := &pluginpb.SyncResponse{}
	ids := make([]string, 0, len(msg.GetUsers()))
	for id := range msg.GetUsers() {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		u := msg.GetUsers()[id]
		if err := b.syncUser(req.GetRemoteId(), id, u); err != nil {
			resp.UserErrors = append(resp.UserErrors, id)
			continue
		}
		resp.UsersSyncd = append(resp.UsersSyncd, id)
		resp.UsersLastUpdateAt = max(resp.GetUsersLastUpdateAt(), u.GetUpdateAt())
	}
	for _, p := range msg.GetPosts() {
		if err := b.syncPost(req.GetRemoteId(), msg.GetChannelId(), p); err != nil {
			resp.PostErrors = append(resp.PostErrors, p.GetId())
			continue
		}
		resp.PostsLastUpdateAt = max(resp.GetPostsLastUpdateAt(), p.GetUpdateAt())
	}
	for _, r := range msg.GetReactions() {
		if err := b.syncReaction(req.GetRemoteId(), msg.GetChannelId(), r); err != nil {
			resp.ReactionErrors = append(resp.ReactionErrors, r.GetPostId())
			continue
		}
		resp.ReactionsLastUpdateAt = max(resp.GetReactionsLastUpdateAt(), r.GetUpdateAt())
	}
	return &pluginpb.ReceiveSharedChannelSyncMsgResponse{SyncResponse: resp}, nil
}

// syncUser creates or updates a remote's user. A local user, or another
// remote's, is not changed. The caller holds the lock.
func (b *Backend) syncUser(remoteID, id string, in *pluginpb.User) error {
	if in == nil || in.GetId() != id || !isValidID(id) {
		return invalidParam("users")
	}
	u := proto.Clone(in).(*pluginpb.User)
	u.Password, u.MfaSecret, u.RemoteId = "", "", proto.String(remoteID)
	if old, ok := b.users.byID[id]; ok {
		if old.user.GetRemoteId() != remoteID {
			return apperror.New("app.shared_channel.user_not_remote", "The user is not the remote's.", "user_id="+id, http.StatusBadRequest)
		}
		u.CreateAt, u.Roles = old.user.GetCreateAt(), old.user.GetRoles()
	} else {
		u.Roles = defaultUserRoles
		if u.GetCreateAt() == 0 {
			u.CreateAt = b.nowMillis()
		}
	}
	if u.GetUpdateAt() == 0 {
		u.UpdateAt = b.nowMillis()
	}
	if u.GetLocale() == "" {
		u.Locale = defaultLocale
	}
	normalizeUser(u)
	if err := validateUser(u); err != nil {
		return err
	}
	if err := b.users.checkUnique(u); err != nil {
		return err
	}
	if old, ok := b.users.byID[id]; ok {
		b.users.put(&storedUser{user: u, passwordHash: old.passwordHash})
	} else {
		b.users.put(&storedUser{user: u})
	}
	return nil
}

// syncPost creates a remote's post with its id, or takes the remote's
// version of a post it sent before. The caller holds the lock.
func (b *Backend) syncPost(remoteID, channelID string, in *pluginpb.Post) error {
	if in == nil || !isValidID(in.GetId()) || in.GetChannelId() != channelID {
		return invalidParam("posts")
	}
	p := proto.Clone(in).(*pluginpb.Post)
	p.RemoteId = proto.String(remoteID)
	if old, ok := b.posts.byID[p.GetId()]; ok {
		if old.GetRemoteId() != remoteID || old.GetChannelId() != channelID {
			return apperror.New("app.shared_channel.post_not_remote", "The post is not the remote's.", "post_id="+p.GetId(), http.StatusBadRequest)
		}
		updated := proto.Clone(old).(*pluginpb.Post)
		updated.Message, updated.Props, updated.EditAt, updated.DeleteAt = p.GetMessage(), p.GetProps(), p.GetEditAt(), p.GetDeleteAt()
		updated.UpdateAt = max(p.GetUpdateAt(), b.nowMillis())
		updated.Hashtags = hashtags(updated.GetMessage())
		b.posts.byID[updated.GetId()] = updated
		return nil
	}
	now := b.nowMillis()
	if p.GetCreateAt() == 0 {
		p.CreateAt = now
	}
	if p.GetUpdateAt() == 0 {
		p.UpdateAt = p.GetCreateAt()
	}
	p.ReplyCount, p.LastReplyAt, p.Participants, p.Metadata, p.IsFollowing = 0, 0, nil, nil, nil
	p.Hashtags = hashtags(p.GetMessage())
	if err := b.preparePost(p); err != nil {
		return err
	}
	b.storeNewPost(p)
	return nil
}

// syncReaction adds a remote's reaction, or removes it when delete_at is
// set. The caller holds the lock.
func (b *Backend) syncReaction(remoteID, channelID string, in *pluginpb.Reaction) error {
	if in == nil {
		return invalidParam("reactions")
	}
	r := proto.Clone(in).(*pluginpb.Reaction)
	r.RemoteId = proto.String(remoteID)
	p, err := b.checkReaction(r)
	if err != nil {
		return err
	}
	if p.GetChannelId() != channelID {
		return invalidParam("reactions: a post of another channel")
	}
	key := reactionKey{r.GetUserId(), r.GetPostId(), r.GetEmojiName()}
	if r.GetDeleteAt() != 0 {
		delete(b.posts.reactions, key)
	} else {
		if r.GetCreateAt() == 0 {
			r.CreateAt = b.nowMillis()
		}
		r.UpdateAt = max(r.GetUpdateAt(), r.GetCreateAt())
		r.ChannelId = channelID
		b.posts.reactions[key] = r
	}
	b.setHasReactions(r.GetPostId())
	return nil
}

// ReceiveSharedChannelAttachmentSyncMsg stores a file that a remote sends
// for a shared channel, under the id the remote gave it. A file with that
// id is kept as it is, and its info returned.
func (b *Backend) ReceiveSharedChannelAttachmentSyncMsg(stream pluginpb.PluginAPI_ReceiveSharedChannelAttachmentSyncMsgServer) error {
	head, err := headOf(stream.Recv, "an upload")
	if err != nil {
		return err
	}
	fi := head.GetFileInfo()
	switch {
	case fi == nil:
		return invalidParam("file_info")
	case !isValidID(fi.GetId()):
		return invalidParam("file_info.id")
	case !validFileName(fi.GetName()):
		return apperror.New("api.file.upload_file.bad_filename.app_error", "Invalid file name: no path and at most 256 characters.", "", http.StatusBadRequest)
	case fi.GetCreatorId() != "" && !isValidID(fi.GetCreatorId()):
		return invalidParam("file_info.creator_id")
	}
	b.mu.Lock()
	_, err = b.checkInbound(head.GetRemoteId(), head.GetChannelId())
	existing, had := b.files.infos[fi.GetId()]
	root, rootErr := b.fileRoot()
	limit := b.maxFileSize()
	b.mu.Unlock()
	switch {
	case err != nil:
		return err
	case had:
		return stream.SendAndClose(&pluginpb.ReceiveSharedChannelAttachmentSyncMsgResponse{FileInfo: proto.Clone(existing).(*pluginpb.FileInfo)})
	case rootErr != nil:
		return rootErr
	}
	creator := cmp.Or(fi.GetCreatorId(), uploadNoUserID)
	rel := filePath(b.now(), head.GetChannelId(), creator, fi.GetId(), fi.GetName())
	size, err := writeStream(stream.Context(), root, rel, limit, chunksOf(stream.Recv, func(r *pluginpb.ReceiveSharedChannelAttachmentSyncMsgRequest) []byte { return r.GetChunk() }))
	if err != nil {
		return err
	}
	info := b.fileInfoFor(root, fi.GetId(), rel, fi.GetName(), creator, head.GetChannelId(), size)
	info.RemoteId = proto.String(head.GetRemoteId())
	info.PostId = fi.GetPostId()
	b.mu.Lock()
	if kept, ok := b.files.infos[fi.GetId()]; ok { // the same file, received twice at once
		info = kept
	} else {
		b.files.infos[fi.GetId()] = info
	}
	b.mu.Unlock()
	b.record(stream.Context(), "shared_channel_attachment", &pluginpb.ReceiveSharedChannelAttachmentSyncMsgHead{
		RemoteId: head.GetRemoteId(), ChannelId: head.GetChannelId(), FileInfo: proto.Clone(info).(*pluginpb.FileInfo),
	})
	return stream.SendAndClose(&pluginpb.ReceiveSharedChannelAttachmentSyncMsgResponse{FileInfo: proto.Clone(info).(*pluginpb.FileInfo)})
}

// ReceiveSharedChannelProfileImageSyncMsg sets the profile image of a
// remote's user.
func (b *Backend) ReceiveSharedChannelProfileImageSyncMsg(ctx context.Context, req *pluginpb.ReceiveSharedChannelProfileImageSyncMsgRequest) (*pluginpb.ReceiveSharedChannelProfileImageSyncMsgResponse, error) {
	b.mu.Lock()
	err := b.sharedChannelsOff()
	if err == nil {
		_, err = b.liveRemote(req.GetRemoteId())
	}
	var u *pluginpb.User
	if err == nil {
		u, err = b.user(req.GetUserId())
	}
	if err == nil && u.GetRemoteId() != req.GetRemoteId() {
		err = apperror.New("app.shared_channel.user_not_remote", "The user is not the remote's.",
			"user_id="+req.GetUserId(), http.StatusBadRequest)
	}
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if _, err := b.SetProfileImage(ctx, &pluginpb.SetProfileImageRequest{UserId: req.GetUserId(), Data: req.GetImage()}); err != nil {
		return nil, err
	}
	b.record(ctx, "shared_channel_profile_image", &pluginpb.ReceiveSharedChannelProfileImageSyncMsgRequest{
		RemoteId: req.GetRemoteId(), UserId: req.GetUserId(),
	})
	return &pluginpb.ReceiveSharedChannelProfileImageSyncMsgResponse{}, nil
}
