package configdoc

import (
	"reflect"
	"regexp"
	"strings"
)

// qualifiedRef matches a Go reference such as Config.Timezone in a comment.
var qualifiedRef = regexp.MustCompile(`\b([A-Z][A-Za-z]*)\.([A-Z][A-Za-z]*)\b`)

// prose rewrites a doc comment of struct type owner for YAML authors: Go
// field names become their keys (`unknownAfter`), a reference to another
// struct's field becomes its key path, and the struct's own name its path.
func (g *gen) prose(owner reflect.Type, text string) string {
	text = qualifiedRef.ReplaceAllStringFunc(text, func(ref string) string {
		m := qualifiedRef.FindStringSubmatch(ref)
		if path, ok := g.keyPath(m[1], m[2]); ok {
			if !strings.Contains(path, ".") {
				return "top-level `" + path + "`"
			}
			return "`" + path + "`"
		}
		return ref
	})
	for i := range owner.NumField() {
		f := owner.Field(i)
		tag := f.Tag.Get("koanf")
		if tag == "" || strings.ToUpper(f.Name) == f.Name {
			continue // acronyms (URL) are words in prose, not references
		}
		text = regexp.MustCompile(`(^|\.\.|[^.\w`+"`"+`])`+f.Name+`\b`).ReplaceAllString(text, "${1}`"+tag+"`")
	}
	if path := g.sectionPath(owner.Name()); path != "" {
		text = regexp.MustCompile(`\b`+owner.Name()+`\b`).ReplaceAllString(text, "`"+path+"`")
	}
	return text
}

// keyPath is the key path of field of the struct type named typeName.
func (g *gen) keyPath(typeName, field string) (string, bool) {
	for _, s := range g.secs {
		if s.typ.Name() != typeName {
			continue
		}
		f, ok := s.typ.FieldByName(field)
		if tag := f.Tag.Get("koanf"); ok && tag != "" {
			return join(s.path, tag), true
		}
	}
	return "", false
}

func (g *gen) sectionPath(typeName string) string {
	for _, s := range g.secs {
		if s.typ.Name() == typeName {
			return s.path
		}
	}
	return ""
}
