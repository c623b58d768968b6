package memory

// This file holds the handlers of the server/config domain: the version,
// the configuration, the license and the server's identity. The
// configuration lives in config_store.go.

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// GetServerVersion returns the configured server version.
func (b *Backend) GetServerVersion(context.Context, *pluginpb.GetServerVersionRequest) (*pluginpb.GetServerVersionResponse, error) {
	return &pluginpb.GetServerVersionResponse{Version: b.version}, nil
}

// GetConfig returns the configuration with its secrets hidden.
func (b *Backend) GetConfig(ctx context.Context, _ *pluginpb.GetConfigRequest) (*pluginpb.GetConfigResponse, error) {
	if err := b.syncPluginSettings(ctx); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return &pluginpb.GetConfigResponse{Config: &pluginpb.Config{Json: encodeConfig(sanitizedConfig(b.config))}}, nil
}

// GetUnsanitizedConfig returns the configuration with its secrets.
func (b *Backend) GetUnsanitizedConfig(ctx context.Context, _ *pluginpb.GetUnsanitizedConfigRequest) (*pluginpb.GetUnsanitizedConfigResponse, error) {
	if err := b.syncPluginSettings(ctx); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return &pluginpb.GetUnsanitizedConfigResponse{Config: &pluginpb.Config{Json: encodeConfig(b.config)}}, nil
}

// SaveConfig replaces the configuration, as PluginAPI.SaveConfig does
// through App.SaveConfig (see saveConfig).
func (b *Backend) SaveConfig(ctx context.Context, req *pluginpb.SaveConfigRequest) (*pluginpb.SaveConfigResponse, error) {
	cfg, err := parseConfig(req.GetConfig().GetJson())
	if err != nil {
		return nil, err
	}
	if err := b.saveConfig(ctx, cfg); err != nil {
		return nil, err
	}
	return &pluginpb.SaveConfigResponse{}, nil
}

// saveConfig saves cfg as the whole configuration (with [WithPluginSettings],
// the plugins' settings that it changes go to the shared store first, and
// a failure there saves nothing), as App.SaveConfig does
// through PlatformService.SaveConfig and config.Store.Set
// (server/channels/app/platform/config.go@04e85894:PlatformService.SaveConfig,
// server/config/store.go@1140b87e:Store.Set): ConfigurationWillBeSaved
// runs first and may replace the configuration, whole, or fail the save
// (its AppError as it is, another error as
// app.save_config.plugin_hook_error, 400); then missing settings get
// their defaults, a secret that reads as the sanitized placeholder keeps
// its stored value, and the configuration is checked. A setting of the
// wrong JSON type is api.config.update_config.invalid_json.app_error
// (400), as decoding into model.Config refuses it before the call; a
// refusal of Config.IsValid is wrapped, as Store.Set's error is, in
// app.save_config.app_error (500), the rule's id in its details. A
// refused configuration changes nothing. OnConfigurationChange runs after
// a save that changed the configuration, as Store.Set calls its listeners
// only then.
func (b *Backend) saveConfig(ctx context.Context, cfg map[string]any) error {
	answer, err := b.hooks.ConfigurationWillBeSaved(ctx, &pluginpb.Config{Json: encodeConfig(cfg)})
	if err != nil {
		var appErr *apperror.Error
		if errors.As(err, &appErr) {
			return appErr
		}
		return apperror.New("app.save_config.plugin_hook_error",
			"A plugin failed the configuration save.", err.Error(), http.StatusBadRequest)
	}
	if answer != nil {
		if cfg, err = parseConfig(answer.GetJson()); err != nil {
			return apperror.New("app.save_config.plugin_hook_error",
				"A plugin answered a configuration that is not a JSON object.", "", http.StatusBadRequest)
		}
	}
	b.mu.Lock()
	desanitize(cfg, b.config)
	cfg = completeConfig(cfg, b.pluginID)
	if err := validateConfig(cfg); err != nil {
		b.mu.Unlock()
		return saveRefused(err)
	}
	settings := b.changedPluginSettings(cfg)
	b.mu.Unlock()
	if err := b.savePluginSettings(ctx, settings); err != nil {
		return err
	}
	b.mu.Lock()
	changed := !reflect.DeepEqual(b.config, cfg)
	b.config = cfg
	b.mu.Unlock()
	if changed {
		b.hooks.OnConfigurationChange(ctx)
	}
	return nil
}

