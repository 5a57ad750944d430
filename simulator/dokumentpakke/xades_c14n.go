package dokumentpakke

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/beevik/etree"
)

// nsXML is the namespace the xml prefix is bound to.
const nsXML = "http://www.w3.org/XML/1998/namespace"

// canonicalize returns the inclusive Canonical XML 1.0 (or 1.1 when c14n11), without comments, of the
// subtree at el in its document context, as a same-document XML-DSig reference or SignedInfo is
// canonicalized (W3C REC-xml-c14n-20010315 §2, the document subset being el and all its descendants):
//
//   - el gets every namespace declaration in scope at it, its ancestors' included (an empty default
//     omitted), and the xml:* attributes it inherits from its ancestors (C14N 1.1: not xml:id; an
//     inherited xml:base, which 1.1 would have to fix up, is refused);
//   - a descendant gets only the declarations that differ from its parent's (xmlns="" only when the
//     parent has a non-empty default namespace);
//   - namespace declarations come first, the default one first and then by prefix; attributes follow,
//     sorted by namespace URI and then local name;
//   - text escapes & < > and CR; attribute values & < " TAB LF CR; CDATA sections become text; comments
//     are dropped; empty elements get an end tag; processing instructions are kept.
//
// This is written here rather than taken from github.com/russellhaering/goxmldsig v1.6.1, whose inclusive
// canonicalizers sort prefixed attributes by local name instead of namespace URI, and whose C14N 1.0
// canonicalizer, given an element in its document, overwrites a namespace declaration the element makes
// with an ancestor's declaration of the same prefix.
func canonicalize(el *etree.Element, c14n11 bool) ([]byte, error) {
	scope := map[string]string{}
	inherited := map[string]string{}
	for p := el.Parent(); p != nil; p = p.Parent() {
		for _, a := range p.Attr {
			if prefix, ok := nsDecl(a); ok {
				if _, seen := scope[prefix]; !seen {
					scope[prefix] = a.Value
				}
			} else if a.Space == "xml" && el.SelectAttr("xml:"+a.Key) == nil {
				if _, seen := inherited[a.Key]; !seen {
					inherited[a.Key] = a.Value
				}
			}
		}
	}
	if c14n11 {
		delete(inherited, "id")
		if _, ok := inherited["base"]; ok {
			return nil, fmt.Errorf("%w: inherited xml:base under C14N 1.1 is not supported", ErrBadSignature)
		}
	}
	var b bytes.Buffer
	if err := writeC14N(&b, el, scope, nil, inherited); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// nsDecl reports whether a is a namespace declaration, and the prefix it declares ("" for the default).
func nsDecl(a etree.Attr) (prefix string, ok bool) {
	switch {
	case a.Space == "xmlns":
		return a.Key, true
	case a.Space == "" && a.Key == "xmlns":
		return "", true
	}
	return "", false
}

// writeC14N writes el canonically. scope holds the namespaces in scope at el's parent; parentAxis the
// namespace declarations in effect on el's output parent (nil for the apex, which has none); inherited the
// xml:* attributes to add (apex only).
func writeC14N(b *bytes.Buffer, el *etree.Element, scope, parentAxis, inherited map[string]string) error {
	var own []string // prefixes el declares
	for _, a := range el.Attr {
		if prefix, ok := nsDecl(a); ok {
			if own == nil {
				scope = maps.Clone(scope)
			}
			own = append(own, prefix)
			scope[prefix] = a.Value
		}
	}
	candidates := own
	if parentAxis == nil {
		candidates = slices.Collect(maps.Keys(scope))
	}
	var decls []string
	for _, prefix := range candidates {
		if prefix == "xml" || slices.Contains(decls, prefix) {
			continue
		}
		if scope[prefix] != parentAxis[prefix] || (prefix != "" && parentAxis == nil) {
			decls = append(decls, prefix)
		}
	}
	slices.Sort(decls) // "" (the default namespace) sorts first

	type attr struct{ uri, local, name, value string }
	var attrs []attr
	for _, a := range el.Attr {
		if _, ok := nsDecl(a); ok {
			continue
		}
		uri := ""
		switch a.Space {
		case "":
		case "xml":
			uri = nsXML
		default:
			var ok bool
			if uri, ok = scope[a.Space]; !ok || uri == "" {
				return fmt.Errorf("%w: undeclared prefix of attribute %s", ErrBadSignature, a.FullKey())
			}
		}
		attrs = append(attrs, attr{uri, a.Key, a.FullKey(), a.Value})
	}
	for k, v := range inherited {
		attrs = append(attrs, attr{nsXML, k, "xml:" + k, v})
	}
	slices.SortFunc(attrs, func(x, y attr) int {
		if c := strings.Compare(x.uri, y.uri); c != 0 {
			return c
		}
		return strings.Compare(x.local, y.local)
	})
	if el.Space != "" && el.Space != "xml" && scope[el.Space] == "" {
		return fmt.Errorf("%w: undeclared prefix of element %s", ErrBadSignature, el.FullTag())
	}

	b.WriteString("<" + el.FullTag())
	for _, prefix := range decls {
		if prefix == "" {
			b.WriteString(` xmlns="`)
		} else {
			b.WriteString(` xmlns:` + prefix + `="`)
		}
		b.WriteString(c14nAttrEscaper.Replace(scope[prefix]) + `"`)
	}
	for _, a := range attrs {
		b.WriteString(" " + a.name + `="` + c14nAttrEscaper.Replace(a.value) + `"`)
	}
	b.WriteByte('>')
	for _, t := range el.Child {
		switch t := t.(type) {
		case *etree.Element:
			if err := writeC14N(b, t, scope, scope, nil); err != nil {
				return err
			}
		case *etree.CharData:
			b.WriteString(c14nTextEscaper.Replace(t.Data))
		case *etree.ProcInst:
			b.WriteString("<?" + t.Target)
			if t.Inst != "" {
				b.WriteString(" " + t.Inst)
			}
			b.WriteString("?>")
		case *etree.Directive:
			return fmt.Errorf("%w: directive inside a signed element", ErrBadSignature)
		}
	}
	b.WriteString("</" + el.FullTag() + ">")
	return nil
}

var (
	c14nTextEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", "&#xD;")
	c14nAttrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", `"`, "&quot;", "\t", "&#x9;", "\n", "&#xA;", "\r", "&#xD;")
)
