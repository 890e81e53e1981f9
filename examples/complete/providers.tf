# Credentials never go in the repository: the provider reads them from the
# environment of the terraform run (CI secrets, a vault agent, …):
#
#   HARBOR_URL          https://harbor.example.com (without /api/v2.0)
#   HARBOR_USERNAME     robot$harborport (a system robot with user:list, or an admin)
#   HARBOR_PASSWORD     the robot's secret
#   PORT_CLIENT_ID      Port → Settings → Credentials
#   PORT_CLIENT_SECRET
#   PORT_BASE_URL       optional; https://api.us.getport.io for Port's US region
#
# Optional: HARBOR_CA_CERTIFICATE (PEM of a private CA), HARBOR_INSECURE,
# HARBORPORT_MAX_CONCURRENCY. A value set below wins over the environment.
provider "harborport" {
  max_concurrency = var.max_concurrency
}
