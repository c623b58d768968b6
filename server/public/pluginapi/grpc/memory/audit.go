package memory

// This file holds the handlers of the audit part of the logging/audit
// domain: records go to the event log, as "audit", with their structured
// fields.

import (
	"context"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// LogAuditRec writes a record to the audit log at level "audit-api". As
// upstream's API.LogAuditRec, which returns nothing, it never fails:
// App.LogAuditRecWithLevel ignores a missing record
// (server/channels/app/audit.go@0d45f357), and any other record is
// written as it is, an empty event name included.
func (b *Backend) LogAuditRec(ctx context.Context, req *pluginpb.LogAuditRecRequest) (*pluginpb.LogAuditRecResponse, error) {
	if req.GetRec() != nil {
		b.record(ctx, "audit", &pluginpb.LogAuditRecWithLevelRequest{Rec: req.GetRec(), Level: "audit-api"})
	}
	return &pluginpb.LogAuditRecResponse{}, nil
}

// LogAuditRecWithLevel writes a record to the audit log at a level. As
// upstream's App.LogAuditRecWithLevel, it never fails: a missing record
// is ignored, and any level is taken as it is.
func (b *Backend) LogAuditRecWithLevel(ctx context.Context, req *pluginpb.LogAuditRecWithLevelRequest) (*pluginpb.LogAuditRecWithLevelResponse, error) {
	if req.GetRec() != nil {
		b.record(ctx, "audit", req)
	}
	return &pluginpb.LogAuditRecWithLevelResponse{}, nil
}
