package memory

// This file holds the users' statuses and custom statuses.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// Statuses of model.Status.
const (
	statusOnline  = "online"
	statusAway    = "away"
	statusDND     = "dnd"
	statusOffline = "offline"
)

// customStatusProp is the user prop that holds a custom status, as
// model.UserPropsKeyCustomStatus.
const customStatusProp = "customStatus"

// GetUserStatus returns a user's status. As PlatformService.GetStatus, any
// id with no status, malformed ones included, is
// app.status.get.missing.app_error (404).
func (b *Backend) GetUserStatus(_ context.Context, req *pluginpb.GetUserStatusRequest) (*pluginpb.GetUserStatusResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.statuses.get(req.GetUserId())
	if !ok {
		return nil, apperror.New("app.status.get.missing.app_error",
			"Unable to find the status.", "user_id="+req.GetUserId(), http.StatusNotFound)
	}
	return &pluginpb.GetUserStatusResponse{Status: s}, nil
}

// GetUserStatusesByIds returns the statuses of users; any id with none,
// malformed ones included, is reported offline, as
// PlatformService.GetUserStatusesByIds does.
func (b *Backend) GetUserStatusesByIds(_ context.Context, req *pluginpb.GetUserStatusesByIdsRequest) (*pluginpb.GetUserStatusesByIdsResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return &pluginpb.GetUserStatusesByIdsResponse{Statuses: b.statuses.ofUsers(req.GetUserIds())}, nil
}

// setStatus changes the status of an existing user as the PlatformService
// setter of that status does (server/channels/app/platform/status.go@c3d51311):
// online is not manual and touches last_activity_at, offline replaces the
// status, away and dnd keep the rest of the status, or start from an
// offline one. dndEnd, when set, is a timed do-not-disturb's end. The
// caller holds the lock.
func (b *Backend) setStatus(userID, status string, dndEnd int64) (*pluginpb.Status, error) {
	if _, err := b.lookupUser(userID); err != nil {
		return nil, err
	}
	s, ok := b.statuses.get(userID)
	switch status {
	case statusOnline:
		if !ok {
			s = &pluginpb.Status{UserId: userID}
		}
		s.Status, s.Manual, s.LastActivityAt = statusOnline, false, b.nowMillis()
	case statusOffline:
		s = &pluginpb.Status{UserId: userID, Status: statusOffline, Manual: true, LastActivityAt: b.nowMillis()}
	default:
		if !ok {
			s = &pluginpb.Status{UserId: userID, Status: statusOffline}
		}
		s.Status, s.Manual = status, true
		if status == statusAway {
			s.ActiveChannel = ""
		}
		if dndEnd != 0 {
			s.DndEndTime = dndEnd
		}
	}
	b.statuses.put(s)
	return s, nil
}

