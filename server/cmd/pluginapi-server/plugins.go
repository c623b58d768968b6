package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/hooks"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/ids"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/memory"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/server"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/supervisor"
)

// pythonEnv names the default interpreter of Python plugins.
const pythonEnv = "MATTERMOST_PLUGIN_PYTHON"

// devPlugin is one installed version of a plugin that the dev server
// runs: from -plugin, or installed through the Plugin API. A new version
// of the plugin is a new devPlugin with the same token.
type devPlugin struct {
	bundle *supervisor.Bundle
	// token is the plugin's own Plugin API token, which names it.
	token string
	// target is the gRPC target of the Plugin API that the plugin's
	// process calls: the main server's for -plugin plugins, a server of
	// its own for a plugin installed through the API (see host).
	target string
	// unpacked says that the dev server unpacked the plugin's directory
	// from a bundle, and removes it with the plugin.
	unpacked bool
	// noServer marks a plugin without a server part (a web app only):
	// nothing runs, and enabling it succeeds.
	noServer bool
	sup      atomic.Pointer[supervisor.Supervisor]
	// enabled says that the plugin should run: it is unset by
	// DisablePlugin, and -watch does not restart a disabled plugin.
	enabled atomic.Bool
	// retired is set once another version replaced the plugin, or it was
	// removed: its watcher stops restarting it.
	retired atomic.Bool
	// failure is why the plugin's last activation failed, or nil.
	failure atomic.Pointer[string]
}

func (p *devPlugin) id() string { return p.bundle.Manifest.ID }

// hooks returns the plugin's hooks; until its supervisor is set, and while
// its process is down, every hook fails open.
func (p *devPlugin) hooks() hooks.Hooks {
	if s := p.sup.Load(); s != nil {
		return s.Hooks()
	}
	return hooks.None{}
}

// manifestProto returns the backend's form of a plugin's manifest: its
// id, name, version and settings schema.
func manifestProto(m supervisor.Manifest) *pluginpb.Manifest {
	return &pluginpb.Manifest{
		Id:             m.ID,
		Name:           cmp.Or(m.Name, m.ID),
		Version:        m.Version,
		SettingsSchema: settingsSchemaProto(m.SettingsSchema),
	}
}

// settingsSchemaProto converts a manifest's settings schema; nil stays nil.
func settingsSchemaProto(s *supervisor.SettingsSchema) *pluginpb.PluginSettingsSchema {
	if s == nil {
		return nil
	}
	out := &pluginpb.PluginSettingsSchema{Header: s.Header, Footer: s.Footer, Settings: settingsProto(s.Settings)}
	for _, sec := range s.Sections {
		if sec == nil {
			continue
		}
		out.Sections = append(out.Sections, &pluginpb.PluginSettingsSection{
			Key:      sec.Key,
			Title:    sec.Title,
			Subtitle: sec.Subtitle,
			Settings: settingsProto(sec.Settings),
			Header:   sec.Header,
			Footer:   sec.Footer,
			Custom:   sec.Custom,
			Fallback: sec.Fallback,
		})
	}
	return out
}

func settingsProto(settings []*supervisor.Setting) []*pluginpb.PluginSetting {
	var out []*pluginpb.PluginSetting
	for _, s := range settings {
		if s == nil {
			continue
		}
		ps := &pluginpb.PluginSetting{
			Key:                s.Key,
			DisplayName:        s.DisplayName,
			Type:               s.Type,
			HelpText:           s.HelpText,
			RegenerateHelpText: s.RegenerateHelpText,
			Placeholder:        s.Placeholder,
			Hosting:            s.Hosting,
			Secret:             s.Secret,
		}
		if s.Default != nil {
			// A JSON value always converts.
			ps.Default, _ = structpb.NewValue(s.Default)
		}
		for _, o := range s.Options {
			if o != nil {
				ps.Options = append(ps.Options, &pluginpb.PluginOption{DisplayName: o.DisplayName, Value: o.Value})
			}
		}
		out = append(out, ps)
	}
	return out
}

