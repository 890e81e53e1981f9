// Command docrefs checks that the repository's references to documents
// resolve inside the repository, so a reader who has only the repository can
// follow every comment. It is run by `make lint` and .ci/run
// (scripts/check-doc-refs.sh); see internal/DESIGN.md "Keeping this file current".
//
// What it checks, in source files, docs, templates, scripts and the makefile:
//
//   - every path ending in .md (or .md.tmpl) names a file that exists,
//     relative to the citing file or to the repository root (templates/
//     files also relative to the docs/ page they render to);
//   - a citation of a section by name, `<doc>.md "Section"` (more sections
//     may follow: `, "Other"` or ` and "Other"`), names a heading of FILE;
//   - a Markdown link to a local file or anchor, [text](path#anchor),
//     resolves, anchors by GitHub's heading slugs;
//   - no section numbers after a repository document (`<doc>.md §2`): they
//     break silently when sections move, names do not;
//   - nothing points at the ../shared directory outside the repository.
//
// External documents are cited as URLs or as owner/repo[@ref]:path; tokens
// containing ":" are not checked. Directories named testdata, hidden
// directories (except .ci and .github), bin/ and node_modules/ are skipped.
package main

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode"
)

func main() {
	root := flag.String("root", ".", "repository root")
	flag.Parse()
	probs, stats, err := Check(*root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "docrefs:", err)
		os.Exit(2)
	}
	for _, p := range probs {
		fmt.Println(p)
	}
	if len(probs) > 0 {
		fmt.Fprintf(os.Stderr, "docrefs: %d broken document references (cite files inside the repository, sections by their heading text)\n", len(probs))
		os.Exit(1)
	}
	fmt.Printf("docrefs: %d files, %d document references, %d section citations, %d links: all resolve\n",
		stats.Files, stats.Refs, stats.Sections, stats.Links)
}

// Problem is one broken reference.
type Problem struct {
	File string // relative to the root
	Line int
	Msg  string
}

func (p Problem) String() string { return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg) }

// Stats counts what was checked.
type Stats struct{ Files, Refs, Sections, Links int }

// scanned reports whether a file's references are checked.
func scanned(rel string) bool {
	base := filepath.Base(rel)
	switch base {
	case "GNUmakefile", "Makefile":
		return true
	}
	if rel == filepath.Join(".ci", "run") {
		return true
	}
	switch filepath.Ext(base) {
	case ".go", ".md", ".tmpl", ".sh", ".tf", ".yaml", ".yml", ".hcl", ".txt", ".tfvars", ".example":
		return true
	}
	return false
}

func skipDir(rel, name string) bool {
	if rel == "." {
		return false
	}
	switch name {
	case "testdata", "bin", "node_modules", ".terraform":
		return true
	case ".ci", ".github":
		return false
	}
	return strings.HasPrefix(name, ".")
}

var (
	// A path ending in .md; its end is checked by hand (no word character may follow).
	mdTokenRe = regexp.MustCompile(`[A-Za-z0-9_.@:+/-]*\.md(?:\.tmpl)?`)
	// A section after a document: optional comma or "and", white space that
	// may cross a line (and its comment leader), then "Section".
	sectionRe = regexp.MustCompile("^`?(?:[ \\t]*,|[ \\t]+and)?(?:[ \\t]+|[ \\t]*\\n[ \\t]*(?://|#)?[ \\t]*)\"([^\"\\n]+)\"")
	numberRe  = regexp.MustCompile("^`?[ \\t]*§")
	// Markdown links and images: [text](target) with no spaces in target.
	mdLinkRe = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	sharedRe = regexp.MustCompile(regexp.QuoteMeta("../"+"shared/") + "|" + regexp.QuoteMeta("/work/"+"shared"))
)