// UpdateUserStatus sets a user's status as PluginAPI.UpdateUserStatus
// does: an unknown status is plugin.api.update_user_status.bad_status
// (400), then the status's setter runs with manual set.
func (b *Backend) UpdateUserStatus(_ context.Context, req *pluginpb.UpdateUserStatusRequest) (*pluginpb.UpdateUserStatusResponse, error) {
	switch req.GetStatus() {
	case statusOnline, statusAway, statusDND, statusOffline:
	default:
		return nil, apperror.New("plugin.api.update_user_status.bad_status",
			`Unrecognized status: "online", "away", "dnd" or "offline".`, "status="+req.GetStatus(), http.StatusBadRequest)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s, err := b.setStatus(req.GetUserId(), req.GetStatus(), 0)
	if err != nil {
		return nil, err
	}
	return &pluginpb.UpdateUserStatusResponse{Status: s}, nil
}

// SetUserStatusTimedDND sets a user to do-not-disturb until end_time, in
// seconds since the Unix epoch, truncated to the minute as
// PlatformService.SetStatusDoNotDisturbTimed does (its expiry job runs
// every minute); the time is not checked.
func (b *Backend) SetUserStatusTimedDND(_ context.Context, req *pluginpb.SetUserStatusTimedDNDRequest) (*pluginpb.SetUserStatusTimedDNDResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	end := time.Unix(req.GetEndTime(), 0).Truncate(time.Minute).Unix()
	s, err := b.setStatus(req.GetUserId(), statusDND, end)
	if err != nil {
		return nil, err
	}
	return &pluginpb.SetUserStatusTimedDNDResponse{Status: s}, nil
}

// UpdateUserCustomStatus sets a user's custom status as
// PluginAPI.UpdateUserCustomStatus does through App.SetCustomStatus
// (server/channels/app/status.go@894b4f90): no status, or one with neither
// emoji nor text, is api.custom_status.set_custom_statuses.update.app_error
// (400), before the user lookup (app.user.missing_account.const, 404).
// Nothing else is checked or defaulted on that path (the text limit, the
// durations and the default emoji are the REST handler's and
// model.CustomStatus.PreSave's): model.User.SetCustomStatus stores the
// status as JSON in the "customStatus" prop, expires_at as a time
// (RFC 3339, the zero time for 0), and App.UpdateUser stores the user,
// who must stay valid. Then App.addRecentCustomStatus puts the status
// first in the user's custom_status/recent_custom_statuses preference
// (model.RecentCustomStatuses.Add: a status with the same text leaves,
// at most 5 kept); a failure there is only logged upstream, so here it
// leaves the preference alone.
func (b *Backend) UpdateUserCustomStatus(_ context.Context, req *pluginpb.UpdateUserCustomStatusRequest) (*pluginpb.UpdateUserCustomStatusResponse, error) {
	cs := req.GetCustomStatus()
	if cs.GetEmoji() == "" && cs.GetText() == "" {
		return nil, apperror.New("api.custom_status.set_custom_statuses.update.app_error",
			"Invalid custom status: it needs an emoji or a text.", "", http.StatusBadRequest)
	}
	status := customStatusJSON{Emoji: cs.GetEmoji(), Text: cs.GetText(), Duration: cs.GetDuration()}
	if ms := cs.GetExpiresAt(); ms != 0 {
		status.ExpiresAt = time.UnixMilli(ms).UTC()
	}
	value, err := json.Marshal(status)
	if err != nil {
		return nil, fmt.Errorf("encoding the custom status: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	old, err := b.lookupUser(req.GetUserId())
	if err != nil {
		return nil, err
	}
	u := proto.Clone(old).(*pluginpb.User)
	if u.Props == nil {
		u.Props = map[string]string{}
	}
	u.Props[customStatusProp] = string(value)
	if err := validateUser(u); err != nil {
		return nil, err
	}
	b.updateUser(u)
	b.addRecentCustomStatus(u.GetId(), status)
	return &pluginpb.UpdateUserCustomStatusResponse{}, nil
}

// customStatusJSON is model.CustomStatus as it is stored
// (server/public/model/custom_status.go@42c05bfe).
type customStatusJSON struct {
	Emoji     string    `json:"emoji"`
	Text      string    `json:"text"`
	Duration  string    `json:"duration"`
	ExpiresAt time.Time `json:"expires_at"`
}

// The preference of a user's recent custom statuses
// (model.PreferenceCategoryCustomStatus, PreferenceNameRecentCustomStatuses)
// and how many it keeps (model.MaxRecentCustomStatuses).
const (
	preferenceCategoryCustomStatus = "custom_status"
	preferenceRecentCustomStatuses = "recent_custom_statuses"
	maxRecentCustomStatuses        = 5
)

// addRecentCustomStatus is App.addRecentCustomStatus
// (server/channels/app/status.go@894b4f90): the status goes first in the
// list, whose statuses with the same text leave, and the list keeps 5; a
// stored value that is not such a list, or a list too long to save, is an
// error upstream only logs, so the preference stays. The caller holds the
// lock.
func (b *Backend) addRecentCustomStatus(userID string, status customStatusJSON) {
	recent := []customStatusJSON{status}
	if p, ok := b.preferences.get(userID, preferenceCategoryCustomStatus, preferenceRecentCustomStatuses); ok && p.GetValue() != "" {
		var stored []customStatusJSON
		if err := json.Unmarshal([]byte(p.GetValue()), &stored); err != nil {
			return
		}
		for _, s := range stored {
			if s.Text != status.Text {
				recent = append(recent, s)
			}
		}
	}
	recent = recent[:min(len(recent), maxRecentCustomStatuses)]
	value, err := json.Marshal(recent)
	if err != nil {
		return
	}
	// App.UpdatePreferences saves it: a value too long for
	// Preference.IsValid fails there, and is only logged.
	p := &pluginpb.Preference{UserId: userID, Category: preferenceCategoryCustomStatus, Name: preferenceRecentCustomStatuses, Value: string(value)}
	if validatePreference(p) != nil {
		return
	}
	b.preferences.put([]*pluginpb.Preference{p})
}

// RemoveUserCustomStatus clears a user's custom status as
// PluginAPI.RemoveUserCustomStatus does through App.RemoveCustomStatus
// (server/channels/app/status.go@894b4f90): App.GetUser (any id that names
// no user: app.user.missing_account.const, 404), then
// model.User.ClearCustomStatus (server/public/model/user.go@14e5a8a3),
// which sets the "customStatus" prop to "" rather than removing it, and
// App.UpdateUser, whose checks a stored user passes unchanged.
func (b *Backend) RemoveUserCustomStatus(_ context.Context, req *pluginpb.RemoveUserCustomStatusRequest) (*pluginpb.RemoveUserCustomStatusResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	old, err := b.lookupUser(req.GetUserId())
	if err != nil {
		return nil, err
	}
	u := proto.Clone(old).(*pluginpb.User)
	if u.Props == nil {
		u.Props = map[string]string{}
	}
	u.Props[customStatusProp] = ""
	b.updateUser(u)
	return &pluginpb.RemoveUserCustomStatusResponse{}, nil
}
