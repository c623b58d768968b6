package memory

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// fileUploadStream is the server side of an UploadFile call: a head, then
// the data in chunks.
type fileUploadStream struct {
	grpc.ServerStream
	reqs []*pluginpb.UploadFileRequest
	resp *pluginpb.UploadFileResponse
}

func (s *fileUploadStream) Context() context.Context { return context.Background() }

func (s *fileUploadStream) Recv() (*pluginpb.UploadFileRequest, error) {
	if len(s.reqs) == 0 {
		return nil, io.EOF
	}
	r := s.reqs[0]
	s.reqs = s.reqs[1:]
	return r, nil
}

func (s *fileUploadStream) SendAndClose(r *pluginpb.UploadFileResponse) error {
	s.resp = r
	return nil
}

// uploadFile uploads data as name to a channel, in chunks of 3 bytes so
// that the store joins them.
func uploadFile(b *Backend, channelID, name string, data []byte) (*pluginpb.FileInfo, error) {
	s := &fileUploadStream{reqs: []*pluginpb.UploadFileRequest{{Part: &pluginpb.UploadFileRequest_Head{
		Head: &pluginpb.UploadFileHead{ChannelId: channelID, Filename: name}}}}}
	for len(data) > 0 {
		n := min(len(data), 3)
		s.reqs = append(s.reqs, &pluginpb.UploadFileRequest{Part: &pluginpb.UploadFileRequest_Chunk{Chunk: data[:n]}})
		data = data[n:]
	}
	if err := b.UploadFile(s); err != nil {
		return nil, err
	}
	return s.resp.GetFileInfo(), nil
}

// fileDownloadStream is the server side of a GetFile call.
type fileDownloadStream struct {
	grpc.ServerStream
	data bytes.Buffer
}

func (s *fileDownloadStream) Send(r *pluginpb.GetFileResponse) error {
	s.data.Write(r.GetChunk())
	return nil
}

// fileWorld is a post world whose file data lives in a test directory.
func newFileWorld(t *testing.T) postWorld {
	t.Helper()
	w := newPostWorld(t)
	w.b.mu.Lock()
	w.b.files.root = t.TempDir()
	w.b.mu.Unlock()
	return w
}

func mustUpload(t *testing.T, w postWorld, name string, data []byte) *pluginpb.FileInfo {
	t.Helper()
	w.clock.Advance(time.Millisecond)
	info, err := uploadFile(w.b, w.town.GetId(), name, data)
	if err != nil {
		t.Fatalf("UploadFile(%s) = %v", name, err)
	}
	return info
}

