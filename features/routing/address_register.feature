Feature: Routing rules at the address register
  The address register alone picks the channel of a message (spec peers §1.5). These scenarios pin down
  the register's rules on the harness's test population: organisations on eFormidling (DPO), partly on
  eFormidling, only in Altinn (DPV), in KS SvarUt (DPF) and on eInnsyn (DPE); citizens with a mailbox (DPI),
  reserved or not notifiable (print), without a mailbox (DPV), with a secret address or deleted in KRR.

  Scenario Outline: an organisation's channel follows its registrations
    When I look up "<receiver>" in the address register for process "<process>"
    Then the response status is 200
    And the records are "<records>"
    And the response JSON has "infoRecord.identifier" = "<receiver>"

    Examples:
      | receiver          | process                                                          | records |
      | {org:receiver}    | urn:no:difi:profile:arkivmelding:administrasjon:ver1.0           | DPO     |
      | {org:receiver}    | urn:no:difi:profile:arkivmelding:response:ver1.0                 | DPO     |
      | {org:sender}      | urn:no:difi:profile:avtalt:avtalt:ver1.0                         | DPO     |
      | {org:partial-dpo} | urn:no:difi:profile:arkivmelding:planByggOgGeodata:ver1.0        | DPO     |
      | {org:partial-dpo} | urn:no:difi:profile:arkivmelding:kulturIdrettOgFritid:ver1.0     | DPV     |
      | {org:dpv}         | urn:no:difi:profile:arkivmelding:administrasjon:ver1.0           | DPV     |
      | {org:dpf}         | urn:no:difi:profile:arkivmelding:administrasjon:ver1.0           | DPF     |
      | {org:einnsyn}     | urn:no:difi:profile:einnsyn:journalpost:ver1.0                   | DPE     |
      | {org:einnsyn}     | urn:no:difi:profile:arkivmelding:administrasjon:ver1.0           | DPO     |

  Scenario: a DPO record carries the receiver's certificate and the broker's codes
    When I look up "{org:receiver}" in the address register for process "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0"
    Then every record carries a certificate
    And the response JSON has "serviceRecords.0.service.serviceCode" = "4192"
    And the response JSON has "serviceRecords.0.service.resource" = "eformidling-dpo-meldingsutveksling"

  Scenario: a DPV record names the Altinn resource of the process
    When I look up "{org:dpv}" in the address register for process "urn:no:difi:profile:arkivmelding:taushetsbelagt:ver1.0"
    Then the records are "DPV"
    And the response JSON has "serviceRecords.0.service.resource" = "eformidling-dpv-taushetsbelagt"

  Scenario: an eInnsyn record names its Service Bus queue suffix
    When I look up "{org:einnsyn}" in the address register for process "urn:no:difi:profile:einnsyn:innsynskrav:ver1.0"
    Then the records are "DPE"
    And the response JSON has "serviceRecords.0.service.endpointUrl" = "innsyn"

  Scenario Outline: KS SvarUt levels decide DPF, DPV or a refusal
    When I look up "<receiver>" in the address register for process "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0" with security level <level>
    Then the response status is <status>
    And the response JSON has "<field>" = "<value>"

    Examples:
      | receiver         | level | status | field                                | value |
      | {org:dpf}        | 3     | 200    | serviceRecords.0.service.securityLevel | 3   |
      | {org:dpf}        | 4     | 200    | serviceRecords.0.service.securityLevel | 4   |
      | {org:dpf-level3} | 3     | 200    | serviceRecords.0.service.identifier    | DPF |
      | {org:dpf-level3} | 4     | 400    | error_code                             |     |

  Scenario: without a security level a municipality gets its highest SvarUt level
    When I look up "{org:dpf}" in the address register for process "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0"
    Then the response JSON has "serviceRecords.0.service.securityLevel" = "4"

  Scenario: an organisation on eFormidling has no DPV fallback on level 4
    When I look up "{org:partial-dpo}" in the address register for process "urn:no:difi:profile:arkivmelding:kulturIdrettOgFritid:ver1.0" with security level 4
    Then the response status is 404
    And the response body is exactly:
      """
      {"error_code":"","error_description":"Process urn:no:difi:profile:arkivmelding:kulturIdrettOgFritid:ver1.0 not found for receiver {org:partial-dpo}"}
      """

  Scenario Outline: a citizen's channel follows KRR: mailbox, reservation, notifiability, status and address
    When I look up "<citizen>" in the address register for process "urn:no:difi:profile:digitalpost:<process>:ver1.0"
    Then the response status is 200
    And the records are "<records>"
    And the response JSON has "infoRecord.entityType.name" = "citizen"

    Examples:
      | citizen                   | process | records   |
      | {citizen:digital}         | info    | DPI       |
      | {citizen:digital}         | vedtak  | DPI       |
      | {citizen:digital-eboks}   | vedtak  | DPI       |
      | {citizen:reserved}        | vedtak  | PRINT     |
      | {citizen:reserved}        | info    | PRINT,DPV |
      | {citizen:not-notifiable}  | vedtak  | PRINT     |
      | {citizen:not-notifiable}  | info    | DPI       |
      | {citizen:no-mailbox}      | info    | PRINT,DPV |
      | {citizen:secret-address}  | vedtak  | DPV       |
      | {citizen:deleted}         | info    | PRINT,DPV |
      | {d-number}                | vedtak  | PRINT,DPV |

  Scenario: print=false leaves out the print record, as an IP without print lookup asks
    When I look up "{citizen:no-mailbox}" in the address register for process "urn:no:difi:profile:digitalpost:info:ver1.0" without print
    Then the records are "DPV"

  Scenario: a digital DPI record names the mailbox
    When I look up "{citizen:digital}" in the address register for process "urn:no:difi:profile:digitalpost:info:ver1.0"
    Then every record carries a certificate
    And the response JSON has "serviceRecords.0.postkasseAdresse" = "ola.nordmann#9YDT"
    And the response JSON has "serviceRecords.0.fysiskPost" = "false"

  Scenario: every record of an organisation, without a process
    When I look up "{org:einnsyn}" in the address register
    Then the response status is 200
    And the record for process "urn:no:difi:profile:einnsyn:meeting:ver1.0" is "DPE"
    And the record for process "urn:no:difi:profile:arkivmelding:helseSosialOgOmsorg:ver1.0" is "DPV"

  Scenario: an unknown organisation gets the register's 404
    When I look up "{unknown-org}" in the address register for process "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0"
    Then the response status is 404
    And the response body is exactly:
      """
      {"error_code":"","error_description":"Entity with identifier '0192:{unknown-org}' not found."}
      """

  Scenario: a fødselsnummer with wrong check digits is refused with 400
    When I look up "{invalid-fnr}" in the address register
    Then the response status is 400
    And the response JSON has "error_description" = "Unable to parse identifier = '{invalid-fnr}'"
    And the response JSON has "path" = "/identifier/{invalid-fnr}"

  Scenario: an unknown citizen gets the register's hand-written 404
    When I look up "{unknown-fnr}" in the address register
    Then the response status is 404
    And the response body is exactly:
      """
      {"message": "No service record found for citizen: {unknown-fnr}"}
      """

  Scenario: an unknown process gets 404
    When I look up "{org:receiver}" in the address register for process "urn:no:difi:profile:nonexistent:ver1.0"
    Then the response status is 404
    And the response JSON has "error_description" = "Process urn:no:difi:profile:nonexistent:ver1.0 not found for receiver {org:receiver}"

  Scenario: /info of an unknown organisation is an empty 404
    When I GET "/info/{unknown-org}" from the address register
    Then the response status is 404
    And the response body is empty

  Scenario: an address added, changed and removed at run time is served at once
    When I register in the address register:
      """
      {"identifier": "{unknown-org}",
       "organization": {"name": "NY TESTKOMMUNE", "orgForm": "KOMM", "svarUtLevels": [3]}}
      """
    And I look up "{unknown-org}" in the address register for process "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0"
    Then the response status is 200
    And the records are "DPF"
    When I register in the address register:
      """
      {"identifier": "{unknown-org}",
       "organization": {"name": "NY TESTKOMMUNE", "orgForm": "KOMM"}}
      """
    And I look up "{unknown-org}" in the address register for process "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0"
    Then the records are "DPV"
    When I remove "{unknown-org}" from the address register
    And I look up "{unknown-org}" in the address register for process "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0"
    Then the response status is 404
