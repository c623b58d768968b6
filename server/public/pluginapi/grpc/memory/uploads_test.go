package memory

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc"

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

// uploadStream is the server side of an UploadData call: a head, then the
// data in chunks.
type uploadStream struct {
	grpc.ServerStream
	reqs []*pluginpb.UploadDataRequest
	resp *pluginpb.UploadDataResponse
}

func newUploadStream(us *pluginpb.UploadSession, data []byte) *uploadStream {
	s := &uploadStream{}
	s.reqs = append(s.reqs, &pluginpb.UploadDataRequest{Part: &pluginpb.UploadDataRequest_Head{Head: &pluginpb.UploadDataHead{UploadSession: us}}})
	for len(data) > 0 {
		n := min(len(data), 1<<20)
		s.reqs = append(s.reqs, &pluginpb.UploadDataRequest{Part: &pluginpb.UploadDataRequest_Chunk{Chunk: data[:n]}})
		data = data[n:]
	}
	return s
}

func (s *uploadStream) Context() context.Context { return context.Background() }

func (s *uploadStream) Recv() (*pluginpb.UploadDataRequest, error) {
	if len(s.reqs) == 0 {
		return nil, io.EOF
	}
	r := s.reqs[0]
	s.reqs = s.reqs[1:]
	return r, nil
}

func (s *uploadStream) SendAndClose(r *pluginpb.UploadDataResponse) error {
	s.resp = r
	return nil
}

// uploadData sends data to the session us and returns the file info, if
// the upload is complete.
func uploadData(b *Backend, us *pluginpb.UploadSession, data []byte) (*pluginpb.FileInfo, error) {
	s := newUploadStream(us, data)
	if err := b.UploadData(s); err != nil {
		return nil, err
	}
	return s.resp.GetFileInfo(), nil
}

// TestCreateUploadSessionFollowsTheAppLayer checks CreateUploadSession
// against App.CreateUploadSession (server/channels/app/upload.go@5c839440)
// and UploadSession.IsValid (server/public/model/upload_session.go@5c839440):
// IsValid's checks in its order, then the attachment's channel; no user
// lookup and no size bound.
func TestCreateUploadSessionFollowsTheAppLayer(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	b := w.b
	town := townSquareID(t, w)
	archived := createChannel(t, b, &pluginpb.Channel{TeamId: w.team.GetId(), Name: "old", DisplayName: "Old", Type: "O"})
	if _, err := b.DeleteChannel(ctx, &pluginpb.DeleteChannelRequest{ChannelId: archived.GetId()}); err != nil {
		t.Fatal(err)
	}
	session := func(change func(us *pluginpb.UploadSession)) *pluginpb.UploadSession {
		us := &pluginpb.UploadSession{Type: uploadAttachment, UserId: w.alice.GetId(), ChannelId: town, Filename: "a.txt", FileSize: 10}
		change(us)
		return us
	}
	tests := []struct {
		name   string
		us     *pluginpb.UploadSession
		id     string
		status int
	}{
		{"malformed id", session(func(us *pluginpb.UploadSession) { us.Id = "bad" }), "model.upload_session.is_valid.id.app_error", http.StatusBadRequest},
		{"unknown type", session(func(us *pluginpb.UploadSession) { us.Type = "photo" }), "model.upload_session.is_valid.type.app_error", http.StatusBadRequest},
		{"malformed user", session(func(us *pluginpb.UploadSession) { us.UserId = "x" }), "model.upload_session.is_valid.user_id.app_error", http.StatusBadRequest},
		{"no channel", session(func(us *pluginpb.UploadSession) { us.ChannelId = "" }), "model.upload_session.is_valid.channel_id.app_error", http.StatusBadRequest},
		{"no name", session(func(us *pluginpb.UploadSession) { us.Filename = "" }), "model.upload_session.is_valid.filename.app_error", http.StatusBadRequest},
		{"no size", session(func(us *pluginpb.UploadSession) { us.FileSize = 0 }), "model.upload_session.is_valid.file_size.app_error", http.StatusBadRequest},
		{"unknown channel", session(func(us *pluginpb.UploadSession) { us.ChannelId = newID() }), "app.upload.create.incorrect_channel_id.app_error", http.StatusBadRequest},
		{"archived channel", session(func(us *pluginpb.UploadSession) { us.ChannelId = archived.GetId() }), "app.upload.create.cannot_upload_to_deleted_channel.app_error", http.StatusBadRequest},
		{"unknown user", session(func(us *pluginpb.UploadSession) { us.UserId = newID() }), "", 0},
		{"no user", session(func(us *pluginpb.UploadSession) { us.UserId = uploadNoUserID }), "", 0},
		{"past MaxFileSize", session(func(us *pluginpb.UploadSession) { us.FileSize = 1 << 40 }), "", 0},
		{"an import needs no channel", session(func(us *pluginpb.UploadSession) { us.Type, us.ChannelId = uploadImport, "" }), "", 0},
	}
	for _, tt := range tests {
		_, err := b.CreateUploadSession(ctx, &pluginpb.CreateUploadSessionRequest{Us: tt.us})
		if tt.id != "" {
			wantAppErrorID(t, "CreateUploadSession("+tt.name+")", err, tt.id, tt.status)
		} else if err != nil {
			t.Errorf("CreateUploadSession(%s) = %v", tt.name, err)
		}
	}
	// A given id is kept, and the path takes the name's last element.
	id := newID()
	resp, err := b.CreateUploadSession(ctx, &pluginpb.CreateUploadSessionRequest{Us: session(func(us *pluginpb.UploadSession) { us.Id, us.Filename = id, "dir/b.txt" })})
	if err != nil {
		t.Fatal(err)
	}
	us := resp.GetUploadSession()
	if wantSuffix := "/users/" + w.alice.GetId() + "/" + id + "/b.txt"; us.GetId() != id || !strings.HasSuffix(us.GetPath(), wantSuffix) {
		t.Errorf("session = %v; want id %s and a path ending %s", us, id, wantSuffix)
	}
	_, err = b.CreateUploadSession(ctx, &pluginpb.CreateUploadSessionRequest{Us: session(func(us *pluginpb.UploadSession) { us.Id = id })})
	wantAppErrorID(t, "CreateUploadSession(id in use)", err, "app.upload.create.save.app_error", http.StatusInternalServerError)
	resp, err = b.CreateUploadSession(ctx, &pluginpb.CreateUploadSessionRequest{Us: session(func(us *pluginpb.UploadSession) { us.Type, us.ChannelId = uploadImport, "" })})
	if err != nil || resp.GetUploadSession().GetPath() != "import/"+resp.GetUploadSession().GetId()+"_a.txt" {
		t.Errorf("import session = %v, %v; want the path import/<id>_a.txt", resp, err)
	}
}

