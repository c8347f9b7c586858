package reach

import "strings"

// Answer is whether a fault can reach anything, and the facts behind it.
type Answer struct {
	// Reachable is false when no traffic, pod or workload can be affected.
	Reachable bool
	// Permanent marks a pod kill nothing will undo: a bare pod.
	Permanent bool
	// Reasons are the facts that decided Reachable, most decisive first.
	Reasons []string
	// Warnings are facts that may keep a reachable fault from landing, or
	// make it hit more than meant (the guard's own monitoring).
	Warnings []string
	// Evicts lists what a node drain will evict, as namespace/name.
	Evicts []string
}

// Summary is the answer in one line, for logs, plans and verdict reasons.
func (a Answer) Summary() string {
	word := "reachable"
	if !a.Reachable {
		word = "unreachable"
	}
	if a.Permanent {
		word += " (permanent)"
	}
	if len(a.Reasons) == 0 {
		return word
	}
	return word + ": " + strings.Join(a.Reasons, "; ")
}

func (a *Answer) reason(s string)  { a.Reasons = append(a.Reasons, s) }
func (a *Answer) warning(s string) { a.Warnings = append(a.Warnings, s) }
