{{/* Names: <release> when it already contains the chart name, else <release>-<chart>; at most 63 characters. */}}
{{- define "harborport.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "harborport.fullname" -}}
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

{{- define "harborport.selectorLabels" -}}
app.kubernetes.io/name: {{ include "harborport.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "harborport.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "harborport.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "harborport.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "harborport.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret the chart creates for every credential group without an existingSecret. */}}
{{- define "harborport.secretName" -}}
{{- include "harborport.fullname" . -}}
{{- end -}}

{{- define "harborport.harborSecret" -}}
{{- default (include "harborport.secretName" .) .Values.harbor.existingSecret -}}
{{- end -}}
{{- define "harborport.portSecret" -}}
{{- default (include "harborport.secretName" .) .Values.port.existingSecret -}}
{{- end -}}
{{- define "harborport.webhookSecret" -}}
{{- default (include "harborport.secretName" .) .Values.webhook.existingSecret -}}
{{- end -}}

{{/* Whether the chart creates its Secret: some group has no existingSecret. */}}
{{- define "harborport.createSecret" -}}
{{- if or (not .Values.harbor.existingSecret) (not .Values.port.existingSecret) (and (not .Values.webhook.insecureNoAuth) (not .Values.webhook.existingSecret)) -}}
true
{{- end -}}
{{- end -}}

{{- define "harborport.mappingConfigMap" -}}
{{- default (printf "%s-mapping" (include "harborport.fullname" .)) .Values.mapping.existingConfigMap -}}
{{- end -}}

{{- define "harborport.scheme" -}}
{{- if .Values.tls.enabled -}}HTTPS{{- else -}}HTTP{{- end -}}
{{- end -}}

{{/*
Checks that stop helm install/template with a message saying what to set.
The listener repeats most of them at start, but a pod in CrashLoopBackOff is
a slower way to learn it.
*/}}
{{- define "harborport.validate" -}}
{{- if not .Values.image.repository -}}
{{- fail "image.repository is required: build the listener image from examples/listener/Dockerfile, push it to a registry the cluster can pull from, and set image.repository (and image.tag)" -}}
{{- end -}}
{{- if not .Values.harbor.url -}}
{{- fail "harbor.url is required: Harbor's base URL as the listener reaches it, e.g. https://harbor.example.com (without /api/v2.0)" -}}
{{- end -}}
{{- if not (or (hasPrefix "https://" .Values.harbor.url) (hasPrefix "http://" .Values.harbor.url)) -}}
{{- fail (printf "harbor.url %q is not an http(s) URL like https://harbor.example.com" .Values.harbor.url) -}}
{{- end -}}
{{- if and (not .Values.harbor.existingSecret) (not (and .Values.harbor.username .Values.harbor.password)) -}}
{{- fail "Harbor credentials are missing: set harbor.existingSecret to a Secret with the keys harbor.usernameKey and harbor.passwordKey, or set harbor.username and harbor.password" -}}
{{- end -}}
{{- if and (not .Values.port.existingSecret) (not (and .Values.port.clientId .Values.port.clientSecret)) -}}
{{- fail "Port credentials are missing: set port.existingSecret to a Secret with the keys port.clientIdKey and port.clientSecretKey, or set port.clientId and port.clientSecret (Port: Settings, Credentials)" -}}
{{- end -}}
{{- if and .Values.harbor.existingSecret (or .Values.harbor.username .Values.harbor.password) -}}
{{- fail "harbor.existingSecret and harbor.username/password are both set: with an existing Secret, put the credentials in it" -}}
{{- end -}}
{{- if and .Values.port.existingSecret (or .Values.port.clientId .Values.port.clientSecret) -}}
{{- fail "port.existingSecret and port.clientId/clientSecret are both set: with an existing Secret, put the credentials in it" -}}
{{- end -}}
{{- if .Values.webhook.insecureNoAuth -}}
{{- if or .Values.webhook.secret .Values.webhook.previousSecret .Values.webhook.existingSecret -}}
{{- fail "webhook.insecureNoAuth and a webhook secret are both set; drop one" -}}
{{- end -}}
{{- else if and (not .Values.webhook.existingSecret) (not .Values.webhook.secret) -}}
{{- fail "the webhook secret is missing: set webhook.secret to harborport_webhook's secret (or secret_wo), or webhook.existingSecret to a Secret holding it under webhook.secretKey" -}}
{{- end -}}
{{- if and .Values.webhook.previousSecret (eq .Values.webhook.previousSecret .Values.webhook.secret) -}}
{{- fail "webhook.previousSecret equals webhook.secret: during a rotation the new value goes in webhook.secret and the old one in webhook.previousSecret" -}}
{{- end -}}
{{- if and .Values.webhook.existingSecret (or .Values.webhook.secret .Values.webhook.previousSecret) -}}
{{- fail "webhook.existingSecret and webhook.secret/previousSecret are both set: with an existing Secret, put the values in it" -}}
{{- end -}}
{{- if and .Values.mapping.inline .Values.mapping.existingConfigMap -}}
{{- fail "mapping.inline and mapping.existingConfigMap are both set; keep one" -}}
{{- end -}}
{{- if and .Values.tls.enabled (not .Values.tls.secretName) -}}
{{- fail "tls.enabled needs tls.secretName: a kubernetes.io/tls Secret with tls.crt and tls.key" -}}
{{- end -}}
{{- if and .Values.ingress.enabled (not .Values.ingress.host) -}}
{{- fail "ingress.enabled needs ingress.host: the name Harbor reaches the listener by" -}}
{{- end -}}
{{- end -}}
