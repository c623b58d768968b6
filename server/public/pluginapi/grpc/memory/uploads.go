package memory

// This file holds the resumable uploads of the files domain: a session,
// then its data in one or more UploadData calls. It follows
// App.CreateUploadSession and App.UploadData
// (server/channels/app/upload.go@5c839440) and UploadSession.IsValid
// (server/public/model/upload_session.go@5c839440).

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// Upload types of model.UploadType.
const (
	uploadAttachment = "attachment"
	uploadImport     = "import"
)

// Limits and markers of resumable uploads, as upstream's.
const (
	// minFirstPartSize is the least data the first UploadData call of an
	// upload takes, unless it is the whole file: 5 MiB.
	minFirstPartSize = 5 << 20
	// incompleteUploadSuffix marks the data of an import until it is whole.
	incompleteUploadSuffix = ".tmp"
	// defaultImportDirectory is ImportSettings.Directory's default.
	defaultImportDirectory = "./import"
)

func uploadNotFound(id string) *apperror.Error {
	return apperror.New("app.upload.get.app_error", "Unable to find the upload session.", "upload_id="+id, http.StatusNotFound)
}

// concurrentUpload is App.UploadData's refusal of a second caller of the
// same session, or of a caller whose offset is not the stored one.
func concurrentUpload(details string) *apperror.Error {
	return apperror.New("app.upload.upload_data.concurrent.app_error",
		"Unable to upload the data: another upload of this session is under way or the offset is stale.", details, http.StatusBadRequest)
}

// validateUploadSession is UploadSession.IsValid: its checks in its order.
func validateUploadSession(us *pluginpb.UploadSession) error {
	var field string
	switch {
	case !isValidID(us.GetId()):
		field = "id"
	case us.GetType() != uploadAttachment && us.GetType() != uploadImport:
		field = "type"
	case !isValidID(us.GetUserId()) && us.GetUserId() != uploadNoUserID:
		field = "user_id"
	case us.GetType() == uploadAttachment && !isValidID(us.GetChannelId()):
		field = "channel_id"
	case us.GetCreateAt() == 0:
		field = "create_at"
	case us.GetFilename() == "":
		field = "filename"
	case us.GetFileSize() <= 0:
		field = "file_size"
	case us.GetFileOffset() < 0 || us.GetFileOffset() > us.GetFileSize():
		field = "file_offset"
	case us.GetPath() == "":
		field = "path"
	default:
		return nil
	}
	e := apperror.New("model.upload_session.is_valid."+field+".app_error", "Invalid upload session: "+field+".", "", http.StatusBadRequest)
	e.Where = "UploadSession.IsValid"
	return e
}

// uploadPath is where App.CreateUploadSession puts a session's data: an
// attachment by day, channel, user and session id, an import in
// ImportSettings.Directory. The name's last element is kept, as
// filepath.Base keeps it. The caller holds the lock.
func (b *Backend) uploadPath(us *pluginpb.UploadSession) string {
	name := path.Base(us.GetFilename())
	switch us.GetType() {
	case uploadAttachment:
		return b.now().Format("20060102") + "/teams/noteam/channels/" + us.GetChannelId() + "/users/" + us.GetUserId() + "/" + us.GetId() + "/" + name
	case uploadImport:
		dir := cmpOr(b.configString("ImportSettings", "Directory"), defaultImportDirectory)
		return path.Clean(dir) + "/" + us.GetId() + "_" + name
	}
	return ""
}

