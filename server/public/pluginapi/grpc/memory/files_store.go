package memory

// This file holds the file store of the files domain: file data on disk,
// under a root directory, and the file infos and upload sessions in
// memory. Data moves through it in chunks, so that no file is held whole.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"google.golang.org/grpc/status"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// fileChunkSize is the size of the chunks that downloads send.
const fileChunkSize = 1 << 20

// fileStore holds the file infos and upload sessions; the data is on disk
// under root, which the store creates on first use unless [FileDir] set
// it.
type fileStore struct {
	root     string
	ownsRoot bool
	infos    map[string]*pluginpb.FileInfo
	uploads  map[string]*pluginpb.UploadSession
	// uploading holds the ids of the sessions an UploadData call is
	// writing, as App.UploadData's upload locks.
	uploading map[string]bool
}

// FileDir sets the directory where the backend keeps file data. The
// default is a new temporary directory, which [Backend.Close] removes.
func FileDir(dir string) Option {
	return optionFunc(func(b *Backend) {
		if dir != "" {
			b.files.root = dir
		}
	})
}

// Close removes the file data of a Backend whose directory it created.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.files.ownsRoot && b.files.root != "" {
		err := os.RemoveAll(b.files.root)
		b.files.root, b.files.ownsRoot = "", false
		return err
	}
	return nil
}

// fileRoot returns the data directory, creating it on first use. The
// caller holds the lock.
func (b *Backend) fileRoot() (string, error) {
	if b.files.root == "" {
		dir, err := os.MkdirTemp("", "pluginapi-files-")
		if err != nil {
			return "", apperror.New("api.file.file_store.create.app_error", "Unable to create the file store.", err.Error(), http.StatusInternalServerError)
		}
		b.files.root, b.files.ownsRoot = dir, true
	}
	return b.files.root, nil
}

// storePath turns a path of the file store into a path on disk, refusing
// paths that leave the store.
func storePath(root, p string) (string, error) {
	clean := path.Clean("/" + strings.ReplaceAll(p, "\\", "/"))
	if p == "" || strings.Contains(p, "\x00") || clean == "/" || strings.Contains(p, "..") {
		return "", apperror.New("api.file.read_file.invalid_path.app_error",
			"Invalid path: a relative path inside the file store.", "", http.StatusBadRequest)
	}
	return filepath.Join(root, filepath.FromSlash(clean)), nil
}

// storageError is the error of a file store operation that failed.
func storageError(err error) *apperror.Error {
	return apperror.New("api.file.upload_file.storage.app_error", "Unable to store the file.", err.Error(), http.StatusInternalServerError)
}

// writeStream copies chunks from next into a new file at rel, up to limit
// bytes, and returns the bytes written. On any error it removes the file,
// and so it does when ctx, the caller's, has ended by the last chunk: a
// client that cancels right after its last chunk may still have
// half-closed the stream, and keeps nothing it will not hear of.
func writeStream(ctx context.Context, root, rel string, limit int64, next func() ([]byte, error)) (int64, error) {
	full, err := storePath(root, rel)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
		return 0, storageError(err)
	}
	f, err := os.OpenFile(full, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, storageError(err)
	}
	n, err := copyChunks(f, limit, next)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if cerr := ctx.Err(); err == nil && cerr != nil {
		err = status.FromContextError(cerr).Err()
	}
	if err != nil {
		os.Remove(full)
		return 0, err
	}
	return n, nil
}

// copyChunks writes chunks from next to w until next returns io.EOF.
func copyChunks(w io.Writer, limit int64, next func() ([]byte, error)) (int64, error) {
	var n int64
	for {
		chunk, err := next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n += int64(len(chunk))
		if n > limit {
			return n, apperror.New("api.file.upload_file.too_large_detailed.app_error",
				fmt.Sprintf("The file is larger than the limit of %d bytes.", limit), "", http.StatusRequestEntityTooLarge)
		}
		if _, err := w.Write(chunk); err != nil {
			return n, storageError(err)
		}
	}
}

// readFileError is Server.ReadFile's error
// (server/channels/app/server.go@000e7a7f): whatever the file backend
// fails with, a path outside the store or a missing file too, is
// api.file.read_file.app_error, 500.
func readFileError(details string) *apperror.Error {
	return apperror.New("api.file.read_file.app_error", "Unable to read the file.", details, http.StatusInternalServerError)
}

// sendFile sends the file at rel in chunks.
func sendFile(root, rel string, send func([]byte) error) error {
	full, err := storePath(root, rel)
	if err != nil {
		return readFileError("invalid path")
	}
	f, err := os.Open(full)
	if err != nil {
		return readFileError("no file at path=" + apperror.Truncate(rel, apperror.MaxShortBytes))
	}
	defer f.Close()
	buf := make([]byte, fileChunkSize)
	for {
		n, err := f.Read(buf)
		if n > 0 {
			if serr := send(buf[:n]); serr != nil {
				return serr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return readFileError(err.Error())
		}
	}
}