func pngOf(t *testing.T, width, height int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, width, height))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestUploadFileFollowsTheAppLayer checks UploadFile against
// PluginAPI.UploadFile (server/channels/app/plugin_api.go@f56166d6baa65d91684ba3b6455b65feef3ceace)
// and App.UploadFileForUserAndTeam
// (server/channels/app/file.go@deb347e72c18e72d385dbbd0062301332e052752):
// a channel that App.GetChannel does not find, a malformed id included, is
// api.file.upload_file.incorrect_channelId.app_error (400); the file is
// the user "nouser"'s, under the team "noteam"; the name must be
// model.IsValidFilename's; MaxFileSize bounds the data.
func TestUploadFileFollowsTheAppLayer(t *testing.T) {
	w := newFileWorld(t)
	town := w.town.GetId()
	refusals := []struct {
		name, channel, filename string
		data                    []byte
		id                      string
		status                  int
	}{
		{"no name", town, "", []byte("x"), "api.file.upload_file.bad_filename.app_error", http.StatusBadRequest},
		{"a path", town, "dir/a.txt", []byte("x"), "api.file.upload_file.bad_filename.app_error", http.StatusBadRequest},
		{"a Windows path", town, `dir\a.txt`, []byte("x"), "api.file.upload_file.bad_filename.app_error", http.StatusBadRequest},
		{"dot dot", town, "..", []byte("x"), "api.file.upload_file.bad_filename.app_error", http.StatusBadRequest},
		{"a control character", town, "a\x01.txt", []byte("x"), "api.file.upload_file.bad_filename.app_error", http.StatusBadRequest},
		{"257 characters", town, strings.Repeat("é", 257), []byte("x"), "api.file.upload_file.bad_filename.app_error", http.StatusBadRequest},
		{"an unknown channel", newID(), "a.txt", []byte("x"), "api.file.upload_file.incorrect_channelId.app_error", http.StatusBadRequest},
		{"a malformed channel", "bad", "a.txt", []byte("x"), "api.file.upload_file.incorrect_channelId.app_error", http.StatusBadRequest},
	}
	for _, tt := range refusals {
		_, err := uploadFile(w.b, tt.channel, tt.filename, tt.data)
		wantAppErrorID(t, "UploadFile("+tt.name+")", err, tt.id, tt.status)
	}

	setSetting(w.b, "FileSettings", "MaxFileSize", float64(4))
	_, err := uploadFile(w.b, town, "big.txt", []byte("12345"))
	wantAppErrorID(t, "UploadFile(past MaxFileSize)", err, "api.file.upload_file.too_large_detailed.app_error", http.StatusRequestEntityTooLarge)
	setSetting(w.b, "FileSettings", "MaxFileSize", float64(1<<20))

	accepted := []struct {
		name, filename, ext, mime string
		data                      []byte
		width, height             int32
	}{
		{"text", "Notes.TXT", "txt", "text/plain; charset=utf-8", []byte("hello, files"), 0, 0},
		{"a long name", strings.Repeat("a", 200) + ".bin", "bin", "application/octet-stream", []byte{0, 1, 2}, 0, 0},
		// The longest name a disk takes: the upload's temporary file must
		// not be named after it.
		{"255 bytes", strings.Repeat("b", 251) + ".bin", "bin", "application/octet-stream", []byte{3}, 0, 0},
		{"no extension", "README", "", "application/octet-stream", []byte("read me"), 0, 0},
		{"an image", "pic.png", "png", "image/png", pngOf(t, 3, 2), 3, 2},
		{"empty", "empty.txt", "txt", "text/plain; charset=utf-8", nil, 0, 0},
	}
	for _, tt := range accepted {
		info := mustUpload(t, w, tt.filename, tt.data)
		now := w.clock.Now()
		wantPath := now.UTC().Format("20060102") + "/teams/noteam/channels/" + town + "/users/nouser/" + info.GetId() + "/" + tt.filename
		switch {
		case !isValidID(info.GetId()), info.GetName() != tt.filename, info.GetPath() != wantPath:
			t.Errorf("UploadFile(%s) = %v; want a new id and the path %s", tt.name, info, wantPath)
		case info.GetCreatorId() != uploadNoUserID, info.GetChannelId() != town, info.GetPostId() != "":
			t.Errorf("UploadFile(%s) = %v; want nouser's file in town-square, on no post", tt.name, info)
		case info.GetCreateAt() != now.UnixMilli(), info.GetUpdateAt() != now.UnixMilli(), info.GetSize() != int64(len(tt.data)):
			t.Errorf("UploadFile(%s) = %v; want the clock's time and %d bytes", tt.name, info, len(tt.data))
		case info.GetExtension() != tt.ext, info.GetMimeType() != tt.mime:
			t.Errorf("UploadFile(%s) = extension %q, type %q; want %q, %q", tt.name, info.GetExtension(), info.GetMimeType(), tt.ext, tt.mime)
		case info.GetWidth() != tt.width, info.GetHeight() != tt.height, info.GetHasPreviewImage() != (tt.width > 0):
			t.Errorf("UploadFile(%s) = %dx%d, preview %v; want %dx%d", tt.name, info.GetWidth(), info.GetHeight(), info.GetHasPreviewImage(), tt.width, tt.height)
		}
		// The data reads back whole, by id and by path.
		s := &fileDownloadStream{}
		if err := w.b.GetFile(&pluginpb.GetFileRequest{FileId: info.GetId()}, s); err != nil || !bytes.Equal(s.data.Bytes(), tt.data) {
			t.Errorf("GetFile(%s) = %q, %v; want the uploaded data", tt.name, s.data.Bytes(), err)
		}
		stored, err := w.b.GetFileInfo(context.Background(), &pluginpb.GetFileInfoRequest{FileId: info.GetId()})
		if err != nil || stored.GetFileInfo().GetPath() != info.GetPath() {
			t.Errorf("GetFileInfo(%s) = %v, %v; want the uploaded info", tt.name, stored, err)
		}
	}
}

