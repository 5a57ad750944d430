Feature: Signed answers from the address register
  A real integration point asks the register with "Accept: application/jose, application/json" and accepts
  only a compact RS256 JWS that verifies with the first RSA key of the register's /jwk (spec peers §1.7).

  Scenario Outline: a signed answer verifies against /jwk and carries the plain answer
    When I look up "<receiver>" in the address register for process "<process>" asking for a signed answer
    Then the answer is a JWS that verifies with the key from the address register's /jwk
    And its payload is the plain JSON answer
    And the JWS with its payload changed does not verify

    Examples:
      | receiver          | process                                                |
      | {org:receiver}    | urn:no:difi:profile:arkivmelding:administrasjon:ver1.0 |
      | {citizen:digital} | urn:no:difi:profile:digitalpost:vedtak:ver1.0          |

  Scenario: error answers stay plain JSON even when a signed answer is asked for
    When I look up "{unknown-org}" in the address register for process "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0" asking for a signed answer
    Then the response status is 404
    And the response header "Content-Type" starts with "application/json"
    And the response JSON has "error_description" = "Entity with identifier '0192:{unknown-org}' not found."

  Scenario: the register publishes one RSA signing key
    When I GET "/jwk" from the address register
    Then the response status is 200
    And the response JSON has "keys.0.kty" = "RSA"
    And the response JSON has "keys.0.alg" = "RS256"
    And the response JSON has "keys.0.use" = "sig"
