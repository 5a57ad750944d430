@load @dpo @dpv @dpf @dpi
Feature: Throughput: a steady stream through every channel loses nothing and keeps its latency
  The load generator (efm-harness load) sends at a constant arrival rate (open model: an iteration that
  finds no free virtual user is dropped, never queued) and times each message from its send to SENDT and
  LEVERT through the integration point's webhooks. These runs are bounded to half a minute, at rates the
  CI machine (2 cores, full cryptography, the race detector, other test packages running beside it)
  holds with room to spare (alone under the race detector the p99s are 0.3–1.4 s); `make bench` measures
  the ceilings.

  Scenario: every channel at once for 30 seconds
    When the load generator runs "dpo-small=2,dpo-large,dpv,dpf,dpi-digital,print" at 3/s for 30s
    Then no iteration failed or was dropped
    And every message reached its final status
    And the load thresholds hold:
      | e2e_simulator_count>=90      |
      | e2e_sendt.dpo-small_p99<5s   |
      | e2e_sendt.dpo-large_p99<5s   |
      | e2e_levert.dpv_p99<8s        |
      | e2e_levert.dpf_p99<8s        |
      | e2e_levert.dpi-digital_p99<8s |
      | e2e_levert.print_p99<8s      |
      | errors==0                    |
      | dropped==0                   |
