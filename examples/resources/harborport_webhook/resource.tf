variable "webhook_secret" {
  type        = string
  sensitive   = true
  description = "Authorization value Harbor sends to the listener, e.g. \"Bearer <32 random characters>\"."
}

# Every project (new ones are added by the next plan) sends artifact and scan
# events to the listener. The listener's HARBORPORT_WEBHOOK_SECRET must equal
# the secret; Harbor sends it verbatim as the Authorization header.
resource "harborport_webhook" "listener" {
  endpoint = "https://harborport.example.com/integration/webhook"
  secret   = var.webhook_secret
}

# Only some projects, Harbor's Default payload, and no pull events (scanners
# pull too, so they are noisy).
resource "harborport_webhook" "selected" {
  name           = "harborport-selected"
  endpoint       = "https://harborport.example.com/integration/webhook"
  secret         = var.webhook_secret
  projects       = ["platform", "payments"]
  payload_format = "Default"
  event_types    = ["PUSH_ARTIFACT", "DELETE_ARTIFACT", "SCANNING_COMPLETED", "SCANNING_FAILED", "SCANNING_STOPPED"]
}
