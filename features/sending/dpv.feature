@dpv
Feature: Sending over DPV (Altinn 3 Correspondence)
  An organisation that is on no eFormidling process gets its messages in the Altinn inbox: the
  integration point uploads a correspondence with the title and body taken from the journalpost and the
  attachments arkivmelding.xml names, then polls its status: Published gives LEVERT, Read gives LEST,
  deletion in Altinn gives ANNET (spec upstreams §5, ip-api §6.2).

  Scenario: an arkivmelding to a DPV organisation is published, then read
    When I create an "arkivmelding" message to "{org:dpv}"
    And I upload an arkivmelding.xml referring to "brev.pdf, vedlegg.pdf"
    And I upload a PDF named "brev.pdf"
    And I upload a PDF named "vedlegg.pdf"
    And I send the message
    Then the message's statuses become "OPPRETTET, SENDT, LEVERT"
    And the DPV simulator holds the message with the title "Bestilling av nye lysrør" and the attachments "brev.pdf, vedlegg.pdf"
    When the DPV simulator marks the message read
    Then the message's statuses become "OPPRETTET, SENDT, LEVERT, LEST"

  Scenario: a correspondence Altinn rejects with 400 ends as FEIL within one attempt
    Given the DPV simulator rejects uploads with 400 "Recipient not found in Altinn"
    When I create an "arkivmelding" message to "{org:dpv}"
    And I upload an arkivmelding.xml referring to "brev.pdf"
    And I upload a PDF named "brev.pdf"
    And I send the message
    Then the message's statuses become "OPPRETTET, FEIL"
    And the message's last status has a description containing "Failed to deliver message - check raw receipt"

  Scenario: a correspondence deleted in Altinn gives ANNET and polling stops
    When I create an "arkivmelding" message to "{org:dpv}"
    And I upload an arkivmelding.xml referring to "brev.pdf"
    And I upload a PDF named "brev.pdf"
    And I send the message
    And the message's statuses become "OPPRETTET, SENDT, LEVERT"
    And the DPV simulator deletes the message
    Then the message's statuses become "OPPRETTET, SENDT, LEVERT, ANNET"
    And the message's last status has a description containing "Melding slettet i Altinn, stopper polling."

  Scenario: digital_dpv to a citizen without a digital mailbox goes to Altinn
    When I create an "digital_dpv" message to "{citizen:no-mailbox}"
    And I upload a PDF named "brev.pdf"
    And I send the message
    Then the message's statuses become "OPPRETTET, SENDT, LEVERT"
    And the DPV simulator holds the message with the title "Melding fra kommunen" and the attachments "brev.pdf"

  Scenario: a confidential process goes to the confidential Altinn resource
    When I create an "arkivmelding" message to "{org:dpv}" under the process "urn:no:difi:profile:arkivmelding:taushetsbelagt:ver1.0"
    And I upload an arkivmelding.xml referring to "brev.pdf"
    And I upload a PDF named "brev.pdf"
    And I send the message
    Then the message's statuses become "OPPRETTET, SENDT, LEVERT"
    And the DPV simulator holds the message for the resource "eformidling-dpv-taushetsbelagt", marked confidential

  Scenario: every file of a DPV message needs a title
    When I create an "arkivmelding" message to "{org:dpv}"
    And I upload a PDF named "brev.pdf" without a title
    Then the integration point answers 400 with "MissingFileTitleException" and a message containing "DPV"

  Scenario: the arkivmelding's DPV settings choose the notification
    When I create an "arkivmelding" message to "{org:dpv}" with the DPV settings:
      """
      {"varselType": "VarselDPVUtenRevarsel", "varselTransportType": "SMS",
       "varselTekst": "Du har fått brev fra $reporterName$"}
      """
    And I upload an arkivmelding.xml referring to "brev.pdf"
    And I upload a PDF named "brev.pdf"
    And I send the message
    Then the message's statuses become "OPPRETTET, SENDT, LEVERT"
    And the DPV simulator notified by "Sms" with "Du har fått brev fra LOTE OG ÅRVIKSAND" and no reminder

  Scenario: the answer to an upload is lost; the retry's 409 is resolved through sendersReference
    Given the DPV simulator processes the next upload but loses the answer
    When I create an "arkivmelding" message to "{org:dpv}"
    And I upload an arkivmelding.xml referring to "brev.pdf"
    And I upload a PDF named "brev.pdf"
    And I send the message
    Then the message's statuses become "OPPRETTET, SENDT, LEVERT"
    And the DPV simulator holds the message once
    And the DPV simulator journal shows 1 POST request to "/correspondence/api/v1/correspondence/upload" with fault "drop"
    And the DPV simulator journal shows 2 POST requests to "/correspondence/api/v1/correspondence/upload"
