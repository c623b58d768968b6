package memory

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/structpb"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// propertyWorld is a group with a text field and a select field.
type propertyWorld struct {
	b            *Backend
	clock        *fakeClock
	group        string
	text, choice *pluginpb.PropertyField
	red, blue    string
}

func newPropertyWorld(t *testing.T) propertyWorld {
	t.Helper()
	b, clock := newTestBackend(t)
	ctx := context.Background()
	g, err := b.RegisterPropertyGroup(ctx, &pluginpb.RegisterPropertyGroupRequest{Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	w := propertyWorld{b: b, clock: clock, group: g.GetGroup().GetId()}
	w.text = w.field(t, &pluginpb.PropertyField{GroupId: w.group, Name: "nick", Type: "text"})
	attrs, _ := structpb.NewStruct(map[string]any{"options": []any{map[string]any{"name": "red"}, map[string]any{"name": "blue"}}})
	w.choice = w.field(t, &pluginpb.PropertyField{GroupId: w.group, Name: "color", Type: "select", Attrs: attrs})
	opts := w.choice.GetAttrs().GetFields()["options"].GetListValue().GetValues()
	w.red, w.blue = opts[0].GetStructValue().GetFields()["id"].GetStringValue(), opts[1].GetStructValue().GetFields()["id"].GetStringValue()
	return w
}

func (w propertyWorld) field(t *testing.T, f *pluginpb.PropertyField) *pluginpb.PropertyField {
	t.Helper()
	resp, err := w.b.CreatePropertyField(context.Background(), &pluginpb.CreatePropertyFieldRequest{Field: f})
	if err != nil {
		t.Fatalf("CreatePropertyField(%s) = %v", f.GetName(), err)
	}
	return resp.GetField()
}

func (w propertyWorld) value(field *pluginpb.PropertyField, target, json string) *pluginpb.PropertyValue {
	return &pluginpb.PropertyValue{GroupId: w.group, FieldId: field.GetId(), TargetId: target, TargetType: "user", Value: json}
}

func TestPropertyValueTypes(t *testing.T) {
	w := newPropertyWorld(t)
	if !isValidID(w.red) || !isValidID(w.blue) {
		t.Fatalf("options got no ids: %v", w.choice.GetAttrs())
	}
	tests := []struct {
		name  string
		field *pluginpb.PropertyField
		json  string
		ok    bool
	}{
		{"text takes a string", w.text, `"Zed"`, true},
		{"text refuses a number", w.text, `42`, false},
		{"null is no value", w.text, `null`, true},
		{"empty is no value", w.text, ``, true},
		{"not JSON", w.text, `{"a":`, false},
		{"select takes an option id", w.choice, `"` + w.red + `"`, true},
		{"select refuses another string", w.choice, `"red"`, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := string(rune('a'+i)) + "_target"
			_, err := w.b.CreatePropertyValue(context.Background(), &pluginpb.CreatePropertyValueRequest{Value: w.value(tt.field, target, tt.json)})
			if tt.ok && err != nil {
				t.Errorf("CreatePropertyValue(%s) = %v", tt.json, err)
			}
			if !tt.ok {
				wantAppError(t, "CreatePropertyValue("+tt.json+")", err, http.StatusBadRequest)
			}
		})
	}
}

func TestPropertyValuesCompactAndUpsert(t *testing.T) {
	w := newPropertyWorld(t)
	ctx := context.Background()
	v, err := w.b.CreatePropertyValue(ctx, &pluginpb.CreatePropertyValueRequest{Value: w.value(w.text, "t1", ` "spaced" `)})
	if err != nil || v.GetValue().GetValue() != `"spaced"` {
		t.Fatalf("CreatePropertyValue = %v, %v; want compact JSON", v, err)
	}
	_, err = w.b.CreatePropertyValue(ctx, &pluginpb.CreatePropertyValueRequest{Value: w.value(w.text, "t1", `"again"`)})
	wantAppError(t, "CreatePropertyValue(twice)", err, http.StatusConflict)
	w.clock.Advance(time.Second)
	up, err := w.b.UpsertPropertyValue(ctx, &pluginpb.UpsertPropertyValueRequest{Value: w.value(w.text, "t1", `"new"`)})
	if err != nil || up.GetValue().GetId() != v.GetValue().GetId() || up.GetValue().GetUpdateAt() <= v.GetValue().GetUpdateAt() {
		t.Fatalf("UpsertPropertyValue = %v, %v; want the same value, updated", up, err)
	}
	// All or none: the second value fails, so the first keeps its JSON.
	_, err = w.b.UpsertPropertyValues(ctx, &pluginpb.UpsertPropertyValuesRequest{Values: []*pluginpb.PropertyValue{
		w.value(w.text, "t1", `"lost"`), w.value(w.text, "t2", `1`),
	}})
	wantAppError(t, "UpsertPropertyValues(one bad)", err, http.StatusBadRequest)
	got, _ := w.b.GetPropertyValue(ctx, &pluginpb.GetPropertyValueRequest{GroupId: w.group, ValueId: v.GetValue().GetId()})
	if got.GetValue().GetValue() != `"new"` {
		t.Errorf("value after a failed batch = %s; want it unchanged", got.GetValue().GetValue())
	}
	// Deleting the field deletes its values.
	if _, err := w.b.DeletePropertyField(ctx, &pluginpb.DeletePropertyFieldRequest{GroupId: w.group, FieldId: w.text.GetId()}); err != nil {
		t.Fatal(err)
	}
	got, _ = w.b.GetPropertyValue(ctx, &pluginpb.GetPropertyValueRequest{GroupId: w.group, ValueId: v.GetValue().GetId()})
	if got.GetValue().GetDeleteAt() == 0 {
		t.Error("a deleted field kept a live value")
	}
}

func TestSearchPropertyFieldsPagesByCursor(t *testing.T) {
	w := newPropertyWorld(t)
	ctx := context.Background()
	for _, name := range []string{"a", "b", "c"} {
		w.clock.Advance(time.Millisecond)
		w.field(t, &pluginpb.PropertyField{GroupId: w.group, Name: name, Type: "text", TargetType: "channel", TargetId: "chan"})
	}
	var seen []string
	var cursor *pluginpb.PropertyFieldSearchCursor
	for {
		resp, err := w.b.SearchPropertyFields(ctx, &pluginpb.SearchPropertyFieldsRequest{GroupId: w.group,
			Opts: &pluginpb.PropertyFieldSearchOpts{PerPage: 2, Cursor: cursor}})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range resp.GetFields() {
			seen = append(seen, f.GetName())
		}
		if len(resp.GetFields()) < 2 {
			break
		}
		last := resp.GetFields()[len(resp.GetFields())-1]
		cursor = &pluginpb.PropertyFieldSearchCursor{PropertyFieldId: last.GetId(), CreateAt: last.GetCreateAt()}
	}
	if len(seen) != 5 || seen[2] != "a" || seen[4] != "c" {
		t.Errorf("pages = %v; want the two fields of the world, then a, b, c", seen)
	}
	scoped, _ := w.b.SearchPropertyFields(ctx, &pluginpb.SearchPropertyFieldsRequest{GroupId: w.group,
		Opts: &pluginpb.PropertyFieldSearchOpts{PerPage: 10, ChannelId: "other"}})
	if len(scoped.GetFields()) != 2 {
		t.Errorf("fields in another channel = %v; want the two system fields", scoped.GetFields())
	}
	for _, o := range []*pluginpb.PropertyFieldSearchOpts{
		{PerPage: 0},
		{PerPage: 1, Cursor: &pluginpb.PropertyFieldSearchCursor{PropertyFieldId: "short", CreateAt: 1}},
	} {
		_, err := w.b.SearchPropertyFields(ctx, &pluginpb.SearchPropertyFieldsRequest{GroupId: w.group, Opts: o})
		wantAppError(t, "SearchPropertyFields(bad paging)", err, http.StatusBadRequest)
	}
}

func TestPropertyUpsertsUnderAStorm(t *testing.T) {
	w := newPropertyWorld(t)
	ctx := context.Background()
	const callers = 64
	errs := make(chan error, callers*2)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := w.b.UpsertPropertyValue(ctx, &pluginpb.UpsertPropertyValueRequest{Value: w.value(w.text, "storm", `"v`+strconv.Itoa(i)+`"`)})
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := w.b.RegisterPropertyGroup(ctx, &pluginpb.RegisterPropertyGroupRequest{Name: "storm"})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	live := 0
	for _, v := range w.b.props.values {
		if v.GetTargetId() == "storm" && v.GetDeleteAt() == 0 {
			live++
		}
	}
	if live != 1 || len(w.b.props.groups) != 2 {
		t.Errorf("after %d concurrent upserts: %d live values and %d groups; want 1 value and 2 groups", callers, live, len(w.b.props.groups))
	}
}

// TestCountPropertyFieldsTakesAnyGroupID follows upstream's
// server/channels/store/sqlstore/property_field_store.go@00aafb11483fd159139ad45b5e58496d5c29b4d8:SqlPropertyFieldStore.CountForGroup,
// which counts by group id without checking it: an unknown or malformed
// group has no fields.
func TestCountPropertyFieldsTakesAnyGroupID(t *testing.T) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	for _, group := range []string{"", "not-an-id", newID()} {
		n, err := b.CountPropertyFields(ctx, &pluginpb.CountPropertyFieldsRequest{GroupId: group, IncludeDeleted: true})
		if err != nil || n.GetCount() != 0 {
			t.Errorf("CountPropertyFields(%q) = %v, %v; want 0", group, n, err)
		}
		m, err := b.CountPropertyFieldsForTarget(ctx, &pluginpb.CountPropertyFieldsForTargetRequest{GroupId: group})
		if err != nil || m.GetCount() != 0 {
			t.Errorf("CountPropertyFieldsForTarget(%q) = %v, %v; want 0", group, m, err)
		}
	}
}

