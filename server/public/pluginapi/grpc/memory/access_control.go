package memory

// This file holds the handlers of the access-control domain: the
// attribute-based access policies that a plugin keeps for its own
// resources. Policies keep their CEL expressions as text, checked for
// form (quotes, brackets, operators) but never compiled or evaluated: the
// backend has no policy decision point, so evaluation and user queries
// fail as on a server without one.

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// Limits and names of the access-control model.
const (
	policyNameMax            = 128
	policyExpressionMax      = 4096
	accessControlGroupName   = "access_control"
	accessControlAutoMaxPage = 100
)

// policyVersionPlugin is the version every plugin policy is saved with.
const policyVersionPlugin = "v0.5"

var (
	validPolicyAction = regexp.MustCompile(`^[a-z0-9]+(_[a-z0-9]+)*$`)
)

// accessControlOff is upstream's error while its Policy Administration
// Point does not run: without an Enterprise Advanced license, or with
// AccessControlSettings.EnableAttributeBasedAccessControl off. op names the
// call, as upstream's error ids do. The caller holds the lock.
func (b *Backend) accessControlOff(op string) error {
	if b.license.GetSkuShortName() == SKUEnterpriseAdvanced &&
		b.configBool("AccessControlSettings", "EnableAttributeBasedAccessControl") {
		return nil
	}
	return notModeledPAP(op)
}

// notModeledPAP is upstream's 501 of a missing Policy Administration
// Point, for the call op.
func notModeledPAP(op string) error {
	return apperror.New("app.pap."+op+".app_error",
		"Attribute-based access control is not available: it needs an Enterprise Advanced license and "+
			"AccessControlSettings.EnableAttributeBasedAccessControl.", "", http.StatusNotImplemented)
}

func policyNotFound(id string) *apperror.Error {
	return apperror.New("app.pap.get_policy.app_error", "No policy of this plugin has that id.", "id="+id, http.StatusNotFound)
}

// pluginType is the policy type of a resource type of this plugin.
func pluginType(pluginID, resourceType string) string { return pluginID + ":" + resourceType }

// ownPolicy returns a copy of a policy of this plugin. The caller holds the
// lock.
func (b *Backend) ownPolicy(pluginID, id string) (*pluginpb.AccessControlPolicy, error) {
	if !isValidID(id) {
		return nil, invalidParam("id")
	}
	p, ok := b.policies.ofPlugin(pluginID, id)
	if !ok {
		return nil, policyNotFound(id)
	}
	return p, nil
}

// validatePolicy checks a plugin's policy as model.AccessControlPolicy's
// IsValid does, with its expressions checked for form.
func validatePolicy(pluginID string, p *pluginpb.AccessControlPolicy) error {
	bad := func(field, message string) error {
		e := apperror.New("model.access_policy.is_valid."+field+".app_error", message, "", http.StatusBadRequest)
		e.Where = "AccessControlPolicy.IsValid"
		return e
	}
	resource, isPlugins := strings.CutPrefix(p.GetType(), pluginID+":")
	switch {
	case !isPlugins || resource == "":
		return apperror.New("app.pap.save_policy.type.app_error",
			`A plugin saves only its own policies, of type "<plugin id>:<resource type>".`, "type="+p.GetType(), http.StatusForbidden)
	case p.GetName() == "" || utf8.RuneCountInString(p.GetName()) > policyNameMax:
		return bad("name", "Invalid name: 1 to 128 characters.")
	case p.GetScope() != "" && p.GetScope() != "team":
		return bad("scope", `Invalid scope: "" or "team".`)
	case p.GetScope() == "team" && !isValidID(p.GetScopeId()):
		return bad("scope_id", "A team scope needs the team's id.")
	case p.GetScope() == "" && p.GetScopeId() != "":
		return bad("scope_id", "A system scope takes no scope id.")
	case len(p.GetRules()) == 0:
		return bad("rules", "A policy needs at least one rule.")
	}
	for _, id := range p.GetImports() {
		if !isValidID(id) {
			return bad("imports", "Invalid import: a policy id.")
		}
	}
	for _, r := range p.GetRules() {
		if len(r.GetActions()) == 0 {
			return bad("rules.actions", "A rule needs at least one action.")
		}
		for _, a := range r.GetActions() {
			if !validPolicyAction.MatchString(a) {
				return bad("rules.actions", "Invalid action: lower-case words joined by '_'.")
			}
		}
		if errs := lintCEL(r.GetExpression()); len(errs) > 0 {
			return bad("rules.expression", "Invalid expression: "+errs[0].GetMessage())
		}
	}
	return nil
}

