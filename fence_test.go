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

// TestImportFence keeps DEVELOPERS.md's layering: cmd → run → leaves.
// Leaves (pull, overlay, userns, netns) import no other den package and no
// CLI or styling library; run/pid1 imports no den package but leaves; only
// cmd/den/cli uses cobra and lipgloss.
func TestImportFence(t *testing.T) {
	leaves := map[string]bool{"pull": true, "overlay": true, "userns": true, "netns": true}
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(filepath.Dir(path))
		top := strings.Split(pkg, "/")[0]
		for _, imp := range f.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			own := strings.TrimPrefix(p, module)
			isOwn := own != p
			ui := strings.Contains(p, "spf13/cobra") || strings.Contains(p, "charmbracelet/")
			switch {
			case ui && pkg != "cmd/den/cli":
				t.Errorf("%s imports %s: only cmd/den/cli may", path, p)
			case leaves[top] && isOwn:
				t.Errorf("%s (a leaf) imports den's %s", path, own)
			case top == "run" && isOwn && (strings.HasPrefix(own, "cmd") || own == "run" && pkg == "run/pid1"):
				t.Errorf("%s imports %s: imports flow cmd → run → leaves", path, own)
			case pkg == "run/pid1" && isOwn:
				t.Errorf("%s: the init imports no den package (%s)", path, own)
			case top == "internal" && isOwn && !strings.HasPrefix(own, "internal"):
				t.Errorf("%s: test helpers import only internal packages (%s)", path, own)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
