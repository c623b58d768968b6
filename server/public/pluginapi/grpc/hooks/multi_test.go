package hooks_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/hooks"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// answer is what a fake plugin answers to a hook that can change or
// reject: "" passes the value on, "+x" appends x to it, "nil" answers
// nothing, and "reject:r" rejects with r.
type answer string

// multiPlugin is a plugin of a Multi whose hooks record their calls in a shared log
// and answer as answer says.
type multiPlugin struct {
	hooks.None
	id     string
	answer answer
	err    error
	log    *callLog
}

type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *callLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, s)
}

func (l *callLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls)
}

func (f *multiPlugin) answerPost(in *pluginpb.Post) (*pluginpb.Post, string) {
	f.log.add(f.id + ":" + in.GetMessage())
	switch a := string(f.answer); {
	case a == "nil":
		return nil, ""
	case strings.HasPrefix(a, "reject:"):
		return nil, strings.TrimPrefix(a, "reject:")
	case strings.HasPrefix(a, "+"):
		return &pluginpb.Post{Message: in.GetMessage() + a[1:]}, ""
	}
	return in, ""
}

func (f *multiPlugin) MessageWillBePosted(_ context.Context, _ *pluginpb.Context, post *pluginpb.Post) (*pluginpb.Post, string) {
	return f.answerPost(post)
}

func (f *multiPlugin) MessageWillBeUpdated(_ context.Context, _ *pluginpb.Context, newPost, _ *pluginpb.Post) (*pluginpb.Post, string) {
	return f.answerPost(newPost)
}

func (f *multiPlugin) ChannelWillBeArchived(_ context.Context, _ *pluginpb.Context, _ *pluginpb.Channel) string {
	f.log.add(f.id)
	if r, ok := strings.CutPrefix(string(f.answer), "reject:"); ok {
		return r
	}
	return ""
}

func (f *multiPlugin) MessageHasBeenPosted(ctx context.Context, hc *pluginpb.Context, post *pluginpb.Post) {
	f.log.add(fmt.Sprintf("%s:%s:%s:%v", f.id, post.GetMessage(), hc.GetRequestId(), ctx.Err()))
}

func (f *multiPlugin) ConfigurationWillBeSaved(_ context.Context, cfg *pluginpb.Config) (*pluginpb.Config, error) {
	f.log.add(f.id)
	if f.err != nil {
		return nil, f.err
	}
	if f.answer == "replace" {
		return &pluginpb.Config{}, nil
	}
	return nil, nil
}

// newMulti returns a Multi over plugins with the given ids and answers, in
// the order given, and their shared log.
func newMulti(plugins map[string]answer, order ...string) (*hooks.Multi, *callLog) {
	log := &callLog{}
	var ps []hooks.Plugin
	for _, id := range order {
		ps = append(ps, hooks.Plugin{ID: id, Hooks: &multiPlugin{id: id, answer: plugins[id], log: log}})
	}
	hc := func(context.Context) *pluginpb.Context { return &pluginpb.Context{RequestId: "req"} }
	return hooks.NewMulti(func() []hooks.Plugin { return ps }, hc), log
}

func TestKeep(t *testing.T) {
	post := &pluginpb.Post{Message: "in"}
	other := &pluginpb.Post{Message: "out"}
	for _, tt := range []struct {
		name          string
		input, answer *pluginpb.Post
		want          *pluginpb.Post
	}{
		{"nil keeps", post, nil, post},
		{"a value replaces", post, other, other},
		{"nil of nil", nil, nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := hooks.Keep(tt.input, tt.answer); got != tt.want {
				t.Errorf("Keep = %v; want %v", got, tt.want)
			}
		})
	}
	if got := hooks.Keep("in", ""); got != "in" {
		t.Errorf(`Keep("in", "") = %q; want "in"`, got)
	}
}

