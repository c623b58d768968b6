package hooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// Bounds of the hook stream (see [StreamConn]).
const (
	// StreamRequestThreshold is the largest serialized request that a
	// call sends on the hook stream; a larger one goes on its own
	// PluginHooks call, so that one big message never holds the small ones
	// behind it in the stream's shared HTTP/2 flow-control window.
	StreamRequestThreshold = 256 << 10
	// MaxStreamFrame bounds the payloads that one frame carries: the
	// writers on both ends batch ready calls or answers into a frame up to
	// it, and the plugin splits a larger answer into pieces of at most
	// [StreamRequestThreshold] bytes, interleaved with the other answers.
	// At 1 MiB a frame holds the stream for about a millisecond.
	MaxStreamFrame = 1 << 20
	// MaxStreamAnswer is the largest answer that the host joins from its
	// pieces: 64 MiB, the Plugin API server's message limit. A larger one
	// fails the call with RESOURCE_EXHAUSTED.
	MaxStreamAnswer = 64 << 20
	// StreamUnreadFrames and StreamLinger bound the host's writer: while
	// this many frames of calls are sent and none of their calls is
	// answered yet, the writer holds the calls that arrive, for at most
	// the linger (StreamLinger unless [WithStreamLinger] says otherwise)
	// after its last frame, and then sends them in one frame. A plugin
	// pays a read and a write through grpcio's poller for every frame,
	// about as much as a handler's work, so under load a frame of many
	// calls costs about what a frame of one does; at 1 in flight no frame
	// is unread when a call arrives, and none waits.
	StreamUnreadFrames = 1
	StreamLinger       = 2 * time.Millisecond
)

// A StreamConnOption configures a [StreamConn].
type StreamConnOption func(*StreamConn)

// WithStreamLinger sets how long the writer holds new calls while a frame
// is unread (see [StreamLinger]); 0 sends every call at once.
func WithStreamLinger(d time.Duration) StreamConnOption {
	return func(c *StreamConn) { c.linger = max(d, 0) }
}

// implementedMethod is the full method name of PluginHooks.Implemented.
const implementedMethod = pluginpb.PluginHooks_Implemented_FullMethodName

// Stream is the host's end of a plugin's hook stream (the PluginStreams
// HookStream RPC), after its hello: the host sends calls and cancellations
// and receives answers.
type Stream interface {
	// Context ends when the stream does.
	Context() context.Context
	// Send sends a frame to the plugin.
	Send(*pluginpb.HookStreamResponse) error
	// Recv receives a frame from the plugin.
	Recv() (*pluginpb.HookStreamRequest, error)
}

// errStreamGone is the error of a call that found the stream closed
// before it was sent: it is made on the unary connection instead.
var errStreamGone = errors.New("hooks: the hook stream is closed")

// StreamConn is the connection of a hooks [Client] to a plugin that may
// open a hook stream: a grpc.ClientConnInterface that sends unary hook
// calls on the stream while one is open ([StreamConn.Serve]), and on the
// plugin's own connection otherwise. Streaming hooks (ServeHTTP,
// ServeMetrics, FileWillBeUploaded), requests over
// [StreamRequestThreshold] and Implemented always use the plugin's own
// connection. A call in flight when its stream ends fails with
// UNAVAILABLE, which the hooks fail open on, as on a crashed plugin; the
// next calls use the plugin's own connection until the plugin opens a new
// stream. A call's deadline and cancellation reach the plugin's handler in
// the call's frame and in a cancellation frame. It is safe for concurrent
// use.
type StreamConn struct {
	unary    grpc.ClientConnInterface
	announce func(id string)
	linger   time.Duration

	mu      sync.Mutex
	current *streamSession
}

var _ grpc.ClientConnInterface = (*StreamConn)(nil)