// pluginHooks fires the backend's hooks in the plugins that the dev
// server runs. The rules for running one hook across several plugins are
// hooks.Multi's, as Mattermost's RunMultiHook: pluginHooks only gives it
// the plugins, by id, and the hook context of a Plugin API call. Commands
// and HTTP requests go to the one plugin they name. The set of plugins
// changes as the Plugin API installs and removes them; each event goes to
// the plugins of that moment.
type pluginHooks struct {
	*hooks.Multi
	logger *slog.Logger

	mu      sync.RWMutex
	plugins []*devPlugin // by id
}

var _ memory.Hooks = (*pluginHooks)(nil)

func newPluginHooks(plugins []*devPlugin, logger *slog.Logger) *pluginHooks {
	p := &pluginHooks{logger: logger}
	p.Multi = hooks.NewMulti(p.current, hookContext)
	for _, pl := range plugins {
		p.put(pl)
	}
	return p
}

// put adds pl, or puts it in the place of the plugin with its id.
func (p *pluginHooks) put(pl *devPlugin) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i, found := slices.BinarySearchFunc(p.plugins, pl.id(), func(x *devPlugin, id string) int { return cmp.Compare(x.id(), id) })
	if found {
		p.plugins[i] = pl
		return
	}
	p.plugins = slices.Insert(p.plugins, i, pl)
}

// drop removes the plugin with id.
func (p *pluginHooks) drop(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.plugins = slices.DeleteFunc(p.plugins, func(x *devPlugin) bool { return x.id() == id })
}

// all returns the plugins, by id.
func (p *pluginHooks) all() []*devPlugin {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return slices.Clone(p.plugins)
}

// current returns the hooks of every plugin of the moment, by id.
func (p *pluginHooks) current() []hooks.Plugin {
	plugins := p.all()
	hs := make([]hooks.Plugin, len(plugins))
	for i, pl := range plugins {
		hs[i] = hooks.Plugin{ID: pl.id(), Hooks: pl.hooks()}
	}
	return hs
}

// plugin returns the plugin with id, or nil.
func (p *pluginHooks) plugin(id string) *devPlugin {
	p.mu.RLock()
	defer p.mu.RUnlock()
	i, found := slices.BinarySearchFunc(p.plugins, id, func(x *devPlugin, id string) int { return cmp.Compare(x.id(), id) })
	if !found {
		return nil
	}
	return p.plugins[i]
}

// hookContext is the hook Context of a change that a Plugin API call
// made: the call's request id. A plugin's call has no session, address or
// user agent.
func hookContext(ctx context.Context) *pluginpb.Context {
	return &pluginpb.Context{RequestId: server.RequestID(ctx)}
}

// wait waits for the notification hooks in flight.
func (p *pluginHooks) wait() { p.Wait() }

// OnConfigurationChange runs from the configuration's change listener,
// after the save; an error is only logged. Once each plugin's hook has
// returned, a debug record "plugin configuration applied" says so, with
// the plugin's id (and the error), for tools that wait for a plugin to
// have applied a saved configuration.
func (p *pluginHooks) OnConfigurationChange(ctx context.Context) {
	p.Later(ctx, func(ctx context.Context, _ *pluginpb.Context, pl hooks.Plugin) {
		attrs := []slog.Attr{slog.String("plugin_id", pl.ID)}
		if err := pl.OnConfigurationChange(ctx); err != nil {
			attrs = append(attrs, slog.String("error", err.Error()))
		}
		p.logger.LogAttrs(ctx, slog.LevelDebug, "plugin configuration applied", attrs...)
	})
}

