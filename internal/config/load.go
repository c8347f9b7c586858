package config

import (
	"encoding"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	koanfyaml "github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/rawbytes"
	"github.com/knadh/koanf/v2"
	"go.yaml.in/yaml/v3"
)

// LoadFile reads, decodes, defaults and validates a config file. The error,
// if any, is an *Errors listing every problem with its key path and line.
func LoadFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes, defaults and validates config bytes; name is used in errors.
// It never panics on any input (a fuzz test holds it to that).
func Parse(name string, data []byte) (cfg *Config, err error) {
	defer func() {
		if r := recover(); r != nil {
			cfg, err = nil, &Errors{File: name, List: []*FieldError{{Msg: fmt.Sprintf("internal error while parsing: %v", r)}}}
		}
	}()
	lines, nulls := indexLines(data)
	errs := &Errors{File: name, lines: lines}

	k := koanf.NewWithConf(koanf.Conf{Delim: "\x00", StrictMerge: true})
	if err := k.Load(rawbytes.Provider(data), koanfyaml.Parser()); err != nil {
		errs.add("", "%s", strings.TrimPrefix(err.Error(), "yaml: "))
		return nil, errs
	}
	cfg = &Config{}
	if err := k.UnmarshalWithConf("", cfg, koanf.UnmarshalConf{DecoderConfig: decoderConfig(cfg)}); err != nil {
		collectDecodeErrors(errs, err)
	}
	// Validate what did decode too, so one pass reports every problem; a key
	// that failed to decode is not reported a second time.
	decodeErrs := len(errs.List)
	// A key left empty ("cooldown:") gets its default, like a missing one,
	// not the zero value: an empty cooldown must not mean no cooldown.
	cfg.applyDefaults(func(path string) bool { _, ok := lines[path]; return ok && !nulls[path] })
	validate(cfg, errs)
	errs.dropRepeats(decodeErrs)
	if len(errs.List) > 0 {
		errs.sortByLine()
		return nil, errs
	}
	cfg.hash, cfg.file, cfg.lines = contentHash(data), name, lines
	return cfg, nil
}

// Hash identifies the config's source bytes (SHA-256, hex), so journals and
// the status page can name the snapshot a run used.
func (c *Config) Hash() string { return c.hash }

// decoderConfig is strict: unknown keys and wrong types are errors. Strict
// mode drops koanf's default hooks, so the duration and text hooks are added
// back, plus one that lets YAML scalars (false, 3) reach text unmarshalers.
func decoderConfig(out *Config) *mapstructure.DecoderConfig {
	return &mapstructure.DecoderConfig{
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			scalarToTextHook,
			durationNeedsUnitHook,
			mapstructure.StringToTimeDurationHookFunc(),
			mapstructure.TextUnmarshallerHookFunc(),
		),
		ErrorUnused:      true,
		WeaklyTypedInput: false,
		TagName:          "koanf",
		Result:           out,
	}
}

var (
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	durationType    = reflect.TypeFor[time.Duration]()
	rootTypeName    = reflect.TypeFor[Config]().String()
)

// durationNeedsUnitHook rejects bare numbers for durations: "jitter: 5"
// would otherwise silently mean five nanoseconds. It parses strings itself
// because mapstructure's hook drops the offending value from its error.
func durationNeedsUnitHook(from, to reflect.Type, data any) (any, error) {
	if to != durationType {
		return data, nil
	}
	switch v := data.(type) {
	case string:
		d, err := time.ParseDuration(v)
		if err != nil {
			return nil, fmt.Errorf("invalid duration %q, expected a number with a unit like 30s", v)
		}
		return d, nil
	case int, int64, uint64, float64:
		return nil, fmt.Errorf("expected a duration with a unit like 30s, got %v", data)
	}
	return data, nil
}

// scalarToTextHook turns a YAML bool or number into its text when the target
// type parses itself from text (paused: false, maxUnavailablePerWorkload: 1).
func scalarToTextHook(from, to reflect.Type, data any) (any, error) {
	if !reflect.PointerTo(to).Implements(textUnmarshaler) {
		return data, nil
	}
	switch v := data.(type) {
	case bool:
		return strconv.FormatBool(v), nil
	case int, int64, uint64, float64:
		return fmt.Sprint(v), nil
	}
	return data, nil
}

// collectDecodeErrors splits mapstructure's joined error into one FieldError
// per key path.
func collectDecodeErrors(errs *Errors, err error) {
	var leaves []error
	var walk func(error)
	walk = func(e error) {
		switch w := e.(type) {
		case *mapstructure.DecodeError:
			leaves = append(leaves, e)
		case interface{ Unwrap() []error }:
			for _, c := range w.Unwrap() {
				walk(c)
			}
		case interface{ Unwrap() error }:
			walk(w.Unwrap())
		default:
			leaves = append(leaves, e)
		}
	}
	walk(err)
	for _, leaf := range leaves {
		var de *mapstructure.DecodeError
		if !errors.As(leaf, &de) {
			errs.add("", "%s", leaf.Error())
			continue
		}
		path := normalizePath(de.Name())
		if path == rootTypeName {
			// mapstructure names the root struct by its Go type.
			path = ""
		}
		msg := de.Unwrap().Error()
		if unknown, ok := strings.CutPrefix(msg, "has invalid keys: "); ok {
			for _, key := range strings.Split(unknown, ", ") {
				errs.add(joinPath(path, key), "unknown key")
			}
			continue
		}
		errs.add(path, "%s", cleanDecodeMessage(msg))
	}
}

