package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mattermost/mattermost-plugin-grpc/server/internal/testenv"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// echoAuthPlugin answers, as JSON, what its ServeHTTP received of a
// request's authentication: the values of Mattermost-User-Id,
// Mattermost-Plugin-ID, Authorization, Cookie and Referer, the query, the
// hook context's session id and the body.
const echoAuthPlugin = `import json

import mattermost_plugin as mp


class TestPlugin(mp.Plugin):
    def serve_http(self, context, request):
        body = request.read()
        headers = {name.lower(): values for name, values in request.headers.items()}
        return mp.HTTPResponse(
            body=json.dumps(
                {
                    "user": headers.get("mattermost-user-id", []),
                    "plugin": headers.get("mattermost-plugin-id", []),
                    "authorization": headers.get("authorization", []),
                    "cookie": headers.get("cookie", []),
                    "referer": headers.get("referer", []),
                    "query": request.query,
                    "session": context.session_id,
                    "body": body.decode(),
                }
            )
        )
`

// echoedAuth is what echoAuthPlugin answers.
type echoedAuth struct {
	User          []string `json:"user"`
	Plugin        []string `json:"plugin"`
	Authorization []string `json:"authorization"`
	Cookie        []string `json:"cookie"`
	Referer       []string `json:"referer"`
	Query         string   `json:"query"`
	Session       string   `json:"session"`
	Body          string   `json:"body"`
}

