package harborsim

// Response shapes. Field tags follow the go-swagger models generated from
// harbor-swagger-v2.15.2.yaml: scalars get omitempty, arrays do not (so an absent slice is
// `null`, as "labels": null in real-api-artifacts-list.json), x-omitempty:false scalars are
// always present, and strfmt.DateTime values are structs that omitempty never drops.

type projectJSON struct {
	CreationTime       dateTime          `json:"creation_time"`
	CurrentUserRoleID  int64             `json:"current_user_role_id,omitempty"`
	CurrentUserRoleIDs []int32           `json:"current_user_role_ids"`
	CVEAllowlist       *cveAllowlistJSON `json:"cve_allowlist,omitempty"`
	Metadata           map[string]string `json:"metadata,omitempty"`
	Name               string            `json:"name,omitempty"`
	OwnerID            int32             `json:"owner_id,omitempty"`
	OwnerName          string            `json:"owner_name,omitempty"`
	ProjectID          int32             `json:"project_id,omitempty"`
	RepoCount          int64             `json:"repo_count"`
	UpdateTime         dateTime          `json:"update_time"`
	// Version is Options.StampVersions' stamp; 0 (omitted) otherwise.
	Version int64 `json:"x_harborport_version,omitempty"`
}

type cveAllowlistJSON struct {
	CreationTime dateTime `json:"creation_time"`
	ID           int64    `json:"id,omitempty"`
	Items        []any    `json:"items"`
	ProjectID    int64    `json:"project_id,omitempty"`
	UpdateTime   dateTime `json:"update_time"`
}

type userJSON struct {
	AdminRoleInAuth bool     `json:"admin_role_in_auth"`
	Comment         string   `json:"comment,omitempty"`
	CreationTime    dateTime `json:"creation_time"`
	Email           string   `json:"email,omitempty"`
	Realname        string   `json:"realname,omitempty"`
	SysadminFlag    bool     `json:"sysadmin_flag"`
	UpdateTime      dateTime `json:"update_time"`
	UserID          int64    `json:"user_id,omitempty"`
	Username        string   `json:"username,omitempty"`
	// Version is Options.StampVersions' stamp; 0 (omitted) otherwise.
	Version int64 `json:"x_harborport_version,omitempty"`
}

type repositoryJSON struct {
	ArtifactCount int64     `json:"artifact_count"`
	CreationTime  *dateTime `json:"creation_time,omitempty"`
	Description   string    `json:"description,omitempty"`
	ID            int64     `json:"id,omitempty"`
	Name          string    `json:"name,omitempty"`
	ProjectID     int64     `json:"project_id,omitempty"`
	PullCount     int64     `json:"pull_count"`
	UpdateTime    dateTime  `json:"update_time"`
	// Version is Options.StampVersions' stamp; 0 (omitted) otherwise.
	Version int64 `json:"x_harborport_version,omitempty"`
}

type artifactJSON struct {
	Accessories       []any                     `json:"accessories"`
	AdditionLinks     map[string]additionLink   `json:"addition_links,omitempty"`
	ArtifactType      string                    `json:"artifact_type,omitempty"`
	Digest            string                    `json:"digest,omitempty"`
	ExtraAttrs        map[string]any            `json:"extra_attrs,omitempty"`
	Icon              string                    `json:"icon,omitempty"`
	ID                int64                     `json:"id,omitempty"`
	Labels            []any                     `json:"labels"`
	ManifestMediaType string                    `json:"manifest_media_type,omitempty"`
	MediaType         string                    `json:"media_type,omitempty"`
	ProjectID         int64                     `json:"project_id,omitempty"`
	PullTime          dateTime                  `json:"pull_time"`
	PushTime          dateTime                  `json:"push_time"`
	References        []referenceJSON           `json:"references"`
	RepositoryID      int64                     `json:"repository_id,omitempty"`
	RepositoryName    string                    `json:"repository_name,omitempty"`
	ScanOverview      map[string]*reportSummary `json:"scan_overview,omitempty"`
	Size              int64                     `json:"size,omitempty"`
	Tags              []tagJSON                 `json:"tags"`
	Type              string                    `json:"type,omitempty"`
	// Version is Options.StampVersions' stamp; 0 (omitted) otherwise.
	Version int64 `json:"x_harborport_version,omitempty"`
}

type additionLink struct {
	Absolute bool   `json:"absolute"`
	Href     string `json:"href,omitempty"`
}

type referenceJSON struct {
	ChildDigest string        `json:"child_digest,omitempty"`
	ChildID     int64         `json:"child_id,omitempty"`
	ParentID    int64         `json:"parent_id,omitempty"`
	Platform    *platformJSON `json:"platform,omitempty"`
	Urls        []string      `json:"urls"`
}

// platformJSON: the swagger spells the dotted keys ”'os.features”' (YAML), so the generated
// tags are json:"'os.features'"; encoding/json rejects a quote in a key and falls back to the Go
// field name. The go-swagger field is OsFeatures ([]string, no omitempty) → "OsFeatures": null.
type platformJSON struct {
	OsFeatures   []string `json:"OsFeatures"`
	Architecture string   `json:"architecture,omitempty"`
	OS           string   `json:"os,omitempty"`
}

type tagJSON struct {
	ArtifactID   int64    `json:"artifact_id,omitempty"`
	ID           int64    `json:"id,omitempty"`
	Immutable    bool     `json:"immutable"`
	Name         string   `json:"name,omitempty"`
	PullTime     dateTime `json:"pull_time"`
	PushTime     dateTime `json:"push_time"`
	RepositoryID int64    `json:"repository_id,omitempty"`
}

// reportSummary is NativeReportSummary; the inner summary map holds only the severities that
// occur and is {} when there are none (internal/harbor/API-NOTES.md "Scan overview").
type reportSummary struct {
	CompletePercent int64        `json:"complete_percent,omitempty"`
	Duration        int64        `json:"duration,omitempty"`
	EndTime         dateTime     `json:"end_time"`
	ReportID        string       `json:"report_id,omitempty"`
	ScanStatus      string       `json:"scan_status,omitempty"`
	Scanner         *scannerJSON `json:"scanner,omitempty"`
	Severity        string       `json:"severity,omitempty"`
	StartTime       dateTime     `json:"start_time"`
	Summary         *vulnSummary `json:"summary,omitempty"`
}

type scannerJSON struct {
	Name    string `json:"name,omitempty"`
	Vendor  string `json:"vendor,omitempty"`
	Version string `json:"version,omitempty"`
}

type vulnSummary struct {
	Fixable int64          `json:"fixable"`
	Summary map[string]int `json:"summary"`
	Total   int64          `json:"total"`
}

type policyJSON struct {
	CreationTime dateTime        `json:"creation_time"`
	Creator      string          `json:"creator,omitempty"`
	Description  string          `json:"description,omitempty"`
	Enabled      bool            `json:"enabled"`
	EventTypes   []string        `json:"event_types"`
	ID           int64           `json:"id,omitempty"`
	Name         string          `json:"name,omitempty"`
	ProjectID    int64           `json:"project_id,omitempty"`
	Targets      []webhookTarget `json:"targets"`
	UpdateTime   dateTime        `json:"update_time"`
}