// TestFileLookupsFindLiveFiles checks GetFileInfo and GetFile against
// SqlFileInfoStore.get (server/channels/store/sqlstore/file_info_store.go@f6a2f45f1fab36b7f67e140fc3e105b4426687ed):
// Id = ? AND DeleteAt = 0, so any id that names no live file, a malformed
// one included, is app.file_info.get.app_error (404).
func TestFileLookupsFindLiveFiles(t *testing.T) {
	w := newFileWorld(t)
	deleted := mustUpload(t, w, "gone.txt", []byte("gone"))
	w.b.mu.Lock()
	w.b.files.infos[deleted.GetId()].DeleteAt = w.b.nowMillis()
	w.b.mu.Unlock()
	for _, tt := range []struct{ name, id string }{
		{"an unknown id", newID()},
		{"a malformed id", "bad"},
		{"no id", ""},
		{"a deleted file", deleted.GetId()},
	} {
		_, err := w.b.GetFileInfo(context.Background(), &pluginpb.GetFileInfoRequest{FileId: tt.id})
		wantAppErrorID(t, "GetFileInfo("+tt.name+")", err, "app.file_info.get.app_error", http.StatusNotFound)
		err = w.b.GetFile(&pluginpb.GetFileRequest{FileId: tt.id}, &fileDownloadStream{})
		wantAppErrorID(t, "GetFile("+tt.name+")", err, "app.file_info.get.app_error", http.StatusNotFound)
	}
	// A lookup returns a copy.
	live := mustUpload(t, w, "live.txt", []byte("live"))
	got, err := w.b.GetFileInfo(context.Background(), &pluginpb.GetFileInfoRequest{FileId: live.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	got.GetFileInfo().Name = "changed"
	again, _ := w.b.GetFileInfo(context.Background(), &pluginpb.GetFileInfoRequest{FileId: live.GetId()})
	if again.GetFileInfo().GetName() != "live.txt" {
		t.Errorf("after changing an answer, GetFileInfo = %v; want the stored name", again)
	}
}

// TestGetFileInfosPagesAndFilters checks GetFileInfos against
// SqlFileInfoStore.GetWithOptions
// (server/channels/store/sqlstore/file_info_store.go@f6a2f45f1fab36b7f67e140fc3e105b4426687ed)
// and App.GetFileInfos (server/channels/app/file.go@deb347e72c18e72d385dbbd0062301332e052752):
// a negative per_page, then a negative page, is
// app.file_info.get_with_options.app_error (400); a per_page of 0 is an
// empty page; the filters are the creators, the channels, create_at at or
// after since and the deleted files; the order is CreateAt or Size, in
// either direction, then the id ascending.
func TestGetFileInfosPagesAndFilters(t *testing.T) {
	w := newFileWorld(t)
	ctx := context.Background()
	other := createChannel(t, w.b, &pluginpb.Channel{TeamId: w.team.GetId(), Type: channelOpen, Name: "other", DisplayName: "Other"})
	// Times 1 to 5 ms; sizes 4, 1, 2, 3 and 2.
	a := mustUpload(t, w, "a.txt", []byte("aaaa")).GetId()
	b := mustUpload(t, w, "b.txt", []byte("b")).GetId()
	c := mustUpload(t, w, "c.txt", []byte("cc")).GetId()
	w.clock.Advance(time.Millisecond)
	dInfo, err := uploadFile(w.b, other.GetId(), "d.txt", []byte("ddd"))
	if err != nil {
		t.Fatal(err)
	}
	d := dInfo.GetId()
	w.clock.Advance(time.Millisecond)
	copied, err := w.b.CopyFileInfos(ctx, &pluginpb.CopyFileInfosRequest{UserId: w.alice.GetId(), FileIds: []string{c}})
	if err != nil {
		t.Fatal(err)
	}
	e := copied.GetFileIds()[0] // alice's, in no channel
	w.b.mu.Lock()
	w.b.files.infos[c].DeleteAt = w.b.nowMillis()
	w.b.mu.Unlock()

	refusals := []struct {
		name          string
		page, perPage int32
		opt           *pluginpb.GetFileInfosOptions
	}{
		{"negative per_page", 0, -1, nil},
		{"negative page", -1, 10, nil},
		{"negative both", -1, -1, nil},
		{"unknown sort", 0, 10, &pluginpb.GetFileInfosOptions{SortBy: "Name"}},
	}
	for _, tt := range refusals {
		_, err := w.b.GetFileInfos(ctx, &pluginpb.GetFileInfosRequest{Page: tt.page, PerPage: tt.perPage, Opt: tt.opt})
		wantAppErrorID(t, "GetFileInfos("+tt.name+")", err, "app.file_info.get_with_options.app_error", http.StatusBadRequest)
	}

	// c and e have the same size: the id orders them.
	sameSize := []string{c, e}
	slices.Sort(sameSize)
	tests := []struct {
		name          string
		page, perPage int32
		opt           *pluginpb.GetFileInfosOptions
		want          []string
	}{
		{"all live, oldest first", 0, 10, nil, []string{a, b, d, e}},
		{"CreateAt named", 0, 10, &pluginpb.GetFileInfosOptions{SortBy: "CreateAt"}, []string{a, b, d, e}},
		{"with the deleted", 0, 10, &pluginpb.GetFileInfosOptions{IncludeDeleted: true}, []string{a, b, c, d, e}},
		{"newest first", 0, 2, &pluginpb.GetFileInfosOptions{SortDescending: true}, []string{e, d}},
		{"by size", 0, 10, &pluginpb.GetFileInfosOptions{SortBy: "Size"}, []string{b, e, d, a}},
		{"by size, largest first", 0, 10, &pluginpb.GetFileInfosOptions{SortBy: "Size", SortDescending: true}, []string{a, d, e, b}},
		{"by size, a tie", 0, 10, &pluginpb.GetFileInfosOptions{SortBy: "Size", IncludeDeleted: true}, []string{b, sameSize[0], sameSize[1], d, a}},
		{"second page", 1, 3, nil, []string{e}},
		{"past the end", 2, 3, nil, nil},
		{"per_page 0 before the sort is read", 0, 0, &pluginpb.GetFileInfosOptions{SortBy: "Name"}, nil},
		{"a channel", 0, 10, &pluginpb.GetFileInfosOptions{ChannelIds: []string{other.GetId()}}, []string{d}},
		{"two channels", 0, 10, &pluginpb.GetFileInfosOptions{ChannelIds: []string{other.GetId(), w.town.GetId()}}, []string{a, b, d}},
		{"a creator", 0, 10, &pluginpb.GetFileInfosOptions{UserIds: []string{w.alice.GetId()}}, []string{e}},
		{"a creator and a channel", 0, 10, &pluginpb.GetFileInfosOptions{UserIds: []string{w.alice.GetId()}, ChannelIds: []string{other.GetId()}}, nil},
		{"since, inclusive", 0, 10, &pluginpb.GetFileInfosOptions{Since: dInfo.GetCreateAt()}, []string{d, e}},
	}
	for _, tt := range tests {
		resp, err := w.b.GetFileInfos(ctx, &pluginpb.GetFileInfosRequest{Page: tt.page, PerPage: tt.perPage, Opt: tt.opt})
		if err != nil {
			t.Errorf("GetFileInfos(%s) = %v", tt.name, err)
			continue
		}
		var got []string
		for _, info := range resp.GetFileInfos() {
			got = append(got, info.GetId())
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("GetFileInfos(%s) = %v; want %v", tt.name, got, tt.want)
		}
	}
}

// TestCopyFileInfosFollowsTheAppLayer checks CopyFileInfos against
// App.CopyFileInfos (server/channels/app/file.go@deb347e72c18e72d385dbbd0062301332e052752):
// each copy gets a new id, the user as creator, one time for all, no post
// and no channel, and points at the same data; an id that names no live
// file is app.file_info.get.app_error (404); FileInfo.IsValid refuses a
// user that is neither an id nor "nouser"; copies saved before a failure
// stay.
func TestCopyFileInfosFollowsTheAppLayer(t *testing.T) {
	w := newFileWorld(t)
	ctx := context.Background()
	one := mustUpload(t, w, "one.txt", []byte("one"))
	two := mustUpload(t, w, "two.txt", []byte("two"))
	if _, err := w.b.CreatePost(ctx, &pluginpb.CreatePostRequest{Post: &pluginpb.Post{
		ChannelId: w.town.GetId(), UserId: w.alice.GetId(), Message: "files", FileIds: []string{one.GetId()},
	}}); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(time.Second)

	refusals := []struct {
		name, user string
		ids        []string
		id         string
		status     int
	}{
		{"an unknown file", w.bob.GetId(), []string{newID()}, "app.file_info.get.app_error", http.StatusNotFound},
		{"a malformed file id", w.bob.GetId(), []string{"bad"}, "app.file_info.get.app_error", http.StatusNotFound},
		{"a malformed user", "bad", []string{one.GetId()}, "model.file_info.is_valid.user_id.app_error", http.StatusBadRequest},
		{"no user", "", []string{one.GetId()}, "model.file_info.is_valid.user_id.app_error", http.StatusBadRequest},
	}
	for _, tt := range refusals {
		_, err := w.b.CopyFileInfos(ctx, &pluginpb.CopyFileInfosRequest{UserId: tt.user, FileIds: tt.ids})
		wantAppErrorID(t, "CopyFileInfos("+tt.name+")", err, tt.id, tt.status)
	}

	// The first copy stays when the second file is unknown.
	before := fileCount(w.b)
	_, err := w.b.CopyFileInfos(ctx, &pluginpb.CopyFileInfosRequest{UserId: w.bob.GetId(), FileIds: []string{one.GetId(), newID()}})
	wantAppErrorID(t, "CopyFileInfos(second unknown)", err, "app.file_info.get.app_error", http.StatusNotFound)
	if got := fileCount(w.b); got != before+1 {
		t.Errorf("after a failed second copy, %d file infos; want %d", got, before+1)
	}

	for _, user := range []string{w.bob.GetId(), uploadNoUserID} {
		resp, err := w.b.CopyFileInfos(ctx, &pluginpb.CopyFileInfosRequest{UserId: user, FileIds: []string{one.GetId(), two.GetId()}})
		if err != nil || len(resp.GetFileIds()) != 2 {
			t.Fatalf("CopyFileInfos(%s) = %v, %v; want two ids", user, resp, err)
		}
		for i, orig := range []*pluginpb.FileInfo{one, two} {
			got, err := w.b.GetFileInfo(ctx, &pluginpb.GetFileInfoRequest{FileId: resp.GetFileIds()[i]})
			if err != nil {
				t.Fatal(err)
			}
			c := got.GetFileInfo()
			now := w.clock.Now().UnixMilli()
			switch {
			case c.GetId() == orig.GetId(), c.GetCreatorId() != user, c.GetPostId() != "", c.GetChannelId() != "":
				t.Errorf("copy of %s for %s = %v; want a new id, the user as creator, no post and no channel", orig.GetName(), user, c)
			case c.GetCreateAt() != now, c.GetUpdateAt() != now:
				t.Errorf("copy of %s = %v; want the time of the copy", orig.GetName(), c)
			case c.GetPath() != orig.GetPath(), c.GetName() != orig.GetName(), c.GetSize() != orig.GetSize():
				t.Errorf("copy of %s = %v; want the same data", orig.GetName(), c)
			}
		}
	}
}

func fileCount(b *Backend) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.files.infos)
}

