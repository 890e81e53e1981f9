terraform {
  required_version = ">= 1.5"

  required_providers {
    harborport = {
      source  = "harborport/harborport"
      version = ">= 0.1.0"
    }
  }

  # Keep the state where your other infrastructure state lives, e.g.:
  # backend "s3" {
  #   bucket = "acme-terraform-state"
  #   key    = "catalog/harborport.tfstate"
  #   region = "eu-west-1"
  # }
}
