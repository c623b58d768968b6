package memory

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mattermost/mattermost-plugin-grpc/server/internal/pgtest"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/store"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/store/postgres"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newTestBackend(t *testing.T) (*Backend, *fakeClock) {
	t.Helper()
	clock := &fakeClock{now: time.UnixMilli(1_700_000_000_000)}
	return New(Clock(clock.Now)), clock
}

// backendMaker returns a new Backend and the clock of its KV store.
type backendMaker func(t *testing.T) (*Backend, *fakeClock)

// kvTests is the one table of the KV handlers' tests, which run on the
// in-memory store (TestKV) and on PostgreSQL (TestKVOnPostgres).
var kvTests = []struct {
	name string
	run  func(t *testing.T, newTestBackend backendMaker)
}{
	{"SetGetDelete", testKVSetGetDelete},
	{"StoredValueIsCopied", testKVStoredValueIsCopied},
	{"InvalidKeys", testKVInvalidKeys},
	{"Expiry", testKVExpiry},
	{"CompareAndSet", testKVCompareAndSet},
	{"CompareAndDelete", testKVCompareAndDelete},
	{"SetWithOptions", testKVSetWithOptions},
	{"ListPaging", testKVListPaging},
	{"CompareAndSetConcurrent", testKVCompareAndSetConcurrent},
	{"HugeExpiryDoesNotOverflow", testKVHugeExpiryDoesNotOverflow},
	{"FollowsTheAppLayer", testKVFollowsTheAppLayer},
}

func TestKV(t *testing.T) {
	for _, tt := range kvTests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newTestBackend) })
	}
}

// TestKVOnPostgres runs the KV tests on the PostgreSQL store, a database
// of their own each, on one server.
func TestKVOnPostgres(t *testing.T) {
	srv := pgtest.Start(t)
	for _, tt := range kvTests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, func(t *testing.T) (*Backend, *fakeClock) {
				t.Helper()
				clock := &fakeClock{now: time.UnixMilli(1_700_000_000_000)}
				kv, err := postgres.Open(context.Background(), srv.NewDatabase(t), postgres.WithClock(clock.Now))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(kv.Close)
				return New(Clock(clock.Now), WithKV(kv)), clock
			})
		})
	}
}

// wantAppError fails unless err is an AppError with the given HTTP status.
func wantAppError(t *testing.T, call string, err error, httpStatus int) {
	t.Helper()
	appErr, ok := err.(*apperror.Error)
	if !ok || appErr.StatusCode != httpStatus {
		t.Fatalf("%s = %v; want an AppError with status %d", call, err, httpStatus)
	}
}

func get(t *testing.T, b *Backend, key string) []byte {
	t.Helper()
	resp, err := b.KVGet(context.Background(), &pluginpb.KVGetRequest{Key: key})
	if err != nil {
		t.Fatalf("KVGet(%q) = %v", key, err)
	}
	return resp.Value
}

func set(t *testing.T, b *Backend, key string, value []byte) {
	t.Helper()
	if _, err := b.KVSet(context.Background(), &pluginpb.KVSetRequest{Key: key, Value: value}); err != nil {
		t.Fatalf("KVSet(%q) = %v", key, err)
	}
}

