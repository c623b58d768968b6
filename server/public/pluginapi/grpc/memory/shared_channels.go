package memory

// This file holds the handlers of the shared-channels domain: the plugin's
// registrations as remote clusters, shared channels, the remotes invited
// to them with their sync cursors, and what plugin remotes send in.

import (
	"context"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
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

// Keys of the props where a synced user keeps the username and email its
// remote knows it by, as sharedchannel.KeyRemoteUsername and KeyRemoteEmail
// (server/platform/services/sharedchannel/service.go@ad362c66).
const (
	propRemoteUsername = "RemoteUsername"
	propRemoteEmail    = "RemoteEmail"
)

// maxUpsertRetries is how many usernames a synced user is tried under
// before its sync fails, as sharedchannel.MaxUpsertRetries
// (service.go@ad362c66).
const maxUpsertRetries = 25

// validRemoteUsername is the character set of model.IsValidUsernameAllowRemote:
// a remote user's munged name has a colon.
var validRemoteUsername = regexp.MustCompile(`^[a-z0-9.\-_:]+$`)

// inboundRemote checks what every App.ReceiveSharedChannel*SyncMsg checks
// first: the service runs, the remote exists (the store's Get, deleted ones
// excluded) and belongs to the calling plugin. Upstream's remote errors are
// plain errors; the backend gives them the ids of its other remote
// lookups. The caller holds the lock.
func (b *Backend) inboundRemote(ctx context.Context, remoteID string) (*pluginpb.RemoteCluster, error) {
	if err := b.sharedChannelsOff(); err != nil {
		return nil, err
	}
	rc, ok := b.shared.remotes[remoteID]
	if !ok || rc.GetDeleteAt() != 0 {
		return nil, remoteNotFound(remoteID)
	}
	if rc.GetPluginId() != b.caller(ctx) {
		return nil, apperror.New("app.remote_cluster.plugin_mismatch", "The remote belongs to another plugin.",
			"remote_id="+remoteID, http.StatusForbidden)
	}
	return rc, nil
}

// remoteInvited checks that a remote is invited to a channel, as the
// store's SharedChannel().HasRemote. The caller holds the lock.
func (b *Backend) remoteInvited(channelID, remoteID string) error {
	if _, ok := b.shared.invites[membershipKey{channelID, remoteID}]; !ok {
		return apperror.New("app.shared_channel.remote_not_invited", "The remote is not invited to the channel.",
			"channel_id="+channelID+" remote_id="+remoteID, http.StatusNotFound)
	}
	return nil
}

// remoteUser returns a user that must be the remote's. The caller holds
// the lock.
func (b *Backend) remoteUser(userID, remoteID string) (*pluginpb.User, error) {
	u, err := b.user(userID)
	if err != nil {
		return nil, err
	}
	if u.GetRemoteId() != remoteID {
		return nil, apperror.New("app.shared_channel.user_not_remote", "The user is not the remote's.",
			"user_id="+userID, http.StatusBadRequest)
	}
	return u, nil
}

// ReceiveSharedChannelSyncMsg takes a remote's users, posts and reactions
// for a channel, as App.ReceiveSharedChannelSyncMsg and the service's
// processSyncMessage (server/platform/services/sharedchannel/sync_recv.go@ab89d76a):
// the remote must be the calling plugin's, the channel must exist and have
// the remote; then each item that fails is reported in the response and
// the others are kept. Users are upserted under munged names and joined to
// the channel's team and the channel; posts and reactions go through the
// paths of the posts domain, with their hooks.
func (b *Backend) ReceiveSharedChannelSyncMsg(ctx context.Context, req *pluginpb.ReceiveSharedChannelSyncMsgRequest) (*pluginpb.ReceiveSharedChannelSyncMsgResponse, error) {
	msg := req.GetMsg()
	if msg == nil {
		return nil, invalidParam("msg")
	}
	b.mu.Lock()
	rc, err := b.inboundRemote(ctx, req.GetRemoteId())
	var c *pluginpb.Channel
	if err == nil {
		c, err = b.channel(msg.GetChannelId())
	}
	if err == nil {
		err = b.remoteInvited(c.GetId(), rc.GetRemoteId())
	}
	b.mu.Unlock()
	if err != nil {
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
		if err := b.syncUser(ctx, rc, c, id, u); err != nil {
			resp.UserErrors = append(resp.UserErrors, id)
			continue
		}
		resp.UsersSyncd = append(resp.UsersSyncd, id)
		resp.UsersLastUpdateAt = max(resp.GetUsersLastUpdateAt(), u.GetUpdateAt())
	}
	for _, p := range msg.GetPosts() {
		saved, err := b.syncPost(ctx, rc.GetRemoteId(), c, p)
		if err != nil {
			resp.PostErrors = append(resp.PostErrors, p.GetId())
			continue
		}
		resp.PostsLastUpdateAt = max(resp.GetPostsLastUpdateAt(), saved.GetUpdateAt())
	}
	for _, r := range msg.GetReactions() {
		if err := b.syncReaction(ctx, rc.GetRemoteId(), c.GetId(), r); err != nil {
			resp.ReactionErrors = append(resp.ReactionErrors, r.GetPostId())
			continue
		}
		resp.ReactionsLastUpdateAt = max(resp.GetReactionsLastUpdateAt(), r.GetUpdateAt())
	}
	return &pluginpb.ReceiveSharedChannelSyncMsgResponse{SyncResponse: resp}, nil
}

// mungUsername makes the local name of a remote's user, as the service's
// mungUsername (server/platform/services/sharedchannel/util.go@75821ea9):
// the user's name, a suffix when one is tried again, then a colon and the
// remote's name, each cut short with an ellipsis to fit maxLen. A name
// munged already keeps the remote named after its colon.
func mungUsername(username, remoteName, suffix string, maxLen int) string {
	if suffix != "" {
		suffix = "~" + suffix
	}
	if parts := strings.Split(username, ":"); len(parts) >= 2 {
		username, remoteName = parts[0], strings.Join(parts[1:], "")
	}
	half := maxLen / 2
	extra := max(half-(len(remoteName)+1), 0)
	var userCut, remoteCut string
	if over := len(username) + len(suffix) - (half + extra); over > 0 {
		username = username[:max(len(username)-over-3, 0)]
		userCut = "..."
	}
	if over := len(remoteName) + 1 - (maxLen - (len(username) + len(userCut) + len(suffix))); over > 0 {
		remoteName = remoteName[:max(len(remoteName)-over-3, 0)]
		remoteCut = "..."
	}
	return username + suffix + userCut + ":" + remoteName + remoteCut
}

// mungEmail makes the local email of a remote's user: a new id at the
// remote's name, as the service's mungEmail (util.go@75821ea9).
func mungEmail(remoteName string, maxLen int) string {
	s := newID() + "@" + remoteName
	return s[:min(len(s), maxLen)]
}

// syncUser upserts a remote's user and joins it to the channel's team and
// the channel, as the service's upsertSyncUser, insertSyncUser and
// updateSyncUser (sync_recv.go@ab89d76a): a new user is sanitized (the
// system_user role, no password, auth data, MFA or notify props) and keeps
// its remote username and email in props; a user of another remote, or a
// local one, is refused; an update takes the remote's names, props,
// position, locale and timezone, and the real username and email in props
// unless they are munged already (a colon). Either way the username is
// munged with the remote's name and the email made anew, with a numbered
// suffix tried again on a collision. The joins run the team and channel
// membership hooks; a DM or GM has no team to join.
func (b *Backend) syncUser(ctx context.Context, rc *pluginpb.RemoteCluster, c *pluginpb.Channel, id string, in *pluginpb.User) error {
	if in == nil || in.GetId() != id {
		return invalidParam("users")
	}
	b.mu.Lock()
	err := b.upsertSyncUser(rc, in)
	b.mu.Unlock()
	if err != nil || c.GetTeamId() == "" {
		return err
	}
	if _, err := b.addTeamMember(ctx, c.GetTeamId(), id, ""); err != nil {
		return err
	}
	_, err = b.addChannelMember(ctx, c.GetId(), id, "")
	return err
}

// upsertSyncUser stores a remote's user; see syncUser. The caller holds the
// lock.
func (b *Backend) upsertSyncUser(rc *pluginpb.RemoteCluster, in *pluginpb.User) error {
	u := proto.Clone(in).(*pluginpb.User)
	old, exists := b.users.byID[u.GetId()]
	realUsername, realEmail := u.GetUsername(), u.GetEmail()
	if exists {
		if old.user.GetRemoteId() != rc.GetRemoteId() {
			return apperror.New("app.shared_channel.user_not_remote", "The user is not the remote's.", "user_id="+u.GetId(), http.StatusBadRequest)
		}
		// UserPatch: names, props, position, locale and timezone; the rest
		// is the stored user's.
		patched := proto.Clone(old.user).(*pluginpb.User)
		patched.Username, patched.Nickname, patched.FirstName, patched.LastName = u.GetUsername(), u.GetNickname(), u.GetFirstName(), u.GetLastName()
		patched.Email, patched.Position, patched.Locale = u.GetEmail(), u.GetPosition(), u.GetLocale()
		if u.Props != nil {
			patched.Props = u.GetProps()
		}
		if u.Timezone != nil {
			patched.Timezone = u.GetTimezone()
		}
		if strings.Contains(realUsername, ":") {
			realUsername = old.user.GetProps()[propRemoteUsername]
		}
		if strings.Contains(realEmail, ":") {
			realEmail = old.user.GetProps()[propRemoteEmail]
		}
		u = patched
	} else {
		u.RemoteId = proto.String(rc.GetRemoteId())
		if v, ok := u.GetProps()[propRemoteUsername]; ok {
			realUsername = v
		}
		if v, ok := u.GetProps()[propRemoteEmail]; ok {
			realEmail = v
		}
		if u.GetCreateAt() == 0 {
			u.CreateAt = b.nowMillis()
		}
	}
	// sanitizeUserForSync.
	u.Password, u.AuthData, u.AuthService, u.Roles = "", nil, "", defaultUserRoles
	u.AllowMarketing, u.NotifyProps, u.LastPasswordUpdate, u.LastPictureUpdate = false, nil, 0, 0
	u.FailedAttempts, u.MfaActive, u.MfaSecret = 0, false, ""
	if u.Props == nil {
		u.Props = map[string]string{}
	}
	u.Props[propRemoteUsername], u.Props[propRemoteEmail] = realUsername, realEmail
	u.UpdateAt = b.nowMillis()
	if u.GetLocale() == "" {
		u.Locale = defaultLocale
	}
	base := strings.ToLower(strings.TrimSpace(u.GetUsername()))
	var err error
	for i := 1; i <= maxUpsertRetries; i++ {
		suffix := ""
		if i > 1 {
			suffix = strconv.Itoa(i)
		}
		u.Username = mungUsername(base, rc.GetName(), suffix, usernameMaxLen)
		u.Email = mungEmail(rc.GetName(), emailMaxLen)
		normalizeUser(u)
		if err = validateRemoteUser(u); err != nil {
			return err
		}
		if err = b.users.checkUnique(u); err == nil {
			break
		}
	}
	if err != nil {
		return err
	}
	if exists {
		b.users.put(&storedUser{user: u, passwordHash: old.passwordHash})
	} else {
		b.users.put(&storedUser{user: u})
	}
	return nil
}

// validateRemoteUser is model.User.IsValid for a remote's user, whose
// username may hold a colon (model.IsValidUsernameAllowRemote): the other
// rules are a local user's.
func validateRemoteUser(u *pluginpb.User) error {
	name := u.GetUsername()
	if n := len(name); n == 0 || n > usernameMaxLen || !validRemoteUsername.MatchString(name) || isRestrictedUsername(name) {
		return invalidUser("username", "Invalid username: 1 to 64 lower case letters, digits and the symbols '.', '-', '_' and ':'.", "username="+name)
	}
	local := proto.Clone(u).(*pluginpb.User)
	local.Username = "remote" // the rest of IsValid, on a name it accepts
	return validateUser(local)
}

// syncPost creates, deletes or edits a remote's post, as the service's
// upsertSyncPost (sync_recv.go@ab89d76a) through App.CreatePost
// (server/channels/app/post.go@285f792d), App.DeletePost and
// App.UpdatePost: a post of another channel is an error; a new post keeps
// its id, and MessageWillBePosted, MessageHasBeenPosted and
// NotificationsWillBeSent run for it; a post the remote deleted is deleted
// (MessageHasBeenDeleted); a changed message or a later edit_at is an
// edit (MessageWillBeUpdated, MessageHasBeenUpdated); else nothing
// changes.
func (b *Backend) syncPost(ctx context.Context, remoteID string, c *pluginpb.Channel, in *pluginpb.Post) (*pluginpb.Post, error) {
	if in == nil || in.GetChannelId() != c.GetId() {
		return nil, invalidParam("posts: a post of another channel")
	}
	if !isValidID(in.GetId()) {
		return nil, invalidParam("posts")
	}
	p := proto.Clone(in).(*pluginpb.Post)
	p.RemoteId = proto.String(remoteID)
	b.mu.Lock()
	old, exists := b.posts.byID[p.GetId()]
	if exists {
		old = proto.Clone(old).(*pluginpb.Post)
	}
	b.mu.Unlock()
	switch {
	case !exists:
		return b.createSyncPost(ctx, p)
	case old.GetChannelId() != c.GetId():
		return nil, invalidParam("posts: a post of another channel")
	case p.GetDeleteAt() > 0:
		if _, err := b.DeletePost(ctx, &pluginpb.DeletePostRequest{PostId: p.GetId()}); err != nil {
			return nil, err
		}
	case p.GetEditAt() > old.GetEditAt() || p.GetMessage() != old.GetMessage():
		if _, err := b.UpdatePost(ctx, &pluginpb.UpdatePostRequest{Post: p}); err != nil {
			return nil, err
		}
	default:
		return old, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return proto.Clone(b.posts.byID[p.GetId()]).(*pluginpb.Post), nil
}

// createSyncPost is App.CreatePost for a remote's new post: the checks of
// a new post, MessageWillBePosted (which may change or reject it), the
// store's Save under the remote's id, then MessageHasBeenPosted and
// NotificationsWillBeSent.
func (b *Backend) createSyncPost(ctx context.Context, p *pluginpb.Post) (*pluginpb.Post, error) {
	p.ReplyCount, p.LastReplyAt, p.Participants, p.Metadata, p.IsFollowing = 0, 0, nil, nil, nil
	p.Hashtags = hashtags(p.GetMessage())
	changed, err := b.messageWillBePosted(ctx, p)
	if err != nil {
		return nil, err
	}
	// The store saves a remote post under its id.
	changed.Id, changed.RemoteId = p.GetId(), p.RemoteId
	b.mu.Lock()
	if _, taken := b.posts.byID[changed.GetId()]; taken {
		err = apperror.New("app.post.save.existing.app_error", "Cannot save an existing post.", "id="+changed.GetId(), http.StatusBadRequest)
	}
	if err == nil {
		if changed.GetCreateAt() == 0 {
			changed.CreateAt = b.nowMillis()
		}
		if changed.GetUpdateAt() == 0 {
			changed.UpdateAt = changed.GetCreateAt()
		}
		err = b.preparePost(changed)
	}
	if err == nil {
		b.storeNewPost(changed)
	}
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	b.hooks.MessageHasBeenPosted(ctx, proto.Clone(changed).(*pluginpb.Post))
	b.notificationsWillBeSent(ctx, changed)
	return proto.Clone(changed).(*pluginpb.Post), nil
}

// syncReaction adds a remote's reaction, or removes it when delete_at is
// set, as the service's upsertSyncReaction (sync_recv.go@ab89d76a) through
// App.SaveReactionForPost and App.DeleteReactionForPost, whose
// ReactionHasBeenAdded and ReactionHasBeenRemoved hooks run after.
func (b *Backend) syncReaction(ctx context.Context, remoteID, channelID string, in *pluginpb.Reaction) error {
	if in == nil {
		return invalidParam("reactions")
	}
	r := proto.Clone(in).(*pluginpb.Reaction)
	r.RemoteId = proto.String(remoteID)
	b.mu.Lock()
	p, err := b.checkReaction(r)
	if err == nil && p.GetChannelId() != channelID {
		err = invalidParam("reactions: a post of another channel")
	}
	key := reactionKey{r.GetUserId(), r.GetPostId(), r.GetEmojiName()}
	if err == nil {
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
	}
	b.mu.Unlock()
	if err != nil {
		return err
	}
	if r.GetDeleteAt() != 0 {
		b.hooks.ReactionHasBeenRemoved(ctx, proto.Clone(r).(*pluginpb.Reaction))
	} else {
		b.hooks.ReactionHasBeenAdded(ctx, proto.Clone(r).(*pluginpb.Reaction))
	}
	return nil
}

// fileAttachmentsOn is FileSettings.EnableFileAttachments, on by default as
// model.FileSettings.SetDefaults has it. The caller holds the lock.
func (b *Backend) fileAttachmentsOn() bool {
	v, ok := section(b.config, "FileSettings")["EnableFileAttachments"].(bool)
	return !ok || v
}

// ReceiveSharedChannelAttachmentSyncMsg stores a file that a remote sends
// for a shared channel, as App.ReceiveSharedChannelAttachmentSyncMsg: the
// file info, its creator and name are required; the remote must be the
// calling plugin's and invited to the channel, the creator must be the
// remote's user, file attachments on and the declared size within
// FileSettings.MaxFileSize; then it is an upload session
// (App.CreateUploadSession, App.UploadData,
// server/channels/app/upload.go@5c839440): the file gets a new id, at most
// the declared size is read, FileWillBeUploaded runs, and the info keeps
// the remote's id.
func (b *Backend) ReceiveSharedChannelAttachmentSyncMsg(stream pluginpb.PluginAPI_ReceiveSharedChannelAttachmentSyncMsgServer) error {
	head, err := headOf(stream.Recv, "an upload")
	if err != nil {
		return err
	}
	fi := head.GetFileInfo()
	required := func(what string) error {
		return apperror.New("api.shared_channel.attachment."+what+"_required.app_error",
			"The attachment needs its "+strings.ReplaceAll(what, "_", " ")+".", "", http.StatusBadRequest)
	}
	switch {
	case fi == nil:
		return required("file_info")
	case fi.GetCreatorId() == "":
		return required("creator_id")
	case fi.GetName() == "":
		return required("filename")
	}
	ctx := stream.Context()
	b.mu.Lock()
	rc, err := b.inboundRemote(ctx, head.GetRemoteId())
	if err == nil {
		err = b.remoteInvited(head.GetChannelId(), rc.GetRemoteId())
	}
	if err == nil {
		_, err = b.remoteUser(fi.GetCreatorId(), rc.GetRemoteId())
	}
	if err == nil && !b.fileAttachmentsOn() {
		err = apperror.New("api.file.attachments.disabled.app_error", "File attachments are off on this server.", "", http.StatusNotImplemented)
	}
	limit := b.maxFileSize()
	if err == nil && fi.GetSize() > limit {
		err = apperror.New("api.upload.create.upload_too_large.app_error", "Unable to upload: the file is too large.",
			"channel_id="+head.GetChannelId(), http.StatusRequestEntityTooLarge)
	}
	var us *pluginpb.UploadSession
	if err == nil {
		us, err = b.attachmentSession(head.GetChannelId(), rc.GetRemoteId(), fi)
	}
	root, rootErr := b.fileRoot()
	b.mu.Unlock()
	switch {
	case err != nil:
		return err
	case rootErr != nil:
		return rootErr
	}
	info, err := b.uploadAttachment(stream, root, us, limit)
	if err != nil {
		return err
	}
	b.record(ctx, "shared_channel_attachment", &pluginpb.ReceiveSharedChannelAttachmentSyncMsgHead{
		RemoteId: head.GetRemoteId(), ChannelId: head.GetChannelId(), FileInfo: proto.Clone(info).(*pluginpb.FileInfo),
	})
	return stream.SendAndClose(&pluginpb.ReceiveSharedChannelAttachmentSyncMsgResponse{FileInfo: info})
}

// attachmentSession creates the upload session of a remote's attachment,
// as App.CreateUploadSession: a new id, the server's path, then
// UploadSession.IsValid (a size of 0 fails it) and a live channel. The
// caller holds the lock.
func (b *Backend) attachmentSession(channelID, remoteID string, fi *pluginpb.FileInfo) (*pluginpb.UploadSession, error) {
	us := &pluginpb.UploadSession{
		Id: newID(), Type: uploadAttachment, UserId: fi.GetCreatorId(), ChannelId: channelID,
		Filename: fi.GetName(), FileSize: fi.GetSize(), RemoteId: remoteID, CreateAt: b.nowMillis(),
	}
	us.Path = b.uploadPath(us)
	if err := validateUploadSession(us); err != nil {
		return nil, err
	}
	ch, err := b.channel(channelID)
	switch {
	case err != nil:
		return nil, apperror.New("app.upload.create.incorrect_channel_id.app_error", "Unable to upload: incorrect channel id.",
			"channel_id="+channelID, http.StatusBadRequest)
	case ch.GetDeleteAt() != 0:
		return nil, apperror.New("app.upload.create.cannot_upload_to_deleted_channel.app_error", "Unable to upload to an archived channel.",
			"channel_id="+channelID, http.StatusBadRequest)
	}
	b.files.uploads[us.GetId()] = us
	return us, nil
}

// uploadAttachment is App.UploadData for a remote's attachment, in one
// call: the data up to the session's size, which must all come (a first
// part short of it is app.upload.upload_data.first_part_too_small.app_error
// below 5 MiB; upstream returns no file above), then the file info under a
// new id, FileWillBeUploaded, the info stored and the session deleted.
func (b *Backend) uploadAttachment(stream pluginpb.PluginAPI_ReceiveSharedChannelAttachmentSyncMsgServer, root string, us *pluginpb.UploadSession, limit int64) (*pluginpb.FileInfo, error) {
	written, err := appendUpload(root, us.GetPath(), us, chunksOf(stream.Recv, func(r *pluginpb.ReceiveSharedChannelAttachmentSyncMsgRequest) []byte { return r.GetChunk() }))
	if err != nil && written == 0 {
		return nil, err
	}
	if written != us.GetFileSize() {
		if full, perr := storePath(root, us.GetPath()); perr == nil {
			os.Remove(full)
		}
		return nil, apperror.New("app.upload.upload_data.first_part_too_small.app_error",
			"Unable to upload: the data is shorter than the file's size.", "", http.StatusBadRequest)
	}
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	info := b.fileInfoFor(root, newID(), us.GetPath(), us.GetFilename(), us.GetUserId(), us.GetChannelId(), us.GetFileSize())
	b.mu.Unlock()
	info.RemoteId = proto.String(us.GetRemoteId())
	info, err = b.runUploadHook(stream.Context(), root, info, limit, sessionUploadRejected(us.GetFilename()))
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.files.infos[info.GetId()] = info
	delete(b.files.uploads, us.GetId())
	b.mu.Unlock()
	return proto.Clone(info).(*pluginpb.FileInfo), nil
}

// ReceiveSharedChannelProfileImageSyncMsg sets the profile image of a
// remote's user, as App.ReceiveSharedChannelProfileImageSyncMsg: the
// remote must be the calling plugin's, the user the remote's, and the
// image within FileSettings.MaxFileSize
// (api.user.upload_profile_user.too_large.app_error, 413); then
// App.SetProfileImageFromFile, as SetProfileImage.
func (b *Backend) ReceiveSharedChannelProfileImageSyncMsg(ctx context.Context, req *pluginpb.ReceiveSharedChannelProfileImageSyncMsgRequest) (*pluginpb.ReceiveSharedChannelProfileImageSyncMsgResponse, error) {
	b.mu.Lock()
	rc, err := b.inboundRemote(ctx, req.GetRemoteId())
	if err == nil {
		_, err = b.remoteUser(req.GetUserId(), rc.GetRemoteId())
	}
	if err == nil && int64(len(req.GetImage())) > b.maxFileSize() {
		err = apperror.New("api.user.upload_profile_user.too_large.app_error", "Unable to upload the profile image: the file is too large.",
			"", http.StatusRequestEntityTooLarge)
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
