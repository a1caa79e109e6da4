{{/*
The name of every object. Fixed (not derived from the release name) because the cluster-scoped
objects (ClusterRole, ClusterKopfPeering) and the PEERING setting must agree, and one agent per
cluster is the design; nameOverride renames them all.
*/}}
{{- define "highpeaks-agent.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object: k8s/base's, plus Helm's. */}}
{{- define "highpeaks-agent.labels" -}}
app.kubernetes.io/name: {{ include "highpeaks-agent.name" . }}
app.kubernetes.io/part-of: highpeaks-devops-agent
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The pods' labels and the selector: as k8s/base, so a Deployment's selector never changes. */}}
{{- define "highpeaks-agent.selectorLabels" -}}
app.kubernetes.io/name: {{ include "highpeaks-agent.name" . }}
{{- end -}}

{{/* repository:tag, or repository:tag@digest when a digest pins it. */}}
{{- define "highpeaks-agent.image" -}}
{{- $image := printf "%s:%s" .Values.image.repository .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- $image = printf "%s@%s" $image .Values.image.digest -}}
{{- end -}}
{{- $image -}}
{{- end -}}

{{/* Where the Secrets' files are mounted, and each secret setting's file there. */}}
{{- define "highpeaks-agent.secretsDir" -}}/var/run/secrets/highpeaks-agent{{- end -}}