func testKVSetGetDelete(t *testing.T, newTestBackend backendMaker) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	if v := get(t, b, "k"); v != nil {
		t.Fatalf("KVGet(missing) = %q; want nil", v)
	}
	set(t, b, "k", []byte("v1"))
	if v := get(t, b, "k"); string(v) != "v1" {
		t.Fatalf("KVGet(k) = %q; want v1", v)
	}
	set(t, b, "empty", []byte{})
	if v := get(t, b, "empty"); v == nil || len(v) != 0 {
		t.Fatalf("KVGet(empty) = %#v; want an empty, present value", v)
	}
	set(t, b, "k", nil) // an unset value deletes
	if v := get(t, b, "k"); v != nil {
		t.Fatalf("KVGet(k) after KVSet(nil) = %q; want nil", v)
	}
	set(t, b, "k", []byte("v2"))
	if _, err := b.KVDelete(ctx, &pluginpb.KVDeleteRequest{Key: "k"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.KVDelete(ctx, &pluginpb.KVDeleteRequest{Key: "k"}); err != nil {
		t.Fatalf("KVDelete(missing) = %v; want nil", err)
	}
	if v := get(t, b, "k"); v != nil {
		t.Fatalf("KVGet(k) after KVDelete = %q; want nil", v)
	}
}

func testKVStoredValueIsCopied(t *testing.T, newTestBackend backendMaker) {
	b, _ := newTestBackend(t)
	v := []byte("abc")
	set(t, b, "k", v)
	v[0] = 'X'
	got := get(t, b, "k")
	got[1] = 'Y'
	if again := get(t, b, "k"); string(again) != "abc" {
		t.Errorf("KVGet(k) = %q; want abc untouched by callers", again)
	}
}

// TestKVInvalidKeys checks the writes that validate the key: those that
// reach model.PluginKeyValue.IsValid in upstream's store (KVGet and KVDelete
// do not: TestKVFollowsTheAppLayer).
func testKVInvalidKeys(t *testing.T, newTestBackend backendMaker) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	long := strings.Repeat("é", keyMaxRunes+1)
	for _, key := range []string{"", long} {
		_, err := b.KVSet(ctx, &pluginpb.KVSetRequest{Key: key, Value: []byte("v")})
		wantAppError(t, "KVSet", err, http.StatusBadRequest)
		_, err = b.KVCompareAndSet(ctx, &pluginpb.KVCompareAndSetRequest{Key: key})
		wantAppError(t, "KVCompareAndSet", err, http.StatusBadRequest)
		_, err = b.KVCompareAndDelete(ctx, &pluginpb.KVCompareAndDeleteRequest{Key: key, OldValue: []byte("v")})
		wantAppError(t, "KVCompareAndDelete", err, http.StatusBadRequest)
	}
	// 150 runes of several bytes each are fine.
	set(t, b, strings.Repeat("é", keyMaxRunes), []byte("v"))
	list, _ := b.KVList(ctx, &pluginpb.KVListRequest{PerPage: 10})
	if len(list.GetKeys()) != 1 {
		t.Errorf("KVList() = %q; want only the valid key stored", list.GetKeys())
	}
}

func testKVExpiry(t *testing.T, newTestBackend backendMaker) {
	b, clock := newTestBackend(t)
	ctx := context.Background()
	if _, err := b.KVSetWithExpiry(ctx, &pluginpb.KVSetWithExpiryRequest{Key: "tmp", Value: []byte("v"), ExpireInSeconds: 10}); err != nil {
		t.Fatal(err)
	}
	for _, neverExpires := range []int64{0, -5} {
		key := fmt.Sprintf("keep%d", neverExpires)
		if _, err := b.KVSetWithExpiry(ctx, &pluginpb.KVSetWithExpiryRequest{Key: key, Value: []byte("v"), ExpireInSeconds: neverExpires}); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(9999 * time.Millisecond)
	if v := get(t, b, "tmp"); string(v) != "v" {
		t.Fatalf("KVGet(tmp) before expiry = %q; want v", v)
	}
	clock.Advance(time.Millisecond)
	if v := get(t, b, "tmp"); v != nil {
		t.Fatalf("KVGet(tmp) at expiry = %q; want nil", v)
	}
	clock.Advance(1000 * time.Hour)
	list, err := b.KVList(ctx, &pluginpb.KVListRequest{PerPage: 10})
	if err != nil || fmt.Sprint(list.GetKeys()) != "[keep-5 keep0]" {
		t.Fatalf("KVList() = %q, %v; want [keep-5 keep0]", list.GetKeys(), err)
	}
	// An expired key counts as missing for an atomic set.
	if _, err := b.KVSetWithExpiry(ctx, &pluginpb.KVSetWithExpiryRequest{Key: "tmp", Value: []byte("v"), ExpireInSeconds: 1}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Second)
	resp, err := b.KVCompareAndSet(ctx, &pluginpb.KVCompareAndSetRequest{Key: "tmp", NewValue: []byte("fresh")})
	if err != nil || !resp.GetSuccess() {
		t.Fatalf("KVCompareAndSet(expired, old=nil) = %v, %v; want success", resp.GetSuccess(), err)
	}
}

func testKVCompareAndSet(t *testing.T, newTestBackend backendMaker) {
	tests := []struct {
		name     string
		initial  []byte // nil: key absent
		old, new []byte
		want     bool
		after    []byte
	}{
		{"create when absent", nil, nil, []byte("a"), true, []byte("a")},
		{"create when present", []byte("x"), nil, []byte("a"), false, []byte("x")},
		{"swap on match", []byte("x"), []byte("x"), []byte("a"), true, []byte("a")},
		{"no swap on mismatch", []byte("x"), []byte("y"), []byte("a"), false, []byte("x")},
		{"no swap when absent", nil, []byte("x"), []byte("a"), false, nil},
		{"delete on match", []byte("x"), []byte("x"), nil, true, nil},
		{"empty value matches empty", []byte{}, []byte{}, []byte("a"), true, []byte("a")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := newTestBackend(t)
			if tt.initial != nil {
				set(t, b, "k", tt.initial)
			}
			resp, err := b.KVCompareAndSet(context.Background(), &pluginpb.KVCompareAndSetRequest{Key: "k", OldValue: tt.old, NewValue: tt.new})
			if err != nil || resp.GetSuccess() != tt.want {
				t.Fatalf("KVCompareAndSet(%q, %q) = %v, %v; want %v", tt.old, tt.new, resp.GetSuccess(), err, tt.want)
			}
			if got := get(t, b, "k"); !bytes.Equal(got, tt.after) || (got == nil) != (tt.after == nil) {
				t.Errorf("value after = %q; want %q", got, tt.after)
			}
		})
	}
}

