package store_test

import (
	"testing"
	"time"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/store"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/store/storetest"
)

func TestMemoryKV(t *testing.T) {
	storetest.TestKV(t, func(_ *testing.T, now func() time.Time) store.KV { return store.NewMemoryKV(now) })
}

func TestMemoryKVConcurrentCAS(t *testing.T) {
	storetest.CASIncrements(t, []store.KV{store.NewMemoryKV(nil)}, 8, 200)
}

func TestMemorySettings(t *testing.T) {
	storetest.TestPluginSettings(t, func(*testing.T) store.PluginSettings { return &store.MemorySettings{} })
}

func TestMemoryKVEntries(t *testing.T) {
	clock := storetest.NewClock()
	kv := store.NewMemoryKV(clock.Now)
	in := []store.Entry{
		{PluginID: "a", Key: "x", Value: []byte("1")},
		{PluginID: "a", Key: "y", Value: []byte("2"), ExpireAt: clock.Now().UnixMilli() + 1000},
		{PluginID: "b", Key: "x", Value: []byte("3"), ExpireAt: clock.Now().UnixMilli()},
	}
	kv.Replace(in)
	got := kv.Entries()
	if len(got) != 2 || got[0].Key != "x" || got[1].Key != "y" || got[1].ExpireAt != in[1].ExpireAt {
		t.Fatalf("Entries() = %+v; want the two live entries of a", got)
	}
}

func TestUnavailable(t *testing.T) {
	err := store.Unavailable("KVGet", errTest("connection refused"))
	if !store.IsUnavailable(err) || err.StatusCode != 503 || err.ID != store.UnavailableID {
		t.Fatalf("Unavailable = %+v", err)
	}
	if store.IsUnavailable(errTest("x")) {
		t.Fatal("a plain error is unavailable")
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }
