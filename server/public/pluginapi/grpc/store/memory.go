package store

// This file holds the in-memory stores: the state of one node alone.

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"sync"
	"time"
)

// Entry is one stored KV value, for saving and loading a [MemoryKV].
type Entry struct {
	PluginID string
	Key      string
	Value    []byte
	// ExpireAt is when the value expires, in milliseconds since the Unix
	// epoch; 0 for never.
	ExpireAt int64
}

type memoryEntry struct {
	value    []byte
	expireAt int64
}

// MemoryKV is a [KV] in this process's memory. Expired values are dropped
// when a call meets them. Use [NewMemoryKV].
type MemoryKV struct {
	now func() time.Time

	mu      sync.Mutex
	plugins map[string]map[string]memoryEntry // by plugin id, then key
}

// NewMemoryKV returns an empty store whose clock, for expiry, is now; a
// nil now is [time.Now].
func NewMemoryKV(now func() time.Time) *MemoryKV {
	if now == nil {
		now = time.Now
	}
	return &MemoryKV{now: now, plugins: map[string]map[string]memoryEntry{}}
}

var _ KV = (*MemoryKV)(nil)

// lookup returns the live value of key, dropping an expired one. The
// caller holds the lock.
func (m *MemoryKV) lookup(pluginID, key string, now int64) ([]byte, bool) {
	e, ok := m.plugins[pluginID][key]
	if !ok {
		return nil, false
	}
	if Expired(e.expireAt, now) {
		delete(m.plugins[pluginID], key)
		return nil, false
	}
	return e.value, true
}

// put stores a copy of value, or deletes key when value is nil. The
// caller holds the lock.
func (m *MemoryKV) put(pluginID, key string, value []byte, expireAt int64) {
	if value == nil {
		delete(m.plugins[pluginID], key)
		return
	}
	kv := m.plugins[pluginID]
	if kv == nil {
		kv = map[string]memoryEntry{}
		m.plugins[pluginID] = kv
	}
	kv[key] = memoryEntry{value: bytes.Clone(value), expireAt: expireAt}
}

// Get implements [KV].
func (m *MemoryKV) Get(_ context.Context, pluginID, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, _ := m.lookup(pluginID, key, m.now().UnixMilli())
	return bytes.Clone(v), nil
}

// Set implements [KV].
func (m *MemoryKV) Set(_ context.Context, pluginID, key string, value []byte, opts SetOptions) (bool, error) {
	if opts.Atomic && value == nil && opts.OldValue == nil {
		return false, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now().UnixMilli()
	if opts.Atomic {
		current, exists := m.lookup(pluginID, key, now)
		if opts.OldValue == nil && exists {
			return false, nil
		}
		if opts.OldValue != nil && (!exists || !bytes.Equal(current, opts.OldValue)) {
			return false, nil
		}
	}
	m.put(pluginID, key, value, ExpireAt(now, opts.ExpireInSeconds))
	return true, nil
}

// CompareAndDelete implements [KV].
func (m *MemoryKV) CompareAndDelete(_ context.Context, pluginID, key string, oldValue []byte) (bool, error) {
	if oldValue == nil {
		return false, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	current, exists := m.lookup(pluginID, key, m.now().UnixMilli())
	if !exists || !bytes.Equal(current, oldValue) {
		return false, nil
	}
	delete(m.plugins[pluginID], key)
	return true, nil
}

// Delete implements [KV].
func (m *MemoryKV) Delete(_ context.Context, pluginID, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.plugins[pluginID], key)
	return nil
}

// DeleteAll implements [KV].
func (m *MemoryKV) DeleteAll(_ context.Context, pluginID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.plugins, pluginID)
	return nil
}

// ListKeys implements [KV].
func (m *MemoryKV) ListKeys(_ context.Context, pluginID string, page, perPage int) ([]string, error) {
	offset, err := Offset(page, perPage)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	now := m.now().UnixMilli()
	keys := make([]string, 0, len(m.plugins[pluginID]))
	for k, e := range m.plugins[pluginID] {
		if !Expired(e.expireAt, now) {
			keys = append(keys, k)
		}
	}
	m.mu.Unlock()
	slices.Sort(keys)
	if offset >= int64(len(keys)) {
		return []string{}, nil
	}
	end := min(offset+int64(perPage), int64(len(keys)))
	return keys[offset:end], nil
}

// Entries returns the live values, ordered by plugin id then key, for a
// state file.
func (m *MemoryKV) Entries() []Entry {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now().UnixMilli()
	var out []Entry
	for pluginID, kv := range m.plugins {
		for key, e := range kv {
			if !Expired(e.expireAt, now) {
				out = append(out, Entry{PluginID: pluginID, Key: key, Value: bytes.Clone(e.value), ExpireAt: e.expireAt})
			}
		}
	}
	slices.SortFunc(out, func(a, b Entry) int {
		return cmp.Or(cmp.Compare(a.PluginID, b.PluginID), cmp.Compare(a.Key, b.Key))
	})
	return out
}

// Replace replaces every value with entries, as loaded from a state
// file; entries with a nil value are skipped.
func (m *MemoryKV) Replace(entries []Entry) {
	plugins := map[string]map[string]memoryEntry{}
	for _, e := range entries {
		if e.Value == nil {
			continue
		}
		if plugins[e.PluginID] == nil {
			plugins[e.PluginID] = map[string]memoryEntry{}
		}
		plugins[e.PluginID][e.Key] = memoryEntry{value: bytes.Clone(e.Value), expireAt: e.ExpireAt}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.plugins = plugins
}

// MemorySettings is a [PluginSettings] in this process's memory. The zero
// value is empty and ready to use.
type MemorySettings struct {
	mu       sync.Mutex
	byPlugin map[string][]byte // JSON objects
}

var _ PluginSettings = (*MemorySettings)(nil)

// GetPluginSettings implements [PluginSettings].
func (m *MemorySettings) GetPluginSettings(_ context.Context, pluginID string) (map[string]any, bool, error) {
	m.mu.Lock()
	data, ok := m.byPlugin[pluginID]
	m.mu.Unlock()
	if !ok {
		return nil, false, nil
	}
	out, err := DecodeSettings(data)
	return out, err == nil, err
}

// AllPluginSettings implements [PluginSettings].
func (m *MemorySettings) AllPluginSettings(context.Context) (map[string]map[string]any, error) {
	m.mu.Lock()
	all := maps.Clone(m.byPlugin)
	m.mu.Unlock()
	out := make(map[string]map[string]any, len(all))
	for id, data := range all {
		s, err := DecodeSettings(data)
		if err != nil {
			return nil, err
		}
		out[id] = s
	}
	return out, nil
}

// SavePluginSettings implements [PluginSettings].
func (m *MemorySettings) SavePluginSettings(_ context.Context, pluginID string, settings map[string]any) error {
	data, err := EncodeSettings(settings)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byPlugin == nil {
		m.byPlugin = map[string][]byte{}
	}
	m.byPlugin[pluginID] = data
	return nil
}

// EncodeSettings encodes a plugin's settings as a JSON object; nil is {}.
func EncodeSettings(settings map[string]any) ([]byte, error) {
	if settings == nil {
		return []byte("{}"), nil
	}
	data, err := json.Marshal(settings)
	if err != nil {
		return nil, err
	}
	return data, nil
}

// DecodeSettings decodes a plugin's settings from a JSON object.
func DecodeSettings(data []byte) (map[string]any, error) {
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, err
	}
	if out == nil {
		out = map[string]any{}
	}
	return out, nil
}
