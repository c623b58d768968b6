package memory

// This file holds the state file: SaveState writes the Backend's data as
// one versioned JSON document, and LoadState reads it back, so that a dev
// server keeps its world across restarts.
//
// The document is an envelope of plain JSON whose lists hold protobuf
// messages in their protojson form, with the proto field names, which do
// not change when the Go code does. What the file holds:
//
//   - the configuration, with the plugins' settings;
//   - users, with their password digests, profile images and statuses;
//   - sessions and personal access tokens, and bots;
//   - teams, team members (past ones included) and team icons;
//   - channels, channel members, the history of members who left, the
//     channels that the plugin guards, and the sidebar categories;
//   - posts (deleted ones included) and reactions;
//   - every plugin's KV store, with the expiry times, when it is the
//     in-memory one (a shared store, [WithKV], keeps its values itself);
//   - preferences, OAuth apps, custom slash commands, groups with their
//     members and links, property groups, fields and values, and
//     access control policies.
//
// What it leaves out, because it lives elsewhere or is set at each start:
// the manifests, the license and the served plugin's id (options of
// [New]); custom emoji (the -emoji flag); the commands that plugins
// register (again at each activation); files and uploads (their data is
// in the file directory, a temporary one by default); shared channels and
// remote clusters; the event log; the install date and the telemetry id.

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/store"
)

// StateVersion is the version of the state file format that SaveState writes.
const StateVersion = 1

// stateFormat names the document in its "format" field.
const stateFormat = "mattermost-plugin-devserver-state"

// maxStateBytes bounds the document that LoadState reads.
const maxStateBytes = 1 << 30

// stateFileMode is the permission of the file that SaveStateFile writes:
// it holds password digests and session tokens.
const stateFileMode = 0o600

// stateHeader is the part of the document that says what it is; LoadState
// reads it first, so that a document of another format or version is
// refused for that reason and not for a field it does not know.
type stateHeader struct {
	Format  *string `json:"format"`
	Version *int    `json:"version"`
}

// stateDocument is the state file. Its lists are ordered by key, so that
// saving the same data twice writes the same document.
type stateDocument struct {
	Format  string    `json:"format"`
	Version int       `json:"version"`
	SavedAt time.Time `json:"saved_at"`

	// Config is the configuration, as config.json holds it.
	Config json.RawMessage `json:"config"`

	Users            []stateUser       `json:"users"`
	ProfileImages    []stateBlob       `json:"profile_images"`
	Statuses         []json.RawMessage `json:"statuses"`
	Sessions         []json.RawMessage `json:"sessions"`
	UserAccessTokens []json.RawMessage `json:"user_access_tokens"`
	Bots             []json.RawMessage `json:"bots"`

	Teams       []json.RawMessage `json:"teams"`
	TeamMembers []json.RawMessage `json:"team_members"`
	TeamIcons   []stateBlob       `json:"team_icons"`

	Channels        []json.RawMessage `json:"channels"`
	ChannelMembers  []json.RawMessage `json:"channel_members"`
	ChannelsLeft    []stateLeft       `json:"channel_member_history"`
	GuardedChannels []string          `json:"guarded_channels"`
	Sidebars        []stateSidebar    `json:"sidebars"`

	Posts     []json.RawMessage `json:"posts"`
	Reactions []json.RawMessage `json:"reactions"`

	KV          []stateKV         `json:"kv"`
	Preferences []json.RawMessage `json:"preferences"`

	OAuthApps      []json.RawMessage `json:"oauth_apps"`
	Commands       []json.RawMessage `json:"commands"`
	Groups         []json.RawMessage `json:"groups"`
	GroupMembers   []json.RawMessage `json:"group_members"`
	GroupSyncables []json.RawMessage `json:"group_syncables"`
	PropertyGroups []json.RawMessage `json:"property_groups"`
	PropertyFields []json.RawMessage `json:"property_fields"`
	PropertyValues []json.RawMessage `json:"property_values"`
	Policies       []json.RawMessage `json:"access_control_policies"`
}

// stateUser is a user and the SHA-256 digest of its password, in hex.
type stateUser struct {
	User           json.RawMessage `json:"user"`
	PasswordSHA256 string          `json:"password_sha256"`
}