func testKVCompareAndDelete(t *testing.T, newTestBackend backendMaker) {
	tests := []struct {
		name    string
		initial []byte
		old     []byte
		want    bool
	}{
		{"match", []byte("x"), []byte("x"), true},
		{"mismatch", []byte("x"), []byte("y"), false},
		{"absent", nil, []byte("x"), false},
		{"nil old value never matches", []byte("x"), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := newTestBackend(t)
			if tt.initial != nil {
				set(t, b, "k", tt.initial)
			}
			resp, err := b.KVCompareAndDelete(context.Background(), &pluginpb.KVCompareAndDeleteRequest{Key: "k", OldValue: tt.old})
			if err != nil || resp.GetSuccess() != tt.want {
				t.Fatalf("KVCompareAndDelete(%q) = %v, %v; want %v", tt.old, resp.GetSuccess(), err, tt.want)
			}
			if deleted := get(t, b, "k") == nil; tt.initial != nil && deleted != tt.want {
				t.Errorf("deleted = %v; want %v", deleted, tt.want)
			}
		})
	}
}

func testKVSetWithOptions(t *testing.T, newTestBackend backendMaker) {
	b, clock := newTestBackend(t)
	ctx := context.Background()
	call := func(value []byte, o *pluginpb.PluginKVSetOptions) (bool, error) {
		resp, err := b.KVSetWithOptions(ctx, &pluginpb.KVSetWithOptionsRequest{Key: "k", Value: value, Options: o})
		return resp.GetSuccess(), err
	}
	_, err := call([]byte("v"), &pluginpb.PluginKVSetOptions{OldValue: []byte("x")})
	wantAppError(t, "KVSetWithOptions(old value without atomic)", err, http.StatusBadRequest)
	if v := get(t, b, "k"); v != nil {
		t.Fatalf("rejected set stored %q", v)
	}
	if ok, err := call([]byte("v1"), nil); !ok || err != nil {
		t.Fatalf("plain set = %v, %v; want true", ok, err)
	}
	if ok, err := call([]byte("v2"), &pluginpb.PluginKVSetOptions{Atomic: true, OldValue: []byte("nope")}); ok || err != nil {
		t.Fatalf("atomic set on mismatch = %v, %v; want false", ok, err)
	}
	if ok, err := call([]byte("v2"), &pluginpb.PluginKVSetOptions{Atomic: true, OldValue: []byte("v1"), ExpireInSeconds: 5}); !ok || err != nil {
		t.Fatalf("atomic set with expiry = %v, %v; want true", ok, err)
	}
	clock.Advance(5 * time.Second)
	if v := get(t, b, "k"); v != nil {
		t.Fatalf("KVGet after expiry = %q; want nil", v)
	}
}

