# The sandbox demo (make demo). Credentials and URLs come from the
# environment: HARBOR_URL, HARBOR_USERNAME, HARBOR_PASSWORD, PORT_BASE_URL,
# PORT_CLIENT_ID, PORT_CLIENT_SECRET.
terraform {
  required_providers {
    harborport = {
      source = "harborport/harborport"
    }
  }
}

provider "harborport" {}

# The four default blueprints of the Harbor integration.
resource "harborport_blueprints" "harbor" {}

# Harbor → Port with the built-in mapping. Every plan previews the catalog
# changes; apply performs exactly those.
resource "harborport_sync" "harbor" {
  blueprints = harborport_blueprints.harbor.identifiers
}

# Harbor → listener webhooks on every project. The demo script starts the
# listener (terraform-provider-harborport serve) and passes its URL and secret.
variable "listener_url" {
  type = string
}

variable "webhook_secret" {
  type      = string
  sensitive = true
}

resource "harborport_webhook" "listener" {
  endpoint   = "${var.listener_url}/integration/webhook"
  secret     = var.webhook_secret
  depends_on = [harborport_sync.harbor]
}