// SaveAccessControlPolicy creates a policy of this plugin (an empty id) or
// updates one, raising its revision.
func (b *Backend) SaveAccessControlPolicy(ctx context.Context, req *pluginpb.SaveAccessControlPolicyRequest) (*pluginpb.SaveAccessControlPolicyResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.accessControlOff("save_policy"); err != nil {
		return nil, err
	}
	if _, err := b.user(req.GetActingUserId()); err != nil {
		return nil, err
	}
	if req.GetPolicy() == nil {
		return nil, invalidParam("policy")
	}
	p := proto.Clone(req.GetPolicy()).(*pluginpb.AccessControlPolicy)
	// server/public/plugin/api.go@004340fa:API.SaveAccessControlPolicy: the
	// version is forced to v0.5 and active to true.
	p.Version, p.Active = policyVersionPlugin, true
	if err := validatePolicy(b.caller(ctx), p); err != nil {
		return nil, err
	}
	if p.GetScope() == "team" {
		if _, err := b.team(p.GetScopeId()); err != nil {
			return nil, err
		}
	}
	if p.GetId() != "" {
		if _, err := b.ownPolicy(b.caller(ctx), p.GetId()); err != nil {
			return nil, err
		}
	}
	return &pluginpb.SaveAccessControlPolicyResponse{Policy: b.policies.save(p, b.nowMillis())}, nil
}

// GetAccessControlPolicy returns a policy of this plugin.
func (b *Backend) GetAccessControlPolicy(ctx context.Context, req *pluginpb.GetAccessControlPolicyRequest) (*pluginpb.GetAccessControlPolicyResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.accessControlOff("get_policy"); err != nil {
		return nil, err
	}
	p, err := b.ownPolicy(b.caller(ctx), req.GetId())
	if err != nil {
		return nil, err
	}
	return &pluginpb.GetAccessControlPolicyResponse{Policy: p}, nil
}

// DeleteAccessControlPolicy deletes a policy of this plugin, once its type
// matches the resource type named.
func (b *Backend) DeleteAccessControlPolicy(ctx context.Context, req *pluginpb.DeleteAccessControlPolicyRequest) (*pluginpb.DeleteAccessControlPolicyResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.accessControlOff("delete_policy"); err != nil {
		return nil, err
	}
	if _, err := b.user(req.GetActingUserId()); err != nil {
		return nil, err
	}
	p, err := b.ownPolicy(b.caller(ctx), req.GetId())
	if err != nil {
		return nil, err
	}
	// server/public/plugin/api.go@004340fa:API.DeleteAccessControlPolicy:
	// a type mismatch is a not-found error (fail closed).
	if p.GetType() != pluginType(b.caller(ctx), req.GetResourceType()) {
		return nil, policyNotFound(req.GetId())
	}
	b.policies.remove(p.GetId())
	return &pluginpb.DeleteAccessControlPolicyResponse{}, nil
}

// CheckAccessControlExpression lists the errors of form of an expression:
// unterminated strings, unbalanced brackets, operators without operands.
// It does not compile the expression.
func (b *Backend) CheckAccessControlExpression(_ context.Context, req *pluginpb.CheckAccessControlExpressionRequest) (*pluginpb.CheckAccessControlExpressionResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.accessControlOff("check_expression"); err != nil {
		return nil, err
	}
	if _, err := b.user(req.GetActingUserId()); err != nil {
		return nil, err
	}
	return &pluginpb.CheckAccessControlExpressionResponse{Errors: lintCEL(req.GetExpression())}, nil
}

