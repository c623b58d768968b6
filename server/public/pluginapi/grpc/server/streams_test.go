package server_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/auth"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/memory"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// streamWorld is a server over a backend whose file store is dir, with a
// team and its town-square.
func streamWorld(t *testing.T) (pluginpb.PluginAPIClient, string, string) {
	t.Helper()
	dir := t.TempDir()
	h := start(t, memory.New(memory.FileDir(dir)))
	client := pluginpb.NewPluginAPIClient(h.conn)
	return client, townSquare(t, client), dir
}

// townSquare makes a team through client and returns the id of its
// town-square.
func townSquare(t *testing.T, client pluginpb.PluginAPIClient) string {
	t.Helper()
	ctx := ctxWithTimeout(t)
	creds := auth.PerRPCCredentials(testToken)
	team, err := client.CreateTeam(ctx, &pluginpb.CreateTeamRequest{Team: &pluginpb.Team{Name: "core", DisplayName: "Core", Type: "O"}}, creds)
	if err != nil {
		t.Fatal(err)
	}
	town, err := client.GetChannelByName(ctx, &pluginpb.GetChannelByNameRequest{TeamId: team.GetTeam().GetId(), Name: "town-square"}, creds)
	if err != nil {
		t.Fatal(err)
	}
	return town.GetChannel().GetId()
}

// filesIn counts the regular files under dir.
func filesIn(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestUploadAndDownloadInChunks(t *testing.T) {
	client, channelID, _ := streamWorld(t)
	ctx := ctxWithTimeout(t)
	creds := auth.PerRPCCredentials(testToken)
	up, err := client.UploadFile(ctx, creds)
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Repeat([]byte("0123456789abcdef"), 300_000) // 4.8 MB
	if err := up.Send(&pluginpb.UploadFileRequest{Part: &pluginpb.UploadFileRequest_Head{Head: &pluginpb.UploadFileHead{ChannelId: channelID, Filename: "data.bin"}}}); err != nil {
		t.Fatal(err)
	}
	for start := 0; start < len(want); start += 1 << 20 {
		chunk := want[start:min(start+1<<20, len(want))]
		if err := up.Send(&pluginpb.UploadFileRequest{Part: &pluginpb.UploadFileRequest_Chunk{Chunk: chunk}}); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := up.CloseAndRecv()
	if err != nil {
		t.Fatal(err)
	}
	down, err := client.GetFile(ctx, &pluginpb.GetFileRequest{FileId: resp.GetFileInfo().GetId()}, creds)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	chunks := 0
	for {
		m, err := down.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(m.GetChunk()) > 1<<20 {
			t.Errorf("a chunk of %d bytes; want at most 1 MiB", len(m.GetChunk()))
		}
		got.Write(m.GetChunk())
		chunks++
	}
	if !bytes.Equal(got.Bytes(), want) || chunks < 5 {
		t.Errorf("downloaded %d bytes in %d chunks; want %d bytes in at least 5", got.Len(), chunks, len(want))
	}
}

func TestUploadsThatFailKeepNothing(t *testing.T) {
	tests := []struct {
		name string
		send func(up pluginpb.PluginAPI_UploadFileClient, channelID string) error
		code codes.Code
	}{
		{"no head", func(up pluginpb.PluginAPI_UploadFileClient, _ string) error {
			return up.Send(&pluginpb.UploadFileRequest{Part: &pluginpb.UploadFileRequest_Chunk{Chunk: []byte("x")}})
		}, codes.InvalidArgument},
		{"a second head", func(up pluginpb.PluginAPI_UploadFileClient, channelID string) error {
			head := &pluginpb.UploadFileRequest{Part: &pluginpb.UploadFileRequest_Head{Head: &pluginpb.UploadFileHead{ChannelId: channelID, Filename: "a.txt"}}}
			if err := up.Send(head); err != nil {
				return err
			}
			if err := up.Send(&pluginpb.UploadFileRequest{Part: &pluginpb.UploadFileRequest_Chunk{Chunk: []byte("data")}}); err != nil {
				return err
			}
			return up.Send(head)
		}, codes.InvalidArgument},
		{"a path in the name", func(up pluginpb.PluginAPI_UploadFileClient, channelID string) error {
			return up.Send(&pluginpb.UploadFileRequest{Part: &pluginpb.UploadFileRequest_Head{Head: &pluginpb.UploadFileHead{ChannelId: channelID, Filename: "../x"}}})
		}, codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, channelID, dir := streamWorld(t)
			up, err := client.UploadFile(ctxWithTimeout(t), auth.PerRPCCredentials(testToken))
			if err != nil {
				t.Fatal(err)
			}
			_ = tt.send(up, channelID) // the server may answer before all is sent
			_, err = up.CloseAndRecv()
			if status.Code(err) != tt.code {
				t.Errorf("upload = %v; want %v", err, tt.code)
			}
			if n := filesIn(t, dir); n != 0 {
				t.Errorf("%d files left in the store", n)
			}
		})
	}
}

func TestCancelledUploadKeepsNothing(t *testing.T) {
	client, channelID, dir := streamWorld(t)
	ctx, cancel := context.WithCancel(ctxWithTimeout(t))
	up, err := client.UploadFile(ctx, auth.PerRPCCredentials(testToken))
	if err != nil {
		t.Fatal(err)
	}
	if err := up.Send(&pluginpb.UploadFileRequest{Part: &pluginpb.UploadFileRequest_Head{Head: &pluginpb.UploadFileHead{ChannelId: channelID, Filename: "half.bin"}}}); err != nil {
		t.Fatal(err)
	}
	if err := up.Send(&pluginpb.UploadFileRequest{Part: &pluginpb.UploadFileRequest_Chunk{Chunk: make([]byte, 1<<20)}}); err != nil {
		t.Fatal(err)
	}
	// Wait until the server has the chunk on disk, then cancel mid-upload.
	for filesIn(t, dir) == 0 {
		if ctx.Err() != nil {
			t.Fatal("the upload never reached the store")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	// RecvMsg, not CloseAndRecv: a half-close after the cancellation could
	// reach the server first and complete the upload.
	if err := up.RecvMsg(new(pluginpb.UploadFileResponse)); status.Code(err) != codes.Canceled {
		t.Errorf("cancelled upload = %v; want Canceled", err)
	}
	// The handler removes the partial file once it sees the cancellation.
	deadline := ctxWithTimeout(t)
	for filesIn(t, dir) != 0 {
		if deadline.Err() != nil {
			t.Fatalf("the partial file of a cancelled upload stayed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	infos, err := client.GetFileInfos(ctxWithTimeout(t), &pluginpb.GetFileInfosRequest{PerPage: 10, Opt: &pluginpb.GetFileInfosOptions{}}, auth.PerRPCCredentials(testToken))
	if err != nil || len(infos.GetFileInfos()) != 0 {
		t.Errorf("file infos = %v, %v; want none", infos, err)
	}
}
