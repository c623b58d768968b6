package memory

import (
	"context"
	"net/http"
	"testing"

	"google.golang.org/protobuf/proto"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

func TestLintCEL(t *testing.T) {
	tests := []struct {
		expr       string
		line, col  int32
		wantErrors bool
	}{
		{`user.attributes.team == "sales"`, 0, 0, false},
		{`user.attributes.level >= 3 && ("a" in user.attributes.tags || !user.attributes.guest)`, 0, 0, false},
		{"a == 'x'\n&& b != \"y\\\"z\"", 0, 0, false},
		{``, 1, 1, true},
		{`   `, 1, 1, true},
		{`user.attributes.team == "sales`, 1, 25, true},
		{`(a == b`, 1, 1, true},
		{`a == b)`, 1, 7, true},
		{`a ==`, 1, 4, true},
		{`&& a`, 1, 1, true},
		{"a ==\n(b &&)", 2, 6, true},
		{`a = b`, 1, 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			errs := lintCEL(tt.expr)
			if !tt.wantErrors {
				if len(errs) != 0 {
					t.Fatalf("lintCEL = %v; want none", errs)
				}
				return
			}
			if len(errs) != 1 || errs[0].GetLine() != tt.line || errs[0].GetColumn() != tt.col {
				t.Fatalf("lintCEL = %v; want one error at %d:%d", errs, tt.line, tt.col)
			}
		})
	}
}

func TestAccessControlNeedsLicenseAndSetting(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name    string
		sku     string
		setting bool
		works   bool
	}{
		{"no license", "", true, false},
		{"enterprise", SKUEnterprise, true, false},
		{"advanced, setting off", SKUEnterpriseAdvanced, false, false},
		{"advanced, setting on", SKUEnterpriseAdvanced, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := New(Licensed(tt.sku))
			section(b.config, "AccessControlSettings")["EnableAttributeBasedAccessControl"] = tt.setting
			u := create(t, b, newUser("alice"))
			_, err := b.CheckAccessControlExpression(ctx, &pluginpb.CheckAccessControlExpressionRequest{ActingUserId: u.GetId(), Expression: "a == b"})
			if tt.works && err != nil {
				t.Fatalf("CheckAccessControlExpression = %v", err)
			}
			if !tt.works {
				wantAppError(t, "CheckAccessControlExpression", err, http.StatusNotImplemented)
			}
			lic, _ := b.GetLicense(ctx, &pluginpb.GetLicenseRequest{})
			if lic.GetLicense().GetSkuShortName() != tt.sku {
				t.Errorf("GetLicense = %v; want SKU %q", lic.GetLicense(), tt.sku)
			}
		})
	}
}

func TestAccessControlPolicies(t *testing.T) {
	ctx := context.Background()
	b := New(Licensed(SKUEnterpriseAdvanced))
	section(b.config, "AccessControlSettings")["EnableAttributeBasedAccessControl"] = true
	u := create(t, b, newUser("alice"))
	policy := &pluginpb.AccessControlPolicy{
		Name: "Boards", Type: DefaultPluginID + ":board", Version: "v0.2", Active: true,
		Rules: []*pluginpb.AccessControlPolicyRule{{Actions: []string{"view_board"}, Expression: `user.attributes.team == "sales"`}},
	}
	saved, err := b.SaveAccessControlPolicy(ctx, &pluginpb.SaveAccessControlPolicyRequest{ActingUserId: u.GetId(), Policy: policy})
	if err != nil {
		t.Fatal(err)
	}
	p := saved.GetPolicy()
	if !isValidID(p.GetId()) || p.GetRevision() != 1 || p.GetCreateAt() == 0 {
		t.Fatalf("saved policy = %v", p)
	}
	p.Name = "Boards v2"
	again, err := b.SaveAccessControlPolicy(ctx, &pluginpb.SaveAccessControlPolicyRequest{ActingUserId: u.GetId(), Policy: p})
	if err != nil || again.GetPolicy().GetRevision() != 2 || again.GetPolicy().GetCreateAt() != p.GetCreateAt() {
		t.Fatalf("resaved policy = %v, %v; want revision 2", again, err)
	}

	bad := func(mutate func(*pluginpb.AccessControlPolicy)) *pluginpb.AccessControlPolicy {
		q := proto.Clone(policy).(*pluginpb.AccessControlPolicy)
		mutate(q)
		return q
	}
	for _, tt := range []struct {
		name   string
		policy *pluginpb.AccessControlPolicy
		status int
	}{
		{"system type", bad(func(q *pluginpb.AccessControlPolicy) { q.Type = "channel" }), http.StatusForbidden},
		{"another plugin", bad(func(q *pluginpb.AccessControlPolicy) { q.Type = "com.other:board" }), http.StatusForbidden},
		{"no name", bad(func(q *pluginpb.AccessControlPolicy) { q.Name = "" }), http.StatusBadRequest},
		{"bad action", bad(func(q *pluginpb.AccessControlPolicy) { q.Rules[0].Actions = []string{"View Board"} }), http.StatusBadRequest},
		{"bad expression", bad(func(q *pluginpb.AccessControlPolicy) { q.Rules[0].Expression = `(a ==` }), http.StatusBadRequest},
		{"no rules", bad(func(q *pluginpb.AccessControlPolicy) { q.Rules = nil }), http.StatusBadRequest},
		{"unknown id", bad(func(q *pluginpb.AccessControlPolicy) { q.Id = newID() }), http.StatusNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.SaveAccessControlPolicy(ctx, &pluginpb.SaveAccessControlPolicyRequest{ActingUserId: u.GetId(), Policy: tt.policy})
			wantAppError(t, "SaveAccessControlPolicy", err, tt.status)
		})
	}

	_, err = b.DeleteAccessControlPolicy(ctx, &pluginpb.DeleteAccessControlPolicyRequest{ActingUserId: u.GetId(), ResourceType: "card", Id: p.GetId()})
	// server/public/plugin/api.go@004340fa:API.DeleteAccessControlPolicy: a
	// type mismatch is not found, failing closed.
	wantAppError(t, "DeleteAccessControlPolicy(other type)", err, http.StatusNotFound)
	if _, err := b.DeleteAccessControlPolicy(ctx, &pluginpb.DeleteAccessControlPolicyRequest{ActingUserId: u.GetId(), ResourceType: "board", Id: p.GetId()}); err != nil {
		t.Fatal(err)
	}
	_, err = b.GetAccessControlPolicy(ctx, &pluginpb.GetAccessControlPolicyRequest{Id: p.GetId()})
	wantAppError(t, "GetAccessControlPolicy(deleted)", err, http.StatusNotFound)
	_, err = b.EvaluateAccessControl(ctx, &pluginpb.EvaluateAccessControlRequest{UserId: u.GetId()})
	wantAppError(t, "EvaluateAccessControl", err, http.StatusNotImplemented)
}
