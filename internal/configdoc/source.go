package configdoc

import (
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// source is what the config package's comments and constants say.
type source struct {
	typeDocs  map[string]string   // "Guard" → its doc comment
	fieldDocs map[string]string   // "Guard.PollInterval" → its doc comment
	enums     map[string][]string // "TargetKind" → ["pod", "virtualservice", ...] in source order
}

// loadSource parses the non-test Go files of the config package in dir.
func loadSource(dir string) (*source, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, fmt.Errorf("list config sources: %w", err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read config source: %w", err)
		}
		f, err := parser.ParseFile(fset, p, data, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("parse config source: %w", err)
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no Go files in %s: is it internal/config?", dir)
	}
	pkg, err := doc.NewFromFiles(fset, files, "github.com/chaosd/chaosd/internal/config")
	if err != nil {
		return nil, fmt.Errorf("read config docs: %w", err)
	}
	src := &source{typeDocs: map[string]string{}, fieldDocs: map[string]string{}, enums: map[string][]string{}}
	for _, t := range pkg.Types {
		src.typeDocs[t.Name] = oneLine(t.Doc)
		for _, spec := range t.Decl.Specs {
			if ts, ok := spec.(*ast.TypeSpec); ok {
				src.addFields(t.Name, ts)
			}
		}
		for _, c := range t.Consts {
			src.addConsts(t.Name, c.Decl)
		}
	}
	return src, nil
}

func (s *source) addFields(typeName string, ts *ast.TypeSpec) {
	st, ok := ts.Type.(*ast.StructType)
	if !ok {
		return
	}
	for _, f := range st.Fields.List {
		text := f.Doc.Text()
		if text == "" {
			text = f.Comment.Text()
		}
		for _, n := range f.Names {
			s.fieldDocs[typeName+"."+n.Name] = oneLine(text)
		}
	}
}

// addConsts records string constants declared with the type, such as
// TargetPod TargetKind = "pod".
func (s *source) addConsts(typeName string, decl *ast.GenDecl) {
	for _, spec := range decl.Specs {
		vs, ok := spec.(*ast.ValueSpec)
		if !ok {
			continue
		}
		if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != typeName {
			continue
		}
		for _, v := range vs.Values {
			if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if val, err := strconv.Unquote(lit.Value); err == nil {
					s.enums[typeName] = append(s.enums[typeName], val)
				}
			}
		}
	}
}

// oneLine joins a doc comment's lines into one paragraph.
func oneLine(text string) string {
	return strings.Join(strings.Fields(text), " ")
}
