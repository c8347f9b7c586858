// Package helm tests the Helm chart in charts/chaosd with the real helm
// binary: golden renders of its main variants, its values schema, and the
// promises the chart makes (the container's CLI contract, RBAC without
// wildcards, config rendered verbatim and mounted for hot reload, every value
// documented). It renders only and never talks to a cluster; installing the
// chart into one is the e2e suite's job.
package helm
