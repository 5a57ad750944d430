@resilience @faults
Feature: Hostile packages from a broker are discarded without stopping the batch
  A broker can hand the integration point anything: a package that is not a zip, a zip bomb, entry names
  that climb out of a directory, a document package that does not decrypt or whose signature does not
  verify, an SBD that does not parse. Each such package is discarded (or ends as FEIL) on its own: the
  good messages of the same batch still reach the archive system, the poller goes on to later messages,
  and nothing is written outside the integration point's data directory.

  @dpo
  Scenario: DPO packages that do not unpack, or whose SBD does not parse, among good ones
    The real integration point v4 confirms and discards a transfer whose SBD has no business message or
    no UUID messageId; one it cannot unpack at all it leaves unconfirmed. Either way it never reaches
    the in-queue.

    Given the DPO broker offers organisation A, from "{org:partial-dpo}", this batch:
      | package                                     |
      | a good arkivmelding                         |
      | an sbd.zip that is not a zip                |
      | an sbd.zip zip bomb                         |
      | an sbd.zip with ../ and absolute entry names |
      | an sbd.json that does not parse             |
      | an SBD without a business message           |
      | an SBD whose messageId is not a UUID        |
      | a good arkivmelding                         |
    Then archive system A receives every good message of the batch: it peeks, pops and deletes each
    And no hostile message of the batch is in archive system A's in-queue or has a status there
    And the DPO broker shows every transfer of the batch downloaded by organisation A, and the good ones confirmed
    And nothing was written outside the integration point's data directory
    When the DPO simulator delivers an arkivmelding from "{org:partial-dpo}" to organisation A
    Then archive system A finds the injected message when it peeks

  @dpo
  Scenario: DPO document packages that do not decrypt, unzip or verify, among good ones
    The reference integration point opens and checks the ASiC-E when it receives it and discards a bad
    one; the real one stores it unread and fails it when the archive system pops it (FEIL).

    Given the DPO broker offers organisation A, from "{org:partial-dpo}", this batch:
      | package                                |
      | a good arkivmelding                    |
      | an asic.zip that is not CMS            |
      | an ASiC-E that is not a zip            |
      | an ASiC-E zip bomb                     |
      | an ASiC-E with a bad signature         |
      | an ASiC-E entry with ../ in its name   |
      | an ASiC-E entry with an absolute path  |
      | a good arkivmelding                    |
    Then archive system A receives every good message of the batch: it peeks, pops and deletes each
    And archive system A never gets a hostile document package: each is not in its in-queue, or its pop fails and it ends FEIL
    And the DPO broker shows every transfer of the batch downloaded by organisation A, and the good ones confirmed
    And nothing was written outside the integration point's data directory
    When the DPO simulator delivers an arkivmelding from "{org:partial-dpo}" to organisation A
    Then archive system A finds the injected message when it peeks

  @dpf
  Scenario: SvarInn forsendelser with a zip bomb, climbing entry names and a broken CMS, among good ones
    Given SvarInn offers organisation A, from "{org:dpf}", this batch:
      | forsendelse                       |
      | a good forsendelse                |
      | a zip bomb                        |
      | a zip entry with ../ in its name  |
      | a zip entry with an absolute path |
      | a download that is not CMS        |
      | a ZIP that is not a ZIP           |
      | a good forsendelse                |
    Then archive system A receives every good message of the batch: it peeks, pops and deletes each
    And no hostile message of the batch is in archive system A's in-queue or has a status there
    And SvarInn shows the good forsendelser of the batch acknowledged, and the hostile ones not
    And nothing was written outside the integration point's data directory
    When SvarInn holds a forsendelse "Etter angrepet" with the files "svar.pdf" from "{org:dpf}" for organisation A
    Then archive system A finds the injected message when it peeks

  # The real IP leaves a forsendelse it cannot take unacknowledged, to be listed again at every poll; the
  # reference IP reports it to SvarInn as failed (mottakFeilet), so that SvarUt stops offering it.
  @dpf @reference-ip
  Scenario: SvarInn forsendelser the integration point cannot take are reported with mottakFeilet
    Given SvarInn offers organisation A, from "{org:dpf}", this batch:
      | forsendelse                |
      | a good forsendelse         |
      | a zip bomb                 |
      | a download that is not CMS |
    Then archive system A receives every good message of the batch: it peeks, pops and deletes each
    And SvarInn shows every hostile forsendelse of the batch reported with mottakFeilet, and the good ones acknowledged
