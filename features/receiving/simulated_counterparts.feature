@dpo
Feature: Simulated counterparts and injected messages at the DPO broker
  A vendor testing one archive system has no second integration point. The DPO simulator then plays the
  other organisation: it answers what it receives with MOTTATT, LEVERT and an arkivmelding_kvittering as a
  real integration point and archive system would, and it delivers messages to the integration point under
  test, packed, signed and encrypted as a real sender does.

  Scenario: a simulated receiver answers with MOTTATT, LEVERT and a kvittering OK
    Given the DPO simulator answers for "{org:partial-dpo}" with:
      """
      {"mottatt": "50ms", "levert": "150ms", "kvittering": "OK", "kvitteringDelay": "250ms"}
      """
    When archive system A sends an arkivmelding to "{org:partial-dpo}" that expires in 60000 ms
    Then the message's statuses at A become "OPPRETTET, SENDT, MOTTATT, LEVERT, LEST"

  Scenario: a simulated receiver that rejects the message
    Given the DPO simulator answers for "{org:partial-dpo}" with:
      """
      {"mottatt": "50ms", "levert": "100ms", "kvittering": "ERROR"}
      """
    When archive system A sends an arkivmelding to "{org:partial-dpo}" that expires in 60000 ms
    Then the message's statuses at A become "OPPRETTET, SENDT, MOTTATT, LEVERT, FEIL"

  Scenario: a message injected at the broker reaches the integration point's in-queue
    When the DPO simulator delivers an arkivmelding from "{org:partial-dpo}" to organisation A
    Then archive system A finds the injected message when it peeks
    When archive system A deletes the injected message
    Then the injected message's statuses at A become "OPPRETTET, INNKOMMENDE_MOTTATT, INNKOMMENDE_LEVERT"
