package config

import (
	"encoding"
	"errors"
	"fmt"
	"os"
	"reflect"
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
	lines := indexLines(data)
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
	cfg.applyDefaults(func(path string) bool { _, ok := lines[path]; return ok })
	validate(cfg, errs)
	errs.dropRepeats(decodeErrs)
	if len(errs.List) > 0 {
		errs.sortByLine()
		return nil, errs
	}
	return cfg, nil
}

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
)

// durationNeedsUnitHook rejects bare numbers for durations: "jitter: 5"
// would otherwise silently mean five nanoseconds.
func durationNeedsUnitHook(from, to reflect.Type, data any) (any, error) {
	if to != durationType {
		return data, nil
	}
	switch data.(type) {
	case string:
		return data, nil
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

// cleanDecodeMessage rewrites mapstructure's Go-centric wording into the
// words a config author uses.
func cleanDecodeMessage(msg string) string {
	replacer := strings.NewReplacer(
		"expected type 'time.Duration'", "expected a duration like 30s",
		"expected type 'string'", "expected a string",
		"expected type 'int'", "expected a whole number",
		"expected type 'int64'", "expected a whole number",
		"expected type 'bool'", "expected true or false",
		"expected type 'float64'", "expected a number",
		"expected a map or struct, got \"slice\"", "expected a mapping, got a list",
		"source data must be an array or slice, got", "expected a list, got",
		"time: invalid duration", "invalid duration",
	)
	return replacer.Replace(msg)
}

// lineIndex maps key paths ("experiments[0].target.mode") to YAML lines.
type lineIndex map[string]int

// indexLines walks the YAML once to learn the line of every key, because
// koanf's parser keeps no positions. Unparseable YAML yields no index.
func indexLines(data []byte) lineIndex {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || len(root.Content) == 0 {
		return nil
	}
	idx := lineIndex{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				key := n.Content[i]
				p := joinPath(path, key.Value)
				idx[p] = key.Line
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				idx[p] = c.Line
				walk(c, p)
			}
		case yaml.AliasNode:
			if n.Alias != nil {
				walk(n.Alias, path)
			}
		}
	}
	walk(root.Content[0], "")
	return idx
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
