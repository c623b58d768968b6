package memory

// This file holds the handlers and the state of the properties domain:
// property groups, their typed fields, and the values of those fields on
// targets. Deleted fields and values stay, with delete_at set.

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// Limits of the property model.
const (
	propertyTextMaxRunes = 255
	propertyGroupNameMax = 64
)

// propertyFieldTypes are the types of model.PropertyFieldType.
var propertyFieldTypes = []string{"text", "select", "multiselect", "date", "user", "multiuser", "rank", "graph"}

// permissionLevels are the values of model.PermissionLevel.
var permissionLevels = []string{"none", "sysadmin", "member", "admin", "everyone"}

var validPropertyGroupName = regexp.MustCompile(`^[a-z0-9][a-z0-9_]*$`)

// propertyStore holds the property groups, by name, and the fields and
// values, by id.
type propertyStore struct {
	groups map[string]*pluginpb.PropertyGroup
	fields map[string]*pluginpb.PropertyField
	values map[string]*pluginpb.PropertyValue
}

func newPropertyStore() propertyStore {
	return propertyStore{
		groups: make(map[string]*pluginpb.PropertyGroup),
		fields: make(map[string]*pluginpb.PropertyField),
		values: make(map[string]*pluginpb.PropertyValue),
	}
}

func propertyNotFound(kind, id string) *apperror.Error {
	return apperror.New("app.property_"+kind+".get.app_error", "No property "+kind+" has that id in the group.",
		kind+"_id="+id, http.StatusNotFound)
}

func invalidProperty(kind, field, message string) *apperror.Error {
	e := apperror.New("model.property_"+kind+".is_valid.app_error", message, "field="+field, http.StatusBadRequest)
	e.Where = "Property" + map[string]string{"field": "Field", "value": "Value", "group": "Group"}[kind] + ".IsValid"
	return e
}

