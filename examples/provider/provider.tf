# Every argument can come from the environment instead (shown in comments).
provider "harborport" {
  harbor_url      = "https://harbor.example.com" # HARBOR_URL
  harbor_username = "robot$harborport"           # HARBOR_USERNAME
  # harbor_password from HARBOR_PASSWORD

  port_client_id = "0123456789abcdef" # PORT_CLIENT_ID
  # port_client_secret from PORT_CLIENT_SECRET
  port_base_url = "https://api.getport.io" # PORT_BASE_URL; https://api.us.getport.io for the US region
}
