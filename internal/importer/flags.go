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

// parsedFlags holds the last value given for each flag, in kingpin's
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
// without one is an error.
func parseFlags(args []string, known map[string]flagKind) (parsedFlags, error) {
	p := parsedFlags{values: map[string]string{}}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if !strings.HasPrefix(arg, "-") {
			return p, fmt.Errorf("argument %q is not a flag", arg)
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		kind, ok := known[name]
		if !ok {
			if base, negated := strings.CutPrefix(name, "no-"); negated && known[base] == flagBool && !hasValue {
				p.values[base] = "false"
				continue
			}
			p.unknown = append(p.unknown, "--"+name)
			if !hasValue && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				i++ // its value
			}
			continue
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
