package api

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// contentDisposition is a parsed Content-Disposition header (RFC 2183, with RFC 5987 extended values).
type contentDisposition struct {
	Type     string
	Name     string
	Filename string
	// HasName reports whether a name parameter was present.
	HasName bool
	// HasFilename reports whether a filename parameter was present.
	HasFilename bool
}

// errDisposition is wrapped by every Content-Disposition parse error.
var errDisposition = errors.New("invalid content disposition")

// parseContentDisposition parses a Content-Disposition header as the real IP's ContentDisposition.parse
// does: the type, then ";"-separated parameters, where ";" inside double quotes does not separate;
// values may be quoted; name* and filename* are RFC 5987 extended values (charset UTF-8 or ISO-8859-1
// only) and win over name and filename; a parameter without "=" is an error. Unlike the real parser it
// also unescapes backslash-escaped characters inside quotes (as Go's mime package writes them), and it
// reads raw header bytes as UTF-8 when they are valid UTF-8 (Tomcat reads them as ISO-8859-1).
func parseContentDisposition(header string) (contentDisposition, error) {
	header = decodeHeaderBytes(header)
	var cd contentDisposition
	parts := splitParams(header)
	cd.Type = strings.TrimSpace(parts[0])
	if cd.Type == "" {
		return cd, fmt.Errorf("%w: Content-Disposition header must not be empty", errDisposition)
	}
	var haveExtName, haveExtFilename, haveFilename bool
	for _, part := range parts[1:] {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		eq := strings.IndexByte(part, '=')
		if eq < 0 {
			return cd, fmt.Errorf("%w: Invalid content disposition format: parameter %q has no value", errDisposition, part)
		}
		attr := strings.ToLower(strings.TrimSpace(part[:eq]))
		value := strings.TrimSpace(part[eq+1:])
		quoted := len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"'
		if quoted {
			value = unescapeQuoted(value[1 : len(value)-1])
		}
		switch attr {
		case "name*":
			v, err := decodeExtValue(value)
			if err != nil {
				return cd, err
			}
			cd.Name, cd.HasName, haveExtName = v, true, true
		case "name":
			if !haveExtName && !cd.HasName {
				cd.Name, cd.HasName = value, true
			}
		case "filename*":
			v, err := decodeExtValue(value)
			if err != nil {
				return cd, err
			}
			cd.Filename, haveExtFilename, haveFilename = v, true, true
		case "filename":
			if !haveExtFilename && !haveFilename {
				cd.Filename, haveFilename = value, true
			}
		case "size":
			if _, err := strconv.ParseInt(value, 10, 64); err != nil {
				return cd, fmt.Errorf("%w: size %q is not a number", errDisposition, value)
			}
		}
	}
	cd.HasFilename = haveFilename
	return cd, nil
}

// splitParams splits a header value on ";" outside double quotes (a backslash escapes the next
// character inside quotes).
func splitParams(s string) []string {
	var parts []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == ';' && !quoted:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// unescapeQuoted removes the backslashes of quoted-pairs.
func unescapeQuoted(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// decodeHeaderBytes reads a header's raw bytes: as UTF-8 when they are valid UTF-8, otherwise as
// ISO-8859-1 (what HTTP/1.1 servers, Tomcat among them, assume).
func decodeHeaderBytes(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return latin1([]byte(s))
}

// latin1 decodes ISO-8859-1: every byte is the code point of the same number.
func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// decodeExtValue decodes an RFC 5987 ext-value: charset'language'percent-encoded. Without the two quotes
// the value is taken as is, as the real parser does.
func decodeExtValue(v string) (string, error) {
	first := strings.IndexByte(v, '\'')
	if first < 0 {
		return "", fmt.Errorf("%w: extended parameter value %q has no charset", errDisposition, v)
	}
	second := strings.IndexByte(v[first+1:], '\'')
	if second < 0 {
		return "", fmt.Errorf("%w: extended parameter value %q has no language part", errDisposition, v)
	}
	charset := strings.ToUpper(strings.TrimSpace(v[:first]))
	isLatin1 := false
	switch charset {
	case "UTF-8", "UTF8":
	case "ISO-8859-1", "ISO8859-1", "ISO_8859_1", "ISO8859_1", "LATIN1", "L1", "ISO-LATIN-1", "CP819", "IBM819":
		isLatin1 = true
	default:
		return "", fmt.Errorf("%w: Charset should be UTF-8 or ISO-8859-1, not %q", errDisposition, v[:first])
	}
	enc := v[first+1+second+1:]
	raw := make([]byte, 0, len(enc))
	for i := 0; i < len(enc); i++ {
		c := enc[i]
		switch {
		case isAttrChar(c):
			raw = append(raw, c)
		case c == '%':
			if i+2 >= len(enc) {
				return "", fmt.Errorf("%w: truncated percent escape in %q", errDisposition, v)
			}
			n, err := strconv.ParseUint(enc[i+1:i+3], 16, 8)
			if err != nil {
				return "", fmt.Errorf("%w: bad percent escape %q in %q", errDisposition, enc[i:i+3], v)
			}
			raw = append(raw, byte(n))
			i += 2
		default:
			return "", fmt.Errorf("%w: Invalid header field parameter format (as defined in RFC 5987): %q", errDisposition, v)
		}
	}
	if isLatin1 {
		return latin1(raw), nil
	}
	if !utf8.Valid(raw) {
		return "", fmt.Errorf("%w: %q is not valid UTF-8", errDisposition, v)
	}
	return string(raw), nil
}

// isAttrChar reports whether c is an RFC 5987 attr-char.
func isAttrChar(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' ||
		strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}
