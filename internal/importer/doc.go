// Package importer translates the configuration of other chaos tools into a
// chaosd config: Chaos Toolkit experiments, chaoskube flags, kube-monkey
// settings and Chaos Mesh objects.
//
// Every translation runs the same pipeline:
//   - decode the foreign input (files, flags, env, labels);
//   - map each construct onto a draft of the chaosd config, recording a
//     named Warning for anything that cannot be mapped faithfully and a
//     Note for what chaosd does differently on purpose (automatic revert,
//     a default schedule);
//   - render the draft as YAML with comments and check it with config.Parse,
//     so every Result is a config chaosd accepts as it is.
//
// Nothing is ever dropped silently. A filter that narrows the targets and
// has no chaosd equivalent (a pod-name regex, an annotation selector)
// disables the experiment rather than widening its blast radius.
//
// This package only reads bytes and strings handed to it: it never talks to
// a cluster, and reads the environment only through Options.LookupEnv.
package importer