func testKVListPaging(t *testing.T, newTestBackend backendMaker) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	for i := range 7 {
		set(t, b, fmt.Sprintf("key%02d", 6-i), []byte("v"))
	}
	tests := []struct {
		page, perPage int32
		want          string
	}{
		{0, 3, "[key00 key01 key02]"},
		{1, 3, "[key03 key04 key05]"},
		{2, 3, "[key06]"},
		{3, 3, "[]"},
		{0, 0, "[]"},
		{0, 100, "[key00 key01 key02 key03 key04 key05 key06]"},
		{1 << 30, 1 << 30, "[]"},
	}
	for _, tt := range tests {
		resp, err := b.KVList(ctx, &pluginpb.KVListRequest{Page: tt.page, PerPage: tt.perPage})
		if err != nil || fmt.Sprint(resp.GetKeys()) != tt.want {
			t.Errorf("KVList(%d, %d) = %v, %v; want %s", tt.page, tt.perPage, resp.GetKeys(), err, tt.want)
		}
	}
	for _, bad := range [][2]int32{{-1, 10}, {0, -1}} {
		_, err := b.KVList(ctx, &pluginpb.KVListRequest{Page: bad[0], PerPage: bad[1]})
		wantAppError(t, fmt.Sprintf("KVList(%d, %d)", bad[0], bad[1]), err, http.StatusBadRequest)
	}
	if _, err := b.KVDeleteAll(ctx, &pluginpb.KVDeleteAllRequest{}); err != nil {
		t.Fatal(err)
	}
	if resp, _ := b.KVList(ctx, &pluginpb.KVListRequest{PerPage: 100}); len(resp.GetKeys()) != 0 {
		t.Errorf("KVList() after KVDeleteAll = %v; want none", resp.GetKeys())
	}
}

// TestKVCompareAndSetConcurrent has many goroutines increment one counter
// with compare-and-set; no increment may be lost.
func testKVCompareAndSetConcurrent(t *testing.T, newTestBackend backendMaker) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	const workers, increments = 32, 50
	set(t, b, "counter", []byte("0"))
	var conflicts atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < increments; {
				got, err := b.KVGet(ctx, &pluginpb.KVGetRequest{Key: "counter"})
				if err != nil {
					t.Errorf("KVGet() = %v", err)
					return
				}
				old := got.GetValue()
				var n int
				fmt.Sscan(string(old), &n)
				resp, err := b.KVCompareAndSet(ctx, &pluginpb.KVCompareAndSetRequest{
					Key: "counter", OldValue: old, NewValue: []byte(fmt.Sprint(n + 1)),
				})
				if err != nil {
					t.Errorf("KVCompareAndSet() = %v", err)
					return
				}
				if resp.GetSuccess() {
					done++
				} else {
					conflicts.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if got, want := string(get(t, b, "counter")), fmt.Sprint(workers*increments); got != want {
		t.Errorf("counter = %s; want %s", got, want)
	}
	t.Logf("%d compare-and-set conflicts were retried", conflicts.Load())

	// Exactly one of many concurrent "create if absent" calls wins.
	var winners atomic.Int64
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := b.KVSetWithOptions(ctx, &pluginpb.KVSetWithOptionsRequest{
				Key: "lock", Value: []byte(fmt.Sprint(i)), Options: &pluginpb.PluginKVSetOptions{Atomic: true},
			})
			if err != nil {
				t.Errorf("KVSetWithOptions() = %v", err)
			}
			if resp.GetSuccess() {
				winners.Add(1)
			}
		}()
	}
	wg.Wait()
	if winners.Load() != 1 {
		t.Errorf("create-if-absent winners = %d; want 1", winners.Load())
	}
}

