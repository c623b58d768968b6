package memory

// This file holds the handlers of the posts domain; posts_store.go holds
// its state and posts_search.go its searches.

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/hooks"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/wire"
)

// Limits of model.Post.IsValid.
const (
	postMessageMaxRunes  = 65535 / 4 // model.PostMessageMaxRunesV2
	postHashtagsMaxRunes = 1000
	postFileIDsMax       = 10
	postTypeEphemeral    = "system_ephemeral"
)

var (
	hashtagPattern = regexp.MustCompile(`(?:^|\s)(#[\p{L}\p{N}_.\-]{2,})`)
	mentionPattern = regexp.MustCompile(`@([a-z0-9.\-_]+)`)
)

// postRejected is the error of a post that a hook rejected: the reason is
// in the id, as Mattermost puts it there; the id of a dismissed post
// (wire.DismissPostError) is the reason alone.
func postRejected(reason string) *apperror.Error {
	id := "Post rejected by plugin. " + reason
	if reason == wire.DismissPostError {
		id = wire.DismissPostError
	}
	return apperror.New(id, id, "", http.StatusBadRequest)
}

func postNotFound(postID string) *apperror.Error {
	return apperror.New("app.post.get.app_error", "Unable to get the post.", "post_id="+postID, http.StatusNotFound)
}

func invalidPost(field, message string) *apperror.Error {
	e := apperror.New("model.post.is_valid."+field+".app_error", message, "", http.StatusBadRequest)
	e.Where = "Post.IsValid"
	return e
}

// validatePost checks p against the rules of model.Post.IsValid.
func validatePost(p *pluginpb.Post) error {
	switch {
	case !isValidID(p.GetId()):
		return invalidPost("id", "Invalid post id.")
	case !isValidID(p.GetUserId()):
		return invalidPost("user_id", "Invalid user id.")
	case !isValidID(p.GetChannelId()):
		return invalidPost("channel_id", "Invalid channel id.")
	case p.GetRootId() != "" && !isValidID(p.GetRootId()):
		return invalidPost("root_id", "Invalid root id.")
	case utf8.RuneCountInString(p.GetMessage()) > postMessageMaxRunes:
		return invalidPost("message_length", "Invalid message: at most 16,383 characters.")
	case utf8.RuneCountInString(p.GetHashtags()) > postHashtagsMaxRunes:
		return invalidPost("hashtags", "Invalid hashtags: at most 1,000 characters.")
	case len(p.GetFileIds()) > postFileIDsMax:
		return invalidPost("file_ids", "Invalid file ids: at most 10.")
	case p.GetType() != "" && !strings.HasPrefix(p.GetType(), "system_") && !strings.HasPrefix(p.GetType(), "custom_") &&
		p.GetType() != "slack_attachment" && p.GetType() != "me" && p.GetType() != "reminder":
		return invalidPost("type", `Invalid type: "", "system_...", "custom_..." or a known type.`)
	case proto.Size(p.GetProps()) > propsMaxBytes:
		return invalidPost("props", "Invalid props: at most 64 KiB.")
	}
	return nil
}

// hashtags returns the hashtags of a message, space-separated.
func hashtags(message string) string {
	var tags []string
	for _, m := range hashtagPattern.FindAllStringSubmatch(message, -1) {
		tags = append(tags, m[1])
	}
	return strings.Join(tags, " ")
}

// setProp sets one prop of a post.
func setProp(p *pluginpb.Post, key string, value any) {
	if p.Props == nil {
		p.Props = &structpb.Struct{Fields: map[string]*structpb.Value{}}
	}
	if p.Props.Fields == nil {
		p.Props.Fields = map[string]*structpb.Value{}
	}
	v, err := structpb.NewValue(value)
	if err == nil {
		p.Props.Fields[key] = v
	}
}

// preparePost checks a new post against its channel and thread, as
// Mattermost's CreatePost does, and against model.Post.IsValid, as its
// store does. The caller holds the lock.
func (b *Backend) preparePost(p *pluginpb.Post) error {
	if err := b.checkNewPost(p); err != nil {
		return err
	}
	return validatePost(p)
}

