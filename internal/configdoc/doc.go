// Package configdoc generates docs/configuration.md, the reference of every
// config key, from the code that defines and checks the config:
//   - keys and their types come from walking config.Config by reflection
//     (koanf tags are the YAML keys);
//   - descriptions are the field and type doc comments, read by parsing
//     internal/config with go/parser and go/doc at generation time;
//   - allowed values are the typed constants of that package (target kinds,
//     action types, events, ...), and which action fields and target kinds
//     go together comes from config.ActionFields and config.TargetActions;
//   - defaults are not restated: they are read back from what config.Parse
//     fills in for probe configs, so a changed default changes the doc;
//   - examples come from config/full.yaml, then from a short list here for
//     keys that file does not use.
//
// A test regenerates the document and fails when the committed one differs,
// so the reference cannot drift from the code. This package only reads
// source files; it never changes the config package.
package configdoc

//go:generate go run ./gen -root ../.. -out ../../docs/configuration.md