// CreateUploadSession starts a resumable upload, as App.CreateUploadSession:
// the offset is 0, the creation time now and the path the server's; then
// UploadSession.IsValid, and an attachment's channel must exist
// (app.upload.create.incorrect_channel_id.app_error) and not be archived
// (app.upload.create.cannot_upload_to_deleted_channel.app_error). Newer
// upstream versions then refuse a DM or GM whose members share no team
// when TeamSettings.RestrictDirectMessage is "team"
// (App.CheckIfChannelIsRestrictedDM, server/channels/app/channel.go@003a6338);
// this backend models that setting nowhere, so it acts as under the
// default, "any", where the check passes. The user
// is not looked up and the size is not bounded. An empty id gets a new
// one (upstream's IsValid refuses it); a given id is kept.
func (b *Backend) CreateUploadSession(_ context.Context, req *pluginpb.CreateUploadSessionRequest) (*pluginpb.CreateUploadSessionResponse, error) {
	us := proto.Clone(req.GetUs()).(*pluginpb.UploadSession)
	if us == nil {
		us = &pluginpb.UploadSession{}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if us.GetId() == "" {
		us.Id = newID()
	}
	us.FileOffset = 0
	us.CreateAt = b.nowMillis()
	us.Path = b.uploadPath(us)
	if err := validateUploadSession(us); err != nil {
		return nil, err
	}
	if us.GetType() == uploadAttachment {
		ch, err := b.channel(us.GetChannelId())
		if err != nil {
			return nil, apperror.New("app.upload.create.incorrect_channel_id.app_error", "Unable to upload: incorrect channel id.",
				"channel_id="+us.GetChannelId(), http.StatusBadRequest)
		}
		if ch.GetDeleteAt() != 0 {
			return nil, apperror.New("app.upload.create.cannot_upload_to_deleted_channel.app_error", "Unable to upload to an archived channel.",
				"channel_id="+us.GetChannelId(), http.StatusBadRequest)
		}
	}
	if _, ok := b.files.uploads[us.GetId()]; ok {
		// The store's Save of a second session with the same id.
		return nil, apperror.New("app.upload.create.save.app_error", "Unable to save the upload session.",
			"upload_id="+us.GetId(), http.StatusInternalServerError)
	}
	b.files.uploads[us.GetId()] = us
	return &pluginpb.CreateUploadSessionResponse{UploadSession: proto.Clone(us).(*pluginpb.UploadSession)}, nil
}

// GetUploadSession returns an upload session, as App.GetUploadSession: any
// id is looked up, and one that is not found is app.upload.get.app_error.
func (b *Backend) GetUploadSession(_ context.Context, req *pluginpb.GetUploadSessionRequest) (*pluginpb.GetUploadSessionResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	us, ok := b.files.uploads[req.GetUploadId()]
	if !ok {
		return nil, uploadNotFound(req.GetUploadId())
	}
	return &pluginpb.GetUploadSessionResponse{UploadSession: proto.Clone(us).(*pluginpb.UploadSession)}, nil
}

// lockUpload takes a session's upload lock; false if another call holds
// it. The caller holds b.mu.
func (b *Backend) lockUpload(id string) bool {
	if b.files.uploading == nil {
		b.files.uploading = map[string]bool{}
	}
	if b.files.uploading[id] {
		return false
	}
	b.files.uploading[id] = true
	return true
}

// UploadData appends streamed data to an upload session, as App.UploadData:
// one call at a time per session, and the caller's offset must be the
// stored session's (app.upload.upload_data.concurrent.app_error); data past
// the session's size is not read; a first part under 5 MiB that is not the
// whole file is refused (app.upload.upload_data.first_part_too_small.app_error)
// and not kept. When the session has all its data, FileWillBeUploaded runs,
// the file info is stored under the requested id or the session's, the
// session is deleted and the info returned; before that, the answer has no
// file info. The rest of the session (its path, size and name) is the
// stored one's.
func (b *Backend) UploadData(stream pluginpb.PluginAPI_UploadDataServer) error {
	head, err := headOf(stream.Recv, "an upload")
	if err != nil {
		return err
	}
	id := head.GetUploadSession().GetId()
	b.mu.Lock()
	if !b.lockUpload(id) {
		b.mu.Unlock()
		return concurrentUpload("upload_id=" + apperror.Truncate(id, apperror.MaxShortBytes))
	}
	defer func() {
		b.mu.Lock()
		delete(b.files.uploading, id)
		b.mu.Unlock()
	}()
	stored, ok := b.files.uploads[id]
	var us *pluginpb.UploadSession
	if ok {
		us = proto.Clone(stored).(*pluginpb.UploadSession)
	}
	root, rootErr := b.fileRoot()
	limit := b.maxFileSize()
	b.mu.Unlock()
	switch {
	case !ok:
		return uploadNotFound(id)
	case head.GetUploadSession().GetFileOffset() != us.GetFileOffset():
		return concurrentUpload("FileOffset mismatch")
	case rootErr != nil:
		return rootErr
	}
	rel := us.GetPath()
	if us.GetType() == uploadImport {
		rel += incompleteUploadSuffix
	}
	written, err := appendUpload(root, rel, us, chunksOf(stream.Recv, func(r *pluginpb.UploadDataRequest) []byte { return r.GetChunk() }))
	if us.GetFileOffset() == 0 && err != nil && written == 0 {
		return err
	}
	if us.GetFileOffset() == 0 && written < minFirstPartSize && written != us.GetFileSize() {
		if full, perr := storePath(root, rel); perr == nil {
			os.Remove(full)
		}
		return apperror.New("app.upload.upload_data.first_part_too_small.app_error",
			"Unable to upload: the first part must be at least 5 MiB, or the whole file.", "", http.StatusBadRequest)
	}
	if written > 0 {
		us.FileOffset += written
		b.mu.Lock()
		if _, ok := b.files.uploads[id]; ok {
			b.files.uploads[id] = proto.Clone(us).(*pluginpb.UploadSession)
		}
		b.mu.Unlock()
	}
	if err != nil {
		return err
	}
	if us.GetFileOffset() != us.GetFileSize() {
		return stream.SendAndClose(&pluginpb.UploadDataResponse{})
	}
	return b.completeUpload(stream, root, rel, us, limit)
}

// appendUpload writes data at the session's offset of the file at rel, up
// to the session's size; what comes past it is not read, as upstream's
// io.LimitedReader does not read it. A write that fails is
// api.file.write_file.app_error (a first part) or
// api.file.append_file.app_error (a later one), with what was written.
func appendUpload(root, rel string, us *pluginpb.UploadSession, next func() ([]byte, error)) (int64, error) {
	id := "api.file.append_file.app_error"
	flags := os.O_WRONLY | os.O_APPEND
	if us.GetFileOffset() == 0 {
		id, flags = "api.file.write_file.app_error", os.O_WRONLY|os.O_CREATE|os.O_TRUNC
	}
	fail := func(err error) *apperror.Error {
		return apperror.New(id, "Unable to write the upload's data.", err.Error(), http.StatusInternalServerError)
	}
	full, err := storePath(root, rel)
	if err != nil {
		return 0, fail(err)
	}
	if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
		return 0, fail(err)
	}
	f, err := os.OpenFile(full, flags, 0o600)
	if err != nil {
		return 0, fail(err)
	}
	remaining := us.GetFileSize() - us.GetFileOffset()
	var n int64
	for n < remaining {
		chunk, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			f.Close()
			return n, err
		}
		chunk = chunk[:min(int64(len(chunk)), remaining-n)]
		w, err := f.Write(chunk)
		n += int64(w)
		if err != nil {
			f.Close()
			return n, fail(err)
		}
	}
	if err := f.Close(); err != nil {
		return n, fail(err)
	}
	return n, nil
}

