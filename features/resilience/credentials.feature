@resilience @faults
Feature: Wrong credentials end as FEIL, not as endless retries
  Digdir's "asynchronous error" requirement (certification FELLES-2): when a message service refuses the
  integration point's credentials, the message ends as FEIL with a description that names the
  authentication failure. The integration point asks Maskinporten for a fresh token once; a second 401 or
  403 is final.

  Background:
    Given the integration points have finished delivering earlier messages

  Scenario Outline: <service> refuses the credentials
    Given the <service> has the fault:
      """
      {"mode": "status", "status": <status>, "paths": ["<path>"]}
      """
    When I create an "<type>" message to "<receiver>"
    And I upload <files>
    And I upload a PDF named "brev.pdf"
    And I send the message
    Then the message's statuses become "OPPRETTET, FEIL"
    And the message's last status has a description containing "authentication failed"
    And the <service> journal shows 2 POST requests to "<path>" acting for "{org:sender}"

    Examples:
      | service       | status | path                                         | type         | receiver          | files                                       |
      | DPO broker    | 401    | /broker/api/v1/filetransfer                  | arkivmelding | {org:receiver}    | an arkivmelding.xml referring to "brev.pdf" |
      | DPV simulator | 403    | /correspondence/api/v1/correspondence/upload | arkivmelding | {org:dpv}         | an arkivmelding.xml referring to "brev.pdf" |
      | DPF simulator | 401    | /api/v3/kontoer/                             | arkivmelding | {org:dpf}         | an arkivmelding.xml referring to "brev.pdf" |
      | DPI simulator | 403    | /api/v2/dpi/messages/out                     | digital      | {citizen:digital} | a PDF named "vedlegg.pdf"                   |
