package memory

// This file holds the handlers of property values.

import (
	"cmp"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// validateValue checks a value as model.PropertyValue.IsValid does, and
// that its JSON fits the type of its field: a string for text, date, user
// and select fields (for select, one of the options), a list of strings
// for multiselect and multiuser. It compacts the JSON. The caller holds
// the lock.
func (b *Backend) validateValue(v *pluginpb.PropertyValue) error {
	bad := func(field, message string) error { return invalidProperty("value", field, message) }
	switch {
	case !isValidID(v.GetGroupId()):
		return bad("group_id", "Invalid group id.")
	case !isValidID(v.GetFieldId()):
		return bad("field_id", "Invalid field id.")
	case v.GetTargetId() == "" || utf8.RuneCountInString(v.GetTargetId()) > propertyTextMaxRunes:
		return bad("target_id", "Invalid target id: 1 to 255 characters.")
	case v.GetTargetType() == "" || utf8.RuneCountInString(v.GetTargetType()) > propertyTextMaxRunes:
		return bad("target_type", "Invalid target type: 1 to 255 characters.")
	}
	text, err := compactJSON("value", v.GetValue())
	if err != nil {
		return err
	}
	v.Value = text
	f, ok := b.props.fields[v.GetFieldId()]
	if !ok || f.GetGroupId() != v.GetGroupId() || f.GetDeleteAt() != 0 {
		return propertyNotFound("field", v.GetFieldId())
	}
	if text == "" || text == "null" {
		return nil
	}
	var decoded any
	_ = json.Unmarshal([]byte(text), &decoded) // compactJSON checked it
	str, isString := decoded.(string)
	switch f.GetType() {
	case "text", "date", "user":
		if !isString {
			return bad("value", "A "+f.GetType()+" field takes a string.")
		}
	case "select":
		if !isString || !hasOption(f, str) {
			return bad("value", "A select field takes the id of one of its options.")
		}
	case "multiselect", "multiuser":
		list, ok := decoded.([]any)
		if !ok {
			return bad("value", "A "+f.GetType()+" field takes a list of strings.")
		}
		for _, item := range list {
			s, ok := item.(string)
			if !ok || f.GetType() == "multiselect" && !hasOption(f, s) {
				return bad("value", "A "+f.GetType()+" field takes a list of strings; options by id.")
			}
		}
	}
	return nil
}

// hasOption reports whether a select field has an option with that id.
func hasOption(f *pluginpb.PropertyField, id string) bool {
	for _, o := range f.GetAttrs().GetFields()["options"].GetListValue().GetValues() {
		if o.GetStructValue().GetFields()["id"].GetStringValue() == id {
			return true
		}
	}
	return false
}

// liveValueFor returns the live value of a field for a target. The caller
// holds the lock.
func (b *Backend) liveValueFor(groupID, targetID, fieldID string) (*pluginpb.PropertyValue, bool) {
	for _, v := range b.props.values {
		if v.GetDeleteAt() == 0 && v.GetGroupId() == groupID && v.GetTargetId() == targetID && v.GetFieldId() == fieldID {
			return v, true
		}
	}
	return nil, false
}

// createValue stores a new value. The caller holds the lock.
func (b *Backend) createValue(in *pluginpb.PropertyValue) (*pluginpb.PropertyValue, error) {
	if in == nil {
		return nil, invalidParam("value")
	}
	v := proto.Clone(in).(*pluginpb.PropertyValue)
	if v.GetId() != "" {
		return nil, invalidProperty("value", "id", "Cannot create an existing value.")
	}
	if err := b.validateValue(v); err != nil {
		return nil, err
	}
	if _, taken := b.liveValueFor(v.GetGroupId(), v.GetTargetId(), v.GetFieldId()); taken {
		return nil, apperror.New("app.property_value.unique", "The target has a value for the field already.",
			"field_id="+v.GetFieldId()+" target_id="+v.GetTargetId(), http.StatusConflict)
	}
	now := b.nowMillis()
	v.Id, v.CreateAt, v.UpdateAt, v.DeleteAt, v.UpdatedBy = newID(), now, now, 0, v.GetCreatedBy()
	b.props.values[v.GetId()] = v
	return proto.Clone(v).(*pluginpb.PropertyValue), nil
}

// CreatePropertyValue creates a value of a live field for a target.
func (b *Backend) CreatePropertyValue(_ context.Context, req *pluginpb.CreatePropertyValueRequest) (*pluginpb.CreatePropertyValueResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, err := b.createValue(req.GetValue())
	if err != nil {
		return nil, err
	}
	return &pluginpb.CreatePropertyValueResponse{Value: v}, nil
}

// value returns a value of a group, deleted or not. The caller holds the
// lock.
func (b *Backend) value(groupID, valueID string) (*pluginpb.PropertyValue, error) {
	if !isValidID(valueID) {
		return nil, invalidParam("value_id")
	}
	v, ok := b.props.values[valueID]
	if !ok || groupID != "" && v.GetGroupId() != groupID {
		return nil, propertyNotFound("value", valueID)
	}
	return v, nil
}

// GetPropertyValue returns a value of a group, deleted or not.
func (b *Backend) GetPropertyValue(_ context.Context, req *pluginpb.GetPropertyValueRequest) (*pluginpb.GetPropertyValueResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, err := b.value(req.GetGroupId(), req.GetValueId())
	if err != nil {
		return nil, err
	}
	return &pluginpb.GetPropertyValueResponse{Value: proto.Clone(v).(*pluginpb.PropertyValue)}, nil
}

// GetPropertyValues returns values of a group by id; any missing one fails
// the call.
func (b *Backend) GetPropertyValues(_ context.Context, req *pluginpb.GetPropertyValuesRequest) (*pluginpb.GetPropertyValuesResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]*pluginpb.PropertyValue, 0, len(req.GetIds()))
	for _, id := range req.GetIds() {
		v, err := b.value(req.GetGroupId(), id)
		if err != nil {
			return nil, err
		}
		out = append(out, proto.Clone(v).(*pluginpb.PropertyValue))
	}
	return &pluginpb.GetPropertyValuesResponse{Values: out}, nil
}

