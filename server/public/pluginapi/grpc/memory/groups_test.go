package memory

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

func createGroup(t *testing.T, b *Backend, g *pluginpb.Group) *pluginpb.Group {
	t.Helper()
	resp, err := b.CreateGroup(context.Background(), &pluginpb.CreateGroupRequest{Group: g})
	if err != nil {
		t.Fatalf("CreateGroup(%s) = %v", g.GetDisplayName(), err)
	}
	return resp.GetGroup()
}

func customGroup(name string) *pluginpb.Group {
	return &pluginpb.Group{Name: proto.String(name), DisplayName: "Group " + name, Source: groupSourceCustom}
}

func addToGroup(t *testing.T, b *Backend, groupID string, userIDs ...string) {
	t.Helper()
	if _, err := b.UpsertGroupMembers(context.Background(), &pluginpb.UpsertGroupMembersRequest{GroupId: groupID, UserIds: userIDs}); err != nil {
		t.Fatalf("UpsertGroupMembers = %v", err)
	}
}

func link(t *testing.T, b *Backend, groupID, syncableID, kind string, autoAdd bool) *pluginpb.GroupSyncable {
	t.Helper()
	resp, err := b.UpsertGroupSyncable(context.Background(), &pluginpb.UpsertGroupSyncableRequest{GroupSyncable: &pluginpb.GroupSyncable{
		GroupId: groupID, SyncableId: syncableID, Type: kind, AutoAdd: autoAdd,
	}})
	if err != nil {
		t.Fatalf("UpsertGroupSyncable(%s) = %v", kind, err)
	}
	return resp.GetGroupSyncable()
}

func TestCreateGroupValidation(t *testing.T) {
	tests := []struct {
		name  string
		group *pluginpb.Group
	}{
		{"unknown source", &pluginpb.Group{Name: proto.String("x"), DisplayName: "X", Source: "github"}},
		{"no display name", &pluginpb.Group{Name: proto.String("x"), Source: groupSourceCustom}},
		{"mentionable without a name", &pluginpb.Group{DisplayName: "X", Source: groupSourceCustom, AllowReference: true}},
		{"reserved name", &pluginpb.Group{Name: proto.String("here"), DisplayName: "X", Source: groupSourceCustom}},
		{"long remote id", &pluginpb.Group{DisplayName: "X", Source: groupSourceLDAP, RemoteId: proto.String(string(make([]byte, 49)))}},
		{"upper-case name", &pluginpb.Group{Name: proto.String("Team"), DisplayName: "X", Source: groupSourceCustom}},
		{"long name", &pluginpb.Group{Name: proto.String(string(make([]byte, 65))), DisplayName: "X", Source: groupSourceCustom}},
		{"ldap without remote id", &pluginpb.Group{DisplayName: "X", Source: groupSourceLDAP}},
		{"plugin without remote id", &pluginpb.Group{DisplayName: "X", Source: "plugin_com.example"}},
		{"id set", &pluginpb.Group{Id: newID(), Name: proto.String("x"), DisplayName: "X", Source: groupSourceCustom}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := newTestBackend(t)
			_, err := b.CreateGroup(context.Background(), &pluginpb.CreateGroupRequest{Group: tt.group})
			wantAppError(t, "CreateGroup", err, http.StatusBadRequest)
		})
	}
}