// checkNewPost checks a new post against its channel and thread, as
// App.CreatePost does before MessageWillBePosted; model.Post.IsValid is the
// store's, after the hook. The caller holds the lock.
func (b *Backend) checkNewPost(p *pluginpb.Post) error {
	c, err := b.channel(p.GetChannelId())
	if err != nil {
		return err
	}
	// An archived channel takes posts here: the plugin path reaches
	// App.CreatePost through CreatePostMissingChannel, which does not check
	// delete_at (only CreatePostAsUser, the REST path, refuses).
	if _, err := b.user(p.GetUserId()); err != nil {
		return err
	}
	if p.GetRootId() != "" {
		root, ok := b.posts.byID[p.GetRootId()]
		switch {
		case !ok || !live(root):
			return apperror.New("api.post.create_post.root_id.app_error",
				"Invalid root id: it must name a live post.", "root_id="+p.GetRootId(), http.StatusBadRequest)
		case root.GetChannelId() != c.GetId():
			// App.CreatePost's status; only CreatePostAsUser turns it into
			// a 400.
			return apperror.New("api.post.create_post.channel_root_id.app_error",
				"Invalid root id: the root post is in another channel.", "root_id="+p.GetRootId(),
				http.StatusInternalServerError)
		case root.GetRootId() != "":
			return apperror.New("api.post.create_post.root_id.app_error",
				"Invalid root id: it names a reply, not a root post.", "root_id="+p.GetRootId(), http.StatusBadRequest)
		}
	}
	for _, id := range p.GetFileIds() {
		info, err := b.liveFile(id)
		if err != nil {
			return err
		}
		if info.GetPostId() != "" {
			return apperror.New("api.post.create_post.file_attached.app_error",
				"The file belongs to another post.", "file_id="+id, http.StatusBadRequest)
		}
	}
	return nil
}

// storeNewPost stores a prepared post and updates its channel, thread and
// the counters of the channel's members. The caller holds the lock.
func (b *Backend) storeNewPost(p *pluginpb.Post) {
	b.posts.byID[p.GetId()] = p
	_ = b.attachFiles(p) // preparePost checked the files
	c := proto.Clone(b.channels.byID[p.GetChannelId()]).(*pluginpb.Channel)
	c.TotalMsgCount++
	c.LastPostAt = max(c.GetLastPostAt(), p.GetCreateAt())
	if p.GetRootId() == "" {
		c.TotalMsgCountRoot++
		c.LastRootPostAt = max(c.GetLastRootPostAt(), p.GetCreateAt())
	} else {
		root := proto.Clone(b.posts.byID[p.GetRootId()]).(*pluginpb.Post)
		root.ReplyCount++
		root.LastReplyAt = p.GetCreateAt()
		b.posts.byID[root.GetId()] = root
	}
	b.channels.put(c)
	mentioned := map[string]bool{}
	for _, m := range mentionPattern.FindAllStringSubmatch(strings.ToLower(p.GetMessage()), -1) {
		if id, ok := b.users.byUsername[strings.TrimRight(m[1], ".-_")]; ok {
			mentioned[id] = true
		}
	}
	for _, m := range b.channels.membersWhere(func(m *pluginpb.ChannelMember) bool { return m.GetChannelId() == c.GetId() }) {
		m = proto.Clone(b.channels.members[membershipKey{c.GetId(), m.GetUserId()}]).(*pluginpb.ChannelMember)
		switch {
		case m.GetUserId() == p.GetUserId():
			// The author has read the channel up to the post.
			m.MsgCount = c.GetTotalMsgCount()
			m.MsgCountRoot = c.GetTotalMsgCountRoot()
			m.LastViewedAt = p.GetCreateAt()
		case mentioned[m.GetUserId()]:
			m.MentionCount++
			if p.GetRootId() == "" {
				m.MentionCountRoot++
			}
		default:
			continue
		}
		b.channels.members[membershipKey{c.GetId(), m.GetUserId()}] = m
	}
}

