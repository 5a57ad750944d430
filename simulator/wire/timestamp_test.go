package wire

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestOffsetDateTimeString(t *testing.T) {
	plus2 := time.FixedZone("", 2*3600)
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2019, 3, 25, 12, 38, 23, 0, time.FixedZone("", 3600)), "2019-03-25T12:38:23+01:00"},
		{time.Date(2019, 10, 16, 10, 1, 52, 625_000_000, time.FixedZone("", -2*3600)), "2019-10-16T10:01:52.625-02:00"},
		{time.Date(2019, 10, 16, 10, 1, 52, 120_000, plus2), "2019-10-16T10:01:52.00012+02:00"},
		{time.Date(2019, 10, 16, 10, 1, 52, 1, plus2), "2019-10-16T10:01:52.000000001+02:00"},
		{time.Date(2019, 10, 16, 10, 1, 0, 0, time.UTC), "2019-10-16T10:01:00Z"},
		{time.Date(2019, 10, 16, 10, 1, 0, 0, time.FixedZone("", 0)), "2019-10-16T10:01:00Z"},
		{time.Date(2019, 7, 1, 0, 0, 0, 0, Oslo()), "2019-07-01T00:00:00+02:00"},
		{time.Date(2019, 1, 1, 0, 0, 0, 0, Oslo()), "2019-01-01T00:00:00+01:00"},
		{time.Date(1900, 1, 1, 0, 0, 0, 0, time.FixedZone("", 5*3600+30*60+15)), "1900-01-01T00:00:00+05:30:15"},
		{time.Date(5, 1, 2, 3, 4, 5, 0, time.FixedZone("", -(9*3600+30*60))), "0005-01-02T03:04:05-09:30"},
		{time.Date(12345, 1, 2, 3, 4, 5, 0, time.UTC), "+12345-01-02T03:04:05Z"},
	}
	for _, tt := range tests {
		got := NewOffsetDateTime(tt.in)
		if got.String() != tt.want {
			t.Errorf("String(%v) = %s, want %s", tt.in, got, tt.want)
		}
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != `"`+tt.want+`"` {
			t.Errorf("MarshalJSON(%v) = %s, want %q", tt.in, b, tt.want)
		}
	}
}

func TestParseOffsetDateTime(t *testing.T) {
	tests := []struct {
		in   string
		want string // String() of the result
		off  int    // expected UTC offset in seconds
	}{
		{"2019-03-25T12:38:23+01:00", "2019-03-25T12:38:23+01:00", 3600},
		{"2019-10-16T10:01:52.625-02:00", "2019-10-16T10:01:52.625-02:00", -7200},
		{"2019-10-16T10:01:52.625000000-02:00", "2019-10-16T10:01:52.625-02:00", -7200},
		{"2003-05-10T00:31:52Z", "2003-05-10T00:31:52Z", 0},
		{"2003-05-10t00:31:52z", "2003-05-10T00:31:52Z", 0},
		{"2003-05-10T00:31:52-00:00", "2003-05-10T00:31:52Z", 0},
		{"2003-05-10T00:31Z", "2003-05-10T00:31:00Z", 0},
		{"2003-05-10T00:31:52+05:30:15", "2003-05-10T00:31:52+05:30:15", 5*3600 + 30*60 + 15},
		{"2003-05-10T00:31:52+18:00", "2003-05-10T00:31:52+18:00", 18 * 3600},
		// Without offset: Europe/Oslo, with the offset valid at that date.
		{"2024-07-01T12:00:00", "2024-07-01T12:00:00+02:00", 7200},
		{"2024-01-01T12:00:00.5", "2024-01-01T12:00:00.5+01:00", 3600},
		{"2024-01-01T12:00", "2024-01-01T12:00:00+01:00", 3600},
		// Zone ids.
		{"2024-07-01T12:00:00[Europe/Oslo]", "2024-07-01T12:00:00+02:00", 7200},
		{"2024-07-01T12:00:00[America/New_York]", "2024-07-01T12:00:00-04:00", -4 * 3600},
		{"2024-07-01T12:00:00+01:00[Europe/Oslo]", "2024-07-01T12:00:00+01:00", 3600},
		{"2024-07-01T12:00:00[UTC]", "2024-07-01T12:00:00Z", 0},
		{"2024-02-29T23:59:59.999999999+01:00", "2024-02-29T23:59:59.999999999+01:00", 3600},
		{"+10000-01-01T00:00:00Z", "+10000-01-01T00:00:00Z", 0},
		{"-0001-12-31T23:00:00Z", "-0001-12-31T23:00:00Z", 0},
		{"+999999999-12-31T23:59:59Z", "+999999999-12-31T23:59:59Z", 0},
	}
	for _, tt := range tests {
		got, err := ParseOffsetDateTime(tt.in)
		if err != nil {
			t.Errorf("ParseOffsetDateTime(%q): %v", tt.in, err)
			continue
		}
		if got.String() != tt.want {
			t.Errorf("ParseOffsetDateTime(%q) = %s, want %s", tt.in, got, tt.want)
		}
		if _, off := got.Zone(); off != tt.off {
			t.Errorf("ParseOffsetDateTime(%q) offset = %d, want %d", tt.in, off, tt.off)
		}
		var viaJSON OffsetDateTime
		if err := json.Unmarshal([]byte(`"`+tt.in+`"`), &viaJSON); err != nil || !viaJSON.Equal(got) {
			t.Errorf("UnmarshalJSON(%q) = %v, %v; want %v", tt.in, viaJSON, err, got)
		}
	}
}

