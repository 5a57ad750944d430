package dokumentpakke_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"slices"
	"strings"
)

// refC14N is an independent, test-only implementation of inclusive Canonical XML 1.0 (without comments)
// of the subtree at the first element match accepts, in its document context. It shares no code with the
// package (which walks an etree tree): it streams encoding/xml raw tokens, keeps its own namespace
// scopes, and follows the W3C recommendation directly: the apex element gets every namespace declaration
// in scope (an empty default omitted) and the xml:* attributes it inherits; a descendant gets only the
// declarations that differ from its output parent's; namespace declarations are sorted default first, then
// by prefix; attributes by namespace URI, then local name; text escapes & < > CR; attribute values & < "
// TAB LF CR; empty elements get an end tag. It is enough for signatures.xml (no DTD, no PIs inside).
func refC14N(doc []byte, match func(xml.StartElement) bool) ([]byte, error) {
	type scope struct {
		ns  map[string]string // declarations made here (prefix "" = default)
		xml map[string]string // xml:* attributes set here
	}
	var (
		stack    []scope
		rendered []map[string]string // in the output: namespace axis of each open output element
		out      bytes.Buffer
		depth    int // open elements inside the apex, 0 = not inside
	)
	lookup := func(prefix string) string {
		for i := len(stack) - 1; i >= 0; i-- {
			if uri, ok := stack[i].ns[prefix]; ok {
				return uri
			}
		}
		return ""
	}
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			return nil, errors.New("refC14N: no matching element")
		}
		if err != nil {
			return nil, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			sc := scope{ns: map[string]string{}, xml: map[string]string{}}
			var attrs []xml.Attr
			for _, a := range tok.Attr {
				switch {
				case a.Name.Space == "" && a.Name.Local == "xmlns":
					sc.ns[""] = a.Value
				case a.Name.Space == "xmlns":
					sc.ns[a.Name.Local] = a.Value
				default:
					if a.Name.Space == "xml" {
						sc.xml[a.Name.Local] = a.Value
					}
					attrs = append(attrs, a)
				}
			}
			stack = append(stack, sc)
			if depth == 0 && !match(tok) {
				continue
			}
			// The namespace nodes to render: all in scope at the apex, own changes below it.
			var parent map[string]string
			decls := map[string]string{}
			if depth == 0 {
				parent = map[string]string{}
				for _, s := range stack {
					for p, uri := range s.ns {
						decls[p] = uri
					}
				}
				// Inherited xml:* attributes the apex does not set itself.
				for i := len(stack) - 2; i >= 0; i-- {
					for k, v := range stack[i].xml {
						if _, ok := sc.xml[k]; !ok {
							sc.xml[k] = v
							attrs = append(attrs, xml.Attr{Name: xml.Name{Space: "xml", Local: k}, Value: v})
						}
					}
				}
			} else {
				parent = rendered[len(rendered)-1]
				decls = sc.ns
			}
			axis := map[string]string{}
			for p, uri := range parent {
				axis[p] = uri
			}
			var nsOut []string
			for p, uri := range decls {
				if prev, ok := parent[p]; (ok && prev == uri) || (!ok && p == "" && uri == "") {
					continue
				}
				axis[p] = uri
				nsOut = append(nsOut, p)
			}
			slices.Sort(nsOut) // "" (the default) sorts first
			rendered = append(rendered, axis)
			depth++

			name := tok.Name.Local
			if tok.Name.Space != "" {
				name = tok.Name.Space + ":" + name
			}
			out.WriteString("<" + name)
			for _, p := range nsOut {
				if p == "" {
					out.WriteString(` xmlns="` + escAttr(decls[p]) + `"`)
				} else {
					out.WriteString(` xmlns:` + p + `="` + escAttr(decls[p]) + `"`)
				}
			}
			uri := func(a xml.Attr) string {
				switch a.Name.Space {
				case "":
					return ""
				case "xml":
					return "http://www.w3.org/XML/1998/namespace"
				}
				return lookup(a.Name.Space)
			}
			slices.SortFunc(attrs, func(a, b xml.Attr) int {
				if c := strings.Compare(uri(a), uri(b)); c != 0 {
					return c
				}
				return strings.Compare(a.Name.Local, b.Name.Local)
			})
			for _, a := range attrs {
				n := a.Name.Local
				if a.Name.Space != "" {
					n = a.Name.Space + ":" + n
				}
				out.WriteString(" " + n + `="` + escAttr(a.Value) + `"`)
			}
			out.WriteString(">")
		case xml.EndElement:
			stack = stack[:len(stack)-1]
			if depth == 0 {
				continue
			}
			name := tok.Name.Local
			if tok.Name.Space != "" {
				name = tok.Name.Space + ":" + name
			}
			out.WriteString("</" + name + ">")
			rendered = rendered[:len(rendered)-1]
			if depth--; depth == 0 {
				return out.Bytes(), nil
			}
		case xml.CharData:
			if depth > 0 {
				out.WriteString(strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", "&#xD;").Replace(string(tok)))
			}
		case xml.ProcInst, xml.Directive:
			if depth > 0 {
				return nil, errors.New("refC14N: processing instructions and directives inside the subtree are not handled")
			}
		}
	}
}

func escAttr(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", `"`, "&quot;", "\t", "&#x9;", "\n", "&#xA;", "\r", "&#xD;").Replace(s)
}
