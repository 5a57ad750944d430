@dpf
Feature: Sending over DPF (KS SvarUt)
  Municipalities and others on KS FIKS get their arkivmeldinger through SvarUt. The integration point maps
  arkivmelding.xml to a forsendelse (journalpost metadata, avsender as svarSendesTil, ReceiverRef as
  svarPaForsendelseId, security level 4 as HOYESTE), encrypts each document arkivmelding.xml names for
  SvarUt's certificate, and registers SENDT and LEVERT as soon as SvarUt accepts it; SvarUt's LEST gives
  LEST (spec upstreams §6.1, §6.3, §6.4; certification §4.3).

  Scenario: an arkivmelding to a municipality reaches SvarUt with its metadata mapped, then is read
    When I create an "arkivmelding" message to "{org:dpf}"
    And I upload an arkivmelding.xml referring to "brev.pdf, vedlegg.pdf"
    And I upload a PDF named "vedlegg.pdf"
    And I upload a PDF named "brev.pdf"
    And I send the message
    Then the message's statuses become "OPPRETTET, SENDT, LEVERT"
    And the DPF simulator holds the forsendelse with:
      | tittel                                       | Bestilling av nye lysrør |
      | eksternReferanse                             | {message-id}             |
      | mottaker.organisasjonsnummer                 | {orgnr:dpf}              |
      | svarSendesTil.organisasjonsnummer            | {orgnr:sender}           |
      | sikkerhetsniva                               | BETYDELIG                |
      | kryptert                                     | true                     |
      | metadataFraAvleverendeSystem.journalposttype | U                        |
      | metadataFraAvleverendeSystem.journalstatus   | J                        |
      | metadataFraAvleverendeSystem.sakssekvensnummer | 7                      |
      | metadataFraAvleverendeSystem.journalsekvensnummer | 42                  |
      | metadataFraAvleverendeSystem.tittel          | Bestilling av nye lysrør |
      | dokumenter.0.filnavn                         | brev.pdf                 |
      | dokumenter.0.mimeType                        | application/pdf          |
    And the DPF simulator holds the documents "brev.pdf, vedlegg.pdf" as they were uploaded, decrypted
    When the DPF simulator marks the forsendelse read
    Then the message's statuses become "OPPRETTET, SENDT, LEVERT, LEST"

  Scenario: security level 4 and the references of an answer
    When I create an arkivmelding at security level 4 to "{org:dpf}" with a SenderRef and a ReceiverRef
    And I upload an arkivmelding.xml referring to "brev.pdf"
    And I upload a PDF named "brev.pdf"
    And I send the message
    Then the message's statuses become "OPPRETTET, SENDT, LEVERT"
    And the DPF simulator holds the forsendelse with:
      | sikkerhetsniva      | HOYESTE        |
      | svarPaForsendelseId | {receiver-ref} |
      | eksternReferanse    | {message-id}   |

  Scenario: a forsendelse type SvarUt does not know is refused at create
    When I create an "arkivmelding" message to "{org:dpf}" with the DPF settings:
      """
      {"forsendelseType": "Hemmelig sak"}
      """
    Then the integration point answers 400 with "ForsendelseTypeNotFoundException" and a message containing "Found forsendelseType Hemmelig sak, but valid types are [Byggesøknad"

  Scenario: a forsendelse type SvarUt knows goes into the forsendelse
    When I create an "arkivmelding" message to "{org:dpf}" with the DPF settings:
      """
      {"forsendelseType": "Byggesøknad"}
      """
    And I upload an arkivmelding.xml referring to "brev.pdf"
    And I upload a PDF named "brev.pdf"
    And I send the message
    Then the message's statuses become "OPPRETTET, SENDT, LEVERT"
    And the DPF simulator holds the forsendelse with:
      | forsendelsestype | Byggesøknad |

  Scenario: a forsendelse SvarUt rejects ends as FEIL at once
    Given the DPF simulator rejects forsendelser with 400 "Ugyldig innhold: mottaker finnes ikke"
    When I create an "arkivmelding" message to "{org:dpf}"
    And I upload an arkivmelding.xml referring to "brev.pdf"
    And I upload a PDF named "brev.pdf"
    And I send the message
    Then the message's statuses become "OPPRETTET, FEIL"
    And the message's last status has a description containing "Failed to deliver message - check raw receipt"
