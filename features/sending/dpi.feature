@dpi
Feature: Sending over DPI (digital post to citizens and print)
  Citizens with a digital mailbox get digital post through DPI corner 2: the integration point signs a
  forretningsmelding (JWS) and an XAdES-signed ASiC-E with the SDP manifest, encrypted for the mailbox
  provider, and posts both with the sender's Maskinporten token. Corner 2's status gives MOTTATT, the
  mailbox's receipts LEVERT and, when asked for, LEST; a failed notification, returned mail or an error
  gives FEIL. Citizens reserved against digital post get print through the print provider KRR names
  (spec upstreams §7, certification §4.5–§4.6, ip-api §4.4 and §4.7).

  Scenario: digital post with an opening receipt, its title, language and notifications
    When I create an "digital" message to "{citizen:digital}" with the payload fields:
      """
      {"digitalPostInfo": {"virkningsdato": "2026-12-24", "aapningskvittering": true}}
      """
    And I upload a PDF named "brev.pdf"
    And I upload a PDF named "vedlegg.pdf"
    And I send the message
    Then the message's statuses become "OPPRETTET, SENDT, MOTTATT, LEVERT"
    And the DPI simulator holds the message with:
      | type                                          | digital                          |
      | digital.ikkesensitivtittel                    | Vedtak om tilskudd               |
      | digital.spraak                                | NO                               |
      | digital.sikkerhetsnivaa                       | 3                                |
      | digital.aapningskvittering                    | true                             |
      | digital.virkningstidspunkt                    | 2026-12-24T00:00:00+01:00        |
      | digital.varsler.epostvarsel.varslingstekst    | Du har fått et brev fra kommunen |
      | digital.varsler.smsvarsel.varslingstekst      | Du har fått brev                 |
      | digital.varsler.smsvarsel.repetisjoner        | [0,7]                            |
      | digital.avsender.virksomhetsidentifikator.value | 0192:{orgnr:sender}            |
      | manifest.hoveddokument.href                   | brev.pdf                         |
      | manifest.vedlegg.0.href                       | vedlegg.pdf                      |
      | header.documentIdentification.standard        | urn:fdc:digdir.no:2020:innbyggerpost:xsd::innbyggerpost##urn:fdc:digdir.no:2020:innbyggerpost:schema:digital::1.0 |
    And the DPI simulator holds the documents "brev.pdf, vedlegg.pdf" as they were uploaded, decrypted
    When the DPI simulator sends an "aapningskvittering" receipt for the message
    Then the message's statuses become "OPPRETTET, SENDT, MOTTATT, LEVERT, LEST"

  Scenario: a notification that fails gives FEIL
    Given the DPI simulator behaves:
      """
      {"varslingfeilet": {"varslingskanal": "sms", "beskrivelse": "Ugyldig mobilnummer"}}
      """
    When I create an "digital" message to "{citizen:digital}"
    And I upload a PDF named "brev.pdf"
    And I send the message
    Then the message's statuses become "OPPRETTET, SENDT, MOTTATT, LEVERT, FEIL"
    And the message's last status has a description containing "Kvittering for at en spesifisert varsling ikke har blitt sendt"

  Scenario: a metadata document goes with the main document
    When I create an "digital" message to "{citizen:digital}" with the payload fields:
      """
      {"metadataFiler": {"brev.pdf": "brev-metadata.xml"}}
      """
    And I upload a PDF named "brev.pdf"
    And I upload "brev-metadata.xml" as "application/xml" with the content "<lenke><url>https://example.test</url></lenke>"
    And I send the message
    Then the message's statuses become "OPPRETTET, SENDT, MOTTATT, LEVERT"
    And the DPI simulator holds the message with:
      | manifest.hoveddokument.data.href | brev-metadata.xml |
      | manifest.hoveddokument.data.mime | application/xml   |
    And the DPI simulator holds the documents "brev.pdf, brev-metadata.xml" as they were uploaded, decrypted

  Scenario: digital post to a citizen reserved against it is refused, as the register offers only print
    When I create an "digital" message to "{citizen:reserved}"
    Then the integration point answers 400 with "ReceiverDoesNotAcceptProcessException"

  Scenario: print to a reserved citizen goes to the address the register has
    When I create an "print" message to "{citizen:reserved}" with the payload fields:
      """
      {"mottaker": null, "retur": null}
      """
    And I upload a PDF named "brev.pdf"
    And I send the message
    Then the message's statuses become "OPPRETTET, SENDT, MOTTATT, LEVERT"
    And the DPI simulator printed to the address the register has for "{citizen:reserved}"
    And the DPI simulator holds the message with:
      | type                           | utskrift      |
      | receiver                       | {print-provider} |
      | utskrift.utskriftstype         | SORT_HVIT     |
      | utskrift.posttype              | B             |
      | utskrift.retur.returposthaandtering | DIREKTE_RETUR |
      | utskrift.retur.mottaker.navn   | LOTE OG ÅRVIKSAND |

  Scenario: print to a foreign address without a receiver, in colour and A-post
    When I create an "print" message without a receiver with the payload fields:
      """
      {"mottaker": {"navn": "Sven Svensson", "adresselinje1": "Storgatan 1", "postnummer": "111 22", "poststed": "STOCKHOLM", "land": "Sverige"},
       "retur": {"mottaker": {"navn": "Kommunen", "adresselinje1": "Postboks 1", "postnummer": "0468", "poststed": "OSLO"},
                 "returhaandtering": "MAKULERING_MED_MELDING"},
       "utskriftsfarge": "FARGE", "posttype": "A_PRIORITERT"}
      """
    And I upload a PDF named "brev.pdf"
    And I send the message
    Then the message's statuses become "OPPRETTET, SENDT, MOTTATT, LEVERT"
    And the DPI simulator holds the message with:
      | utskrift.mottaker.navn                | Sven Svensson          |
      | utskrift.mottaker.adresselinje2       | 111 22 STOCKHOLM       |
      | utskrift.mottaker.land                | Sverige                |
      | utskrift.retur.mottaker.postnummer    | 0468                   |
      | utskrift.retur.returposthaandtering   | MAKULERING_MED_MELDING |
      | utskrift.utskriftstype                | FARGE                  |
      | utskrift.posttype                     | A                      |

  Scenario: returned mail gives FEIL
    When I create an "print" message to "{citizen:reserved}"
    And I upload a PDF named "brev.pdf"
    And I send the message
    And the message's statuses become "OPPRETTET, SENDT, MOTTATT, LEVERT"
    And the DPI simulator sends a "returpostkvittering" receipt for the message
    Then the message's statuses become "OPPRETTET, SENDT, MOTTATT, LEVERT, FEIL"
    And the message's last status has a description containing "posten ikke har blitt levert til Mottaker"

  Scenario Outline: print addresses are checked at create
    When I create an "print" message without a receiver with the payload fields:
      """
      <fields>
      """
    Then the integration point answers 400 with "MissingAddressInformationException" and a message containing "<what>"

    Examples:
      | fields | what |
      | {"mottaker": null} | [mottaker] |
      | {"mottaker": {"navn": "Ola", "postnummer": "0468", "poststed": "OSLO"}} | [mottaker.postnummer/poststed/adresselinje1] |
      | {"mottaker": {"navn": "Ola", "adresselinje1": "Gate 1", "poststed": "OSLO"}} | [mottaker.postnummer/poststed/adresselinje1] |
      | {"mottaker": {"navn": "Ola", "adresselinje1": "Gate 1", "postnummer": "0468", "poststed": "OSLO"}, "retur": null} | [retur] |
      | {"mottaker": {"navn": "Ola", "adresselinje1": "Gate 1", "postnummer": "0468", "poststed": "OSLO"}, "retur": {"mottaker": {"navn": "K", "adresselinje1": "P 1", "postnummer": "0468"}}} | [retur.postnummer/poststed/adresselinje1] |

  Scenario: every DPI attachment needs a title; the main document may go without
    When I create an "digital" message to "{citizen:digital}"
    And I upload a PDF named "brev.pdf" without a title
    Then the response status is 200
    When I upload a PDF named "vedlegg.pdf" without a title
    Then the integration point answers 400 with "MissingFileTitleException" and a message containing "DPI"

  Scenario: the files of a DPI message may not exceed 50 MB in all
    When I create an "digital" message to "{citizen:digital}"
    And I upload a 30 MiB PDF named "brev.pdf"
    Then the response status is 200
    When I upload a 30 MiB PDF named "vedlegg.pdf"
    Then the integration point answers 400 with "MaxFileSizeExceededException" and a message containing "(DPI, 50MB)"

  Scenario: corner 2 reports the message failed
    Given the DPI simulator behaves:
      """
      {"feilet": true}
      """
    When I create an "digital" message to "{citizen:digital}"
    And I upload a PDF named "brev.pdf"
    And I send the message
    Then the message's statuses become "OPPRETTET, SENDT, FEIL"
    And the message's last status has a description containing "Generell melding om at det har skjedd en feil"