// NewStreamConn returns a StreamConn over unary, the plugin's own
// connection. When the plugin's Implemented answer announces a hook stream
// id, announce (if not nil) is called with it, so that the host can hand
// the stream that opens with that id to [StreamConn.Serve].
func NewStreamConn(unary grpc.ClientConnInterface, announce func(streamID string), opts ...StreamConnOption) *StreamConn {
	c := &StreamConn{unary: unary, announce: announce, linger: StreamLinger}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Open reports whether a hook stream is open.
func (c *StreamConn) Open() bool { return c.session() != nil }

func (c *StreamConn) session() *streamSession {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.current
}

// Invoke makes a unary hook call: on the open stream when there is one
// and the request is small enough, on the plugin's own connection
// otherwise.
func (c *StreamConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	if method == implementedMethod {
		if err := c.unary.Invoke(ctx, method, args, reply, opts...); err != nil {
			return err
		}
		if r, ok := reply.(*pluginpb.ImplementedResponse); ok && r.GetHookStreamId() != "" && c.announce != nil {
			c.announce(r.GetHookStreamId())
		}
		return nil
	}
	s := c.session()
	if s == nil {
		return c.unary.Invoke(ctx, method, args, reply, opts...)
	}
	req, ok := args.(proto.Message)
	if !ok {
		return status.Errorf(codes.Internal, "hooks: %T is not a proto message", args)
	}
	resp, ok := reply.(proto.Message)
	if !ok {
		return status.Errorf(codes.Internal, "hooks: %T is not a proto message", reply)
	}
	payload, err := proto.Marshal(req)
	if err != nil {
		return status.Errorf(codes.Internal, "hooks: encode the request of %s: %v", method, err)
	}
	if len(payload) > StreamRequestThreshold {
		return c.unary.Invoke(ctx, method, args, reply, opts...)
	}
	err = s.call(ctx, method, payload, resp)
	if errors.Is(err, errStreamGone) {
		return c.unary.Invoke(ctx, method, args, reply, opts...)
	}
	return err
}

// NewStream opens a streaming hook call on the plugin's own connection.
func (c *StreamConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return c.unary.NewStream(ctx, desc, method, opts...)
}

// Serve carries the hook calls over stream, whose hello the caller has
// read, until the stream ends; then the calls in flight on it fail with
// UNAVAILABLE and the next calls use the plugin's own connection. A
// stream that opens while another is open takes the new calls; the older
// one keeps those it carries. Serve returns nil when the plugin closed the
// stream or its context ended, and the receive error otherwise.
func (c *StreamConn) Serve(stream Stream) error {
	s := &streamSession{
		stream:   stream,
		linger:   c.linger,
		pending:  map[uint64]*pendingCall{},
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		progress: make(chan struct{}, 1),
	}
	c.mu.Lock()
	c.current = s
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		if c.current == s {
			c.current = nil
		}
		c.mu.Unlock()
	}()
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		s.write()
	}()
	err := s.read()
	s.close()
	<-writerDone
	if errors.Is(err, io.EOF) || stream.Context().Err() != nil {
		return nil
	}
	return err
}

// streamSession is one open hook stream.
type streamSession struct {
	stream Stream
	linger time.Duration
	nextID atomic.Uint64

	mu      sync.Mutex
	closed  bool
	pending map[uint64]*pendingCall
	calls   []*pluginpb.HookStreamResponse_Call
	cancels []uint64
	// wake tells the writer that calls or cancellations are queued.
	wake chan struct{}
	// done is closed when the session ends.
	done chan struct{}
	// sent numbers the frames of calls sent; lastSent is when the last
	// was; seen is the highest frame of which a call is answered, so the
	// plugin has read at least that many.
	sent, seen uint64
	lastSent   time.Time
	// progress tells a holding writer that seen moved.
	progress chan struct{}
}

// pendingCall is a call in flight: the pieces of its answer so far, and
// its outcome once answered.
type pendingCall struct {
	method string
	// frame is the number of the frame that carried the call.
	frame   uint64
	payload []byte
	err     error
	// failed marks an answer already refused (too large): its remaining
	// pieces are dropped.
	failed   bool
	answered chan struct{}
}

// call sends one call and waits for its answer, its deadline or the end
// of the stream. It returns errStreamGone when the stream closed before
// the call was queued.
func (s *streamSession) call(ctx context.Context, method string, payload []byte, reply proto.Message) error {
	if err := ctx.Err(); err != nil {
		return status.FromContextError(err).Err()
	}
	var timeout int64
	if deadline, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(deadline).Microseconds(), 1)
	}
	id := s.nextID.Add(1)
	p := &pendingCall{method: method, answered: make(chan struct{})}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errStreamGone
	}
	s.pending[id] = p
	s.calls = append(s.calls, &pluginpb.HookStreamResponse_Call{Id: id, Method: method, TimeoutMicros: timeout, Payload: payload})
	s.mu.Unlock()
	s.signal()
	select {
	case <-p.answered:
	case <-ctx.Done():
		s.cancel(id)
		select {
		case <-p.answered: // answered meanwhile
		default:
			return status.FromContextError(ctx.Err()).Err()
		}
	case <-s.done:
		select {
		case <-p.answered:
		default:
			return status.Errorf(codes.Unavailable, "hooks: the plugin's hook stream ended with the call to %s in flight", method)
		}
	}
	if p.err != nil {
		return p.err
	}
	if err := proto.Unmarshal(p.payload, reply); err != nil {
		return status.Errorf(codes.Internal, "hooks: the plugin's answer to %s does not parse: %v", method, err)
	}
	return nil
}

// signal wakes the writer.
func (s *streamSession) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// cancel forgets the call id and queues its cancellation.
func (s *streamSession) cancel(id uint64) {
	s.mu.Lock()
	if _, ok := s.pending[id]; !ok || s.closed {
		s.mu.Unlock()
		return
	}
	delete(s.pending, id)
	s.cancels = append(s.cancels, id)
	s.mu.Unlock()
	s.signal()
}

