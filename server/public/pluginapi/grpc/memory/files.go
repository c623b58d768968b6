package memory

// This file holds the handlers of the files domain; files_store.go holds
// the store.

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"image"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// Limits and markers of files and uploads.
const (
	fileNameMaxRunes = 256
	uploadNoUserID   = "nouser"
)

func fileNotFound(fileID string) *apperror.Error {
	return apperror.New("app.file_info.get.app_error", "Unable to get the file info.", "file_id="+fileID, http.StatusNotFound)
}

// validFileName is model.IsValidFilename: no path, no control characters.
func validFileName(name string) bool {
	if name == "" || name == "." || name == ".." || utf8.RuneCountInString(name) > fileNameMaxRunes || !utf8.ValidString(name) {
		return false
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || r == '/' || r == '\\' {
			return false
		}
	}
	return true
}

// maxFileSize is FileSettings.MaxFileSize. The caller holds the lock.
func (b *Backend) maxFileSize() int64 {
	return int64(b.configNumber("FileSettings", "MaxFileSize"))
}

// filePath is where Mattermost keeps a file: by day, team, channel, user
// and file id.
func filePath(now time.Time, channelID, userID, fileID, name string) string {
	return path.Join(now.UTC().Format("20060102"), "teams", "noteam", "channels", channelID, "users", userID, fileID, name)
}

// fileInfoFor describes a stored file, as Mattermost's upload does: the
// extension, MIME type and, for images, the size in pixels.
func (b *Backend) fileInfoFor(root, id, rel, name, creator, channelID string, size int64) *pluginpb.FileInfo {
	now := b.nowMillis()
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(name), "."))
	info := &pluginpb.FileInfo{Id: id, CreatorId: creator, ChannelId: channelID, CreateAt: now, UpdateAt: now,
		Path: rel, Name: name, Extension: ext, Size: size, MimeType: mime.TypeByExtension("." + ext)}
	if full, err := storePath(root, rel); err == nil {
		if f, err := os.Open(full); err == nil {
			if cfg, _, err := image.DecodeConfig(f); err == nil {
				info.Width, info.Height, info.HasPreviewImage = int32(cfg.Width), int32(cfg.Height), true
			}
			f.Close()
		}
	}
	if info.GetMimeType() == "" {
		info.MimeType = "application/octet-stream"
	}
	return info
}

// UploadFile stores a file, streamed in chunks after a head that names the
// channel and the file, and returns its info. FileWillBeUploaded runs on
// the stored data before the info is stored.
func (b *Backend) UploadFile(stream pluginpb.PluginAPI_UploadFileServer) error {
	head, err := headOf(stream.Recv, "an upload")
	if err != nil {
		return err
	}
	if !validFileName(head.GetFilename()) {
		return apperror.New("api.file.upload_file.bad_filename.app_error", "Invalid file name: no path and at most 256 characters.", "", http.StatusBadRequest)
	}
	b.mu.Lock()
	_, err = b.channel(head.GetChannelId())
	root, rootErr := b.fileRoot()
	limit := b.maxFileSize()
	b.mu.Unlock()
	if err != nil && head.GetChannelId() != "" {
		// Upstream's App.UploadFileForUserAndTeam: a channel id that
		// App.GetChannel does not find, a malformed one included.
		return apperror.New("api.file.upload_file.incorrect_channelId.app_error", "Unable to upload the file: incorrect channel id.",
			"channel_id="+apperror.Truncate(head.GetChannelId(), apperror.MaxShortBytes), http.StatusBadRequest)
	}
	if err != nil {
		return err
	}
	if rootErr != nil {
		return rootErr
	}
	id := newID()
	rel := filePath(b.now(), head.GetChannelId(), uploadNoUserID, id, head.GetFilename())
	size, err := writeStream(stream.Context(), root, rel, limit, chunksOf(stream.Recv, func(r *pluginpb.UploadFileRequest) []byte { return r.GetChunk() }))
	if err != nil {
		return err
	}
	info := b.fileInfoFor(root, id, rel, head.GetFilename(), uploadNoUserID, head.GetChannelId(), size)
	if info, err = b.runUploadHook(stream.Context(), root, info, limit, uploadRejected); err != nil {
		return err
	}
	b.mu.Lock()
	b.files.infos[id] = info
	b.mu.Unlock()
	return stream.SendAndClose(&pluginpb.UploadFileResponse{FileInfo: proto.Clone(info).(*pluginpb.FileInfo)})
}

// headOf reads the first message of a stream, which must carry a head;
// what names what the stream is, for the error.
func headOf[T interface{ GetHead() H }, H comparable](recv func() (T, error), what string) (H, error) {
	var none H
	first, err := recv()
	if err != nil {
		return none, err
	}
	head := first.GetHead()
	if head == none {
		return none, invalidParam("head: the first message of " + what)
	}
	return head, nil
}

