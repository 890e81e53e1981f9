package catalog

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/harborport/terraform-provider-harborport/internal/mapping"
)

// A stored changeset is bounded by design: per change it keeps the
// operation, the blueprint, the Harbor source (names interned, a sha256
// digest as 32 raw bytes), the identifier only when the source does not
// name it already, the changed field names (interned), the 64-bit Before
// fingerprint and 32 bits of After (which only decides between "already
// done" and "skipped", both of which write nothing). About 40 bytes per
// artifact change after compression, whatever the size of the entities:
// a million pending changes make a ~55 MB JSON string in private state
// (internal/DESIGN.md "The changeset in private state").
//
// Terraform's private state must be JSON, so the compressed bytes travel as
// one base64 JSON string: `"<base64(gzip(binary))>"`.

const (
	encMagic   = "hpcs"
	encVersion = 4
)

// Encode packs the changeset for Terraform's private state.
func (cs *Changeset) Encode() ([]byte, error) {
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed) // a valid level: cannot fail
	w := &encoder{w: bufio.NewWriterSize(zw, 64<<10), refs: map[string]uint64{}}
	w.raw([]byte(encMagic))
	w.byte(encVersion)
	w.u64(cs.Seed)
	w.byte(boolBit(cs.Merge, 0) | boolBit(cs.CreateMissingRelated, 1) | boolBit(cs.DeleteDependents, 2))
	w.u64(math.Float64bits(cs.Threshold))
	w.uvarint(uint64(cs.Unchanged))
	w.uvarint(uint64(cs.Owned))
	w.uvarint(uint64(cs.SkippedDeletes))
	w.str(cs.DeletesBlocked)
	w.str(cs.DeletesSkipped)
	w.uvarint(uint64(len(cs.Changes)))
	compact := compactable(cs)
	for i := range cs.Changes {
		if err := w.change(&cs.Changes[i], compact != nil && compact[i]); err != nil {
			return nil, err
		}
	}
	if err := w.w.Flush(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	out := make([]byte, base64.StdEncoding.EncodedLen(gz.Len())+2)
	out[0], out[len(out)-1] = '"', '"'
	base64.StdEncoding.Encode(out[1:len(out)-1], gz.Bytes())
	return out, nil
}

var opCodes = map[Op]byte{OpCreate: 0, OpUpdate: 1, OpDelete: 2}
var opByCode = [...]Op{OpCreate, OpUpdate, OpDelete}

var kindCodes = map[mapping.Kind]byte{mapping.KindProject: 1, mapping.KindUser: 2, mapping.KindRepository: 3, mapping.KindArtifact: 4}
var kindByCode = [...]mapping.Kind{"", mapping.KindProject, mapping.KindUser, mapping.KindRepository, mapping.KindArtifact}

// derivedID is the identifier a source names by itself, the way the
// built-in mapping forms identifiers; a change whose identifier is that
// one does not store it.
func derivedID(k *Key) string {
	switch k.Kind {
	case mapping.KindProject:
		return k.Project
	case mapping.KindUser:
		return k.User
	case mapping.KindRepository:
		return k.Repository
	case mapping.KindArtifact:
		return k.Repository + "@" + k.Digest
	}
	return ""
}

type encoder struct {
	w    *bufio.Writer
	refs map[string]uint64 // interned strings → index
	tmp  [binary.MaxVarintLen64]byte
}

func (e *encoder) raw(b []byte) { _, _ = e.w.Write(b) } // errors surface at Flush
func (e *encoder) byte(b byte)  { _ = e.w.WriteByte(b) }
func (e *encoder) uvarint(v uint64) {
	e.raw(e.tmp[:binary.PutUvarint(e.tmp[:], v)])
}
func (e *encoder) u64(v uint64) {
	binary.LittleEndian.PutUint64(e.tmp[:8], v)
	e.raw(e.tmp[:8])
}
func (e *encoder) u32(v uint32) {
	binary.LittleEndian.PutUint32(e.tmp[:4], v)
	e.raw(e.tmp[:4])
}
func (e *encoder) str(s string) {
	e.uvarint(uint64(len(s)))
	_, _ = e.w.WriteString(s)
}

