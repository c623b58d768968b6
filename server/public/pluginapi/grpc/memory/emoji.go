package memory

// This file holds the handlers of the emoji domain: custom emojis, which
// the Plugin API reads. They come from the [Emoji] option, and the
// reference server's -emoji flag. Their state is in emoji_store.go.

import (
	"bytes"
	"context"
	"image"
	"net/http"
	"regexp"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// validEmojiNamePattern is model.Emoji's rule for custom emoji names.
var validEmojiNamePattern = regexp.MustCompile(`^[a-zA-Z0-9\-\+_]{1,64}$`)

// Emoji adds a custom emoji with a PNG, JPEG or GIF image, created by the
// system; New panics on a bad name or image, which is a programming
// error of the caller.
func Emoji(name string, image []byte) Option {
	return optionFunc(func(b *Backend) {
		if err := b.addEmoji(name, image); err != nil {
			panic("memory.Emoji(" + name + "): " + err.Error())
		}
	})
}

// AddEmoji adds a custom emoji, as the reference server's -emoji flag does.
func (b *Backend) AddEmoji(name string, image []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.addEmoji(name, image)
}

func (b *Backend) addEmoji(name string, data []byte) error {
	if !validEmojiNamePattern.MatchString(name) {
		return apperror.New("model.emoji.name.app_error", "Invalid emoji name: 1 to 64 letters, digits, '-', '+' and '_'.", "", http.StatusBadRequest)
	}
	_, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return apperror.New("api.emoji.create.parse.app_error", "The emoji image is not a PNG, JPEG or GIF image.", err.Error(), http.StatusBadRequest)
	}
	_, err = b.emojis.add(name, data, format, b.nowMillis())
	return err
}

// checkCustomEmoji fails as App.GetEmoji and App.GetEmojiByName do when
// custom emojis are off, or when no file store is configured. The caller
// holds the lock.
func (b *Backend) checkCustomEmoji() error {
	if !b.configBool("ServiceSettings", "EnableCustomEmoji") {
		return apperror.New("api.emoji.disabled.app_error", "Custom emoji are disabled by the system admin.", "", http.StatusForbidden)
	}
	if b.configString("FileSettings", "DriverName") == "" {
		return apperror.New("api.emoji.storage.app_error", "The file storage is not configured: custom emoji need it.", "", http.StatusForbidden)
	}
	return nil
}

// findEmoji returns a copy of the custom emoji that matches, or the
// store's not-found error with the given id. The caller holds the lock.
func (b *Backend) findEmoji(match func(*pluginpb.Emoji) bool, id string) (customEmoji, error) {
	e, ok := b.emojis.find(match)
	if !ok {
		return customEmoji{}, apperror.New(id, "Unable to find the emoji.", "", http.StatusNotFound)
	}
	return e, nil
}

// GetEmojiList returns one page of the custom emojis, as
// SqlEmojiStore.GetList does: ordered by name when sort_by is "name", in
// creation order for any other value. App.GetEmojiList checks neither the
// configuration nor the paging; a negative offset or limit is the
// database's error, app.emoji.get_list.internal_error (500).
func (b *Backend) GetEmojiList(_ context.Context, req *pluginpb.GetEmojiListRequest) (*pluginpb.GetEmojiListResponse, error) {
	if req.GetPerPage() < 0 || int64(req.GetPage())*int64(req.GetPerPage()) < 0 {
		return nil, apperror.New("app.emoji.get_list.internal_error", "Unable to get the emoji list.",
			"page="+itoa(int(req.GetPage()))+" per_page="+itoa(int(req.GetPerPage())), http.StatusInternalServerError)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	all := b.emojis.list(req.GetSortBy() == "name")
	if req.GetPerPage() == 0 {
		return &pluginpb.GetEmojiListResponse{Emojis: []*pluginpb.Emoji{}}, nil
	}
	return &pluginpb.GetEmojiListResponse{Emojis: page(all, max(req.GetPage(), 0), req.GetPerPage())}, nil
}

// GetEmojiByName returns a custom emoji by name, as App.GetEmojiByName.
func (b *Backend) GetEmojiByName(_ context.Context, req *pluginpb.GetEmojiByNameRequest) (*pluginpb.GetEmojiByNameResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.checkCustomEmoji(); err != nil {
		return nil, err
	}
	e, err := b.findEmoji(func(e *pluginpb.Emoji) bool { return e.GetName() == req.GetName() }, "app.emoji.get_by_name.no_result")
	if err != nil {
		return nil, err
	}
	return &pluginpb.GetEmojiByNameResponse{Emoji: e.emoji}, nil
}

// GetEmoji returns a custom emoji by id, as App.GetEmoji: any id is looked
// up, and one that is not found is app.emoji.get.no_result.
func (b *Backend) GetEmoji(_ context.Context, req *pluginpb.GetEmojiRequest) (*pluginpb.GetEmojiResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.checkCustomEmoji(); err != nil {
		return nil, err
	}
	e, err := b.findEmoji(func(e *pluginpb.Emoji) bool { return e.GetId() == req.GetEmojiId() }, "app.emoji.get.no_result")
	if err != nil {
		return nil, err
	}
	return &pluginpb.GetEmojiResponse{Emoji: e.emoji}, nil
}

// GetEmojiImage returns the image of a custom emoji and its format, as
// App.GetEmojiImage, which does not check the configuration.
func (b *Backend) GetEmojiImage(_ context.Context, req *pluginpb.GetEmojiImageRequest) (*pluginpb.GetEmojiImageResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, err := b.findEmoji(func(e *pluginpb.Emoji) bool { return e.GetId() == req.GetEmojiId() }, "app.emoji.get.no_result")
	if err != nil {
		return nil, err
	}
	return &pluginpb.GetEmojiImageResponse{Image: e.image, ImageType: e.imageType}, nil
}