func TestMultiChains(t *testing.T) {
	for _, tt := range []struct {
		name    string
		plugins map[string]answer
		order   []string
		// whole runs MessageWillBeUpdated (ChainWhole) instead of
		// MessageWillBePosted (Chain).
		whole      bool
		wantCalls  []string
		wantPost   string // "" for a nil post
		wantReason string
	}{{
		name:      "plugin id order, each answer chained",
		plugins:   map[string]answer{"b": "+b", "a": "+a", "c": "+c"},
		order:     []string{"c", "a", "b"},
		wantCalls: []string{"a:m", "b:ma", "c:mab"},
		wantPost:  "mabc",
	}, {
		name:       "the first rejection stops",
		plugins:    map[string]answer{"a": "+a", "b": "reject:no", "c": "+c"},
		order:      []string{"a", "b", "c"},
		wantCalls:  []string{"a:m", "b:ma"},
		wantReason: "no",
	}, {
		name:      "a nil answer keeps the post and goes on",
		plugins:   map[string]answer{"a": "+a", "b": "nil", "c": "+c"},
		order:     []string{"a", "b", "c"},
		wantCalls: []string{"a:m", "b:ma", "c:ma"},
		wantPost:  "mac",
	}, {
		name:      "no plugins keep the post",
		wantPost:  "m",
		wantCalls: nil,
	}, {
		name:      "replace whole: a nil answer stops and rejects",
		plugins:   map[string]answer{"a": "+a", "b": "nil", "c": "+c"},
		order:     []string{"a", "b", "c"},
		whole:     true,
		wantCalls: []string{"a:m", "b:ma"},
	}, {
		name:      "replace whole: answers chained",
		plugins:   map[string]answer{"a": "+a", "b": "+b"},
		order:     []string{"b", "a"},
		whole:     true,
		wantCalls: []string{"a:m", "b:ma"},
		wantPost:  "mab",
	}, {
		name:       "replace whole: the first rejection stops",
		plugins:    map[string]answer{"a": "reject:no", "b": "+b"},
		order:      []string{"a", "b"},
		whole:      true,
		wantCalls:  []string{"a:m"},
		wantReason: "no",
	}} {
		t.Run(tt.name, func(t *testing.T) {
			m, log := newMulti(tt.plugins, tt.order...)
			in := &pluginpb.Post{Message: "m"}
			var got *pluginpb.Post
			var reason string
			if tt.whole {
				got, reason = m.MessageWillBeUpdated(context.Background(), in, &pluginpb.Post{})
			} else {
				got, reason = m.MessageWillBePosted(context.Background(), in)
			}
			if reason != tt.wantReason {
				t.Errorf("reason = %q; want %q", reason, tt.wantReason)
			}
			if tt.wantPost == "" && got != nil && tt.wantReason == "" {
				t.Errorf("post = %v; want nil", got)
			}
			if tt.wantPost != "" && got.GetMessage() != tt.wantPost {
				t.Errorf("post = %v; want message %q", got, tt.wantPost)
			}
			if calls := log.get(); !slices.Equal(calls, tt.wantCalls) {
				t.Errorf("calls = %q; want %q", calls, tt.wantCalls)
			}
		})
	}
}

func TestMultiFirstReason(t *testing.T) {
	for _, tt := range []struct {
		name       string
		plugins    map[string]answer
		order      []string
		wantCalls  []string
		wantReason string
	}{
		{"all allow", map[string]answer{"a": "", "b": ""}, []string{"b", "a"}, []string{"a", "b"}, ""},
		{"the first reason stops", map[string]answer{"a": "reject:x", "b": "reject:y"}, []string{"b", "a"}, []string{"a"}, "x"},
		{"a later reason", map[string]answer{"a": "", "b": "reject:y", "c": ""}, []string{"c", "b", "a"}, []string{"a", "b"}, "y"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, log := newMulti(tt.plugins, tt.order...)
			if reason := m.ChannelWillBeArchived(context.Background(), &pluginpb.Channel{}); reason != tt.wantReason {
				t.Errorf("reason = %q; want %q", reason, tt.wantReason)
			}
			if calls := log.get(); !slices.Equal(calls, tt.wantCalls) {
				t.Errorf("calls = %q; want %q", calls, tt.wantCalls)
			}
		})
	}
}

func TestMultiLaterRunsAfterTheRequest(t *testing.T) {
	m, log := newMulti(map[string]answer{"a": "", "b": ""}, "b", "a")
	ctx, cancel := context.WithCancel(context.Background())
	m.MessageHasBeenPosted(ctx, &pluginpb.Post{Message: "m"})
	cancel() // the request ends; the hooks run regardless, uncanceled
	m.Wait()
	want := []string{"a:m:req:<nil>", "b:m:req:<nil>"}
	if calls := log.get(); !slices.Equal(calls, want) {
		t.Errorf("calls = %q; want %q", calls, want)
	}
}

func TestMultiConfigurationWillBeSaved(t *testing.T) {
	fail := errors.New("bad config")
	for _, tt := range []struct {
		name         string
		answers      []answer // by plugin a, b, c
		errAt        int      // index of the plugin that fails, or -1
		wantReplaced bool
		wantCalls    []string
		wantErr      error
	}{
		{"nobody replaces", []answer{"", ""}, -1, false, []string{"a", "b"}, nil},
		{"one replaces", []answer{"", "replace", ""}, -1, true, []string{"a", "b", "c"}, nil},
		{"the first error stops", []answer{"replace", "", ""}, 1, false, []string{"a", "b"}, fail},
	} {
		t.Run(tt.name, func(t *testing.T) {
			log := &callLog{}
			var ps []hooks.Plugin
			for i, a := range tt.answers {
				id := string(rune('a' + i))
				f := &multiPlugin{id: id, answer: a, log: log}
				if i == tt.errAt {
					f.err = fail
				}
				ps = append(ps, hooks.Plugin{ID: id, Hooks: f})
			}
			m := hooks.NewMulti(func() []hooks.Plugin { return ps }, nil)
			got, err := m.ConfigurationWillBeSaved(context.Background(), &pluginpb.Config{})
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v; want %v", err, tt.wantErr)
			}
			if (got != nil) != tt.wantReplaced {
				t.Errorf("replaced = %v; want %v", got != nil, tt.wantReplaced)
			}
			if calls := log.get(); !slices.Equal(calls, tt.wantCalls) {
				t.Errorf("calls = %q; want %q", calls, tt.wantCalls)
			}
		})
	}
}
