package hooks_test

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/hooks"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// pipeStream is a hooks.Stream in memory: the frames the host sends come
// out of sent, and the test answers through answers.
type pipeStream struct {
	ctx     context.Context
	sent    chan *pluginpb.HookStreamResponse
	answers chan *pluginpb.HookStreamRequest
}

func (p *pipeStream) Context() context.Context { return p.ctx }

func (p *pipeStream) Send(f *pluginpb.HookStreamResponse) error {
	select {
	case p.sent <- f:
		return nil
	case <-p.ctx.Done():
		return p.ctx.Err()
	}
}

func (p *pipeStream) Recv() (*pluginpb.HookStreamRequest, error) {
	select {
	case a := <-p.answers:
		return a, nil
	case <-p.ctx.Done():
		return nil, io.EOF
	}
}

// nextFrame returns the next frame the host sends, failing after 10 s.
func (p *pipeStream) nextFrame(t *testing.T) *pluginpb.HookStreamResponse {
	t.Helper()
	select {
	case f := <-p.sent:
		return f
	case <-time.After(10 * time.Second):
		t.Fatal("no frame within 10 s")
		return nil
	}
}

// answer answers the calls of frame f, each with an empty response.
func (p *pipeStream) answer(t *testing.T, f *pluginpb.HookStreamResponse) {
	t.Helper()
	payload, err := proto.Marshal(&pluginpb.MessageWillBePostedResponse{})
	if err != nil {
		t.Fatal(err)
	}
	req := &pluginpb.HookStreamRequest{}
	for _, c := range f.GetCalls() {
		req.Answers = append(req.Answers, &pluginpb.HookStreamRequest_Answer{Id: c.GetId(), Payload: payload})
	}
	p.answers <- req
}

// servePipe serves sc over a pipeStream until the test ends.
func servePipe(t *testing.T, sc *hooks.StreamConn) *pipeStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &pipeStream{ctx: ctx, sent: make(chan *pluginpb.HookStreamResponse, 64), answers: make(chan *pluginpb.HookStreamRequest)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = sc.Serve(p)
	}()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, sc.Open, "open stream")
	return p
}

// TestStreamConnHoldsCallsWhileAFrameIsUnread: while a frame of calls is
// unanswered, the calls that arrive wait for its first answer (or the
// linger) and then go in one frame; with nothing unread, a call goes at
// once, however long the linger.
func TestStreamConnHoldsCallsWhileAFrameIsUnread(t *testing.T) {
	const held = 10
	// An hour: nothing in this test may wait for it.
	sc := hooks.NewStreamConn(nil, nil, hooks.WithStreamLinger(time.Hour))
	p := servePipe(t, sc)
	client := pluginpb.NewPluginHooksClient(sc)
	post := &pluginpb.MessageWillBePostedRequest{Post: &pluginpb.Post{Message: "m"}}

	var wg sync.WaitGroup
	call := func() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := client.MessageWillBePosted(context.Background(), post); err != nil {
				t.Error(err)
			}
		}()
	}
	call()
	first := p.nextFrame(t)
	if n := len(first.GetCalls()); n != 1 {
		t.Fatalf("the first frame has %d calls, want 1", n)
	}
	for range held {
		call()
	}
	// Give the callers time to queue: none of their calls may go before
	// the first frame is answered.
	time.Sleep(200 * time.Millisecond)
	select {
	case f := <-p.sent:
		t.Fatalf("a frame of %d calls went while the first was unread", len(f.GetCalls()))
	default:
	}
	p.answer(t, first)
	batch := p.nextFrame(t)
	if n := len(batch.GetCalls()); n != held {
		t.Errorf("the held calls went in a frame of %d, want all %d in one", n, held)
	}
	p.answer(t, batch)
	for len(batch.GetCalls()) < held {
		f := p.nextFrame(t)
		batch.Calls = append(batch.Calls, f.GetCalls()...)
		p.answer(t, f)
	}
	wg.Wait()

	// Nothing is unread now: the next call goes at once.
	call()
	p.answer(t, p.nextFrame(t))
	wg.Wait()
}

// TestStreamConnLingerEnds: a frame that stays unread holds the next calls
// only for the linger.
func TestStreamConnLingerEnds(t *testing.T) {
	sc := hooks.NewStreamConn(nil, nil, hooks.WithStreamLinger(20*time.Millisecond))
	p := servePipe(t, sc)
	client := pluginpb.NewPluginHooksClient(sc)
	post := &pluginpb.MessageWillBePostedRequest{}
	errc := make(chan error, 2)
	var frames []*pluginpb.HookStreamResponse
	for range 2 {
		go func() {
			_, err := client.MessageWillBePosted(context.Background(), post)
			errc <- err
		}()
		// Each call goes in a frame of its own, the second once the linger
		// after the first, which is never answered until then, is over.
		frames = append(frames, p.nextFrame(t))
	}
	for _, f := range frames {
		if n := len(f.GetCalls()); n != 1 {
			t.Errorf("a frame of %d calls, want 1", n)
		}
		p.answer(t, f)
	}
	for range 2 {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
}
