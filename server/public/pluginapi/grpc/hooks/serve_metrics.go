package hooks

import (
	"context"
	"net/http"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// ServeMetrics implements [Hooks], as ServeHTTP.
func (c *Client) ServeMetrics(hc *pluginpb.Context, w http.ResponseWriter, r *http.Request) {
	c.serveHTTP("ServeMetrics", func(ctx context.Context) (httpStream, error) {
		s, err := c.rpc.ServeMetrics(ctx)
		return serveMetricsStream{s}, err
	}, hc, w, r)
}

type serveMetricsStream struct {
	pluginpb.PluginHooks_ServeMetricsClient
}

func (s serveMetricsStream) sendHead(hc *pluginpb.Context, head *pluginpb.HTTPRequestHead) error {
	return s.Send(&pluginpb.ServeMetricsRequest{Context: hc, Part: &pluginpb.ServeMetricsRequest_Head{Head: head}})
}

func (s serveMetricsStream) sendChunk(chunk []byte) error {
	return s.Send(&pluginpb.ServeMetricsRequest{Part: &pluginpb.ServeMetricsRequest_Chunk{Chunk: chunk}})
}

func (s serveMetricsStream) recv() (*pluginpb.HTTPResponseHead, []byte, bool, error) {
	m, err := s.Recv()
	return m.GetHead(), m.GetChunk(), m.GetFlush(), err
}

// ServeMetrics answers 404, as ServeHTTP.
func (None) ServeMetrics(_ *pluginpb.Context, w http.ResponseWriter, _ *http.Request) {
	http.NotFound(w, nil)
}
