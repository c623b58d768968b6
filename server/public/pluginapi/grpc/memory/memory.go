// Package memory is an in-memory implementation of the Plugin API with the
// semantics of a Mattermost server.
//
// It backs the tests, the demo and plugin authors' local runs. Its state
// lives in one process and is lost when the process ends. A [Backend] is
// safe for concurrent use; every operation is atomic with respect to the
// others.
//
// The package is laid out by the domains of the contract, one for each
// domain's file in proto/mattermost/plugin. A domain's handlers are in
// <domain>.go, and the parts that grew on their own in <domain>_<part>.go:
//
//   - access_control.proto: access_control.go, access_control_store.go
//   - audit.proto: audit.go
//   - bots.proto: bots.go, bots_store.go
//   - channels.proto: channels.go, channels_members.go, channels_validate.go,
//     channels_store.go
//   - cluster.proto: cluster.go
//   - commands.proto: commands.go, commands_execute.go
//   - config.proto: config.go, config_store.go
//   - emoji.proto: emoji.go, emoji_store.go
//   - files.proto: files.go, uploads.go, files_hooks.go, files_store.go
//   - frontend.proto: frontend.go
//   - groups.proto: groups.go, groups_syncables.go
//   - kv.proto: kv.go, kv_store.go
//   - logging.proto: logging.go
//   - notifications.proto: notifications.go
//   - oauth.proto: oauth.go, oauth_store.go
//   - permissions.proto: permissions.go, roles.go
//   - plugins.proto: plugins.go, plugins_http.go, plugins_install.go,
//     plugins_lifecycle.go, plugins_store.go
//   - posts.proto: posts.go, posts_search.go, posts_store.go
//   - preferences.proto: preferences.go, preferences_store.go
//   - properties.proto: properties.go, properties_values.go
//   - reactions.proto: reactions.go
//   - sessions.proto: sessions.go
//   - shared_channels.proto: shared_channels.go
//   - sidebar.proto: sidebar.go
//   - teams.proto: teams.go, teams_icon.go, teams_validate.go, teams_store.go
//   - users.proto: users.go, users_admin.go, users_profile.go,
//     users_search.go, users_status.go, users_unicode.go, users_validate.go,
//     users_store.go, users_status_store.go
//
// The rest serves every domain: memory.go the [Backend] and its options,
// hooks.go the plugin hooks that handlers call, events.go the event log of
// what would have left the server, state.go the state file, ids.go and
// paging.go the rules of ids and pages.
//
// A domain's state is a store type, in <domain>_store.go or beside its
// handlers; the reactions live in posts_store.go, the users' statuses and
// profile images in users_status_store.go.
// One Backend holds every domain's state under one mutex. A domain's tests
// are in <domain>_test.go and <domain>_<part>_test.go.
package memory

import (
	"log/slog"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/store"
)

// DefaultServerVersion is the version that GetServerVersion reports unless
// [ServerVersion] sets another.
const DefaultServerVersion = "11.1.0"

// Backend holds the state of one Mattermost server as seen by one plugin.
type Backend struct {
	pluginpb.UnimplementedPluginAPIServer

	version string
	now     func() time.Time
	logger  *slog.Logger

	mu    sync.Mutex
	kv    store.KV // see kv_store.go
	users userStore

	preferences preferenceStore
	teams       teamStore
	channels    channelStore
	statuses    statusStore
	sessions    sessionStore
	posts       postStore
	sidebars    sidebarStore
	bots        botStore
	oauthApps   oauthAppStore
	commands    commandStore
	events      eventLog
	emojis      emojiStore
	manifests   manifestStore
	files       fileStore
	groups      groupStore
	shared      sharedChannelStore
	props       propertyStore
	policies    policyStore
	config      map[string]any
	settings    store.PluginSettings // nil: in config alone; see config_store.go

	installDate int64
	telemetryID string

	profileImages profileImageStore

	hooks           Hooks
	cluster         cluster
	pluginID        string
	maxUsersPerTeam int
	license         *pluginpb.License // nil: a server without one
}

// An Option configures a [Backend].
type Option interface {
	apply(*Backend)
}

type optionFunc func(*Backend)

func (f optionFunc) apply(b *Backend) { f(b) }

// ServerVersion sets the version that GetServerVersion reports. The default
// is [DefaultServerVersion].
func ServerVersion(v string) Option {
	return optionFunc(func(b *Backend) { b.version = v })
}

// Clock sets the source of the current time, for expiry and timestamps.
// The default is [time.Now]. A nil clock keeps the default.
func Clock(now func() time.Time) Option {
	return optionFunc(func(b *Backend) {
		if now != nil {
			b.now = now
		}
	})
}