// TestGetFileLinkFollowsThePluginAPI checks GetFileLink against
// PluginAPI.GetFileLink (server/channels/app/plugin_api.go@f56166d6baa65d91684ba3b6455b65feef3ceace)
// and App.GeneratePublicLink (server/channels/app/file.go@deb347e72c18e72d385dbbd0062301332e052752):
// public links off is plugin_api.get_file_link.disabled.app_error (501)
// before any lookup; then App.GetFileInfo's not found; a file on no post
// is plugin_api.get_file_link.no_post.app_error (400); the link is
// <SiteURL>/files/<id>/public?h=<hash>, the hash the salted SHA-256 of
// the id, in unpadded URL base64.
func TestGetFileLinkFollowsThePluginAPI(t *testing.T) {
	w := newFileWorld(t)
	ctx := context.Background()
	loose := mustUpload(t, w, "loose.txt", []byte("loose"))
	attached := mustUpload(t, w, "attached.txt", []byte("attached"))
	if _, err := w.b.CreatePost(ctx, &pluginpb.CreatePostRequest{Post: &pluginpb.Post{
		ChannelId: w.town.GetId(), UserId: w.alice.GetId(), Message: "files", FileIds: []string{attached.GetId()},
	}}); err != nil {
		t.Fatal(err)
	}
	link := func(id string) (string, error) {
		resp, err := w.b.GetFileLink(ctx, &pluginpb.GetFileLinkRequest{FileId: id})
		return resp.GetLink(), err
	}

	setSetting(w.b, "FileSettings", "EnablePublicLink", false)
	for _, id := range []string{attached.GetId(), newID(), "bad"} {
		_, err := link(id)
		wantAppErrorID(t, "GetFileLink(off, "+id+")", err, "plugin_api.get_file_link.disabled.app_error", http.StatusNotImplemented)
	}

	setSetting(w.b, "FileSettings", "EnablePublicLink", true)
	setSetting(w.b, "FileSettings", "PublicLinkSalt", "salt")
	setSetting(w.b, "ServiceSettings", "SiteURL", "https://chat.example.com/")
	tests := []struct {
		name, id   string
		wantErrID  string
		wantStatus int
	}{
		{"an unknown file", newID(), "app.file_info.get.app_error", http.StatusNotFound},
		{"a malformed id", "bad", "app.file_info.get.app_error", http.StatusNotFound},
		{"a file on no post", loose.GetId(), "plugin_api.get_file_link.no_post.app_error", http.StatusBadRequest},
	}
	for _, tt := range tests {
		_, err := link(tt.id)
		wantAppErrorID(t, "GetFileLink("+tt.name+")", err, tt.wantErrID, tt.wantStatus)
	}
	got, err := link(attached.GetId())
	if err != nil {
		t.Fatal(err)
	}
	prefix := "https://chat.example.com/files/" + attached.GetId() + "/public?h="
	hash, ok := strings.CutPrefix(got, prefix)
	if !ok || len(hash) != 43 || strings.ContainsAny(hash, "+/=") {
		t.Errorf("GetFileLink = %q; want %s and 43 characters of unpadded URL base64", got, prefix)
	}
	// The hash is the salt's: another salt, another link.
	setSetting(w.b, "FileSettings", "PublicLinkSalt", "pepper")
	if again, _ := link(attached.GetId()); again == got || !strings.HasPrefix(again, prefix) {
		t.Errorf("GetFileLink with another salt = %q; want another hash than %q", again, got)
	}
}