// ref writes an interned string: 0 and the text the first time, then its
// index + 1.
func (e *encoder) ref(s string) {
	if i, ok := e.refs[s]; ok {
		e.uvarint(i + 1)
		return
	}
	e.refs[s] = uint64(len(e.refs))
	e.uvarint(0)
	e.str(s)
}

func (e *encoder) digest(d string) {
	if raw, ok := sha256Bytes(d); ok {
		e.byte(1)
		e.raw(raw)
		return
	}
	e.byte(0)
	e.str(d)
}

// sha256Bytes decodes a lowercase "sha256:<64 hex>" digest.
func sha256Bytes(d string) ([]byte, bool) {
	const prefix = "sha256:"
	if len(d) != len(prefix)+64 || d[:len(prefix)] != prefix {
		return nil, false
	}
	for i := len(prefix); i < len(d); i++ {
		if c := d[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return nil, false
		}
	}
	b, err := hex.DecodeString(d[len(prefix):])
	return b, err == nil
}

// Compact changes. A change whose entity apply can find again cheaply is
// stored without its identifier (and an artifact without its digest): an
// 8-byte hash of blueprint and identifier stands for both.
//   - Artifact creates and updates of a repository whose full listing costs
//     at most one page more than fetching its changed artifacts by digest
//     (ceil(listed/100) ≤ ceil(changes/50) + 1): apply lists the repository
//     and finds them by hash among its artifacts. Most repositories qualify;
//     a huge one with a few changes does not.
//   - Deletes of a blueprint deleting more than compactDeletes entities and
//     more than a quarter of what it holds: apply reads the blueprint's
//     identifiers once (ceil(n/1000) search pages) and finds them by hash.
//
// A full-drift plan of a million artifacts then stores ~20 bytes per change
// instead of ~45, which keeps its plan file — private state is in it twice,
// with the refreshed state and with the planned change — within 64 MB.
// Changesets below compactMin changes stay explicit: their applies fetch
// exactly what they need, and name every change in messages.
var (
	compactMin     = 20000 // variables for tests only
	compactPerRepo = 50    // without repository sizes (a changeset not from Compute)
	compactDeletes = 1000
)

// compactable marks the changes Encode stores compactly (nil: none).
func compactable(cs *Changeset) []bool {
	if len(cs.Changes) < compactMin {
		return nil
	}
	type repoKey struct{ bp, repo string }
	perRepo := map[repoKey]int{}
	deletes := map[string]int{}
	for i := range cs.Changes {
		ch := &cs.Changes[i]
		switch {
		case ch.Op == OpDelete:
			deletes[ch.Blueprint]++
		case ch.Source != nil && ch.Source.Kind == mapping.KindArtifact:
			perRepo[repoKey{ch.Blueprint, ch.Source.Repository}]++
		}
	}
	pages := func(n, size int) int { return (n + size - 1) / size }
	out := make([]bool, len(cs.Changes))
	for i := range cs.Changes {
		ch := &cs.Changes[i]
		switch {
		case ch.Op == OpDelete:
			n := deletes[ch.Blueprint]
			out[i] = n > compactDeletes && (cs.ownedPer == nil || 4*n > cs.ownedPer[ch.Blueprint])
		case ch.Source != nil && ch.Source.Kind == mapping.KindArtifact:
			n := perRepo[repoKey{ch.Blueprint, ch.Source.Repository}]
			if size, ok := cs.repoSizes[ch.Source.Repository]; ok {
				out[i] = pages(size, 100) <= pages(n, qListMax)+1
			} else {
				out[i] = n > compactPerRepo
			}
		}
	}
	return out
}