// updateValue changes the JSON of a live value of a group; its target and
// field stay. The caller holds the lock.
func (b *Backend) updateValue(groupID string, in *pluginpb.PropertyValue) (*pluginpb.PropertyValue, error) {
	if in == nil {
		return nil, invalidParam("value")
	}
	old, err := b.value(groupID, in.GetId())
	if err != nil {
		return nil, err
	}
	if old.GetDeleteAt() != 0 {
		return nil, propertyNotFound("value", in.GetId())
	}
	v := proto.Clone(old).(*pluginpb.PropertyValue)
	v.Value, v.UpdatedBy, v.UpdateAt = in.GetValue(), in.GetUpdatedBy(), b.nowMillis()
	if err := b.validateValue(v); err != nil {
		return nil, err
	}
	b.props.values[v.GetId()] = v
	return proto.Clone(v).(*pluginpb.PropertyValue), nil
}

// UpdatePropertyValue updates a live value of a group.
func (b *Backend) UpdatePropertyValue(_ context.Context, req *pluginpb.UpdatePropertyValueRequest) (*pluginpb.UpdatePropertyValueResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, err := b.updateValue(req.GetGroupId(), req.GetValue())
	if err != nil {
		return nil, err
	}
	return &pluginpb.UpdatePropertyValueResponse{Value: v}, nil
}

// UpdatePropertyValues updates live values of a group, all or none.
func (b *Backend) UpdatePropertyValues(_ context.Context, req *pluginpb.UpdatePropertyValuesRequest) (*pluginpb.UpdatePropertyValuesResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out, err := allOrNone(&b.props.values, req.GetValues(), func(in *pluginpb.PropertyValue) (*pluginpb.PropertyValue, error) {
		return b.updateValue(req.GetGroupId(), in)
	})
	if err != nil {
		return nil, err
	}
	return &pluginpb.UpdatePropertyValuesResponse{Values: out}, nil
}

// upsertValue updates the live value of the field for the target, or
// creates it. The caller holds the lock.
func (b *Backend) upsertValue(in *pluginpb.PropertyValue) (*pluginpb.PropertyValue, error) {
	if in == nil {
		return nil, invalidParam("value")
	}
	if old, ok := b.liveValueFor(in.GetGroupId(), in.GetTargetId(), in.GetFieldId()); ok {
		v := proto.Clone(in).(*pluginpb.PropertyValue)
		v.Id, v.UpdatedBy = old.GetId(), cmp.Or(in.GetUpdatedBy(), in.GetCreatedBy())
		return b.updateValue(old.GetGroupId(), v)
	}
	v := proto.Clone(in).(*pluginpb.PropertyValue)
	v.Id = ""
	return b.createValue(v)
}

// upsertValues upserts values, all or none. The caller holds the lock.
func (b *Backend) upsertValues(in []*pluginpb.PropertyValue) ([]*pluginpb.PropertyValue, error) {
	return allOrNone(&b.props.values, in, b.upsertValue)
}

// checkOptions validates the options of a *WithOptions call. The scope is
// recorded by upstream for its permission checks, which this backend does
// not model.
func checkOptions(o *pluginpb.PropertyRequestOptions) error {
	if utf8.RuneCountInString(o.GetActingAsScope()) > propertyTextMaxRunes {
		return invalidParam("options.acting_as_scope: at most 255 characters")
	}
	return nil
}

