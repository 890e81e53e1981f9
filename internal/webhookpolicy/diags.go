package webhookpolicy

// Severity of a Diag.
type Severity int

const (
	Error Severity = iota
	Warning
)

// Diag is one problem met surveying or executing, in the words the user
// sees (harborport_webhook shows it as a Terraform diagnostic).
type Diag struct {
	Severity  Severity
	Summary   string
	Detail    string
	Attribute string // the harborport_webhook attribute it is about, "" for none
}

// Diags is a list of problems.
type Diags []Diag

func (d *Diags) add(sev Severity, attr, summary, detail string) {
	*d = append(*d, Diag{Severity: sev, Summary: summary, Detail: detail, Attribute: attr})
}

func (d *Diags) errorf(summary, detail string)          { d.add(Error, "", summary, detail) }
func (d *Diags) warnf(summary, detail string)           { d.add(Warning, "", summary, detail) }
func (d *Diags) attrWarnf(attr, summary, detail string) { d.add(Warning, attr, summary, detail) }

// HasError reports whether any Diag is an error.
func (d Diags) HasError() bool {
	for _, x := range d {
		if x.Severity == Error {
			return true
		}
	}
	return false
}

// Errors and Warnings filter by severity.
func (d Diags) Errors() Diags   { return d.filter(Error) }
func (d Diags) Warnings() Diags { return d.filter(Warning) }

func (d Diags) filter(s Severity) Diags {
	var out Diags
	for _, x := range d {
		if x.Severity == s {
			out = append(out, x)
		}
	}
	return out
}
