# Two Harbor instances in one Port catalog: one harborport_sync per Harbor,
# each with its own scope, sharing the four blueprints. Each Harbor has its
# own provider configuration (an alias) and its own listener, started with
# the same scope: `terraform-provider-harborport serve --scope eu`.

terraform {
  required_version = ">= 1.11"
  required_providers {
    harborport = {
      source = "harborport/harborport"
    }
  }
}

provider "harborport" {
  harbor_url = "https://harbor.eu.example.com"
  # harbor_username / harbor_password from HARBOR_USERNAME / HARBOR_PASSWORD;
  # the Port credentials from PORT_CLIENT_ID / PORT_CLIENT_SECRET.
}

provider "harborport" {
  alias      = "us"
  harbor_url = "https://harbor.us.example.com"
}

resource "harborport_blueprints" "catalog" {
  scope_property = true # the harborportScope property scoped syncs mark entities with
}

resource "harborport_sync" "eu" {
  scope      = "eu" # identifiers become "eu:library/nginx@sha256:…"
  blueprints = harborport_blueprints.catalog.identifiers
}

resource "harborport_sync" "us" {
  provider   = harborport.us
  scope      = "us"
  blueprints = harborport_blueprints.catalog.identifiers
}

resource "harborport_webhook" "eu" {
  endpoint          = "https://harborport-eu.example.com/integration/webhook"
  secret_wo         = var.webhook_secret_eu
  secret_wo_version = 1
  depends_on        = [harborport_sync.eu]
}

resource "harborport_webhook" "us" {
  provider          = harborport.us
  endpoint          = "https://harborport-us.example.com/integration/webhook"
  secret_wo         = var.webhook_secret_us
  secret_wo_version = 1
  depends_on        = [harborport_sync.us]
}

variable "webhook_secret_eu" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "webhook_secret_us" {
  type      = string
  sensitive = true
  ephemeral = true
}
