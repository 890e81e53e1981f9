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

# The secret kept out of the state and plan files (Terraform >= 1.11): an
# ephemeral variable into the write-only secret_wo. Increment
# secret_wo_version whenever the value changes; see "Rotating the secret
# without downtime" for the order of the steps.
variable "webhook_secret_wo" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "harborport_webhook" "write_only" {
  name              = "harborport-wo"
  endpoint          = "https://harborport.example.com/integration/webhook"
  secret_wo         = var.webhook_secret_wo
  secret_wo_version = 1
}