func TestGroupLookupsAndUniqueness(t *testing.T) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	dev := createGroup(t, b, customGroup("developers"))
	ldap := createGroup(t, b, &pluginpb.Group{DisplayName: "Ops", Source: groupSourceLDAP, RemoteId: proto.String("cn=ops")})
	create(t, b, newUser("alice"))

	// server/channels/app/group.go@0a29d834:App.CreateGroup: a user's name
	// is refused first (400); a taken name or remote id fails the store's
	// insert, which is app.insert_error (500).
	for _, tt := range []struct {
		group  *pluginpb.Group
		id     string
		status int
	}{
		{customGroup("developers"), "app.insert_error", http.StatusInternalServerError},
		{customGroup("alice"), "app.group.username_conflict", http.StatusBadRequest},
		{&pluginpb.Group{Id: newID(), Name: proto.String("alice"), DisplayName: "X", Source: groupSourceCustom}, "app.group.username_conflict", http.StatusBadRequest},
		{&pluginpb.Group{DisplayName: "Ops 2", Source: groupSourceLDAP, RemoteId: proto.String("cn=ops")}, "app.insert_error", http.StatusInternalServerError},
	} {
		_, err := b.CreateGroup(ctx, &pluginpb.CreateGroupRequest{Group: tt.group})
		wantAppErrorID(t, "CreateGroup(duplicate)", err, tt.id, tt.status)
	}
	// The same remote id in another source is another group.
	createGroup(t, b, &pluginpb.Group{DisplayName: "Ops", Source: "plugin_com.example", RemoteId: proto.String("cn=ops")})

	byName, err := b.GetGroupByName(ctx, &pluginpb.GetGroupByNameRequest{Name: "developers"})
	if err != nil || byName.GetGroup().GetId() != dev.GetId() {
		t.Errorf("GetGroupByName = %v, %v", byName, err)
	}
	byRemote, err := b.GetGroupByRemoteID(ctx, &pluginpb.GetGroupByRemoteIDRequest{RemoteId: "cn=ops", GroupSource: groupSourceLDAP})
	if err != nil || byRemote.GetGroup().GetId() != ldap.GetId() {
		t.Errorf("GetGroupByRemoteID = %v, %v", byRemote, err)
	}
	_, err = b.GetGroupByRemoteID(ctx, &pluginpb.GetGroupByRemoteIDRequest{RemoteId: "cn=ops", GroupSource: groupSourceCustom})
	wantAppError(t, "GetGroupByRemoteID(other source)", err, http.StatusNotFound)
	_, err = b.GetGroup(ctx, &pluginpb.GetGroupRequest{GroupId: newID()})
	wantAppError(t, "GetGroup(unknown)", err, http.StatusNotFound)
	// SqlGroupStore.Get and GetAllBySource look any id or source up.
	_, err = b.GetGroup(ctx, &pluginpb.GetGroupRequest{GroupId: "short"})
	wantAppErrorID(t, "GetGroup(bad id)", err, "app.group.no_rows", http.StatusNotFound)
	if got, err := b.GetGroupsBySource(ctx, &pluginpb.GetGroupsBySourceRequest{GroupSource: "github"}); err != nil || len(got.GetGroups()) != 0 {
		t.Errorf("GetGroupsBySource(unknown source) = %v, %v; want none", got, err)
	}
	ldapGroups, _ := b.GetGroupsBySource(ctx, &pluginpb.GetGroupsBySourceRequest{GroupSource: groupSourceLDAP})
	if len(ldapGroups.GetGroups()) != 1 || ldapGroups.GetGroups()[0].GetId() != ldap.GetId() {
		t.Errorf("GetGroupsBySource(ldap) = %v", ldapGroups.GetGroups())
	}
}

func TestUpdateDeleteRestoreGroup(t *testing.T) {
	b, clock := newTestBackend(t)
	ctx := context.Background()
	g := createGroup(t, b, &pluginpb.Group{Name: proto.String("ops"), DisplayName: "Ops", Source: groupSourceLDAP, RemoteId: proto.String("r1")})
	clock.Advance(time.Second)
	in := proto.Clone(g).(*pluginpb.Group)
	in.DisplayName, in.Source, in.RemoteId, in.AllowReference = "Operations", groupSourceCustom, proto.String("r2"), true
	up, err := b.UpdateGroup(ctx, &pluginpb.UpdateGroupRequest{Group: in})
	if err != nil {
		t.Fatal(err)
	}
	got := up.GetGroup()
	// group_store.go@02fd7885:SqlGroupStore.Update writes the source and
	// remote id too, and keeps only create_at.
	if got.GetDisplayName() != "Operations" || !got.GetAllowReference() || got.GetSource() != groupSourceCustom ||
		got.GetRemoteId() != "r2" || got.GetUpdateAt() <= g.GetUpdateAt() || got.GetCreateAt() != g.GetCreateAt() {
		t.Errorf("UpdateGroup = %v; want the display name, source and remote id changed", got)
	}
	in = proto.Clone(got).(*pluginpb.Group)
	in.DeleteAt = 5
	_, err = b.UpdateGroup(ctx, &pluginpb.UpdateGroupRequest{Group: in})
	wantAppErrorID(t, "UpdateGroup(delete_at)", err, "app.select_error", http.StatusInternalServerError)

	del, err := b.DeleteGroup(ctx, &pluginpb.DeleteGroupRequest{GroupId: g.GetId()})
	if err != nil || del.GetGroup().GetDeleteAt() == 0 {
		t.Fatalf("DeleteGroup = %v, %v", del, err)
	}
	_, err = b.DeleteGroup(ctx, &pluginpb.DeleteGroupRequest{GroupId: g.GetId()})
	wantAppError(t, "DeleteGroup(deleted)", err, http.StatusNotFound)
	if got, _ := b.GetGroupsBySource(ctx, &pluginpb.GetGroupsBySourceRequest{GroupSource: groupSourceLDAP}); len(got.GetGroups()) != 0 {
		t.Errorf("a deleted group is listed: %v", got.GetGroups())
	}
	// The row stays: GetGroup still finds it.
	if got, err := b.GetGroup(ctx, &pluginpb.GetGroupRequest{GroupId: g.GetId()}); err != nil || got.GetGroup().GetDeleteAt() == 0 {
		t.Errorf("GetGroup(deleted) = %v, %v", got, err)
	}
	res, err := b.RestoreGroup(ctx, &pluginpb.RestoreGroupRequest{GroupId: g.GetId()})
	if err != nil || res.GetGroup().GetDeleteAt() != 0 {
		t.Fatalf("RestoreGroup = %v, %v", res, err)
	}
	_, err = b.RestoreGroup(ctx, &pluginpb.RestoreGroupRequest{GroupId: g.GetId()})
	wantAppError(t, "RestoreGroup(live)", err, http.StatusNotFound)

	// Updating a deleted group with delete_at 0 restores it.
	if _, err := b.DeleteGroup(ctx, &pluginpb.DeleteGroupRequest{GroupId: g.GetId()}); err != nil {
		t.Fatal(err)
	}
	in = proto.Clone(res.GetGroup()).(*pluginpb.Group)
	in.DeleteAt = 0
	if up, err := b.UpdateGroup(ctx, &pluginpb.UpdateGroupRequest{Group: in}); err != nil || up.GetGroup().GetDeleteAt() != 0 {
		t.Errorf("UpdateGroup(delete_at 0 on a deleted group) = %v, %v; want it restored", up, err)
	}
}

