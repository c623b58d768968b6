package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// PluginStreams.CallStream carries a client's unary Plugin API calls on one
// stream (see streams.proto). Each call takes the unary path of its method:
// the PluginAPI service's generated method handler, the server's own unary
// interceptor chain (recovery, then AppError mapping), the decoding of
// decode.go, a request id, the stream's plugin identity (the token was
// checked once, when the stream's headers arrived), a deadline of its own
// and the call tracker. So a call fails on the stream with the status and
// details it would have had as a unary call.

// Bounds of one call stream.
const (
	// maxAnswerFrameBytes is the size past which the writer sends the
	// answers it has gathered rather than add another to the frame: large
	// enough that the answers ready at one moment usually share a write,
	// small enough that one frame does not hold the others back for long.
	maxAnswerFrameBytes = 256 << 10
	// answerOverhead bounds the bytes a frame adds around one answer's
	// payload (the answer's tag, id and length prefixes).
	answerOverhead = 32
	// answerLinger is how long, at most, the writer holds the answers
	// ready while the calls of their frames still run (see write): long
	// enough for a frame of fast calls to end, short enough that a slow
	// call holds its frame's other answers back only that long.
	answerLinger = time.Millisecond
)

// callStreamMethod is the full method name of the call stream, which the
// call tracker does not count as a call (its calls count one by one).
const callStreamMethod = pluginpb.PluginStreams_CallStream_FullMethodName

// errStopping refuses the calls that a stream receives once the server is
// stopping, as the GOAWAY of a graceful stop refuses new unary calls.
var errStopping = status.Error(codes.Unavailable, "server: the server is stopping")

// callDispatcher runs the calls of every call stream of a [Server].
type callDispatcher struct {
	impl        pluginpb.PluginAPIServer
	methods     map[string]streamMethod
	interceptor grpc.UnaryServerInterceptor
	tracker     *callTracker
	maxMessage  int
	maxInFlight int
	workers     *workerPool
	// draining is closed when a graceful stop begins to wait for the calls
	// in flight.
	draining  chan struct{}
	drainOnce sync.Once
}

func newCallDispatcher(impl pluginpb.PluginAPIServer, interceptors []grpc.UnaryServerInterceptor, tracker *callTracker, o options) *callDispatcher {
	methods := make(map[string]streamMethod, len(pluginpb.PluginAPI_ServiceDesc.Methods))
	for _, m := range pluginpb.PluginAPI_ServiceDesc.Methods {
		full := "/" + pluginpb.PluginAPI_ServiceDesc.ServiceName + "/" + m.MethodName
		methods[full] = streamMethod{name: m.MethodName, handler: m.Handler}
	}
	return &callDispatcher{
		impl:        impl,
		methods:     methods,
		interceptor: chainUnary(interceptors),
		tracker:     tracker,
		maxMessage:  o.maxMessageSize,
		maxInFlight: int(o.maxConcurrentStreams),
		workers:     newWorkerPool(maxCallWorkers, callWorkerIdle, callWorkerReset),
		draining:    make(chan struct{}),
	}
}

// streamMethod is a unary PluginAPI method as a call stream runs it.
type streamMethod struct {
	name    string // as decode.go names it, "KVGet"
	handler grpc.MethodHandler
}

// drain makes every call stream refuse new calls and end once its calls
// in flight have been answered.
func (d *callDispatcher) drain() { d.drainOnce.Do(func() { close(d.draining) }) }

// chainUnary returns the interceptor that runs interceptors in order, the
// first outermost, as grpc.ChainUnaryInterceptor chains them for the
// server's unary calls.
func chainUnary(interceptors []grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		next := handler
		for i := len(interceptors) - 1; i >= 0; i-- {
			inner, icpt := next, interceptors[i]
			next = func(ctx context.Context, req any) (any, error) {
				return icpt(ctx, req, info, inner)
			}
		}
		return next(ctx, req)
	}
}

