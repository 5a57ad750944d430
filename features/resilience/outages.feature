@resilience @faults
Feature: Outages of a message service lose nothing and send nothing twice
  When a message service is down — it refuses connections, or answers 503 — the integration point keeps
  the messages it accepted and retries with back-off; when the service is back, every message is delivered
  exactly once (the simulator's own record shows no second upload) and no message ends as FEIL. An outage
  longer than the messages' time to live ends each of them as LEVETID_UTLOPT instead.

  Scenario Outline: <service> <outage> while messages are sent
    Given the <service> has the fault:
      """
      <fault>
      """
    When I send 4 "<type>" messages to "<receiver>"
    And I wait 1500 ms
    And the fault on the <service> is cleared
    Then every message's statuses become "<statuses>"
    And the <service> holds each message exactly once

    Examples:
      | service       | outage               | fault                                                  | type         | receiver           | statuses                              |
      | DPO broker    | refuses connections  | {"mode": "refuse"}                                     | arkivmelding | {org:partial-dpo}  | OPPRETTET, SENDT                      |
      | DPO broker    | answers 503          | {"mode": "status", "status": 503, "paths": ["/broker/"]} | arkivmelding | {org:partial-dpo} | OPPRETTET, SENDT                      |
      | DPV simulator | refuses connections  | {"mode": "refuse"}                                     | arkivmelding | {org:dpv}          | OPPRETTET, SENDT, LEVERT              |
      | DPV simulator | answers 503          | {"mode": "status", "status": 503, "paths": ["/correspondence/"]} | arkivmelding | {org:dpv} | OPPRETTET, SENDT, LEVERT      |
      | DPF simulator | refuses connections  | {"mode": "refuse"}                                     | arkivmelding | {org:dpf}          | OPPRETTET, SENDT, LEVERT              |
      | DPF simulator | answers 503          | {"mode": "status", "status": 503}                      | arkivmelding | {org:dpf}          | OPPRETTET, SENDT, LEVERT              |
      | DPI simulator | refuses connections  | {"mode": "refuse"}                                     | digital      | {citizen:digital}  | OPPRETTET, SENDT, MOTTATT, LEVERT     |
      | DPI simulator | answers 503          | {"mode": "status", "status": 503}                      | digital      | {citizen:digital}  | OPPRETTET, SENDT, MOTTATT, LEVERT     |

  Scenario: an outage longer than the time to live ends every message as LEVETID_UTLOPT
    Given a webhook endpoint is subscribed at A with the filter "status=LEVETID_UTLOPT,FEIL,SENDT"
    And the DPF simulator has the fault:
      """
      {"mode": "refuse"}
      """
    When I send 3 "arkivmelding" messages to "{org:dpf}" that expire in 4000 ms
    Then every message's statuses become "OPPRETTET, LEVETID_UTLOPT"
    And the webhook endpoint receives exactly the statuses "LEVETID_UTLOPT" for every message
    When the fault on the DPF simulator is cleared
    And I wait 500 ms
    Then the DPF simulator journal shows 0 POST requests to "/api/v3/kontoer/"

  Scenario Outline: the <service> <outage> while accepted messages are delivered
    The register's answers are cached for a moment (5 minutes; --fast 0.3 s); the outage outlasts that.

    Given I prepare 3 "arkivmelding" messages to "{org:dpf}"
    And the <service> has the fault:
      """
      <fault>
      """
    When I send the prepared messages
    And I wait 1500 ms
    And the fault on the <service> is cleared
    Then every message's statuses become "OPPRETTET, SENDT, LEVERT"
    And the DPF simulator holds each message exactly once

    Examples:
      | service          | outage              | fault                             |
      | address register | refuses connections | {"mode": "refuse"}                |
      | address register | answers 503         | {"mode": "status", "status": 503} |

  Scenario Outline: Maskinporten <outage> when the <service> needs a token
    The integration point keeps its tokens until shortly before they expire, so an outage of Maskinporten
    bites only when a token must be fetched: the first call to a service (DPO and DPV exchange the token
    at Altinn first), or after the service refused the cached token (as after a key rotation; here the
    service answers 401 once, on the path messages are sent to, so that no other call such as SvarInn's
    polling takes it). The messages must wait until Maskinporten is back. Maskinporten's journal shows
    the token request it refused, which proves the outage bit (refused connections leave no journal, so
    they are not an example here).

    Given I prepare 4 "<type>" messages to "<receiver>"
    And Maskinporten has the fault:
      """
      <fault>
      """
    And the <service> has the fault:
      """
      {"mode": "status", "status": 401, "count": 1, "paths": ["<send path>"]}
      """
    When I send the prepared messages
    And I wait 1500 ms
    Then the <bitten> journal shows at least 1 request to "<path>" with fault "status"
    When the fault on Maskinporten is cleared
    Then every message's statuses become "<statuses>"
    And the <service> holds each message exactly once

    Examples:
      | service       | send path                | outage              | fault                             | type         | receiver          | bitten        | path   | statuses                          |
      | DPF simulator | /api/v3/                 | answers 503         | {"mode": "status", "status": 503} | arkivmelding | {org:dpf}         | Maskinporten  | /token | OPPRETTET, SENDT, LEVERT          |
      | DPO broker    | /broker/                 | answers 503         | {"mode": "status", "status": 503} | arkivmelding | {org:partial-dpo} | Maskinporten  | /token | OPPRETTET, SENDT                  |
      | DPV simulator | /correspondence/         | answers 503         | {"mode": "status", "status": 503} | arkivmelding | {org:dpv}         | Maskinporten  | /token | OPPRETTET, SENDT, LEVERT          |
      | DPI simulator | /api/v2/dpi/messages/out | answers 503         | {"mode": "status", "status": 503} | digital      | {citizen:digital} | Maskinporten  | /token | OPPRETTET, SENDT, MOTTATT, LEVERT |

  Scenario: a Maskinporten outage longer than the time to live ends every message as LEVETID_UTLOPT
    DPV refuses every token it is shown, as after a key rotation, so that no message gets through on a
    token cached before the outage; the integration point never gets a fresh one while Maskinporten is
    down, so no message ends as FEIL either: each waits until its time to live is over.

    Given a webhook endpoint is subscribed at A with the filter "status=LEVETID_UTLOPT,FEIL,SENDT"
    And I prepare 3 "arkivmelding" messages to "{org:dpv}" that expire in 4000 ms
    And Maskinporten has the fault:
      """
      {"mode": "status", "status": 503}
      """
    And the DPV simulator has the fault:
      """
      {"mode": "status", "status": 401}
      """
    When I send the prepared messages
    Then every message's statuses become "OPPRETTET, LEVETID_UTLOPT"
    And the webhook endpoint receives exactly the statuses "LEVETID_UTLOPT" for every message
    When the fault on Maskinporten is cleared
    And I wait 500 ms
    Then the DPV simulator journal shows 0 POST requests to "/correspondence/" that no fault answered