// Logger sets the logger that LogDebug, LogInfo, LogWarn and LogError
// write to. The default is [slog.Default]. A nil logger keeps the default.
func Logger(l *slog.Logger) Option {
	return optionFunc(func(b *Backend) {
		if l != nil {
			b.logger = l
		}
	})
}

// DefaultMaxUsersPerTeam is the default of Mattermost's
// TeamSettings.MaxUsersPerTeam, which [MaxUsersPerTeam] changes.
const DefaultMaxUsersPerTeam = 50

// MaxUsersPerTeam sets the initial TeamSettings.MaxUsersPerTeam of the
// configuration: how many current members a team may have. Values below 1
// keep the default, [DefaultMaxUsersPerTeam]. SaveConfig changes it later.
func MaxUsersPerTeam(n int) Option {
	return optionFunc(func(b *Backend) {
		if n > 0 {
			b.maxUsersPerTeam = n
		}
	})
}

// PluginID sets the id of the plugin that the Backend serves, which owns
// the bots it creates. An empty id keeps the default, [DefaultPluginID].
func PluginID(id string) Option {
	return optionFunc(func(b *Backend) {
		if id != "" {
			b.pluginID = id
		}
	})
}

// License SKUs that [Licensed] knows, by their short names.
const (
	SKUProfessional       = "professional"
	SKUEnterprise         = "enterprise"
	SKUEnterpriseAdvanced = "advanced"
)

// Licensed installs a license of the SKU, by its short name: GetLicense
// returns it and IsEnterpriseReady reports true. Features that need a
// license, such as attribute-based access control (Enterprise Advanced),
// then work as on a licensed server. An empty SKU keeps the default, no
// license; [New] panics on an unknown one.
func Licensed(sku string) Option {
	return optionFunc(func(b *Backend) {
		if sku == "" {
			return
		}
		if sku != SKUProfessional && sku != SKUEnterprise && sku != SKUEnterpriseAdvanced {
			panic("memory.Licensed: unknown SKU " + sku)
		}
		now := b.now().UnixMilli()
		b.license = &pluginpb.License{
			Id: newID(), IssuedAt: now, StartsAt: now, ExpiresAt: now + 365*24*3600*1000,
			SkuName: "Mattermost " + sku, SkuShortName: sku,
			Customer: &pluginpb.Customer{Id: newID(), Name: "Reference backend", Email: "admin@example.com"},
			Features: &pluginpb.Features{Users: proto.Int32(1000)},
		}
	})
}

// WithHooks sets the receiver of the Backend's hook events. A nil Hooks
// keeps the default, [NoHooks].
func WithHooks(h Hooks) Option {
	return optionFunc(func(b *Backend) {
		if h != nil {
			b.hooks = h
		}
	})
}

// New returns an empty Backend.
func New(opts ...Option) *Backend {
	b := &Backend{
		version: DefaultServerVersion,
		now:     time.Now,
		logger:  slog.Default(),
		users:   newUserStore(),

		preferences: make(preferenceStore),
		teams:       newTeamStore(),
		channels:    newChannelStore(),
		statuses:    make(statusStore),
		sessions:    newSessionStore(),
		posts:       newPostStore(),
		sidebars:    make(sidebarStore),
		bots:        make(botStore),
		oauthApps:   make(oauthAppStore),
		commands:    newCommandStore(),
		groups:      newGroupStore(),
		shared:      newSharedChannelStore(),
		props:       newPropertyStore(),
		policies:    make(policyStore),
		files:       fileStore{infos: map[string]*pluginpb.FileInfo{}, uploads: map[string]*pluginpb.UploadSession{}},

		profileImages: make(profileImageStore),

		hooks:           NoHooks{},
		pluginID:        DefaultPluginID,
		maxUsersPerTeam: DefaultMaxUsersPerTeam,
	}
	for _, opt := range opts {
		opt.apply(b)
	}
	if b.kv == nil {
		b.kv = defaultKV(b)
	}
	if b.manifests == nil {
		b.manifests = newManifestStore(defaultManifest(b.pluginID))
	}
	b.config = normalizeNumbers(defaultConfig(b.pluginID, b.maxUsersPerTeam))
	b.installDate = b.nowMillis()
	b.telemetryID = newID()
	return b
}

// nowMillis returns the current time in milliseconds since the Unix epoch,
// the unit of every Mattermost timestamp.
func (b *Backend) nowMillis() int64 {
	return b.now().UnixMilli()
}