// CreatePost creates a post, as the plugin. As in Mattermost, the
// MessageWillBePosted hook may change or reject it before it is stored,
// and MessageHasBeenPosted runs after.
func (b *Backend) CreatePost(ctx context.Context, req *pluginpb.CreatePostRequest) (*pluginpb.CreatePostResponse, error) {
	if req.GetPost() == nil {
		return nil, invalidParam("post")
	}
	p := proto.Clone(req.GetPost()).(*pluginpb.Post)
	// A post with an id reaches MessageWillBePosted: App.CreatePost has no
	// check of its own, and the store's Save refuses it after the hook
	// (post.go@285f792d:App.CreatePost), below.
	// As in App.CreatePost, the hook sees the post before the store's
	// PreSave: no id, and create_at and update_at as the caller gave them.
	p.EditAt, p.DeleteAt, p.ReplyCount, p.LastReplyAt = 0, 0, 0, 0
	p.Participants, p.Metadata, p.IsFollowing = nil, nil, nil
	p.Hashtags = hashtags(p.GetMessage())
	setProp(p, "from_plugin", "true")
	changed, err := b.messageWillBePosted(ctx, p)
	if err != nil {
		return nil, err
	}
	if changed.GetId() != "" {
		// The store saves only new posts: an answer with an id is refused.
		return nil, apperror.New("app.post.save.existing.app_error",
			"Cannot save an existing post: MessageWillBePosted's post has an id.", "id="+changed.GetId(), http.StatusBadRequest)
	}
	b.mu.Lock()
	err = b.checkNewPost(changed)
	if err == nil {
		// model.Post.PreSave: a new id, create_at now unless the post (or
		// the hook's answer) has one, and update_at = create_at.
		changed.Id = newID()
		if changed.GetCreateAt() == 0 {
			changed.CreateAt = b.nowMillis()
		}
		changed.UpdateAt = changed.GetCreateAt()
		err = validatePost(changed)
	}
	if err == nil {
		b.storeNewPost(changed)
	}
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	b.hooks.MessageHasBeenPosted(ctx, proto.Clone(changed).(*pluginpb.Post))
	b.notificationsWillBeSent(ctx, changed)
	return &pluginpb.CreatePostResponse{Post: proto.Clone(changed).(*pluginpb.Post)}, nil
}

// messageWillBePosted takes a new post up to MessageWillBePosted, as
// App.CreatePost does: a bot author's post gets the from_bot prop, the
// checks of a new post run, then the hook, whose reason rejects the post
// and whose nil answer keeps it. It returns the post to store. The caller
// does not hold the lock.
func (b *Backend) messageWillBePosted(ctx context.Context, p *pluginpb.Post) (*pluginpb.Post, error) {
	b.mu.Lock()
	if s, ok := b.users.byID[p.GetUserId()]; ok && s.user.GetIsBot() {
		setProp(p, "from_bot", "true")
	}
	err := b.checkNewPost(p)
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	changed, reason := b.hooks.MessageWillBePosted(ctx, proto.Clone(p).(*pluginpb.Post))
	if reason != "" {
		return nil, postRejected(reason)
	}
	return hooks.Keep(p, changed), nil // (nil, "") leaves the post unchanged
}

// notificationsWillBeSent runs the NotificationsWillBeSent hook for a new
// post, where App.CreatePost reaches it: after the store's Save and after
// MessageHasBeenPosted was started, in handlePostEvents ->
// App.SendNotifications (server/channels/app/notification.go@003e57ac),
// which returns before the hook in an archived channel. A reason there
// stops the emails, the pushes and the "posted" websocket event and is
// logged ("Notification for post rejected by plugin"); the post and its
// mention counts stay. This backend sends none of those for a post, so a
// reason is only logged.
func (b *Backend) notificationsWillBeSent(ctx context.Context, p *pluginpb.Post) {
	b.mu.Lock()
	archived := b.channels.byID[p.GetChannelId()].GetDeleteAt() != 0
	b.mu.Unlock()
	if archived {
		return
	}
	if reason := b.hooks.NotificationsWillBeSent(ctx, proto.Clone(p).(*pluginpb.Post)); reason != "" {
		b.logger.LogAttrs(ctx, slog.LevelInfo, "Notification for post rejected by plugin",
			slog.String("post_id", p.GetId()), slog.String("reason", apperror.Truncate(reason, apperror.MaxMessageBytes)))
	}
}

// DeletePost deletes a post and, for a root post, its replies; the rows
// stay with delete_at set. MessageHasBeenDeleted then runs with the post.
func (b *Backend) DeletePost(ctx context.Context, req *pluginpb.DeletePostRequest) (*pluginpb.DeletePostResponse, error) {
	deleted, err := b.deletePost(req)
	if err != nil {
		return nil, err
	}
	b.hooks.MessageHasBeenDeleted(ctx, deleted)
	return &pluginpb.DeletePostResponse{}, nil
}

