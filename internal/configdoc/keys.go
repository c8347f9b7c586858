package configdoc

import (
	"encoding"
	"reflect"
	"strings"
	"time"

	"github.com/chaosd/chaosd/internal/config"
)

// section is a YAML mapping of the config: the top level, a block such as
// guard.alertmanager, or the element of a list such as experiments[].
type section struct {
	path  string // "" for the top level
	typ   reflect.Type
	doc   string // the struct type's doc comment
	field string // doc of the field holding the block
	keys  []key
}

// key is one leaf: a value written in YAML.
type key struct {
	path  string
	name  string // the koanf tag
	field reflect.StructField
	owner string // Go type declaring the field
}

var (
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	durationType    = reflect.TypeFor[time.Duration]()
)

// mapKey stands for the user's name of a map entry in key paths.
const mapKey = "<name>"

// sections walks config.Config and returns its sections in document
// order: each block right after the block that holds it.
func sections() []section {
	var out []section
	walkStruct(reflect.TypeFor[config.Config](), "", "", &out)
	return out
}

func walkStruct(t reflect.Type, path, fieldDoc string, out *[]section) {
	i := len(*out)
	*out = append(*out, section{path: path, typ: t, field: fieldDoc})
	var children []func()
	for j := range t.NumField() {
		f := t.Field(j)
		tag := f.Tag.Get("koanf")
		if tag == "" || !f.IsExported() {
			continue
		}
		p := join(path, tag)
		ft := deref(f.Type)
		switch {
		case isLeaf(ft):
			(*out)[i].keys = append((*out)[i].keys, key{path: p, name: tag, field: f, owner: t.Name()})
		case ft.Kind() == reflect.Struct:
			children = append(children, func() { walkStruct(ft, p, fieldDocKey(t, f), out) })
		case ft.Kind() == reflect.Slice && deref(ft.Elem()).Kind() == reflect.Struct:
			children = append(children, func() { walkStruct(deref(ft.Elem()), p+"[]", fieldDocKey(t, f), out) })
		case ft.Kind() == reflect.Map && deref(ft.Elem()).Kind() == reflect.Struct:
			children = append(children, func() { walkStruct(deref(ft.Elem()), p+"."+mapKey, fieldDocKey(t, f), out) })
		}
	}
	for _, c := range children {
		c()
	}
}

func fieldDocKey(owner reflect.Type, f reflect.StructField) string {
	return owner.Name() + "." + f.Name
}

// isLeaf reports whether a type is written as one YAML value: a scalar,
// a value type that parses itself from text, or a list or map of those.
func isLeaf(t reflect.Type) bool {
	t = deref(t)
	if t == durationType || reflect.PointerTo(t).Implements(textUnmarshaler) {
		return true
	}
	switch t.Kind() {
	case reflect.Struct:
		return false
	case reflect.Slice, reflect.Map:
		return isLeaf(t.Elem())
	}
	return true
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// isTextType reports whether values of t are one of config's own text
// types (Mode, HourRange, ...), documented in their own section.
func isTextType(t reflect.Type) bool {
	return reflect.PointerTo(t).Implements(textUnmarshaler) && t.PkgPath() == reflect.TypeFor[config.Config]().PkgPath()
}

// parentPath is the section path of a key path.
func parentPath(p string) string {
	if i := strings.LastIndex(p, "."); i >= 0 {
		return p[:i]
	}
	return ""
}