// RegisterPropertyGroup registers a property group, or returns the group
// of that name.
func (b *Backend) RegisterPropertyGroup(_ context.Context, req *pluginpb.RegisterPropertyGroupRequest) (*pluginpb.RegisterPropertyGroupResponse, error) {
	name := req.GetName()
	if len(name) > propertyGroupNameMax || !validPropertyGroupName.MatchString(name) {
		return nil, invalidProperty("group", "name", "Invalid group name: lower-case letters, digits and '_', at most 64.")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	g, ok := b.props.groups[name]
	if !ok {
		g = &pluginpb.PropertyGroup{Id: newID(), Name: name, Version: 1}
		b.props.groups[name] = g
	}
	return &pluginpb.RegisterPropertyGroupResponse{Group: proto.Clone(g).(*pluginpb.PropertyGroup)}, nil
}

// GetPropertyGroup returns a property group by name.
func (b *Backend) GetPropertyGroup(_ context.Context, req *pluginpb.GetPropertyGroupRequest) (*pluginpb.GetPropertyGroupResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	g, ok := b.props.groups[req.GetName()]
	if !ok {
		return nil, apperror.New("app.property_group.get.app_error", "No property group has that name.",
			"name="+req.GetName(), http.StatusNotFound)
	}
	return &pluginpb.GetPropertyGroupResponse{Group: proto.Clone(g).(*pluginpb.PropertyGroup)}, nil
}

// validateField checks a field as model.PropertyField.IsValid does.
func validateField(f *pluginpb.PropertyField) error {
	bad := func(field, message string) error { return invalidProperty("field", field, message) }
	long := func(s string) bool { return utf8.RuneCountInString(s) > propertyTextMaxRunes }
	switch {
	case !isValidID(f.GetGroupId()):
		return bad("group_id", "Invalid group id.")
	case f.GetName() == "" || long(f.GetName()):
		return bad("name", "Invalid name: 1 to 255 characters.")
	case !slices.Contains(propertyFieldTypes, f.GetType()):
		return bad("type", "Invalid type: text, select, multiselect, date, user, multiuser, rank or graph.")
	case long(f.GetTargetId()) || long(f.GetTargetType()) || long(f.GetObjectType()):
		return bad("target", "Invalid target or object type: at most 255 characters.")
	case f.LinkedFieldId != nil && !isValidID(f.GetLinkedFieldId()):
		return bad("linked_field_id", "Invalid linked field id.")
	}
	for name, level := range map[string]*string{
		"permission_field": f.PermissionField, "permission_values": f.PermissionValues, "permission_options": f.PermissionOptions,
	} {
		if level != nil && !slices.Contains(permissionLevels, *level) {
			return bad(name, "Invalid permission level: none, sysadmin, member, admin or everyone.")
		}
	}
	if opts, ok := f.GetAttrs().GetFields()["options"]; ok {
		list := opts.GetListValue()
		if list == nil {
			return bad("attrs.options", `Invalid options: a list of objects with "name".`)
		}
		for _, o := range list.GetValues() {
			name := o.GetStructValue().GetFields()["name"].GetStringValue()
			id, hasID := o.GetStructValue().GetFields()["id"]
			if name == "" || hasID && id.GetStringValue() != "" && !isValidID(id.GetStringValue()) {
				return bad("attrs.options", `Invalid option: each needs a "name", and an "id" is a 26-character id.`)
			}
		}
	}
	return nil
}

// withOptionIDs gives every select option without an id one, as upstream's
// option PreSave does.
func withOptionIDs(f *pluginpb.PropertyField) {
	for _, o := range f.GetAttrs().GetFields()["options"].GetListValue().GetValues() {
		if s := o.GetStructValue(); s != nil && s.GetFields()["id"].GetStringValue() == "" {
			s.Fields["id"] = structpb.NewStringValue(newID())
		}
	}
}

// checkFieldName rejects a name that another live field of the group and
// target has. The caller holds the lock.
func (b *Backend) checkFieldName(f *pluginpb.PropertyField) error {
	for _, other := range b.props.fields {
		if other.GetId() != f.GetId() && other.GetDeleteAt() == 0 && other.GetGroupId() == f.GetGroupId() &&
			other.GetTargetId() == f.GetTargetId() && other.GetName() == f.GetName() {
			return apperror.New("app.property_field.unique_name", "A live field of the group and target has that name.",
				"name="+f.GetName(), http.StatusConflict)
		}
	}
	if f.LinkedFieldId != nil {
		if t, ok := b.props.fields[f.GetLinkedFieldId()]; !ok || t.GetDeleteAt() != 0 || t.GetGroupId() != f.GetGroupId() {
			return invalidProperty("field", "linked_field_id", "The linked field is not a live field of the group.")
		}
	}
	return nil
}

// CreatePropertyField creates a property field.
func (b *Backend) CreatePropertyField(_ context.Context, req *pluginpb.CreatePropertyFieldRequest) (*pluginpb.CreatePropertyFieldResponse, error) {
	if req.GetField() == nil {
		return nil, invalidParam("field")
	}
	f := proto.Clone(req.GetField()).(*pluginpb.PropertyField)
	if f.GetId() != "" {
		return nil, invalidProperty("field", "id", "Cannot create an existing field.")
	}
	if err := validateField(f); err != nil {
		return nil, err
	}
	withOptionIDs(f)
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.checkFieldName(f); err != nil {
		return nil, err
	}
	now := b.nowMillis()
	f.Id, f.CreateAt, f.UpdateAt, f.DeleteAt = newID(), now, now, 0
	f.UpdatedBy = f.GetCreatedBy()
	b.props.fields[f.GetId()] = f
	return &pluginpb.CreatePropertyFieldResponse{Field: proto.Clone(f).(*pluginpb.PropertyField)}, nil
}

// field returns a field of a group, deleted or not. The caller holds the
// lock.
func (b *Backend) field(groupID, fieldID string) (*pluginpb.PropertyField, error) {
	if !isValidID(fieldID) {
		return nil, invalidParam("field_id")
	}
	f, ok := b.props.fields[fieldID]
	if !ok || groupID != "" && f.GetGroupId() != groupID {
		return nil, propertyNotFound("field", fieldID)
	}
	return f, nil
}

// GetPropertyField returns a field of a group, deleted or not.
func (b *Backend) GetPropertyField(_ context.Context, req *pluginpb.GetPropertyFieldRequest) (*pluginpb.GetPropertyFieldResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f, err := b.field(req.GetGroupId(), req.GetFieldId())
	if err != nil {
		return nil, err
	}
	return &pluginpb.GetPropertyFieldResponse{Field: proto.Clone(f).(*pluginpb.PropertyField)}, nil
}

// GetPropertyFields returns fields of a group by id; any missing one fails
// the call.
func (b *Backend) GetPropertyFields(_ context.Context, req *pluginpb.GetPropertyFieldsRequest) (*pluginpb.GetPropertyFieldsResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]*pluginpb.PropertyField, 0, len(req.GetIds()))
	for _, id := range req.GetIds() {
		f, err := b.field(req.GetGroupId(), id)
		if err != nil {
			return nil, err
		}
		out = append(out, proto.Clone(f).(*pluginpb.PropertyField))
	}
	return &pluginpb.GetPropertyFieldsResponse{Fields: out}, nil
}

