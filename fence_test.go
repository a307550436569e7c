package den_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/denproject/den/"

// allowed lists, for each of den's packages, the den packages it may
// import: the layering of DEVELOPERS.md, cmd → run → leaves. The leaves
// (pull, overlay, userns, netns, doctor, cgroups) import no other den package. Inside run,
// ctl (the control protocol) is a leaf too; pid1, the container's init,
// knows only the protocol; spec and security are pure and know only the
// init's types; nothing under run imports run itself, which composes them.
var allowed = map[string][]string{
	"cmd/den":     {"cmd/den/cli", "run", "run/ctl", "run/pid1", "userns"},
	"cmd/den/cli": {"run", "run/spec", "pull", "doctor"},
	"run": {"pull", "overlay", "userns", "netns", "doctor", "run/ctl", "run/pid1", "run/spec", "run/security",
		"run/records", "run/cptar", "run/dockerjson", "cgroups"},
	"run/ctl":        {},
	"run/pid1":       {"run/ctl"},
	"run/spec":       {"netns", "pull", "run/ctl", "run/pid1", "run/security", "cgroups"},
	"run/security":   {"run/pid1"},
	"run/records":    {"netns", "run/ctl", "run/spec"},
	"run/cptar":      {},
	"run/dockerjson": {"netns", "run/pid1", "run/records", "run/spec"},
	"pull":           {},
	"overlay":        {},
	"userns":         {},
	"netns":          {},
	"doctor":         {},
	"cgroups":        {},
	"bench/driver":   {"internal/testimage"},
}

// TestImportFence keeps that layering, and keeps cobra and lipgloss in
// cmd/den/cli: the other packages report through writers and callbacks.
func TestImportFence(t *testing.T) {
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(filepath.Dir(path))
		if strings.HasPrefix(pkg, "third_party") || strings.HasPrefix(pkg, "e2e") {
			return nil
		}
		for _, imp := range f.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			if (strings.Contains(p, "spf13/cobra") || strings.Contains(p, "charmbracelet/")) && pkg != "cmd/den/cli" {
				t.Errorf("%s imports %s: only cmd/den/cli may", path, p)
			}
			own, isOwn := strings.CutPrefix(p, module)
			if !isOwn {
				continue
			}
			if strings.HasPrefix(pkg, "internal") {
				if !strings.HasPrefix(own, "internal") {
					t.Errorf("%s: test helpers import only internal packages (%s)", path, own)
				}
				continue
			}
			ok, known := allowed[pkg]
			if !known {
				t.Errorf("%s: package %s has no place in the fence; add it to allowed", path, pkg)
				continue
			}
			if !contains(ok, own) {
				t.Errorf("%s imports den's %s: %s may import only %v", path, own, pkg, ok)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