func TestGroupMembers(t *testing.T) {
	b, clock := newTestBackend(t)
	ctx := context.Background()
	g := createGroup(t, b, customGroup("devs"))
	zed, amy := create(t, b, newUser("zed")), create(t, b, newUser("amy"))

	_, err := b.UpsertGroupMembers(ctx, &pluginpb.UpsertGroupMembersRequest{GroupId: g.GetId(), UserIds: []string{zed.GetId(), newID()}})
	// group_store.go@02fd7885:buildUpsertMembersQuery: an unknown user is a
	// store failure, app.update_error (500) in App.UpsertGroupMembers.
	wantAppErrorID(t, "UpsertGroupMembers(unknown user)", err, "app.update_error", http.StatusInternalServerError)
	if users, _ := b.GetGroupMemberUsers(ctx, &pluginpb.GetGroupMemberUsersRequest{GroupId: g.GetId(), PerPage: 10}); len(users.GetUsers()) != 0 {
		t.Fatalf("a failed UpsertGroupMembers added %v", users.GetUsers())
	}
	addToGroup(t, b, g.GetId(), zed.GetId(), amy.GetId())
	first, _ := b.UpsertGroupMember(ctx, &pluginpb.UpsertGroupMemberRequest{GroupId: g.GetId(), UserId: zed.GetId()})
	clock.Advance(time.Second)
	again, _ := b.UpsertGroupMember(ctx, &pluginpb.UpsertGroupMemberRequest{GroupId: g.GetId(), UserId: zed.GetId()})
	if again.GetGroupMember().GetCreateAt() <= first.GetGroupMember().GetCreateAt() {
		t.Errorf("upserting a member again = %v; want create_at rewritten, as the store's upsert does", again)
	}
	users, _ := b.GetGroupMemberUsers(ctx, &pluginpb.GetGroupMemberUsersRequest{GroupId: g.GetId(), PerPage: 1, Page: 1})
	if len(users.GetUsers()) != 1 || users.GetUsers()[0].GetUsername() != "zed" {
		t.Errorf("page 1 of members = %v; want zed, after amy", users.GetUsers())
	}
	mine, _ := b.GetGroupsForUser(ctx, &pluginpb.GetGroupsForUserRequest{UserId: amy.GetId()})
	if len(mine.GetGroups()) != 1 {
		t.Errorf("GetGroupsForUser = %v", mine.GetGroups())
	}

	left, err := b.DeleteGroupMember(ctx, &pluginpb.DeleteGroupMemberRequest{GroupId: g.GetId(), UserId: amy.GetId()})
	if err != nil || left.GetGroupMember().GetDeleteAt() == 0 {
		t.Fatalf("DeleteGroupMember = %v, %v", left, err)
	}
	_, err = b.DeleteGroupMember(ctx, &pluginpb.DeleteGroupMemberRequest{GroupId: g.GetId(), UserId: amy.GetId()})
	wantAppError(t, "DeleteGroupMember(not a member)", err, http.StatusNotFound)
	// Coming back is a new membership.
	back, _ := b.UpsertGroupMember(ctx, &pluginpb.UpsertGroupMemberRequest{GroupId: g.GetId(), UserId: amy.GetId()})
	if back.GetGroupMember().GetDeleteAt() != 0 || back.GetGroupMember().GetCreateAt() <= first.GetGroupMember().GetCreateAt() {
		t.Errorf("re-added member = %v; want a live, newer membership", back.GetGroupMember())
	}
}