// ExecuteCommand runs the command in the plugin that registered it and
// passes its AppError through; a plugin that crashed, hung or answered
// garbage gets Mattermost's crash error. The command of a disabled plugin
// is not found, as upstream's DisablePlugin unregisters the plugin's
// commands (server/channels/app/plugin.go of mattermost/mattermost at
// 85e9d9c7610fe97f8ed942ecfedd0100429a8995); its OnActivate registers them
// again once it is enabled.
func (p *pluginHooks) ExecuteCommand(ctx context.Context, pluginID string, args *pluginpb.CommandArgs) (*pluginpb.CommandResponse, error) {
	trigger, _, _ := strings.Cut(strings.TrimSpace(args.GetCommand()), " ")
	pl := p.plugin(pluginID)
	if pl == nil {
		// A plugin that the dev server does not run: the backend's own
		// when no -plugin names it. It answers as the backend without
		// hooks does.
		return &pluginpb.CommandResponse{}, nil
	}
	if !pl.enabled.Load() {
		name := strings.ToLower(strings.TrimPrefix(trigger, "/"))
		return nil, apperror.New("api.command.execute_command.not_found.app_error",
			"Command with a trigger of '"+apperror.Truncate(name, apperror.MaxShortBytes)+"' not found.", "", http.StatusNotFound)
	}
	resp, err := pl.hooks().ExecuteCommand(ctx, hookContext(ctx), args)
	var callErr *hooks.CallError
	if errors.As(err, &callErr) {
		return nil, apperror.New("model.plugin_command_crash.error.app_error",
			fmt.Sprintf("%s command failed. Please contact your system administrator.", apperror.Truncate(trigger, apperror.MaxShortBytes)),
			apperror.Truncate(callErr.Error(), 1024), http.StatusInternalServerError)
	}
	return resp, err
}

// sessionLookup resolves the token of an HTTP request to its session, as
// Mattermost's App.GetSession does: *memory.Backend's SessionByToken.
type sessionLookup interface {
	SessionByToken(token string) (*pluginpb.Session, bool)
}

// Names of the headers, cookie and query parameter of a plugin request
// that servePluginRequest reads or removes (model.HeaderAuth,
// model.SessionCookieToken, model.HeaderCsrfToken, ...).
const (
	headerUserID        = "Mattermost-User-Id"
	headerPluginID      = "Mattermost-Plugin-ID"
	headerAuth          = "Authorization"
	headerCSRFToken     = "X-CSRF-Token"
	headerRequestedWith = "X-Requested-With"
	requestedWithXML    = "XMLHttpRequest"
	sessionCookie       = "MMAUTHTOKEN"
	accessTokenParam    = "access_token"
)

// csrfFormLimit bounds the body in which a cookie-authenticated request's
// "csrf" form field is looked for: http.Request.ParseForm's own limit of
// a form body. Mattermost reads the whole body.
const csrfFormLimit = 10 << 20

// pluginHTTP routes /plugins/{plugin_id}/... to the plugin's ServeHTTP, as
// Mattermost's servePluginRequest does (server/channels/app/
// plugin_requests.go of mattermost/mattermost at
// 0775671b45ace200ffffdf1ffdbed8a036ffb765):
//
//   - the request's token is read from "Authorization: Bearer <token>" or
//     "Authorization: Token <token>" (either in any case), else the
//     MMAUTHTOKEN cookie, else the access_token query parameter;
//   - the client's Mattermost-User-Id and Mattermost-Plugin-ID headers,
//     its MMAUTHTOKEN cookie, its Referer and the access_token parameter
//     are removed (the query is encoded again, its keys sorted, as
//     upstream does), and the prefix is removed from the URL's path;
//   - a token of a live session (see sessionLookup) authenticates the
//     request: the Authorization header is removed, and Mattermost-User-Id
//     is set to the session's user and the hook context's session id to
//     the session, except for a request authenticated by the cookie with
//     a method other than GET whose CSRF token (the X-CSRF-Token header,
//     else a "csrf" form field or query parameter) is not the session's
//     "csrf" prop, unless it has "X-Requested-With: XMLHttpRequest", which
//     upstream still accepts while ServiceSettings.
//     ExperimentalStrictCSRFEnforcement is off, its default;
//   - any other token leaves the request unauthenticated, as no token does;
//   - the hook context gets a new request id, the client's IP,
//     Accept-Language and User-Agent.
//
// Upstream's checks that the plugin is visible to the user and that a
// required MFA is active have no counterpart here. An unknown or stopped
// plugin id is a 404.
func (p *pluginHooks) pluginHTTP(sessions sessionLookup) http.Handler {
	mux := http.NewServeMux()
	serve := func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		pl := p.plugin(id)
		if pl == nil || pl.sup.Load() == nil {
			http.NotFound(w, r)
			return
		}
		r2 := r.Clone(r.Context())
		token, cookieAuth := requestToken(r2)
		stripClientAuth(r2)
		prefix := "/plugins/" + id
		r2.URL.Path = strings.TrimPrefix(r.URL.Path, prefix)
		r2.URL.RawPath = strings.TrimPrefix(r.URL.RawPath, prefix)
		if r2.URL.Path == "" {
			r2.URL.Path = "/"
		}
		ip, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			ip = r.RemoteAddr
		}
		hc := &pluginpb.Context{
			RequestId:      ids.New(),
			IpAddress:      ip,
			AcceptLanguage: r.Header.Get("Accept-Language"),
			UserAgent:      r.Header.Get("User-Agent"),
		}
		if session, ok := sessions.SessionByToken(token); ok {
			// As upstream: a resolved token is not passed on, even when
			// the CSRF check below fails.
			r2.Header.Del(headerAuth)
			if validCSRF(r2, session, cookieAuth) {
				r2.Header.Set(headerUserID, session.GetUserId())
				hc.SessionId = session.GetId()
			} else {
				p.logger.Debug("CSRF check of a plugin request failed; treating the request as unauthenticated",
					slog.String("plugin_id", id), slog.String("session_id", session.GetId()))
			}
		}
		pl.hooks().ServeHTTP(hc, w, r2)
	}
	mux.HandleFunc("/plugins/{id}", serve)
	mux.HandleFunc("/plugins/{id}/", serve)
	return mux
}

