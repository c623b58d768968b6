package server

import (
	"math"
	"strconv"
	"strings"
	"sync"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
)

// google.protobuf.Value stands for a JSON value, and JSON has no NaN or
// infinities (RFC 8259, section 6): Mattermost keeps props and plugin
// settings as JSON, and encoding/json refuses to write such numbers, while
// protojson writes NaN as the string "NaN". A request whose Value holds
// one is therefore refused where it is decoded, for every method at once,
// rather than stored as something else. The walk visits only the fields
// whose type can lead to a Value, so that requests without one cost a map
// lookup; its depth is that of the decoded message, which proto.Unmarshal
// bounds (protowire.DefaultRecursionLimit), and its work is bounded by
// the message size limit.

// maxPathBytes bounds the path that names a non-finite number; map and
// Struct keys come from the caller.
const maxPathBytes = 128

var (
	valueDesc        = (&structpb.Value{}).ProtoReflect().Descriptor()
	numberValueDesc  = valueDesc.Fields().ByName("number_value")
	structDesc       = (&structpb.Struct{}).ProtoReflect().Descriptor()
	structFieldsDesc = structDesc.Fields().ByName("fields")
	listValueDesc    = (&structpb.ListValue{}).ProtoReflect().Descriptor()
	listValuesDesc   = listValueDesc.Fields().ByName("values")
)

// leadsToValue caches, per message type, whether a google.protobuf.Value
// can be found in it at any depth.
var leadsToValue sync.Map // protoreflect.FullName -> bool

// mayHoldValue reports whether a message of type md can hold a
// google.protobuf.Value, at any depth.
func mayHoldValue(md protoreflect.MessageDescriptor) bool {
	if v, ok := leadsToValue.Load(md.FullName()); ok {
		return v.(bool)
	}
	found := reaches(md, map[protoreflect.FullName]bool{})
	leadsToValue.Store(md.FullName(), found)
	return found
}

// reaches reports whether google.protobuf.Value is md or a type reachable
// from md's fields that seen does not hold yet.
func reaches(md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]bool) bool {
	if md.FullName() == valueDesc.FullName() {
		return true
	}
	seen[md.FullName()] = true
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if fd.IsMap() {
			fd = fd.MapValue()
		}
		if sub := fd.Message(); sub != nil && !seen[sub.FullName()] && reaches(sub, seen) {
			return true
		}
	}
	return false
}

// findNonFinite returns the path and the value of the first NaN or
// infinite number_value of a google.protobuf.Value in m, if any. The path
// names fields by their proto names, and Struct and map keys and list
// indexes as a JSON reader would: "post.props.score", "values[2]".
func findNonFinite(m protoreflect.Message) (path string, value float64, found bool) {
	if !mayHoldValue(m.Descriptor()) {
		return "", 0, false
	}
	var w nonFiniteWalk
	if !w.message(m) {
		return "", 0, false
	}
	return w.path(), w.value, true
}

// nonFiniteName names a non-finite number as JavaScript does, and as the
// SDK's check does: NaN, Infinity or -Infinity.
func nonFiniteName(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case v > 0:
		return "Infinity"
	}
	return "-Infinity"
}

// nonFiniteWalk is one search of [findNonFinite]; segments is the path to
// the message being visited.
type nonFiniteWalk struct {
	segments []string
	value    float64
}

func (w *nonFiniteWalk) push(s string) { w.segments = append(w.segments, s) }
func (w *nonFiniteWalk) pop()          { w.segments = w.segments[:len(w.segments)-1] }

// path joins the segments, cut to maxPathBytes.
func (w *nonFiniteWalk) path() string {
	var b strings.Builder
	for _, s := range w.segments {
		if b.Len() > maxPathBytes {
			break
		}
		if b.Len() > 0 && !strings.HasPrefix(s, "[") {
			b.WriteByte('.')
		}
		b.WriteString(s[:min(len(s), maxPathBytes+1)])
	}
	return apperror.Truncate(b.String(), maxPathBytes)
}

// message reports whether m holds a non-finite number, leaving its path in
// w.segments.
func (w *nonFiniteWalk) message(m protoreflect.Message) bool {
	md := m.Descriptor()
	switch md.FullName() {
	case valueDesc.FullName():
		if m.Has(numberValueDesc) {
			if v := m.Get(numberValueDesc).Float(); math.IsNaN(v) || math.IsInf(v, 0) {
				w.value = v
				return true
			}
			return false
		}
		// A Value's struct_value and list_value stand for the JSON
		// they hold, and take no segment of their own.
		found := false
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			if fd.Message() != nil {
				found = w.message(v.Message())
			}
			return !found
		})
		return found
	case structDesc.FullName():
		return w.mapEntries(m.Get(structFieldsDesc).Map(), func(key string) string { return key })
	case listValueDesc.FullName():
		return w.list(m.Get(listValuesDesc).List(), "")
	}
	found := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			if sub := fd.MapValue().Message(); sub != nil && mayHoldValue(sub) {
				w.push(string(fd.Name()))
				found = w.mapEntries(v.Map(), func(key string) string { return "[" + key + "]" })
				if !found {
					w.pop()
				}
			}
		case fd.IsList():
			if sub := fd.Message(); sub != nil && mayHoldValue(sub) {
				found = w.list(v.List(), string(fd.Name()))
			}
		default:
			if sub := fd.Message(); sub != nil && mayHoldValue(sub) {
				w.push(string(fd.Name()))
				found = w.message(v.Message())
				if !found {
					w.pop()
				}
			}
		}
		return !found
	})
	return found
}

// mapEntries visits the message values of a map, each under the segment
// that segment makes of its key.
func (w *nonFiniteWalk) mapEntries(m protoreflect.Map, segment func(key string) string) bool {
	found := false
	m.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
		w.push(segment(k.String()))
		found = w.message(v.Message())
		if !found {
			w.pop()
		}
		return !found
	})
	return found
}

// list visits the messages of a list, each under name[i].
func (w *nonFiniteWalk) list(l protoreflect.List, name string) bool {
	for i := range l.Len() {
		w.push(name + "[" + strconv.Itoa(i) + "]")
		if w.message(l.Get(i).Message()) {
			return true
		}
		w.pop()
	}
	return false
}
