package aerostack_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aerostack/aerostack-sdk/go/internal/apiref"
)

// API.md is generated (go run ./tools/genref) and current.
func TestAPIReferenceIsCurrent(t *testing.T) {
	root, err := apiref.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	if err := apiref.Check(root); err != nil {
		t.Fatal(err)
	}
}

// API.md lists every exported function and every exported method of an exported type, under its
// package and type (read here with go/parser, independently of the generator).
func TestAPIReferenceListsEveryExportedMethod(t *testing.T) {
	root, err := apiref.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := os.ReadFile(filepath.Join(root, apiref.OutFile))
	if err != nil {
		t.Fatal(err)
	}
	pkgs := map[string]string{} // package name -> its part of API.md
	for _, part := range strings.Split(string(ref), "\n## package ")[1:] {
		name, _, _ := strings.Cut(part, "\n")
		pkgs[name] = part
	}
	typeSection := func(pkg, typ string) string {
		part := pkgs[pkg]
		i := strings.Index(part, "\n### type `"+typ+"`\n")
		if i < 0 {
			return ""
		}
		rest := part[i+1:]
		if j := strings.Index(rest[1:], "\n### "); j >= 0 {
			return rest[:j+1]
		}
		return rest
	}
	var missing []string
	checked := 0
	for _, rel := range apiref.Packages {
		fset := token.NewFileSet()
		files, _ := filepath.Glob(filepath.Join(root, rel, "*.go"))
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			pkg := f.Name.Name
			if pkgs[pkg] == "" {
				t.Fatalf("API.md has no section for package %s", pkg)
			}
			for _, d := range f.Decls {
				fn, ok := d.(*ast.FuncDecl)
				if !ok || !fn.Name.IsExported() {
					continue
				}
				if fn.Recv == nil {
					checked++
					if !regexp.MustCompile("`func " + fn.Name.Name + `(\[.*?\])?\(`).MatchString(pkgs[pkg]) {
						missing = append(missing, pkg+"."+fn.Name.Name)
					}
					continue
				}
				typ := fn.Recv.List[0].Type
				if s, ok := typ.(*ast.StarExpr); ok {
					typ = s.X
				}
				if g, ok := typ.(*ast.IndexExpr); ok {
					typ = g.X
				}
				id, ok := typ.(*ast.Ident)
				if !ok || !id.IsExported() {
					continue
				}
				checked++
				if !strings.Contains(typeSection(pkg, id.Name), ") "+fn.Name.Name+"(") {
					missing = append(missing, pkg+"."+id.Name+"."+fn.Name.Name)
				}
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d exported functions and methods found: the parse is wrong", checked)
	}
	if len(missing) > 0 {
		t.Fatalf("missing from API.md (run `go run ./tools/genref` in go/): %s", strings.Join(missing, ", "))
	}
}