// stateBlob is an image of a user or a team, by its id.
type stateBlob struct {
	ID   string `json:"id"`
	Data []byte `json:"data"`
}

// stateLeft records when a user last left a channel.
type stateLeft struct {
	ChannelID string `json:"channel_id"`
	UserID    string `json:"user_id"`
	LeftAt    int64  `json:"left_at"`
}

// stateSidebar is the sidebar of one user in one team.
type stateSidebar struct {
	UserID     string            `json:"user_id"`
	TeamID     string            `json:"team_id"`
	Categories []json.RawMessage `json:"categories"`
}

// stateKV is one key of a plugin's KV store; ExpireAt is in milliseconds
// since the Unix epoch, 0 for never.
type stateKV struct {
	PluginID string `json:"plugin_id"`
	Key      string `json:"key"`
	Value    []byte `json:"value"`
	ExpireAt int64  `json:"expire_at"`
}

// SaveState writes the Backend's data as a versioned JSON document to w.
// The document holds what a restart of a dev server should keep; see the
// top of state.go for what it includes. Expired KV entries are left out.
func (b *Backend) SaveState(w io.Writer) error {
	doc, err := b.stateDocument()
	if err != nil {
		return fmt.Errorf("memory: save state: %w", err)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("memory: save state: %w", err)
	}
	return nil
}

// stateDocument builds the document under the lock. Everything it holds
// is encoded before the lock is released, so that the writing that
// follows reads no shared state.
func (b *Backend) stateDocument() (*stateDocument, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	config, err := json.Marshal(b.config)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	doc := &stateDocument{Format: stateFormat, Version: StateVersion, SavedAt: b.now().UTC(), Config: config}
	var e stateEncoder

	doc.Users = make([]stateUser, 0, len(b.users.byID))
	for _, u := range sortedValues(b.users.byID, byString) {
		doc.Users = append(doc.Users, stateUser{User: e.encode(u.user), PasswordSHA256: hex.EncodeToString(u.passwordHash[:])})
	}
	doc.ProfileImages = blobsOf(b.profileImages)
	doc.Statuses = encodeAll(&e, sortedValues(b.statuses, byString))
	doc.Sessions = encodeAll(&e, sortedValues(b.sessions.byID, byString))
	doc.UserAccessTokens = encodeAll(&e, sortedValues(b.sessions.tokens, byString))
	doc.Bots = encodeAll(&e, sortedValues(b.bots, byString))

	doc.Teams = encodeAll(&e, sortedValues(b.teams.byID, byString))
	doc.TeamMembers = encodeAll(&e, sortedValues(b.teams.members, byMembership))
	doc.TeamIcons = blobsOf(b.teams.icons)

	doc.Channels = encodeAll(&e, sortedValues(b.channels.byID, byString))
	doc.ChannelMembers = encodeAll(&e, sortedValues(b.channels.members, byMembership))
	doc.ChannelsLeft = make([]stateLeft, 0, len(b.channels.left))
	for _, k := range sortedKeys(b.channels.left, byMembership) {
		doc.ChannelsLeft = append(doc.ChannelsLeft, stateLeft{ChannelID: k.container, UserID: k.user, LeftAt: b.channels.left[k]})
	}
	doc.GuardedChannels = sortedKeys(b.channels.guarded, byString)
	doc.Sidebars = make([]stateSidebar, 0, len(b.sidebars))
	for _, k := range sortedKeys(b.sidebars, byMembership) { // keyed by user, then team
		doc.Sidebars = append(doc.Sidebars, stateSidebar{UserID: k.container, TeamID: k.user, Categories: encodeAll(&e, b.sidebars[k])})
	}

	doc.Posts = encodeAll(&e, sortedValues(b.posts.byID, byString))
	doc.Reactions = encodeAll(&e, sortedValues(b.posts.reactions, func(k reactionKey) string {
		return k.post + "\x00" + k.user + "\x00" + k.emoji
	}))

	doc.KV = []stateKV{}
	if mem, ok := b.memoryKV(); ok {
		for _, e := range mem.Entries() {
			doc.KV = append(doc.KV, stateKV{PluginID: e.PluginID, Key: e.Key, Value: e.Value, ExpireAt: e.ExpireAt})
		}
	}
	doc.Preferences = encodeAll(&e, sortedValues(b.preferences, func(k preferenceKey) string {
		return k.userID + "\x00" + k.category + "\x00" + k.name
	}))

	doc.OAuthApps = encodeAll(&e, sortedValues(b.oauthApps, byString))
	doc.Commands = encodeAll(&e, sortedValues(b.commands.custom, byString))
	doc.Groups = encodeAll(&e, sortedValues(b.groups.byID, byString))
	doc.GroupMembers = encodeAll(&e, sortedValues(b.groups.members, byMembership))
	doc.GroupSyncables = encodeAll(&e, sortedValues(b.groups.syncables, func(k syncableKey) string {
		return k.group + "\x00" + k.syncable + "\x00" + k.kind
	}))
	doc.PropertyGroups = encodeAll(&e, sortedValues(b.props.groups, byString))
	doc.PropertyFields = encodeAll(&e, sortedValues(b.props.fields, byString))
	doc.PropertyValues = encodeAll(&e, sortedValues(b.props.values, byString))
	doc.Policies = encodeAll(&e, sortedValues(b.policies, byString))
	if e.err != nil {
		return nil, e.err
	}
	return doc, nil
}

