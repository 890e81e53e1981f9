variable "listener_url" {
  description = "Base URL of the harborport listener (terraform-provider-harborport serve) as Harbor reaches it, e.g. https://harborport.internal.example.com. See examples/listener for running it."
  type        = string

  validation {
    condition     = can(regex("^https?://[^/?#]+(/[^?#]*)?$", var.listener_url))
    error_message = "listener_url must be an http(s) URL without query or fragment, e.g. https://harborport.internal.example.com."
  }
}

variable "webhook_secret" {
  description = "Authorization header value Harbor sends to the listener, e.g. \"Bearer <32+ random characters>\". The listener's HARBORPORT_WEBHOOK_SECRET must be the same value."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.webhook_secret) >= 16
    error_message = "webhook_secret must be at least 16 characters."
  }
}

variable "webhook_projects" {
  description = "Harbor projects that send events to the listener. null (default): every project, and projects created later are added by the next plan."
  type        = set(string)
  default     = null
}

variable "preview_limit" {
  description = "How many catalog changes a plan lists by name (the counts are always exact)."
  type        = number
  default     = 50
}

variable "max_concurrency" {
  description = "Requests in flight to Harbor and to Port at once. Lower it for a small Harbor; Port rate-limits anyway."
  type        = number
  default     = 8
}
