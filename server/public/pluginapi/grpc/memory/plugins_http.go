package memory

// This file holds PluginHTTP: an HTTP request from the plugin to another
// plugin's ServeHTTP, body and answer streamed in chunks.

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// PluginHTTP answers an HTTP request to another plugin, as
// App.ServeInterPluginRequest does
// (server/channels/app/plugin_requests.go@86b60aad:App.ServeInterPluginRequest).
// The URL is "/<plugin id>/<path>"; a plugin that is not active (not
// installed, or not enabled) has no hooks, and the answer is
// http.NotFound's: 404 "404 page not found". The backend calls no
// plugin's ServeHTTP, so an enabled plugin answers as one that does not
// implement it, with the same 404.
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

// routePluginHTTP decides the answer to an inter-plugin request, as
// PluginAPI.PluginHTTP
// (server/channels/app/plugin_api.go@004cacd4:PluginAPI.PluginHTTP) and
// App.ServeInterPluginRequest do: a path of fewer than three parts, or an
// empty plugin id, or a rest that is not a URL, is a 400 with a bare text
// body; a plugin that is not active is http.NotFound's 404.
func (*Backend) routePluginHTTP(head *pluginpb.HTTPRequestHead) (int, map[string]*pluginpb.HTTPHeaderValues, []byte) {
	bare := func(body string) (int, map[string]*pluginpb.HTTPHeaderValues, []byte) {
		return http.StatusBadRequest, nil, []byte(body)
	}
	u, err := url.Parse(head.GetUrl())
	if err != nil {
		return bare("Form of URL should be /<pluginid>/* Error: " + err.Error())
	}
	parts := strings.SplitN(u.Path, "/", 3)
	if len(parts) != 3 {
		return bare("Not enough URL. Form of URL should be /<pluginid>/*")
	}
	if _, err := url.Parse("/" + parts[2]); err != nil {
		return bare("Form of URL should be /<pluginid>/* Error: " + err.Error())
	}
	if parts[1] == "" {
		return bare("No plugin specified. Form of URL should be /<pluginid>/*")
	}
	// A plugin that is not active has no hooks (HooksForPlugin fails), and
	// an active one without ServeHTTP gets the plugin package's default
	// ServeHTTP; the backend calls no plugin, so either way the answer is
	// http.NotFound's.
	return notFound()
}

// notFound is http.NotFound's answer.
func notFound() (int, map[string]*pluginpb.HTTPHeaderValues, []byte) {
	return http.StatusNotFound, map[string]*pluginpb.HTTPHeaderValues{
		"Content-Type":           {Values: []string{"text/plain; charset=utf-8"}},
		"X-Content-Type-Options": {Values: []string{"nosniff"}},
	}, []byte("404 page not found\n")
}
