@two-ips @dpo
Feature: Receiving over DPO, the incoming queue and receipts between two integration points
  Integration point A (organisation 910077473) sends to integration point B (910075918) through the DPO
  broker. B polls the broker, stores the message and sends MOTTATT back; B's archive system takes the
  message with peek, pop and delete, which sends LEVERT back; B's archive system answers with an
  arkivmelding_kvittering, which gives LEST at A (spec ip-api §7, upstreams §1.2, §4.4–4.5). No simulated
  counterpart is involved: both sides are reference integration points. (LEVERT and a kvittering sent
  right after the delete travel independently, as in the real IP, so the scenarios let LEVERT arrive first.)

  Scenario: a message from A is received, consumed and acknowledged at B, and A sees MOTTATT and LEVERT
    When archive system A sends an arkivmelding to organisation B
    Then the message's statuses at B become "OPPRETTET, INNKOMMENDE_MOTTATT"
    And the message's statuses at A become "OPPRETTET, SENDT, MOTTATT"
    When archive system B finds the message when it peeks
    And archive system B pops the message and gets the files A uploaded
    And archive system B deletes the message
    Then the message's statuses at B become "OPPRETTET, INNKOMMENDE_MOTTATT, INNKOMMENDE_LEVERT"
    And the message's statuses at A become "OPPRETTET, SENDT, MOTTATT, LEVERT"
    And archive system B finds nothing to peek for the message

  Scenario: an arkivmelding_kvittering OK from B gives LEST at A, and A's archive system gets the kvittering
    When archive system A sends an arkivmelding to organisation B
    And archive system B finds the message when it peeks
    And archive system B deletes the message
    And the message's statuses at A become "OPPRETTET, SENDT, MOTTATT, LEVERT"
    And archive system B answers the message with an arkivmelding_kvittering "OK"
    Then the message's statuses at A become "OPPRETTET, SENDT, MOTTATT, LEVERT, LEST"
    And archive system A finds the kvittering when it peeks
    And archive system A pops the kvittering and gets no content
    When archive system A deletes the kvittering
    Then the kvittering's statuses at A become "OPPRETTET, INNKOMMENDE_MOTTATT, INNKOMMENDE_LEVERT"

  Scenario Outline: a negative kvittering gives FEIL at A
    When archive system A sends an arkivmelding to organisation B
    And archive system B finds the message when it peeks
    And archive system B deletes the message
    And the message's statuses at A become "OPPRETTET, SENDT, MOTTATT, LEVERT"
    And archive system B answers the message with an arkivmelding_kvittering "<receiptType>"
    Then the message's statuses at A become "OPPRETTET, SENDT, MOTTATT, LEVERT, FEIL"

    Examples:
      | receiptType  |
      | ERROR        |
      | NOTSUPPORTED |

  Scenario: pop and delete need the lock that peek takes
    When archive system A sends an arkivmelding to organisation B
    And the message's statuses at B become "OPPRETTET, INNKOMMENDE_MOTTATT"
    And archive system B pops the message without peeking first
    Then the integration point answers 400 with "MessageNotLockedException"

  Scenario: the lock of a peeked message expires and the message can be peeked again
    # The suite runs the integration points with a 2 s lock (5 min in the real IP).
    When archive system A sends an arkivmelding to organisation B
    And archive system B finds the message when it peeks
    Then archive system B finds nothing to peek for the message
    When I wait 2500 ms
    Then archive system B finds the message when it peeks

  Scenario: an incoming message nobody consumes expires at B and leaves the in-queue
    When archive system A sends an arkivmelding to organisation B that expires in 8000 ms
    Then the message's statuses at B become "OPPRETTET, INNKOMMENDE_MOTTATT, LEVETID_UTLOPT"
    And archive system B finds nothing to peek for the message
    And the message's statuses at A become "OPPRETTET, SENDT, MOTTATT, LEVETID_UTLOPT"

  Scenario: a DPO receiver that never answers leaves the message LEVETID_UTLOPT at the sender
    When archive system A sends an arkivmelding to "{org:partial-dpo}" that expires in 3000 ms
    Then the message's statuses at A become "OPPRETTET, SENDT, LEVETID_UTLOPT"

  Scenario: webhook events for a filtered subscription, retried when the endpoint first fails
    Given a webhook endpoint that fails the first 2 deliveries is subscribed at A with the filter "status=LEVERT,LEST"
    When archive system A sends an arkivmelding to organisation B
    And archive system B finds the message when it peeks
    And archive system B deletes the message
    And the message's statuses at A become "OPPRETTET, SENDT, MOTTATT, LEVERT"
    And archive system B answers the message with an arkivmelding_kvittering "OK"
    Then the webhook endpoint receives exactly the statuses "LEVERT, LEST" for the message
    And the webhook endpoint got 2 failed deliveries before they succeeded