// UpsertPropertyValue creates or updates the value of a field for a target.
func (b *Backend) UpsertPropertyValue(_ context.Context, req *pluginpb.UpsertPropertyValueRequest) (*pluginpb.UpsertPropertyValueResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, err := b.upsertValue(req.GetValue())
	if err != nil {
		return nil, err
	}
	return &pluginpb.UpsertPropertyValueResponse{Value: v}, nil
}

// UpsertPropertyValueWithOptions upserts a value on behalf of a scope.
func (b *Backend) UpsertPropertyValueWithOptions(_ context.Context, req *pluginpb.UpsertPropertyValueWithOptionsRequest) (*pluginpb.UpsertPropertyValueWithOptionsResponse, error) {
	if err := checkOptions(req.GetOptions()); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	v, err := b.upsertValue(req.GetValue())
	if err != nil {
		return nil, err
	}
	return &pluginpb.UpsertPropertyValueWithOptionsResponse{Value: v}, nil
}

// UpsertPropertyValues upserts values, all or none.
func (b *Backend) UpsertPropertyValues(_ context.Context, req *pluginpb.UpsertPropertyValuesRequest) (*pluginpb.UpsertPropertyValuesResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out, err := b.upsertValues(req.GetValues())
	if err != nil {
		return nil, err
	}
	return &pluginpb.UpsertPropertyValuesResponse{Values: out}, nil
}

// UpsertPropertyValuesWithOptions upserts values on behalf of a scope.
func (b *Backend) UpsertPropertyValuesWithOptions(_ context.Context, req *pluginpb.UpsertPropertyValuesWithOptionsRequest) (*pluginpb.UpsertPropertyValuesWithOptionsResponse, error) {
	if err := checkOptions(req.GetOptions()); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	out, err := b.upsertValues(req.GetValues())
	if err != nil {
		return nil, err
	}
	return &pluginpb.UpsertPropertyValuesWithOptionsResponse{Values: out}, nil
}

// deleteValue deletes a value of a group, as upstream's
// SqlPropertyValueStore.Delete: a value deleted already is deleted again,
// with a new delete_at. The caller holds the lock.
func (b *Backend) deleteValue(groupID, valueID string) error {
	if _, err := b.value(groupID, valueID); err != nil {
		return err
	}
	b.stampValuesWhere(func(x *pluginpb.PropertyValue) bool { return x.GetId() == valueID })
	return nil
}

// stampValuesWhere soft-deletes the values that match, the deleted ones
// too: as upstream's stores, which set DeleteAt without a DeleteAt filter,
// each gets the time of this delete. The caller holds the lock.
func (b *Backend) stampValuesWhere(match func(*pluginpb.PropertyValue) bool) {
	now := b.nowMillis()
	for id, v := range b.props.values {
		if match(v) {
			v = proto.Clone(v).(*pluginpb.PropertyValue)
			v.DeleteAt = now
			b.props.values[id] = v
		}
	}
}

// DeletePropertyValue deletes a live value of a group.
func (b *Backend) DeletePropertyValue(_ context.Context, req *pluginpb.DeletePropertyValueRequest) (*pluginpb.DeletePropertyValueResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.deleteValue(req.GetGroupId(), req.GetValueId()); err != nil {
		return nil, err
	}
	return &pluginpb.DeletePropertyValueResponse{}, nil
}

// DeletePropertyValueWithOptions deletes a value on behalf of a scope.
func (b *Backend) DeletePropertyValueWithOptions(_ context.Context, req *pluginpb.DeletePropertyValueWithOptionsRequest) (*pluginpb.DeletePropertyValueWithOptionsResponse, error) {
	if err := checkOptions(req.GetOptions()); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.deleteValue(req.GetGroupId(), req.GetValueId()); err != nil {
		return nil, err
	}
	return &pluginpb.DeletePropertyValueWithOptionsResponse{}, nil
}

