package main

// The baseline of today's Go plugins: hashicorp/go-plugin's net/rpc, with
// gob-encoded argument and reply structs, and the plugin's API calls going
// back to the host over a MuxBroker connection, as Mattermost serves its
// Go plugins.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/rpc"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/memory"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// netrpcHandshake is the handshake of the benchmark's own plugin.
var netrpcHandshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "PLUGINBENCH_PLUGIN",
	MagicCookieValue: "net/rpc baseline",
}

// gobPost is the post that crosses net/rpc: the exported fields of
// Mattermost's model.Post, as a Go plugin's hooks receive them.
type gobPost struct {
	Id, UserId, ChannelId, RootId, OriginalId, Message, Type, PendingPostId, RemoteId string
	CreateAt, UpdateAt, EditAt, DeleteAt                                              int64
	IsPinned, HasReactions                                                            bool
	Props                                                                             map[string]any
	Hashtags                                                                          string
	FileIds                                                                           []string
}

// gobUser is the user that crosses net/rpc: the exported fields of
// Mattermost's model.User that a GetUser answer carries.
type gobUser struct {
	Id, Username, Password, AuthService, Email, Nickname, FirstName, LastName, Position, Roles, Locale string
	AuthData                                                                                           *string
	CreateAt, UpdateAt, DeleteAt, LastPasswordUpdate, LastPictureUpdate, MfaUsedTimestamps             int64
	EmailVerified, AllowMarketing, MfaActive, IsBot, DisableWelcomeEmail                               bool
	Props, NotifyProps, Timezone                                                                       map[string]string
	FailedAttempts                                                                                     int
}

func toGobUser(u *pluginpb.User) *gobUser {
	return &gobUser{Id: u.GetId(), Username: u.GetUsername(), Email: u.GetEmail(), Nickname: u.GetNickname(),
		FirstName: u.GetFirstName(), LastName: u.GetLastName(), Position: u.GetPosition(), Roles: u.GetRoles(),
		Locale: u.GetLocale(), CreateAt: u.GetCreateAt(), UpdateAt: u.GetUpdateAt(), DeleteAt: u.GetDeleteAt(),
		EmailVerified: u.GetEmailVerified(), IsBot: u.GetIsBot(), Props: u.GetProps(), NotifyProps: u.GetNotifyProps(),
		Timezone: u.GetTimezone()}
}

// Argument and reply structs, named as Mattermost's generated RPC glue
// names them.
type (
	// ZKVGetArgs is KVGet's argument.
	ZKVGetArgs struct{ A string }
	// ZKVGetReturns is KVGet's reply.
	ZKVGetReturns struct {
		A []byte
		B error
	}
	// ZGetUserArgs is GetUser's argument.
	ZGetUserArgs struct{ A string }
	// ZGetUserReturns is GetUser's reply.
	ZGetUserReturns struct {
		A *gobUser
		B error
	}
	// ZMessageWillBePostedArgs is the hook's argument.
	ZMessageWillBePostedArgs struct {
		A *pluginpb.Context
		B *gobPost
	}
	// ZMessageWillBePostedReturns is the hook's reply.
	ZMessageWillBePostedReturns struct {
		A *gobPost
		B string
	}
	// RunArgs asks the plugin to measure API calls to the host.
	RunArgs struct {
		BrokerID                   uint32
		Method, UserID             string
		Calls, Concurrency, Warmup int
	}
	// RunReply carries the latencies the plugin measured.
	RunReply struct {
		LatenciesNS []int64
		ElapsedNS   int64
	}
)

// apiServer is the host's API, served to the plugin over the broker.
type apiServer struct{ b *memory.Backend }

// KVGet reads a key.
func (s *apiServer) KVGet(args *ZKVGetArgs, reply *ZKVGetReturns) error {
	resp, err := s.b.KVGet(context.Background(), &pluginpb.KVGetRequest{Key: args.A})
	reply.A = resp.GetValue()
	return err
}

// GetUser reads a user.
func (s *apiServer) GetUser(args *ZGetUserArgs, reply *ZGetUserReturns) error {
	resp, err := s.b.GetUser(context.Background(), &pluginpb.GetUserRequest{UserId: args.A})
	if err == nil {
		reply.A = toGobUser(resp.GetUser())
	}
	return err
}

// allowPost is the hook's work, the same in every variant: it marks the
// post and allows it.
func allowPost(post *gobPost) *gobPost {
	post.Message += "!"
	return post
}

// pluginServer is the plugin's side of the net/rpc connection.
type pluginServer struct{ broker *plugin.MuxBroker }

// MessageWillBePosted is the hook.
func (p *pluginServer) MessageWillBePosted(args *ZMessageWillBePostedArgs, reply *ZMessageWillBePostedReturns) error {
	reply.A = allowPost(args.B)
	return nil
}

// Run measures API calls from the plugin to the host.
func (p *pluginServer) Run(args *RunArgs, reply *RunReply) error {
	conn, err := p.broker.Dial(args.BrokerID)
	if err != nil {
		return err
	}
	api := rpc.NewClient(conn)
	defer api.Close()
	call := func() error {
		var kv ZKVGetReturns
		return api.Call("Plugin.KVGet", &ZKVGetArgs{A: "bench-1k"}, &kv)
	}
	if args.Method == "getuser" {
		call = func() error {
			var u ZGetUserReturns
			return api.Call("Plugin.GetUser", &ZGetUserArgs{A: args.UserID}, &u)
		}
	}
	s, err := measure(args.Method, args.Calls, args.Concurrency, args.Warmup, call)
	reply.LatenciesNS, reply.ElapsedNS = s.LatenciesNS, s.ElapsedNS
	return err
}