// saveRefused is the error of a save that validateConfig refused: a
// refusal of Config.IsValid wrapped in app.save_config.app_error (500),
// as PlatformService.SaveConfig wraps Store.Set's "new configuration is
// invalid"; any other error as it is.
func saveRefused(err error) error {
	var appErr *apperror.Error
	if !errors.As(err, &appErr) || !strings.HasPrefix(appErr.ID, "model.config.is_valid.") {
		return err
	}
	wrapped := apperror.New("app.save_config.app_error", "An error occurred saving the configuration.",
		apperror.Truncate("new configuration is invalid: "+appErr.ID+": "+appErr.Message, apperror.MaxMessageBytes),
		http.StatusInternalServerError)
	wrapped.Where = "saveConfig"
	return wrapped
}

// GetLicense returns the license that [Licensed] installed, or none.
func (b *Backend) GetLicense(context.Context, *pluginpb.GetLicenseRequest) (*pluginpb.GetLicenseResponse, error) {
	if b.license == nil {
		return &pluginpb.GetLicenseResponse{}, nil
	}
	return &pluginpb.GetLicenseResponse{License: proto.Clone(b.license).(*pluginpb.License)}, nil
}

// IsEnterpriseReady reports whether the backend behaves as an Enterprise
// build: only with a license ([Licensed]); without, it is Team Edition.
func (b *Backend) IsEnterpriseReady(context.Context, *pluginpb.IsEnterpriseReadyRequest) (*pluginpb.IsEnterpriseReadyResponse, error) {
	return &pluginpb.IsEnterpriseReadyResponse{IsEnterpriseReady: b.license != nil}, nil
}

// GetSystemInstallDate returns when the backend was created.
func (b *Backend) GetSystemInstallDate(context.Context, *pluginpb.GetSystemInstallDateRequest) (*pluginpb.GetSystemInstallDateResponse, error) {
	return &pluginpb.GetSystemInstallDateResponse{InstallDate: b.installDate}, nil
}

// GetDiagnosticId returns the server's telemetry id.
func (b *Backend) GetDiagnosticId(context.Context, *pluginpb.GetDiagnosticIdRequest) (*pluginpb.GetDiagnosticIdResponse, error) {
	return &pluginpb.GetDiagnosticIdResponse{DiagnosticId: b.telemetryID}, nil
}

// GetTelemetryId returns the server's telemetry id.
func (b *Backend) GetTelemetryId(context.Context, *pluginpb.GetTelemetryIdRequest) (*pluginpb.GetTelemetryIdResponse, error) {
	return &pluginpb.GetTelemetryIdResponse{TelemetryId: b.telemetryID}, nil
}

// RequestTrialLicense checks the request as Mattermost does, then fails:
// a trial comes from Mattermost's license server, which the backend does
// not reach.
func (b *Backend) RequestTrialLicense(_ context.Context, req *pluginpb.RequestTrialLicenseRequest) (*pluginpb.RequestTrialLicenseResponse, error) {
	switch {
	case !req.GetTermsAccepted():
		return nil, apperror.New("api.license.request-trial.bad-request.terms-not-accepted",
			"The terms of the trial must be accepted.", "", http.StatusBadRequest)
	case req.GetUsers() <= 0:
		return nil, apperror.New("api.license.request-trial.bad-request",
			"A trial needs a number of users.", "", http.StatusBadRequest)
	case !isValidID(req.GetRequesterId()):
		return nil, invalidParam("requester_id")
	}
	return nil, apperror.New("api.license.request_trial_license.app_error",
		"Trial licenses come from Mattermost's license server, which this server does not reach.", "",
		http.StatusNotImplemented)
}

// GetCloudLimits returns no limits: the backend is a self-hosted server.
func (b *Backend) GetCloudLimits(context.Context, *pluginpb.GetCloudLimitsRequest) (*pluginpb.GetCloudLimitsResponse, error) {
	return &pluginpb.GetCloudLimitsResponse{Limits: &pluginpb.ProductLimits{}}, nil
}
