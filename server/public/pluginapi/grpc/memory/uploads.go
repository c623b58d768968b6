package memory

// This file holds the resumable uploads of the files domain: a session,
// then its data in one or more UploadData calls.

import (
	"context"
	"net/http"
	"os"
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

func uploadNotFound(id string) *apperror.Error {
	return apperror.New("app.upload.get.app_error", "Unable to find the upload session.", "upload_id="+id, http.StatusNotFound)
}

// CreateUploadSession starts a resumable upload, as Mattermost's
// CreateUploadSession does: an attachment goes to a channel, the size is
// declared up front and bounded by FileSettings.MaxFileSize.
func (b *Backend) CreateUploadSession(_ context.Context, req *pluginpb.CreateUploadSessionRequest) (*pluginpb.CreateUploadSessionResponse, error) {
	if req.GetUs() == nil {
		return nil, invalidParam("us")
	}
	us := proto.Clone(req.GetUs()).(*pluginpb.UploadSession)
	switch {
	case us.GetType() != uploadAttachment && us.GetType() != uploadImport:
		return nil, invalidParam("us.type")
	case !validFileName(us.GetFilename()):
		return nil, apperror.New("api.file.upload_file.bad_filename.app_error", "Invalid file name: no path and at most 256 characters.", "", http.StatusBadRequest)
	case us.GetFileSize() <= 0:
		return nil, invalidParam("us.file_size")
	case us.GetReqFileId() != "" && !isValidID(us.GetReqFileId()):
		return nil, invalidParam("us.req_file_id")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if us.GetFileSize() > b.maxFileSize() {
		return nil, apperror.New("api.file.upload_file.too_large_detailed.app_error",
			"The file is larger than FileSettings.MaxFileSize.", "", http.StatusRequestEntityTooLarge)
	}
	if us.GetUserId() != uploadNoUserID {
		if _, err := b.user(us.GetUserId()); err != nil {
			return nil, err
		}
	}
	if us.GetType() == uploadAttachment {
		if _, err := b.channel(us.GetChannelId()); err != nil {
			return nil, err
		}
	}
	us.Id = newID()
	us.CreateAt = b.nowMillis()
	us.FileOffset = 0
	us.Path = filePath(b.now(), us.GetChannelId(), us.GetUserId(), cmpOr(us.GetReqFileId(), us.GetId()), us.GetFilename())
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

// UploadData appends streamed data to an upload session at its offset.
// When the session has all its data, the file is stored and its info
// returned; before that, the answer has no file info.
func (b *Backend) UploadData(stream pluginpb.PluginAPI_UploadDataServer) error {
	head, err := headOf(stream.Recv, "an upload")
	if err != nil {
		return err
	}
	b.mu.Lock()
	stored, ok := b.files.uploads[head.GetUploadSession().GetId()]
	var us *pluginpb.UploadSession
	if ok {
		us = proto.Clone(stored).(*pluginpb.UploadSession)
	}
	root, rootErr := b.fileRoot()
	b.mu.Unlock()
	if !ok {
		return uploadNotFound(head.GetUploadSession().GetId())
	}
	if rootErr != nil {
		return rootErr
	}
	full, err := storePath(root, us.GetPath())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
		return storageError(err)
	}
	f, err := os.OpenFile(full, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return storageError(err)
	}
	if _, err := f.Seek(us.GetFileOffset(), 0); err != nil {
		f.Close()
		return storageError(err)
	}
	remaining := us.GetFileSize() - us.GetFileOffset()
	n, err := copyChunks(f, remaining, chunksOf(stream.Recv, func(r *pluginpb.UploadDataRequest) []byte { return r.GetChunk() }))
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		// The data past the session's offset is not kept; the client may
		// send it again.
		_ = os.Truncate(full, us.GetFileOffset())
		return err
	}
	us.FileOffset += n
	b.mu.Lock()
	if us.GetFileOffset() < us.GetFileSize() {
		b.files.uploads[us.GetId()] = us
		b.mu.Unlock()
		return stream.SendAndClose(&pluginpb.UploadDataResponse{})
	}
	delete(b.files.uploads, us.GetId())
	id := cmpOr(us.GetReqFileId(), us.GetId())
	info := b.fileInfoFor(root, id, us.GetPath(), us.GetFilename(), us.GetUserId(), us.GetChannelId(), us.GetFileSize())
	limit := b.maxFileSize()
	b.mu.Unlock()
	info, err = b.runUploadHook(stream.Context(), root, info, limit, sessionUploadRejected(us.GetFilename()))
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.files.infos[id] = info
	b.mu.Unlock()
	return stream.SendAndClose(&pluginpb.UploadDataResponse{FileInfo: proto.Clone(info).(*pluginpb.FileInfo)})
}
