package webhook

import (
	"fmt"
	"strings"
)

// Filter names (spec ip-api §8.2).
const (
	FilterStatus            = "status"
	FilterServiceIdentifier = "serviceIdentifier"
	FilterDirection         = "direction"
)

// partPattern is the real WebhookFilterParser's part pattern, as its error message prints it.
const partPattern = `^(\w+)(=)(.+)$`

// SyntaxError is a filter part that does not match ^(\w+)(=)(.+)$.
type SyntaxError struct{ Part string }

// Error returns the real parser's message.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("The filter part %q, do not match the expected regexp: %s", e.Part, partPattern)
}

// UnknownFilterError is a part naming a filter other than status, serviceIdentifier and direction
// (the real WebhookUnknownFilterException).
type UnknownFilterError struct{ Name string }

// Error returns the real exception's message.
func (e *UnknownFilterError) Error() string { return "Unknown filter name: " + e.Name + "." }

// part is one name=value1,value2 condition.
type part struct {
	name   string
	values []string
}

// Filter is a parsed subscription filter (spec ip-api §8.2): parts joined by "&" must all match (AND);
// a part matches when the event's property equals one of its comma-separated values, ignoring case
// (OR). The zero Filter matches every event.
type Filter struct {
	parts []part
}

// ParseFilter parses a filter definition as the real WebhookFilterParser does: the definition is split
// at "&" (Java String.split: trailing empty parts are dropped), and every part must match
// ^(\w+)(=)(.+)$ with a known name. The only operator is "=", so any other operator is a syntax error.
// An empty string is invalid (it is one empty part), as in the real IP; "no filter" is the absence of
// a definition, not an empty one.
func ParseFilter(def string) (Filter, error) {
	var f Filter
	for _, p := range javaSplit(def, "&") {
		i := strings.IndexByte(p, '=')
		if i < 1 || !isWord(p[:i]) || i == len(p)-1 || strings.ContainsAny(p[i+1:], "\n\r\u0085\u2028\u2029") {
			return Filter{}, &SyntaxError{Part: p}
		}
		name := p[:i]
		switch name {
		case FilterStatus, FilterServiceIdentifier, FilterDirection:
		default:
			return Filter{}, &UnknownFilterError{Name: name}
		}
		f.parts = append(f.parts, part{name: name, values: javaSplit(p[i+1:], ",")})
	}
	return f, nil
}

// Matches reports whether a status event passes the filter. Filters apply to status events only; any
// other event (a ping) passes.
func (f Filter) Matches(e Event) bool {
	if e.Event != EventStatus {
		return true
	}
	for _, p := range f.parts {
		var actual string
		switch p.name {
		case FilterStatus:
			actual = e.Status
		case FilterServiceIdentifier:
			actual = e.ServiceIdentifier
		case FilterDirection:
			actual = e.Direction
		}
		ok := false
		for _, v := range p.values {
			if actual != "" && strings.EqualFold(v, actual) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// javaSplit splits s at sep like Java's String.split: without a match the result is s itself (even
// when empty); otherwise trailing empty strings are removed.
func javaSplit(s, sep string) []string {
	if !strings.Contains(s, sep) {
		return []string{s}
	}
	out := strings.Split(s, sep)
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// isWord reports whether s is one or more of Java's \w: [a-zA-Z_0-9].
func isWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
