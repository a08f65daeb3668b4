package oatk_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/oatk/oatk/go/oatk"
)

// findUp returns the first dir/rel from the package directory upwards.
func findUp(t *testing.T, rel string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		path := filepath.Join(dir, rel)
		if _, err := os.Stat(path); err == nil {
			return path
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no %s in any directory above the package", rel)
		}
		dir = parent
	}
}

// packageFiles parses the package's own (non-test) .go files.
func packageFiles(t *testing.T) []*ast.File {
	t.Helper()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name.Name != "oatk" {
			t.Fatalf("%s is package %s, not oatk", name, f.Name.Name)
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		t.Fatal("no .go files in the package directory")
	}
	return files
}

// declared is every function (`Func`) and method (`Type.Method`) the package declares.
func declared(files []*ast.File) map[string]bool {
	names := map[string]bool{}
	for _, f := range files {
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok {
				continue
			}
			if fn.Recv == nil || len(fn.Recv.List) == 0 {
				names[fn.Name.Name] = true
				continue
			}
			recv := fn.Recv.List[0].Type
			if star, ok := recv.(*ast.StarExpr); ok {
				recv = star.X
			}
			if ident, ok := recv.(*ast.Ident); ok {
				names[ident.Name+"."+fn.Name.Name] = true
			}
		}
	}
	return names
}

// Every core operation tests/parity.json names for Go exists in package oatk
// (null: the operation has no place in Go, and the table says why).
func TestFeatureParity(t *testing.T) {
	path := findUp(t, filepath.Join("tests", "parity.json"))
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var table struct {
		Operations []map[string]json.RawMessage `json:"operations"`
	}
	if err := json.Unmarshal(text, &table); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(table.Operations) == 0 {
		t.Fatalf("%s lists no operations", path)
	}
	have := declared(packageFiles(t))
	checked := 0
	for i, op := range table.Operations {
		var core string
		_ = json.Unmarshal(op["core"], &core)
		raw, ok := op["go"]
		if !ok {
			t.Errorf("%s: operation %d (%s) has no \"go\" column", path, i, core)
			continue
		}
		var name *string
		if err := json.Unmarshal(raw, &name); err != nil {
			t.Errorf("%s: %s: \"go\" is not a string or null: %v", path, core, err)
			continue
		}
		if name == nil {
			continue
		}
		checked++
		if !have[*name] {
			t.Errorf("%s: %s is missing from package oatk (want %s)", core, *name, describe(*name))
		}
	}
	t.Logf("%d operations of %s present in package oatk", checked, path)
}

func describe(name string) string {
	if typ, method, ok := strings.Cut(name, "."); ok {
		return "a method " + method + " on " + typ
	}
	return "a function " + name
}

// Every status liboatk has (core's error kinds, OK and PANIC) has a Status
// constant here: the constants' C names, read from the source, are exactly
// the names liboatk gives the numbers 0, 1, 2... up to the first unknown one.
func TestEveryStatusHasAConstant(t *testing.T) {
	var constants []string
	for _, f := range packageFiles(t) {
		ast.Inspect(f, func(n ast.Node) bool {
			spec, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			if typ, ok := spec.Type.(*ast.Ident); !ok || typ.Name != "Status" {
				return true
			}
			for _, value := range spec.Values {
				if sel, ok := value.(*ast.SelectorExpr); ok {
					constants = append(constants, sel.Sel.Name)
				}
			}
			return true
		})
	}
	var statuses []string
	for s := oatk.Status(0); s.Name() != "OATK_UNKNOWN_STATUS"; s++ {
		statuses = append(statuses, s.Name())
	}
	sort.Strings(constants)
	sort.Strings(statuses)
	if strings.Join(constants, " ") != strings.Join(statuses, " ") {
		t.Fatalf("Status constants for %v, liboatk has %v", constants, statuses)
	}
}
