{{/*
chaosd.targetRules: what chaosd needs in a namespace it targets. Shared by the
ClusterRole (cluster scope) and each per-namespace Role (namespaced scope).
No wildcards: every verb is one an experiment, a guard or a revert uses.
*/}}
{{- define "chaosd.targetRules" -}}
# pod-kill (delete, or evict through the Eviction API so PDBs apply).
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch, delete]
- apiGroups: [""]
  resources: [pods/eviction]
  verbs: [create]
# http-abort, http-delay, http-fault: patch a fault into a VirtualService and back out.
- apiGroups: [networking.istio.io]
  resources: [virtualservices]
  verbs: [get, list, watch, patch, update]
# Reach, checked before a VirtualService fault: the Services and ServiceEntries
# that serve its hosts, the Gateways it is bound to, HTTPRoutes on the same
# Service. Read only.
- apiGroups: [""]
  resources: [services]
  verbs: [get, list]
- apiGroups: [networking.istio.io]
  resources: [serviceentries, gateways]
  verbs: [get, list]
- apiGroups: [gateway.networking.k8s.io]
  resources: [httproutes]
  verbs: [get, list]
# Blast radius: respect PDBs, count unavailable replicas per workload.
- apiGroups: [policy]
  resources: [poddisruptionbudgets]
  verbs: [get, list, watch]
- apiGroups: [apps]
  resources: [deployments, statefulsets, replicasets, daemonsets]
  verbs: [get, list, watch]
# An Event on every target chaosd touches.
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create, patch]
{{- end }}

{{/*
chaosd.clusterRules: what only a cluster-scoped chaosd can do.
*/}}
{{- define "chaosd.clusterRules" -}}
# node-cordon, node-drain and zone outages patch spec.unschedulable.
- apiGroups: [""]
  resources: [nodes]
  verbs: [get, list, watch, patch, update]
{{- if .Values.rbac.nodeExperiments }}
# node-delete deletes a Node and re-creates it from its snapshot (restore).
- apiGroups: [""]
  resources: [nodes]
  verbs: [delete, create]
{{- end }}
# namespaceSelector, opt-in labels and policies on namespaces.
- apiGroups: [""]
  resources: [namespaces]
  verbs: [get, list, watch]
{{- end }}
