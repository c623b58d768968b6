package memory

// This file holds the handlers of the audit part of the logging/audit
// domain: records go to the event log, as "audit", with their structured
// fields.

import (
	"context"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// auditLevels are the levels that LogAuditRecWithLevel accepts: the audit
// levels of mlog and the ordinary log levels.
var auditLevels = map[string]bool{
	"audit-api": true, "audit-content": true, "audit-perms": true, "audit-cli": true,
	"debug": true, "info": true, "warn": true, "error": true,
}

// checkAuditRecord rejects a missing record, or one without an event name.
func checkAuditRecord(rec *pluginpb.AuditRecord) error {
	if rec.GetEventName() == "" {
		return invalidParam("rec.event_name")
	}
	return nil
}

// LogAuditRec writes a record to the audit log at level "audit-api".
func (b *Backend) LogAuditRec(ctx context.Context, req *pluginpb.LogAuditRecRequest) (*pluginpb.LogAuditRecResponse, error) {
	if err := checkAuditRecord(req.GetRec()); err != nil {
		return nil, err
	}
	b.record(ctx, "audit", &pluginpb.LogAuditRecWithLevelRequest{Rec: req.GetRec(), Level: "audit-api"})
	return &pluginpb.LogAuditRecResponse{}, nil
}

// LogAuditRecWithLevel writes a record to the audit log at a level.
func (b *Backend) LogAuditRecWithLevel(ctx context.Context, req *pluginpb.LogAuditRecWithLevelRequest) (*pluginpb.LogAuditRecWithLevelResponse, error) {
	if err := checkAuditRecord(req.GetRec()); err != nil {
		return nil, err
	}
	if !auditLevels[req.GetLevel()] {
		return nil, invalidParam("level")
	}
	b.record(ctx, "audit", req)
	return &pluginpb.LogAuditRecWithLevelResponse{}, nil
}
