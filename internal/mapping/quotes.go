package mapping

import "strings"

// rewriteSingleQuotes turns jq string literals written with single quotes
// ('abc') into double-quoted ones ("abc"), as Ocean does before compiling
// (`JQEntityProcessor._format_filter`, internal/port/API-NOTES.md
// "Ocean's jq rules"; Port's UI accepts the same).
//
// Ocean uses a regex, /(^|\s)'(?!\s|")|(?<!\s|")'(\s|$)/, that also rewrites
// quotes inside double-quoted strings when they happen to sit next to a
// space ("don' t" → "don" t"). This is a small jq-aware scanner instead:
//   - double-quoted strings, including \(…) interpolations, are copied
//     untouched, so quotes inside them never change;
//   - # comments are copied untouched;
//   - elsewhere a '…' literal becomes "…" with inner " escaped and \'
//     unescaped. jq has no ' token, so this only changes programs that would
//     not compile otherwise.
//
// Like Ocean's lookarounds, a literal that opens with '" or closes with "'
// is left alone: '"harborArtifact"' means the YAML quotes were written
// twice, and turning it into the string "\"harborArtifact\"" would send a
// blueprint named with quotes. It then fails to compile and the hint explains.
func rewriteSingleQuotes(src string) string {
	if !strings.Contains(src, "'") {
		return src
	}
	var b strings.Builder
	b.Grow(len(src) + 8)
	// stack of contexts: each entry is the paren depth of an interpolation
	// \( … ) we are inside; empty stack = top level.
	var interp []int
	depth := 0
	i := 0
	for i < len(src) {
		c := src[i]
		switch c {
		case '"':
			// copy a double-quoted string; stop at an interpolation
			j, opened := scanDoubleQuoted(src, i)
			b.WriteString(src[i:j])
			i = j
			if opened { // src[j-2:j] == `\(`: continue in code mode
				interp = append(interp, depth)
				depth++
			}
			continue
		case '#':
			j := strings.IndexByte(src[i:], '\n')
			if j < 0 {
				j = len(src) - i
			}
			b.WriteString(src[i : i+j])
			i += j
			continue
		case '(':
			depth++
		case ')':
			depth--
			if n := len(interp); n > 0 && depth == interp[n-1] {
				// end of \( … ): back inside the enclosing string
				interp = interp[:n-1]
				b.WriteByte(c)
				i++
				j, opened := scanStringRest(src, i)
				b.WriteString(src[i:j])
				i = j
				if opened {
					interp = append(interp, depth)
					depth++
				}
				continue
			}
		case '\'':
			if lit, n, ok := singleQuoted(src[i:]); ok {
				b.WriteString(lit)
				i += n
				continue
			}
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

// scanDoubleQuoted scans the string starting at src[i] == '"'. It returns the
// index after the closing quote, or after `\(` (opened=true) when an
// interpolation starts, or len(src) if unterminated.
func scanDoubleQuoted(src string, i int) (int, bool) {
	return scanStringRest(src, i+1)
}

func scanStringRest(src string, i int) (int, bool) {
	for i < len(src) {
		switch src[i] {
		case '\\':
			if i+1 < len(src) && src[i+1] == '(' {
				return i + 2, true
			}
			i += 2
			continue
		case '"':
			return i + 1, false
		}
		i++
	}
	return len(src), false
}

// singleQuoted converts the literal at the start of s ('…') to a
// double-quoted jq string. ok is false when it is not a convertible literal.
func singleQuoted(s string) (lit string, n int, ok bool) {
	if len(s) < 2 || s[1] == '"' {
		return "", 0, false
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 >= len(s) {
				return "", 0, false
			}
			if s[i+1] == '\'' {
				b.WriteByte('\'')
			} else {
				b.WriteString(s[i : i+2])
			}
			i++
		case '"':
			b.WriteString(`\"`)
		case '\'':
			if s[i-1] == '"' {
				return "", 0, false
			}
			b.WriteByte('"')
			return b.String(), i + 1, true
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, false // unterminated
}
