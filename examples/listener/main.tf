# Wiring Harbor's webhooks to the listener. The listener runs elsewhere
# (kubernetes/listener.yaml, systemd/, or the Dockerfile); Harbor must be able
# to reach var.listener_url.
variable "listener_url" {
  description = "URL of the harborport listener as Harbor reaches it, e.g. https://harborport.internal.example.com"
  type        = string
}

variable "webhook_secret" {
  description = "Shared secret: Harbor sends it as the Authorization header; the listener's HARBORPORT_WEBHOOK_SECRET must equal it."
  type        = string
  sensitive   = true
}

resource "harborport_blueprints" "harbor" {}

resource "harborport_sync" "harbor" {
  blueprints = harborport_blueprints.harbor.identifiers
}

resource "harborport_webhook" "listener" {
  endpoint = "${var.listener_url}/integration/webhook"
  secret   = var.webhook_secret
  # projects = ["platform", "payments"]   # default: every project, new ones picked up by plan
  depends_on = [harborport_sync.harbor]
}
