// Package storetest is the conformance suite of the interfaces of package
// store: every implementation runs it, so that the in-memory and the
// PostgreSQL stores keep one behaviour, Mattermost's.
package storetest

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/store"
)

// Clock is a settable clock for expiry tests. It starts at a fixed time;
// it is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock at 2024-01-02 03:04:05 UTC.
func NewClock() *Clock {
	return &Clock{now: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// NewKV returns an empty KV store for a test, whose clock is now.
type NewKV func(t *testing.T, now func() time.Time) store.KV

// op is what a step of a KV case does.
type op int

const (
	opSet op = iota
	opGet
	opCompareAndDelete
	opDelete
	opDeleteAll
	opList
	opAdvance
)

// step is one call of a KV case and what it must answer.
type step struct {
	op      op
	plugin  string // "p" when empty
	key     string
	value   []byte
	old     []byte
	opts    store.SetOptions
	page    int
	perPage int
	advance time.Duration
	// want is the answer: a bool for Set and CompareAndDelete, the value
	// ([]byte, nil for none) for Get, the keys for ListKeys.
	want any
}

func set(key string, value []byte, opts store.SetOptions, want bool) step {
	return step{op: opSet, key: key, value: value, opts: opts, want: want}
}

func get(key string, want []byte) step { return step{op: opGet, key: key, want: want} }

func list(page, perPage int, want ...string) step {
	if want == nil {
		want = []string{}
	}
	return step{op: opList, page: page, perPage: perPage, want: want}
}

func advance(d time.Duration) step { return step{op: opAdvance, advance: d} }

func of(plugin string, s step) step {
	s.plugin = plugin
	return s
}

var (
	v1, v2 = []byte("one"), []byte("two")
	plain  = store.SetOptions{}
	atomic = store.SetOptions{Atomic: true}
)

func cas(old []byte) store.SetOptions { return store.SetOptions{Atomic: true, OldValue: old} }

func ttl(seconds int64) store.SetOptions { return store.SetOptions{ExpireInSeconds: seconds} }

// kvCases is the one table of KV behaviour that every store follows.
var kvCases = []struct {
	name  string
	steps []step
}{
	{"get of a missing key is nil", []step{get("k", nil)}},
	{"set then get", []step{set("k", v1, plain, true), get("k", v1)}},
	{"set replaces", []step{set("k", v1, plain, true), set("k", v2, plain, true), get("k", v2)}},
	{"set of nil deletes", []step{set("k", v1, plain, true), set("k", nil, plain, true), get("k", nil), list(0, 10)}},
	{"set of nil on a missing key answers true", []step{set("k", nil, plain, true), get("k", nil)}},
	{"an empty value is a value", []step{set("k", []byte{}, plain, true), get("k", []byte{}), list(0, 10, "k")}},
	{"binary values round-trip", []step{set("k", []byte{0, 0xff, '\\', 'x', 0}, plain, true), get("k", []byte{0, 0xff, '\\', 'x', 0})}},
	{"unicode and long keys", []step{
		set("ключ/🔑", v1, plain, true), set(strings.Repeat("é", 150), v2, plain, true),
		get("ключ/🔑", v1), get(strings.Repeat("é", 150), v2),
	}},
	{"atomic set without old value inserts a missing key", []step{set("k", v1, atomic, true), get("k", v1)}},
	{"atomic set without old value refuses a present key", []step{set("k", v1, plain, true), set("k", v2, atomic, false), get("k", v1)}},
	{"atomic set without old value takes an expired key", []step{
		set("k", v1, ttl(1), true), advance(time.Second), set("k", v2, atomic, true), get("k", v2), advance(time.Hour), get("k", v2),
	}},
	{"atomic set of nil without old value changes nothing", []step{set("k", v1, plain, true), set("k", nil, atomic, false), get("k", v1)}},
	{"atomic set of nil without old value on a missing key", []step{set("k", nil, atomic, false), get("k", nil)}},
	{"compare and set matches", []step{set("k", v1, plain, true), set("k", v2, cas(v1), true), get("k", v2)}},
	{"compare and set mismatches", []step{set("k", v1, plain, true), set("k", v2, cas(v2), false), get("k", v1)}},
	{"compare and set of a missing key fails", []step{set("k", v2, cas(v1), false), get("k", nil)}},
	{"compare and set of an expired key fails", []step{set("k", v1, ttl(1), true), advance(time.Second), set("k", v2, cas(v1), false), get("k", nil)}},
	{"compare and set to nil deletes", []step{set("k", v1, plain, true), set("k", nil, cas(v1), true), get("k", nil)}},
	{"compare and set to nil mismatches", []step{set("k", v1, plain, true), set("k", nil, cas(v2), false), get("k", v1)}},
	{"compare and set with an empty old value", []step{set("k", []byte{}, plain, true), set("k", v1, cas([]byte{}), true), get("k", v1)}},
	{"compare and set keeps the new expiry", []step{
		set("k", v1, plain, true), set("k", v2, store.SetOptions{Atomic: true, OldValue: v1, ExpireInSeconds: 5}, true),
		advance(4999 * time.Millisecond), get("k", v2), advance(time.Millisecond), get("k", nil),
	}},
	{"expiry: live before, gone at ExpireAt", []step{
		set("k", v1, ttl(10), true), advance(9999 * time.Millisecond), get("k", v1), list(0, 10, "k"),
		advance(time.Millisecond), get("k", nil), list(0, 10),
	}},
	{"a lifetime of 0 or less never expires", []step{
		set("a", v1, ttl(0), true), set("b", v1, ttl(-5), true), advance(1000 * time.Hour), get("a", v1), get("b", v1),
	}},
	{"a huge lifetime is clamped, not overflowed", []step{set("k", v1, ttl(1<<62), true), advance(1000 * time.Hour), get("k", v1)}},
	{"a plain set clears an expiry", []step{set("k", v1, ttl(1), true), set("k", v2, plain, true), advance(time.Hour), get("k", v2)}},
	{"a plain set over an expired key", []step{set("k", v1, ttl(1), true), advance(2 * time.Second), set("k", v2, plain, true), get("k", v2)}},
	{"compare and delete matches", []step{set("k", v1, plain, true), {op: opCompareAndDelete, key: "k", old: v1, want: true}, get("k", nil)}},
	{"compare and delete mismatches", []step{set("k", v1, plain, true), {op: opCompareAndDelete, key: "k", old: v2, want: false}, get("k", v1)}},
	{"compare and delete of nil never matches", []step{set("k", v1, plain, true), {op: opCompareAndDelete, key: "k", old: nil, want: false}, get("k", v1)}},
	{"compare and delete of a missing key", []step{{op: opCompareAndDelete, key: "k", old: v1, want: false}}},
	{"compare and delete of an expired key", []step{
		set("k", v1, ttl(1), true), advance(time.Second), {op: opCompareAndDelete, key: "k", old: v1, want: false},
	}},
	{"delete", []step{set("k", v1, plain, true), {op: opDelete, key: "k"}, get("k", nil)}},
	{"delete of a missing key", []step{{op: opDelete, key: "k"}, get("k", nil)}},
	{"plugins are apart", []step{
		of("a", set("k", v1, plain, true)), of("b", set("k", v2, plain, true)),
		of("a", get("k", v1)), of("b", get("k", v2)), of("c", get("k", nil)),
		of("a", step{op: opDelete, key: "k"}), of("b", get("k", v2)),
	}},
	{"delete all deletes one plugin's keys", []step{
		of("a", set("x", v1, plain, true)), of("a", set("y", v1, plain, true)), of("b", set("x", v2, plain, true)),
		of("a", step{op: opDeleteAll}), of("a", list(0, 10)), of("a", get("x", nil)), of("b", list(0, 10, "x")),
	}},
	{"delete all of a plugin without keys", []step{of("a", step{op: opDeleteAll}), of("a", list(0, 10))}},
	{"list pages in ascending byte order", []step{
		set("b", v1, plain, true), set("a", v1, plain, true), set("B", v1, plain, true), set("c", v1, plain, true), set("ä", v1, plain, true),
		list(0, 2, "B", "a"), list(1, 2, "b", "c"), list(2, 2, "ä"), list(3, 2), list(0, 100, "B", "a", "b", "c", "ä"),
	}},
	{"list of an empty page size is empty", []step{set("a", v1, plain, true), list(0, 0), list(5, 0)}},
	{"list of a huge page is empty", []step{set("a", v1, plain, true), list(1<<30, 1<<30)}},
	{"list skips expired keys", []step{
		set("a", v1, ttl(1), true), set("b", v1, plain, true), set("c", v1, ttl(5), true),
		list(0, 10, "a", "b", "c"), advance(time.Second), list(0, 10, "b", "c"), list(0, 1, "b"), list(1, 1, "c"),
	}},
}

// TestKV runs the table of KV cases, each on a new store from newKV.
func TestKV(t *testing.T, newKV NewKV) {
	for _, tc := range kvCases {
		t.Run(tc.name, func(t *testing.T) {
			clock := NewClock()
			kv := newKV(t, clock.Now)
			ctx := context.Background()
			for i, s := range tc.steps {
				plugin := s.plugin
				if plugin == "" {
					plugin = "p"
				}
				var got any
				var err error
				switch s.op {
				case opSet:
					got, err = kv.Set(ctx, plugin, s.key, s.value, s.opts)
				case opGet:
					got, err = kv.Get(ctx, plugin, s.key)
				case opCompareAndDelete:
					got, err = kv.CompareAndDelete(ctx, plugin, s.key, s.old)
				case opDelete:
					err = kv.Delete(ctx, plugin, s.key)
				case opDeleteAll:
					err = kv.DeleteAll(ctx, plugin)
				case opList:
					got, err = kv.ListKeys(ctx, plugin, s.page, s.perPage)
				case opAdvance:
					clock.Advance(s.advance)
				}
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if !sameAnswer(got, s.want) {
					t.Fatalf("step %d (%+v): got %#v, want %#v", i, s, got, s.want)
				}
			}
		})
	}
	t.Run("values are copied in and out", func(t *testing.T) {
		kv := newKV(t, NewClock().Now)
		ctx := context.Background()
		in := []byte("abc")
		if _, err := kv.Set(ctx, "p", "k", in, plain); err != nil {
			t.Fatal(err)
		}
		in[0] = 'X'
		out, err := kv.Get(ctx, "p", "k")
		if err != nil || string(out) != "abc" {
			t.Fatalf("after changing the set slice: %q, %v", out, err)
		}
		out[0] = 'Y'
		if again, _ := kv.Get(ctx, "p", "k"); string(again) != "abc" {
			t.Fatalf("after changing the got slice: %q", again)
		}
	})
}

// sameAnswer compares an answer with the wanted one; a nil []byte and an
// empty one differ (absent versus empty value).
func sameAnswer(got, want any) bool {
	switch w := want.(type) {
	case []byte:
		g, ok := got.([]byte)
		return ok && (w == nil) == (g == nil) && bytes.Equal(g, w)
	case nil:
		if g, ok := got.([]byte); ok {
			return g == nil
		}
		return got == nil
	}
	return reflect.DeepEqual(got, want)
}

// CASIncrements has workers goroutines per store add 1, n times each, to
// one counter through compare-and-set retries on the stores (nodes
// sharing a database, or one store), and checks the counter ends exact.
func CASIncrements(t *testing.T, kvs []store.KV, workers, n int) {
	t.Helper()
	ctx := context.Background()
	const key = "counter"
	encode := func(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
	var wg sync.WaitGroup
	errs := make(chan error, len(kvs)*workers)
	for _, kv := range kvs {
		for range workers {
			wg.Go(func() {
				for range n {
					if err := increment(ctx, kv, key, encode); err != nil {
						errs <- err
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := kvs[0].Get(ctx, "p", key)
	if err != nil {
		t.Fatal(err)
	}
	if want := uint64(len(kvs) * workers * n); len(got) != 8 || binary.BigEndian.Uint64(got) != want {
		t.Fatalf("counter = %x, want %d", got, want)
	}
}

func increment(ctx context.Context, kv store.KV, key string, encode func(uint64) []byte) error {
	for attempt := 0; attempt < 100000; attempt++ {
		old, err := kv.Get(ctx, "p", key)
		if err != nil {
			return err
		}
		var next uint64 = 1
		if old != nil {
			next = binary.BigEndian.Uint64(old) + 1
		}
		ok, err := kv.Set(ctx, "p", key, encode(next), store.SetOptions{Atomic: true, OldValue: old})
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
	return fmt.Errorf("increment of %s: no success in 100000 attempts", key)
}

// NewSettings returns an empty plugin settings store for a test.
type NewSettings func(t *testing.T) store.PluginSettings

// TestPluginSettings runs the table of plugin settings cases, each on a
// new store from newSettings.
func TestPluginSettings(t *testing.T, newSettings NewSettings) {
	ctx := context.Background()
	tests := []struct {
		name  string
		saves map[string][]map[string]any // by plugin, in order
		want  map[string]map[string]any   // AllPluginSettings, and each GetPluginSettings
	}{
		{name: "none", want: map[string]map[string]any{}},
		{
			name:  "one plugin",
			saves: map[string][]map[string]any{"a": {{"Key": "v", "N": float64(3), "On": true}}},
			want:  map[string]map[string]any{"a": {"Key": "v", "N": float64(3), "On": true}},
		},
		{
			name:  "a save replaces, whole",
			saves: map[string][]map[string]any{"a": {{"x": "1", "y": "2"}, {"y": "3"}}},
			want:  map[string]map[string]any{"a": {"y": "3"}},
		},
		{
			name:  "nil saves an empty object",
			saves: map[string][]map[string]any{"a": {{"x": "1"}, nil}},
			want:  map[string]map[string]any{"a": {}},
		},
		{
			name: "nested values and several plugins",
			saves: map[string][]map[string]any{
				"a": {{"list": []any{"x", float64(1), nil}, "obj": map[string]any{"deep": map[string]any{"k": "ü"}}}},
				"b": {{}},
			},
			want: map[string]map[string]any{
				"a": {"list": []any{"x", float64(1), nil}, "obj": map[string]any{"deep": map[string]any{"k": "ü"}}},
				"b": {},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSettings(t)
			for plugin, saves := range tt.saves {
				for _, v := range saves {
					if err := s.SavePluginSettings(ctx, plugin, v); err != nil {
						t.Fatal(err)
					}
				}
			}
			all, err := s.AllPluginSettings(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(all, tt.want) {
				t.Fatalf("AllPluginSettings = %#v, want %#v", all, tt.want)
			}
			for plugin, want := range tt.want {
				got, ok, err := s.GetPluginSettings(ctx, plugin)
				if err != nil || !ok || !reflect.DeepEqual(got, want) {
					t.Fatalf("GetPluginSettings(%s) = %#v, %v, %v; want %#v", plugin, got, ok, err, want)
				}
				got["changed"] = true
				if again, _, _ := s.GetPluginSettings(ctx, plugin); !reflect.DeepEqual(again, want) {
					t.Fatalf("changing the answer changed the store: %#v", again)
				}
			}
			if got, ok, err := s.GetPluginSettings(ctx, "missing"); err != nil || ok || got != nil {
				t.Fatalf("GetPluginSettings(missing) = %#v, %v, %v", got, ok, err)
			}
		})
	}
}
