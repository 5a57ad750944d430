package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // Europe/Oslo must resolve in a scratch container without /usr/share/zoneinfo.
)

// ErrInvalidTimestamp is wrapped by every error that parsing an OffsetDateTime, Instant or LocalDate
// returns.
var ErrInvalidTimestamp = errors.New("invalid timestamp")

var osloLocation = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		// Unreachable: time/tzdata is embedded. Fall back to standard time rather than panic.
		return time.FixedZone("CET", 3600)
	}
	return loc
})

// Oslo returns the Europe/Oslo location, the zone of the integration point's clock and the zone a
// timestamp without offset is read in.
func Oslo() *time.Location { return osloLocation() }

// OffsetDateTime is a java.time.OffsetDateTime: an instant together with the UTC offset it was written
// with. It marshals like Java's ISO_OFFSET_DATE_TIME (2019-03-25T12:38:23+01:00, fractional seconds only
// when non-zero and without trailing zeros, "Z" for a zero offset) and unmarshals ISO_DATE_TIME: with an
// offset ("+01:00", "Z"), with a zone id in brackets, or without either, in which case the local time is
// read in Europe/Oslo. The offset of the input is kept (no normalisation).
type OffsetDateTime struct {
	time.Time
}

// NewOffsetDateTime wraps t; its location decides the offset that is written.
func NewOffsetDateTime(t time.Time) OffsetDateTime { return OffsetDateTime{Time: t} }

// ParseOffsetDateTime parses s as Java's ISO_DATE_TIME (see OffsetDateTime).
func ParseOffsetDateTime(s string) (OffsetDateTime, error) {
	t, err := parseISODateTime(s, false, false)
	if err != nil {
		return OffsetDateTime{}, err
	}
	return OffsetDateTime{Time: t}, nil
}

// String formats t like Java's ISO_OFFSET_DATE_TIME.
func (t OffsetDateTime) String() string {
	return string(appendOffsetDateTime(nil, t.Time))
}

// Equal reports whether t and u denote the same instant with the same UTC offset, like Java's
// OffsetDateTime.equals.
func (t OffsetDateTime) Equal(u OffsetDateTime) bool {
	_, to := t.Zone()
	_, uo := u.Zone()
	return t.Time.Equal(u.Time) && to == uo
}

// MarshalJSON writes t as a JSON string in ISO_OFFSET_DATE_TIME form.
func (t OffsetDateTime) MarshalJSON() ([]byte, error) {
	b := append([]byte{'"'}, appendOffsetDateTime(nil, t.Time)...)
	return append(b, '"'), nil
}

