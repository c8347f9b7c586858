package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// FieldError is one problem in a config file, located by key path and line.
type FieldError struct {
	Path string // e.g. experiments[0].target.mode; empty for the whole file
	Line int    // 1-based; 0 when unknown
	Msg  string
}

// Errors lists every problem found in one config file. Callers print it
// whole: a config author fixes them all in one pass.
type Errors struct {
	File  string
	List  []*FieldError
	lines lineIndex
}

func (e *Errors) add(path, format string, args ...any) {
	e.List = append(e.List, &FieldError{Path: path, Line: e.lines.lineFor(path), Msg: fmt.Sprintf(format, args...)})
}

// dropRepeats removes problems after the first n whose path (or a parent of
// it) already has one of the first n problems.
func (e *Errors) dropRepeats(n int) {
	if n == 0 {
		return
	}
	kept := e.List[:n]
	for _, fe := range e.List[n:] {
		repeat := false
		for _, first := range e.List[:n] {
			if first.Path != "" && (fe.Path == first.Path || strings.HasPrefix(fe.Path, first.Path+".") || strings.HasPrefix(fe.Path, first.Path+"[")) {
				repeat = true
				break
			}
		}
		if !repeat {
			kept = append(kept, fe)
		}
	}
	e.List = kept
}

// sortByLine orders problems as they appear in the file; problems without a
// line (whole-file ones) come first. Problems on one line (flow-style YAML)
// are ordered by path, so the output never depends on map iteration order.
func (e *Errors) sortByLine() {
	slices.SortStableFunc(e.List, func(a, b *FieldError) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Path, b.Path))
	})
}

// Error renders one line per problem as FILE:LINE: PATH: MESSAGE.
func (e *Errors) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problem(s) in config", e.File, len(e.List))
	for _, fe := range e.List {
		b.WriteString("\n  ")
		b.WriteString(e.format(fe))
	}
	return b.String()
}

func (e *Errors) format(fe *FieldError) string {
	loc := e.File
	if fe.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, fe.Line)
	}
	if fe.Path == "" {
		return fmt.Sprintf("%s: %s", loc, fe.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", loc, fe.Path, fe.Msg)
}

// Messages returns each problem as "PATH: MESSAGE", without file and line;
// handy for tests and for Kubernetes Events, which have little room.
func (e *Errors) Messages() []string {
	out := make([]string, len(e.List))
	for i, fe := range e.List {
		out[i] = fe.Path + ": " + fe.Msg
		if fe.Path == "" {
			out[i] = fe.Msg
		}
	}
	return out
}
