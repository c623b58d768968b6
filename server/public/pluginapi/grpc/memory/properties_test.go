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
