package memory

// This file holds the server configuration: a JSON object keyed as
// Mattermost's config.json, with the defaults of the settings that the
// backend reads, those of the sections that it only stores, its checks,
// and the secrets that GetConfig hides.

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/store"
)

// fakeSetting replaces a secret in a sanitized configuration, as
// model.FakeSetting does.
const fakeSetting = "********************************"

// configSecret is a setting that GetConfig hides, by its path of keys.
type configSecret struct {
	path []string
	// always hides the setting even when it is empty; otherwise an empty
	// setting shows as it is.
	always bool
}

// configSecrets are the settings that GetConfig hides, as model.Config.Sanitize
// does at server/public/model/config.go@33b68c603c01dc87da764411792bb833f5f53887,
// and that SaveConfig puts back, as desanitize does at
// server/config/utils.go@7e105a160fe46bb2da7f000d30cd3e4777295dae.
var configSecrets = []configSecret{
	{path: []string{"LdapSettings", "BindPassword"}},
	{path: []string{"FileSettings", "PublicLinkSalt"}, always: true},
	{path: []string{"FileSettings", "AmazonS3SecretAccessKey"}},
	{path: []string{"EmailSettings", "SMTPPassword"}},
	{path: []string{"GitLabSettings", "Secret"}},
	{path: []string{"GoogleSettings", "Secret"}},
	{path: []string{"Office365Settings", "Secret"}},
	{path: []string{"OpenIdSettings", "Secret"}},
	{path: []string{"SqlSettings", "DataSource"}, always: true},
	{path: []string{"SqlSettings", "AtRestEncryptKey"}, always: true},
	{path: []string{"ElasticsearchSettings", "Password"}, always: true},
	{path: []string{"MessageExportSettings", "GlobalRelaySettings", "SMTPPassword"}},
	{path: []string{"ServiceSettings", "GfycatAPISecret"}},
	{path: []string{"ServiceSettings", "SplitKey"}, always: true},
}

// configSecretLists are the lists of SqlSettings whose every element
// GetConfig hides.
var configSecretLists = []string{"DataSourceReplicas", "DataSourceSearchReplicas"}

// parentOf returns the object that holds the last key of path, or nil.
func parentOf(cfg map[string]any, path []string) map[string]any {
	for _, k := range path[:len(path)-1] {
		next, ok := cfg[k].(map[string]any)
		if !ok {
			return nil
		}
		cfg = next
	}
	return cfg
}

