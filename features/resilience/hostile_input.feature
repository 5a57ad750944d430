@resilience
Feature: Hostile input gets a clear 4xx, never a 5xx, a hang or a crash
  Every malformed request an archive system (or an attacker) can send the integration point's API is
  answered with a 4xx and a Spring-style error body that names the problem. Filenames are data: a path in
  one is refused or kept as a name, never used to write outside the data directory.

  Scenario Outline: <request>
    When I send the integration point <request>
    Then the integration point answers with a 4xx and a Spring error body

    Examples:
      | request                                    |
      | invalid JSON                               |
      | invalid UTF-8                              |
      | deep nesting                               |
      | a huge field                               |
      | wrong types                                |
      | a JSON array                               |
      | no content type                            |
      | path traversal in a filename               |
      | an absolute filename                       |
      | control characters in a filename           |
      | no Content-Disposition                     |
      | a Content-Disposition that does not parse  |
      | two Content-Disposition headers            |
      | an upload to an unknown message            |
      | a messageId that is not a UUID             |
      | a multipart body without a boundary        |
      | a truncated multipart body                 |
      | an oversize SBD                            |
      | a conversation id that is not a number     |
      | a bad sort                                 |
      | a peek with a bad serviceIdentifier        |
      | a subscription that is not JSON            |
      | a subscription with a push endpoint that is no URL |
      | a chunked upload with no length            |