// deletePost deletes under the lock and returns a copy of the deleted post.
// As App.DeletePost (post.go@285f792d): the store's GetSingle of a live
// post, whose every failure is app.post.get.app_error with status 400 (no
// id check, so a malformed id is not found); then the channel, which must
// not be archived. A post with file ids has its files deleted too
// (deletePostFiles, SqlFileInfoStore.DeleteForPost: every file info whose
// post is this one gets a DeleteAt, and nothing else changes); the files of
// the replies that the post takes with it stay.
func (b *Backend) deletePost(req *pluginpb.DeletePostRequest) (*pluginpb.Post, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.posts.byID[req.GetPostId()]
	if !ok || !live(p) {
		return nil, apperror.New("app.post.get.app_error", "Unable to get the post.",
			"post_id="+apperror.Truncate(req.GetPostId(), apperror.MaxShortBytes), http.StatusBadRequest)
	}
	c, err := b.channel(p.GetChannelId())
	if err != nil {
		return nil, err
	}
	if c.GetDeleteAt() != 0 {
		return nil, apperror.New("api.post.delete_post.can_not_delete_post_in_deleted.error",
			"Unable to delete a post in an archived channel.", "channel_id="+c.GetId(), http.StatusBadRequest)
	}
	now := b.nowMillis()
	for _, q := range b.posts.byID {
		if q.GetId() == p.GetId() || q.GetRootId() == p.GetId() && live(q) {
			q = proto.Clone(q).(*pluginpb.Post)
			q.DeleteAt = now
			q.UpdateAt = now
			b.posts.byID[q.GetId()] = q
		}
	}
	if len(p.GetFileIds()) > 0 {
		for id, info := range b.files.infos {
			if info.GetPostId() == p.GetId() {
				info = proto.Clone(info).(*pluginpb.FileInfo)
				info.DeleteAt = now
				b.files.infos[id] = info
			}
		}
	}
	if p.GetRootId() != "" {
		if root, ok := b.posts.byID[p.GetRootId()]; ok {
			root = proto.Clone(root).(*pluginpb.Post)
			root.ReplyCount = max(root.GetReplyCount()-1, 0)
			b.posts.byID[root.GetId()] = root
		}
	}
	return proto.Clone(b.posts.byID[p.GetId()]).(*pluginpb.Post), nil
}

// livePost returns a live post, or NOT_FOUND. The caller holds the lock.
func (b *Backend) livePost(postID string) (*pluginpb.Post, error) {
	if !isValidID(postID) {
		return nil, invalidParam("post_id")
	}
	p, ok := b.posts.byID[postID]
	if !ok || !live(p) {
		return nil, postNotFound(postID)
	}
	return p, nil
}

// withReactions returns a copy of p with its reactions in its metadata.
// The caller holds the lock.
func (b *Backend) withReactions(p *pluginpb.Post) *pluginpb.Post {
	c := proto.Clone(p).(*pluginpb.Post)
	if rs := b.posts.reactionsOf(p.GetId()); len(rs) > 0 {
		if c.Metadata == nil {
			c.Metadata = &pluginpb.PostMetadata{}
		}
		c.Metadata.Reactions = rs
	}
	return c
}

// storedLivePost looks a live post up by any id, as the store's queries
// do: no id check, so a malformed id is simply not found (404). The caller
// holds the lock.
func (b *Backend) storedLivePost(postID string) (*pluginpb.Post, error) {
	p, ok := b.posts.byID[postID]
	if !ok || !live(p) {
		return nil, postNotFound(apperror.Truncate(postID, apperror.MaxShortBytes))
	}
	return p, nil
}

// GetPost returns a live post, with its reactions in its metadata. As
// App.GetSinglePost (post.go@285f792d) over SqlPostStore.GetSingle
// (post_store.go@1a6a3a0d), any id is looked up: an unknown, deleted,
// empty or malformed one is app.post.get.app_error (404).
func (b *Backend) GetPost(_ context.Context, req *pluginpb.GetPostRequest) (*pluginpb.GetPostResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, err := b.storedLivePost(req.GetPostId())
	if err != nil {
		return nil, err
	}
	return &pluginpb.GetPostResponse{Post: b.withReactions(p)}, nil
}