func testKVHugeExpiryDoesNotOverflow(t *testing.T, newTestBackend backendMaker) {
	b, clock := newTestBackend(t)
	ctx := context.Background()
	for _, seconds := range []int64{math.MaxInt64, math.MaxInt64 / 1000, math.MaxInt64/1000 - clock.Now().UnixMilli()/1000} {
		key := fmt.Sprint("k", seconds)
		if _, err := b.KVSetWithExpiry(ctx, &pluginpb.KVSetWithExpiryRequest{Key: key, Value: []byte("v"), ExpireInSeconds: seconds}); err != nil {
			t.Fatal(err)
		}
		opts := &pluginpb.PluginKVSetOptions{ExpireInSeconds: seconds}
		if _, err := b.KVSetWithOptions(ctx, &pluginpb.KVSetWithOptionsRequest{Key: key + "o", Value: []byte("v"), Options: opts}); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(100 * 365 * 24 * time.Hour)
	list, err := b.KVList(ctx, &pluginpb.KVListRequest{PerPage: 10})
	if err != nil || len(list.GetKeys()) != 6 {
		t.Fatalf("KVList() a century later = %q, %v; want all 6 keys", list.GetKeys(), err)
	}
}

func TestExpiryTime(t *testing.T) {
	tests := []struct {
		now, seconds, want int64
	}{
		{1000, 0, 0},
		{1000, -1, 0},
		{1000, 5, 6000},
		{1000, math.MaxInt64, math.MaxInt64},
		{math.MaxInt64 - 999, 1, math.MaxInt64},
	}
	for _, tt := range tests {
		if got := store.ExpireAt(tt.now, tt.seconds); got != tt.want {
			t.Errorf("store.ExpireAt(%d, %d) = %d; want %d", tt.now, tt.seconds, got, tt.want)
		}
	}
}

// TestKVFollowsTheAppLayer checks the KV rules of upstream's plugin path:
//   - KVGet and KVDelete check no key: PlatformService.DeletePluginKey
//     deletes by key and the store's Get looks it up, neither validating it
//     (server/channels/app/platform/cluster.go@b1683404:PlatformService.DeletePluginKey,
//     server/channels/store/sqlstore/plugin_store.go@86b60aad:SqlPluginStore.Get,
//     SqlPluginStore.Delete); they refused with model.plugin_key_value.is_valid.key.app_error;
//   - an old value without atomic is refused before the key is checked, as
//     PlatformService.SetPluginKeyWithOptions checks options.IsValid before
//     the store checks the key (cluster.go@b1683404; plugin_store.go@86b60aad:SqlPluginStore.SetWithOptions);
//   - an atomic set of no value with no old value answers false and leaves
//     the key alone: SqlPluginStore.CompareAndSet of a nil value is a
//     CompareAndDelete, which answers false for a nil old value
//     (plugin_store.go@86b60aad:SqlPluginStore.CompareAndSet, SqlPluginStore.CompareAndDelete);
//     it answered true.
func testKVFollowsTheAppLayer(t *testing.T, newTestBackend backendMaker) {
	long := strings.Repeat("é", keyMaxRunes+1)
	t.Run("KVGet and KVDelete check no key", func(t *testing.T) {
		b, _ := newTestBackend(t)
		ctx := context.Background()
		for _, key := range []string{"", long} {
			resp, err := b.KVGet(ctx, &pluginpb.KVGetRequest{Key: key})
			if err != nil || resp.Value != nil {
				t.Errorf("KVGet(%d runes) = %v, %v; want no value and no error", len([]rune(key)), resp.GetValue(), err)
			}
			if _, err := b.KVDelete(ctx, &pluginpb.KVDeleteRequest{Key: key}); err != nil {
				t.Errorf("KVDelete(%d runes) = %v; want nil", len([]rune(key)), err)
			}
		}
	})
	t.Run("options are checked before the key", func(t *testing.T) {
		b, _ := newTestBackend(t)
		_, err := b.KVSetWithOptions(context.Background(), &pluginpb.KVSetWithOptionsRequest{
			Key: "", Value: []byte("v"), Options: &pluginpb.PluginKVSetOptions{OldValue: []byte("x")},
		})
		appErr, ok := err.(*apperror.Error)
		if !ok || appErr.ID != "model.plugin_kvset_options.is_valid.old_value.app_error" {
			t.Fatalf("KVSetWithOptions(empty key, old value without atomic) = %v; want model.plugin_kvset_options.is_valid.old_value.app_error", err)
		}
	})
	t.Run("an atomic set of nothing over nothing is false", func(t *testing.T) {
		b, _ := newTestBackend(t)
		ctx := context.Background()
		cas, err := b.KVCompareAndSet(ctx, &pluginpb.KVCompareAndSetRequest{Key: "absent"})
		if err != nil || cas.GetSuccess() {
			t.Errorf("KVCompareAndSet(absent, nil, nil) = %v, %v; want false", cas.GetSuccess(), err)
		}
		opts, err := b.KVSetWithOptions(ctx, &pluginpb.KVSetWithOptionsRequest{Key: "absent", Options: &pluginpb.PluginKVSetOptions{Atomic: true}})
		if err != nil || opts.GetSuccess() {
			t.Errorf("KVSetWithOptions(absent, nil, atomic, no old value) = %v, %v; want false", opts.GetSuccess(), err)
		}
		set(t, b, "k", []byte("v"))
		if cas, err := b.KVCompareAndSet(ctx, &pluginpb.KVCompareAndSetRequest{Key: "k"}); err != nil || cas.GetSuccess() {
			t.Errorf("KVCompareAndSet(k, nil, nil) = %v, %v; want false", cas.GetSuccess(), err)
		}
		if v := get(t, b, "k"); !bytes.Equal(v, []byte("v")) {
			t.Errorf("KVGet(k) = %q; want v untouched", v)
		}
	})
}