// GetPropertyFieldByName returns the live field of a group and target with
// that name.
func (b *Backend) GetPropertyFieldByName(_ context.Context, req *pluginpb.GetPropertyFieldByNameRequest) (*pluginpb.GetPropertyFieldByNameResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, f := range b.props.fields {
		if f.GetDeleteAt() == 0 && f.GetGroupId() == req.GetGroupId() && f.GetTargetId() == req.GetTargetId() && f.GetName() == req.GetName() {
			return &pluginpb.GetPropertyFieldByNameResponse{Field: proto.Clone(f).(*pluginpb.PropertyField)}, nil
		}
	}
	return nil, apperror.New("app.property_field.get.app_error", "No live field of the group and target has that name.",
		"name="+req.GetName(), http.StatusNotFound)
}

// updatedField returns the new state of a live field of a group: its id,
// group and creation stay. The caller holds the lock.
func (b *Backend) updatedField(groupID string, in *pluginpb.PropertyField) (*pluginpb.PropertyField, error) {
	if in == nil {
		return nil, invalidParam("field")
	}
	old, err := b.field(groupID, in.GetId())
	if err != nil {
		return nil, err
	}
	if old.GetDeleteAt() != 0 {
		return nil, propertyNotFound("field", in.GetId())
	}
	f := proto.Clone(in).(*pluginpb.PropertyField)
	f.GroupId, f.CreateAt, f.CreatedBy, f.DeleteAt = old.GetGroupId(), old.GetCreateAt(), old.GetCreatedBy(), 0
	f.UpdateAt = b.nowMillis()
	if err := validateField(f); err != nil {
		return nil, err
	}
	withOptionIDs(f)
	if err := b.checkFieldName(f); err != nil {
		return nil, err
	}
	return f, nil
}

// UpdatePropertyField updates a live field of a group.
func (b *Backend) UpdatePropertyField(_ context.Context, req *pluginpb.UpdatePropertyFieldRequest) (*pluginpb.UpdatePropertyFieldResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f, err := b.updatedField(req.GetGroupId(), req.GetField())
	if err != nil {
		return nil, err
	}
	b.props.fields[f.GetId()] = f
	return &pluginpb.UpdatePropertyFieldResponse{Field: proto.Clone(f).(*pluginpb.PropertyField)}, nil
}

// UpdatePropertyFields updates live fields of a group, all or none.
func (b *Backend) UpdatePropertyFields(_ context.Context, req *pluginpb.UpdatePropertyFieldsRequest) (*pluginpb.UpdatePropertyFieldsResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out, err := allOrNone(&b.props.fields, req.GetFields(), func(in *pluginpb.PropertyField) (*pluginpb.PropertyField, error) {
		f, err := b.updatedField(req.GetGroupId(), in)
		if err != nil {
			return nil, err
		}
		b.props.fields[f.GetId()] = f // later fields see the earlier names
		return proto.Clone(f).(*pluginpb.PropertyField), nil
	})
	if err != nil {
		return nil, err
	}
	return &pluginpb.UpdatePropertyFieldsResponse{Fields: out}, nil
}