// serve runs one call stream until the client ends it, it breaks, or a
// graceful stop has drained it.
func (d *callDispatcher) serve(stream pluginpb.PluginStreams_CallStreamServer) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	cs := &callStream{
		d:        d,
		ctx:      ctx,
		inFlight: make(map[uint64]*streamCall),
		ready:    make(chan struct{}, 1),
		settles:  make(chan struct{}, 1),
		idle:     make(chan struct{}, 1),
		maxFrame: d.maxMessage,
	}
	writeErr := make(chan error, 1)
	go func() { writeErr <- cs.write(stream) }()
	readErr := make(chan error, 1)
	go func() { readErr <- cs.read(stream) }()

	var err error
	writerDone := false
	select {
	case err = <-readErr:
		if err == nil {
			// The client closed its side: answer what it has asked.
			cs.waitIdle(ctx)
		}
	case err = <-writeErr:
		writerDone = true
	case <-d.draining:
		// Answer the calls in flight, refuse new ones, then end the
		// stream, so that the graceful stop does not wait on it.
		cs.stop()
		cs.waitIdle(ctx)
	}
	cs.stop()
	cs.closeWriter()
	if !writerDone {
		if werr := <-writeErr; err == nil {
			err = werr
		}
	}
	// Returning ends the stream; the reader's Recv and the handlers of any
	// calls left see its context cancelled.
	return err
}

// streamCall is a call in flight on a stream.
type streamCall struct {
	cancel    context.CancelFunc
	cancelled bool // by the client: no answer goes out
	group     *callGroup
}

// callGroup is the calls of one frame that the client sent. The writer
// sends their answers together once the last has ended, or answerLinger
// after the first, whichever comes first.
type callGroup struct {
	left int // calls not yet ended; guarded by callStream.mu
}

// callStream is the state of one call stream.
type callStream struct {
	d        *callDispatcher
	ctx      context.Context
	maxFrame int

	mu       sync.Mutex
	inFlight map[uint64]*streamCall
	stopping bool
	answers  []*pluginpb.CallStreamResponse_Answer
	closed   bool
	// settled counts the groups whose last call ended since the writer
	// last took the answers.
	settled int

	ready   chan struct{} // a token when answers are waiting or the writer must stop
	settles chan struct{} // a token when a group's last call has ended
	idle    chan struct{} // a token when the last call in flight has ended
}

// read receives frames until the client closes its side (nil) or the
// stream fails.
func (cs *callStream) read(stream pluginpb.PluginStreams_CallStreamServer) error {
	first := true
	for {
		frame, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if first {
			first = false
			if n := int(frame.GetMaxReceiveBytes()); n > 0 && n < cs.maxFrame {
				cs.mu.Lock()
				cs.maxFrame = n
				cs.mu.Unlock()
			}
		}
		cs.mu.Lock()
		for _, id := range frame.GetCancels() {
			if c, ok := cs.inFlight[id]; ok && !c.cancelled {
				c.cancelled = true
				c.cancel()
			}
		}
		cs.mu.Unlock()
		calls := frame.GetCalls()
		if len(calls) == 0 {
			continue
		}
		g := &callGroup{left: len(calls)}
		for _, call := range calls {
			if err := cs.start(call, g); err != nil {
				return err
			}
		}
	}
}

// start starts one call, or answers it at once when it cannot run.
func (cs *callStream) start(call *pluginpb.CallStreamRequest_Call, g *callGroup) error {
	id, method := call.GetId(), call.GetMethod()
	m, known := cs.d.methods[method]
	cs.mu.Lock()
	if _, dup := cs.inFlight[id]; dup {
		cs.mu.Unlock()
		return status.Errorf(codes.InvalidArgument, "server: call id %d is already in flight on the stream", id)
	}
	var refusal error
	switch {
	case cs.stopping:
		refusal = errStopping
	case !known:
		refusal = unknownMethod(method)
	case len(cs.inFlight) >= cs.d.maxInFlight:
		refusal = status.Errorf(codes.ResourceExhausted, "server: more than %d calls in flight on one stream", cs.d.maxInFlight)
	}
	if refusal != nil {
		cs.mu.Unlock()
		cs.answer(g, id, nil, refusal, true)
		return nil
	}
	var ctx context.Context
	var cancel context.CancelFunc
	if t := call.GetTimeoutMicros(); t > 0 {
		ctx, cancel = context.WithTimeout(cs.ctx, time.Duration(t)*time.Microsecond)
	} else {
		ctx, cancel = context.WithCancel(cs.ctx)
	}
	sc := &streamCall{cancel: cancel, group: g}
	cs.inFlight[id] = sc
	cs.mu.Unlock()
	cs.d.tracker.add(1)
	ctx, payload := withRequestID(ctx), call.GetPayload()
	cs.d.workers.run(func() { cs.run(ctx, sc, id, m, payload) })
	return nil
}