// TestUploadDataFollowsTheAppLayer checks UploadData against App.UploadData
// (server/channels/app/upload.go@5c839440): one call at a time, the
// caller's offset must be the stored one, a first part under 5 MiB that is
// not the whole file is refused, data past the size is not read, and the
// file info is validated and saved when the upload is complete.
func TestUploadDataFollowsTheAppLayer(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	b := w.b
	town := townSquareID(t, w)
	create := func(size int64, reqFileID string) *pluginpb.UploadSession {
		t.Helper()
		resp, err := b.CreateUploadSession(ctx, &pluginpb.CreateUploadSessionRequest{Us: &pluginpb.UploadSession{
			Type: uploadAttachment, UserId: w.alice.GetId(), ChannelId: town, Filename: "f.bin", FileSize: size, ReqFileId: reqFileID}})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetUploadSession()
	}
	stored := func(id string) *pluginpb.UploadSession {
		t.Helper()
		resp, err := b.GetUploadSession(ctx, &pluginpb.GetUploadSessionRequest{UploadId: id})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetUploadSession()
	}

	small := create(10, "")
	_, err := uploadData(b, small, []byte("01234"))
	wantAppErrorID(t, "UploadData(a small first part)", err, "app.upload.upload_data.first_part_too_small.app_error", http.StatusBadRequest)
	if got := stored(small.GetId()).GetFileOffset(); got != 0 {
		t.Errorf("offset after a refused first part = %d; want 0", got)
	}
	// Data past the size is not read: the first 10 bytes make the file.
	info, err := uploadData(b, small, []byte("0123456789 and more"))
	if err != nil || info.GetSize() != 10 || info.GetCreatorId() != w.alice.GetId() || info.GetId() != small.GetId() {
		t.Errorf("UploadData(whole file and more) = %v, %v; want a 10-byte file of alice's under the session's id", info, err)
	}

	big := create(minFirstPartSize+3, "")
	first := bytes.Repeat([]byte("x"), minFirstPartSize)
	if info, err := uploadData(b, big, first); err != nil || info != nil {
		t.Fatalf("UploadData(first 5 MiB) = %v, %v; want no file info yet", info, err)
	}
	// The caller's session still says offset 0: a stale offset.
	_, err = uploadData(b, big, []byte("abc"))
	wantAppErrorID(t, "UploadData(stale offset)", err, "app.upload.upload_data.concurrent.app_error", http.StatusBadRequest)
	// Another call under way holds the session's lock.
	b.mu.Lock()
	b.lockUpload(big.GetId())
	b.mu.Unlock()
	_, err = uploadData(b, stored(big.GetId()), []byte("abc"))
	wantAppErrorID(t, "UploadData(concurrent)", err, "app.upload.upload_data.concurrent.app_error", http.StatusBadRequest)
	b.mu.Lock()
	delete(b.files.uploading, big.GetId())
	b.mu.Unlock()
	if info, err := uploadData(b, stored(big.GetId()), []byte("abc")); err != nil || info.GetSize() != minFirstPartSize+3 {
		t.Errorf("UploadData(the rest) = %v, %v; want the whole file", info, err)
	}
	_, err = uploadData(b, big, nil)
	wantAppErrorID(t, "UploadData(completed session)", err, "app.upload.get.app_error", http.StatusNotFound)

	// FileInfo.IsValid checks the requested id when the file info is saved.
	bad := create(3, "bad")
	_, err = uploadData(b, bad, []byte("abc"))
	wantAppErrorID(t, "UploadData(malformed req_file_id)", err, "model.file_info.is_valid.id.app_error", http.StatusBadRequest)
}

// TestReadFileFailsAsTheFileBackend checks ReadFile against Server.ReadFile
// (server/channels/app/server.go@000e7a7f): any failure of the file
// backend is api.file.read_file.app_error, 500.
func TestReadFileFailsAsTheFileBackend(t *testing.T) {
	b, _ := newTestBackend(t)
	for _, p := range []string{"no/such/file", "../../etc/passwd", "", "/"} {
		err := b.ReadFile(&pluginpb.ReadFileRequest{Path: p}, nil)
		wantAppErrorID(t, "ReadFile("+p+")", err, "api.file.read_file.app_error", http.StatusInternalServerError)
	}
}