// write sends the queued calls and cancellations, as many as are ready
// in each frame up to MaxStreamFrame bytes of payload, until the session
// ends. A failed send ends the session.
func (s *streamSession) write() {
	for {
		select {
		case <-s.wake:
		case <-s.done:
			return
		}
		s.hold()
		for {
			frame := s.take()
			if frame == nil {
				break
			}
			if err := s.stream.Send(frame); err != nil {
				s.close()
				return
			}
		}
	}
}

// hold waits while StreamUnreadFrames frames of calls are unread, at most
// until the linger after the last one was sent, so that the calls which
// arrive meanwhile go in one frame.
func (s *streamSession) hold() {
	var timer *time.Timer
	for {
		s.mu.Lock()
		unread, wait := s.sent-s.seen, s.linger-time.Since(s.lastSent)
		s.mu.Unlock()
		if unread < StreamUnreadFrames || wait <= 0 {
			return
		}
		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		}
		select {
		case <-s.progress:
		case <-timer.C:
			return
		case <-s.done:
			return
		}
	}
}

// take returns the next frame of queued calls and cancellations, or nil.
func (s *streamSession) take() *pluginpb.HookStreamResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.calls) == 0 && len(s.cancels) == 0 {
		return nil
	}
	frame := &pluginpb.HookStreamResponse{Cancels: s.cancels}
	s.cancels = nil
	size, n := 0, 0
	for n < len(s.calls) && (n == 0 || size+len(s.calls[n].GetPayload()) <= MaxStreamFrame) {
		size += len(s.calls[n].GetPayload())
		n++
	}
	frame.Calls = s.calls[:n:n]
	if n > 0 {
		s.sent++
		s.lastSent = time.Now()
		for _, c := range frame.Calls {
			if p := s.pending[c.GetId()]; p != nil {
				p.frame = s.sent
			}
		}
	}
	s.calls = s.calls[n:]
	if len(s.calls) == 0 {
		s.calls = nil
	}
	return frame
}

// read receives answers until the stream ends, and returns its error.
func (s *streamSession) read() error {
	for {
		frame, err := s.stream.Recv()
		if err != nil {
			return err
		}
		if frame.GetHello() != nil {
			return status.Error(codes.InvalidArgument, "hooks: a hook stream's hello comes once, in its first frame")
		}
		for _, a := range frame.GetAnswers() {
			s.answer(a)
		}
	}
}

// answer takes one answer, or a piece of one. An answer to a call that is
// not in flight (cancelled, or timed out) is dropped. A failed answer
// wakes its caller at once; the rest of its pieces, if any, are dropped.
func (s *streamSession) answer(a *pluginpb.HookStreamRequest_Answer) {
	s.mu.Lock()
	p, ok := s.pending[a.GetId()]
	if !ok {
		s.mu.Unlock()
		return
	}
	if p.frame > s.seen {
		s.seen = p.frame
		select {
		case s.progress <- struct{}{}:
		default:
		}
	}
	last := !a.GetMore()
	if last {
		delete(s.pending, a.GetId())
	}
	wake := false
	switch {
	case p.failed:
	case a.GetStatus().GetCode() != int32(codes.OK):
		p.err, p.failed, wake = statusError(a.GetStatus()), true, true
	case len(p.payload)+len(a.GetPayload()) > MaxStreamAnswer:
		p.err = status.Errorf(codes.ResourceExhausted, "hooks: the plugin's answer to %s is larger than %d bytes", p.method, MaxStreamAnswer)
		p.failed, p.payload, wake = true, nil, true
	default:
		p.payload = append(p.payload, a.GetPayload()...)
		wake = last
	}
	s.mu.Unlock()
	if wake {
		close(p.answered)
	}
}

// close ends the session once: calls in flight fail (see call), and no
// call is queued after.
func (s *streamSession) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	close(s.done)
}

// statusError is the status error of a failed answer: the same as a
// failed PluginHooks call's, since ErrorStatus and google.rpc.Status share
// their wire form.
func statusError(es *pluginpb.ErrorStatus) error {
	data, err := proto.Marshal(es)
	if err != nil {
		return status.Errorf(codes.Internal, "hooks: encode the plugin's error status: %v", err)
	}
	var st spb.Status
	if err := proto.Unmarshal(data, &st); err != nil {
		return status.Errorf(codes.Internal, "hooks: decode the plugin's error status: %v", err)
	}
	return status.ErrorProto(&st)
}

// String describes the connection, for logs.
func (c *StreamConn) String() string {
	return fmt.Sprintf("hooks.StreamConn{open: %t}", c.Open())
}
