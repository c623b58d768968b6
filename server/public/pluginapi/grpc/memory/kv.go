package memory

// This file holds the handlers of the KV domain; kv_store.go holds its
// state.

import (
	"context"
	"errors"
	"net/http"
	"unicode/utf8"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/store"
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

// kvError is the error of a KV handler whose store failed: an AppError
// as it is (the store's 503 when it cannot be reached), any other error as
// the 500 AppError id that upstream's app layer gives the operation
// (PlatformService.SetPluginKeyWithOptions, KVGet, KVDelete and KVList of
// mattermost/mattermost's platform package, whose ids the app layer's
// plugin_key_value_store.go keeps).
func kvError(err error, where, id string) error {
	var appErr *apperror.Error
	if errors.As(err, &appErr) {
		return appErr
	}
	e := apperror.New(id, "An error occurred in the plugin key-value store.",
		apperror.Truncate(err.Error(), apperror.MaxMessageBytes), http.StatusInternalServerError)
	e.Where = where
	return e
}

// Upstream's AppError ids of a failed store call.
const (
	kvSaveErrorID   = "app.plugin_store.save.app_error"
	kvGetErrorID    = "app.plugin_store.get.app_error"
	kvDeleteErrorID = "app.plugin_store.delete.app_error"
	kvListErrorID   = "app.plugin_store.list.app_error"
)

// setWithOptions is the one write path of the KV store; every KV setter
// goes through it, as every setter of the Mattermost server goes through
// SetPluginKeyWithOptions.
//
// Its checks come in upstream's order (PlatformService.SetPluginKeyWithOptions,
// then SqlPluginStore.SetWithOptions): the options first, then the key. An
// atomic set of no value with no old value is upstream's CompareAndSet of a
// nil value, which is a CompareAndDelete of a nil old value: it answers
// false and changes nothing.
func (b *Backend) setWithOptions(ctx context.Context, pluginID, key string, value []byte, opts *pluginpb.PluginKVSetOptions) (bool, error) {
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
	ok, err := b.kv.Set(ctx, pluginID, key, value,
		store.SetOptions{Atomic: atomic, OldValue: oldValue, ExpireInSeconds: opts.GetExpireInSeconds()})
	if err != nil {
		return false, kvError(err, "SetPluginKeyWithOptions", kvSaveErrorID)
	}
	return ok, nil
}

// KVSet stores a value, or deletes the key when the value is unset.
func (b *Backend) KVSet(ctx context.Context, req *pluginpb.KVSetRequest) (*pluginpb.KVSetResponse, error) {
	if _, err := b.setWithOptions(ctx, b.caller(ctx), req.GetKey(), req.GetValue(), nil); err != nil {
		return nil, err
	}
	return &pluginpb.KVSetResponse{}, nil
}

// KVSetWithExpiry stores a value that expires.
func (b *Backend) KVSetWithExpiry(ctx context.Context, req *pluginpb.KVSetWithExpiryRequest) (*pluginpb.KVSetWithExpiryResponse, error) {
	opts := &pluginpb.PluginKVSetOptions{ExpireInSeconds: req.GetExpireInSeconds()}
	if _, err := b.setWithOptions(ctx, b.caller(ctx), req.GetKey(), req.GetValue(), opts); err != nil {
		return nil, err
	}
	return &pluginpb.KVSetWithExpiryResponse{}, nil
}

// KVCompareAndSet sets a key if its value is the expected one.
func (b *Backend) KVCompareAndSet(ctx context.Context, req *pluginpb.KVCompareAndSetRequest) (*pluginpb.KVCompareAndSetResponse, error) {
	opts := &pluginpb.PluginKVSetOptions{Atomic: true, OldValue: req.GetOldValue()}
	ok, err := b.setWithOptions(ctx, b.caller(ctx), req.GetKey(), req.GetNewValue(), opts)
	if err != nil {
		return nil, err
	}
	return &pluginpb.KVCompareAndSetResponse{Success: ok}, nil
}

// KVSetWithOptions sets a key as the options say.
func (b *Backend) KVSetWithOptions(ctx context.Context, req *pluginpb.KVSetWithOptionsRequest) (*pluginpb.KVSetWithOptionsResponse, error) {
	ok, err := b.setWithOptions(ctx, b.caller(ctx), req.GetKey(), req.GetValue(), req.GetOptions())
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
	ok, err := b.kv.CompareAndDelete(ctx, b.caller(ctx), req.GetKey(), req.GetOldValue())
	if err != nil {
		return nil, kvError(err, "CompareAndDeletePluginKey", kvDeleteErrorID)
	}
	return &pluginpb.KVCompareAndDeleteResponse{Success: ok}, nil
}

// KVGet reads a key. Like upstream's store lookup it checks no key: a key
// that could not have been stored is simply not found.
func (b *Backend) KVGet(ctx context.Context, req *pluginpb.KVGetRequest) (*pluginpb.KVGetResponse, error) {
	value, err := b.kv.Get(ctx, b.caller(ctx), req.GetKey())
	if err != nil {
		return nil, kvError(err, "GetPluginKey", kvGetErrorID)
	}
	return &pluginpb.KVGetResponse{Value: value}, nil
}

// KVDelete deletes a key. Like upstream's PlatformService.DeletePluginKey,
// which deletes by key without validating it, it checks no key: deleting a
// key that could not have been stored succeeds and changes nothing.
func (b *Backend) KVDelete(ctx context.Context, req *pluginpb.KVDeleteRequest) (*pluginpb.KVDeleteResponse, error) {
	if err := b.kv.Delete(ctx, b.caller(ctx), req.GetKey()); err != nil {
		return nil, kvError(err, "DeletePluginKey", kvDeleteErrorID)
	}
	return &pluginpb.KVDeleteResponse{}, nil
}

// KVDeleteAll deletes every key of the calling plugin.
func (b *Backend) KVDeleteAll(ctx context.Context, _ *pluginpb.KVDeleteAllRequest) (*pluginpb.KVDeleteAllResponse, error) {
	if err := b.kv.DeleteAll(ctx, b.caller(ctx)); err != nil {
		return nil, kvError(err, "DeleteAllKeysForPlugin", kvDeleteErrorID)
	}
	return &pluginpb.KVDeleteAllResponse{}, nil
}

// KVList returns one page of live keys in ascending order.
func (b *Backend) KVList(ctx context.Context, req *pluginpb.KVListRequest) (*pluginpb.KVListResponse, error) {
	if err := validatePaging(req.GetPage(), req.GetPerPage()); err != nil {
		return nil, err
	}
	keys, err := b.kv.ListKeys(ctx, b.caller(ctx), int(req.GetPage()), int(req.GetPerPage()))
	if err != nil {
		return nil, kvError(err, "ListPluginKeys", kvListErrorID)
	}
	return &pluginpb.KVListResponse{Keys: keys}, nil
}