// GetPostThread returns the live posts of a post's thread: the requested
// post first, then the rest of the thread oldest first. As
// App.GetPostThread (post.go@285f792d) over SqlPostStore.Get
// (post_store.go@1a6a3a0d): an empty id is ErrInvalidInput,
// app.post.get.app_error (400); any other id is looked up, and an
// unknown, deleted or malformed one is app.post.get.app_error (404). The
// store lists the requested post first and then the thread's other posts
// in the query's order (no ORDER BY without a direction: the database's),
// which here is oldest first, by create_at and then id.
func (b *Backend) GetPostThread(_ context.Context, req *pluginpb.GetPostThreadRequest) (*pluginpb.GetPostThreadResponse, error) {
	if req.GetPostId() == "" {
		return nil, apperror.New("app.post.get.app_error", "Unable to get the post: no id.", "", http.StatusBadRequest)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	p, err := b.storedLivePost(req.GetPostId())
	if err != nil {
		return nil, err
	}
	rootID := cmpOr(p.GetRootId(), p.GetId())
	rest := b.posts.inChannel(p.GetChannelId(), func(q *pluginpb.Post) bool {
		return live(q) && q.GetId() != p.GetId() && (q.GetId() == rootID || q.GetRootId() == rootID)
	})
	slices.Reverse(rest) // inChannel lists newest first
	return &pluginpb.GetPostThreadResponse{PostList: b.posts.list(append([]*pluginpb.Post{p}, rest...))}, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// postsMaxPerPage is the largest page of SqlPostStore.GetPosts.
const postsMaxPerPage = 1000

// GetPostsSince returns the posts of a channel created, edited or deleted
// after a time, so that a client can bring its copy up to date. As
// upstream's store query, it does not look the channel up: an unknown
// channel has no posts.
func (b *Backend) GetPostsSince(_ context.Context, req *pluginpb.GetPostsSinceRequest) (*pluginpb.GetPostsSinceResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	posts := b.posts.inChannel(req.GetChannelId(), func(p *pluginpb.Post) bool { return p.GetUpdateAt() > req.GetTime() })
	return &pluginpb.GetPostsSinceResponse{PostList: b.posts.list(posts)}, nil
}

// GetPostsForChannel returns one page of a channel's live posts, newest
// first. As upstream's store query, it does not look the channel up (an
// unknown channel has no posts) and refuses a page of more than 1000 posts.
func (b *Backend) GetPostsForChannel(_ context.Context, req *pluginpb.GetPostsForChannelRequest) (*pluginpb.GetPostsForChannelResponse, error) {
	if err := validatePaging(req.GetPage(), req.GetPerPage()); err != nil {
		return nil, err
	}
	if req.GetPerPage() > postsMaxPerPage {
		return nil, apperror.New("app.post.get_posts.app_error", "Invalid paging: per_page must be at most 1000.",
			"per_page="+itoa(int(req.GetPerPage())), http.StatusBadRequest)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	posts := page(b.posts.inChannel(req.GetChannelId(), live), req.GetPage(), req.GetPerPage())
	return &pluginpb.GetPostsForChannelResponse{PostList: b.posts.list(posts)}, nil
}

// around returns one page of a channel's live posts before or after a
// post: pages count from the post outward, and each page lists its posts
// newest first. As upstream's store query (posts whose create_at is before
// or after the anchor's), it looks up neither the channel nor the anchor's
// channel: an unknown channel or anchor gives an empty list. The caller
// holds the lock.
func (b *Backend) around(channelID, postID string, pageNum, perPage int32, before bool) (*pluginpb.PostList, error) {
	if pageNum < 0 || perPage < 0 {
		return nil, apperror.New("app.post.get_posts_around.get.app_error",
			"Invalid paging: page and per_page must not be negative.",
			"page="+itoa(int(pageNum))+" per_page="+itoa(int(perPage)), http.StatusBadRequest)
	}
	anchor, ok := b.posts.byID[postID]
	if !ok {
		return b.posts.list(nil), nil
	}
	all := b.posts.inChannel(channelID, live) // newest first
	i := slices.IndexFunc(all, func(p *pluginpb.Post) bool { return newestFirst(p, anchor) >= 0 })
	var side []*pluginpb.Post
	if before {
		if i < 0 {
			i = len(all)
		}
		if i < len(all) && all[i].GetId() == anchor.GetId() {
			i++
		}
		side = all[i:] // older posts, nearest first
	} else {
		j := slices.IndexFunc(all, func(p *pluginpb.Post) bool { return newestFirst(p, anchor) >= 0 })
		if j < 0 {
			j = len(all)
		}
		newer := slices.Clone(all[:j]) // newer posts, newest first
		slices.Reverse(newer)          // nearest first
		side = newer
	}
	chunk := slices.Clone(page(side, pageNum, perPage))
	slices.SortFunc(chunk, newestFirst)
	return b.posts.list(chunk), nil
}

// GetPostsAfter returns one page of the posts of a channel after a post.
func (b *Backend) GetPostsAfter(_ context.Context, req *pluginpb.GetPostsAfterRequest) (*pluginpb.GetPostsAfterResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	l, err := b.around(req.GetChannelId(), req.GetPostId(), req.GetPage(), req.GetPerPage(), false)
	if err != nil {
		return nil, err
	}
	return &pluginpb.GetPostsAfterResponse{PostList: l}, nil
}

// GetPostsBefore returns one page of the posts of a channel before a post.
func (b *Backend) GetPostsBefore(_ context.Context, req *pluginpb.GetPostsBeforeRequest) (*pluginpb.GetPostsBeforeResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	l, err := b.around(req.GetChannelId(), req.GetPostId(), req.GetPage(), req.GetPerPage(), true)
	if err != nil {
		return nil, err
	}
	return &pluginpb.GetPostsBeforeResponse{PostList: l}, nil
}

// UpdatePost edits a live post as Mattermost's UpdatePost does: the
// message, file ids, pin, props and hashtags change, edit_at is set when
// the message changes, and the rest, create_at included, is kept.
func (b *Backend) UpdatePost(ctx context.Context, req *pluginpb.UpdatePostRequest) (*pluginpb.UpdatePostResponse, error) {
	in := req.GetPost()
	if in == nil {
		return nil, invalidParam("post")
	}
	b.mu.Lock()
	old, err := b.editablePost(in.GetId())
	var next *pluginpb.Post
	if err == nil {
		next = proto.Clone(old).(*pluginpb.Post)
		now := b.nowMillis()
		if in.GetMessage() != old.GetMessage() {
			next.Message = in.GetMessage()
			next.EditAt = now
			next.Hashtags = hashtags(in.GetMessage())
		}
		next.FileIds = in.GetFileIds()
		next.IsPinned = in.GetIsPinned()
		next.Props = in.GetProps()
		next.UpdateAt = now
		err = validatePost(next)
	}
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	changed, reason := b.hooks.MessageWillBeUpdated(ctx, proto.Clone(next).(*pluginpb.Post), proto.Clone(old).(*pluginpb.Post))
	if reason != "" || changed == nil {
		// Unlike MessageWillBePosted, a nil post rejects the edit.
		return nil, postRejected(reason)
	}
	b.mu.Lock()
	if _, err = b.editablePost(in.GetId()); err == nil {
		// A hook changes only what an edit may change.
		next.Message, next.FileIds, next.IsPinned, next.Props = changed.GetMessage(), changed.GetFileIds(), changed.GetIsPinned(), changed.GetProps()
		if err = validatePost(next); err == nil {
			b.posts.byID[next.GetId()] = next
		}
	}
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	b.hooks.MessageHasBeenUpdated(ctx, proto.Clone(next).(*pluginpb.Post), proto.Clone(old).(*pluginpb.Post))
	return &pluginpb.UpdatePostResponse{Post: proto.Clone(next).(*pluginpb.Post)}, nil
}

// editablePost returns a live post that is not a system message and whose
// channel is not archived, as App.UpdatePost requires, in its order. The
// caller holds the lock.
func (b *Backend) editablePost(postID string) (*pluginpb.Post, error) {
	p, err := b.livePost(postID)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(p.GetType(), "system_") {
		// model.Post.IsSystemMessage: the type has the "system_" prefix.
		return nil, apperror.New("api.post.update_post.system_message.app_error",
			"Cannot update a system message.", "id="+p.GetId(), http.StatusBadRequest)
	}
	if c, ok := b.channels.byID[p.GetChannelId()]; ok && c.GetDeleteAt() != 0 {
		return nil, apperror.New("api.post.update_post.can_not_update_post_in_deleted.error",
			"Cannot update a post in an archived channel.", "channel_id="+c.GetId(), http.StatusBadRequest)
	}
	return p, nil
}

// ephemeral prepares a post that one user sees and nobody stores.
func (b *Backend) ephemeral(userID string, p *pluginpb.Post) (*pluginpb.Post, error) {
	if !isValidID(userID) {
		return nil, invalidParam("user_id")
	}
	if p == nil {
		return nil, invalidParam("post")
	}
	if !isValidID(p.GetChannelId()) {
		return nil, invalidParam("post.channel_id")
	}
	c := proto.Clone(p).(*pluginpb.Post)
	c.Type = postTypeEphemeral
	return c, nil
}

// SendEphemeralPost shows a post to one user without storing it, and
// returns it with its id, times and type set.
func (b *Backend) SendEphemeralPost(ctx context.Context, req *pluginpb.SendEphemeralPostRequest) (*pluginpb.SendEphemeralPostResponse, error) {
	p, err := b.ephemeral(req.GetUserId(), req.GetPost())
	if err != nil {
		return nil, err
	}
	if p.GetId() == "" {
		p.Id = newID()
	}
	now := b.nowMillis()
	if p.GetCreateAt() == 0 {
		p.CreateAt = now
	}
	p.UpdateAt = now
	b.record(ctx, "ephemeral_post", &pluginpb.SendEphemeralPostRequest{UserId: req.GetUserId(), Post: p})
	return &pluginpb.SendEphemeralPostResponse{Post: p}, nil
}

// UpdateEphemeralPost replaces an ephemeral post that a user sees.
func (b *Backend) UpdateEphemeralPost(ctx context.Context, req *pluginpb.UpdateEphemeralPostRequest) (*pluginpb.UpdateEphemeralPostResponse, error) {
	p, err := b.ephemeral(req.GetUserId(), req.GetPost())
	if err != nil {
		return nil, err
	}
	if !isValidID(p.GetId()) {
		return nil, invalidParam("post.id")
	}
	p.UpdateAt = b.nowMillis()
	b.record(ctx, "ephemeral_post_update", req)
	return &pluginpb.UpdateEphemeralPostResponse{Post: p}, nil
}

// DeleteEphemeralPost removes an ephemeral post that a user sees.
func (b *Backend) DeleteEphemeralPost(ctx context.Context, req *pluginpb.DeleteEphemeralPostRequest) (*pluginpb.DeleteEphemeralPostResponse, error) {
	if !isValidID(req.GetUserId()) {
		return nil, invalidParam("user_id")
	}
	if !isValidID(req.GetPostId()) {
		return nil, invalidParam("post_id")
	}
	b.record(ctx, "ephemeral_post_delete", req)
	return &pluginpb.DeleteEphemeralPostResponse{}, nil
}

// MoveThreadsToBackingChannel moves whole threads, each root post with its
// replies, to another channel, all or none. Only the interface's doc
// comment is stored upstream (server/public/plugin/api.go@004340fa:API):
// in place, ids, timestamps and reactions kept; a reply id is refused; an
// id that matches no post moves nothing and does not fail the call. The
// non-message backing channel types it requires are not modelled here.
func (b *Backend) MoveThreadsToBackingChannel(_ context.Context, req *pluginpb.MoveThreadsToBackingChannelRequest) (*pluginpb.MoveThreadsToBackingChannelResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	target, err := b.channel(req.GetChannelId())
	if err != nil {
		return nil, err
	}
	for _, id := range req.GetRootIds() {
		root, ok := b.posts.byID[id]
		if !ok {
			continue // matches no post: nothing to move
		}
		if root.GetRootId() != "" {
			return nil, apperror.New("app.post.move_thread.not_root.app_error",
				"Only whole threads move: name their root posts.", "post_id="+id, http.StatusBadRequest)
		}
	}
	moved := map[string]int64{} // posts moved out of each channel
	for _, id := range req.GetRootIds() {
		for _, p := range b.posts.byID {
			if (p.GetId() == id || p.GetRootId() == id) && p.GetChannelId() != target.GetId() {
				moved[p.GetChannelId()]++
				p = proto.Clone(p).(*pluginpb.Post)
				p.ChannelId = target.GetId() // in place: the timestamps stay
				b.posts.byID[p.GetId()] = p
			}
		}
	}
	for channelID, n := range moved {
		c := proto.Clone(b.channels.byID[channelID]).(*pluginpb.Channel)
		c.TotalMsgCount = max(c.GetTotalMsgCount()-n, 0)
		b.channels.put(c)
	}
	t := proto.Clone(b.channels.byID[target.GetId()]).(*pluginpb.Channel)
	for _, n := range moved {
		t.TotalMsgCount += n
	}
	b.channels.put(t)
	return &pluginpb.MoveThreadsToBackingChannelResponse{}, nil
}