// DeletePropertyField deletes a field of a group and its values, as
// upstream's PropertyService.deletePropertyField: the values of the field
// first, then the field. As upstream's stores, which set DeleteAt by id
// without a DeleteAt filter, a field or value deleted already is deleted
// again: it succeeds and stamps a new delete_at.
func (b *Backend) DeletePropertyField(_ context.Context, req *pluginpb.DeletePropertyFieldRequest) (*pluginpb.DeletePropertyFieldResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f, err := b.field(req.GetGroupId(), req.GetFieldId())
	if err != nil {
		return nil, err
	}
	b.stampValuesWhere(func(v *pluginpb.PropertyValue) bool { return v.GetFieldId() == f.GetId() })
	f = proto.Clone(f).(*pluginpb.PropertyField)
	f.DeleteAt = b.nowMillis()
	b.props.fields[f.GetId()] = f
	return &pluginpb.DeletePropertyFieldResponse{}, nil
}

// stamped is what the property searches order by: a property field or
// value.
type stamped interface {
	GetId() string
	GetCreateAt() int64
	GetUpdateAt() int64
}

// propertyPage orders and pages a property search: by create_at, or by
// update_at when the search has since_update_at, then by id, starting
// after the cursor.
type propertyPage struct {
	since    int64 // 0: by create_at
	cursorID string
	cursorAt int64
	perPage  int
}

// newPropertyPage validates the paging of a search: per_page of at least
// 1, and a cursor that is unset or has an id and the time the search runs
// by: its create_at, or its update_at when the search has since_update_at.
func newPropertyPage(since int64, perPage int32, cursorID string, cursorCreateAt, cursorUpdateAt int64) (propertyPage, error) {
	if perPage < 1 {
		return propertyPage{}, invalidParam("opts.per_page: at least 1")
	}
	p := propertyPage{since: since, cursorID: cursorID, cursorAt: cursorCreateAt, perPage: int(perPage)}
	if since > 0 {
		p.cursorAt = cursorUpdateAt
	}
	if cursorID != "" && (!isValidID(cursorID) || p.cursorAt <= 0) {
		return propertyPage{}, invalidParam("opts.cursor: an id and a time")
	}
	return p, nil
}

// at is the time an item is ordered by.
func (p propertyPage) at(x stamped) int64 {
	if p.since > 0 {
		return x.GetUpdateAt()
	}
	return x.GetCreateAt()
}

// admits reports whether an item is updated after since_update_at, if the
// search has one, and comes after the cursor, if it has one.
func (p propertyPage) admits(x stamped) bool {
	if p.since > 0 && x.GetUpdateAt() <= p.since {
		return false
	}
	if p.cursorID == "" {
		return true
	}
	return p.at(x) > p.cursorAt || p.at(x) == p.cursorAt && x.GetId() > p.cursorID
}

// pageOf sorts the admitted items of a search and returns the first page.
func pageOf[T stamped](p propertyPage, items []T) []T {
	slices.SortFunc(items, func(x, y T) int {
		return cmp.Or(cmp.Compare(p.at(x), p.at(y)), cmp.Compare(x.GetId(), y.GetId()))
	})
	return items[:min(len(items), p.perPage)]
}

