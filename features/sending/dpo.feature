@dpo
Feature: Sending over DPO through the reference integration point
  An archive system creates, uploads and sends a message through the eFormidling 2 (Next Move) API; the
  integration point looks the receiver up, packs the files as the real IP does (ASiC-E signed with the
  sender's certificate, CMS-encrypted for the receiver's) and uploads them to the Altinn 3 Broker.
  Status OPPRETTET at create, SENDT once the broker has the file (spec ip-api §4, upstreams §4). The
  receiver here is a DPO organisation that no integration point answers for, so the sender's statuses
  stop at SENDT; receiving and receipts are in receiving/.

  Scenario: multi-step send: create, upload arkivmelding.xml and a PDF, send
    When I create an "arkivmelding" message to "{org:partial-dpo}"
    And I upload an arkivmelding.xml referring to "brev.pdf"
    And I upload a PDF named "brev.pdf"
    And I send the message
    Then the response status is 200
    And the message's statuses become "OPPRETTET, SENDT"
    And the DPO broker holds the message once, with every uploaded file decrypted byte for byte

  Scenario: one-step multipart send
    When I send an arkivmelding to "{org:partial-dpo}" with arkivmelding.xml and a PDF in one multipart request
    Then the message's statuses become "OPPRETTET, SENDT"
    And the DPO broker holds the message once, with every uploaded file decrypted byte for byte

  Scenario Outline: capabilities follow the address register
    When I ask the integration point for the capabilities of "<receiver>" for process "<process>"
    Then the response status is 200
    And the capabilities are "<capabilities>"

    Examples:
      | receiver            | process                                                | capabilities |
      | {org:receiver}      | urn:no:difi:profile:arkivmelding:administrasjon:ver1.0 | DPO          |
      | {org:dpv}           | urn:no:difi:profile:arkivmelding:administrasjon:ver1.0 | DPV          |
      | {org:dpf}           | urn:no:difi:profile:arkivmelding:administrasjon:ver1.0 | DPF          |
      | {org:einnsyn}       | urn:no:difi:profile:einnsyn:journalpost:ver1.0         | DPE          |
      | {citizen:digital}   | urn:no:difi:profile:digitalpost:info:ver1.0            | DPI          |
      | {citizen:reserved}  | urn:no:difi:profile:digitalpost:info:ver1.0            | DPI,DPV      |

  Scenario: capabilities of an unknown receiver
    When I ask the integration point for the capabilities of "{unknown-org}"
    Then the integration point answers 404 with "IdentifierNotFoundException"

  Scenario Outline: a malformed create is refused with 4xx and a Spring error body
    When I create an arkivmelding to "<receiver>" with <defect>
    Then the integration point answers <status> with "<exception>"

    Examples:
      | receiver        | defect                                  | status | exception                               |
      | {org:receiver}  | malformed JSON                          | 400    | HttpMessageNotReadableException         |
      | {org:receiver}  | an extra top-level key                  | 400    | HttpMessageNotReadableException         |
      | {org:receiver}  | the payload under another key           | 400    | HttpMessageNotReadableException         |
      | {org:receiver}  | the type "strange"                      | 400    | HttpMessageNotReadableException         |
      | {org:receiver}  | no headerVersion                        | 400    | MethodArgumentNotValidException         |
      | {org:receiver}  | two receivers                           | 400    | MethodArgumentNotValidException         |
      | {org:receiver}  | a messageId that is not a UUID          | 400    | MethodArgumentNotValidException         |
      | {org:receiver}  | an unknown scope type                   | 400    | MethodArgumentNotValidException         |
      | {org:receiver}  | an expectedResponseDateTime in the past | 400    | MethodArgumentNotValidException         |
      | {org:receiver}  | the type avtalt under the arkivmelding standard | 400 | MessageTypeDoesNotFitDocumentTypeException |
      | {org:receiver}  | no ConversationId scope                 | 400    | IllegalStateException                   |
      | {org:receiver}  | a receiver that is no identifier        | 400    | IllegalArgumentException                |
      | {unknown-org}   | no headerVersion                        | 400    | MethodArgumentNotValidException         |

  Scenario: an unknown receiver does not accept the process
    When I create an "arkivmelding" message to "{unknown-org}"
    Then the integration point answers 400 with "ReceiverDoesNotAcceptProcessException" and a message containing "Receiver do not accept the document process"

  Scenario: a receiver on a channel that is not enabled
    When I create an "innsynskrav" message to "{org:einnsyn}"
    Then the integration point answers 400 with "ServiceNotEnabledException" and a message containing "Service DPE is not enabled"

  Scenario: a messageId can be used once
    When I create an "arkivmelding" message to "{org:receiver}"
    And I create an arkivmelding to "{org:receiver}" with the messageId of the previous one
    Then the integration point answers 400 with "MessageAlreadyExistsException"

  Scenario: upload rules: filename once, Content-Disposition required
    When I create an "arkivmelding" message to "{org:receiver}"
    And I upload a PDF named "brev.pdf"
    And I upload a PDF named "brev.pdf"
    Then the integration point answers 400 with "DuplicateFilenameException" and a message containing "brev.pdf"
    When I upload a PDF named "kart.pdf" without a Content-Disposition header
    Then the integration point answers 400 with "MissingRequestHeaderException"

  Scenario: send rules: arkivmelding.xml is required, and every file it names
    When I create an "arkivmelding" message to "{org:receiver}"
    And I send the message
    Then the integration point answers 400 with "MissingFileException"
    When I upload a PDF named "brev.pdf"
    And I send the message
    Then the integration point answers 400 with "MissingArkivmeldingException"
    When I upload an arkivmelding.xml referring to "brev.pdf, vedlegg.pdf"
    And I send the message
    Then the integration point answers 400 with "MissingArkivmeldingFileException" and a message containing "vedlegg.pdf"

  Scenario: the time to live passes between create and send
    # LEVETID_UTLOPT comes from the periodic scan or from the send, whichever is first: with or without
    # the description "Levetiden for meldingen er utgått. Må sendes på nytt", as in the real IP.
    When I create an "arkivmelding" message to "{org:partial-dpo}" that expires in 500 ms
    And I upload an arkivmelding.xml referring to "brev.pdf"
    And I upload a PDF named "brev.pdf"
    And I wait until the message has expired
    And I send the message
    Then the integration point answers 400 with "TimeToLiveException"
    And the message's statuses become "OPPRETTET, LEVETID_UTLOPT"

  Scenario: the broker answers 503 twice, then the message is delivered once
    Given the DPO broker answers 503 to the next 2 requests
    When I create an "arkivmelding" message to "{org:partial-dpo}"
    And I upload an arkivmelding.xml referring to "brev.pdf"
    And I upload a PDF named "brev.pdf"
    And I send the message
    Then the message's statuses become "OPPRETTET, SENDT"
    And the DPO broker journal shows 2 POST requests to "/broker/api/v1/filetransfer" acting for "{org:sender}" with fault "status"
    And the DPO broker holds the message once, with every uploaded file decrypted byte for byte

  Scenario: the broker answers 400: FEIL at once, no retry
    Given the DPO broker answers 400 to every request
    When I create an "arkivmelding" message to "{org:partial-dpo}"
    And I upload an arkivmelding.xml referring to "brev.pdf"
    And I upload a PDF named "brev.pdf"
    And I send the message
    Then the message's statuses become "OPPRETTET, FEIL"
    And the message's last status has a description containing "Failed to deliver message - check raw receipt"
    And the DPO broker journal shows 1 POST request to "/broker/api/v1/filetransfer" acting for "{org:sender}" with fault "status"
