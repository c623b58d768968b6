// Package store holds the state that the nodes of a cluster share, as a
// Mattermost cluster shares it through its database: every plugin's KV
// store, the plugins' settings and the cluster-event bus.
//
// The reference backend (package memory) keeps everything else in each
// node's memory and calls these interfaces for the shared state. This
// package has the in-memory implementations, the default of one node
// alone; package store/postgres has the PostgreSQL one, which several
// nodes share, and package store/storetest the conformance suite that
// both pass.
//
// Every method takes the plugin id explicitly: a store holds the state of
// every plugin. Errors: when the store itself cannot be reached, a method
// returns the *apperror.Error of [Unavailable] (HTTP 503, so gRPC
// UNAVAILABLE); any other failure is a plain error, which the caller
// wraps as Mattermost's app layer wraps a store's error.
package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
)

// SetOptions are the options of [KV.Set], as model.PluginKVSetOptions.
type SetOptions struct {
	// Atomic makes the set conditional: on OldValue when it is not nil,
	// else on the key being absent (or expired).
	Atomic bool
	// OldValue is the value that an atomic set expects.
	OldValue []byte
	// ExpireInSeconds is the value's lifetime; 0 or less never expires.
	ExpireInSeconds int64
}

// KV is the plugins' key-value store, with Mattermost's semantics
// (SqlPluginStore in server/channels/store/sqlstore/plugin_store.go of
// mattermost/mattermost at 1140b87e03b700f9eb8cfcae7393f5a86271f687).
//
// A value set with an expiry is live while the current time, in
// milliseconds, is before its ExpireAt; from then on it is absent to every
// method, at once, whether or not it was removed yet. Values are copied in
// and out: the caller may reuse its slices. Keys are not checked here: the
// caller checks them. A KV is safe for concurrent use.
type KV interface {
	// Get returns the live value of key, or nil when there is none.
	Get(ctx context.Context, pluginID, key string) ([]byte, error)
	// Set is the one write path, SqlPluginStore.SetWithOptions: without
	// Atomic it stores value (deletes key when value is nil) and answers
	// true. With Atomic and a nil OldValue it stores value only if key has
	// no live value; with Atomic and an OldValue it stores value (deletes
	// key when value is nil) only if the live value equals OldValue; an
	// atomic set of a nil value with a nil OldValue changes nothing. It
	// answers whether it stored. Each call is atomic.
	Set(ctx context.Context, pluginID, key string, value []byte, opts SetOptions) (bool, error)
	// CompareAndDelete deletes key if its live value equals oldValue, and
	// answers whether it did; a nil oldValue never matches.
	CompareAndDelete(ctx context.Context, pluginID, key string, oldValue []byte) (bool, error)
	// Delete deletes key; an absent key is no error.
	Delete(ctx context.Context, pluginID, key string) error
	// DeleteAll deletes every key of the plugin.
	DeleteAll(ctx context.Context, pluginID string) error
	// ListKeys returns the page-th page of perPage live keys of the
	// plugin, in ascending byte order; page and perPage are not negative,
	// and a perPage of 0 is an empty page.
	ListKeys(ctx context.Context, pluginID string, page, perPage int) ([]string, error)
}

// PluginSettings holds each plugin's saved settings: the object at
// PluginSettings.Plugins[<plugin id>] of Mattermost's configuration, which
// GetPluginConfig returns and SavePluginConfig replaces. The settings are
// JSON objects, as encoding/json decodes them (numbers are float64); they
// are copied in and out. A PluginSettings is safe for concurrent use.
type PluginSettings interface {
	// GetPluginSettings returns the saved settings of a plugin, and
	// whether it has any.
	GetPluginSettings(ctx context.Context, pluginID string) (map[string]any, bool, error)
	// AllPluginSettings returns the saved settings of every plugin that
	// has some, by plugin id.
	AllPluginSettings(ctx context.Context) (map[string]map[string]any, error)
	// SavePluginSettings replaces the saved settings of a plugin; nil
	// saves an empty object.
	SavePluginSettings(ctx context.Context, pluginID string, settings map[string]any) error
}

// UnavailableID is the AppError id of a call that failed because the store
// could not be reached. It is this project's id, not one of Mattermost's:
// Mattermost has no AppError for a lost database, which its store layer
// reports as the operation's 500.
const UnavailableID = "app.plugin_store.unavailable.app_error"

// Unavailable returns the error of an operation (such as "KVSet") that
// failed because the store could not be reached: an *apperror.Error with
// [UnavailableID] and HTTP 503, so gRPC UNAVAILABLE, its details naming
// the operation and the cause.
func Unavailable(op string, cause error) *apperror.Error {
	return apperror.New(UnavailableID, "The shared store is unavailable; try again.",
		apperror.Truncate(op+": "+cause.Error(), apperror.MaxMessageBytes), http.StatusServiceUnavailable)
}

// IsUnavailable reports whether err is, or wraps, an [Unavailable] error.
func IsUnavailable(err error) bool {
	var e *apperror.Error
	return errors.As(err, &e) && e.ID == UnavailableID
}

// ExpireAt returns when a value stored at nowMillis (milliseconds since
// the Unix epoch) expires, given its lifetime in seconds: 0 for never when
// the lifetime is 0 or less. A lifetime past the end of int64
// milliseconds is clamped there, so that a huge lifetime means
// "practically never" instead of overflowing into the past.
func ExpireAt(nowMillis, expireInSeconds int64) int64 {
	if expireInSeconds <= 0 {
		return 0
	}
	if expireInSeconds > (math.MaxInt64-nowMillis)/1000 {
		return math.MaxInt64
	}
	return nowMillis + expireInSeconds*1000
}

// Expired reports whether a value with this ExpireAt is gone at nowMillis.
func Expired(expireAt, nowMillis int64) bool {
	return expireAt != 0 && expireAt <= nowMillis
}

// Offset returns the first row of a page, page*perPage, or an error when
// it does not fit an int64.
func Offset(page, perPage int) (int64, error) {
	if page < 0 || perPage < 0 {
		return 0, fmt.Errorf("negative paging: page %d, per page %d", page, perPage)
	}
	p, pp := int64(page), int64(perPage)
	if pp != 0 && p > math.MaxInt64/pp {
		return math.MaxInt64, nil
	}
	return p * pp, nil
}