// allOrNone applies change to each item in order and collects the
// results. If one fails, it puts the map back as it was and returns the
// error. The caller holds the lock.
func allOrNone[K comparable, V, I, R any](m *map[K]V, items []I, change func(I) (R, error)) ([]R, error) {
	saved := maps.Clone(*m)
	out := make([]R, 0, len(items))
	for _, item := range items {
		r, err := change(item)
		if err != nil {
			*m = saved
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// SearchPropertyFields returns one page of the fields that match the
// filters, by create_at (or update_at when since_update_at is set) and id.
func (b *Backend) SearchPropertyFields(_ context.Context, req *pluginpb.SearchPropertyFieldsRequest) (*pluginpb.SearchPropertyFieldsResponse, error) {
	o := req.GetOpts()
	if o == nil {
		o = &pluginpb.PropertyFieldSearchOpts{}
	}
	c := o.GetCursor()
	pg, err := newPropertyPage(o.GetSinceUpdateAt(), o.GetPerPage(), c.GetPropertyFieldId(), c.GetCreateAt(), c.GetUpdateAt())
	if err != nil {
		return nil, err
	}
	// As upstream's PropertyService.searchPropertyFields, the group
	// argument replaces opts.group_id: an empty one searches every group.
	group := req.GetGroupId()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []*pluginpb.PropertyField
	for _, f := range b.props.fields {
		switch {
		case group != "" && f.GetGroupId() != group,
			!o.GetIncludeDeleted() && f.GetDeleteAt() != 0,
			o.GetObjectType() != "" && f.GetObjectType() != o.GetObjectType(),
			len(o.GetObjectTypes()) > 0 && !slices.Contains(o.GetObjectTypes(), f.GetObjectType()),
			o.GetTargetType() != "" && f.GetTargetType() != o.GetTargetType(),
			len(o.GetTargetIds()) > 0 && !slices.Contains(o.GetTargetIds(), f.GetTargetId()),
			o.GetLinkedFieldId() != "" && f.GetLinkedFieldId() != o.GetLinkedFieldId(),
			(o.GetChannelId() != "" || o.GetTeamId() != "") && !inScope(f, o.GetTeamId(), o.GetChannelId()),
			!pg.admits(f):
			continue
		}
		out = append(out, proto.Clone(f).(*pluginpb.PropertyField))
	}
	return &pluginpb.SearchPropertyFieldsResponse{Fields: pageOf(pg, out)}, nil
}

// inScope reports whether a field applies in a team or channel: system
// fields apply everywhere, team and channel fields in their own.
func inScope(f *pluginpb.PropertyField, teamID, channelID string) bool {
	switch f.GetTargetType() {
	case "", "system":
		return true
	case "team":
		return teamID != "" && f.GetTargetId() == teamID
	case "channel":
		return channelID != "" && f.GetTargetId() == channelID
	}
	return false
}

// countFields counts the fields that keep selects.
func (b *Backend) countFields(keep func(*pluginpb.PropertyField) bool) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	var n int64
	for _, f := range b.props.fields {
		if keep(f) {
			n++
		}
	}
	return n
}

// CountPropertyFields counts the fields of a group. As upstream's
// SqlPropertyFieldStore.CountForGroup, the group id is not checked: an
// unknown or malformed one counts 0.
func (b *Backend) CountPropertyFields(_ context.Context, req *pluginpb.CountPropertyFieldsRequest) (*pluginpb.CountPropertyFieldsResponse, error) {
	n := b.countFields(func(f *pluginpb.PropertyField) bool {
		return f.GetGroupId() == req.GetGroupId() && (req.GetIncludeDeleted() || f.GetDeleteAt() == 0)
	})
	return &pluginpb.CountPropertyFieldsResponse{Count: n}, nil
}

// CountPropertyFieldsForTarget counts the fields of a group's target; as
// CountPropertyFields, any group id is counted, an unknown one as 0.
func (b *Backend) CountPropertyFieldsForTarget(_ context.Context, req *pluginpb.CountPropertyFieldsForTargetRequest) (*pluginpb.CountPropertyFieldsForTargetResponse, error) {
	n := b.countFields(func(f *pluginpb.PropertyField) bool {
		return f.GetGroupId() == req.GetGroupId() && f.GetTargetType() == req.GetTargetType() &&
			f.GetTargetId() == req.GetTargetId() && (req.GetIncludeDeleted() || f.GetDeleteAt() == 0)
	})
	return &pluginpb.CountPropertyFieldsForTargetResponse{Count: n}, nil
}

// compactJSON returns the compact form of JSON text, "" for none, or an
// error for text that is not JSON.
func compactJSON(field, text string) (string, error) {
	if text == "" {
		return "", nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(text)); err != nil {
		return "", invalidProperty("value", field, "Invalid value: not JSON text.")
	}
	return buf.String(), nil
}
