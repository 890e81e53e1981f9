# The sandbox demo (make demo). Credentials and URLs come from the
# environment: PORT_BASE_URL, PORT_CLIENT_ID, PORT_CLIENT_SECRET.
terraform {
  required_providers {
    harborport = {
      source = "harborport/harborport"
    }
  }
}

provider "harborport" {}

# The four default blueprints, plus one property for a custom mapping.
resource "harborport_blueprints" "harbor" {
  artifact = {
    extra_properties = {
      vulnerabilityCount = { type = "number", title = "Vulnerabilities" }
    }
  }
}

output "blueprints" {
  value = harborport_blueprints.harbor.identifiers
}
