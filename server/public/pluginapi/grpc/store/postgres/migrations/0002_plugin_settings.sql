-- Each plugin's saved settings: PluginSettings.Plugins[<plugin id>] of
-- Mattermost's configuration, a JSON object. json, not jsonb, keeps the
-- object as it was saved.
CREATE TABLE IF NOT EXISTS PluginSettings (
    PluginId varchar(190) NOT NULL PRIMARY KEY,
    Settings json NOT NULL
);
