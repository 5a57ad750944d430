package dpv

import (
	"io"
	"strings"
	"testing"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
)

func TestReadArkivmelding(t *testing.T) {
	for name, c := range map[string]struct {
		xml         string
		title, body string
		refs        string
	}{
		"mappe": {`<arkivmelding xmlns="http://www.arkivverket.no/standarder/noark5/arkivmelding"><mappe><tittel>Sak</tittel>
			<basisregistrering><dokumentbeskrivelse><dokumentnummer>2</dokumentnummer><dokumentobjekt><referanseDokumentfil>b.pdf</referanseDokumentfil></dokumentobjekt></dokumentbeskrivelse>
			<dokumentbeskrivelse><dokumentnummer>1</dokumentnummer><dokumentobjekt><referanseDokumentfil>a.pdf</referanseDokumentfil></dokumentobjekt></dokumentbeskrivelse>
			<tittel>Intern tittel</tittel><offentligTittel>Offentlig tittel</offentligTittel></basisregistrering></mappe></arkivmelding>`,
			"Offentlig tittel", "Intern tittel", "a.pdf,b.pdf"},
		"top-level journalpost without offentligTittel": {`<arkivmelding><basisregistrering><tittel>Bare tittel</tittel>
			<dokumentbeskrivelse><dokumentnummer>1</dokumentnummer><dokumentobjekt><referanseDokumentfil>x.pdf</referanseDokumentfil></dokumentobjekt></dokumentbeskrivelse>
			</basisregistrering></arkivmelding>`, "Bare tittel", "Bare tittel", "x.pdf"},
	} {
		t.Run(name, func(t *testing.T) {
			m := channel.Message{Files: []store.File{{Filename: "arkivmelding.xml"}},
				Open: func(store.File) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(c.xml)), nil }}
			jp, refs, err := readArkivmelding(m)
			if err != nil {
				t.Fatal(err)
			}
			title := jp.OffentligTittel
			if title == "" {
				title = jp.Tittel
			}
			if title != c.title || jp.Tittel != c.body || strings.Join(refs, ",") != c.refs {
				t.Errorf("title %q body %q refs %v", title, jp.Tittel, refs)
			}
		})
	}
}