// TestPropertyDeletesFollowTheStores follows upstream's stores, which
// delete by id without a DeleteAt filter and look no field up:
// server/channels/store/sqlstore/property_value_store.go@04e85894988e9056519d5d8a30d04ca8eec84999:SqlPropertyValueStore.Delete,
// SqlPropertyValueStore.DeleteForField and SqlPropertyValueStore.DeleteForTarget (a hard
// DELETE, of every group when the group id is empty), and
// server/channels/app/properties/property_field.go@09e6d8ecf9cd70174e289da8f97d220c5481ea93:PropertyService.deletePropertyField
// with server/channels/store/sqlstore/property_field_store.go@00aafb11483fd159139ad45b5e58496d5c29b4d8:SqlPropertyFieldStore.Delete.
func TestPropertyDeletesFollowTheStores(t *testing.T) {
	ctx := context.Background()
	scope := &pluginpb.PropertyRequestOptions{ActingAsScope: "system"}
	type setup struct {
		w     propertyWorld
		other propertyWorld // a second group of the same backend
		v     *pluginpb.PropertyValue
	}
	newSetup := func(t *testing.T) setup {
		w := newPropertyWorld(t)
		g, err := w.b.RegisterPropertyGroup(ctx, &pluginpb.RegisterPropertyGroupRequest{Name: "other"})
		if err != nil {
			t.Fatal(err)
		}
		other := propertyWorld{b: w.b, clock: w.clock, group: g.GetGroup().GetId()}
		other.text = other.field(t, &pluginpb.PropertyField{GroupId: other.group, Name: "nick", Type: "text"})
		v, err := w.b.CreatePropertyValue(ctx, &pluginpb.CreatePropertyValueRequest{Value: w.value(w.text, "t1", `"a"`)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.b.CreatePropertyValue(ctx, &pluginpb.CreatePropertyValueRequest{Value: other.value(other.text, "t1", `"b"`)}); err != nil {
			t.Fatal(err)
		}
		return setup{w: w, other: other, v: v.GetValue()}
	}
	valuesOf := func(s setup, target string) (live, all int) {
		for _, v := range s.w.b.props.values {
			if v.GetTargetId() == target {
				all++
				if v.GetDeleteAt() == 0 {
					live++
				}
			}
		}
		return live, all
	}
	// twice deletes twice, a second apart, and returns both delete_at.
	twice := func(t *testing.T, s setup, del func() error, read func() int64) (int64, int64) {
		t.Helper()
		if err := del(); err != nil {
			t.Fatalf("first delete = %v", err)
		}
		first := read()
		s.w.clock.Advance(time.Second)
		if err := del(); err != nil {
			t.Fatalf("second delete = %v; want success, as upstream's UPDATE has no DeleteAt filter", err)
		}
		return first, read()
	}
	valueDeleteAt := func(s setup) func() int64 {
		return func() int64 { return s.w.b.props.values[s.v.GetId()].GetDeleteAt() }
	}
	tests := []struct {
		name string
		run  func(t *testing.T, s setup)
	}{
		{"a deleted value is deleted again", func(t *testing.T, s setup) {
			first, second := twice(t, s, func() error {
				_, err := s.w.b.DeletePropertyValue(ctx, &pluginpb.DeletePropertyValueRequest{GroupId: s.w.group, ValueId: s.v.GetId()})
				return err
			}, valueDeleteAt(s))
			if first == 0 || second <= first {
				t.Errorf("delete_at = %d then %d; want a new stamp", first, second)
			}
		}},
		{"with options too", func(t *testing.T, s setup) {
			first, second := twice(t, s, func() error {
				_, err := s.w.b.DeletePropertyValueWithOptions(ctx, &pluginpb.DeletePropertyValueWithOptionsRequest{GroupId: s.w.group, ValueId: s.v.GetId(), Options: scope})
				return err
			}, valueDeleteAt(s))
			if first == 0 || second <= first {
				t.Errorf("delete_at = %d then %d; want a new stamp", first, second)
			}
		}},
		{"an unknown value or another group's is not found", func(t *testing.T, s setup) {
			_, err := s.w.b.DeletePropertyValue(ctx, &pluginpb.DeletePropertyValueRequest{GroupId: s.w.group, ValueId: newID()})
			wantAppErrorID(t, "DeletePropertyValue(unknown)", err, "app.property_value.get.app_error", http.StatusNotFound)
			_, err = s.w.b.DeletePropertyValue(ctx, &pluginpb.DeletePropertyValueRequest{GroupId: s.other.group, ValueId: s.v.GetId()})
			wantAppErrorID(t, "DeletePropertyValue(other group)", err, "app.property_value.get.app_error", http.StatusNotFound)
		}},
		{"a deleted field is deleted again, its values too", func(t *testing.T, s setup) {
			fieldAt := func() int64 { return s.w.b.props.fields[s.w.text.GetId()].GetDeleteAt() }
			first, second := twice(t, s, func() error {
				_, err := s.w.b.DeletePropertyField(ctx, &pluginpb.DeletePropertyFieldRequest{GroupId: s.w.group, FieldId: s.w.text.GetId()})
				return err
			}, fieldAt)
			if first == 0 || second <= first || valueDeleteAt(s)() != second {
				t.Errorf("field delete_at = %d then %d, value %d; want both stamped again", first, second, valueDeleteAt(s)())
			}
		}},
		{"values of an unknown field: nothing to delete", func(t *testing.T, s setup) {
			for _, id := range []string{newID(), "not-an-id", ""} {
				if _, err := s.w.b.DeletePropertyValuesForField(ctx, &pluginpb.DeletePropertyValuesForFieldRequest{GroupId: s.w.group, FieldId: id}); err != nil {
					t.Errorf("DeletePropertyValuesForField(%q) = %v; want nil, as the store looks no field up", id, err)
				}
				if _, err := s.w.b.DeletePropertyValuesForFieldWithOptions(ctx, &pluginpb.DeletePropertyValuesForFieldWithOptionsRequest{GroupId: s.w.group, FieldId: id, Options: scope}); err != nil {
					t.Errorf("DeletePropertyValuesForFieldWithOptions(%q) = %v; want nil", id, err)
				}
			}
		}},
		{"values of a field are stamped again", func(t *testing.T, s setup) {
			first, second := twice(t, s, func() error {
				_, err := s.w.b.DeletePropertyValuesForField(ctx, &pluginpb.DeletePropertyValuesForFieldRequest{GroupId: s.w.group, FieldId: s.w.text.GetId()})
				return err
			}, valueDeleteAt(s))
			if first == 0 || second <= first {
				t.Errorf("delete_at = %d then %d; want a new stamp", first, second)
			}
		}},
		{"values of a target are removed, deleted ones too, in the group only", func(t *testing.T, s setup) {
			if _, err := s.w.b.DeletePropertyValue(ctx, &pluginpb.DeletePropertyValueRequest{GroupId: s.w.group, ValueId: s.v.GetId()}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.w.b.DeletePropertyValuesForTarget(ctx, &pluginpb.DeletePropertyValuesForTargetRequest{GroupId: s.w.group, TargetType: "user", TargetId: "t1"}); err != nil {
				t.Fatal(err)
			}
			if _, ok := s.w.b.props.values[s.v.GetId()]; ok {
				t.Error("the deleted value of the target is still stored; want it removed")
			}
			if live, all := valuesOf(s, "t1"); live != 1 || all != 1 {
				t.Errorf("values of t1 = %d live of %d; want the other group's one", live, all)
			}
		}},
		{"an empty group removes the target's values in every group", func(t *testing.T, s setup) {
			if _, err := s.w.b.DeletePropertyValuesForTargetWithOptions(ctx, &pluginpb.DeletePropertyValuesForTargetWithOptionsRequest{TargetType: "user", TargetId: "t1", Options: scope}); err != nil {
				t.Fatal(err)
			}
			if _, all := valuesOf(s, "t1"); all != 0 {
				t.Errorf("values of t1 = %d; want none", all)
			}
		}},
		{"a malformed group has no values; an empty target is refused", func(t *testing.T, s setup) {
			if _, err := s.w.b.DeletePropertyValuesForTarget(ctx, &pluginpb.DeletePropertyValuesForTargetRequest{GroupId: "not-an-id", TargetType: "user", TargetId: "t1"}); err != nil {
				t.Errorf("DeletePropertyValuesForTarget(malformed group) = %v; want nil", err)
			}
			if _, all := valuesOf(s, "t1"); all != 2 {
				t.Errorf("values of t1 = %d; want both kept", all)
			}
			_, err := s.w.b.DeletePropertyValuesForTarget(ctx, &pluginpb.DeletePropertyValuesForTargetRequest{GroupId: s.w.group, TargetType: "user"})
			wantAppError(t, "DeletePropertyValuesForTarget(no target id)", err, http.StatusBadRequest)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newSetup(t)) })
	}
}

// TestPropertySearchesTakeTheGroupArgument follows upstream's
// server/channels/app/properties/property_field.go@09e6d8ecf9cd70174e289da8f97d220c5481ea93:PropertyService.searchPropertyFields,
// which sets opts.GroupID to the group argument: opts.group_id is not
// used, and an empty argument searches every group. Values are searched
// the same way.
func TestPropertySearchesTakeTheGroupArgument(t *testing.T) {
	w := newPropertyWorld(t)
	ctx := context.Background()
	g, err := w.b.RegisterPropertyGroup(ctx, &pluginpb.RegisterPropertyGroupRequest{Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	other := propertyWorld{b: w.b, clock: w.clock, group: g.GetGroup().GetId()}
	other.text = other.field(t, &pluginpb.PropertyField{GroupId: other.group, Name: "nick", Type: "text"})
	for _, v := range []*pluginpb.PropertyValue{w.value(w.text, "t1", `"a"`), other.value(other.text, "t1", `"b"`)} {
		if _, err := w.b.CreatePropertyValue(ctx, &pluginpb.CreatePropertyValueRequest{Value: v}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name             string
		group, optsGroup string
		fields, values   int
	}{
		{"the argument", w.group, "", 2, 1},
		{"the argument, not opts", w.group, other.group, 2, 1},
		{"no argument: every group, whatever opts says", "", w.group, 3, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := w.b.SearchPropertyFields(ctx, &pluginpb.SearchPropertyFieldsRequest{GroupId: tt.group,
				Opts: &pluginpb.PropertyFieldSearchOpts{GroupId: tt.optsGroup, PerPage: 10}})
			if err != nil || len(f.GetFields()) != tt.fields {
				t.Errorf("SearchPropertyFields = %d fields, %v; want %d", len(f.GetFields()), err, tt.fields)
			}
			v, err := w.b.SearchPropertyValues(ctx, &pluginpb.SearchPropertyValuesRequest{GroupId: tt.group,
				Opts: &pluginpb.PropertyValueSearchOpts{GroupId: tt.optsGroup, PerPage: 10}})
			if err != nil || len(v.GetValues()) != tt.values {
				t.Errorf("SearchPropertyValues = %d values, %v; want %d", len(v.GetValues()), err, tt.values)
			}
		})
	}
	// A search by since_update_at pages by update_at: its cursor needs
	// only that time.
	_, err = w.b.SearchPropertyValues(ctx, &pluginpb.SearchPropertyValuesRequest{GroupId: w.group,
		Opts: &pluginpb.PropertyValueSearchOpts{SinceUpdateAt: 1, PerPage: 10,
			Cursor: &pluginpb.PropertyValueSearchCursor{PropertyValueId: newID(), UpdateAt: 1}}})
	if err != nil {
		t.Errorf("SearchPropertyValues(since, update_at cursor) = %v", err)
	}
}
