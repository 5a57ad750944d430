@resilience @faults
Feature: A missing firewall opening: calls time out, nothing piles up, delivery resumes
  A blackholed service accepts connections and never answers, as when a firewall drops the packets. Every
  call the integration point makes has a timeout, so its delivery attempts end and are retried; its own API
  stays responsive meanwhile; when the opening is restored every message is delivered once. A blackholed
  address register during create is answered promptly with 503 and a body that names the register.

  Scenario Outline: <service> is blackholed while messages are sent
    Given the <service> has the fault:
      """
      {"mode": "blackhole"}
      """
    When I send 3 "<type>" messages to "<receiver>"
    And I wait 2500 ms
    And a client with a timeout of 1s calls "/manage/health" on the integration point
    Then the call is answered with status 200
    When the fault on the <service> is cleared
    Then every message's statuses become "<statuses>"
    And the <service> holds each message exactly once

    Examples:
      | service       | type         | receiver          | statuses                          |
      | DPO broker    | arkivmelding | {org:partial-dpo} | OPPRETTET, SENDT                  |
      | DPF simulator | arkivmelding | {org:dpf}         | OPPRETTET, SENDT, LEVERT          |
      | DPI simulator | digital      | {citizen:digital} | OPPRETTET, SENDT, MOTTATT, LEVERT |

  Scenario: a blackholed address register answers create with 503 naming it
    Given the address register has the fault:
      """
      {"mode": "blackhole"}
      """
    When I create an "arkivmelding" message to "{org:receiver}"
    Then the integration point answers 503 with "ResourceAccessException" and a message containing "address register"
