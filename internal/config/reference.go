package config

import "slices"

// Read-only views of the validation tables, for generated documentation and
// importers. They return copies: callers can never change what validation
// enforces.

// ActionFields returns the optional action fields (YAML keys under action)
// that an action type reads; validation rejects the others. It returns nil
// for an unknown type.
func ActionFields(t ActionType) []string {
	fields, ok := actionUses[t]
	if !ok {
		return nil
	}
	return append([]string{}, fields...)
}

// TargetActions returns the action types that may be aimed at a target kind,
// or nil for an unknown kind.
func TargetActions(k TargetKind) []ActionType {
	return slices.Clone(targetActions[k])
}