// TestSessionsAuthenticatePluginRoutes sends requests with and without
// session tokens to a plugin route of the dev server: a live session, as
// a Bearer or Token header, the MMAUTHTOKEN cookie or the access_token
// parameter, authenticates the request as upstream's servePluginRequest
// does (Mattermost-User-Id and the context's session id set, the token
// not passed on); a cookie-authenticated POST needs the session's CSRF
// token; an expired, revoked or unknown token, or a deactivated user's,
// leaves the request unauthenticated; a client's own Mattermost-User-Id
// and Mattermost-Plugin-ID never reach the plugin.
func TestSessionsAuthenticatePluginRoutes(t *testing.T) {
	py := testenv.Python(t)
	const id = "com.example.sessions"
	dir := t.TempDir()
	writePlugin(t, dir, id, echoAuthPlugin, nil)
	s := startServer(t, "-plugin", dir, "-python", py)
	ctx := callCtx(t)

	newUser := func(name string) string {
		u, err := s.api.CreateUser(ctx, &pluginpb.CreateUserRequest{User: &pluginpb.User{Username: name, Email: name + "@example.com", Password: "pw-s3cret-" + name}})
		if err != nil {
			t.Fatalf("CreateUser(%s) = %v", name, err)
		}
		return u.GetUser().GetId()
	}
	newSession := func(session *pluginpb.Session) *pluginpb.Session {
		created, err := s.api.CreateSession(ctx, &pluginpb.CreateSessionRequest{Session: session})
		if err != nil {
			t.Fatalf("CreateSession(%v) = %v", session, err)
		}
		return created.GetSession()
	}
	alice, bob := newUser("alice"), newUser("bob")
	const csrf = "the-csrf-token"
	live := newSession(&pluginpb.Session{UserId: alice, Props: map[string]string{"csrf": csrf}})
	expired := newSession(&pluginpb.Session{UserId: alice, ExpiresAt: time.Now().Add(-time.Hour).UnixMilli()})
	revoked := newSession(&pluginpb.Session{UserId: alice})
	if _, err := s.api.RevokeSession(ctx, &pluginpb.RevokeSessionRequest{SessionId: revoked.GetId()}); err != nil {
		t.Fatal(err)
	}
	ofDeactivated := newSession(&pluginpb.Session{UserId: bob})
	if _, err := s.api.UpdateUserActive(ctx, &pluginpb.UpdateUserActiveRequest{UserId: bob, Active: false}); err != nil {
		t.Fatal(err)
	}

	bearer := func(token string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
	}
	cookie := func(token string) func(*http.Request) {
		return func(r *http.Request) {
			r.AddCookie(&http.Cookie{Name: "theme", Value: "dark"})
			r.AddCookie(&http.Cookie{Name: "MMAUTHTOKEN", Value: token})
		}
	}
	with := func(fns ...func(*http.Request)) func(*http.Request) {
		return func(r *http.Request) {
			for _, fn := range fns {
				fn(r)
			}
		}
	}
	header := func(name, value string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Add(name, value) }
	}
	form := func(r *http.Request) { r.Header.Set("Content-Type", "application/x-www-form-urlencoded") }
	const authenticated, anonymous = true, false
	tests := []struct {
		name   string
		method string
		query  string
		body   string
		setup  func(*http.Request)
		authed bool
	}{
		{"no token", http.MethodGet, "", "", func(*http.Request) {}, anonymous},
		{"a Bearer session", http.MethodGet, "", "", bearer(live.GetToken()), authenticated},
		{"a bearer session, in lower case", http.MethodGet, "", "", header("Authorization", "bearer "+live.GetToken()), authenticated},
		{"a Token session", http.MethodGet, "", "", header("Authorization", "Token "+live.GetToken()), authenticated},
		{"a Bearer session, POST", http.MethodPost, "", "x=1", bearer(live.GetToken()), authenticated},
		{"the session cookie", http.MethodGet, "", "", cookie(live.GetToken()), authenticated},
		{"the access_token parameter", http.MethodGet, "b=2&access_token=" + live.GetToken() + "&a=1", "", func(*http.Request) {}, authenticated},
		{"the cookie, POST without a CSRF token", http.MethodPost, "", "x=1", cookie(live.GetToken()), anonymous},
		{"the cookie, POST with a wrong CSRF token", http.MethodPost, "", "x=1", with(cookie(live.GetToken()), header("X-CSRF-Token", "wrong")), anonymous},
		{"the cookie, POST with the CSRF header", http.MethodPost, "", "x=1", with(cookie(live.GetToken()), header("X-CSRF-Token", csrf)), authenticated},
		{"the cookie, POST with the csrf form field", http.MethodPost, "", "x=1&csrf=" + csrf, with(cookie(live.GetToken()), form), authenticated},
		{"the cookie, POST from XMLHttpRequest", http.MethodPost, "", "x=1", with(cookie(live.GetToken()), header("X-Requested-With", "XMLHttpRequest")), authenticated},
		{"an expired session", http.MethodGet, "", "", bearer(expired.GetToken()), anonymous},
		{"a revoked session", http.MethodGet, "", "", bearer(revoked.GetToken()), anonymous},
		{"a deactivated user's session", http.MethodGet, "", "", bearer(ofDeactivated.GetToken()), anonymous},
		{"a garbage token", http.MethodGet, "", "", bearer("garbage-" + strings.Repeat("x", 40)), anonymous},
		{"an expired cookie", http.MethodGet, "", "", cookie(expired.GetToken()), anonymous},
		{"a session's id as its token", http.MethodGet, "", "", bearer(live.GetId()), anonymous},
		{"two spaces after Bearer", http.MethodGet, "", "", header("Authorization", "Bearer  "+live.GetToken()), anonymous},
		{"a spoofed user id", http.MethodGet, "", "", with(header("Mattermost-User-Id", alice), header("Mattermost-Plugin-ID", "com.example.other")), anonymous},
		{"a spoofed user id beside a session", http.MethodGet, "", "", with(header("Mattermost-User-Id", bob), bearer(live.GetToken())), authenticated},
		{"a spoofed user id beside a bad token", http.MethodGet, "", "", with(header("mattermost-user-id", alice), bearer(revoked.GetToken())), anonymous},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target := s.ready.HTTPURL + "/plugins/" + id + "/echo"
			if tc.query != "" {
				target += "?" + tc.query
			}
			req, err := http.NewRequest(tc.method, target, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Referer", "http://evil.example.com/")
			tc.setup(req)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			var got echoedAuth
			if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &got) != nil {
				t.Fatalf("the route answers %d %q\nlog:\n%s", resp.StatusCode, raw, s.logs)
			}
			wantUser, wantSession := []string(nil), ""
			if tc.authed {
				wantUser, wantSession = []string{alice}, live.GetId()
			}
			if !slices.Equal(got.User, wantUser) || got.Session != wantSession {
				t.Errorf("the plugin saw Mattermost-User-Id %q and session %q; want %q and %q", got.User, got.Session, wantUser, wantSession)
			}
			if len(got.Plugin) > 0 || len(got.Referer) > 0 {
				t.Errorf("the plugin saw Mattermost-Plugin-ID %q and Referer %q; want neither", got.Plugin, got.Referer)
			}
			if tc.authed && len(got.Authorization) > 0 {
				t.Errorf("the plugin saw the Authorization %q of an authenticated request", got.Authorization)
			}
			for _, c := range got.Cookie {
				if strings.Contains(c, "MMAUTHTOKEN") {
					t.Errorf("the plugin saw the session cookie: %q", got.Cookie)
				}
			}
			if strings.Contains(got.Query, "access_token") {
				t.Errorf("the plugin saw the query %q", got.Query)
			}
			if got.Body != tc.body {
				t.Errorf("the plugin read the body %q; want %q", got.Body, tc.body)
			}
		})
	}

	// What stays: other cookies, the query without access_token (encoded
	// again as upstream does), a token that authenticates nothing.
	get := func(query string, setup func(*http.Request)) echoedAuth {
		req, _ := http.NewRequest(http.MethodGet, s.ready.HTTPURL+"/plugins/"+id+"/echo?"+query, nil)
		setup(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got echoedAuth
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := get("b=2&a=1", cookie(live.GetToken())); !slices.Equal(got.Cookie, []string{"theme=dark"}) || got.Query != "a=1&b=2" {
		t.Errorf("with a cookie the plugin saw Cookie %q and query %q; want theme=dark and a=1&b=2", got.Cookie, got.Query)
	}
	if got := get("access_token="+url.QueryEscape(live.GetToken())+"&z=1", func(*http.Request) {}); got.Query != "z=1" || len(got.User) != 1 {
		t.Errorf("with access_token the plugin saw query %q and user %q", got.Query, got.User)
	}
	if got := get("", bearer("garbage")); !slices.Equal(got.Authorization, []string{"Bearer garbage"}) {
		t.Errorf("with a token of no session the plugin saw Authorization %q; want it passed on, as upstream", got.Authorization)
	}
}