// deleteForTarget removes the values of a target, as upstream's
// SqlPropertyValueStore.DeleteForTarget: an empty target type or id is
// refused; then every value of the target, deleted ones too, is removed
// for good (a hard delete, unlike every other property delete), of the
// group when one is given and of every group when it is empty. The group
// id is not checked, and a target without values is no error.
func (b *Backend) deleteForTarget(groupID, targetType, targetID string) error {
	if targetID == "" || targetType == "" {
		return invalidParam("target_type and target_id")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	maps.DeleteFunc(b.props.values, func(_ string, v *pluginpb.PropertyValue) bool {
		return (groupID == "" || v.GetGroupId() == groupID) && v.GetTargetType() == targetType && v.GetTargetId() == targetID
	})
	return nil
}

// DeletePropertyValuesForTarget deletes the values of a group's target.
func (b *Backend) DeletePropertyValuesForTarget(_ context.Context, req *pluginpb.DeletePropertyValuesForTargetRequest) (*pluginpb.DeletePropertyValuesForTargetResponse, error) {
	if err := b.deleteForTarget(req.GetGroupId(), req.GetTargetType(), req.GetTargetId()); err != nil {
		return nil, err
	}
	return &pluginpb.DeletePropertyValuesForTargetResponse{}, nil
}

// DeletePropertyValuesForTargetWithOptions deletes a target's values on
// behalf of a scope.
func (b *Backend) DeletePropertyValuesForTargetWithOptions(_ context.Context, req *pluginpb.DeletePropertyValuesForTargetWithOptionsRequest) (*pluginpb.DeletePropertyValuesForTargetWithOptionsResponse, error) {
	if err := checkOptions(req.GetOptions()); err != nil {
		return nil, err
	}
	if err := b.deleteForTarget(req.GetGroupId(), req.GetTargetType(), req.GetTargetId()); err != nil {
		return nil, err
	}
	return &pluginpb.DeletePropertyValuesForTargetWithOptionsResponse{}, nil
}

// deleteForField soft-deletes the values of a field, as upstream's
// SqlPropertyValueStore.DeleteForField: no field is looked up and no id
// checked; every value of the field, deleted ones too, is stamped, of the
// group when one is given and of every group when it is empty. A field
// without values, or no such field, is no error.
func (b *Backend) deleteForField(groupID, fieldID string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stampValuesWhere(func(v *pluginpb.PropertyValue) bool {
		return v.GetFieldId() == fieldID && (groupID == "" || v.GetGroupId() == groupID)
	})
	return nil
}

// DeletePropertyValuesForField deletes the values of a group's field.
func (b *Backend) DeletePropertyValuesForField(_ context.Context, req *pluginpb.DeletePropertyValuesForFieldRequest) (*pluginpb.DeletePropertyValuesForFieldResponse, error) {
	if err := b.deleteForField(req.GetGroupId(), req.GetFieldId()); err != nil {
		return nil, err
	}
	return &pluginpb.DeletePropertyValuesForFieldResponse{}, nil
}

// DeletePropertyValuesForFieldWithOptions deletes a field's values on
// behalf of a scope.
func (b *Backend) DeletePropertyValuesForFieldWithOptions(_ context.Context, req *pluginpb.DeletePropertyValuesForFieldWithOptionsRequest) (*pluginpb.DeletePropertyValuesForFieldWithOptionsResponse, error) {
	if err := checkOptions(req.GetOptions()); err != nil {
		return nil, err
	}
	if err := b.deleteForField(req.GetGroupId(), req.GetFieldId()); err != nil {
		return nil, err
	}
	return &pluginpb.DeletePropertyValuesForFieldWithOptionsResponse{}, nil
}

// SearchPropertyValues returns one page of the values that match the
// filters, by create_at (or update_at when since_update_at is set) and id.
// A value filter matches equal JSON.
func (b *Backend) SearchPropertyValues(_ context.Context, req *pluginpb.SearchPropertyValuesRequest) (*pluginpb.SearchPropertyValuesResponse, error) {
	o := req.GetOpts()
	if o == nil {
		o = &pluginpb.PropertyValueSearchOpts{}
	}
	c := o.GetCursor()
	pg, err := newPropertyPage(o.GetSinceUpdateAt(), o.GetPerPage(), c.GetPropertyValueId(), c.GetCreateAt(), c.GetUpdateAt())
	if err != nil {
		return nil, err
	}
	want, err := compactJSON("opts.value", o.GetValue())
	if err != nil {
		return nil, err
	}
	// As upstream's PropertyService, the group argument replaces
	// opts.group_id: an empty one searches every group.
	group := req.GetGroupId()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []*pluginpb.PropertyValue
	for _, v := range b.props.values {
		switch {
		case group != "" && v.GetGroupId() != group,
			!o.GetIncludeDeleted() && v.GetDeleteAt() != 0,
			o.GetTargetType() != "" && v.GetTargetType() != o.GetTargetType(),
			len(o.GetTargetIds()) > 0 && !slices.Contains(o.GetTargetIds(), v.GetTargetId()),
			o.GetFieldId() != "" && v.GetFieldId() != o.GetFieldId(),
			want != "" && !jsonEqual(v.GetValue(), want),
			!pg.admits(v):
			continue
		}
		out = append(out, proto.Clone(v).(*pluginpb.PropertyValue))
	}
	return &pluginpb.SearchPropertyValuesResponse{Values: pageOf(pg, out)}, nil
}

// jsonEqual reports whether two JSON texts hold equal values.
func jsonEqual(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xs, _ := json.Marshal(x)
	ys, _ := json.Marshal(y)
	return string(xs) == string(ys)
}
