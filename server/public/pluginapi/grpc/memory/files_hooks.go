package memory

// This file runs FileWillBeUploaded for the upload paths of files.go and
// uploads.go.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// errReplacementTooLarge stops a plugin's replacement data at the limit.
var errReplacementTooLarge = errors.New("the replacement is larger than the file size limit")

// cappedWriter writes to w up to limit bytes in all; past it, it fails
// and remembers it did.
type cappedWriter struct {
	w       *os.File
	limit   int64
	written int64
	over    bool
}

func (c *cappedWriter) Write(p []byte) (int, error) {
	if c.written+int64(len(p)) > c.limit {
		c.over = true
		return 0, errReplacementTooLarge
	}
	n, err := c.w.Write(p)
	c.written += int64(n)
	return n, err
}

// runUploadHook runs FileWillBeUploaded on a file whose data is stored at
// info's path. The plugin reads the stored data, and what it writes, if
// anything, replaces it. It returns the info to store: the plugin's, with
// the id, path, creator, channel and creation time kept, and the size of
// the data. A rejection, or a replacement past limit, removes the file and
// returns the error; rejected makes the rejection's error, which differs
// by upload path, as upstream.
//
// The replacement goes to a temporary file next to the data, so that the
// data the plugin reads stays whole until the hook ends; memory stays
// bounded whatever the file's size.
func (b *Backend) runUploadHook(ctx context.Context, root string, info *pluginpb.FileInfo, limit int64, rejected func(reason string) error) (*pluginpb.FileInfo, error) {
	full, err := storePath(root, info.GetPath())
	if err != nil {
		return nil, err
	}
	storageErr := func(err error) error {
		os.Remove(full)
		return storageError(err)
	}
	in, err := os.Open(full)
	if err != nil {
		return nil, storageErr(err)
	}
	defer in.Close()
	// A name of its own, not the file's name with a suffix: a file name
	// may already have the longest length the disk allows.
	out, err := os.CreateTemp(filepath.Dir(full), ".upload-*")
	if err != nil {
		return nil, storageErr(err)
	}
	tmp := out.Name()
	defer os.Remove(tmp)
	w := &cappedWriter{w: out, limit: limit}
	answer, reason := b.hooks.FileWillBeUploaded(ctx, proto.Clone(info).(*pluginpb.FileInfo), in, w)
	closeErr := out.Close()
	switch {
	case reason != "":
		os.Remove(full)
		return nil, rejected(reason)
	case w.over:
		os.Remove(full)
		return nil, apperror.New("api.file.upload_file.too_large_detailed.app_error",
			fmt.Sprintf("A plugin replaced the file with more than the limit of %d bytes.", limit), "", http.StatusRequestEntityTooLarge)
	case closeErr != nil:
		return nil, storageErr(closeErr)
	}
	result := proto.Clone(info).(*pluginpb.FileInfo)
	if answer != nil {
		result = proto.Clone(answer).(*pluginpb.FileInfo)
		result.Id, result.Path = info.GetId(), info.GetPath()
		result.CreatorId, result.ChannelId, result.CreateAt = info.GetCreatorId(), info.GetChannelId(), info.GetCreateAt()
	}
	result.Size = info.GetSize()
	if w.written > 0 {
		if err := os.Rename(tmp, full); err != nil {
			return nil, storageErr(err)
		}
		result.Size = w.written
	}
	return result, nil
}

// uploadRejected is UploadFile's rejection, upstream's
// DoUploadFileExpectModification: the reason is in the error id.
func uploadRejected(reason string) error {
	id := "File rejected by plugin. " + reason
	return apperror.New(id, id, "", http.StatusBadRequest)
}

// sessionUploadRejected is the rejection of an upload session's file,
// upstream's runPluginsHook.
func sessionUploadRejected(filename string) func(reason string) error {
	return func(reason string) error {
		e := rejectedByPlugin("app.upload.run_plugins_hook.rejected",
			"Unable to upload the file "+filename+": rejected by a plugin", reason)
		e.Params["Filename"] = filename
		return e
	}
}