// benchPlugin is the go-plugin net/rpc plugin definition.
type benchPlugin struct{}

func (benchPlugin) Server(b *plugin.MuxBroker) (any, error) { return &pluginServer{broker: b}, nil }

func (benchPlugin) Client(b *plugin.MuxBroker, c *rpc.Client) (any, error) {
	return &pluginClient{broker: b, client: c}, nil
}

// pluginClient is the host's side.
type pluginClient struct {
	broker *plugin.MuxBroker
	client *rpc.Client
}

func (c *pluginClient) messageWillBePosted(post *gobPost) (*gobPost, string, error) {
	var reply ZMessageWillBePostedReturns
	err := c.client.Call("Plugin.MessageWillBePosted", &ZMessageWillBePostedArgs{A: &pluginpb.Context{}, B: post}, &reply)
	return reply.A, reply.B, err
}

// servePlugin is the plugin process.
func servePlugin() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: netrpcHandshake,
		Plugins:         plugin.PluginSet{"bench": benchPlugin{}},
		Logger:          hclog.NewNullLogger(),
	})
}

// inProcess is the direct in-process call, through an interface, as the
// server calls its own code.
type inProcess interface {
	MessageWillBePosted(c *pluginpb.Context, post *gobPost) (*gobPost, string)
}

type direct struct{}

func (direct) MessageWillBePosted(_ *pluginpb.Context, post *gobPost) (*gobPost, string) {
	return allowPost(post), ""
}

// runNetRPC starts the net/rpc plugin and measures its API calls to the
// host, the host's hook calls to it, and the in-process call.
func runNetRPC(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("netrpc", flag.ContinueOnError)
	var c commonFlags
	c.register(fs)
	parts := fs.String("measure", "api,hooks", `what to measure, comma-separated: "api" (the plugin's API calls) and "hooks" (the host's hook calls, over net/rpc and in process)`)
	stop, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	defer stop()
	var methods []string
	hooks := false
	for _, part := range strings.Split(*parts, ",") {
		switch part {
		case "api":
			methods = []string{"kvget", "getuser"}
		case "hooks":
			hooks = true
		default:
			return fmt.Errorf("netrpc: -measure %q: want api, hooks or both, comma-separated", *parts)
		}
	}
	backend := memory.New()
	defer backend.Close()
	ctx := context.Background()
	u, err := backend.CreateUser(ctx, &pluginpb.CreateUserRequest{User: &pluginpb.User{
		Username: "bench", Email: "bench@example.com", Password: "passw0rd!", FirstName: "Bench", LastName: "Mark"}})
	if err != nil {
		return err
	}
	if _, err := backend.KVSet(ctx, &pluginpb.KVSetRequest{Key: "bench-1k", Value: make([]byte, 1024)}); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  netrpcHandshake,
		Plugins:          plugin.PluginSet{"bench": benchPlugin{}},
		Cmd:              exec.Command(self, "plugin"),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolNetRPC},
		Logger:           hclog.NewNullLogger(),
	})
	defer client.Kill()
	rpcClient, err := client.Client()
	if err != nil {
		return fmt.Errorf("start the net/rpc plugin: %w", err)
	}
	raw, err := rpcClient.Dispense("bench")
	if err != nil {
		return err
	}
	pc := raw.(*pluginClient)

	// The plugin's API calls, one broker connection per measurement.
	for _, method := range methods {
		for _, n := range c.concurrency {
			id := pc.broker.NextId()
			go pc.broker.AcceptAndServe(id, &apiServer{b: backend})
			var reply RunReply
			err := pc.client.Call("Plugin.Run", &RunArgs{BrokerID: id, Method: method, UserID: u.GetUser().GetId(),
				Calls: c.calls, Concurrency: n, Warmup: c.warmup}, &reply)
			if err != nil {
				return fmt.Errorf("net/rpc %s: %w", method, err)
			}
			if err := emit(out, sample{Name: "go-netrpc/" + method, Concurrency: n, LatenciesNS: reply.LatenciesNS, ElapsedNS: reply.ElapsedNS}); err != nil {
				return err
			}
		}
	}

	if !hooks {
		return nil
	}
	// The hook, over net/rpc and in process.
	newPost := func() *gobPost {
		return &gobPost{Id: "p", UserId: u.GetUser().GetId(), ChannelId: "c", Message: "hello", CreateAt: time.Now().UnixMilli()}
	}
	var d inProcess = direct{}
	for _, n := range c.concurrency {
		s, err := measure("go-netrpc/hook", c.calls, n, c.warmup, func() error {
			post, _, err := pc.messageWillBePosted(newPost())
			if err == nil && !strings.HasSuffix(post.Message, "!") {
				err = errors.New("the hook's answer is not the marked post")
			}
			return err
		})
		if err != nil {
			return err
		}
		if err := emit(out, s); err != nil {
			return err
		}
		s, err = measure("go-direct/hook", c.calls*10, n, c.warmup, func() error {
			post, _ := d.MessageWillBePosted(&pluginpb.Context{}, newPost())
			if post.Message != "hello!" {
				return errors.New("the in-process answer is not the marked post")
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := emit(out, s); err != nil {
			return err
		}
	}
	return nil
}