// Check walks root and returns the broken references.
func Check(root string) ([]Problem, Stats, error) {
	var st Stats
	var probs []Problem
	heads := map[string]*headings{}
	getHeads := func(abs string) (*headings, error) {
		if h, ok := heads[abs]; ok {
			return h, nil
		}
		b, err := os.ReadFile(abs)
		if err != nil {
			return nil, err
		}
		h := parseHeadings(string(b))
		heads[abs] = h
		return h, nil
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, rerr := filepath.Rel(root, p)
		if rerr != nil {
			return rerr
		}
		if d.IsDir() {
			if skipDir(rel, d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !scanned(rel) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		st.Files++
		f := &file{root: root, rel: rel, text: string(b), getHeads: getHeads, st: &st}
		probs = append(probs, f.check()...)
		return nil
	})
	sort.SliceStable(probs, func(i, j int) bool {
		if probs[i].File != probs[j].File {
			return probs[i].File < probs[j].File
		}
		return probs[i].Line < probs[j].Line
	})
	return probs, st, err
}

type file struct {
	root, rel, text string
	getHeads        func(abs string) (*headings, error)
	st              *Stats
	probs           []Problem
}

func (f *file) line(off int) int { return 1 + strings.Count(f.text[:off], "\n") }

func (f *file) add(off int, format string, a ...any) {
	f.probs = append(f.probs, Problem{File: f.rel, Line: f.line(off), Msg: fmt.Sprintf(format, a...)})
}

// resolve finds the file a reference names, or "".
func (f *file) resolve(ref string) string {
	dir := filepath.Dir(filepath.Join(f.root, f.rel))
	cands := []string{filepath.Join(dir, ref), filepath.Join(f.root, ref)}
	// A template renders to the same place under docs/, and links from there.
	if parts := strings.SplitN(filepath.ToSlash(f.rel), "/", 2); parts[0] == "templates" && len(parts) == 2 {
		cands = append(cands, filepath.Join(f.root, "docs", filepath.Dir(parts[1]), ref))
	}
	for _, c := range cands {
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	return ""
}

func (f *file) check() []Problem {
	for _, m := range sharedRe.FindAllStringIndex(f.text, -1) {
		f.add(m[0], "%q points outside the repository: cite the document inside the repository (internal/DESIGN.md, internal/harbor/API-NOTES.md, internal/port/API-NOTES.md, internal/provider/TERRAFORM-NOTES.md)", f.text[m[0]:m[1]])
	}
	f.checkTokens()
	if strings.HasSuffix(f.rel, ".md") || strings.HasSuffix(f.rel, ".md.tmpl") {
		f.checkLinks()
	}
	return f.probs
}

func wordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func (f *file) checkTokens() {
	for _, m := range mdTokenRe.FindAllStringIndex(f.text, -1) {
		start, end := m[0], m[1]
		tok := f.text[start:end]
		if end < len(f.text) && wordByte(f.text[end]) { // .mdx, .mdfoo
			continue
		}
		if strings.Contains(tok, ":") { // a URL or owner/repo[@ref]:path
			continue
		}
		if strings.HasPrefix(tok, ".md") || strings.HasSuffix(tok, "/.md") { // the extension itself, as in "*.md"
			continue
		}
		if i := strings.LastIndex(f.text[:start], "]("); i >= 0 && i+2 == start {
			continue // a Markdown link target: checkLinks handles it with its anchor
		}
		f.st.Refs++
		abs := f.resolve(tok)
		if abs == "" {
			f.add(start, "%s does not exist in the repository (relative to this file or to the root)", tok)
			continue
		}
		rest := f.text[end:]
		if numberRe.MatchString(rest) {
			f.add(start, "%s is cited by a section number: cite the section by its heading text, e.g. %s \"Heading\"", tok, tok)
			continue
		}
		if !strings.HasSuffix(abs, ".md") {
			continue
		}
		for {
			sm := sectionRe.FindStringSubmatchIndex(rest)
			if sm == nil {
				break
			}
			name := rest[sm[2]:sm[3]]
			f.st.Sections++
			h, err := f.getHeads(abs)
			if err != nil {
				f.add(start, "%s: %v", tok, err)
				break
			}
			if !h.has(name) {
				f.add(start, "%s has no section %q (its headings: %s)", tok, name, h.list())
			}
			rest = rest[sm[1]:]
		}
	}
}

func (f *file) checkLinks() {
	for _, m := range mdLinkRe.FindAllStringSubmatchIndex(f.text, -1) {
		target := f.text[m[2]:m[3]]
		if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") || strings.HasPrefix(target, "{{") {
			continue
		}
		f.st.Links++
		path, anchor, _ := strings.Cut(target, "#")
		abs := filepath.Join(f.root, f.rel)
		if path != "" {
			if abs = f.resolve(path); abs == "" {
				f.add(m[2], "link target %s does not exist", path)
				continue
			}
		}
		if anchor == "" {
			continue
		}
		if !strings.HasSuffix(abs, ".md") && !strings.HasSuffix(abs, ".md.tmpl") {
			continue
		}
		h, err := f.getHeads(abs)
		if err != nil {
			f.add(m[2], "%s: %v", target, err)
			continue
		}
		if !h.slugs[anchor] {
			f.add(m[2], "link %s: no heading with anchor #%s", target, anchor)
		}
	}
}

// headings are a Markdown file's heading texts and their GitHub anchors.
type headings struct {
	texts []string
	set   map[string]bool
	slugs map[string]bool
}

// htmlAnchorRe finds explicit anchors, as tfplugindocs writes them: <a id="nestedatt--x"></a>.
var htmlAnchorRe = regexp.MustCompile(`<a\s+(?:id|name)="([^"]+)"`)

func parseHeadings(text string) *headings {
	h := &headings{set: map[string]bool{}, slugs: map[string]bool{}}
	for _, m := range htmlAnchorRe.FindAllStringSubmatch(text, -1) {
		h.slugs[m[1]] = true
	}
	count := map[string]int{}
	fence := ""
	for _, ln := range strings.Split(text, "\n") {
		t := strings.TrimSpace(ln)
		if strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
			switch {
			case fence == "":
				fence = t[:3]
			case strings.HasPrefix(t, fence):
				fence = ""
			}
			continue
		}
		if fence != "" || !strings.HasPrefix(ln, "#") {
			continue
		}
		n := len(ln) - len(strings.TrimLeft(ln, "#"))
		if n > 6 || n == len(ln) || ln[n] != ' ' {
			continue
		}
		title := strings.TrimSpace(strings.TrimRight(strings.TrimSpace(ln[n:]), "#"))
		h.texts = append(h.texts, title)
		h.set[plain(title)] = true
		s := slug(title)
		if c := count[s]; c > 0 {
			h.slugs[fmt.Sprintf("%s-%d", s, c)] = true
		} else {
			h.slugs[s] = true
		}
		count[s]++
	}
	return h
}

func (h *headings) has(name string) bool { return h.set[plain(name)] }

// list names the headings for an error message (the first dozen).
func (h *headings) list() string {
	var qs []string
	for i, t := range h.texts {
		if i == 12 {
			qs = append(qs, fmt.Sprintf("… %d more", len(h.texts)-i))
			break
		}
		qs = append(qs, fmt.Sprintf("%q", plain(t)))
	}
	return strings.Join(qs, ", ")
}

// plain drops code spans' backticks: `x` and x name the same heading.
func plain(s string) string { return strings.ReplaceAll(s, "`", "") }

// slug is GitHub's heading anchor: lower case, punctuation dropped except
// '-' and '_', spaces to '-'.
func slug(title string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(plain(title)) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}
