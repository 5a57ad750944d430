@dpf
Feature: Receiving over DPF (KS SvarInn)
  What municipalities send through SvarUt to an organisation that receives with its integration point
  waits in SvarInn. The integration point polls SvarInn, downloads each forsendelse (a ZIP of its files,
  CMS-encrypted for the organisation), turns it into an incoming arkivmelding with a generated
  arkivmelding.xml, and acknowledges it (kvitterMottak) once it is on the incoming queue. One forsendelse
  that cannot be read does not hold back the others (spec upstreams §6.5; certification §4.4).

  Scenario: a forsendelse from a municipality is received, peeked, popped and deleted
    Given SvarInn holds a forsendelse "Vedtak i byggesak" with the files "vedtak.pdf, situasjonskart.pdf" from "{org:dpf}" for organisation A
    Then archive system A finds the injected message when it peeks
    And SvarInn shows the forsendelse acknowledged
    And archive system A pops the injected message and finds an arkivmelding.xml titled "Vedtak i byggesak" naming "vedtak.pdf, situasjonskart.pdf" with the avsender "Kommunen {orgnr:dpf}"
    When archive system A deletes the injected message
    Then the injected message's statuses at A become "OPPRETTET, INNKOMMENDE_MOTTATT, INNKOMMENDE_LEVERT"

  Scenario: a corrupt forsendelse next to a good one
    Given SvarInn holds a corrupt forsendelse from "{org:dpf}" for organisation A
    And SvarInn holds a forsendelse "Svar på søknad" with the files "svar.pdf" from "{org:dpf}" for organisation A
    Then archive system A finds the injected message when it peeks
    And SvarInn shows the forsendelse acknowledged
    And SvarInn shows the corrupt forsendelse reported as failed, not acknowledged

  Scenario: the archive system's kvittering for a SvarInn message never goes to SvarUt
    Given SvarInn holds a forsendelse "Vedtak" with the files "vedtak.pdf" from "{org:dpf}" for organisation A
    And archive system A finds the injected message when it peeks
    When archive system A answers the injected message with an arkivmelding_kvittering "OK" to "{orgnr:dpf}"
    Then the kvittering's statuses at A become "OPPRETTET, SENDT, LEVERT, LEST"
    And SvarUt received no forsendelse

  @two-ips
  Scenario: two integration points exchange over KS FIKS
    SvarUt counts a forsendelse read (LEST) once the receiver's integration point has fetched it from SvarInn.

    Given I register in the address register:
      """
      {"identifier": "{orgnr:receiver}",
       "organization": {"name": "BIRISTRAND OG TJØTTA", "orgForm": "KOMM", "svarUtLevels": [3]}}
      """
    When archive system A sends an arkivmelding to organisation B
    Then archive system B finds a DPF message from A when it peeks
    And the message's statuses at A become "OPPRETTET, SENDT, LEVERT, LEST"
    And archive system B pops the injected message and finds an arkivmelding.xml titled "Bestilling av nye lysrør" naming "brev.pdf" with the avsender "LOTE OG ÅRVIKSAND"
    When archive system B deletes the injected message
    Then the injected message's statuses at B become "OPPRETTET, INNKOMMENDE_MOTTATT, INNKOMMENDE_LEVERT"
