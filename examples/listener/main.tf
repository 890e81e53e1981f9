# Wiring Harbor's webhooks to the listener installed with the Helm chart in
# helm/ (`helm install harborport-listener examples/listener/helm -n harborport`):
# harborport_webhook points every project's policy at the chart's Service.
# The listener can run elsewhere too (Dockerfile, kubernetes/, systemd/):
# then set listener_url to where Harbor reaches it.

variable "helm_release" {
  description = "The Helm release name of the listener; the chart's Service has this name."
  type        = string
  default     = "harborport-listener"
}

variable "helm_namespace" {
  description = "The namespace the chart is installed in."
  type        = string
  default     = "harborport"
}

variable "listener_url" {
  description = "Base URL of the listener as Harbor reaches it, when Harbor runs outside the cluster (the chart's ingress.host, or a LoadBalancer); null: the chart's Service."
  type        = string
  default     = null
}

# Ephemeral (Terraform >= 1.10) and passed to a write-only attribute
# (Terraform >= 1.11): the value is in neither the state nor a saved plan.
# Give it with TF_VAR_webhook_secret at plan and at apply.
variable "webhook_secret" {
  description = "Shared secret: Harbor sends it as the Authorization header; the chart's webhook secret (HARBORPORT_WEBHOOK_SECRET) must equal it."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "webhook_secret_version" {
  description = "Increment it when webhook_secret changes, so apply writes the new value into Harbor's policies."
  type        = number
  default     = 1
}

locals {
  # The Service the chart creates: http://<release>.<namespace>.svc:80, reachable from a Harbor in the same cluster.
  service_endpoint = "http://${var.helm_release}.${var.helm_namespace}.svc:80/integration/webhook"
  endpoint         = var.listener_url == null ? local.service_endpoint : "${trimsuffix(var.listener_url, "/")}/integration/webhook"
}

resource "harborport_blueprints" "harbor" {}

resource "harborport_sync" "harbor" {
  blueprints = harborport_blueprints.harbor.identifiers
}

resource "harborport_webhook" "listener" {
  endpoint          = local.endpoint
  secret_wo         = var.webhook_secret
  secret_wo_version = var.webhook_secret_version
  # projects = ["platform", "payments"]   # default: every project, new ones picked up by plan
  depends_on = [harborport_sync.harbor]
}

output "webhook_endpoint" {
  value = harborport_webhook.listener.endpoint
}
