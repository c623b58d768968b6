package server

import (
	"context"
	"encoding/binary"
	"log/slog"
	"net"
	"sync"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
)

// grpc-go sends GOAWAY frames (too_many_pings, idle and graceful stops)
// without logging them, and a client only sees its connection drop. The
// server therefore follows the HTTP/2 frames it writes on each connection
// and logs every GOAWAY with its error code and debug text. HTTP/2 frames
// have a fixed 9-byte header (RFC 9113, section 4.1), and the server side
// of a connection writes nothing but frames, so this needs no help from
// grpc-go.

const (
	frameHeaderLen  = 9
	frameTypeGoAway = 0x7
	// maxGoAwayDebug bounds the debug text kept for the log.
	maxGoAwayDebug = 256
)

// http2ErrorName returns the name of an HTTP/2 error code (RFC 9113,
// section 7).
func http2ErrorName(code uint32) string {
	switch code {
	case 0x0:
		return "NO_ERROR"
	case 0x1:
		return "PROTOCOL_ERROR"
	case 0x2:
		return "INTERNAL_ERROR"
	case 0x3:
		return "FLOW_CONTROL_ERROR"
	case 0x7:
		return "REFUSED_STREAM"
	case 0x8:
		return "CANCEL"
	case 0xb:
		return "ENHANCE_YOUR_CALM"
	}
	return "UNKNOWN"
}

// goAwayListener wraps the connections it accepts in [goAwayConn].
type goAwayListener struct {
	net.Listener
	logger *slog.Logger
}

func (l goAwayListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &goAwayConn{Conn: c, logger: l.logger}, nil
}

// goAwayConn follows the frames written on a connection and logs GOAWAYs.
type goAwayConn struct {
	net.Conn
	logger *slog.Logger

	mu        sync.Mutex
	header    [frameHeaderLen]byte
	headerLen int
	remaining int    // payload bytes of the current frame still to come
	goAway    bool   // whether the current frame is a GOAWAY
	payload   []byte // the GOAWAY payload kept so far
}

func (c *goAwayConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.mu.Lock()
	c.follow(b[:n])
	c.mu.Unlock()
	return n, err
}

// follow consumes written bytes frame by frame. c.mu must be held.
func (c *goAwayConn) follow(b []byte) {
	for len(b) > 0 {
		if c.headerLen < frameHeaderLen {
			k := copy(c.header[c.headerLen:], b)
			c.headerLen += k
			b = b[k:]
			if c.headerLen < frameHeaderLen {
				return
			}
			c.remaining = int(c.header[0])<<16 | int(c.header[1])<<8 | int(c.header[2])
			c.goAway = c.header[3] == frameTypeGoAway
			c.payload = c.payload[:0]
		}
		k := min(c.remaining, len(b))
		if c.goAway {
			keep := min(k, 8+maxGoAwayDebug-len(c.payload))
			c.payload = append(c.payload, b[:keep]...)
		}
		c.remaining -= k
		b = b[k:]
		if c.remaining == 0 {
			if c.goAway {
				c.logGoAway()
			}
			c.headerLen = 0
			c.goAway = false
		}
	}
}

func (c *goAwayConn) logGoAway() {
	if len(c.payload) < 8 {
		return
	}
	code := binary.BigEndian.Uint32(c.payload[4:8])
	level := slog.LevelInfo
	if code != 0 {
		level = slog.LevelWarn
	}
	c.logger.Log(context.Background(), level, "sent GOAWAY",
		slog.String("remote", c.Conn.RemoteAddr().String()),
		slog.String("error_code", http2ErrorName(code)),
		slog.String("debug", apperror.Truncate(string(c.payload[8:]), maxGoAwayDebug)),
		slog.Uint64("last_stream_id", uint64(binary.BigEndian.Uint32(c.payload[0:4])&0x7fffffff)))
}
