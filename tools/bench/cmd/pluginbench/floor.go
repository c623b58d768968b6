package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"

	"google.golang.org/protobuf/proto"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// maxFloorMessage bounds one message of the floor's protocol.
const maxFloorMessage = 1 << 20

// runFloor serves the physical floor of a Python↔Go call: on a unix socket
// at -socket, each message is a 4-byte big-endian length and a serialized
// KVGetRequest, answered the same way with a KVGetResponse of a 1 KiB
// value. No HTTP/2, no gRPC: what is left is the two processes, the
// socket and protobuf. It prints "ready" once it listens, and serves
// until its stdin closes.
func runFloor(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("floor", flag.ContinueOnError)
	socket := fs.String("socket", "", "the unix socket to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *socket == "" {
		return errors.New("floor: -socket is required")
	}
	lis, err := net.Listen("unix", *socket)
	if err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	defer lis.Close()
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		lis.Close()
	}()
	if _, err := fmt.Fprintln(out, "ready"); err != nil {
		return err
	}
	value := make([]byte, 1024)
	for {
		conn, err := lis.Accept()
		if err != nil {
			return nil // stdin closed
		}
		go serveFloor(conn, value)
	}
}

// serveFloor answers one connection's requests in order until it closes.
func serveFloor(conn net.Conn, value []byte) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	var head [4]byte
	var req pluginpb.KVGetRequest
	buf := make([]byte, 0, 1100)
	for {
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(head[:])
		if n > maxFloorMessage {
			return
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		if err := proto.Unmarshal(body, &req); err != nil {
			return
		}
		resp, err := proto.Marshal(&pluginpb.KVGetResponse{Value: value})
		if err != nil {
			return
		}
		buf = binary.BigEndian.AppendUint32(buf[:0], uint32(len(resp)))
		buf = append(buf, resp...)
		if _, err := conn.Write(buf); err != nil {
			return
		}
	}
}
