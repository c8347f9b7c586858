{{/* Names */}}

{{- define "chaosd.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name, truncated to 63 characters (DNS label limit). Also
the name of the leader-election Lease.
*/}}
{{- define "chaosd.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "chaosd.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "chaosd.selectorLabels" -}}
app.kubernetes.io/name: {{ include "chaosd.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "chaosd.labels" -}}
helm.sh/chart: {{ include "chaosd.chart" . }}
{{ include "chaosd.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: chaosd
{{- end }}

{{- define "chaosd.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "chaosd.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The ConfigMap holding config.yaml: chaosd's --configmap. */}}
{{- define "chaosd.configMapName" -}}
{{- .Values.existingConfigMap | default (printf "%s-config" (include "chaosd.fullname" .)) }}
{{- end }}

{{- define "chaosd.secretName" -}}
{{- .Values.existingSecret | default (include "chaosd.fullname" .) }}
{{- end }}

{{- define "chaosd.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{- define "chaosd.leaderElect" -}}
{{- or (gt (int .Values.replicaCount) 1) .Values.leaderElection.enabled }}
{{- end }}

{{- define "chaosd.namespaced" -}}
{{- eq .Values.rbac.scope "namespaced" }}
{{- end }}

{{/*
chaosd.validate fails the render on value combinations the schema cannot
express, or that would only surface at run time as a Forbidden error in the
middle of a run. Checks on experiments apply only to a config rendered from
values (an existingConfigMap is chaosd's to validate).
*/}}
{{- define "chaosd.validate" -}}
{{- $namespaced := eq (include "chaosd.namespaced" .) "true" }}
{{- if and $namespaced (empty .Values.rbac.namespaces) }}
{{- fail "rbac.namespaces: must list at least one namespace when rbac.scope is namespaced" }}
{{- end }}
{{- if and (not .Values.existingConfigMap) (not .Values.config) }}
{{- fail "config: is empty; give chaosd a config, or name an existingConfigMap" }}
{{- end }}
{{- if and (not .Values.existingConfigMap) (kindIs "map" .Values.config) }}
{{- include "chaosd.checkBoolKeys" (dict "path" "config" "value" .Values.config) }}
{{- $guard := .Values.config.guard | default dict }}
{{- if not (or $guard.alertmanager $guard.prometheus $guard.unguarded) }}
{{- fail "config.guard: neither alertmanager nor prometheus is set, so every run would pass unjudged; configure one, or set config.guard.unguarded: true to run without a guard" }}
{{- end }}
{{- range $i, $e := .Values.config.experiments | default list }}
{{- $kind := dig "target" "kind" "" $e }}
{{- $action := dig "action" "type" "" $e }}
{{- $name := dig "name" "" $e }}
{{- if and $namespaced (has $kind (list "node" "zone")) }}
{{- fail (printf "config.experiments[%d] (%s): target kind %s needs cluster-wide access to nodes; it cannot run with rbac.scope=namespaced" $i $name $kind) }}
{{- end }}
{{- if and $namespaced (has $kind (list "pod" "virtualservice")) }}
{{- if empty (dig "target" "namespaces" (list) $e) }}
{{- fail (printf "config.experiments[%d] (%s): target kind %s needs target.namespaces with rbac.scope=namespaced, listing some of rbac.namespaces" $i $name $kind) }}
{{- end }}
{{- if dig "target" "namespaceSelector" "" $e }}
{{- fail (printf "config.experiments[%d] (%s): target.namespaceSelector cannot be used with rbac.scope=namespaced: a Role cannot read Namespace objects; list target.namespaces instead" $i $name) }}
{{- end }}
{{- range $j, $ns := dig "target" "namespaces" (list) $e }}
{{- if not (has $ns $.Values.rbac.namespaces) }}
{{- fail (printf "config.experiments[%d] (%s): target namespace %q is not in rbac.namespaces, so chaosd has no access to it" $i $name $ns) }}
{{- end }}
{{- end }}
{{- end }}
{{- if and (eq $action "node-delete") (not $.Values.rbac.nodeExperiments) $.Values.rbac.create }}
{{- fail (printf "config.experiments[%d] (%s): node-delete needs rbac.nodeExperiments=true (delete and create on nodes)" $i $name) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
chaosd.checkBoolKeys fails on map keys that Helm's YAML 1.1 parser turned
into booleans: `on: [weakness]` in a values file reaches the template as
"true": [weakness]. chaosd has no key named true or false, so such a key is
always this mistake, and chaosd would reject the config at reload.
*/}}
{{- define "chaosd.checkBoolKeys" -}}
{{- $path := .path }}
{{- if kindIs "map" .value }}
{{- range $k, $v := .value }}
{{- if has $k (list "true" "false") }}
{{- fail (printf "%s: key %q is what Helm (YAML 1.1) makes of an unquoted on, off, yes, no, true or false; quote the key, e.g. \"on\": [weakness, error]" $path $k) }}
{{- end }}
{{- include "chaosd.checkBoolKeys" (dict "path" (printf "%s.%s" $path $k) "value" $v) }}
{{- end }}
{{- else if kindIs "slice" .value }}
{{- range $i, $v := .value }}
{{- include "chaosd.checkBoolKeys" (dict "path" (printf "%s[%d]" $path $i) "value" $v) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
chaosd.dryRunOff is "true" when the rendered config can change the cluster:
dryRun is false (chaosd's default when the key is absent) or an experiment
overrides it with dryRun: false.
*/}}
{{- define "chaosd.dryRunOff" -}}
{{- $off := false }}
{{- if kindIs "map" .Values.config }}
{{- if not .Values.config.dryRun }}
{{- $off = true }}
{{- end }}
{{- range .Values.config.experiments | default list }}
{{- if and (hasKey . "dryRun") (not .dryRun) (not .disabled) }}
{{- $off = true }}
{{- end }}
{{- end }}
{{- end }}
{{- $off }}
{{- end }}
