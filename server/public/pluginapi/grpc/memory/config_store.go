package memory

// This file holds the server configuration: a JSON object keyed as
// Mattermost's config.json, with the defaults of the settings that the
// backend reads, and the secrets that GetConfig hides.

import (
	"encoding/json"
	"maps"
	"net/http"
	"strings"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
)

// fakeSetting replaces a secret in a sanitized configuration, as
// model.FakeSetting does.
const fakeSetting = "********************"

// configSecrets are the settings that GetConfig hides, as section and key.
var configSecrets = [][2]string{
	{"SqlSettings", "DataSource"},
	{"SqlSettings", "AtRestEncryptKey"},
	{"FileSettings", "PublicLinkSalt"},
	{"FileSettings", "AmazonS3SecretAccessKey"},
	{"EmailSettings", "SMTPPassword"},
	{"GitLabSettings", "Secret"},
	{"GoogleSettings", "Secret"},
	{"Office365Settings", "Secret"},
	{"OpenIdSettings", "Secret"},
	{"LdapSettings", "BindPassword"},
	{"ElasticsearchSettings", "Password"},
	{"MessageExportSettings", "GlobalRelaySettings"},
	{"ServiceSettings", "GfycatAPISecret"},
	{"ServiceSettings", "SplitKey"},
}

// defaultConfig is the configuration of a new server: the settings that
// the backend reads, at Mattermost's defaults, and the secrets.
func defaultConfig(pluginID string, maxUsersPerTeam int) map[string]any {
	return map[string]any{
		"ServiceSettings": map[string]any{
			"SiteURL": "http://localhost:8065", "ListenAddress": ":8065",
			"EnableUserAccessTokens": false, "EnableCustomEmoji": true,
			"EnableOAuthServiceProvider": true, "EnablePostUsernameOverride": false,
			"EnableBotAccountCreation": false, "GfycatAPISecret": "", "SplitKey": "",
		},
		"TeamSettings": map[string]any{
			"SiteName": "Mattermost", "MaxUsersPerTeam": maxUsersPerTeam, "MaxChannelsPerTeam": 2000,
			"EnableOpenServer": false, "ExperimentalDefaultChannels": []any{},
		},
		"SqlSettings":  map[string]any{"DriverName": "postgres", "DataSource": "postgres://mmuser:mostest@localhost/mattermost", "AtRestEncryptKey": newID()},
		"FileSettings": map[string]any{"DriverName": "local", "Directory": "./data/", "MaxFileSize": 104857600, "PublicLinkSalt": newID(), "AmazonS3SecretAccessKey": ""},
		"EmailSettings": map[string]any{
			"SendEmailNotifications": true, "FeedbackEmail": "", "SMTPServer": "localhost", "SMTPPort": "10025",
			"SMTPUsername": "", "SMTPPassword": "",
		},
		"GitLabSettings":        map[string]any{"Enable": false, "Secret": ""},
		"GoogleSettings":        map[string]any{"Enable": false, "Secret": ""},
		"Office365Settings":     map[string]any{"Enable": false, "Secret": ""},
		"OpenIdSettings":        map[string]any{"Enable": false, "Secret": ""},
		"LdapSettings":          map[string]any{"Enable": false, "BindPassword": ""},
		"ElasticsearchSettings": map[string]any{"EnableIndexing": false, "Password": ""},
		"MessageExportSettings": map[string]any{"EnableExport": false, "GlobalRelaySettings": ""},
		"LocalizationSettings":  map[string]any{"DefaultServerLocale": "en", "DefaultClientLocale": "en"},
		"AccessControlSettings": map[string]any{"EnableAttributeBasedAccessControl": false},
		"ConnectedWorkspacesSettings": map[string]any{
			"EnableSharedChannels": false, "EnableRemoteClusterService": false,
		},
		"PluginSettings": map[string]any{
			"Enable": true, "EnableUploads": false, "Directory": "./plugins", "ClientDirectory": "./client/plugins",
			"Plugins":      map[string]any{pluginID: map[string]any{}},
			"PluginStates": map[string]any{pluginID: map[string]any{"Enable": true}},
		},
	}
}

// cloneJSON deep-copies a JSON value.
func cloneJSON(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = cloneJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = cloneJSON(e)
		}
		return out
	}
	return v
}