func TestGroupSyncables(t *testing.T) {
	w := newWorld(t)
	b, ctx := w.b, context.Background()
	g := createGroup(t, b, customGroup("devs"))
	ch := createChannel(t, b, &pluginpb.Channel{TeamId: w.team.GetId(), Name: "dev", DisplayName: "Dev", Type: channelOpen})

	// A channel link brings the team link with it.
	cl := link(t, b, g.GetId(), ch.GetId(), syncableChannel, true)
	if cl.GetTeamId() != w.team.GetId() || cl.GetChannelDisplayName() != "Dev" || cl.GetTeamDisplayName() != w.team.GetDisplayName() {
		t.Errorf("channel link = %v; want its team and display names", cl)
	}
	teams, _ := b.GetGroupSyncables(ctx, &pluginpb.GetGroupSyncablesRequest{GroupId: g.GetId(), SyncableType: syncableTeam})
	if len(teams.GetGroupSyncables()) != 1 || !teams.GetGroupSyncables()[0].GetAutoAdd() {
		t.Fatalf("team links = %v; want the one the channel link made", teams.GetGroupSyncables())
	}
	if got, _ := b.GetGroup(ctx, &pluginpb.GetGroupRequest{GroupId: g.GetId()}); !got.GetGroup().GetHasSyncables() {
		t.Error("a linked group has has_syncables false")
	}

	// GetGroupSyncable reads the row alone, as getGroupSyncable does.
	if one, err := b.GetGroupSyncable(ctx, &pluginpb.GetGroupSyncableRequest{GroupId: g.GetId(), SyncableId: ch.GetId(), SyncableType: syncableChannel}); err != nil ||
		one.GetGroupSyncable().GetChannelDisplayName() != "" || one.GetGroupSyncable().GetTeamId() != "" || !one.GetGroupSyncable().GetAutoAdd() {
		t.Errorf("GetGroupSyncable = %v, %v; want the link's own columns", one, err)
	}

	// Deleting the team link deletes the channel link; a second delete fails.
	if _, err := b.DeleteGroupSyncable(ctx, &pluginpb.DeleteGroupSyncableRequest{GroupId: g.GetId(), SyncableId: w.team.GetId(), SyncableType: syncableTeam}); err != nil {
		t.Fatal(err)
	}
	gone, err := b.GetGroupSyncable(ctx, &pluginpb.GetGroupSyncableRequest{GroupId: g.GetId(), SyncableId: ch.GetId(), SyncableType: syncableChannel})
	if err != nil || gone.GetGroupSyncable().GetDeleteAt() == 0 {
		t.Errorf("channel link after its team link went = %v, %v; want it deleted", gone, err)
	}
	_, err = b.DeleteGroupSyncable(ctx, &pluginpb.DeleteGroupSyncableRequest{GroupId: g.GetId(), SyncableId: ch.GetId(), SyncableType: syncableChannel})
	wantAppError(t, "DeleteGroupSyncable(deleted)", err, http.StatusBadRequest)
	if got, _ := b.GetGroup(ctx, &pluginpb.GetGroupRequest{GroupId: g.GetId()}); got.GetGroup().GetHasSyncables() {
		t.Error("a group without live links has has_syncables true")
	}

	// Upserting restores a deleted link.
	if back := link(t, b, g.GetId(), ch.GetId(), syncableChannel, false); back.GetDeleteAt() != 0 || back.GetAutoAdd() {
		t.Errorf("restored link = %v", back)
	}

	// A group-constrained team refuses channel links of groups it lacks.
	other := createGroup(t, b, customGroup("ops"))
	team := proto.Clone(w.team).(*pluginpb.Team)
	team.GroupConstrained = proto.Bool(true)
	if _, err := b.UpdateTeam(ctx, &pluginpb.UpdateTeamRequest{Team: team}); err != nil {
		t.Fatal(err)
	}
	_, err = b.UpsertGroupSyncable(ctx, &pluginpb.UpsertGroupSyncableRequest{GroupSyncable: &pluginpb.GroupSyncable{
		GroupId: other.GetId(), SyncableId: ch.GetId(), Type: syncableChannel}})
	wantAppError(t, "UpsertGroupSyncable(constrained team)", err, http.StatusBadRequest)

	up, err := b.UpdateGroupSyncable(ctx, &pluginpb.UpdateGroupSyncableRequest{GroupSyncable: &pluginpb.GroupSyncable{
		GroupId: g.GetId(), SyncableId: ch.GetId(), Type: syncableChannel, AutoAdd: true, SchemeAdmin: true}})
	if err != nil || !up.GetGroupSyncable().GetAutoAdd() || !up.GetGroupSyncable().GetSchemeAdmin() {
		t.Errorf("UpdateGroupSyncable = %v, %v", up, err)
	}

	tests := []struct {
		name   string
		req    *pluginpb.GroupSyncable
		status int
	}{
		{"bad type", &pluginpb.GroupSyncable{GroupId: g.GetId(), SyncableId: ch.GetId(), Type: "Board"}, http.StatusInternalServerError},
		{"bad group id", &pluginpb.GroupSyncable{GroupId: "x", SyncableId: w.team.GetId(), Type: syncableTeam}, http.StatusBadRequest},
		{"unknown group", &pluginpb.GroupSyncable{GroupId: newID(), SyncableId: w.team.GetId(), Type: syncableTeam}, http.StatusNotFound},
		{"unknown team", &pluginpb.GroupSyncable{GroupId: g.GetId(), SyncableId: newID(), Type: syncableTeam}, http.StatusNotFound},
		{"unknown channel", &pluginpb.GroupSyncable{GroupId: g.GetId(), SyncableId: newID(), Type: syncableChannel}, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.UpsertGroupSyncable(ctx, &pluginpb.UpsertGroupSyncableRequest{GroupSyncable: tt.req})
			wantAppError(t, "UpsertGroupSyncable", err, tt.status)
		})
	}
	_, err = b.UpdateGroupSyncable(ctx, &pluginpb.UpdateGroupSyncableRequest{GroupSyncable: &pluginpb.GroupSyncable{
		GroupId: other.GetId(), SyncableId: w.team.GetId(), Type: syncableTeam}})
	wantAppErrorID(t, "UpdateGroupSyncable(no link)", err, "app.update_error", http.StatusInternalServerError)
}