// GetAccessControlFieldsAutocomplete returns one page of the live user
// attribute fields, the fields of the "access_control" property group, by
// id after the one named.
func (b *Backend) GetAccessControlFieldsAutocomplete(_ context.Context, req *pluginpb.GetAccessControlFieldsAutocompleteRequest) (*pluginpb.GetAccessControlFieldsAutocompleteResponse, error) {
	if req.GetLimit() < 1 || req.GetLimit() > accessControlAutoMaxPage {
		return nil, invalidParam("limit: 1 to 100")
	}
	if req.GetAfter() != "" && !isValidID(req.GetAfter()) {
		return nil, invalidParam("after")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.accessControlOff("get_access_control_fields_autocomplete"); err != nil {
		return nil, err
	}
	if _, err := b.user(req.GetActingUserId()); err != nil {
		return nil, err
	}
	out := []*pluginpb.PropertyField{}
	if g, ok := b.props.groups[accessControlGroupName]; ok {
		for _, f := range b.props.fields {
			if f.GetGroupId() == g.GetId() && f.GetDeleteAt() == 0 && f.GetId() > req.GetAfter() {
				out = append(out, proto.Clone(f).(*pluginpb.PropertyField))
			}
		}
	}
	slices.SortFunc(out, func(x, y *pluginpb.PropertyField) int { return strings.Compare(x.GetId(), y.GetId()) })
	return &pluginpb.GetAccessControlFieldsAutocompleteResponse{Fields: out[:min(len(out), int(req.GetLimit()))]}, nil
}

// EvaluateAccessControl fails as on a server without a policy decision
// point: the backend does not evaluate CEL.
func (b *Backend) EvaluateAccessControl(_ context.Context, _ *pluginpb.EvaluateAccessControlRequest) (*pluginpb.EvaluateAccessControlResponse, error) {
	return nil, notModeledPAP("access_evaluation")
}

// QueryUsersForAccessControlExpression fails as on a server without a
// policy decision point: the backend does not evaluate CEL.
func (b *Backend) QueryUsersForAccessControlExpression(_ context.Context, _ *pluginpb.QueryUsersForAccessControlExpressionRequest) (*pluginpb.QueryUsersForAccessControlExpressionResponse, error) {
	return nil, notModeledPAP("test_expression")
}

// GetAccessControlVisualAST fails as on a server without a policy
// administration point: the backend does not parse CEL.
func (b *Backend) GetAccessControlVisualAST(_ context.Context, _ *pluginpb.GetAccessControlVisualASTRequest) (*pluginpb.GetAccessControlVisualASTResponse, error) {
	return nil, notModeledPAP("expression_to_visual_ast")
}

// lintCEL checks the form of a CEL expression without compiling it: it is
// not empty and not too long, its string literals end, its brackets
// balance, and no binary operator lacks an operand. Positions count from 1.
func lintCEL(expr string) []*pluginpb.CELExpressionError {
	at := func(line, col int, msg string) []*pluginpb.CELExpressionError {
		return []*pluginpb.CELExpressionError{{Line: int32(line), Column: int32(col), Message: msg}}
	}
	if strings.TrimSpace(expr) == "" {
		return at(1, 1, "the expression is empty")
	}
	if len(expr) > policyExpressionMax {
		return at(1, 1, "the expression is longer than 4096 bytes")
	}
	if !utf8.ValidString(expr) {
		return at(1, 1, "the expression is not UTF-8")
	}
	type open struct {
		r         rune
		line, col int
	}
	var stack []open
	closers := map[rune]rune{')': '(', ']': '[', '}': '{'}
	line, col := 1, 0
	var quote rune
	var quoteLine, quoteCol int
	lastSignificant := ""
	runes := []rune(expr)
	for i := 0; i < len(runes); i++ {
		r := runes[i]
		col++
		if r == '\n' {
			if quote != 0 {
				return at(quoteLine, quoteCol, "a string literal does not end on its line")
			}
			line, col = line+1, 0
			continue
		}
		if quote != 0 {
			switch r {
			case '\\':
				i++
				col++
			case quote:
				quote = 0
				lastSignificant = "operand"
			}
			continue
		}
		switch {
		case r == '"' || r == '\'':
			quote, quoteLine, quoteCol = r, line, col
		case r == '(' || r == '[' || r == '{':
			stack = append(stack, open{r, line, col})
			lastSignificant = "open"
		case closers[r] != 0:
			if len(stack) == 0 || stack[len(stack)-1].r != closers[r] {
				return at(line, col, "unbalanced '"+string(r)+"'")
			}
			if lastSignificant == "operator" {
				return at(line, col, "an operator lacks its right operand")
			}
			stack = stack[:len(stack)-1]
			lastSignificant = "operand"
		case strings.ContainsRune("&|=!<>+-*/%", r):
			two := ""
			if i+1 < len(runes) {
				two = string(r) + string(runes[i+1])
			}
			if two == "&&" || two == "||" || two == "==" || two == "!=" || two == "<=" || two == ">=" {
				if lastSignificant == "" || lastSignificant == "open" || lastSignificant == "operator" {
					return at(line, col, "'"+two+"' lacks its left operand")
				}
				i++
				col++
			} else if r == '&' || r == '|' || r == '=' {
				return at(line, col, "unknown operator '"+string(r)+"'")
			}
			if r != '!' || two == "!=" {
				lastSignificant = "operator"
			}
		case r == ' ' || r == '\t' || r == '\r':
		default:
			lastSignificant = "operand"
		}
	}
	if quote != 0 {
		return at(quoteLine, quoteCol, "a string literal does not end")
	}
	if len(stack) > 0 {
		o := stack[len(stack)-1]
		return at(o.line, o.col, "'"+string(o.r)+"' is not closed")
	}
	if lastSignificant == "operator" {
		return at(line, col, "an operator lacks its right operand")
	}
	return nil
}