// requestToken returns the token of a plugin request, and whether it came
// from the session cookie, as servePluginRequest reads it.
func requestToken(r *http.Request) (token string, cookieAuth bool) {
	const bearer, tokenScheme = "BEARER ", "token "
	auth := r.Header.Get(headerAuth)
	switch {
	case strings.HasPrefix(strings.ToUpper(auth), bearer):
		return auth[len(bearer):], false
	case strings.HasPrefix(strings.ToLower(auth), tokenScheme):
		return auth[len(tokenScheme):], false
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		return c.Value, true
	}
	return r.URL.Query().Get(accessTokenParam), false
}

// stripClientAuth removes what a client must not pass to a plugin: the
// headers that the server sets, the session cookie, the Referer and the
// access_token parameter.
func stripClientAuth(r *http.Request) {
	r.Header.Del(headerPluginID)
	r.Header.Del(headerUserID)
	cookies := r.Cookies()
	r.Header.Del("Cookie")
	for _, c := range cookies {
		if c.Name != sessionCookie {
			r.AddCookie(c)
		}
	}
	r.Header.Del("Referer")
	query := r.URL.Query()
	query.Del(accessTokenParam)
	r.URL.RawQuery = query.Encode()
}

// validCSRF is upstream's validateCSRFForPluginRequest, without strict
// enforcement: only a cookie-authenticated request with a method other
// than GET is checked.
func validCSRF(r *http.Request, session *pluginpb.Session, cookieAuth bool) bool {
	if !cookieAuth || r.Method == http.MethodGet {
		return true
	}
	token := r.Header.Get(headerCSRFToken)
	if token == "" {
		token = formCSRF(r)
	}
	if token == session.GetProps()["csrf"] {
		return true
	}
	return r.Header.Get(headerRequestedWith) == requestedWithXML
}

// formCSRF returns the "csrf" field of r's form: its query, and its body
// when that is a form of at most csrfFormLimit bytes. r's body is left
// whole for the plugin.
func formCSRF(r *http.Request) string {
	form := &http.Request{Method: r.Method, Header: r.Header, URL: r.URL, Body: http.NoBody}
	if r.Body != nil && r.Body != http.NoBody {
		buf, err := io.ReadAll(io.LimitReader(r.Body, csrfFormLimit+1))
		if len(buf) > 0 {
			r.Body = readCloser{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
		}
		if err == nil && len(buf) <= csrfFormLimit {
			form.Body = io.NopCloser(bytes.NewReader(buf))
			form.ContentLength = int64(len(buf))
		}
	}
	v := form.FormValue("csrf")
	if form.MultipartForm != nil {
		_ = form.MultipartForm.RemoveAll()
	}
	return v
}

// readCloser reads from one reader and closes another.
type readCloser struct {
	io.Reader
	io.Closer
}