// defaultConfig is the configuration of a new server: the settings that
// the backend reads, at Mattermost's defaults, and the secrets.
func defaultConfig(pluginID string, maxUsersPerTeam int) map[string]any {
	cfg := map[string]any{
		"ServiceSettings": map[string]any{
			"SiteURL": "http://localhost:8065", "ListenAddress": ":8065",
			"EnableUserAccessTokens": false, "EnableCustomEmoji": true, "EnableCommands": true,
			"EnableOAuthServiceProvider": true, "EnablePostUsernameOverride": false,
			"EnableBotAccountCreation": false, "DisableBotsWhenOwnerIsDeactivated": true,
			"GfycatAPISecret": "", "SplitKey": "",
			// ServiceSettings.SetDefaults of a server/public/model/config.go
			// later than 33b68c60 (which has neither):
			// OutgoingIntegrationRequestsDefaultTimeout and
			// ServiceSettingsDefaultUniqueReactionsPerPost.
			"OutgoingIntegrationRequestsTimeout": 30, "UniqueEmojiReactionLimitPerPost": 50,
		},
		"TeamSettings": map[string]any{
			"SiteName": "Mattermost", "MaxUsersPerTeam": maxUsersPerTeam, "MaxChannelsPerTeam": 2000,
			"EnableOpenServer": false, "ExperimentalDefaultChannels": []any{}, "RestrictCreationToDomains": "",
		},
		"SqlSettings": map[string]any{
			"DriverName": "postgres", "DataSource": "postgres://mmuser:mostest@localhost/mattermost", "AtRestEncryptKey": newID(),
			"DataSourceReplicas": []any{}, "DataSourceSearchReplicas": []any{},
		},
		"FileSettings": map[string]any{
			"DriverName": "local", "Directory": "./data/", "MaxFileSize": 104857600, "PublicLinkSalt": newID(),
			"AmazonS3SecretAccessKey": "", "EnableFileAttachments": true,
		},
		"EmailSettings": map[string]any{
			"SendEmailNotifications": true, "RequireEmailVerification": false, "FeedbackEmail": "",
			"SMTPServer": "localhost", "SMTPPort": "10025", "SMTPUsername": "", "SMTPPassword": "",
		},
		"GitLabSettings":        map[string]any{"Enable": false, "Secret": ""},
		"GoogleSettings":        map[string]any{"Enable": false, "Secret": ""},
		"Office365Settings":     map[string]any{"Enable": false, "Secret": ""},
		"OpenIdSettings":        map[string]any{"Enable": false, "Secret": ""},
		"LdapSettings":          map[string]any{"Enable": false, "BindPassword": ""},
		"ElasticsearchSettings": map[string]any{"EnableIndexing": false, "Password": ""},
		// MessageExportSettings.SetDefaults and
		// GlobalRelayMessageExportSettings.SetDefaults.
		"MessageExportSettings": map[string]any{
			"EnableExport": false, "DownloadExportResults": false, "ExportFormat": "actiance",
			"DailyRunTime": "01:00", "ExportFromTimestamp": 0, "BatchSize": 10000,
			"GlobalRelaySettings": map[string]any{
				"CustomerType": "A9", "SMTPUsername": "", "SMTPPassword": "", "EmailAddress": "", "SMTPServerTimeout": 1800,
			},
		},
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
	maps.Copy(cfg, otherSectionDefaults())
	return cfg
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
// Mattermost's SetDefaults does; a null setting is missing, as it decodes
// to a nil pointer that SetDefaults fills.
func withDefaults(cfg, def map[string]any) map[string]any {
	out := cloneJSON(cfg).(map[string]any)
	for k, d := range def {
		v, ok := out[k]
		if !ok || v == nil {
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

// completeConfig returns cfg with the settings it lacks at their defaults
// and its numbers as json.Unmarshal makes them, as Mattermost's
// Config.SetDefaults leaves a configuration before Config.IsValid.
func completeConfig(cfg map[string]any, pluginID string) map[string]any {
	out := normalizeNumbers(withDefaults(cfg, defaultConfig(pluginID, DefaultMaxUsersPerTeam)))
	fixSupportLinks(out)
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

// sanitizedConfig returns a copy of cfg with its secrets replaced by
// fakeSetting, as model.Config.Sanitize does.
func sanitizedConfig(cfg map[string]any) map[string]any {
	out := cloneJSON(cfg).(map[string]any)
	for _, s := range configSecrets {
		parent, key := parentOf(out, s.path), s.path[len(s.path)-1]
		if v, ok := parent[key].(string); ok && (s.always || v != "") {
			parent[key] = fakeSetting
		}
	}
	for _, key := range configSecretLists {
		list, _ := section(out, "SqlSettings")[key].([]any)
		for i := range list {
			list[i] = fakeSetting
		}
	}
	return out
}

// desanitize puts the stored secrets back where a saved configuration
// holds fakeSetting, so that saving what GetConfig returned keeps them; in
// a list of secrets, only when the list has as many elements as the
// stored one, as Mattermost's desanitize does.
func desanitize(cfg, stored map[string]any) {
	for _, s := range configSecrets {
		parent, key := parentOf(cfg, s.path), s.path[len(s.path)-1]
		if parent != nil && parent[key] == fakeSetting {
			if from := parentOf(stored, s.path); from != nil {
				parent[key] = from[key]
			}
		}
	}
	for _, key := range configSecretLists {
		list, _ := section(cfg, "SqlSettings")[key].([]any)
		from, _ := section(stored, "SqlSettings")[key].([]any)
		if len(list) != len(from) {
			continue
		}
		for i, v := range list {
			if v == fakeSetting {
				list[i] = from[i]
			}
		}
	}
}

func invalidConfig(field, message string) *apperror.Error {
	e := apperror.New("model.config.is_valid."+field+".app_error", message, "", http.StatusBadRequest)
	e.Where = "Config.IsValid"
	return e
}

// validateConfig checks a configuration as model.Config.IsValid does, in
// its order, for the settings whose rules are cheap to follow (at
// model/config.go@33b68c603c01dc87da764411792bb833f5f53887), after
// checking that each setting has the JSON type of its default, as decoding
// into model.Config would.
func validateConfig(cfg map[string]any) error {
	if err := checkConfigTypes("", cfg, configShape); err != nil {
		return err
	}
	team := section(cfg, "TeamSettings")
	if n, ok := team["MaxUsersPerTeam"].(float64); !ok || n < 1 || n != float64(int64(n)) {
		return invalidConfig("max_users", "Invalid TeamSettings.MaxUsersPerTeam: a whole number above 0.")
	}
	if name, ok := team["SiteName"].(string); !ok || len(name) > 30 {
		return invalidConfig("sitename_length", "Invalid TeamSettings.SiteName: at most 30 characters.")
	}
	// Config.IsValid's own check of PasswordSettings.
	if n := section(cfg, "PasswordSettings")["MinimumLength"].(float64); n < passwordMinimumLength || n > passwordMaximumLength {
		return invalidConfig("password_length", "Invalid PasswordSettings.MinimumLength: from 5 to 64.")
	}
	if err := firstNotPositive(cfg, "RateLimitSettings", [][2]string{
		{"MemoryStoreSize", "rate_mem"}, {"PerSec", "rate_sec"}, {"MaxBurst", "max_burst"},
	}); err != nil {
		return err
	}
	service := section(cfg, "ServiceSettings")
	if url := service["SiteURL"].(string); url != "" && !isValidHTTPURL(url) {
		return invalidConfig("site_url", "Invalid ServiceSettings.SiteURL: an absolute http or https URL, or empty.")
	}
	if err := validateBleve(section(cfg, "BleveSettings")); err != nil {
		return err
	}
	if err := validateDataRetention(section(cfg, "DataRetentionSettings")); err != nil {
		return err
	}
	for _, scheme := range section(cfg, "DisplaySettings")["CustomURLSchemes"].([]any) {
		if s, ok := scheme.(string); !ok || !validURLScheme.MatchString(s) {
			return invalidConfig("display.custom_url_schemes", "Invalid DisplaySettings.CustomURLSchemes: each a URL scheme such as \"myapp\".")
		}
	}
	if err := validateImageProxy(section(cfg, "ImageProxySettings")); err != nil {
		return err
	}
	// ImportSettings.isValid; Config.IsValid does not call ExportSettings.isValid.
	imp := section(cfg, "ImportSettings")
	if imp["Directory"] == "" {
		return invalidConfig("import.directory", "Invalid ImportSettings.Directory: not empty.")
	}
	if imp["RetentionDays"].(float64) <= 0 {
		return invalidConfig("import.retention_days_too_low", "Invalid ImportSettings.RetentionDays: above 0.")
	}
	return nil
}

// validURLScheme is the pattern of DisplaySettings.isValid.
var validURLScheme = regexp.MustCompile(`(?i)^\s*[A-Za-z][A-Za-z0-9.+-]*\s*$`)

// firstNotPositive returns the error of the first of keys, as key and id,
// of the section that is not above 0.
func firstNotPositive(cfg map[string]any, sectionName string, keys [][2]string) error {
	sec := section(cfg, sectionName)
	for _, k := range keys {
		if sec[k[0]].(float64) <= 0 {
			return invalidConfig(k[1], "Invalid "+sectionName+"."+k[0]+": above 0.")
		}
	}
	return nil
}

// validateBleve follows BleveSettings.isValid.
func validateBleve(s map[string]any) error {
	switch {
	case s["EnableIndexing"] == true && s["IndexDir"] == "":
		return invalidConfig("bleve_search.filename", "Invalid BleveSettings.IndexDir: not empty when indexing.")
	case s["EnableIndexing"] != true && s["EnableSearching"] == true:
		return invalidConfig("bleve_search.enable_searching", "Invalid BleveSettings.EnableSearching: needs EnableIndexing.")
	case s["EnableIndexing"] != true && s["EnableAutocomplete"] == true:
		return invalidConfig("bleve_search.enable_autocomplete", "Invalid BleveSettings.EnableAutocomplete: needs EnableIndexing.")
	case s["BatchSize"].(float64) < 1:
		return invalidConfig("bleve_search.bulk_indexing_batch_size", "Invalid BleveSettings.BatchSize: at least 1.")
	}
	return nil
}

// validateDataRetention follows DataRetentionSettings.isValid.
func validateDataRetention(s map[string]any) error {
	switch {
	case s["MessageRetentionDays"].(float64) <= 0:
		return invalidConfig("data_retention.message_retention_days_too_low", "Invalid DataRetentionSettings.MessageRetentionDays: above 0.")
	case s["FileRetentionDays"].(float64) <= 0:
		return invalidConfig("data_retention.file_retention_days_too_low", "Invalid DataRetentionSettings.FileRetentionDays: above 0.")
	}
	if _, err := time.Parse("15:04", s["DeletionJobStartTime"].(string)); err != nil {
		return invalidConfig("data_retention.deletion_job_start_time", "Invalid DataRetentionSettings.DeletionJobStartTime: a time such as 02:00.")
	}
	return nil
}

// validateImageProxy follows ImageProxySettings.isValid.
func validateImageProxy(s map[string]any) error {
	if s["Enable"] != true {
		return nil
	}
	switch s["ImageProxyType"] {
	case "local":
		return nil
	case "atmos/camo":
		if s["RemoteImageProxyURL"] == "" {
			return invalidConfig("atmos_camo_image_proxy_url", "Invalid ImageProxySettings.RemoteImageProxyURL: not empty for atmos/camo.")
		}
		if s["RemoteImageProxyOptions"] == "" {
			return invalidConfig("atmos_camo_image_proxy_options", "Invalid ImageProxySettings.RemoteImageProxyOptions: not empty for atmos/camo.")
		}
		return nil
	}
	return invalidConfig("image_proxy_type", "Invalid ImageProxySettings.ImageProxyType: local or atmos/camo.")
}

// configShape is the default configuration, whose settings' JSON types
// checkConfigTypes requires.
var configShape = normalizeNumbers(defaultConfig("", DefaultMaxUsersPerTeam))

// checkConfigTypes checks that each setting of cfg that shape has holds a
// value of the same JSON type (a whole number where shape has a number),
// as decoding into model.Config's typed fields requires; null and missing
// settings get their defaults before. Free-form settings (a plugin's own,
// AdvancedLoggingJSON) are not checked.
func checkConfigTypes(path string, cfg, shape map[string]any) error {
	for k, d := range shape {
		v, name := cfg[k], strings.TrimPrefix(path+"."+k, ".")
		if v == nil || k == logAdvancedLoggingJSONSetting {
			continue
		}
		var ok bool
		switch d := d.(type) {
		case map[string]any:
			var sub map[string]any
			if sub, ok = v.(map[string]any); ok {
				if err := checkConfigTypes(name, sub, d); err != nil {
					return err
				}
			}
		case bool:
			_, ok = v.(bool)
		case string:
			_, ok = v.(string)
		case float64:
			n, isNumber := v.(float64)
			ok = isNumber && n == math.Trunc(n)
		case []any:
			_, ok = v.([]any)
		default:
			ok = true
		}
		if !ok {
			return apperror.New("api.config.update_config.invalid_json.app_error",
				"Invalid "+name+": it must hold the same JSON type as its default.", "", http.StatusBadRequest)
		}
	}
	return nil
}

// fixSupportLinks replaces the links of SupportSettings that are neither
// an http(s) URL nor a path, as SupportSettings.SetDefaults does: the terms
// of service with their default, the others with "".
func fixSupportLinks(cfg map[string]any) {
	sec := section(cfg, "SupportSettings")
	for _, k := range []string{"TermsOfServiceLink", "PrivacyPolicyLink", "AboutLink", "HelpLink", "ReportAProblemLink", "ForgotPasswordLink"} {
		link, ok := sec[k].(string)
		if !ok || isValidHTTPURL(link) || strings.HasPrefix(link, "/") {
			continue
		}
		if k == "TermsOfServiceLink" {
			sec[k] = supportDefaultTermsOfService
		} else {
			sec[k] = ""
		}
	}
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

// Defaults that more than one check or section uses.
const (
	passwordMinimumLength         = 5  // model.PasswordMinimumLength
	passwordMaximumLength         = 64 // model.PasswordMaximumLength
	supportDefaultTermsOfService  = "https://mattermost.com/pl/terms-of-use/"
	logAdvancedLoggingJSONSetting = "AdvancedLoggingJSON"
)

// otherSectionDefaults returns the sections of model.Config that the
// backend only stores, at their defaults, so that a plugin reading, say,
// PasswordSettings.MinimumLength or PrivacySettings.ShowEmailAddress gets
// Mattermost's default. Each follows the SetDefaults of its settings
// struct in server/public/model/config.go@33b68c603c01dc87da764411792bb833f5f53887,
// for a new installation. FeatureFlags is left out: its flags change with
// every release. CloudSettings too: its defaults depend on the build's
// service environment.
func otherSectionDefaults() map[string]any {
	return map[string]any{
		// ClientRequirements has no SetDefaults: its fields are plain strings.
		"ClientRequirements": map[string]any{
			"AndroidLatestVersion": "", "AndroidMinVersion": "", "IosLatestVersion": "", "IosMinVersion": "",
		},
		// LogSettings.SetDefaults.
		"LogSettings": map[string]any{
			"EnableConsole": true, "ConsoleLevel": "DEBUG", "ConsoleJson": true, "EnableColor": false,
			"EnableFile": true, "FileLevel": "INFO", "FileJson": true, "FileLocation": "",
			"EnableWebhookDebugging": true, "EnableDiagnostics": true, "VerboseDiagnostics": false,
			"EnableSentry": true, logAdvancedLoggingJSONSetting: map[string]any{}, "AdvancedLoggingConfig": "",
		},
		// ExperimentalAuditSettings.SetDefaults.
		"ExperimentalAuditSettings": map[string]any{
			"FileEnabled": false, "FileName": "", "FileMaxSizeMB": 100, "FileMaxAgeDays": 0,
			"FileMaxBackups": 0, "FileCompress": false, "FileMaxQueueSize": 1000,
			logAdvancedLoggingJSONSetting: map[string]any{}, "AdvancedLoggingConfig": "",
		},
		// NotificationLogSettings.SetDefaults.
		"NotificationLogSettings": map[string]any{
			"EnableConsole": true, "ConsoleLevel": "DEBUG", "ConsoleJson": true, "EnableColor": false,
			"EnableFile": true, "FileLevel": "INFO", "FileJson": true, "FileLocation": "",
			logAdvancedLoggingJSONSetting: map[string]any{}, "AdvancedLoggingConfig": "",
		},
		// PasswordSettings.SetDefaults.
		"PasswordSettings": map[string]any{
			"MinimumLength": 8, "Lowercase": false, "Number": false, "Uppercase": false, "Symbol": false,
			"EnableForgotLink": true,
		},
		// RateLimitSettings.SetDefaults; VaryByHeader is a plain string.
		"RateLimitSettings": map[string]any{
			"Enable": false, "PerSec": 10, "MaxBurst": 100, "MemoryStoreSize": 10000,
			"VaryByRemoteAddr": true, "VaryByUser": false, "VaryByHeader": "",
		},
		// PrivacySettings.setDefaults.
		"PrivacySettings": map[string]any{"ShowEmailAddress": true, "ShowFullName": true},
		// SupportSettings.SetDefaults (the SupportSettingsDefault* constants;
		// "mattermomst" is upstream's spelling).
		"SupportSettings": map[string]any{
			"TermsOfServiceLink": supportDefaultTermsOfService,
			"PrivacyPolicyLink":  "https://mattermost.com/pl/privacy-policy/",
			"AboutLink":          "https://mattermost.com/pl/about-mattermomst",
			"HelpLink":           "https://mattermost.com/pl/help/",
			"ReportAProblemLink": "https://mattermost.com/pl/report-a-bug",
			"ForgotPasswordLink": "", "SupportEmail": "", "CustomTermsOfServiceEnabled": false,
			"CustomTermsOfServiceReAcceptancePeriod": 365, "EnableAskCommunityLink": true,
		},
		// AnnouncementSettings.SetDefaults.
		"AnnouncementSettings": map[string]any{
			"EnableBanner": false, "BannerText": "", "BannerColor": "#f2a93b", "BannerTextColor": "#333333",
			"AllowBannerDismissal": true, "AdminNoticesEnabled": true, "UserNoticesEnabled": true,
			"NoticesURL": "https://notices.mattermost.com/", "NoticesFetchFrequency": 3600, "NoticesSkipCache": false,
		},
		// ThemeSettings.SetDefaults.
		"ThemeSettings": map[string]any{
			"EnableThemeSelection": true, "DefaultTheme": "default", "AllowCustomThemes": true, "AllowedThemes": []any{},
		},
		// ComplianceSettings.SetDefaults.
		"ComplianceSettings": map[string]any{"Enable": false, "Directory": "./data/", "EnableDaily": false, "BatchSize": 30000},
		// SamlSettings.SetDefaults; LoginButtonText is model.UserAuthServiceSamlText.
		"SamlSettings": map[string]any{
			"Enable": false, "EnableSyncWithLdap": false, "EnableSyncWithLdapIncludeAuth": false,
			"IgnoreGuestsLdapSync": false, "Verify": true, "Encrypt": true, "SignRequest": false,
			"IdpURL": "", "IdpDescriptorURL": "", "IdpMetadataURL": "", "ServiceProviderIdentifier": "",
			"AssertionConsumerServiceURL": "", "SignatureAlgorithm": "RSAwithSHA1", "CanonicalAlgorithm": "Canonical1.0",
			"ScopingIDPProviderId": "", "ScopingIDPName": "", "IdpCertificateFile": "", "PublicCertificateFile": "",
			"PrivateKeyFile": "", "IdAttribute": "", "GuestAttribute": "", "EnableAdminAttribute": false,
			"AdminAttribute": "", "FirstNameAttribute": "", "LastNameAttribute": "", "EmailAttribute": "",
			"UsernameAttribute": "", "NicknameAttribute": "", "LocaleAttribute": "", "PositionAttribute": "",
			"LoginButtonText": "SAML", "LoginButtonColor": "#34a28b", "LoginButtonBorderColor": "#2389D7",
			"LoginButtonTextColor": "#ffffff",
		},
		// NativeAppSettings.SetDefaults and GetDefaultAppCustomURLSchemes.
		"NativeAppSettings": map[string]any{
			"AppCustomURLSchemes":    []any{"mmauth://", "mmauthbeta://"},
			"AppDownloadLink":        "https://mattermost.com/pl/download-apps",
			"AndroidAppDownloadLink": "https://mattermost.com/pl/android-app/",
			"IosAppDownloadLink":     "https://mattermost.com/pl/ios-app/",
		},
		// ClusterSettings.SetDefaults.
		"ClusterSettings": map[string]any{
			"Enable": false, "ClusterName": "", "OverrideHostname": "", "NetworkInterface": "", "BindAddress": "",
			"AdvertiseAddress": "", "UseIPAddress": true, "EnableGossipCompression": true,
			"EnableExperimentalGossipEncryption": false, "ReadOnlyConfig": true, "GossipPort": 8074,
			"StreamingPort": 8075, "MaxIdleConns": 100, "MaxIdleConnsPerHost": 128, "IdleConnTimeoutMilliseconds": 90000,
		},
		// MetricsSettings.SetDefaults.
		"MetricsSettings": map[string]any{"Enable": false, "BlockProfileRate": 0, "ListenAddress": ":8067"},
		// ExperimentalSettings.SetDefaults.
		"ExperimentalSettings": map[string]any{
			"ClientSideCertEnable": false, "ClientSideCertCheck": "secondary", "LinkMetadataTimeoutMilliseconds": 5000,
			"RestrictSystemAdmin": false, "UseNewSAMLLibrary": false, "EnableSharedChannels": false,
			"EnableRemoteClusterService": false, "DisableAppBar": false, "DisableRefetchingOnBrowserFocus": false,
			"DelayChannelAutocomplete": false,
		},
		// AnalyticsSettings.SetDefaults.
		"AnalyticsSettings": map[string]any{"MaxUsersForStatistics": 2500},
		// BleveSettings.SetDefaults; BulkIndexingTimeWindowSeconds is
		// omitted when unset (json:",omitempty").
		"BleveSettings": map[string]any{
			"IndexDir": "", "EnableIndexing": false, "EnableSearching": false, "EnableAutocomplete": false, "BatchSize": 10000,
		},
		// DataRetentionSettings.SetDefaults.
		"DataRetentionSettings": map[string]any{
			"EnableMessageDeletion": false, "EnableFileDeletion": false, "EnableBoardsDeletion": false,
			"MessageRetentionDays": 365, "FileRetentionDays": 365, "BoardsRetentionDays": 365,
			"DeletionJobStartTime": "02:00", "BatchSize": 3000, "TimeBetweenBatchesMilliseconds": 100,
		},
		// JobSettings.SetDefaults.
		"JobSettings": map[string]any{
			"RunJobs": true, "RunScheduler": true, "CleanupJobsThresholdDays": -1, "CleanupConfigThresholdDays": -1,
		},
		// ProductSettings has no fields.
		"ProductSettings": map[string]any{},
		// DisplaySettings.SetDefaults.
		"DisplaySettings": map[string]any{"CustomURLSchemes": []any{}, "ExperimentalTimezone": true},
		// GuestAccountsSettings.SetDefaults.
		"GuestAccountsSettings": map[string]any{
			"Enable": false, "HideTags": false, "AllowEmailAccounts": true, "EnforceMultifactorAuthentication": false,
			"RestrictCreationToDomains": "",
		},
		// ImageProxySettings.SetDefaults.
		"ImageProxySettings": map[string]any{
			"Enable": false, "ImageProxyType": "local", "RemoteImageProxyURL": "", "RemoteImageProxyOptions": "",
		},
		// ImportSettings.SetDefaults and ExportSettings.SetDefaults.
		"ImportSettings": map[string]any{"Directory": "./import", "RetentionDays": 30},
		"ExportSettings": map[string]any{"Directory": "./export", "RetentionDays": 30},
	}
}

// WithPluginSettings keeps the plugins' saved settings,
// PluginSettings.Plugins[<plugin id>] of the configuration, in a shared
// store as well, such as the PostgreSQL store of a cluster's nodes: a save
// of the configuration writes each plugin's settings that it changed to
// the store before it takes effect, and GetConfig and GetUnsanitizedConfig
// first take the store's settings into the configuration (see
// syncPluginSettings). A nil store keeps the default: the settings live in
// the configuration alone.
func WithPluginSettings(s store.PluginSettings) Option {
	return optionFunc(func(b *Backend) {
		if s != nil {
			b.settings = s
		}
	})
}

// syncPluginSettings takes every plugin's settings of the shared store
// into the configuration, over those it held; a plugin that the store
// does not know keeps its settings. Without a store it does nothing. The
// store is called without the lock.
func (b *Backend) syncPluginSettings(ctx context.Context) error {
	if b.settings == nil {
		return nil
	}
	all, err := b.settings.AllPluginSettings(ctx)
	if err != nil {
		return settingsError(err, "app.plugin_store.settings.get.app_error")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	_, plugins, _ := pluginSettingsOf(b.config)
	for id, settings := range all {
		plugins[id] = settings
	}
	return nil
}

// changedPluginSettings returns the plugins' settings of next that differ
// from those of the current configuration, to be saved to the shared
// store; nil without a store. The caller holds the lock.
func (b *Backend) changedPluginSettings(next map[string]any) map[string]map[string]any {
	if b.settings == nil {
		return nil
	}
	_, current, _ := pluginSettingsOf(cloneJSON(b.config).(map[string]any))
	_, plugins, _ := pluginSettingsOf(cloneJSON(next).(map[string]any))
	changed := map[string]map[string]any{}
	for id, v := range plugins {
		settings, _ := v.(map[string]any)
		if !reflect.DeepEqual(current[id], v) {
			changed[id] = settings
		}
	}
	return changed
}

// savePluginSettings writes settings, by plugin id, to the shared store.
// The caller does not hold the lock.
func (b *Backend) savePluginSettings(ctx context.Context, settings map[string]map[string]any) error {
	for _, id := range sortedKeys(settings, byString) {
		if err := b.settings.SavePluginSettings(ctx, id, settings[id]); err != nil {
			return settingsError(err, "app.save_config.app_error")
		}
	}
	return nil
}

// settingsError is the error of a failed call of the shared settings
// store: an AppError as it is (the store's 503 when it cannot be
// reached), any other error as a 500 with id.
func settingsError(err error, id string) error {
	var appErr *apperror.Error
	if errors.As(err, &appErr) {
		return appErr
	}
	return apperror.New(id, "An error occurred with the plugins' shared settings.",
		apperror.Truncate(err.Error(), apperror.MaxMessageBytes), http.StatusInternalServerError)
}