// TestAttachFilesKeepsAFileOnOnePost checks that CreatePost attaches its
// files, and that a file attached to a post is refused for another, as
// App.attachFilesToPost does through SqlFileInfoStore.AttachToPost
// (server/channels/store/sqlstore/file_info_store.go@f6a2f45f1fab36b7f67e140fc3e105b4426687ed),
// which updates only a file with no post.
func TestAttachFilesKeepsAFileOnOnePost(t *testing.T) {
	w := newFileWorld(t)
	ctx := context.Background()
	f := mustUpload(t, w, "f.txt", []byte("f"))
	resp, err := w.b.CreatePost(ctx, &pluginpb.CreatePostRequest{Post: &pluginpb.Post{
		ChannelId: w.town.GetId(), UserId: w.alice.GetId(), Message: "first", FileIds: []string{f.GetId()},
	}})
	if err != nil {
		t.Fatal(err)
	}
	info, err := w.b.GetFileInfo(ctx, &pluginpb.GetFileInfoRequest{FileId: f.GetId()})
	if err != nil || info.GetFileInfo().GetPostId() != resp.GetPost().GetId() || info.GetFileInfo().GetChannelId() != w.town.GetId() {
		t.Errorf("after CreatePost, file info = %v, %v; want it on the post, in its channel", info, err)
	}
	_, err = w.b.CreatePost(ctx, &pluginpb.CreatePostRequest{Post: &pluginpb.Post{
		ChannelId: w.town.GetId(), UserId: w.bob.GetId(), Message: "second", FileIds: []string{f.GetId()},
	}})
	wantAppErrorID(t, "CreatePost(a file of another post)", err, "api.post.create_post.file_attached.app_error", http.StatusBadRequest)
}

