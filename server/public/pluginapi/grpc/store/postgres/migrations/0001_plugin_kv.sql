-- The plugins' KV store, as Mattermost's PluginKeyValueStore table
-- (mattermost/mattermost's server/channels/db/migrations/postgres/
-- 000045_create_plugin_key_value_store.up.sql, with PKey at the 150
-- characters of model.KeyValueKeyMaxRunes, as later migrations widen it).
-- ExpireAt is in milliseconds since the Unix epoch, 0 for never.
CREATE TABLE IF NOT EXISTS PluginKeyValueStore (
    PluginId varchar(190) NOT NULL,
    PKey     varchar(150) NOT NULL,
    PValue   bytea,
    ExpireAt bigint DEFAULT 0,
    PRIMARY KEY (PluginId, PKey)
);

-- The expiry sweep deletes by ExpireAt.
CREATE INDEX IF NOT EXISTS idx_pluginkeyvaluestore_expireat
    ON PluginKeyValueStore (ExpireAt) WHERE ExpireAt <> 0;