// UnmarshalJSON reads a JSON string in ISO_DATE_TIME form; null leaves t unchanged.
func (t *OffsetDateTime) UnmarshalJSON(b []byte) error {
	s, null, err := jsonString(b)
	if err != nil || null {
		return err
	}
	v, err := ParseOffsetDateTime(s)
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// Instant is a java.time.Instant. It marshals like Instant.toString (ISO_INSTANT: always UTC with "Z",
// fractional seconds in groups of three digits) and unmarshals a date-time with seconds and an offset,
// converting it to UTC.
type Instant struct {
	time.Time
}

// ParseInstant parses s as Java's ISO_INSTANT (an offset other than Z is accepted and converted).
func ParseInstant(s string) (Instant, error) {
	t, err := parseISODateTime(s, true, true)
	if err != nil {
		return Instant{}, err
	}
	return Instant{Time: t.UTC()}, nil
}

// String formats t like Java's Instant.toString.
func (t Instant) String() string {
	return string(appendInstant(nil, t.Time))
}

// Equal reports whether t and u denote the same instant.
func (t Instant) Equal(u Instant) bool { return t.Time.Equal(u.Time) }

// MarshalJSON writes t as a JSON string in ISO_INSTANT form.
func (t Instant) MarshalJSON() ([]byte, error) {
	b := append([]byte{'"'}, appendInstant(nil, t.Time)...)
	return append(b, '"'), nil
}

// UnmarshalJSON reads a JSON string in ISO_INSTANT form; null leaves t unchanged.
func (t *Instant) UnmarshalJSON(b []byte) error {
	s, null, err := jsonString(b)
	if err != nil || null {
		return err
	}
	v, err := ParseInstant(s)
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// LocalDate is a java.time.LocalDate, written yyyy-MM-dd (e.g. digitalPostInfo.virkningsdato).
type LocalDate struct {
	Year  int
	Month time.Month
	Day   int
}

// LocalDateOf returns the date of t in t's location.
func LocalDateOf(t time.Time) LocalDate {
	y, m, d := t.Date()
	return LocalDate{Year: y, Month: m, Day: d}
}

// ParseLocalDate parses s as Java's ISO_LOCAL_DATE (yyyy-MM-dd, strict: the day must exist; years
// outside 0000-9999 carry a sign, e.g. +10000 or -0001).
func ParseLocalDate(s string) (LocalDate, error) {
	p := isoParser{s: s}
	d := p.date()
	if p.err == nil && !p.done() {
		p.fail("unexpected %q after date", p.s[p.i:])
	}
	if p.err != nil {
		return LocalDate{}, fmt.Errorf("%w: %q: %s", ErrInvalidTimestamp, s, p.err)
	}
	return d, nil
}

// In returns midnight at the start of d in loc.
func (d LocalDate) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// String formats d as yyyy-MM-dd.
func (d LocalDate) String() string {
	b := appendYear(nil, d.Year)
	b = append(b, '-')
	b = append2(b, int(d.Month))
	b = append(b, '-')
	return string(append2(b, d.Day))
}

// MarshalJSON writes d as a JSON string yyyy-MM-dd.
func (d LocalDate) MarshalJSON() ([]byte, error) {
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON reads a JSON string yyyy-MM-dd; null leaves d unchanged.
func (d *LocalDate) UnmarshalJSON(b []byte) error {
	s, null, err := jsonString(b)
	if err != nil || null {
		return err
	}
	v, err := ParseLocalDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// jsonString decodes a JSON string or null.
func jsonString(b []byte) (s string, null bool, err error) {
	if string(b) == "null" {
		return "", true, nil
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return "", false, fmt.Errorf("%w: expected a json string, got %.40s", ErrInvalidTimestamp, b)
	}
	return s, false, nil
}

// appendOffsetDateTime appends t like Java's ISO_OFFSET_DATE_TIME.
func appendOffsetDateTime(b []byte, t time.Time) []byte {
	b = appendLocalDateTime(b, t)
	if ns := t.Nanosecond(); ns != 0 {
		frac := strings.TrimRight(fmt.Sprintf("%09d", ns), "0")
		b = append(b, '.')
		b = append(b, frac...)
	}
	_, off := t.Zone()
	return appendOffset(b, off)
}

// appendInstant appends t like Java's Instant.toString.
func appendInstant(b []byte, t time.Time) []byte {
	t = t.UTC()
	b = appendLocalDateTime(b, t)
	switch ns := t.Nanosecond(); {
	case ns == 0:
	case ns%1_000_000 == 0:
		b = fmt.Appendf(b, ".%03d", ns/1_000_000)
	case ns%1_000 == 0:
		b = fmt.Appendf(b, ".%06d", ns/1_000)
	default:
		b = fmt.Appendf(b, ".%09d", ns)
	}
	return append(b, 'Z')
}

// appendLocalDateTime appends yyyy-MM-ddTHH:mm:ss (seconds are always printed, as Java does).
func appendLocalDateTime(b []byte, t time.Time) []byte {
	y, m, d := t.Date()
	b = appendYear(b, y)
	b = append(b, '-')
	b = append2(b, int(m))
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, 'T')
	b = append2(b, t.Hour())
	b = append(b, ':')
	b = append2(b, t.Minute())
	b = append(b, ':')
	return append2(b, t.Second())
}

// appendYear appends a year as Java's ISO_LOCAL_DATE does: four digits, a '+' sign above 9999, a '-'
// sign below 0.
func appendYear(b []byte, y int) []byte {
	switch {
	case y < 0:
		return fmt.Appendf(b, "-%04d", -y)
	case y > 9999:
		return fmt.Appendf(b, "+%d", y)
	}
	return fmt.Appendf(b, "%04d", y)
}

// appendOffset appends a UTC offset as Java's appendOffsetId: "Z", "+01:00" or "+01:00:30".
func appendOffset(b []byte, off int) []byte {
	if off == 0 {
		return append(b, 'Z')
	}
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	b = append(b, sign)
	b = append2(b, off/3600)
	b = append(b, ':')
	b = append2(b, off/60%60)
	if s := off % 60; s != 0 {
		b = append(b, ':')
		b = append2(b, s)
	}
	return b
}

func append2(b []byte, n int) []byte {
	if n < 10 && n >= 0 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(n), 10)
}

// isoParser is a small cursor over an ISO-8601 string; the first failure sticks in err.
type isoParser struct {
	s   string
	i   int
	err error
}

func (p *isoParser) fail(format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf(format, args...)
	}
}

func (p *isoParser) done() bool { return p.i >= len(p.s) }

func (p *isoParser) peek() byte {
	if p.err != nil || p.done() {
		return 0
	}
	return p.s[p.i]
}

// lit consumes one of the given bytes.
func (p *isoParser) lit(what string, accepted ...byte) {
	c := p.peek()
	for _, a := range accepted {
		if c == a && c != 0 {
			p.i++
			return
		}
	}
	p.fail("expected %s at position %d", what, p.i)
}

// digits consumes exactly n decimal digits.
func (p *isoParser) digits(n int, what string) int {
	if p.err != nil {
		return 0
	}
	v := 0
	for k := 0; k < n; k++ {
		if p.i >= len(p.s) || p.s[p.i] < '0' || p.s[p.i] > '9' {
			p.fail("expected %d-digit %s at position %d", n, what, p.i)
			return 0
		}
		v = v*10 + int(p.s[p.i]-'0')
		p.i++
	}
	return v
}

// year parses a year as Java's ISO_LOCAL_DATE does: four digits, or a sign and four to nine digits
// ('+' only when there are more than four).
func (p *isoParser) year() int {
	sign := p.peek()
	if sign != '+' && sign != '-' {
		return p.digits(4, "year")
	}
	p.i++
	start, v := p.i, 0
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' && p.i-start < 9 {
		v = v*10 + int(p.s[p.i]-'0')
		p.i++
	}
	n := p.i - start
	switch {
	case n < 4, sign == '+' && n == 4:
		p.fail("bad signed year at position %d", start-1)
	case p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9':
		p.fail("year too long at position %d", start-1)
	case sign == '-' && v == 0:
		p.fail("negative year zero")
	}
	if sign == '-' {
		return -v
	}
	return v
}

