package server

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// sentFrames is a call stream's server side that keeps the ids of the
// answers of each frame sent; its other methods are not used.
type sentFrames struct {
	pluginpb.PluginStreams_CallStreamServer

	mu     sync.Mutex
	frames [][]uint64
}

func (s *sentFrames) Send(frame *pluginpb.CallStreamResponse) error {
	ids := make([]uint64, 0, len(frame.GetAnswers()))
	for _, a := range frame.GetAnswers() {
		ids = append(ids, a.GetId())
	}
	s.mu.Lock()
	s.frames = append(s.frames, ids)
	s.mu.Unlock()
	return nil
}

func (s *sentFrames) sent() [][]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.frames)
}

// TestCallStreamWriterGroupsAnswers drives a call stream's writer in a
// bubble: answers wait for the rest of their frame's calls, at most
// answerLinger, and then go in one frame with every answer ready.
func TestCallStreamWriterGroupsAnswers(t *testing.T) {
	type step struct {
		group  int           // the answer of a call of this group (1-based)...
		cancel bool          // ...or its end without an answer (the client cancelled it)
		sleep  time.Duration // or this much time passing
	}
	tests := []struct {
		name   string
		groups []int // the calls of each group
		steps  []step
		want   [][]uint64
	}{
		{
			name:   "a frame of one call is answered at once",
			groups: []int{1},
			steps:  []step{{group: 1}},
			want:   [][]uint64{{1}},
		},
		{
			name:   "a frame's answers wait for its last call",
			groups: []int{3},
			steps:  []step{{group: 1}, {group: 1}, {sleep: answerLinger / 2}, {group: 1}},
			want:   [][]uint64{{1, 2, 3}},
		},
		{
			name:   "a slow call holds the others answerLinger at most",
			groups: []int{3},
			steps:  []step{{group: 1}, {group: 1}, {sleep: answerLinger}, {sleep: time.Hour}, {group: 1}},
			want:   [][]uint64{{1, 2}, {3}},
		},
		{
			name:   "another frame's last call sends the answers ready",
			groups: []int{2, 1},
			steps:  []step{{group: 1}, {group: 2}, {group: 1}},
			want:   [][]uint64{{1, 2}, {3}},
		},
		{
			name:   "a cancelled call ends its frame without an answer",
			groups: []int{2},
			steps:  []step{{group: 1}, {cancel: true, group: 1}},
			want:   [][]uint64{{1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				cs := &callStream{
					ctx:      ctx,
					inFlight: map[uint64]*streamCall{},
					ready:    make(chan struct{}, 1),
					settles:  make(chan struct{}, 1),
					idle:     make(chan struct{}, 1),
					maxFrame: DefaultMaxMessageSize,
				}
				groups := make([]*callGroup, len(tt.groups))
				for i, n := range tt.groups {
					groups[i] = &callGroup{left: n}
				}
				stream := &sentFrames{}
				done := make(chan error, 1)
				go func() { done <- cs.write(stream) }()
				id := uint64(0)
				for _, s := range tt.steps {
					if s.sleep > 0 {
						time.Sleep(s.sleep)
						synctest.Wait()
						continue
					}
					id++
					cs.answer(groups[s.group-1], id, &pluginpb.KVGetResponse{}, nil, !s.cancel)
					synctest.Wait()
				}
				cs.closeWriter()
				if err := <-done; err != nil {
					t.Fatalf("write() = %v", err)
				}
				if got := stream.sent(); !slices.EqualFunc(got, tt.want, slices.Equal) {
					t.Errorf("frames sent: %v; want %v", got, tt.want)
				}
			})
		})
	}
}
