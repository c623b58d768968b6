package memory

// This file holds the handlers of the KV domain; kv_store.go holds its
// state.

import (
	"bytes"
	"context"
	"net/http"
	"unicode/utf8"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// keyMaxRunes is the longest KV key Mattermost accepts
// (model.KeyValueKeyMaxRunes).
const keyMaxRunes = 150

func validateKey(key string) error {
	if key == "" || utf8.RuneCountInString(key) > keyMaxRunes {
		return apperror.New("model.plugin_key_value.is_valid.key.app_error",
			"Invalid key: it must have 1 to 150 characters.", "key_length="+itoa(utf8.RuneCountInString(key)), http.StatusBadRequest)
	}
	return nil
}

// kvOf returns the KV store of a plugin. The caller holds the lock.
func (b *Backend) kvOf(pluginID string) kvStore {
	s, ok := b.kv[pluginID]
	if !ok {
		s = make(kvStore)
		b.kv[pluginID] = s
	}
	return s
}

// setWithOptions is the one write path of the KV store; every KV setter
// goes through it, as every setter of the Mattermost server goes through
// SetPluginKeyWithOptions.
//
// Its checks come in upstream's order (PlatformService.SetPluginKeyWithOptions,
// then SqlPluginStore.SetWithOptions): the options first, then the key. An
// atomic set of no value with no old value is upstream's CompareAndSet of a
// nil value, which is a CompareAndDelete of a nil old value: it answers
// false and changes nothing.
func (b *Backend) setWithOptions(pluginID, key string, value []byte, opts *pluginpb.PluginKVSetOptions) (bool, error) {
	atomic, oldValue := opts.GetAtomic(), opts.GetOldValue()
	if !atomic && oldValue != nil {
		return false, apperror.New("model.plugin_kvset_options.is_valid.old_value.app_error",
			"Only atomic set operations may have an old value.", "", http.StatusBadRequest)
	}
	if err := validateKey(key); err != nil {
		return false, err
	}
	if atomic && value == nil && oldValue == nil {
		return false, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	kv := b.kvOf(pluginID)
	now := b.nowMillis()
	if atomic {
		current, exists := kv.lookup(key, now)
		if oldValue == nil {
			if exists {
				return false, nil
			}
		} else if !exists || !bytes.Equal(current, oldValue) {
			return false, nil
		}
	}
	kv.store(key, value, opts.GetExpireInSeconds(), now)
	return true, nil
}

// KVSet stores a value, or deletes the key when the value is unset.
func (b *Backend) KVSet(ctx context.Context, req *pluginpb.KVSetRequest) (*pluginpb.KVSetResponse, error) {
	if _, err := b.setWithOptions(b.caller(ctx), req.GetKey(), req.GetValue(), nil); err != nil {
		return nil, err
	}
	return &pluginpb.KVSetResponse{}, nil
}

// KVSetWithExpiry stores a value that expires.
func (b *Backend) KVSetWithExpiry(ctx context.Context, req *pluginpb.KVSetWithExpiryRequest) (*pluginpb.KVSetWithExpiryResponse, error) {
	opts := &pluginpb.PluginKVSetOptions{ExpireInSeconds: req.GetExpireInSeconds()}
	if _, err := b.setWithOptions(b.caller(ctx), req.GetKey(), req.GetValue(), opts); err != nil {
		return nil, err
	}
	return &pluginpb.KVSetWithExpiryResponse{}, nil
}

// KVCompareAndSet sets a key if its value is the expected one.
func (b *Backend) KVCompareAndSet(ctx context.Context, req *pluginpb.KVCompareAndSetRequest) (*pluginpb.KVCompareAndSetResponse, error) {
	opts := &pluginpb.PluginKVSetOptions{Atomic: true, OldValue: req.GetOldValue()}
	ok, err := b.setWithOptions(b.caller(ctx), req.GetKey(), req.GetNewValue(), opts)
	if err != nil {
		return nil, err
	}
	return &pluginpb.KVCompareAndSetResponse{Success: ok}, nil
}

// KVSetWithOptions sets a key as the options say.
func (b *Backend) KVSetWithOptions(ctx context.Context, req *pluginpb.KVSetWithOptionsRequest) (*pluginpb.KVSetWithOptionsResponse, error) {
	ok, err := b.setWithOptions(b.caller(ctx), req.GetKey(), req.GetValue(), req.GetOptions())
	if err != nil {
		return nil, err
	}
	return &pluginpb.KVSetWithOptionsResponse{Success: ok}, nil
}

// KVCompareAndDelete deletes a key if its value is the expected one. An
// unset expected value never matches, as in Mattermost.
func (b *Backend) KVCompareAndDelete(ctx context.Context, req *pluginpb.KVCompareAndDeleteRequest) (*pluginpb.KVCompareAndDeleteResponse, error) {
	if err := validateKey(req.GetKey()); err != nil {
		return nil, err
	}
	if req.GetOldValue() == nil {
		return &pluginpb.KVCompareAndDeleteResponse{Success: false}, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	kv := b.kvOf(b.caller(ctx))
	current, exists := kv.lookup(req.GetKey(), b.nowMillis())
	if !exists || !bytes.Equal(current, req.GetOldValue()) {
		return &pluginpb.KVCompareAndDeleteResponse{Success: false}, nil
	}
	delete(kv, req.GetKey())
	return &pluginpb.KVCompareAndDeleteResponse{Success: true}, nil
}

// KVGet reads a key. Like upstream's store lookup it checks no key: a key
// that could not have been stored is simply not found.
func (b *Backend) KVGet(ctx context.Context, req *pluginpb.KVGetRequest) (*pluginpb.KVGetResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	value, ok := b.kvOf(b.caller(ctx)).lookup(req.GetKey(), b.nowMillis())
	if !ok {
		return &pluginpb.KVGetResponse{}, nil
	}
	return &pluginpb.KVGetResponse{Value: bytes.Clone(value)}, nil
}

// KVDelete deletes a key. Like upstream's PlatformService.DeletePluginKey,
// which deletes by key without validating it, it checks no key: deleting a
// key that could not have been stored succeeds and changes nothing.
func (b *Backend) KVDelete(ctx context.Context, req *pluginpb.KVDeleteRequest) (*pluginpb.KVDeleteResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.kvOf(b.caller(ctx)), req.GetKey())
	return &pluginpb.KVDeleteResponse{}, nil
}

// KVDeleteAll deletes every key of the calling plugin.
func (b *Backend) KVDeleteAll(ctx context.Context, _ *pluginpb.KVDeleteAllRequest) (*pluginpb.KVDeleteAllResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.kv, b.caller(ctx))
	return &pluginpb.KVDeleteAllResponse{}, nil
}

// KVList returns one page of live keys in ascending order.
func (b *Backend) KVList(ctx context.Context, req *pluginpb.KVListRequest) (*pluginpb.KVListResponse, error) {
	if err := validatePaging(req.GetPage(), req.GetPerPage()); err != nil {
		return nil, err
	}
	b.mu.Lock()
	keys := b.kvOf(b.caller(ctx)).liveKeys(b.nowMillis())
	b.mu.Unlock()
	return &pluginpb.KVListResponse{Keys: page(keys, req.GetPage(), req.GetPerPage())}, nil
}