// stateEncoder encodes messages in their protojson form and keeps the
// first error, so that building the document reads as a list.
type stateEncoder struct{ err error }

func (e *stateEncoder) encode(m proto.Message) json.RawMessage {
	data, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		if e.err == nil {
			e.err = fmt.Errorf("%s: %w", m.ProtoReflect().Descriptor().Name(), err)
		}
		return json.RawMessage("{}")
	}
	return data
}

// encodeAll encodes messages, in order; the list is never nil, so that an
// empty one reads as [] in the document.
func encodeAll[M proto.Message](e *stateEncoder, ms []M) []json.RawMessage {
	out := make([]json.RawMessage, 0, len(ms))
	for _, m := range ms {
		out = append(out, e.encode(m))
	}
	return out
}

// blobsOf lists copies of images by id.
func blobsOf(m map[string][]byte) []stateBlob {
	out := make([]stateBlob, 0, len(m))
	for _, id := range sortedKeys(m, byString) {
		out = append(out, stateBlob{ID: id, Data: bytes.Clone(m[id])})
	}
	return out
}

func byString(s string) string { return s }

func byMembership(k membershipKey) string { return k.container + "\x00" + k.user }

// sortedKeys returns the keys of m, ordered by what order says of them.
func sortedKeys[K comparable, V any](m map[K]V, order func(K) string) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b K) int { return cmp.Compare(order(a), order(b)) })
	return keys
}

