@resilience @crash
Feature: A crash of the integration point loses nothing and does nothing twice
  When the integration point dies at once — killed with SIGKILL, a power cut, an OOM kill — and is
  started again on the same data, every message it accepted before the crash is delivered exactly once,
  and every message it was fetching from a broker reaches the archive system exactly once: none is
  lost, none is queued twice, and the broker ends with each one confirmed.

  Against a running stack the scenarios need `efm-harness test --ip-restart-cmd 'COMMAND'` (for example
  `docker kill ip && docker start ip`). The in-process feature test emulates the crash inside one process (see
  stack.RestartIP); the real SIGKILL of a separate process is proven by the tests of cmd/efm-harness.

  @dpf
  Scenario: messages accepted before a crash are delivered exactly once after it
    When I send 8 "arkivmelding" messages to "{org:dpf}"
    And the integration point is killed and started again
    Then every message's statuses become "OPPRETTET, SENDT, LEVERT"
    And the DPF simulator holds each message exactly once

  @dpo @dpf
  Scenario: messages being fetched during a crash reach the archive system exactly once
    Given the DPO simulator holds 30 arkivmeldinger from "{org:receiver}" for organisation A
    And SvarInn holds 10 forsendelser from "{org:dpf}" for organisation A
    When the integration point is killed and started again while it fetches them
    Then archive system A takes every held message exactly once
    And the DPO broker has every held transfer confirmed
    And SvarInn has every held forsendelse acknowledged
