package mapping

import (
	"encoding/json"
	"strings"
)

// BlueprintIDs maps a kind to the identifier of the blueprint it fills.
type BlueprintIDs map[Kind]string

// DefaultIDs returns the blueprint identifiers of the seed document's
// "Default Blueprints".
func DefaultIDs() BlueprintIDs {
	return BlueprintIDs{
		KindProject:    "harborProject",
		KindUser:       "harborUser",
		KindRepository: "harborRepository",
		KindArtifact:   "harborArtifact",
	}
}

// DefaultSource names the built-in mapping in error messages.
const DefaultSource = "built-in default mapping"

// DefaultYAML returns the built-in mapping for the default blueprints, with
// ids substituted (a kind missing from ids keeps its default identifier).
//
// Why it looks the way it does:
//   - Property names are exactly those of the seed's Default Blueprints, so
//     harborport and Ocean fill the same catalog.
//   - Projects and users are keyed by name: Harbor names are unique and
//     stable, readable in Port, and what webhooks and relations carry.
//   - Repositories are keyed by their full Harbor name "project/repo": the
//     bare repo name repeats across projects, and Port identifiers allow '/'
//     (internal/port/API-NOTES.md "Entity identifiers").
//   - Artifacts are keyed "<project/repo>@<digest>", not by the seed's
//     `.digest`: Harbor stores one artifact per repository, so the same
//     image pushed to two repositories is two artifacts with one digest, and
//     keyed by digest they would overwrite each other — and deleting one
//     would delete the other's entity. It is also the docker pull reference.
//   - public compares with the string "true": Harbor's metadata values are
//     strings (internal/harbor/API-NOTES.md "Projects"), and "false" is truthy
//     in jq.
//   - scanOverview is the first report of Harbor's MIME-keyed scan_overview
//     map, or null: Harbor returns at most one report type (the first it
//     has, internal/harbor/API-NOTES.md "Scan overview"), so the property does
//     not depend on the scanner's MIME version.
//   - Harbor's never-pulled pull_time "0001-01-01T00:00:00.000Z" is not a
//     date; the default blueprints have no pull time, and a custom mapping
//     should write `.pull_time | if startswith("0001-01-01") then null else . end`.
func DefaultYAML(ids BlueprintIDs) string {
	return DefaultYAMLWith(Options{IDs: ids})
}

// DefaultYAMLWith is DefaultYAML for a scope: with PrefixIdentifiers,
// identifiers and relation targets are written as "<scope>:<id>" through
// $scope, which is also how a custom mapping does it (internal/DESIGN.md
// "Scoped ownership").
func DefaultYAMLWith(o Options) string {
	def := DefaultIDs()
	bp := func(k Kind) string {
		id := o.IDs[k]
		if id == "" {
			id = def[k]
		}
		b, _ := json.Marshal(id) // a jq string literal
		return "'" + strings.ReplaceAll(string(b), "'", "''") + "'"
	}
	id := func(expr string) string {
		if o.Scope == "" || !o.PrefixIdentifiers {
			return expr
		}
		// strings: a missing value stays missing instead of becoming "eu:".
		return "'(" + expr + `) | strings | $scope + ":" + .'`
	}
	return strings.NewReplacer(
		"@PROJECT_BP@", bp(KindProject), "@USER_BP@", bp(KindUser),
		"@REPOSITORY_BP@", bp(KindRepository), "@ARTIFACT_BP@", bp(KindArtifact),
		"@PROJECT_ID@", id(".name"), "@USER_ID@", id(".username"), "@REPOSITORY_ID@", id(".name"),
		"@ARTIFACT_ID@", id(`(.repositoryName | strings) + "@" + (.digest | strings)`),
		"@PROJECT_REF@", id(".projectName"), "@REPOSITORY_REF@", id(".repositoryName"),
	).Replace(defaultTemplate)
}

// Default returns the compiled built-in mapping.
func Default(ids BlueprintIDs) *Config {
	return DefaultWith(Options{IDs: ids})
}

// DefaultWith returns the compiled built-in mapping for o.
func DefaultWith(o Options) *Config {
	c, err := ParseWith(DefaultYAMLWith(o), DefaultSource, o)
	if err != nil {
		panic("mapping: the built-in default mapping does not parse: " + err.Error())
	}
	return c
}

const defaultTemplate = `# harborport built-in mapping (Ocean port-app-config format).
deleteDependentEntities: true
createMissingRelatedEntities: true
enableMergeEntity: true
entityDeletionThreshold: 0.9
resources:
  - kind: project
    selector:
      query: "true"
    port:
      entity:
        mappings:
          identifier: @PROJECT_ID@
          title: .name
          blueprint: @PROJECT_BP@
          properties:
            projectId: .project_id
            ownerName: .owner_name
            # Harbor metadata values are strings: "true"/"false"
            public: .metadata.public == "true"
            repoCount: .repo_count
            creationTime: .creation_time
            updateTime: .update_time
  - kind: user
    selector:
      query: "true"
    port:
      entity:
        mappings:
          identifier: @USER_ID@
          title: .username
          blueprint: @USER_BP@
          properties:
            userId: .user_id
            username: .username
            email: .email
            realname: .realname
            admin: .sysadmin_flag
            creationTime: .creation_time
            updateTime: .update_time
  - kind: repository
    selector:
      query: "true"
    port:
      entity:
        mappings:
          # the full Harbor name "project/repo": unique across projects
          identifier: @REPOSITORY_ID@
          title: .name
          blueprint: @REPOSITORY_BP@
          properties:
            repositoryId: .id
            name: .name
            artifactCount: .artifact_count
            pullCount: .pull_count
            creationTime: .creation_time
            updateTime: .update_time
          relations:
            project: @PROJECT_REF@
  - kind: artifact
    selector:
      query: "true"
      withTag: true
      withScanOverview: true
    port:
      entity:
        mappings:
          # one digest may live in several repositories: qualify it
          # (| strings: a missing part drops the entity instead of "@sha256:…")
          identifier: @ARTIFACT_ID@
          title: .tags[0].name // (.digest | split(":")[1] | .[0:12])
          blueprint: @ARTIFACT_BP@
          properties:
            digest: .digest
            tags: '[.tags[]?.name]'
            size: .size
            pushTime: .push_time
            # the first (in practice only) report of the MIME-keyed map, or null
            scanOverview: '[.scan_overview[]?][0]'
          relations:
            repository: @REPOSITORY_REF@
            project: @PROJECT_REF@
`
