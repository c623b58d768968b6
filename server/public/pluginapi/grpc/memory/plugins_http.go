package memory

// This file holds PluginHTTP: an HTTP request from the plugin to another
// plugin's ServeHTTP, body and answer streamed in chunks.

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// PluginHTTP answers an HTTP request to another plugin, as Mattermost's
// ServeInterPluginRequest does. The URL is "/<plugin id>/<path>"; a
// plugin that is not installed or not enabled gets 404 with an AppError
// body. The backend calls no plugin's ServeHTTP, so an enabled plugin
// answers as one that does not implement it: 404 "404 page not found".
func (b *Backend) PluginHTTP(stream pluginpb.PluginAPI_PluginHTTPServer) error {
	head, err := headOf(stream.Recv, "a request")
	if err != nil {
		return err
	}
	// Receive the body to its end, so that the caller's upload completes.
	drop := chunksOf(stream.Recv, func(r *pluginpb.PluginHTTPRequest) []byte { return r.GetChunk() })
	for {
		if _, err := drop(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return err
		}
	}
	status, header, body := b.routePluginHTTP(head)
	if err := stream.Send(&pluginpb.PluginHTTPResponse{Part: &pluginpb.PluginHTTPResponse_Head{
		Head: &pluginpb.HTTPResponseHead{StatusCode: int32(status), Header: header},
	}}); err != nil {
		return err
	}
	for start := 0; start < len(body); start += fileChunkSize {
		end := min(start+fileChunkSize, len(body))
		if err := stream.Send(&pluginpb.PluginHTTPResponse{Part: &pluginpb.PluginHTTPResponse_Chunk{Chunk: body[start:end]}}); err != nil {
			return err
		}
	}
	return nil
}

// routePluginHTTP decides the answer to an inter-plugin request.
func (b *Backend) routePluginHTTP(head *pluginpb.HTTPRequestHead) (int, map[string]*pluginpb.HTTPHeaderValues, []byte) {
	text := func(status int, body string) (int, map[string]*pluginpb.HTTPHeaderValues, []byte) {
		return status, map[string]*pluginpb.HTTPHeaderValues{
			"Content-Type": {Values: []string{"text/plain; charset=utf-8"}},
		}, []byte(body)
	}
	u, err := url.Parse(head.GetUrl())
	if err != nil {
		return text(http.StatusBadRequest, "Invalid URL.")
	}
	parts := strings.SplitN(u.Path, "/", 3)
	if len(parts) != 3 || parts[1] == "" {
		return text(http.StatusBadRequest, "Not enough URL. Form of URL should be /<pluginid>/*")
	}
	b.mu.Lock()
	_, installed := b.manifests[parts[1]]
	_, _, states := b.pluginSettings()
	state, _ := states[parts[1]].(map[string]any)
	enabled := installed && state["Enable"] == true
	b.mu.Unlock()
	if !enabled {
		e := apperror.New("app.plugin.not_installed.app_error", "The plugin is not installed or not enabled.",
			"", http.StatusNotFound).Proto()
		body, _ := json.Marshal(map[string]any{"id": e.GetId(), "message": e.GetMessage(), "status_code": e.GetStatusCode()})
		return http.StatusNotFound, map[string]*pluginpb.HTTPHeaderValues{
			"Content-Type": {Values: []string{"application/json"}},
		}, body
	}
	return text(http.StatusNotFound, "404 page not found\n")
}