func TestParseOffsetDateTimeErrors(t *testing.T) {
	for _, in := range []string{
		"",
		"2019-03-25",
		"2019-03-25 12:38:23+01:00",
		"2019-03-25T12:38:23+0100",
		"2019-03-25T12:38:23+01",
		"2019-03-25T12:38:23+19:00",
		"2019-03-25T12:38:23+18:01",
		"2019-03-25T24:00:00Z",
		"2019-03-25T12:60:00Z",
		"2019-03-25T12:00:60Z",
		"2019-02-29T12:00:00Z",
		"2019-04-31T12:00:00Z",
		"2019-00-10T12:00:00Z",
		"2019-03-25T12:38:23.Z",
		"2019-03-25T12:38:23.1234567890Z",
		"2019-03-25T12:38:23ZZ",
		"2019-03-25T12:38:23Z ",
		"19-03-25T12:38:23Z",
		"+2019-03-25T12:38:23Z",
		"-0000-03-25T12:38:23Z",
		"-001-03-25T12:38:23Z",
		"+1000000000-03-25T12:38:23Z",
		"20190-03-25T12:38:23Z",
		"2019-03-25T12:38:23[Local]",
		"2019-03-25T12:38:23[Europe/Nowhere]",
		"2019-03-25T12:38:23[../../etc/passwd]",
		"2019-03-25T12:38:23[Europe/Oslo",
		"2019-03-25T1:38:23Z",
		"٢٠١٩-03-25T12:38:23Z",
	} {
		_, err := ParseOffsetDateTime(in)
		if !errors.Is(err, ErrInvalidTimestamp) {
			t.Errorf("ParseOffsetDateTime(%q) error = %v, want ErrInvalidTimestamp", in, err)
		}
	}
	for _, in := range []string{`123`, `true`, `{}`, `"x"`} {
		var v OffsetDateTime
		if err := json.Unmarshal([]byte(in), &v); !errors.Is(err, ErrInvalidTimestamp) {
			t.Errorf("UnmarshalJSON(%s) error = %v, want ErrInvalidTimestamp", in, err)
		}
	}
}

func TestOffsetDateTimeNullAndEqual(t *testing.T) {
	var p struct {
		T *OffsetDateTime `json:"t"`
	}
	if err := json.Unmarshal([]byte(`{"t":null}`), &p); err != nil || p.T != nil {
		t.Errorf("null: %v, %v", p.T, err)
	}
	a, _ := ParseOffsetDateTime("2019-03-25T12:00:00+01:00")
	b, _ := ParseOffsetDateTime("2019-03-25T11:00:00Z")
	c, _ := ParseOffsetDateTime("2019-03-25T12:00:00[Europe/Oslo]")
	if a.Equal(b) {
		t.Errorf("%s and %s are the same instant but differ in offset; Equal should be false", a, b)
	}
	if !a.Equal(c) {
		t.Errorf("%s and %s should be Equal", a, c)
	}
	if !a.Time.Equal(b.Time) {
		t.Errorf("%s and %s should be the same instant", a, b)
	}
}

