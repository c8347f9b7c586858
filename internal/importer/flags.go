package importer

import (
	"fmt"
	"strings"
)

// flagKind is how a command-line flag takes its value.
type flagKind int

const (
	flagValue flagKind = iota // --name=value or --name value
	flagBool                  // --name, --no-name, --name=false
)

// parsedFlags holds the value given for each flag, in kingpin's
// syntax, and the flags that are not in the table.
type parsedFlags struct {
	values  map[string]string
	unknown []string
}

func (p parsedFlags) get(name string) (string, bool) {
	v, ok := p.values[name]
	return v, ok
}

// parseFlags reads --name=value, --name value, --bool, --no-bool and
// --bool=false. A flag not in known is recorded as unknown (with the word
// after it, which is taken for its value); a known flag that takes a value
// without one is an error, and so is a flag given twice: chaoskube's
// kingpin v2.4.0 refuses to start then (app.go, setValues:
// `if _, ok := flagSet[clause.name]; ok { if v, ok := clause.value.(repeatableFlag);
// !ok || !v.IsCumulative() { return nil, fmt.Errorf("flag '%s' cannot be repeated", ...)`),
// and none of chaoskube's flags is cumulative. --no-x is the same flag as --x.
func parseFlags(args []string, known map[string]flagKind) (parsedFlags, error) {
	p := parsedFlags{values: map[string]string{}}
	seen := map[string]bool{}
	once := func(name string) error {
		if seen[name] {
			return fmt.Errorf("flag --%s is given twice; chaoskube refuses to start with \"flag '%s' cannot be repeated\"", name, name)
		}
		seen[name] = true
		return nil
	}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if !strings.HasPrefix(arg, "-") {
			return p, fmt.Errorf("argument %q is not a flag", arg)
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		kind, ok := known[name]
		if !ok {
			if base, negated := strings.CutPrefix(name, "no-"); negated && known[base] == flagBool && !hasValue {
				if err := once(base); err != nil {
					return p, err
				}
				p.values[base] = "false"
				continue
			}
			p.unknown = append(p.unknown, "--"+name)
			if !hasValue && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				i++ // its value
			}
			continue
		}
		if err := once(name); err != nil {
			return p, err
		}
		switch {
		case hasValue:
		case kind == flagBool:
			value = "true"
		case i+1 < len(args):
			i++
			value = args[i]
		default:
			return p, fmt.Errorf("flag --%s needs a value", name)
		}
		p.values[name] = value
	}
	return p, nil
}