func (e *encoder) change(ch *Change, compact bool) error {
	op, ok := opCodes[ch.Op]
	if !ok {
		return fmt.Errorf("change %s: unknown operation %q", ch.key(), ch.Op)
	}
	if ch.Compact() {
		compact = true // decoded compact, encoded again
	}
	var kind byte
	derived := false
	if ch.Source != nil {
		if kind, ok = kindCodes[ch.Source.Kind]; !ok {
			return fmt.Errorf("change %s: unknown source kind %q", ch.key(), ch.Source.Kind)
		}
		derived = !compact && derivedID(ch.Source) == ch.Identifier
	}
	e.byte(op | kind<<2 | boolBit(derived, 5) | boolBit(compact, 6))
	e.ref(ch.Blueprint)
	if k := ch.Source; k != nil {
		switch k.Kind {
		case mapping.KindProject:
			e.ref(k.Project)
		case mapping.KindUser:
			e.ref(k.User)
			e.uvarint(uint64(k.UserID))
		case mapping.KindRepository:
			e.ref(k.Project)
			e.ref(k.Repository)
		case mapping.KindArtifact:
			e.ref(k.Project)
			e.ref(k.Repository)
			if !compact {
				e.digest(k.Digest)
			}
		}
	}
	switch {
	case compact:
		h := ch.IDHash
		if h == 0 {
			h = idHash(ch.Blueprint, ch.Identifier)
		}
		e.u64(h)
	case !derived:
		e.str(ch.Identifier)
	}
	if ch.Op == OpUpdate {
		e.uvarint(uint64(len(ch.Fields)))
		for _, f := range ch.Fields {
			e.ref(f)
		}
	}
	if ch.Op != OpCreate {
		e.u64(ch.Before)
	}
	if ch.Op != OpDelete {
		e.u32(uint32(ch.After))
	}
	return nil
}

func boolBit(b bool, bit uint) byte {
	if b {
		return 1 << bit
	}
	return 0
}

// DecodeChangeset reverses Encode. Empty input is an empty changeset.
func DecodeChangeset(b []byte) (*Changeset, error) {
	if len(b) == 0 || string(b) == "null" {
		return nil, nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return nil, fmt.Errorf("stored changeset: not a JSON string")
	}
	zr, err := gzip.NewReader(base64.NewDecoder(base64.StdEncoding, bytes.NewReader(b[1:len(b)-1])))
	if err != nil {
		return nil, fmt.Errorf("stored changeset: %w", err)
	}
	d := &decoder{r: bufio.NewReaderSize(zr, 64<<10)}
	cs, err := d.changeset()
	var other otherFormat
	switch {
	case errors.As(err, &other):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("stored changeset: %w", err)
	}
	return cs, nil
}

// otherFormat is a stored changeset written by another harborport version.
type otherFormat struct{ version int }

func (o otherFormat) Error() string {
	return fmt.Sprintf("stored changeset has format %d, this harborport reads %d: run terraform refresh (or plan) again", o.version, encVersion)
}

type decoder struct {
	r    *bufio.Reader
	refs []string
	err  error
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		d.err = err
	}
}

func (d *decoder) byte() byte {
	b, err := d.r.ReadByte()
	if err != nil {
		d.fail(err)
	}
	return b
}

func (d *decoder) uvarint() uint64 {
	v, err := binary.ReadUvarint(d.r)
	if err != nil {
		d.fail(err)
	}
	return v
}

func (d *decoder) full(n int) []byte {
	b := make([]byte, n)
	if _, err := io.ReadFull(d.r, b); err != nil {
		d.fail(err)
	}
	return b
}

func (d *decoder) u64() uint64 { return binary.LittleEndian.Uint64(d.full(8)) }
func (d *decoder) u32() uint32 { return binary.LittleEndian.Uint32(d.full(4)) }

func (d *decoder) str() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > 1<<24 {
		d.fail(fmt.Errorf("a string of %d bytes", n))
		return ""
	}
	return string(d.full(int(n)))
}

func (d *decoder) ref() string {
	i := d.uvarint()
	if d.err != nil {
		return ""
	}
	if i == 0 {
		s := d.str()
		d.refs = append(d.refs, s)
		return s
	}
	if i-1 >= uint64(len(d.refs)) {
		d.fail(fmt.Errorf("string reference %d of %d", i-1, len(d.refs)))
		return ""
	}
	return d.refs[i-1]
}

