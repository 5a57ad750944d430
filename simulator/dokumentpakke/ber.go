package dokumentpakke

import (
	"errors"
	"fmt"
)

// A minimal BER reader: just enough to walk a CMS EnvelopedData written by BouncyCastle's
// CMSEnvelopedDataStreamGenerator or `openssl cms -stream` (indefinite lengths, the encrypted content as a
// constructed OCTET STRING of chunks). It never copies the input, never recurses deeper than maxBERDepth
// and runs in time linear in the input for every element it is asked to parse.

// maxBERDepth bounds nesting; a CMS EnvelopedData needs about ten levels.
const maxBERDepth = 32

// ASN.1 tag classes.
const (
	classUniversal       = 0
	classContextSpecific = 2
)

// Universal tags used here.
const (
	tagInteger     = 2
	tagOctetString = 4
	tagOID         = 6
	tagSequence    = 16
	tagSet         = 17
)

var errBER = errors.New("malformed BER")

// berElem is one parsed BER element.
type berElem struct {
	class       int
	tag         int
	constructed bool
	// body is the content octets (without the end-of-contents marker of an indefinite-length element).
	body []byte
	// full is the whole encoding including the header (and end-of-contents marker).
	full []byte
}

func (e berElem) is(class, tag int, constructed bool) bool {
	return e.class == class && e.tag == tag && e.constructed == constructed
}

// parseBER parses the element at the start of in and returns it and the bytes after it.
func parseBER(in []byte, depth int) (berElem, []byte, error) {
	var e berElem
	if depth > maxBERDepth {
		return e, nil, fmt.Errorf("%w: nested deeper than %d", errBER, maxBERDepth)
	}
	if len(in) < 2 {
		return e, nil, fmt.Errorf("%w: truncated header", errBER)
	}
	b := in[0]
	e.class = int(b >> 6)
	e.constructed = b&0x20 != 0
	e.tag = int(b & 0x1f)
	i := 1
	if e.tag == 0x1f { // high tag number form
		e.tag = 0
		for n := 0; ; n++ {
			if i >= len(in) || n == 4 || (n == 0 && in[i] == 0x80) {
				return e, nil, fmt.Errorf("%w: bad tag", errBER)
			}
			c := in[i]
			i++
			e.tag = e.tag<<7 | int(c&0x7f)
			if c&0x80 == 0 {
				break
			}
		}
	}
	if i >= len(in) {
		return e, nil, fmt.Errorf("%w: truncated length", errBER)
	}
	l := in[i]
	i++
	switch {
	case l < 0x80:
		return definite(e, in, i, uint64(l))
	case l == 0x80:
		if !e.constructed {
			return e, nil, fmt.Errorf("%w: indefinite length on a primitive element", errBER)
		}
		return indefinite(e, in, i, depth)
	case l == 0xff:
		return e, nil, fmt.Errorf("%w: reserved length octet", errBER)
	default:
		n := int(l & 0x7f)
		if n > 8 || i+n > len(in) {
			return e, nil, fmt.Errorf("%w: bad length", errBER)
		}
		var length uint64
		for _, c := range in[i : i+n] {
			length = length<<8 | uint64(c)
		}
		return definite(e, in, i+n, length)
	}
}

func definite(e berElem, in []byte, start int, length uint64) (berElem, []byte, error) {
	if length > uint64(len(in)-start) {
		return e, nil, fmt.Errorf("%w: length %d exceeds the %d bytes left", errBER, length, len(in)-start)
	}
	end := start + int(length)
	e.body = in[start:end]
	e.full = in[:end]
	return e, in[end:], nil
}

func indefinite(e berElem, in []byte, start, depth int) (berElem, []byte, error) {
	rest := in[start:]
	for {
		if len(rest) < 2 {
			return e, nil, fmt.Errorf("%w: missing end-of-contents", errBER)
		}
		if rest[0] == 0 && rest[1] == 0 {
			end := len(in) - len(rest)
			e.body = in[start:end]
			e.full = in[:end+2]
			return e, rest[2:], nil
		}
		var err error
		if _, rest, err = parseBER(rest, depth+1); err != nil {
			return e, nil, err
		}
	}
}

// children parses the elements inside a constructed element.
func (e berElem) children(depth int) ([]berElem, error) {
	if !e.constructed {
		return nil, fmt.Errorf("%w: expected a constructed element", errBER)
	}
	var out []berElem
	rest := e.body
	for len(rest) > 0 {
		c, r, err := parseBER(rest, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		rest = r
	}
	return out, nil
}

// appendOctets appends the value of an OCTET STRING (or of an element implicitly tagged as one) to dst:
// the body of a primitive encoding, or the concatenated chunks of a constructed one.
func (e berElem) appendOctets(dst []byte, depth int) ([]byte, error) {
	if !e.constructed {
		return append(dst, e.body...), nil
	}
	if depth > maxBERDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d", errBER, maxBERDepth)
	}
	rest := e.body
	for len(rest) > 0 {
		c, r, err := parseBER(rest, depth+1)
		if err != nil {
			return nil, err
		}
		if c.class != classUniversal || c.tag != tagOctetString {
			return nil, fmt.Errorf("%w: chunk of a constructed OCTET STRING is not an OCTET STRING", errBER)
		}
		if dst, err = c.appendOctets(dst, depth+1); err != nil {
			return nil, err
		}
		rest = r
	}
	return dst, nil
}

// toDER re-encodes a single BER element with definite, minimal lengths, so that code which is not
// hardened against hostile BER (deep nesting, rescans for end-of-contents) only ever sees a bounded,
// definite-length encoding. Primitive contents and the order of elements are kept as they are.
func toDER(in []byte) ([]byte, error) {
	e, rest, err := parseBER(in, 0)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("%w: %d bytes after the element", errBER, len(rest))
	}
	return e.appendDER(make([]byte, 0, len(in)), 0)
}

func (e berElem) appendDER(dst []byte, depth int) ([]byte, error) {
	if !e.constructed {
		dst = appendHeader(dst, e, len(e.body))
		return append(dst, e.body...), nil
	}
	kids, err := e.children(depth)
	if err != nil {
		return nil, err
	}
	var body []byte
	for _, k := range kids {
		if body, err = k.appendDER(body, depth+1); err != nil {
			return nil, err
		}
	}
	dst = appendHeader(dst, e, len(body))
	return append(dst, body...), nil
}

func appendHeader(dst []byte, e berElem, length int) []byte {
	b := byte(e.class) << 6
	if e.constructed {
		b |= 0x20
	}
	if e.tag < 0x1f {
		dst = append(dst, b|byte(e.tag))
	} else {
		dst = append(dst, b|0x1f)
		var t []byte
		for v := e.tag; ; v >>= 7 {
			t = append([]byte{byte(v & 0x7f)}, t...)
			if v < 0x80 {
				break
			}
		}
		for i := 0; i < len(t)-1; i++ {
			t[i] |= 0x80
		}
		dst = append(dst, t...)
	}
	if length < 0x80 {
		return append(dst, byte(length))
	}
	var l []byte
	for v := length; v > 0; v >>= 8 {
		l = append([]byte{byte(v)}, l...)
	}
	dst = append(dst, 0x80|byte(len(l)))
	return append(dst, l...)
}
