package hooks

import (
	"context"
	"net/http"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// ServeHTTP implements [Hooks]. The request body is sent in chunks as it
// is read, and the response body written as it comes, flushed where the
// plugin asks, so neither is held whole. A plugin without the hook gets
// 404 from the host; a call that fails before the response head, 500; a
// status outside 100 to 999, 500 and a log line. ServeHTTP has no deadline
// of its own unless [WithHookTimeout] sets one: the request's context ends
// it.
func (c *Client) ServeHTTP(hc *pluginpb.Context, w http.ResponseWriter, r *http.Request) {
	c.serveHTTP("ServeHTTP", func(ctx context.Context) (httpStream, error) {
		s, err := c.rpc.ServeHTTP(ctx)
		return serveHTTPStream{s}, err
	}, hc, w, r)
}

type serveHTTPStream struct {
	pluginpb.PluginHooks_ServeHTTPClient
}

func (s serveHTTPStream) sendHead(hc *pluginpb.Context, head *pluginpb.HTTPRequestHead) error {
	return s.Send(&pluginpb.ServeHTTPRequest{Context: hc, Part: &pluginpb.ServeHTTPRequest_Head{Head: head}})
}

func (s serveHTTPStream) sendChunk(chunk []byte) error {
	return s.Send(&pluginpb.ServeHTTPRequest{Part: &pluginpb.ServeHTTPRequest_Chunk{Chunk: chunk}})
}

func (s serveHTTPStream) recv() (*pluginpb.HTTPResponseHead, []byte, bool, error) {
	m, err := s.Recv()
	return m.GetHead(), m.GetChunk(), m.GetFlush(), err
}

// ServeHTTP answers 404, as the host does for a plugin without the hook.
func (None) ServeHTTP(_ *pluginpb.Context, w http.ResponseWriter, _ *http.Request) {
	http.NotFound(w, nil)
}
