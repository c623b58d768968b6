package hooks

import (
	"context"
	"errors"
	"io"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// FileWillBeUploaded implements [Hooks]. The file's content is sent in
// chunks as it is read from file, and replacement content is written to
// output as it comes. It returns the info to store and a rejection reason.
// It fails open, as upstream: when the plugin lacks the hook or the call
// fails, the upload goes through with the sent info, and content already
// written to output stays written. It waits for its reads of file to end
// before it returns.
func (c *Client) FileWillBeUploaded(ctx context.Context, hc *pluginpb.Context, info *pluginpb.FileInfo, file io.Reader, output io.Writer) (*pluginpb.FileInfo, string) {
	result, reason := info, ""
	_ = c.Call(ctx, "FileWillBeUploaded", func(ctx context.Context) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stream, err := c.rpc.FileWillBeUploaded(ctx)
		if err != nil {
			return err
		}
		if err := stream.Send(&pluginpb.FileWillBeUploadedRequest{Context: hc, Part: &pluginpb.FileWillBeUploadedRequest_Info{Info: info}}); err != nil {
			return err
		}
		sent := make(chan struct{})
		defer func() {
			cancel()
			<-sent
		}()
		go func() {
			defer close(sent)
			defer stream.CloseSend()
			sendChunks(file, func(chunk []byte) error {
				return stream.Send(&pluginpb.FileWillBeUploadedRequest{Part: &pluginpb.FileWillBeUploadedRequest_Chunk{Chunk: chunk}})
			})
		}()
		for {
			msg, err := stream.Recv()
			if err == io.EOF {
				return errors.New("the plugin's answer has no result")
			}
			if err != nil {
				return err
			}
			if chunk := msg.GetChunk(); len(chunk) > 0 {
				if _, err := output.Write(chunk); err != nil {
					return err
				}
				continue
			}
			if r := msg.GetResult(); r != nil {
				result, reason = Keep(info, r.GetInfo()), r.GetRejectionReason()
				return nil
			}
		}
	})
	return result, reason
}

// FileWillBeUploaded keeps the upload.
func (None) FileWillBeUploaded(_ context.Context, _ *pluginpb.Context, info *pluginpb.FileInfo, _ io.Reader, _ io.Writer) (*pluginpb.FileInfo, string) {
	return info, ""
}