func TestGetGroupsFilters(t *testing.T) {
	w := newWorld(t)
	b, ctx := w.b, context.Background()
	alpha := createGroup(t, b, &pluginpb.Group{Name: proto.String("alpha"), DisplayName: "Alpha team", Source: groupSourceCustom, AllowReference: true})
	beta := createGroup(t, b, customGroup("beta"))
	gone := createGroup(t, b, customGroup("gamma"))
	createGroup(t, b, &pluginpb.Group{DisplayName: "Directory", Source: groupSourceLDAP, RemoteId: proto.String("cn=d")})
	addToGroup(t, b, alpha.GetId(), w.alice.GetId(), w.bob.GetId())
	addToGroup(t, b, beta.GetId(), w.carol.GetId())
	link(t, b, beta.GetId(), w.team.GetId(), syncableTeam, false)
	if _, err := b.DeleteGroup(ctx, &pluginpb.DeleteGroupRequest{GroupId: gone.GetId()}); err != nil {
		t.Fatal(err)
	}

	names := func(opts *pluginpb.GroupSearchOpts, r *pluginpb.ViewUsersRestrictions) []string {
		t.Helper()
		resp, err := b.GetGroups(ctx, &pluginpb.GetGroupsRequest{PerPage: 10, Opts: opts, ViewRestrictions: r})
		if err != nil {
			t.Fatalf("GetGroups(%v) = %v", opts, err)
		}
		var out []string
		for _, g := range resp.GetGroups() {
			out = append(out, g.GetDisplayName())
		}
		return out
	}
	tests := []struct {
		name string
		opts *pluginpb.GroupSearchOpts
		r    *pluginpb.ViewUsersRestrictions
		want []string
	}{
		{"all live, by display name", nil, nil, []string{"Alpha team", "Directory", "Group beta"}},
		{"q matches a part, ignoring case", &pluginpb.GroupSearchOpts{Q: "TEAM"}, nil, []string{"Alpha team"}},
		{"q matches the name", &pluginpb.GroupSearchOpts{Q: "bet"}, nil, []string{"Group beta"}},
		{"source", &pluginpb.GroupSearchOpts{Source: groupSourceLDAP}, nil, []string{"Directory"}},
		{"allow reference", &pluginpb.GroupSearchOpts{FilterAllowReference: true}, nil, []string{"Alpha team"}},
		{"has member", &pluginpb.GroupSearchOpts{FilterHasMember: w.carol.GetId()}, nil, []string{"Group beta"}},
		{"not associated to team", &pluginpb.GroupSearchOpts{NotAssociatedToTeam: w.team.GetId()}, nil, []string{"Alpha team", "Directory"}},
		{"archived only", &pluginpb.GroupSearchOpts{FilterArchived: true}, nil, []string{"Group gamma"}},
		{"archived too", &pluginpb.GroupSearchOpts{IncludeArchived: true}, nil, []string{"Alpha team", "Directory", "Group beta", "Group gamma"}},
		// group_store.go@02fd7885:SqlGroupStore.GetGroups: the view
		// restrictions limit the member count only, and a since after 0
		// includes archived groups.
		{"view restrictions", nil, &pluginpb.ViewUsersRestrictions{Teams: []string{w.team.GetId()}}, []string{"Alpha team", "Directory", "Group beta"}},
		{"since", &pluginpb.GroupSearchOpts{Since: 1}, nil, []string{"Alpha team", "Directory", "Group beta", "Group gamma"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := names(tt.opts, tt.r); !slices.Equal(got, tt.want) {
				t.Errorf("GetGroups = %v; want %v", got, tt.want)
			}
		})
	}

	resp, err := b.GetGroups(ctx, &pluginpb.GetGroupsRequest{PerPage: 10, Opts: &pluginpb.GroupSearchOpts{
		Q: "alpha", IncludeMemberCount: true, IncludeMemberIds: true,
		IncludeChannelMemberCount: townSquareID(t, w), IncludeTimezones: true,
	}})
	if err != nil || len(resp.GetGroups()) != 1 {
		t.Fatalf("GetGroups(counts) = %v, %v", resp, err)
	}
	got := resp.GetGroups()[0]
	if got.GetMemberCount() != 2 || len(got.GetMemberIds()) != 2 || got.GetChannelMemberCount() != 2 || got.ChannelMemberTimezonesCount == nil {
		t.Errorf("counts = %v; want 2 members, both in town-square", got)
	}
	if page1, _ := b.GetGroups(ctx, &pluginpb.GetGroupsRequest{Page: 1, PerPage: 2}); len(page1.GetGroups()) != 1 {
		t.Errorf("page 1 of 2 = %v; want the third group", page1.GetGroups())
	}
	_, err = b.GetGroups(ctx, &pluginpb.GetGroupsRequest{PerPage: -1})
	wantAppError(t, "GetGroups(per_page -1)", err, http.StatusBadRequest)
}

