package memory

// This file holds the users' profile images and LDAP attributes.

import (
	"bytes"
	"context"
	"hash/fnv"
	"image"
	"image/color"
	"image/png"
	"net/http"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// profileImageSize is the side, in pixels, of a profile image.
const profileImageSize = 128

// GetLDAPUserAttributes fails as on a server without LDAP, which this
// backend models.
func (b *Backend) GetLDAPUserAttributes(context.Context, *pluginpb.GetLDAPUserAttributesRequest) (*pluginpb.GetLDAPUserAttributesResponse, error) {
	return nil, apperror.New("ent.ldap.disabled.app_error", "LDAP is disabled, or this license does not support LDAP.",
		"", http.StatusNotImplemented)
}

// defaultProfileImage draws the image of a user who has not set one: a
// square in a colour derived from the user id, as Mattermost draws a
// coloured square behind the user's initial.
func defaultProfileImage(userID string) []byte {
	h := fnv.New32a()
	h.Write([]byte(userID))
	sum := h.Sum32()
	fill := color.NRGBA{R: uint8(sum), G: uint8(sum >> 8), B: uint8(sum >> 16), A: 255}
	img := image.NewNRGBA(image.Rect(0, 0, profileImageSize, profileImageSize))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = fill.R, fill.G, fill.B, fill.A
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img) // encoding an in-memory image into a buffer cannot fail
	return buf.Bytes()
}

// GetProfileImage returns a user's profile image, or the generated
// default.
func (b *Backend) GetProfileImage(_ context.Context, req *pluginpb.GetProfileImageRequest) (*pluginpb.GetProfileImageResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	u, err := b.lookupUser(req.GetUserId())
	if err != nil {
		return nil, err
	}
	if img, ok := b.profileImages.get(u.GetId()); ok {
		return &pluginpb.GetProfileImageResponse{Data: img}, nil
	}
	return &pluginpb.GetProfileImageResponse{Data: defaultProfileImage(u.GetId())}, nil
}

// SetProfileImage replaces a user's profile image with a square 128x128
// PNG made from the uploaded image.
func (b *Backend) SetProfileImage(_ context.Context, req *pluginpb.SetProfileImageRequest) (*pluginpb.SetProfileImageResponse, error) {
	b.mu.Lock()
	_, err := b.lookupUser(req.GetUserId())
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	img, err := squareImage(req.GetData(), profileImageSize, "api.user.upload_profile_user")
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	old, err := b.lookupUser(req.GetUserId())
	if err != nil {
		return nil, err
	}
	// App.SetProfileImageFromFile leaves the user alone when the stored
	// image is the same.
	if b.profileImages.isSame(old.GetId(), img) {
		return &pluginpb.SetProfileImageResponse{}, nil
	}
	u := proto.Clone(old).(*pluginpb.User)
	u.LastPictureUpdate = b.nowMillis()
	b.updateUser(u)
	b.profileImages.put(u.GetId(), img)
	return &pluginpb.SetProfileImageResponse{}, nil
}
