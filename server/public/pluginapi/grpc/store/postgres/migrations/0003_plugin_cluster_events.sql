-- The plugin cluster events that go through a table instead of NOTIFY's
-- payload alone (see bus.go): every reliable event, so that a node whose
-- listener was briefly disconnected catches up on it, and every event whose
-- notification would exceed NOTIFY's 8000-byte payload limit. The Id
-- orders one publisher's events; best-effort events that fit a
-- notification take their id from the same sequence without a row.
-- TargetNode is '' for every node but the sender. CreateAt, in
-- milliseconds since the Unix epoch, is what the retention sweep deletes
-- by. EventId is bytea, as an event id may hold a NUL, which text cannot.
-- Mattermost has no such table: its cluster sends plugin events over
-- its own gossip transport.
CREATE TABLE IF NOT EXISTS PluginClusterEvents (
    Id         bigserial PRIMARY KEY,
    SourceNode varchar(190) NOT NULL,
    TargetNode varchar(190) NOT NULL DEFAULT '',
    PluginId   varchar(190) NOT NULL,
    EventId    bytea NOT NULL,
    Data       bytea NOT NULL,
    Reliable   boolean NOT NULL,
    CreateAt   bigint NOT NULL
);

-- The retention sweep deletes by CreateAt.
CREATE INDEX IF NOT EXISTS idx_pluginclusterevents_createat
    ON PluginClusterEvents (CreateAt);
