package hooks

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// httpChunk is the size of the request body chunks sent to the plugin.
const httpChunk = 64 << 10

// internalError is what the host writes when the call fails before the
// plugin's response head, as upstream.
const internalError = "500 internal server error"

// ServeHTTP implements [Hooks]. The request body is sent in chunks as it
// is read, and the response body written as it comes, flushed where the
// plugin asks, so neither is held whole. A plugin without the hook gets
// 404 from the host; a call that fails before the response head, 500; a
// status outside 100 to 999, 500 and a log line. ServeHTTP has no deadline
// of its own unless [WithHookTimeout] sets one: the request's context ends
// it.
func (c *Client) ServeHTTP(hc *pluginpb.Context, w http.ResponseWriter, r *http.Request) {
	if !c.implemented["ServeHTTP"] {
		http.NotFound(w, r)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	if d, ok := c.opts.timeouts["ServeHTTP"]; ok {
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	stream, err := c.rpc.ServeHTTP(ctx)
	if err != nil {
		c.httpFailed(w, false, err)
		return
	}
	head := &pluginpb.HTTPRequestHead{
		Method:     r.Method,
		Url:        r.URL.RequestURI(),
		Proto:      r.Proto,
		Host:       r.Host,
		RemoteAddr: r.RemoteAddr,
		RequestUri: r.RequestURI,
		Header:     make(map[string]*pluginpb.HTTPHeaderValues, len(r.Header)),
	}
	for name, values := range r.Header {
		head.Header[name] = &pluginpb.HTTPHeaderValues{Values: values}
	}
	if err := stream.Send(&pluginpb.ServeHTTPRequest{Context: hc, Part: &pluginpb.ServeHTTPRequest_Head{Head: head}}); err != nil {
		c.httpFailed(w, false, err)
		return
	}
	// The body goes in its own goroutine, so that a plugin may answer
	// before it read the whole body, and stream while it reads. The handler
	// must not return while it reads r.Body: on the way out, a past read
	// deadline unblocks a read that waits on the client.
	// Without full duplex, an HTTP/1.1 server that sends the response head
	// before the request body was read swallows up to 256 KiB of that
	// body; an echo that streams as it reads needs both at once.
	rc := http.NewResponseController(w)
	_ = rc.EnableFullDuplex()
	sent := make(chan struct{})
	defer func() {
		cancel()
		select {
		case <-sent:
		default:
			// Unblock the read, wait, and clear the deadline, which would
			// otherwise outlive this request on a kept-alive connection.
			_ = rc.SetReadDeadline(time.Now())
			<-sent
			_ = rc.SetReadDeadline(time.Time{})
		}
	}()
	go func() {
		defer close(sent)
		defer stream.CloseSend()
		if r.Body == nil {
			return
		}
		buf := make([]byte, httpChunk)
		for {
			n, err := r.Body.Read(buf)
			if n > 0 {
				chunk := make([]byte, n)
				copy(chunk, buf[:n])
				if stream.Send(&pluginpb.ServeHTTPRequest{Part: &pluginpb.ServeHTTPRequest_Chunk{Chunk: chunk}}) != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()

	first, err := stream.Recv()
	if err != nil {
		c.httpFailed(w, false, err)
		return
	}
	rh := first.GetHead()
	switch {
	case rh == nil:
		c.httpFailed(w, false, errors.New("the plugin's first message has no response head"))
		return
	case rh.GetStatusCode() < 100 || rh.GetStatusCode() > 999:
		c.httpFailed(w, false, errors.New("the plugin answered an invalid status code"))
		return
	}
	for name, values := range rh.GetHeader() {
		w.Header()[http.CanonicalHeaderKey(name)] = values.GetValues()
	}
	w.WriteHeader(int(rh.GetStatusCode()))
	flusher, _ := w.(http.Flusher)
	for {
		msg, err := stream.Recv()
		if err == io.EOF {
			return
		}
		if err != nil {
			c.httpFailed(w, true, err)
			return
		}
		if chunk := msg.GetChunk(); len(chunk) > 0 {
			if _, err := w.Write(chunk); err != nil {
				return // the client is gone; the deferred cancel ends the call
			}
		}
		if msg.GetFlush() && flusher != nil {
			flusher.Flush()
		}
	}
}

// httpFailed logs a failed ServeHTTP call and, when no response head was
// written yet, answers 500.
func (c *Client) httpFailed(w http.ResponseWriter, headSent bool, err error) {
	c.opts.logger.LogAttrs(context.Background(), slog.LevelError, "plugin hook failed",
		slog.String("hook", "ServeHTTP"),
		slog.Bool("response_started", headSent),
		slog.String("error", apperror.Truncate(err.Error(), maxLoggedReason)))
	if !headSent {
		http.Error(w, internalError, http.StatusInternalServerError)
	}
}