func townSquareID(t *testing.T, w world) string {
	t.Helper()
	resp, err := w.b.GetChannelByName(context.Background(), &pluginpb.GetChannelByNameRequest{TeamId: w.team.GetId(), Name: townSquare})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetChannel().GetId()
}

func TestCreateDefaultSyncableMemberships(t *testing.T) {
	w := newWorld(t)
	b, ctx := w.b, context.Background()
	other := createTeam(t, b, newTeam("other"))
	ch := createChannel(t, b, &pluginpb.Channel{TeamId: other.GetId(), Name: "dev", DisplayName: "Dev", Type: channelPrivate})
	g := createGroup(t, b, customGroup("devs"))
	addToGroup(t, b, g.GetId(), w.carol.GetId(), w.alice.GetId())
	link(t, b, g.GetId(), ch.GetId(), syncableChannel, true) // links the team too
	run := func(p *pluginpb.CreateDefaultMembershipParams) {
		t.Helper()
		if _, err := b.CreateDefaultSyncableMemberships(ctx, &pluginpb.CreateDefaultSyncableMembershipsRequest{Params: p}); err != nil {
			t.Fatalf("CreateDefaultSyncableMemberships = %v", err)
		}
	}
	inChannel := func(userID string) bool {
		_, ok := b.channels.member(ch.GetId(), userID)
		return ok
	}

	// Scoped to alice: carol stays out.
	run(&pluginpb.CreateDefaultMembershipParams{ScopedUserId: proto.String(w.alice.GetId())})
	if !b.teams.isMember(other.GetId(), w.alice.GetId()) || !inChannel(w.alice.GetId()) || inChannel(w.carol.GetId()) {
		t.Fatal("a run scoped to alice did not add only alice")
	}
	run(nil)
	if !b.teams.isMember(other.GetId(), w.carol.GetId()) || !inChannel(w.carol.GetId()) || inChannel(w.bob.GetId()) {
		t.Fatal("an unscoped run did not add the group's members, and only them")
	}

	// Someone who left is not added again unless asked.
	if _, err := b.DeleteChannelMember(ctx, &pluginpb.DeleteChannelMemberRequest{ChannelId: ch.GetId(), UserId: w.carol.GetId()}); err != nil {
		t.Fatal(err)
	}
	run(nil)
	if inChannel(w.carol.GetId()) {
		t.Error("a member who left the channel was added again")
	}
	run(&pluginpb.CreateDefaultMembershipParams{ReAddRemovedMembers: true})
	if !inChannel(w.carol.GetId()) {
		t.Error("re_add_removed_members did not add the member again")
	}

	// since: members who joined the group before it, of links updated
	// before it, are left alone.
	dave := create(t, b, newUser("dave"))
	addToGroup(t, b, g.GetId(), dave.GetId())
	run(&pluginpb.CreateDefaultMembershipParams{Since: b.nowMillis() + 1})
	if inChannel(dave.GetId()) {
		t.Error("since did not leave out an earlier member")
	}
	run(&pluginpb.CreateDefaultMembershipParams{Since: b.nowMillis()})
	if !inChannel(dave.GetId()) {
		t.Error("since left out a member who joined at that time")
	}

	// A team that does not allow the members' email domain skips them.
	closed := createTeam(t, b, &pluginpb.Team{Name: "closed", DisplayName: "Closed", Type: teamTypeOpen, AllowedDomains: "other.org"})
	link(t, b, g.GetId(), closed.GetId(), syncableTeam, true)
	run(nil)
	if b.teams.isMember(closed.GetId(), w.alice.GetId()) {
		t.Error("a member joined a team that does not allow her email domain")
	}
}

