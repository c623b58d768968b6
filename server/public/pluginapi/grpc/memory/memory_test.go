package memory

import (
	"go/parser"
	"go/token"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// sharedProtos are the files of the contract that hold no domain:
// plugin.proto the shared types, api.proto the service, hooks.proto the
// hooks and streams.proto the stream transports, which carry the other
// services' calls and have no backend of their own.
var sharedProtos = []string{"api.proto", "hooks.proto", "plugin.proto", "streams.proto"}

var (
	listedDomain = regexp.MustCompile(`(?m)^  - (\w+\.proto):`)
	namedFile    = regexp.MustCompile(`(?:^|\s)([a-z][a-z_]*\.go)\b`)
)

// TestPackageCommentListsTheDomains keeps the package comment up to date:
// it lists every domain file of the contract, each Go file of the package
// is named in it, and each file it names exists.
func TestPackageCommentListsTheDomains(t *testing.T) {
	if _, err := os.Stat("memory.go"); err != nil {
		t.Skip("the package's sources are not beside the test:", err)
	}
	f, err := parser.ParseFile(token.NewFileSet(), "memory.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	doc := f.Doc.Text()

	var domains []string
	pkg := pluginpb.File_mattermost_plugin_plugin_proto.Package()
	protoregistry.GlobalFiles.RangeFilesByPackage(pkg, func(fd protoreflect.FileDescriptor) bool {
		if name := path.Base(fd.Path()); !slices.Contains(sharedProtos, name) {
			domains = append(domains, name)
		}
		return true
	})
	slices.Sort(domains)
	var listed []string
	for _, m := range listedDomain.FindAllStringSubmatch(doc, -1) {
		listed = append(listed, m[1])
	}
	slices.Sort(listed)
	if !slices.Equal(listed, domains) {
		t.Errorf("the package comment lists the domains\n%v\nthe contract has\n%v", listed, domains)
	}

	var named []string
	for _, m := range namedFile.FindAllStringSubmatch(doc, -1) {
		named = append(named, m[1])
	}
	for _, name := range named {
		if _, err := os.Stat(name); err != nil {
			t.Errorf("the package comment names %s: %v", name, err)
		}
	}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") && !slices.Contains(named, name) {
			t.Errorf("the package comment does not name %s", name)
		}
	}
}