// date parses yyyy-MM-dd and checks that the day exists.
func (p *isoParser) date() LocalDate {
	y := p.year()
	p.lit("'-'", '-')
	m := p.digits(2, "month")
	p.lit("'-'", '-')
	d := p.digits(2, "day")
	if p.err != nil {
		return LocalDate{}
	}
	if m < 1 || m > 12 {
		p.fail("month %d out of range", m)
		return LocalDate{}
	}
	if d < 1 || d > daysIn(time.Month(m), y) {
		p.fail("day %d out of range for %04d-%02d", d, y, m)
		return LocalDate{}
	}
	return LocalDate{Year: y, Month: time.Month(m), Day: d}
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// parseISODateTime parses Java's ISO_DATE_TIME: date 'T' HH:mm[:ss[.fraction]] [offset] ['[' zone ']'].
// A value with neither offset nor zone is read in Europe/Oslo. Instants (forInstant) need seconds and an
// offset and take no zone.
func parseISODateTime(s string, needSeconds, forInstant bool) (time.Time, error) {
	p := isoParser{s: s}
	d := p.date()
	p.lit("'T'", 'T', 't')
	hour := p.digits(2, "hour")
	p.lit("':'", ':')
	minute := p.digits(2, "minute")
	sec, nsec := 0, 0
	if p.peek() == ':' {
		p.i++
		sec = p.digits(2, "second")
		if p.peek() == '.' {
			p.i++
			nsec = p.fraction()
		}
	} else if needSeconds {
		p.fail("expected seconds at position %d", p.i)
	}
	if p.err == nil && (hour > 23 || minute > 59 || sec > 59) {
		p.fail("time %02d:%02d:%02d out of range", hour, minute, sec)
	}

	var loc *time.Location
	switch c := p.peek(); c {
	case 'Z', 'z':
		p.i++
		loc = time.UTC
	case '+', '-':
		loc = p.offset()
	}
	if forInstant && loc == nil {
		p.fail("expected an offset at position %d", p.i)
	}
	if !forInstant && p.peek() == '[' {
		p.i++
		end := strings.IndexByte(p.s[p.i:], ']')
		if end < 0 {
			p.fail("unterminated zone id")
		} else {
			zone, err := loadZone(p.s[p.i : p.i+end])
			if err != nil {
				p.fail("%v", err)
			}
			p.i += end + 1
			if loc == nil {
				loc = zone // an offset, when both are given, wins
			}
		}
	}
	if p.err == nil && !p.done() {
		p.fail("unexpected %q at position %d", p.s[p.i:], p.i)
	}
	if p.err != nil {
		return time.Time{}, fmt.Errorf("%w: %q: %s", ErrInvalidTimestamp, s, p.err)
	}
	if loc == nil {
		loc = Oslo()
	}
	return time.Date(d.Year, d.Month, d.Day, hour, minute, sec, nsec, loc), nil
}

// fraction consumes 1 to 9 digits after the decimal point and returns nanoseconds.
func (p *isoParser) fraction() int {
	start, v := p.i, 0
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		if p.i-start == 9 {
			p.fail("more than 9 fractional digits")
			return 0
		}
		v = v*10 + int(p.s[p.i]-'0')
		p.i++
	}
	n := p.i - start
	if n == 0 {
		p.fail("expected fractional digits at position %d", p.i)
		return 0
	}
	for ; n < 9; n++ {
		v *= 10
	}
	return v
}