func (d *decoder) digest() string {
	if d.byte() == 1 {
		return "sha256:" + hex.EncodeToString(d.full(32))
	}
	return d.str()
}

func (d *decoder) changeset() (*Changeset, error) {
	head := d.full(len(encMagic) + 1)
	if d.err != nil {
		return nil, d.err
	}
	if string(head[:len(encMagic)]) != encMagic {
		return nil, otherFormat{version: 0}
	}
	if v := head[len(encMagic)]; v != encVersion {
		return nil, otherFormat{version: int(v)}
	}
	cs := &Changeset{Version: changesetVersion}
	cs.Seed = d.u64()
	flags := d.byte()
	cs.Merge, cs.CreateMissingRelated, cs.DeleteDependents = flags&1 != 0, flags&2 != 0, flags&4 != 0
	cs.Threshold = math.Float64frombits(d.u64())
	cs.Unchanged = int(d.uvarint())
	cs.Owned = int(d.uvarint())
	cs.SkippedDeletes = int(d.uvarint())
	cs.DeletesBlocked = d.str()
	cs.DeletesSkipped = d.str()
	n := d.uvarint()
	if d.err != nil {
		return nil, d.err
	}
	if n > 1<<26 {
		return nil, fmt.Errorf("%d changes", n)
	}
	if n > 0 {
		cs.Changes = make([]Change, n)
	}
	var sources []Key
	for i := range cs.Changes {
		ch := &cs.Changes[i]
		h := d.byte()
		if int(h&3) >= len(opByCode) || int(h>>2&7) >= len(kindByCode) || h&0x80 != 0 {
			return nil, fmt.Errorf("change %d: bad header %#x", i, h)
		}
		compact := h&(1<<6) != 0
		ch.Op = opByCode[h&3]
		ch.Blueprint = d.ref()
		if kind := kindByCode[h>>2&7]; kind != "" {
			if len(sources) == 0 {
				sources = make([]Key, min(int(n)-i, 4096)) // allocated in blocks
			}
			k := &sources[0]
			sources = sources[1:]
			k.Kind = kind
			switch kind {
			case mapping.KindProject:
				k.Project = d.ref()
			case mapping.KindUser:
				k.User = d.ref()
				k.UserID = int64(d.uvarint())
			case mapping.KindRepository:
				k.Project, k.Repository = d.ref(), d.ref()
			case mapping.KindArtifact:
				k.Project, k.Repository = d.ref(), d.ref()
				if !compact {
					k.Digest = d.digest()
				}
			}
			ch.Source = k
		}
		switch {
		case compact:
			if ch.IDHash = d.u64(); ch.IDHash == 0 {
				return nil, fmt.Errorf("change %d: a compact change without its hash", i)
			}
		case h&(1<<5) != 0 && ch.Source != nil:
			ch.Identifier = derivedID(ch.Source)
		default:
			ch.Identifier = d.str()
		}
		if ch.Op == OpUpdate {
			nf := d.uvarint()
			if nf > 1<<16 {
				return nil, fmt.Errorf("change %d: %d fields", i, nf)
			}
			ch.Fields = make([]string, nf)
			for j := range ch.Fields {
				ch.Fields[j] = d.ref()
			}
		}
		if ch.Op != OpCreate {
			ch.Before = d.u64()
		}
		if ch.Op != OpDelete {
			ch.After = uint64(d.u32())
		}
		if d.err != nil {
			return nil, fmt.Errorf("change %d: %w", i, d.err)
		}
	}
	// The end of the stream: gzip checks its CRC and length there, so a
	// truncated or altered changeset fails instead of passing for a shorter one.
	switch _, err := d.r.ReadByte(); {
	case err == nil:
		return nil, errors.New("data after the last change")
	case !errors.Is(err, io.EOF):
		return nil, err
	}
	return cs, nil
}

// afterHeld reports whether Port holding fingerprint held is the state the
// change produces. A stored After keeps 32 bits (see the file comment).
func afterHeld(ch *Change, held uint64) bool {
	if ch.Op == OpDelete {
		return held == fpAbsent
	}
	return held != fpAbsent && uint32(held) == uint32(ch.After)
}