// withDefaults fills the settings missing from cfg with those of def, as
// Mattermost's SetDefaults does.
func withDefaults(cfg, def map[string]any) map[string]any {
	out := cloneJSON(cfg).(map[string]any)
	for k, d := range def {
		v, ok := out[k]
		if !ok {
			out[k] = cloneJSON(d)
			continue
		}
		sub, isMap := v.(map[string]any)
		subDef, defIsMap := d.(map[string]any)
		if isMap && defIsMap {
			out[k] = withDefaults(sub, subDef)
		}
	}
	return out
}

// section returns one section of a configuration, or an empty one.
func section(cfg map[string]any, name string) map[string]any {
	s, _ := cfg[name].(map[string]any)
	if s == nil {
		return map[string]any{}
	}
	return s
}

// sanitizedConfig returns a copy of cfg with its non-empty secrets replaced by
// fakeSetting.
func sanitizedConfig(cfg map[string]any) map[string]any {
	out := cloneJSON(cfg).(map[string]any)
	for _, s := range configSecrets {
		sec := section(out, s[0])
		if v, ok := sec[s[1]].(string); ok && v != "" {
			sec[s[1]] = fakeSetting
		}
	}
	return out
}

// desanitize puts the stored secrets back where a saved configuration
// holds fakeSetting, so that saving what GetConfig returned keeps them.
func desanitize(cfg, stored map[string]any) {
	for _, s := range configSecrets {
		sec, ok := cfg[s[0]].(map[string]any)
		if ok && sec[s[1]] == fakeSetting {
			sec[s[1]] = section(stored, s[0])[s[1]]
		}
	}
}

func invalidConfig(field, message string) *apperror.Error {
	e := apperror.New("model.config.is_valid."+field+".app_error", message, "", http.StatusBadRequest)
	e.Where = "Config.IsValid"
	return e
}

// validateConfig checks the settings that the backend reads, as
// model.Config.IsValid does.
func validateConfig(cfg map[string]any) error {
	if url, ok := section(cfg, "ServiceSettings")["SiteURL"].(string); !ok || url != "" && !isValidHTTPURL(url) {
		return invalidConfig("site_url", "Invalid ServiceSettings.SiteURL: an absolute http or https URL, or empty.")
	}
	if n, ok := section(cfg, "TeamSettings")["MaxUsersPerTeam"].(float64); !ok || n < 1 || n != float64(int64(n)) {
		return invalidConfig("max_users", "Invalid TeamSettings.MaxUsersPerTeam: a whole number above 0.")
	}
	if name, ok := section(cfg, "TeamSettings")["SiteName"].(string); !ok || len(name) > 30 {
		return invalidConfig("sitename_length", "Invalid TeamSettings.SiteName: at most 30 characters.")
	}
	for _, key := range []string{"EnableUserAccessTokens", "EnableCustomEmoji", "EnableOAuthServiceProvider"} {
		if _, ok := section(cfg, "ServiceSettings")[key].(bool); !ok {
			return invalidConfig(strings.ToLower(key), "Invalid ServiceSettings."+key+": true or false.")
		}
	}
	return nil
}

// parseConfig decodes a configuration from JSON.
func parseConfig(data string) (map[string]any, error) {
	var cfg map[string]any
	if err := json.Unmarshal([]byte(data), &cfg); err != nil || cfg == nil {
		return nil, apperror.New("api.config.update_config.invalid_json.app_error",
			"The configuration must be a JSON object.", "", http.StatusBadRequest)
	}
	return cfg, nil
}

// encodeConfig encodes a configuration as JSON.
func encodeConfig(cfg map[string]any) string {
	data, err := json.Marshal(cfg)
	if err != nil {
		return "{}"
	}
	return string(data)
}

// configNumber, configBool and configString read one setting of the
// stored configuration. The caller holds the lock.
func (b *Backend) configNumber(sectionName, key string) float64 {
	n, _ := section(b.config, sectionName)[key].(float64)
	return n
}

func (b *Backend) configBool(sectionName, key string) bool {
	v, _ := section(b.config, sectionName)[key].(bool)
	return v
}

func (b *Backend) configString(sectionName, key string) string {
	v, _ := section(b.config, sectionName)[key].(string)
	return v
}

// normalizeNumbers turns every number of a JSON value into float64, as
// json.Unmarshal makes them, so that the defaults and saved values read
// alike.
func normalizeNumbers(cfg map[string]any) map[string]any {
	out, _ := parseConfig(encodeConfig(cfg))
	if out == nil {
		return maps.Clone(cfg)
	}
	return out
}