// normalizePath turns mapstructure's "policies[default].minPodAge" into the
// key path users write: "policies.default.minPodAge".
func normalizePath(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		if name[i] != '[' {
			b.WriteByte(name[i])
			continue
		}
		end := strings.IndexByte(name[i:], ']')
		if end < 0 {
			b.WriteString(name[i:])
			break
		}
		inner := name[i+1 : i+end]
		if _, err := strconv.Atoi(inner); err == nil {
			b.WriteString(name[i : i+end+1])
		} else {
			b.WriteString("." + inner)
		}
		i += end
	}
	return b.String()
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// cleanDecodeMessage rewrites mapstructure's Go-centric wording ("expected
// type 'int', got unconvertible type '[]interface {}'") into the words a
// config author uses ("expected a whole number, got a list").
func cleanDecodeMessage(msg string) string {
	msg = goTypeRe.ReplaceAllStringFunc(msg, func(m string) string {
		sub := goTypeRe.FindStringSubmatch(m)
		if sub[1] == "expected type" {
			return "expected " + typeWord(sub[2])
		}
		return "got " + gotWord(sub[2])
	})
	msg = kindRe.ReplaceAllStringFunc(msg, func(m string) string {
		sub := kindRe.FindStringSubmatch(m)
		want := "a mapping"
		if strings.HasPrefix(sub[1], "source") {
			want = "a list"
		}
		return "expected " + want + ", got " + gotWord(sub[2])
	})
	return msg
}

var (
	goTypeRe = regexp.MustCompile(`(expected type|got unconvertible type) '([^']*)'`)
	kindRe   = regexp.MustCompile(`(expected a map or struct|source data must be an array or slice), got "?(\w+)"?`)
)

func gotWord(t string) string {
	if t == "bool" {
		return "a boolean"
	}
	return typeWord(t)
}

// typeWord names a Go type or reflect.Kind the way YAML authors think of it.
func typeWord(t string) string {
	switch {
	case t == "time.Duration":
		return "a duration like 30s"
	case t == "string":
		return "a string"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint"):
		return "a whole number"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case strings.HasPrefix(t, "map") || t == "struct":
		return "a mapping"
	case strings.HasPrefix(t, "[]") || t == "slice" || t == "array":
		return "a list"
	}
	return t
}

// lineIndex maps key paths ("experiments[0].target.mode") to YAML lines.
type lineIndex map[string]int

// maxIndexedNodes bounds the work indexLines does: aliases can make a small
// document expand exponentially ("billion laughs"). Past it, lines are
// missing, which only makes error locations less precise.
const maxIndexedNodes = 100_000

// indexLines walks the YAML once to learn the line of every key, because
// koanf's parser keeps no positions, and which keys have a null value.
// Unparseable YAML yields no index. Aliases are followed (so keys under them
// count as present), except into an anchor that is still being walked,
// which would never end.
func indexLines(data []byte) (idx lineIndex, nulls map[string]bool) {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || len(root.Content) == 0 {
		return nil, nil
	}
	idx, nulls = lineIndex{}, map[string]bool{}
	expanding := map[*yaml.Node]bool{}
	visited := 0
	// merged entries come from a "<<" merge key and never replace a key
	// written in the mapping itself.
	var walk func(n *yaml.Node, path string, merged bool)
	set := func(p string, line int, merged bool) {
		if _, ok := idx[p]; !ok || !merged {
			idx[p] = line
		}
	}
	walk = func(n *yaml.Node, path string, merged bool) {
		if visited++; visited > maxIndexedNodes {
			return
		}
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				key, val := n.Content[i], n.Content[i+1]
				if key.Value == "<<" && key.Tag == "!!merge" {
					walkMerge(val, path, walk)
					continue
				}
				p := joinPath(path, key.Value)
				set(p, key.Line, merged)
				if !merged { // a key written in the mapping wins over merged ones
					nulls[p] = val.Kind == yaml.ScalarNode && val.Tag == "!!null"
				}
				walk(val, p, merged)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				set(p, c.Line, merged)
				walk(c, p, merged)
			}
		case yaml.AliasNode:
			if n.Alias != nil && !expanding[n.Alias] {
				expanding[n.Alias] = true
				walk(n.Alias, path, merged)
				delete(expanding, n.Alias)
			}
		}
	}
	walk(root.Content[0], "", false)
	return idx, nulls
}

// walkMerge indexes the value of a "<<" merge key (a mapping, an alias of
// one, or a list of those) as keys of the enclosing mapping.
func walkMerge(val *yaml.Node, path string, walk func(*yaml.Node, string, bool)) {
	if val.Kind == yaml.SequenceNode {
		for _, c := range val.Content {
			walk(c, path, true)
		}
		return
	}
	walk(val, path, true)
}

// lineFor finds the line of path or of its nearest parent that has one.
func (idx lineIndex) lineFor(path string) int {
	for p := path; p != ""; {
		if l, ok := idx[p]; ok {
			return l
		}
		cut := strings.LastIndexAny(p, ".[")
		if cut <= 0 {
			break
		}
		p = p[:cut]
	}
	return 0
}