func TestDeleteGroupConstrainedMemberships(t *testing.T) {
	w := newWorld(t)
	b, ctx := w.b, context.Background()
	g := createGroup(t, b, customGroup("devs"))
	addToGroup(t, b, g.GetId(), w.alice.GetId())
	link(t, b, g.GetId(), w.team.GetId(), syncableTeam, false)
	bot, err := b.CreateBot(ctx, &pluginpb.CreateBotRequest{Bot: &pluginpb.Bot{Username: "helper"}})
	if err != nil {
		t.Fatal(err)
	}
	join(t, b, w.team.GetId(), bot.GetBot().GetUserId())

	// Nothing happens while the team is not group constrained.
	if _, err := b.DeleteGroupConstrainedMemberships(ctx, &pluginpb.DeleteGroupConstrainedMembershipsRequest{}); err != nil {
		t.Fatal(err)
	}
	if !b.teams.isMember(w.team.GetId(), w.bob.GetId()) {
		t.Fatal("bob left a team that is not group constrained")
	}
	team := proto.Clone(w.team).(*pluginpb.Team)
	team.GroupConstrained = proto.Bool(true)
	if _, err := b.UpdateTeam(ctx, &pluginpb.UpdateTeamRequest{Team: team}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.DeleteGroupConstrainedMemberships(ctx, &pluginpb.DeleteGroupConstrainedMembershipsRequest{}); err != nil {
		t.Fatal(err)
	}
	if b.teams.isMember(w.team.GetId(), w.bob.GetId()) {
		t.Error("bob, in no linked group, is still a member of the constrained team")
	}
	if !b.teams.isMember(w.team.GetId(), w.alice.GetId()) || !b.teams.isMember(w.team.GetId(), bot.GetBot().GetUserId()) {
		t.Error("the group member or the bot left the constrained team")
	}
	if _, ok := b.channels.member(townSquareID(t, w), w.bob.GetId()); ok {
		t.Error("bob left the team but not its channels")
	}
}

func TestCreateDefaultSyncableMembershipsUnderAStorm(t *testing.T) {
	w := newWorld(t)
	b, ctx := w.b, context.Background()
	other := createTeam(t, b, newTeam("other"))
	ch := createChannel(t, b, &pluginpb.Channel{TeamId: other.GetId(), Name: "dev", DisplayName: "Dev", Type: channelOpen})
	g := createGroup(t, b, customGroup("devs"))
	addToGroup(t, b, g.GetId(), w.alice.GetId(), w.bob.GetId(), w.carol.GetId())
	link(t, b, g.GetId(), ch.GetId(), syncableChannel, true)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := b.CreateDefaultSyncableMemberships(ctx, &pluginpb.CreateDefaultSyncableMembershipsRequest{})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	members := b.channels.membersWhere(func(m *pluginpb.ChannelMember) bool { return m.GetChannelId() == ch.GetId() })
	if len(members) != 3 {
		t.Errorf("channel members after 16 concurrent runs = %d; want the group's 3", len(members))
	}
}

// TestPermissionsFollowTheAppLayer follows App.HasPermissionTo,
// App.HasPermissionToTeam and App.HasPermissionToChannel
// (server/channels/app/authorization.go@01357633): a deactivated user keeps
// its roles, and a team membership counts whether or not the team is
// archived.
func TestPermissionsFollowTheAppLayer(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	perm := &pluginpb.Permission{Id: "view_team"}
	if _, err := w.b.UpdateUserActive(ctx, &pluginpb.UpdateUserActiveRequest{UserId: w.alice.GetId(), Active: false}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.b.DeleteTeam(ctx, &pluginpb.DeleteTeamRequest{TeamId: w.team.GetId()}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ask  func() (bool, error)
		want bool
	}{
		{"deactivated user's system roles", func() (bool, error) {
			r, err := w.b.HasPermissionTo(ctx, &pluginpb.HasPermissionToRequest{UserId: w.alice.GetId(), Permission: &pluginpb.Permission{Id: "create_team"}})
			return r.GetHasPermission(), err
		}, true},
		{"deactivated member of an archived team", func() (bool, error) {
			r, err := w.b.HasPermissionToTeam(ctx, &pluginpb.HasPermissionToTeamRequest{UserId: w.alice.GetId(), TeamId: w.team.GetId(), Permission: perm})
			return r.GetHasPermission(), err
		}, true},
		{"no team id", func() (bool, error) {
			r, err := w.b.HasPermissionToTeam(ctx, &pluginpb.HasPermissionToTeamRequest{UserId: w.alice.GetId(), Permission: &pluginpb.Permission{Id: "create_team"}})
			return r.GetHasPermission(), err
		}, false},
		{"no channel id", func() (bool, error) {
			r, err := w.b.HasPermissionToChannel(ctx, &pluginpb.HasPermissionToChannelRequest{UserId: w.alice.GetId(), Permission: &pluginpb.Permission{Id: "create_team"}})
			return r.GetHasPermission(), err
		}, false},
		{"unknown channel falls back to the system roles", func() (bool, error) {
			r, err := w.b.HasPermissionToChannel(ctx, &pluginpb.HasPermissionToChannelRequest{UserId: w.alice.GetId(), ChannelId: newID(), Permission: &pluginpb.Permission{Id: "create_team"}})
			return r.GetHasPermission(), err
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := tt.ask(); err != nil || got != tt.want {
				t.Errorf("%s = %v, %v; want %v", tt.name, got, err, tt.want)
			}
		})
	}
}

// TestGetGroupsCountsTimezones follows the channel member time zone count
// of server/channels/store/sqlstore/group_store.go@02fd78850df4dc5995999325ebf0e12e31a9edc6:SqlGroupStore.GetGroups:
// COUNT(DISTINCT CASE ...) of the automatic zone when useAutomaticTimezone
// is "true", the manual one when it is "false", each only when not empty;
// a member with neither is not counted.
func TestGetGroupsCountsTimezones(t *testing.T) {
	auto := func(zone string) map[string]string {
		return map[string]string{"useAutomaticTimezone": "true", "automaticTimezone": zone, "manualTimezone": "Europe/Paris"}
	}
	manual := func(zone string) map[string]string {
		return map[string]string{"useAutomaticTimezone": "false", "automaticTimezone": "Asia/Tokyo", "manualTimezone": zone}
	}
	tests := []struct {
		name       string
		alice, bob map[string]string
		want       int32
	}{
		{"two zones", auto("America/New_York"), manual("Europe/Berlin"), 2},
		{"the same zone", auto("Europe/Berlin"), manual("Europe/Berlin"), 1},
		{"empty zones are not counted", auto(""), manual(""), 0},
		{"one empty", auto("America/New_York"), auto(""), 1},
		{"no setting is not counted", map[string]string{"automaticTimezone": "Asia/Tokyo"}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			b, ctx := w.b, context.Background()
			g := createGroup(t, b, customGroup("zones"))
			addToGroup(t, b, g.GetId(), w.alice.GetId(), w.bob.GetId())
			b.mu.Lock()
			b.users.byID[w.alice.GetId()].user.Timezone = tt.alice
			b.users.byID[w.bob.GetId()].user.Timezone = tt.bob
			b.mu.Unlock()
			resp, err := b.GetGroups(ctx, &pluginpb.GetGroupsRequest{PerPage: 10, Opts: &pluginpb.GroupSearchOpts{
				Q: "zones", IncludeChannelMemberCount: townSquareID(t, w), IncludeTimezones: true}})
			if err != nil || len(resp.GetGroups()) != 1 {
				t.Fatalf("GetGroups = %v, %v", resp, err)
			}
			if got := resp.GetGroups()[0].GetChannelMemberTimezonesCount(); got != tt.want {
				t.Errorf("channel_member_timezones_count = %d; want %d", got, tt.want)
			}
		})
	}
}