// chunksOf reads the chunks that follow a head: a second head is invalid.
func chunksOf[T interface{ GetHead() H }, H comparable](recv func() (T, error), chunk func(T) []byte) func() ([]byte, error) {
	return func() ([]byte, error) {
		m, err := recv()
		if err != nil {
			return nil, err
		}
		var none H
		if m.GetHead() != none {
			return nil, invalidParam("head: only the first message of an upload has one")
		}
		return chunk(m), nil
	}
}

// liveFile returns the info of a live file, refusing a malformed id as
// invalid. The caller holds the lock.
func (b *Backend) liveFile(fileID string) (*pluginpb.FileInfo, error) {
	if !isValidID(fileID) {
		return nil, invalidParam("file_id")
	}
	return b.storedFile(fileID)
}

// storedFile returns the info of a live file as upstream's file info
// store does (SqlFileInfoStore.get: Id = ? AND DeleteAt = 0): any id that
// names no live file, a malformed one included, is not found. The caller
// holds the lock.
func (b *Backend) storedFile(fileID string) (*pluginpb.FileInfo, error) {
	info, ok := b.files.infos[fileID]
	if !ok || info.GetDeleteAt() != 0 {
		return nil, fileNotFound(apperror.Truncate(fileID, apperror.MaxShortBytes))
	}
	return info, nil
}

// GetFile streams a file's data in chunks.
func (b *Backend) GetFile(req *pluginpb.GetFileRequest, stream pluginpb.PluginAPI_GetFileServer) error {
	b.mu.Lock()
	info, err := b.storedFile(req.GetFileId())
	root := b.files.root
	b.mu.Unlock()
	if err != nil {
		return err
	}
	return sendFile(root, info.GetPath(), func(chunk []byte) error {
		return stream.Send(&pluginpb.GetFileResponse{Chunk: chunk})
	})
}

// ReadFile streams a file of the store by path, in chunks. As
// PluginAPI.ReadFile (server/channels/app/plugin_api.go@f56166d6) through
// App.ReadFile and Server.ReadFile, any failure, a path that leaves the
// store or a missing file too, is api.file.read_file.app_error (500).
func (b *Backend) ReadFile(req *pluginpb.ReadFileRequest, stream pluginpb.PluginAPI_ReadFileServer) error {
	b.mu.Lock()
	root, err := b.fileRoot()
	b.mu.Unlock()
	if err != nil {
		return err
	}
	return sendFile(root, req.GetPath(), func(chunk []byte) error {
		return stream.Send(&pluginpb.ReadFileResponse{Chunk: chunk})
	})
}

// GetFileInfo returns a file's info.
func (b *Backend) GetFileInfo(_ context.Context, req *pluginpb.GetFileInfoRequest) (*pluginpb.GetFileInfoResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	info, err := b.storedFile(req.GetFileId())
	if err != nil {
		return nil, err
	}
	return &pluginpb.GetFileInfoResponse{FileInfo: proto.Clone(info).(*pluginpb.FileInfo)}, nil
}

