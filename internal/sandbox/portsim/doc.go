// Package portsim is a strict, in-memory simulator of Port's REST API (the
// subset harborport uses), for tests, benchmarks and `make demo`.
//
// It speaks JSON on its own terms (it does not import harborport's client
// types) and rejects whatever the real service rejects, as documented in
// internal/port/API-NOTES.md and Port's OpenAPI description
// (https://api.getport.io/swagger/yaml; internal/port/API-NOTES.md "Sources").
// Where the documents are silent the behaviour is marked INFERRED in a
// comment beside the code that implements it.
//
// Routes (wildcard names as used in Server.Requests keys):
//
//	POST   /v1/auth/access_token
//	GET    /v1/blueprints                         POST /v1/blueprints
//	GET|PUT|PATCH|DELETE /v1/blueprints/{blueprint}
//	DELETE /v1/blueprints/{blueprint}/all-entities
//	GET    /v1/migrations/{migration}
//	GET|POST /v1/blueprints/{blueprint}/entities
//	GET|PUT|PATCH|DELETE /v1/blueprints/{blueprint}/entities/{entity}
//	POST   /v1/blueprints/{blueprint}/entities/bulk
//	POST   /v1/blueprints/{blueprint}/bulk/entities/delete
//	POST   /v1/blueprints/{blueprint}/entities/search
//	GET    /v1/blueprints/{blueprint}/entities-count
//	POST   /v1/entities/search
//
// Entity identifiers travel URL-encoded in paths (`a/b` → `a%2Fb`); the
// simulator decodes each path segment exactly once.
package portsim
