package memory

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/draw"
	_ "image/gif"  // registers GIF for image.Decode
	_ "image/jpeg" // registers JPEG for image.Decode
	"image/png"
	"net/http"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// Team icons, as Mattermost stores them: a square PNG of teamIconSize
// pixels a side, cut from the centre of the uploaded image.
const (
	teamIconSize = 128
	// maxImagePixels is the default FileSettings.MaxImageResolution.
	maxImagePixels = 33177600
)

// squareImage turns an uploaded image into a stored one: a PNG of size x
// size pixels cut from its centre. Errors carry ids under idPrefix, such
// as "api.team.set_team_icon.decode.app_error".
func squareImage(data []byte, size int, idPrefix string) ([]byte, error) {
	invalid := func(details string) error {
		return apperror.New(idPrefix+".decode.app_error",
			"Could not decode the image: send a PNG, JPEG or GIF image.", details, http.StatusBadRequest)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, invalid(err.Error())
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxImagePixels || cfg.Width == 0 || cfg.Height == 0 {
		return nil, apperror.New(idPrefix+".check_image_limits.app_error",
			"The image is larger than the maximum image resolution.",
			"width="+itoa(cfg.Width)+" height="+itoa(cfg.Height), http.StatusBadRequest)
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, invalid(err.Error())
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, fillCenter(src, size)); err != nil {
		return nil, apperror.New(idPrefix+".encode.app_error",
			"Could not encode the image.", err.Error(), http.StatusInternalServerError)
	}
	return buf.Bytes(), nil
}

// fillCenter crops the largest centred square of src and scales it to
// size x size pixels by nearest neighbour.
func fillCenter(src image.Image, size int) image.Image {
	b := src.Bounds()
	side := min(b.Dx(), b.Dy())
	x0 := b.Min.X + (b.Dx()-side)/2
	y0 := b.Min.Y + (b.Dy()-side)/2
	dst := image.NewNRGBA(image.Rect(0, 0, size, size))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.Transparent), image.Point{}, draw.Src)
	for y := range size {
		for x := range size {
			dst.Set(x, y, src.At(x0+x*side/size, y0+y*side/size))
		}
	}
	return dst
}

// GetTeamIcon returns a team's stored icon. As App.GetTeamIcon
// (team.go@00e25d39) it reads the file whatever last_team_icon_update
// says, so an icon that RemoveTeamIcon left is still returned.
func (b *Backend) GetTeamIcon(_ context.Context, req *pluginpb.GetTeamIconRequest) (*pluginpb.GetTeamIconResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, err := b.team(req.GetTeamId())
	if err != nil {
		return nil, err
	}
	icon, ok := b.teams.icons[t.GetId()]
	if !ok {
		return nil, apperror.New("api.team.get_team_icon.read_file.app_error",
			"The team has no icon.", "team_id="+t.GetId(), http.StatusNotFound)
	}
	return &pluginpb.GetTeamIconResponse{Data: bytes.Clone(icon)}, nil
}

// SetTeamIcon replaces a team's icon with a square 128x128 PNG made from
// the uploaded image.
func (b *Backend) SetTeamIcon(_ context.Context, req *pluginpb.SetTeamIconRequest) (*pluginpb.SetTeamIconResponse, error) {
	b.mu.Lock()
	_, err := b.team(req.GetTeamId())
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	// Decoding runs without the lock: it is the slow part.
	icon, err := squareImage(req.GetData(), teamIconSize, "api.team.set_team_icon")
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	t, err := b.team(req.GetTeamId())
	if err != nil {
		return nil, err
	}
	c := proto.Clone(t).(*pluginpb.Team)
	now := b.nowMillis()
	c.LastTeamIconUpdate = now
	c.UpdateAt = now
	b.teams.put(c)
	b.teams.icons[c.GetId()] = icon
	return &pluginpb.SetTeamIconResponse{}, nil
}

// RemoveTeamIcon sets a team's last_team_icon_update to 0, as
// App.RemoveTeamIcon does (team.go@00e25d39): the store's
// UpdateLastTeamIconUpdate(teamID, 0) writes the same 0 into update_at
// (team_store.go@009fc71d), and the stored icon stays, so GetTeamIcon
// still returns it.
func (b *Backend) RemoveTeamIcon(_ context.Context, req *pluginpb.RemoveTeamIconRequest) (*pluginpb.RemoveTeamIconResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, err := b.team(req.GetTeamId())
	if err != nil {
		return nil, err
	}
	c := proto.Clone(t).(*pluginpb.Team)
	c.LastTeamIconUpdate = 0
	c.UpdateAt = 0
	b.teams.put(c)
	return &pluginpb.RemoveTeamIconResponse{}, nil
}