// completeUpload stores the file of a session that has all its data, as
// the end of App.UploadData: the file info from the name, the hook, an
// import moved into place, FileInfo.IsValid's id check and the store's
// refusal of an id in use, then the session deleted.
func (b *Backend) completeUpload(stream pluginpb.PluginAPI_UploadDataServer, root, rel string, us *pluginpb.UploadSession, limit int64) error {
	fileID := cmpOr(us.GetReqFileId(), us.GetId())
	b.mu.Lock()
	info := b.fileInfoFor(root, fileID, rel, us.GetFilename(), us.GetUserId(), us.GetChannelId(), us.GetFileSize())
	b.mu.Unlock()
	info.Path = us.GetPath()
	info.RemoteId = proto.String(us.GetRemoteId())
	if rel != us.GetPath() {
		// An import: the hook reads the data where it is, then it moves.
		info.Path = rel
	}
	info, err := b.runUploadHook(stream.Context(), root, info, limit, sessionUploadRejected(us.GetFilename()))
	if err != nil {
		return err
	}
	if rel != us.GetPath() {
		from, _ := storePath(root, rel)
		to, perr := storePath(root, us.GetPath())
		if perr == nil {
			perr = os.Rename(from, to)
		}
		if perr != nil {
			return apperror.New("app.upload.upload_data.move_file.app_error", "Unable to move the import into place.", perr.Error(), http.StatusInternalServerError)
		}
		info.Path = us.GetPath()
	}
	if !isValidID(info.GetId()) {
		e := apperror.New("model.file_info.is_valid.id.app_error", "Invalid file info: id.", "", http.StatusBadRequest)
		e.Where = "FileInfo.IsValid"
		return e
	}
	b.mu.Lock()
	if _, taken := b.files.infos[info.GetId()]; taken {
		b.mu.Unlock()
		return apperror.New("app.upload.upload_data.save.app_error", "Unable to save the file info.", "id="+info.GetId(), http.StatusInternalServerError)
	}
	b.files.infos[info.GetId()] = info
	delete(b.files.uploads, us.GetId())
	b.mu.Unlock()
	return stream.SendAndClose(&pluginpb.UploadDataResponse{FileInfo: proto.Clone(info).(*pluginpb.FileInfo)})
}
