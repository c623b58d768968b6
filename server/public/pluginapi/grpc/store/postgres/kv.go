package postgres

// This file holds the KV store: one statement per method, each as
// Mattermost's SqlPluginStore writes it (server/channels/store/sqlstore/
// plugin_store.go@1140b87e03b700f9eb8cfcae7393f5a86271f687), except where
// upstream takes two statements (the atomic insert of a nil old value
// deletes an expired row, then inserts): here it is one INSERT ... ON
// CONFLICT DO UPDATE ... WHERE expired, so no other writer slips between.
// A value is live while ExpireAt is 0 or after now; at ExpireAt it is
// gone, for reads and for the atomic conditions alike (upstream's
// condition of liveness; its deletes of expired rows use < where this
// uses <=, so that no instant is both).

import (
	"bytes"
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/store"
)

// live is the condition of a row that has not expired at $now.
const live = `(ExpireAt = 0 OR ExpireAt > @now)`

// Get implements [store.KV] (SqlPluginStore.Get).
func (s *Store) Get(ctx context.Context, pluginID, key string) ([]byte, error) {
	var value []byte
	err := s.retry(ctx, func() error {
		return s.pool.QueryRow(ctx,
			`SELECT PValue FROM PluginKeyValueStore WHERE PluginId = @plugin AND PKey = @key AND `+live,
			pgx.NamedArgs{"plugin": pluginID, "key": key, "now": s.nowMillis()}).Scan(&value)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, s.fail("KVGet", err)
	}
	if value == nil {
		value = []byte{}
	}
	return value, nil
}

// Set implements [store.KV] (SqlPluginStore.SetWithOptions, CompareAndSet
// and SaveOrUpdate).
func (s *Store) Set(ctx context.Context, pluginID, key string, value []byte, opts store.SetOptions) (bool, error) {
	now := s.nowMillis()
	args := pgx.NamedArgs{
		"plugin": pluginID, "key": key, "value": nonNil(value), "old": nonNil(opts.OldValue),
		"expire": store.ExpireAt(now, opts.ExpireInSeconds), "now": now,
	}
	switch {
	case !opts.Atomic && value == nil:
		// SaveOrUpdate of nil: a delete, which answers true.
		_, err := s.exec(ctx, "KVSet", `DELETE FROM PluginKeyValueStore WHERE PluginId = @plugin AND PKey = @key`, args)
		return err == nil, err
	case !opts.Atomic:
		_, err := s.exec(ctx, "KVSet", `INSERT INTO PluginKeyValueStore (PluginId, PKey, PValue, ExpireAt)
			VALUES (@plugin, @key, @value, @expire)
			ON CONFLICT (PluginId, PKey) DO UPDATE SET PValue = EXCLUDED.PValue, ExpireAt = EXCLUDED.ExpireAt`, args)
		return err == nil, err
	case value == nil:
		// CompareAndSet of nil is CompareAndDelete, which a nil old value
		// never matches.
		return s.CompareAndDelete(ctx, pluginID, key, opts.OldValue)
	case opts.OldValue == nil:
		tag, err := s.exec(ctx, "KVSet", `INSERT INTO PluginKeyValueStore AS kv (PluginId, PKey, PValue, ExpireAt)
			VALUES (@plugin, @key, @value, @expire)
			ON CONFLICT (PluginId, PKey) DO UPDATE SET PValue = EXCLUDED.PValue, ExpireAt = EXCLUDED.ExpireAt
			WHERE kv.ExpireAt <> 0 AND kv.ExpireAt <= @now`, args)
		return err == nil && tag.RowsAffected() == 1, err
	default:
		tag, err := s.exec(ctx, "KVSet", `UPDATE PluginKeyValueStore SET PValue = @value, ExpireAt = @expire
			WHERE PluginId = @plugin AND PKey = @key AND PValue = @old AND `+live, args)
		return err == nil && tag.RowsAffected() == 1, err
	}
}

// CompareAndDelete implements [store.KV] (SqlPluginStore.CompareAndDelete).
func (s *Store) CompareAndDelete(ctx context.Context, pluginID, key string, oldValue []byte) (bool, error) {
	if oldValue == nil {
		return false, nil
	}
	tag, err := s.exec(ctx, "KVCompareAndDelete",
		`DELETE FROM PluginKeyValueStore WHERE PluginId = @plugin AND PKey = @key AND PValue = @old AND `+live,
		pgx.NamedArgs{"plugin": pluginID, "key": key, "old": oldValue, "now": s.nowMillis()})
	return err == nil && tag.RowsAffected() == 1, err
}

// Delete implements [store.KV] (SqlPluginStore.Delete).
func (s *Store) Delete(ctx context.Context, pluginID, key string) error {
	_, err := s.exec(ctx, "KVDelete", `DELETE FROM PluginKeyValueStore WHERE PluginId = $1 AND PKey = $2`, pluginID, key)
	return err
}

// DeleteAll implements [store.KV] (SqlPluginStore.DeleteAllForPlugin).
func (s *Store) DeleteAll(ctx context.Context, pluginID string) error {
	_, err := s.exec(ctx, "KVDeleteAll", `DELETE FROM PluginKeyValueStore WHERE PluginId = $1`, pluginID)
	return err
}

// ListKeys implements [store.KV] (SqlPluginStore.List, ordered by the
// keys' bytes whatever the database's collation).
func (s *Store) ListKeys(ctx context.Context, pluginID string, page, perPage int) ([]string, error) {
	offset, err := store.Offset(page, perPage)
	if err != nil {
		return nil, err
	}
	keys := []string{}
	err = s.retry(ctx, func() error {
		rows, err := s.pool.Query(ctx, `SELECT PKey FROM PluginKeyValueStore WHERE PluginId = @plugin AND `+live+`
			ORDER BY PKey COLLATE "C" LIMIT @limit OFFSET @offset`,
			pgx.NamedArgs{"plugin": pluginID, "now": s.nowMillis(), "limit": int64(perPage), "offset": offset})
		if err != nil {
			return err
		}
		keys, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		return nil, s.fail("KVList", err)
	}
	if keys == nil {
		keys = []string{}
	}
	return keys, nil
}

// nonNil returns b, or an empty slice for nil, so that a value is never
// stored as SQL NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return bytes.Clone(b)
}
