package postgres

// This file holds the plugins' settings, one row per plugin.

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/store"
)

// GetPluginSettings implements [store.PluginSettings].
func (s *Store) GetPluginSettings(ctx context.Context, pluginID string) (map[string]any, bool, error) {
	var data []byte
	err := s.retry(ctx, func() error {
		return s.pool.QueryRow(ctx, `SELECT Settings::text FROM PluginSettings WHERE PluginId = $1`, pluginID).Scan(&data)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, s.fail("GetPluginSettings", err)
	}
	settings, err := store.DecodeSettings(data)
	if err != nil {
		return nil, false, fmt.Errorf("GetPluginSettings of %s: %w", pluginID, err)
	}
	return settings, true, nil
}

// AllPluginSettings implements [store.PluginSettings].
func (s *Store) AllPluginSettings(ctx context.Context) (map[string]map[string]any, error) {
	type row struct {
		PluginID string
		Settings []byte
	}
	var rows []row
	err := s.retry(ctx, func() error {
		r, err := s.pool.Query(ctx, `SELECT PluginId, Settings::text FROM PluginSettings`)
		if err != nil {
			return err
		}
		rows, err = pgx.CollectRows(r, pgx.RowToStructByPos[row])
		return err
	})
	if err != nil {
		return nil, s.fail("AllPluginSettings", err)
	}
	out := make(map[string]map[string]any, len(rows))
	for _, r := range rows {
		settings, err := store.DecodeSettings(r.Settings)
		if err != nil {
			return nil, fmt.Errorf("AllPluginSettings of %s: %w", r.PluginID, err)
		}
		out[r.PluginID] = settings
	}
	return out, nil
}

// SavePluginSettings implements [store.PluginSettings].
func (s *Store) SavePluginSettings(ctx context.Context, pluginID string, settings map[string]any) error {
	data, err := store.EncodeSettings(settings)
	if err != nil {
		return fmt.Errorf("SavePluginSettings of %s: %w", pluginID, err)
	}
	_, err = s.exec(ctx, "SavePluginSettings", `INSERT INTO PluginSettings (PluginId, Settings) VALUES ($1, $2::text::json)
		ON CONFLICT (PluginId) DO UPDATE SET Settings = EXCLUDED.Settings`, pluginID, string(data))
	return err
}