func TestInstant(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"2024-05-02T08:15:30Z", "2024-05-02T08:15:30Z"},
		{"2024-05-02T10:15:30.5+02:00", "2024-05-02T08:15:30.500Z"},
		{"2024-05-02T08:15:30.1234Z", "2024-05-02T08:15:30.123400Z"},
		{"2024-05-02T08:15:30.1234567Z", "2024-05-02T08:15:30.123456700Z"},
		{"2024-05-02T08:15:30.000000001Z", "2024-05-02T08:15:30.000000001Z"},
		{"0000-01-01T00:30:00+01:00", "-0001-12-31T23:30:00Z"},
		{"9999-12-31T23:30:00-01:00", "+10000-01-01T00:30:00Z"},
	}
	for _, tt := range tests {
		var got Instant
		if err := json.Unmarshal([]byte(`"`+tt.in+`"`), &got); err != nil {
			t.Errorf("UnmarshalJSON(%q): %v", tt.in, err)
			continue
		}
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != `"`+tt.want+`"` {
			t.Errorf("round trip of %q = %s, want %q", tt.in, b, tt.want)
		}
	}
	for _, in := range []string{"2024-05-02T08:15:30", "2024-05-02T08:15Z", "2024-05-02T08:15:30Z[UTC]", ""} {
		if _, err := ParseInstant(in); !errors.Is(err, ErrInvalidTimestamp) {
			t.Errorf("ParseInstant(%q) error = %v, want ErrInvalidTimestamp", in, err)
		}
	}
	a, _ := ParseInstant("2024-05-02T10:15:30+02:00")
	b, _ := ParseInstant("2024-05-02T08:15:30Z")
	if !a.Equal(b) || a.String() != "2024-05-02T08:15:30Z" {
		t.Errorf("instants %s and %s should be equal", a, b)
	}
}

func TestLocalDate(t *testing.T) {
	d, err := ParseLocalDate("2024-02-29")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(LocalDate{Year: 2024, Month: time.February, Day: 29}, d); diff != "" {
		t.Errorf("ParseLocalDate mismatch (-want +got):\n%s", diff)
	}
	b, err := json.Marshal(d)
	if err != nil || string(b) != `"2024-02-29"` {
		t.Errorf("MarshalJSON = %s, %v", b, err)
	}
	if got := LocalDateOf(time.Date(2019, 3, 5, 23, 0, 0, 0, Oslo())); got.String() != "2019-03-05" {
		t.Errorf("LocalDateOf = %s", got)
	}
	if got := d.In(Oslo()); !got.Equal(time.Date(2024, 2, 29, 0, 0, 0, 0, Oslo())) {
		t.Errorf("In = %v", got)
	}
	var p struct {
		D *LocalDate `json:"d"`
	}
	if err := json.Unmarshal([]byte(`{"d":"0001-01-09"}`), &p); err != nil || p.D.String() != "0001-01-09" {
		t.Errorf("UnmarshalJSON = %v, %v", p.D, err)
	}
	for _, in := range []string{"", "2019-02-29", "2019-2-1", "2019-02-01T00:00:00", "20190201", "2019-13-01", `2019-01-00`} {
		if _, err := ParseLocalDate(in); !errors.Is(err, ErrInvalidTimestamp) {
			t.Errorf("ParseLocalDate(%q) error = %v, want ErrInvalidTimestamp", in, err)
		}
	}
	var v LocalDate
	if err := json.Unmarshal([]byte(`20190201`), &v); !errors.Is(err, ErrInvalidTimestamp) {
		t.Errorf("UnmarshalJSON(number) error = %v", err)
	}
}

func TestOslo(t *testing.T) {
	if got := Oslo().String(); got != "Europe/Oslo" {
		t.Errorf("Oslo() = %s", got)
	}
}