// run runs one call through the unary path of its method and queues its
// answer.
func (cs *callStream) run(ctx context.Context, sc *streamCall, id uint64, m streamMethod, payload []byte) {
	defer cs.d.tracker.add(-1)
	dec := func(req any) error { return unmarshalRequest(m.name, payload, req) }
	resp, err := m.handler(cs.d.impl, ctx, dec, cs.d.interceptor)
	sc.cancel()
	cs.mu.Lock()
	cancelled := sc.cancelled
	delete(cs.inFlight, id)
	last := len(cs.inFlight) == 0
	cs.mu.Unlock()
	if last {
		select {
		case cs.idle <- struct{}{}:
		default:
		}
	}
	cs.answer(sc.group, id, resp, err, !cancelled)
}

// unknownMethod is the UNIMPLEMENTED status that grpc-go's server gives
// a unary call of method, which the PluginAPI service does not have.
func unknownMethod(method string) error {
	service, name, ok := strings.Cut(strings.TrimPrefix(method, "/"), "/")
	switch {
	case !strings.HasPrefix(method, "/") || !ok:
		return status.Errorf(codes.Unimplemented, "malformed method name: %q", method)
	case service != pluginpb.PluginAPI_ServiceDesc.ServiceName:
		return status.Errorf(codes.Unimplemented, "unknown service %v", service)
	default:
		return status.Errorf(codes.Unimplemented, "unknown method %v for service %v", name, service)
	}
}

// answer ends call id of group g, and queues its answer for the writer
// if send (not when the client cancelled the call).
func (cs *callStream) answer(g *callGroup, id uint64, resp any, err error, send bool) {
	if !send {
		cs.mu.Lock()
		settled := cs.settle(g)
		cs.mu.Unlock()
		cs.wakeWriter(settled)
		return
	}
	a := &pluginpb.CallStreamResponse_Answer{Id: id}
	if err == nil {
		payload, merr := marshalAnswer(resp)
		if merr != nil {
			err = merr
		} else {
			a.Payload = payload
		}
	}
	cs.mu.Lock()
	if err == nil && len(a.Payload)+answerOverhead > cs.maxFrame {
		err = status.Errorf(codes.ResourceExhausted, "grpc: trying to send message larger than max (%d vs. %d)", len(a.Payload)+answerOverhead, cs.maxFrame)
		a.Payload = nil
	}
	if err != nil {
		a.Status = errorStatus(err)
	}
	settled := cs.settle(g)
	if !cs.closed {
		cs.answers = append(cs.answers, a)
	}
	cs.mu.Unlock()
	cs.wakeWriter(settled)
}

// settle counts one call of g as ended; whether it was g's last. The
// caller holds cs.mu.
func (cs *callStream) settle(g *callGroup) bool {
	g.left--
	if g.left > 0 {
		return false
	}
	cs.settled++
	return true
}

// wakeWriter tells the writer that answers are waiting, and that a group
// has settled if settled.
func (cs *callStream) wakeWriter(settled bool) {
	if settled {
		select {
		case cs.settles <- struct{}{}:
		default:
		}
	}
	select {
	case cs.ready <- struct{}{}:
	default:
	}
}

// marshalAnswer serializes a handler's response.
func marshalAnswer(resp any) ([]byte, error) {
	m, ok := resp.(proto.Message)
	if !ok {
		return nil, status.Errorf(codes.Internal, "server: %T is not a proto message", resp)
	}
	b, err := proto.Marshal(m)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "server: marshal the answer: %v", err)
	}
	return b, nil
}