// GetFileInfos returns one page of the file infos that the options
// select, by creation time or size.
func (b *Backend) GetFileInfos(_ context.Context, req *pluginpb.GetFileInfosRequest) (*pluginpb.GetFileInfosResponse, error) {
	// Upstream's SqlFileInfoStore.GetWithOptions, whose errors
	// App.GetFileInfos turns into app.file_info.get_with_options.app_error
	// (400): a negative per_page, then a negative page; a per_page of 0 is
	// an empty page, before sort_by is read; sort_by is "CreateAt" (the
	// default) or "Size", in either direction, then the id ascending.
	o := req.GetOpt()
	badOption := func(what string) error {
		return apperror.New("app.file_info.get_with_options.app_error", "Unable to get the file infos: invalid "+what+".", "", http.StatusBadRequest)
	}
	switch {
	case req.GetPerPage() < 0:
		return nil, badOption("per_page")
	case req.GetPage() < 0:
		return nil, badOption("page")
	case req.GetPerPage() == 0:
		return &pluginpb.GetFileInfosResponse{}, nil
	case o.GetSortBy() != "" && o.GetSortBy() != "CreateAt" && o.GetSortBy() != "Size":
		return nil, badOption("sort_by")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []*pluginpb.FileInfo
	for _, info := range b.files.infos {
		switch {
		case info.GetDeleteAt() != 0 && !o.GetIncludeDeleted(),
			len(o.GetUserIds()) > 0 && !slices.Contains(o.GetUserIds(), info.GetCreatorId()),
			len(o.GetChannelIds()) > 0 && !slices.Contains(o.GetChannelIds(), info.GetChannelId()),
			info.GetCreateAt() < o.GetSince():
			continue
		}
		out = append(out, proto.Clone(info).(*pluginpb.FileInfo))
	}
	slices.SortFunc(out, func(x, y *pluginpb.FileInfo) int {
		c := cmp.Compare(x.GetCreateAt(), y.GetCreateAt())
		if o.GetSortBy() == "Size" {
			c = cmp.Compare(x.GetSize(), y.GetSize())
		}
		if o.GetSortDescending() {
			c = -c
		}
		return cmp.Or(c, cmp.Compare(x.GetId(), y.GetId()))
	})
	return &pluginpb.GetFileInfosResponse{FileInfos: page(out, req.GetPage(), req.GetPerPage())}, nil
}

// CopyFileInfos copies file infos for a user, pointing at the same data,
// as upstream's App.CopyFileInfos does: file by file, it looks the file up
// (not found: app.file_info.get.app_error), gives the copy a new id, the
// user as creator, one time for all the copies and no post or channel, and
// saves it, which FileInfo.IsValid checks (a user id that is neither an id
// nor "nouser": model.file_info.is_valid.user_id.app_error). The copies
// saved before a failure stay, as upstream's do.
func (b *Backend) CopyFileInfos(_ context.Context, req *pluginpb.CopyFileInfosRequest) (*pluginpb.CopyFileInfosResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.nowMillis()
	var ids []string
	for _, id := range req.GetFileIds() {
		info, err := b.storedFile(id)
		if err != nil {
			return nil, err
		}
		if !isValidID(req.GetUserId()) && req.GetUserId() != uploadNoUserID {
			return nil, apperror.New("model.file_info.is_valid.user_id.app_error", "Invalid value for user_id.", "", http.StatusBadRequest)
		}
		c := proto.Clone(info).(*pluginpb.FileInfo)
		c.Id, c.CreatorId, c.PostId, c.ChannelId, c.CreateAt, c.UpdateAt = newID(), req.GetUserId(), "", "", now, now
		b.files.infos[c.GetId()] = c
		ids = append(ids, c.GetId())
	}
	return &pluginpb.CopyFileInfosResponse{FileIds: ids}, nil
}

// SetFileSearchableContent sets the text that searches find a file by.
func (b *Backend) SetFileSearchableContent(_ context.Context, req *pluginpb.SetFileSearchableContentRequest) (*pluginpb.SetFileSearchableContentResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	info, err := b.storedFile(req.GetFileId())
	if err != nil {
		return nil, err
	}
	c := proto.Clone(info).(*pluginpb.FileInfo)
	// Upstream's SqlFileInfoStore.SetContent sets Content alone.
	c.Content = req.GetContent()
	b.files.infos[c.GetId()] = c
	return &pluginpb.SetFileSearchableContentResponse{}, nil
}

// GetFileLink returns the public link of a file attached to a post. As in
// Mattermost, public links must be on (FileSettings.EnablePublicLink).
func (b *Backend) GetFileLink(_ context.Context, req *pluginpb.GetFileLinkRequest) (*pluginpb.GetFileLinkResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.configBool("FileSettings", "EnablePublicLink") {
		return nil, apperror.New("plugin_api.get_file_link.disabled.app_error", "Public links are disabled.", "", http.StatusNotImplemented)
	}
	info, err := b.storedFile(req.GetFileId())
	if err != nil {
		return nil, err
	}
	if info.GetPostId() == "" {
		return nil, apperror.New("plugin_api.get_file_link.no_post.app_error", "The file is not attached to a post.", "", http.StatusBadRequest)
	}
	sum := sha256.Sum256([]byte(b.configString("FileSettings", "PublicLinkSalt") + info.GetId()))
	link := strings.TrimRight(b.configString("ServiceSettings", "SiteURL"), "/") + "/files/" + info.GetId() +
		"/public?h=" + base64.RawURLEncoding.EncodeToString(sum[:])
	return &pluginpb.GetFileLinkResponse{Link: link}, nil
}

// attachFiles marks the files of a new post as its own. The caller holds
// the lock.
func (b *Backend) attachFiles(p *pluginpb.Post) error {
	for _, id := range p.GetFileIds() {
		info, err := b.liveFile(id)
		if err != nil {
			return err
		}
		if info.GetPostId() != "" && info.GetPostId() != p.GetId() {
			return apperror.New("api.post.create_post.file_attached.app_error", "The file belongs to another post.", "file_id="+id, http.StatusBadRequest)
		}
	}
	for _, id := range p.GetFileIds() {
		c := proto.Clone(b.files.infos[id]).(*pluginpb.FileInfo)
		c.PostId, c.ChannelId = p.GetId(), p.GetChannelId()
		b.files.infos[id] = c
	}
	return nil
}
