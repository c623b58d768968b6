package memory

import (
	"net/http"
	"testing"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// TestPluginHTTPFollowsUpstream checks the answers of PluginHTTP against
// server/channels/app/plugin_api.go@004cacd4:PluginAPI.PluginHTTP (the
// 400s, bare text without a header) and
// server/channels/app/plugin_requests.go@86b60aad:App.ServeInterPluginRequest
// (http.NotFound for a plugin without hooks, that is one not active).
func TestPluginHTTPFollowsUpstream(t *testing.T) {
	b := New(Manifest(&pluginpb.Manifest{Id: "com.example.caller"}, &pluginpb.Manifest{Id: "com.example.off"}))
	defer b.Close()
	const notFoundBody = "404 page not found\n"
	tests := []struct {
		name, url  string
		status     int
		body       string
		textHeader bool
	}{
		{"one part", "/nothing", http.StatusBadRequest, "Not enough URL. Form of URL should be /<pluginid>/*", false},
		{"the root", "/", http.StatusBadRequest, "Not enough URL. Form of URL should be /<pluginid>/*", false},
		{"an empty plugin id", "http://localhost//x", http.StatusBadRequest, "No plugin specified. Form of URL should be /<pluginid>/*", false},
		{"not installed", "/com.example.absent/x", http.StatusNotFound, notFoundBody, true},
		{"installed, not enabled", "/com.example.off/x", http.StatusNotFound, notFoundBody, true},
		{"enabled, no ServeHTTP", "/com.example.caller/api/v1?x=1", http.StatusNotFound, notFoundBody, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, header, body := b.routePluginHTTP(&pluginpb.HTTPRequestHead{Method: "GET", Url: tc.url})
			if status != tc.status || string(body) != tc.body {
				t.Errorf("PluginHTTP(%q) = %d %q; want %d %q", tc.url, status, body, tc.status, tc.body)
			}
			gotText := header["Content-Type"].GetValues()
			if tc.textHeader != (len(gotText) == 1 && gotText[0] == "text/plain; charset=utf-8") {
				t.Errorf("PluginHTTP(%q) header = %v; want text/plain: %v", tc.url, header, tc.textHeader)
			}
		})
	}
}