// TestDeletePostDeletesItsFiles checks DeletePost against App.DeletePost
// (server/channels/app/post.go@285f792d7eb7daa022d572151da9f5450822296e):
// a post with file ids has its files deleted (deletePostFiles, through
// SqlFileInfoStore.DeleteForPost, which sets DeleteAt on every file info of
// the post), so that GetFileInfo and GetFile no longer find them and
// GetFileInfos lists them only with include_deleted; the files of a reply
// that the root's deletion takes with it, and of other posts, stay.
func TestDeletePostDeletesItsFiles(t *testing.T) {
	w := newFileWorld(t)
	ctx := context.Background()
	post := func(root string, files ...*pluginpb.FileInfo) *pluginpb.Post {
		t.Helper()
		p := &pluginpb.Post{ChannelId: w.town.GetId(), UserId: w.alice.GetId(), Message: "files", RootId: root}
		for _, f := range files {
			p.FileIds = append(p.FileIds, f.GetId())
		}
		resp, err := w.b.CreatePost(ctx, &pluginpb.CreatePostRequest{Post: p})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetPost()
	}
	one, two := mustUpload(t, w, "one.txt", []byte("one")), mustUpload(t, w, "two.txt", []byte("two"))
	replyFile, otherFile := mustUpload(t, w, "reply.txt", []byte("r")), mustUpload(t, w, "other.txt", []byte("o"))
	root := post("", one, two)
	post(root.GetId(), replyFile)
	post("", otherFile)
	w.clock.Advance(time.Second)
	if _, err := w.b.DeletePost(ctx, &pluginpb.DeletePostRequest{PostId: root.GetId()}); err != nil {
		t.Fatal(err)
	}
	deletedAt := w.clock.Now().UnixMilli()

	for _, f := range []*pluginpb.FileInfo{one, two} {
		_, err := w.b.GetFileInfo(ctx, &pluginpb.GetFileInfoRequest{FileId: f.GetId()})
		wantAppErrorID(t, "GetFileInfo(a file of the deleted post)", err, "app.file_info.get.app_error", http.StatusNotFound)
	}
	for _, f := range []*pluginpb.FileInfo{replyFile, otherFile} {
		if _, err := w.b.GetFileInfo(ctx, &pluginpb.GetFileInfoRequest{FileId: f.GetId()}); err != nil {
			t.Errorf("GetFileInfo(%s) = %v; want the file, which is not the deleted post's", f.GetName(), err)
		}
	}
	list := func(includeDeleted bool) map[string]int64 {
		t.Helper()
		resp, err := w.b.GetFileInfos(ctx, &pluginpb.GetFileInfosRequest{PerPage: 100, Opt: &pluginpb.GetFileInfosOptions{IncludeDeleted: includeDeleted}})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int64{}
		for _, f := range resp.GetFileInfos() {
			out[f.GetName()] = f.GetDeleteAt()
		}
		return out
	}
	if got, want := list(false), map[string]int64{"reply.txt": 0, "other.txt": 0}; !maps.Equal(got, want) {
		t.Errorf("GetFileInfos = %v; want %v", got, want)
	}
	if got, want := list(true), map[string]int64{"one.txt": deletedAt, "two.txt": deletedAt, "reply.txt": 0, "other.txt": 0}; !maps.Equal(got, want) {
		t.Errorf("GetFileInfos(include_deleted) = %v; want %v", got, want)
	}
}