// errorStatus returns err as the status a unary call would have ended with:
// a status error as it is, a context error as its code (as grpc-go's
// server turns them), anything else UNKNOWN.
func errorStatus(err error) *pluginpb.ErrorStatus {
	st, ok := status.FromError(err)
	if !ok {
		st = status.FromContextError(err)
	}
	p := st.Proto()
	out := &pluginpb.ErrorStatus{Code: p.GetCode(), Message: p.GetMessage()}
	for _, d := range p.GetDetails() {
		out.Details = append(out.Details, &pluginpb.ErrorDetail{TypeUrl: d.GetTypeUrl(), Value: d.GetValue()})
	}
	return out
}

// write sends the queued answers, those ready at the same time in as few
// frames as fit, until the stream is done.
//
// The calls of one frame from the client end at nearly the same time, and
// the client's callers resume together when their answers come in one
// frame: each frame costs the client a read through grpcio's poller,
// about as much as a call's own work. So once an answer is waiting, the
// writer holds it until some frame's calls have all ended (a frame of one
// call at once), at most answerLinger, and then sends every answer ready.
func (cs *callStream) write(stream pluginpb.PluginStreams_CallStreamServer) error {
	linger := time.NewTimer(answerLinger)
	linger.Stop()
	defer linger.Stop()
	for {
		<-cs.ready
		cs.mu.Lock()
		hold := cs.settled == 0 && !cs.closed && len(cs.answers) > 0
		cs.mu.Unlock()
		if hold {
			linger.Reset(answerLinger)
			select {
			case <-cs.settles:
			case <-linger.C:
			case <-cs.ctx.Done():
			}
			linger.Stop()
		}
		cs.mu.Lock()
		answers, closed := cs.answers, cs.closed
		cs.answers, cs.settled = nil, 0
		cs.mu.Unlock()
		select { // a settle that this take has covered
		case <-cs.settles:
		default:
		}
		for len(answers) > 0 {
			frame := &pluginpb.CallStreamResponse{}
			size := 0
			for len(answers) > 0 {
				n := len(answers[0].GetPayload()) + answerOverhead
				if len(frame.Answers) > 0 && size+n > maxAnswerFrameBytes {
					break
				}
				frame.Answers = append(frame.Answers, answers[0])
				size += n
				answers = answers[1:]
			}
			if err := stream.Send(frame); err != nil {
				return fmt.Errorf("server: send answers: %w", err)
			}
		}
		if closed {
			return nil
		}
	}
}

// stop refuses the calls that arrive from now on.
func (cs *callStream) stop() {
	cs.mu.Lock()
	cs.stopping = true
	cs.mu.Unlock()
}

// closeWriter makes the writer send what is queued and return.
func (cs *callStream) closeWriter() {
	cs.mu.Lock()
	cs.closed = true
	cs.mu.Unlock()
	select {
	case cs.ready <- struct{}{}:
	default:
	}
}

// waitIdle returns once no call is in flight, or when ctx ends.
func (cs *callStream) waitIdle(ctx context.Context) {
	for {
		cs.mu.Lock()
		n := len(cs.inFlight)
		cs.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-cs.idle:
		case <-ctx.Done():
			return
		}
	}
}

// callStreamDesc is the CallStream RPC of PluginStreams, served by d. Any
// token that the server accepts opens a stream, as any opens a unary call;
// the stream's plugin identity, if its token names one, is each call's.
func callStreamDesc(d *callDispatcher) grpc.StreamDesc {
	return grpc.StreamDesc{
		StreamName:    "CallStream",
		ServerStreams: true,
		ClientStreams: true,
		Handler: func(_ any, ss grpc.ServerStream) error {
			// The headers tell the client that the server took the stream;
			// a server without CallStream ends it with UNIMPLEMENTED.
			if err := ss.SendHeader(nil); err != nil {
				return err
			}
			return d.serve(&grpc.GenericServerStream[pluginpb.CallStreamRequest, pluginpb.CallStreamResponse]{
				ServerStream: decodingStream{ServerStream: ss, method: "CallStream"},
			})
		},
	}
}