// offset consumes ±HH:MM or ±HH:MM:ss (at most ±18:00) and returns its location.
func (p *isoParser) offset() *time.Location {
	sign := 1
	if p.peek() == '-' {
		sign = -1
	}
	p.i++
	h := p.digits(2, "offset hours")
	p.lit("':'", ':')
	m := p.digits(2, "offset minutes")
	sec := 0
	if p.peek() == ':' {
		p.i++
		sec = p.digits(2, "offset seconds")
	}
	if p.err != nil {
		return nil
	}
	total := h*3600 + m*60 + sec
	if h > 18 || m > 59 || sec > 59 || total > 18*3600 {
		p.fail("offset out of range")
		return nil
	}
	if total == 0 {
		return time.UTC
	}
	return time.FixedZone("", sign*total)
}

// loadZone resolves a Java zone id: UTC aliases or an IANA region id. Other ids (including Go's "Local")
// are refused so that parsing never depends on the machine.
func loadZone(id string) (*time.Location, error) {
	switch id {
	case "Z", "UTC", "GMT", "UT":
		return time.UTC, nil
	}
	ok := len(id) > 0 && len(id) <= 64 && id != "Local" && !strings.Contains(id, "..") &&
		id[0] != '/' && id[0] != '-' && id[0] != '+'
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("/_+-", c) >= 0
	}
	if !ok {
		return nil, fmt.Errorf("invalid zone id %q", id)
	}
	loc, err := time.LoadLocation(id)
	if err != nil {
		return nil, fmt.Errorf("unknown zone id %q", id)
	}
	return loc, nil
}
