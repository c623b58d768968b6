package memory

import (
	"strings"

	"google.golang.org/protobuf/proto"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// This file holds the state of the access-control domain. Its methods do
// not lock: the Backend's mutex guards it.

// policyStore holds the plugins' access control policies, by id. A policy
// belongs to the plugin that its type names: "<plugin id>:<resource
// type>".
type policyStore map[string]*pluginpb.AccessControlPolicy

// ofPlugin returns a copy of a policy that belongs to the plugin; a policy
// of another plugin is not found.
func (s policyStore) ofPlugin(pluginID, id string) (*pluginpb.AccessControlPolicy, bool) {
	p, ok := s[id]
	if !ok || !strings.HasPrefix(p.GetType(), pluginID+":") {
		return nil, false
	}
	return proto.Clone(p).(*pluginpb.AccessControlPolicy), true
}

// save stores a copy of p and returns it. A policy without an id is new:
// it gets an id, now as its creation time and revision 1. One with an id
// replaces the stored policy, whose creation time it keeps, one revision
// up; the caller has checked that the stored policy exists.
func (s policyStore) save(p *pluginpb.AccessControlPolicy, now int64) *pluginpb.AccessControlPolicy {
	c := proto.Clone(p).(*pluginpb.AccessControlPolicy)
	if c.GetId() == "" {
		c.Id, c.CreateAt, c.Revision = newID(), now, 1
	} else {
		old := s[c.GetId()]
		c.CreateAt, c.Revision = old.GetCreateAt(), old.GetRevision()+1
	}
	s[c.GetId()] = c
	return proto.Clone(c).(*pluginpb.AccessControlPolicy)
}

// remove deletes a policy; an unknown id is no error.
func (s policyStore) remove(id string) {
	delete(s, id)
}
