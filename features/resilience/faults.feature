@resilience @faults
Feature: Faults on a simulated service, as a client with a timeout sees them
  Each simulator can be made to refuse connections (the host is down), blackhole them (a firewall opening
  is missing: the client must time out), reset them, answer slowly, or answer with an error status. The
  fault is set and cleared on the harness control port, which keeps working while the service's own port
  is refused or blackholed.

  Scenario: refuse — the port is closed, then open again on the same address
    Given the address register has the fault:
      """
      {"mode": "refuse"}
      """
    When a client with a timeout of 1s calls "/identifier/{org:receiver}" on the address register
    Then the call is refused
    When the fault on the address register is cleared
    And a client with a timeout of 1s calls "/identifier/{org:receiver}" on the address register
    Then the call is answered with status 200

  Scenario: blackhole — connections are accepted and never answered
    Given the address register has the fault:
      """
      {"mode": "blackhole"}
      """
    When a client with a timeout of 1s calls "/identifier/{org:receiver}" on the address register
    Then the call times out after about 1s
    When the fault on the address register is cleared
    And a client with a timeout of 1s calls "/identifier/{org:receiver}" on the address register
    Then the call is answered with status 200

  Scenario: blackhole on one path only
    Given Maskinporten has the fault:
      """
      {"mode": "blackhole", "paths": ["/token"]}
      """
    When a client with a timeout of 0.5s calls "/jwk" on Maskinporten
    Then the call is answered with status 200
    When a client with a timeout of 0.5s calls "/token" on Maskinporten
    Then the call times out after about 0.5s

  Scenario: reset — the connection is dropped
    Given the address register has the fault:
      """
      {"mode": "reset"}
      """
    When a client with a timeout of 1s calls "/identifier/{org:receiver}" on the address register
    Then the call is reset by the peer
    And the address register journal shows 1 request to "/identifier/" with fault "reset"

  Scenario: latency — the answer comes, late
    Given the address register has the fault:
      """
      {"mode": "latency", "latency": "400ms"}
      """
    When a client with a timeout of 2s calls "/identifier/{org:receiver}" on the address register
    Then the call is answered with status 200
    And the call took at least 400ms

  Scenario: status — an error in the service's own shape, a given number of times
    Given the address register has the fault:
      """
      {"mode": "status", "status": 503, "count": 2}
      """
    When a client with a timeout of 1s calls "/identifier/{org:receiver}" on the address register
    Then the call is answered with status 503
    When a client with a timeout of 1s calls "/identifier/{org:receiver}" on the address register
    Then the call is answered with status 503
    When a client with a timeout of 1s calls "/identifier/{org:receiver}" on the address register
    Then the call is answered with status 200
    And the address register journal shows 2 requests to "/identifier/" with fault "status"

  Scenario: the admin API on the service's own port is never faulted
    Given the address register has the fault:
      """
      {"mode": "status", "status": 500}
      """
    When I GET "/__admin/health" from the address register
    Then the response status is 200
    And the response JSON has "fault.fault.mode" = "status"
