{{/* The release's base name: the release name, unless it lacks the chart's name. */}}
{{- define "meshguard.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "meshguard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "meshguard.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "meshguard.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "meshguard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "meshguard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "meshguard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "meshguard.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The webhook Service; the serving certificate is for its DNS names. */}}
{{- define "meshguard.serviceName" -}}
{{- printf "%s-webhook" (include "meshguard.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The Secret with the serving certificate (cert-manager's or the webhook's own). */}}
{{- define "meshguard.tlsSecretName" -}}
{{- printf "%s-webhook-tls" (include "meshguard.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The name of both webhook configurations. */}}
{{- define "meshguard.webhookConfigurationName" -}}
{{- include "meshguard.fullname" . -}}
{{- end -}}

{{/* The namespaceSelector of both webhooks: never kube-system nor the release's own namespace (a webhook that judges its own pods can lock itself out), never an opted-out namespace. */}}
{{- define "meshguard.namespaceSelector" -}}
matchExpressions:
  - key: kubernetes.io/metadata.name
    operator: NotIn
    values:
      {{- toYaml (uniq (concat (list "kube-system" .Release.Namespace) .Values.webhook.excludeNamespaces)) | nindent 6 }}
  - key: {{ .Values.webhook.optOutLabel }}
    operator: DoesNotExist
{{- end -}}

{{/* The client config of a webhook; path is "validate" or "mutate". Without cert-manager the caBundle already set by the webhook is kept across upgrades. */}}
{{- define "meshguard.clientConfig" -}}
service:
  name: {{ include "meshguard.serviceName" .root }}
  namespace: {{ .root.Release.Namespace }}
  path: /{{ .path }}
  port: {{ .root.Values.service.port }}
{{- if and (not .root.Values.certManager.enabled) .existing }}
{{- with (index .existing.webhooks 0).clientConfig.caBundle }}
caBundle: {{ . }}
{{- end }}
{{- end }}
{{- end -}}
