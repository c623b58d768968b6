package hooks

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// httpChunk is the size of the body and file chunks sent to the plugin.
const httpChunk = 64 << 10

// internalError is what the host writes when the call fails before the
// plugin's response head, as upstream.
const internalError = "500 internal server error"

// httpStream is the stream of ServeHTTP or ServeMetrics, whose messages
// have the same fields.
type httpStream interface {
	sendHead(hc *pluginpb.Context, head *pluginpb.HTTPRequestHead) error
	sendChunk(chunk []byte) error
	recv() (head *pluginpb.HTTPResponseHead, chunk []byte, flush bool, err error)
	CloseSend() error
}

// serveHTTP carries one HTTP exchange over a hook's stream.
func (c *Client) serveHTTP(hook string, open func(context.Context) (httpStream, error), hc *pluginpb.Context, w http.ResponseWriter, r *http.Request) {
	if !c.implemented[hook] {
		http.NotFound(w, r)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	if d, ok := c.opts.timeouts[hook]; ok {
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	stream, err := open(ctx)
	if err != nil {
		c.httpFailed(hook, w, false, err)
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
	if err := stream.sendHead(hc, head); err != nil {
		c.httpFailed(hook, w, false, err)
		return
	}
	// The body goes in its own goroutine, so that a plugin may answer
	// before it read the whole body, and stream while it reads (see
	// bodyPump). Without full duplex, an HTTP/1.1 server that sends the
	// response head before the request body was read swallows up to 256 KiB
	// of that body; an echo that streams as it reads needs both at once.
	rc := http.NewResponseController(w)
	_ = rc.EnableFullDuplex()
	pump := pumpBody(r, stream.sendChunk, stream.CloseSend)
	defer func() {
		cancel()
		pump.stop(rc)
	}()

	rh, _, _, err := stream.recv()
	switch {
	case err != nil:
		c.httpFailed(hook, w, false, err)
		return
	case rh == nil:
		c.httpFailed(hook, w, false, errors.New("the plugin's first message has no response head"))
		return
	case rh.GetStatusCode() < 100 || rh.GetStatusCode() > 999:
		c.httpFailed(hook, w, false, errors.New("the plugin answered an invalid status code"))
		return
	}
	for name, values := range rh.GetHeader() {
		w.Header()[http.CanonicalHeaderKey(name)] = values.GetValues()
	}
	w.WriteHeader(int(rh.GetStatusCode()))
	flusher, _ := w.(http.Flusher)
	for {
		_, chunk, flush, err := stream.recv()
		if err == io.EOF {
			return
		}
		if err != nil {
			c.httpFailed(hook, w, true, err)
			return
		}
		if len(chunk) > 0 {
			if _, err := w.Write(chunk); err != nil {
				return // the client is gone; the deferred cancel ends the call
			}
		}
		if flush && flusher != nil {
			flusher.Flush()
		}
	}
}

// bodyGrace is how long a returning ServeHTTP lets the body's reader end
// on its own before it cuts a read that waits on the client.
const bodyGrace = 100 * time.Millisecond

// bodyPump sends a request body to the plugin from its own goroutine. The
// handler must not return while that goroutine reads r.Body, so stop waits
// for it; and only a read blocked on the client may be cut short, with a
// past read deadline: once an HTTP/1.1 body has been read to its end, the
// server reads ahead on the connection, and a deadline then cancels the
// context of every later request on it.
type bodyPump struct {
	body    io.Reader
	mu      sync.Mutex
	reading bool // inside body.Read
	stopped bool // the handler is returning: no new read
	done    chan struct{}
}

// errBodyStopped ends the body's reading once the handler returns.
var errBodyStopped = errors.New("hooks: the handler returned")

// pumpBody starts sending r's body with send, and calls closeSend after
// it. A request without a body needs no goroutine.
func pumpBody(r *http.Request, send func(chunk []byte) error, closeSend func() error) *bodyPump {
	p := &bodyPump{body: r.Body, done: make(chan struct{})}
	if r.Body == nil || r.Body == http.NoBody {
		_ = closeSend()
		close(p.done)
		return p
	}
	go func() {
		defer close(p.done)
		defer closeSend()
		sendChunks(p, send)
	}()
	return p
}

// Read reads the body, noting that it does, and reads nothing once stop
// has begun.
func (p *bodyPump) Read(b []byte) (int, error) {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return 0, errBodyStopped
	}
	p.reading = true
	p.mu.Unlock()
	n, err := p.body.Read(b)
	p.mu.Lock()
	p.reading = false
	p.mu.Unlock()
	return n, err
}

// stop returns once the goroutine has left r.Body. Called after the
// stream's context is canceled, so that a send blocked on the plugin
// fails.
func (p *bodyPump) stop(rc *http.ResponseController) {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	grace := time.NewTimer(bodyGrace)
	defer grace.Stop()
	select {
	case <-p.done:
		return
	case <-grace.C:
	}
	p.mu.Lock()
	blocked := p.reading
	p.mu.Unlock()
	if blocked {
		// Unblock the read, wait, and clear the deadline, which would
		// otherwise outlive this request on a kept-alive connection.
		_ = rc.SetReadDeadline(time.Now())
		<-p.done
		_ = rc.SetReadDeadline(time.Time{})
		return
	}
	<-p.done
}

// sendChunks reads r to its end, or to its first error, and sends what it
// read in chunks of at most httpChunk bytes, until a send fails. A nil r
// sends nothing.
func sendChunks(r io.Reader, send func(chunk []byte) error) {
	if r == nil {
		return
	}
	buf := make([]byte, httpChunk)
	for {
		n, err := r.Read(buf)
		if n > 0 && send(bytes.Clone(buf[:n])) != nil {
			return
		}
		if err != nil {
			return
		}
	}
}

// httpFailed logs a failed ServeHTTP call and, when no response head was
// written yet, answers 500.
func (c *Client) httpFailed(hook string, w http.ResponseWriter, headSent bool, err error) {
	c.opts.logger.LogAttrs(context.Background(), slog.LevelError, "plugin hook failed",
		slog.String("hook", hook),
		slog.Bool("response_started", headSent),
		slog.String("error", apperror.Truncate(err.Error(), maxLoggedReason)))
	if !headSent {
		http.Error(w, internalError, http.StatusInternalServerError)
	}
}