// sortedValues returns the values of m, ordered by their keys.
func sortedValues[K comparable, V any](m map[K]V, order func(K) string) []V {
	keys := sortedKeys(m, order)
	out := make([]V, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

// LoadState replaces the Backend's data with a document that SaveState wrote.
// It refuses a document it cannot read (not JSON, another format, a newer or unknown version,
// invalid content) with an error that says what is wrong and changes nothing.
//
// The data that the document does not hold (see the top of state.go),
// such as files and the commands that plugins registered, is kept as it
// is: LoadState is meant for a Backend fresh from [New]. Hooks do not
// run.
func (b *Backend) LoadState(r io.Reader) error {
	if err := b.loadState(r); err != nil {
		return fmt.Errorf("memory: load state: %w", err)
	}
	return nil
}

func (b *Backend) loadState(r io.Reader) error {
	data, err := io.ReadAll(io.LimitReader(r, maxStateBytes+1))
	if err != nil {
		return fmt.Errorf("reading the document: %w", err)
	}
	if len(data) > maxStateBytes {
		return fmt.Errorf("the document is larger than %d bytes", maxStateBytes)
	}
	doc, err := parseStateDocument(data)
	if err != nil {
		return err
	}
	s, err := buildState(doc, b.pluginID)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.config = s.config
	b.users = s.users
	b.profileImages = s.profileImages
	b.statuses = s.statuses
	b.sessions = s.sessions
	b.bots = s.bots
	b.teams = s.teams
	b.channels = s.channels
	b.sidebars = s.sidebars
	b.posts = s.posts
	if mem, ok := b.memoryKV(); ok {
		mem.Replace(s.kv)
	}
	b.preferences = s.preferences
	b.oauthApps = s.oauthApps
	b.commands.custom = s.commands
	b.groups = s.groups
	b.props = s.props
	b.policies = s.policies
	return nil
}

// parseStateDocument checks the header of a document, then decodes it
// whole. A field that the version does not define is an error.
func parseStateDocument(data []byte) (*stateDocument, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("not a state file: the document is empty")
	}
	var h stateHeader
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("not a state file: %w", err)
	}
	switch {
	case h.Format == nil:
		return nil, fmt.Errorf("not a state file: it has no \"format\" field (want %q)", stateFormat)
	case *h.Format != stateFormat:
		return nil, fmt.Errorf("not a state file: its format is %q, not %q", *h.Format, stateFormat)
	case h.Version == nil:
		return nil, errors.New("the state file has no \"version\" field")
	case *h.Version > StateVersion:
		return nil, fmt.Errorf("state file version %d is newer than this server reads (%d)", *h.Version, StateVersion)
	case *h.Version < 1:
		return nil, fmt.Errorf("state file version %d is unknown (this server reads %d)", *h.Version, StateVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	doc := &stateDocument{}
	if err := dec.Decode(doc); err != nil {
		return nil, fmt.Errorf("invalid state file: %w", err)
	}
	return doc, nil
}

// loadedState is the data of a document, checked and indexed, ready to
// replace the Backend's.
type loadedState struct {
	config        map[string]any
	users         userStore
	profileImages profileImageStore
	statuses      statusStore
	sessions      sessionStore
	bots          botStore
	teams         teamStore
	channels      channelStore
	sidebars      sidebarStore
	posts         postStore
	kv            []store.Entry
	preferences   preferenceStore
	oauthApps     oauthAppStore
	commands      map[string]*pluginpb.Command
	groups        groupStore
	props         propertyStore
	policies      policyStore
}

// buildState decodes and checks every part of a document and builds the
// stores, with their indexes, that it describes. pluginID is the served
// plugin, whose settings the configuration gets if it lacks them.
func buildState(doc *stateDocument, pluginID string) (*loadedState, error) {
	s := &loadedState{
		users:         newUserStore(),
		profileImages: profileImageStore{},
		statuses:      statusStore{},
		sessions:      newSessionStore(),
		bots:          botStore{},
		teams:         newTeamStore(),
		channels:      newChannelStore(),
		sidebars:      sidebarStore{},
		posts:         newPostStore(),
		preferences:   preferenceStore{},
		oauthApps:     oauthAppStore{},
		commands:      map[string]*pluginpb.Command{},
		groups:        newGroupStore(),
		props:         newPropertyStore(),
		policies:      policyStore{},
	}
	for _, step := range []func(*stateDocument) error{
		func(doc *stateDocument) error { return s.loadConfig(doc.Config, pluginID) },
		s.loadUsers, s.loadTeams, s.loadChannels, s.loadPosts, s.loadKV, s.loadOthers,
	} {
		if err := step(doc); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// decodeList decodes the messages of one list of the document, in order,
// and hands each to take, which checks it and stores it, or returns what
// is wrong with it.
func decodeList[T any, M interface {
	*T
	proto.Message
}](field string, raws []json.RawMessage, take func(M) error) error {
	for i, raw := range raws {
		m := M(new(T))
		if err := protojson.Unmarshal(raw, m); err != nil {
			return fmt.Errorf("%s[%d]: %w", field, i, err)
		}
		if err := take(m); err != nil {
			return fmt.Errorf("%s[%d]: %w", field, i, err)
		}
	}
	return nil
}

// stateIDError says that a field does not hold a Mattermost id.
func stateIDError(field, value string) error {
	return fmt.Errorf("%s %q is not a Mattermost id (26 lower-case letters and digits)", field, value)
}

func checkID(field, value string) error {
	if !isValidID(value) {
		return stateIDError(field, value)
	}
	return nil
}

func checkNotEmpty(field, value string) error {
	if value == "" {
		return fmt.Errorf("%s is empty", field)
	}
	return nil
}

// duplicate says that a key appears twice in a list.
func duplicate(what, key string) error { return fmt.Errorf("a second %s with %s", what, key) }

// loadConfig takes the configuration, with the settings that it lacks at
// their defaults, as SaveConfig does; an invalid one is refused.
func (s *loadedState) loadConfig(raw json.RawMessage, pluginID string) error {
	cfg := map[string]any{}
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &cfg); err != nil || cfg == nil {
			return fmt.Errorf("config: not a JSON object: %w", cmp.Or(err, errors.New("null")))
		}
	}
	cfg = completeConfig(cfg, pluginID)
	if err := validateConfig(cfg); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	s.config = cfg
	return nil
}

// loadUsers takes users, their images, statuses, sessions, tokens and
// bots.
func (s *loadedState) loadUsers(doc *stateDocument) error {
	for i, su := range doc.Users {
		u := &pluginpb.User{}
		if err := protojson.Unmarshal(su.User, u); err != nil {
			return fmt.Errorf("users[%d]: %w", i, err)
		}
		if err := s.takeUser(u, su.PasswordSHA256); err != nil {
			return fmt.Errorf("users[%d]: %w", i, err)
		}
	}
	if err := loadBlobs("profile_images", doc.ProfileImages, s.profileImages); err != nil {
		return err
	}
	if err := decodeList("statuses", doc.Statuses, func(st *pluginpb.Status) error {
		return cmp.Or(checkID("user_id", st.GetUserId()), storeUnique(s.statuses, "status", "user_id", st.GetUserId(), st))
	}); err != nil {
		return err
	}
	if err := decodeList("sessions", doc.Sessions, func(x *pluginpb.Session) error {
		return cmp.Or(checkID("user_id", x.GetUserId()), storeUnique(s.sessions.byID, "session", "id", x.GetId(), x))
	}); err != nil {
		return err
	}
	if err := decodeList("user_access_tokens", doc.UserAccessTokens, func(t *pluginpb.UserAccessToken) error {
		return cmp.Or(checkID("user_id", t.GetUserId()), storeUnique(s.sessions.tokens, "token", "id", t.GetId(), t))
	}); err != nil {
		return err
	}
	return decodeList("bots", doc.Bots, func(bot *pluginpb.Bot) error {
		if _, ok := s.users.byID[bot.GetUserId()]; !ok {
			return fmt.Errorf("user_id %q names no user of the document", bot.GetUserId())
		}
		return storeUnique(s.bots, "bot", "user_id", bot.GetUserId(), bot)
	})
}

// takeUser checks a user and the hex digest of its password, and stores
// them, indexed by username and email.
func (s *loadedState) takeUser(u *pluginpb.User, passwordSHA256 string) error {
	if err := cmp.Or(checkID("id", u.GetId()), checkNotEmpty("username", u.GetUsername())); err != nil {
		return err
	}
	digest, err := hex.DecodeString(passwordSHA256)
	if err != nil || len(digest) != sha256.Size {
		return errors.New("password_sha256 is not 64 hex digits")
	}
	if _, ok := s.users.byID[u.GetId()]; ok {
		return duplicate("user", "id "+u.GetId())
	}
	if _, ok := s.users.byUsername[u.GetUsername()]; ok {
		return duplicate("user", "username "+u.GetUsername())
	}
	if _, ok := s.users.byEmail[u.GetEmail()]; ok {
		return duplicate("user", "email "+u.GetEmail())
	}
	stored := &storedUser{user: u}
	copy(stored.passwordHash[:], digest)
	s.users.put(stored)
	return nil
}

// storeUnique stores v under key, which must be new and not empty; what
// names the kind of v and field its key, for the error.
func storeUnique[V any](m map[string]V, what, field, key string, v V) error {
	if key == "" {
		return fmt.Errorf("%s is empty", field)
	}
	if _, ok := m[key]; ok {
		return duplicate(what, field+" "+key)
	}
	m[key] = v
	return nil
}

// loadBlobs takes images by the id of their user or team.
func loadBlobs(field string, blobs []stateBlob, into map[string][]byte) error {
	for i, blob := range blobs {
		err := checkID("id", blob.ID)
		if err == nil && len(blob.Data) == 0 {
			err = errors.New("data is empty")
		}
		if err == nil {
			err = storeUnique(into, "image", "id", blob.ID, blob.Data)
		}
		if err != nil {
			return fmt.Errorf("%s[%d]: %w", field, i, err)
		}
	}
	return nil
}

// loadTeams takes teams, their members and icons.
func (s *loadedState) loadTeams(doc *stateDocument) error {
	if err := decodeList("teams", doc.Teams, func(t *pluginpb.Team) error {
		if err := cmp.Or(checkID("id", t.GetId()), checkNotEmpty("name", t.GetName())); err != nil {
			return err
		}
		if _, ok := s.teams.byID[t.GetId()]; ok {
			return duplicate("team", "id "+t.GetId())
		}
		if _, ok := s.teams.byName[t.GetName()]; ok {
			return duplicate("team", "name "+t.GetName())
		}
		s.teams.put(t)
		return nil
	}); err != nil {
		return err
	}
	if err := decodeList("team_members", doc.TeamMembers, func(m *pluginpb.TeamMember) error {
		if err := cmp.Or(s.checkTeam(m.GetTeamId()), checkID("user_id", m.GetUserId())); err != nil {
			return err
		}
		return storeMembership(s.teams.members, membershipKey{m.GetTeamId(), m.GetUserId()}, "team", m)
	}); err != nil {
		return err
	}
	for i, blob := range doc.TeamIcons {
		if err := s.checkTeam(blob.ID); err != nil {
			return fmt.Errorf("team_icons[%d]: %w", i, err)
		}
	}
	return loadBlobs("team_icons", doc.TeamIcons, s.teams.icons)
}

// storeMembership stores a membership under a key that must be new.
func storeMembership[V any](m map[membershipKey]V, key membershipKey, container string, v V) error {
	if _, ok := m[key]; ok {
		return fmt.Errorf("a second entry for user %s in %s %s", key.user, container, key.container)
	}
	m[key] = v
	return nil
}

func (s *loadedState) checkTeam(teamID string) error {
	if _, ok := s.teams.byID[teamID]; !ok {
		return fmt.Errorf("team %q is not in the document", teamID)
	}
	return nil
}

func (s *loadedState) checkChannel(channelID string) error {
	if _, ok := s.channels.byID[channelID]; !ok {
		return fmt.Errorf("channel %q is not in the document", channelID)
	}
	return nil
}

// loadChannels takes channels, their members, the members who left, the
// guarded channels and the sidebars.
func (s *loadedState) loadChannels(doc *stateDocument) error {
	if err := decodeList("channels", doc.Channels, func(c *pluginpb.Channel) error {
		if err := cmp.Or(checkID("id", c.GetId()), checkNotEmpty("name", c.GetName())); err != nil {
			return err
		}
		if c.GetTeamId() != "" {
			if err := s.checkTeam(c.GetTeamId()); err != nil {
				return err
			}
		}
		if _, ok := s.channels.byID[c.GetId()]; ok {
			return duplicate("channel", "id "+c.GetId())
		}
		if _, ok := s.channels.byName[membershipKey{c.GetTeamId(), c.GetName()}]; ok {
			return duplicate("channel", fmt.Sprintf("name %s in team %q", c.GetName(), c.GetTeamId()))
		}
		s.channels.put(c)
		return nil
	}); err != nil {
		return err
	}
	if err := decodeList("channel_members", doc.ChannelMembers, func(m *pluginpb.ChannelMember) error {
		if err := cmp.Or(s.checkChannel(m.GetChannelId()), checkID("user_id", m.GetUserId())); err != nil {
			return err
		}
		return storeMembership(s.channels.members, membershipKey{m.GetChannelId(), m.GetUserId()}, "channel", m)
	}); err != nil {
		return err
	}
	for i, l := range doc.ChannelsLeft {
		err := cmp.Or(s.checkChannel(l.ChannelID), checkID("user_id", l.UserID))
		if err == nil {
			err = storeMembership(s.channels.left, membershipKey{l.ChannelID, l.UserID}, "the history of channel", l.LeftAt)
		}
		if err != nil {
			return fmt.Errorf("channel_member_history[%d]: %w", i, err)
		}
	}
	for i, id := range doc.GuardedChannels {
		err := s.checkChannel(id)
		if err == nil && s.channels.guarded[id] {
			err = fmt.Errorf("channel %s is listed twice", id)
		}
		if err != nil {
			return fmt.Errorf("guarded_channels[%d]: %w", i, err)
		}
		s.channels.guarded[id] = true
	}
	for i, sb := range doc.Sidebars {
		var cats []*pluginpb.SidebarCategoryWithChannels
		err := cmp.Or(checkID("user_id", sb.UserID), s.checkTeam(sb.TeamID))
		if err == nil {
			err = decodeList("categories", sb.Categories, func(c *pluginpb.SidebarCategoryWithChannels) error {
				cats = append(cats, c)
				return nil
			})
		}
		if err == nil {
			err = storeMembership(s.sidebars, membershipKey{sb.UserID, sb.TeamID}, "the sidebars of team", cats)
		}
		if err != nil {
			return fmt.Errorf("sidebars[%d]: %w", i, err)
		}
	}
	return nil
}

// loadPosts takes posts and reactions.
func (s *loadedState) loadPosts(doc *stateDocument) error {
	if err := decodeList("posts", doc.Posts, func(p *pluginpb.Post) error {
		return cmp.Or(checkID("id", p.GetId()), s.checkChannel(p.GetChannelId()),
			storeUnique(s.posts.byID, "post", "id", p.GetId(), p))
	}); err != nil {
		return err
	}
	return decodeList("reactions", doc.Reactions, func(r *pluginpb.Reaction) error {
		if _, ok := s.posts.byID[r.GetPostId()]; !ok {
			return fmt.Errorf("post %q is not in the document", r.GetPostId())
		}
		if err := cmp.Or(checkID("user_id", r.GetUserId()), checkNotEmpty("emoji_name", r.GetEmojiName())); err != nil {
			return err
		}
		key := reactionKey{r.GetUserId(), r.GetPostId(), r.GetEmojiName()}
		if _, ok := s.posts.reactions[key]; ok {
			return fmt.Errorf("a second reaction %s of user %s to post %s", r.GetEmojiName(), r.GetUserId(), r.GetPostId())
		}
		s.posts.reactions[key] = r
		return nil
	})
}

// loadKV takes the plugins' KV stores and the preferences.
func (s *loadedState) loadKV(doc *stateDocument) error {
	seen := map[[2]string]bool{}
	for i, e := range doc.KV {
		err := cmp.Or(checkNotEmpty("plugin_id", e.PluginID), checkNotEmpty("key", e.Key))
		switch {
		case err != nil:
		case e.Value == nil:
			err = errors.New("value is missing")
		case e.ExpireAt < 0:
			err = fmt.Errorf("expire_at %d is negative", e.ExpireAt)
		case seen[[2]string{e.PluginID, e.Key}]:
			err = fmt.Errorf("a second key %q of plugin %s", e.Key, e.PluginID)
		}
		if err != nil {
			return fmt.Errorf("kv[%d]: %w", i, err)
		}
		seen[[2]string{e.PluginID, e.Key}] = true
		s.kv = append(s.kv, store.Entry{PluginID: e.PluginID, Key: e.Key, Value: e.Value, ExpireAt: e.ExpireAt})
	}
	return decodeList("preferences", doc.Preferences, func(p *pluginpb.Preference) error {
		if err := cmp.Or(checkID("user_id", p.GetUserId()), checkNotEmpty("category", p.GetCategory()),
			checkNotEmpty("name", p.GetName())); err != nil {
			return err
		}
		if _, ok := s.preferences[keyOf(p)]; ok {
			return fmt.Errorf("a second preference %s/%s of user %s", p.GetCategory(), p.GetName(), p.GetUserId())
		}
		s.preferences[keyOf(p)] = p
		return nil
	})
}

// loadOthers takes OAuth apps, custom commands, groups, properties and
// access control policies.
func (s *loadedState) loadOthers(doc *stateDocument) error {
	for _, step := range []func() error{
		func() error {
			return decodeList("oauth_apps", doc.OAuthApps, func(a *pluginpb.OAuthApp) error {
				return storeUnique(s.oauthApps, "OAuth app", "id", a.GetId(), a)
			})
		},
		func() error {
			return decodeList("commands", doc.Commands, func(c *pluginpb.Command) error {
				return storeUnique(s.commands, "command", "id", c.GetId(), c)
			})
		},
		func() error {
			return decodeList("groups", doc.Groups, func(g *pluginpb.Group) error {
				return cmp.Or(checkID("id", g.GetId()), storeUnique(s.groups.byID, "group", "id", g.GetId(), g))
			})
		},
		func() error {
			return decodeList("group_members", doc.GroupMembers, func(m *pluginpb.GroupMember) error {
				if err := cmp.Or(s.checkGroup(m.GetGroupId()), checkID("user_id", m.GetUserId())); err != nil {
					return err
				}
				return storeMembership(s.groups.members, membershipKey{m.GetGroupId(), m.GetUserId()}, "group", m)
			})
		},
		func() error {
			return decodeList("group_syncables", doc.GroupSyncables, func(x *pluginpb.GroupSyncable) error {
				if err := cmp.Or(s.checkGroup(x.GetGroupId()), checkID("syncable_id", x.GetSyncableId()),
					checkNotEmpty("type", x.GetType())); err != nil {
					return err
				}
				key := syncableKey{x.GetGroupId(), x.GetSyncableId(), x.GetType()}
				if _, ok := s.groups.syncables[key]; ok {
					return fmt.Errorf("a second link of group %s to %s %s", x.GetGroupId(), x.GetType(), x.GetSyncableId())
				}
				s.groups.syncables[key] = x
				return nil
			})
		},
		func() error {
			return decodeList("property_groups", doc.PropertyGroups, func(g *pluginpb.PropertyGroup) error {
				return storeUnique(s.props.groups, "property group", "name", g.GetName(), g)
			})
		},
		func() error {
			return decodeList("property_fields", doc.PropertyFields, func(f *pluginpb.PropertyField) error {
				return storeUnique(s.props.fields, "property field", "id", f.GetId(), f)
			})
		},
		func() error {
			return decodeList("property_values", doc.PropertyValues, func(v *pluginpb.PropertyValue) error {
				return storeUnique(s.props.values, "property value", "id", v.GetId(), v)
			})
		},
		func() error {
			return decodeList("access_control_policies", doc.Policies, func(p *pluginpb.AccessControlPolicy) error {
				return storeUnique(s.policies, "policy", "id", p.GetId(), p)
			})
		},
	} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

func (s *loadedState) checkGroup(groupID string) error {
	if _, ok := s.groups.byID[groupID]; !ok {
		return fmt.Errorf("group %q is not in the document", groupID)
	}
	return nil
}

// SaveStateFile writes the state to path atomically (a temporary file in the same directory, fsync, rename), mode 0600.
func (b *Backend) SaveStateFile(path string) error {
	if err := writeFileAtomically(path, b.SaveState); err != nil {
		return fmt.Errorf("memory: save state file %s: %w", path, err)
	}
	return nil
}

// writeFileAtomically writes path with write: to a temporary file in the
// same directory, synced, then renamed over path, so that path holds
// either its old content or the whole new one. On failure the temporary
// file is removed.
func writeFileAtomically(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	f, err := os.CreateTemp(cmp.Or(dir, "."), "."+base+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(stateFileMode); err != nil {
		return err
	}
	if err := write(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	// The rename is durable once the directory is synced; where a
	// directory cannot be synced, the file is written all the same.
	if d, err := os.Open(cmp.Or(dir, ".")); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// LoadStateFile loads path; a missing file is not an error (returns false, nil); the error names the path.
func (b *Backend) LoadStateFile(path string) (loaded bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("memory: load state file %s: %w", path, err)
	}
	defer f.Close()
	if err := b.loadState(f); err != nil {
		return false, fmt.Errorf("memory: load state file %s: %w", path, err)
	}
	return true, nil
}
