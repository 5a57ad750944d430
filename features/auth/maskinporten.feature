Feature: Maskinporten token grants
  Every upstream call of an integration point starts with a JWT-bearer grant at Maskinporten: an RS256
  assertion signed with the organisation's business certificate (x5c), answered with an access token the
  other services verify with Maskinporten's /jwk (spec upstreams §2).

  Scenario: a valid assertion is granted a token that verifies with /jwk
    When I request a Maskinporten token as "{org:sender}" for scope "eformidling:dpo"
    Then the token request is granted
    And the access token verifies with the key from Maskinporten's /jwk
    And the access token has the claim "scope" "eformidling:dpo"
    And the access token has the claim "client_id" "MOVE_IP_{org:sender}"
    And the access token has the claim "consumer.ID" "0192:{org:sender}"
    And the access token has the claim "client_amr" "virksomhetssertifikat"

  Scenario: a token on behalf of another organisation names both
    When I request a Maskinporten token as "{org:sender}" for scope "digitalpostinnbygger:send" on behalf of "{org:receiver}"
    Then the token request is granted
    And the access token verifies with the key from Maskinporten's /jwk
    And the access token has the claim "consumer.ID" "0192:{org:receiver}"
    And the access token has the claim "supplier.ID" "0192:{org:sender}"

  Scenario Outline: bad assertions are refused with OAuth error JSON
    When I request a Maskinporten token as "{org:sender}" for scope "eformidling:dpo" with <defect>
    Then the token request is refused with "<error>" and the description "<description>"

    Examples:
      | defect                       | error          | description                                                                                      |
      | a forged signature           | invalid_grant  | Invalid assertion. Client authentication failed. Invalid JWT signature                           |
      | an expired assertion         | invalid_grant  | Invalid assertion. JWT is expired                                                                |
      | a lifetime of 10 minutes     | invalid_grant  | Invalid assertion. JWT lifetime exceeds 120 seconds                                              |
      | the wrong audience           | invalid_grant  | Invalid assertion. Client authentication failed. Invalid JWT claim aud                           |
      | an issue time in the future  | invalid_grant  | Invalid assertion. Issue time is after now                                                       |
      | an untrusted certificate     | invalid_client | Invalid assertion. Client authentication failed. The JWT is signed with an invalid certificate. |

  Scenario: an assertion cannot be used twice
    When I request a Maskinporten token as "{org:sender}" for scope "eformidling:dpo"
    Then the token request is granted
    When I send the same assertion again
    Then the token request is refused with "invalid_grant" and the description "Invalid assertion. Grant is used before"

  Scenario: a scope the client may not have is refused
    When I request a Maskinporten token as "{org:sender}" for scope "nav:secret.read"
    Then the token request is refused with "invalid_scope"

  Scenario: only the JWT-bearer grant is supported
    When I send the grant type "client_credentials"
    Then the token request is refused with "unsupported_grant_type"
