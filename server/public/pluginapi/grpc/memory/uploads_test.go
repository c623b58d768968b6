package memory

import (
	"context"
	"net/http"
	"testing"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// TestGetUploadSessionLooksAnyIDUp checks GetUploadSession against
// App.GetUploadSession
// (server/channels/app/upload.go@04cccb28bdf6142df986596497b701052000d93d):
// the store looks any id up, so a malformed one is not found.
func TestGetUploadSessionLooksAnyIDUp(t *testing.T) {
	b, _ := newTestBackend(t)
	for _, id := range []string{newID(), "bad", ""} {
		_, err := b.GetUploadSession(context.Background(), &pluginpb.GetUploadSessionRequest{UploadId: id})
		wantAppErrorID(t, "GetUploadSession("+id+")", err, "app.upload.get.app_error", http.StatusNotFound)
	}
}
