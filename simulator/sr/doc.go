// Package sr simulates the eFormidling address register, Digdir's ServiceRegistry ("adressetjeneste",
// spec peers §1 and upstreams §3): the service that tells an integration point which channel (DPO, DPV,
// DPF, DPI, DPE) reaches a receiver under a process, with the certificates, mailbox addresses and
// Altinn resources the channel needs.
//
// # What is simulated
//
// The real register gathers facts from Brønnøysund (name, organisasjonsform, postal address), ELMA/SMP
// (processes an organisation registered on eFormidling), VirkSert (business certificates), KS SvarUt
// (Fiks mottakersystemer and their security levels), KRR (citizens' mailboxes, reservation,
// notifiability) and FREG (citizens' postal addresses). Here those facts are one wire.Registration per
// identifier, and the service records are derived from them by the real routing rules (spec peers §1.5,
// implemented as pure functions in routing.go: Route and InfoRecordOf):
//
//   - GET /identifier/{id} and /identifier/{id}/process/{process}, with securityLevel, print and
//     conversationId (logged only); the process URN goes unencoded in the path.
//   - GET /info/{id}, GET /virksert/{orgnr} (PEM), GET /jwk (the one RSA key of the register).
//   - Accept: application/jose turns every 200 answer into a compact RS256 JWS of the exact body, with
//     kid (RFC 7638 thumbprint) and x5c headers; errors stay plain JSON.
//   - Errors in the register's shapes: {"error_code":"","error_description":"…"} (error_code
//     "certificate_not_found" for VirkSert failures), the hand-written {"message": "…"} body of an unknown
//     citizen, and the empty 404 of /info.
//   - Bearer tokens are checked when present (RS256, signature against Options.TokenKeys or the
//     Maskinporten JWKS URL, expiry); the token's consumer.ID is the sender whose postal address becomes
//     the returnAddress of print records.
//   - The admin API under /__admin (package admin) plus /__admin/records: list, show, PUT and DELETE
//     registrations at run time. A reset restores Options.Registrations.
//
// # Routing in short
//
// An organisation gets, per arkivmelding process, DPO when it registered the process in SMP, DPV when it
// registered other processes under the same document types, and otherwise DPF when KS SvarUt knows it
// (on the asked security level, or the highest) or DPV. Level 4 without a way to honour it is a 400 (no
// SMP registration) or no record (SMP registration). eInnsyn processes in SMP give DPE records whose
// endpointUrl is the Service Bus queue suffix; avtalt processes in SMP give DPO. A citizen gets, for
// the info process, DPI when the citizen has a mailbox and is active, else DPV plus a print record;
// for vedtak, print when reserved or not notifiable, else the same as info.
//
// # Deviations from the real register
//
//   - The arkivmelding response process counts as registered in SMP as soon as any arkivmelding process
//     is (the real integration point's SMP registration includes it), so registrations need not list it.
//   - An unparseable identifier answers 400 with Spring Boot's four default fields (timestamp, status,
//     error, path) plus error_code and error_description "Unable to parse identifier = '…'"; the real
//     register has only the four.
//   - An unregistered fødselsnummer answers the citizen 404 on the process route too, where the real
//     register answers 500.
//   - Authentication is lenient unless Options.RequireAuth: requests without an Authorization header
//     are served; tokens are not checked for issuer or audience; with no key source configured their
//     signature is not checked either. A sender missing from the register gives an empty returnAddress
//     rather than the real 404 (BrregNotFoundException).
//   - With RequireAuth, every citizen lookup needs scope eformidling:dpi or move/dpi.read (the real
//     register guards its whole digital-post lookup with the scope).
//   - One certificate per organisation serves DPO, DPE and /virksert, so token scopes do not choose it.
//   - Only the processes of wire.Processes() exist; DPH, FIKS IO, /sastoken and the process admin API
//     are not simulated. FIKS IO and NHN identifiers are "not found".
//   - pemCertificate is omitted, never null, and so are the null postAddress and returnAddress of
//     digital DPI records (the real integration point fails on a null certificate).
//   - A citizen's /info answer needs no registration (the real register asks nobody at that stage).
//
// # Registering at run time
//
// PUT /__admin/records/{identifier} takes a wire.Registration (the path's identifier wins) and answers
// with the stored registration and the records a plain lookup now derives. An organisation on
// eFormidling for two processes, also in KS SvarUt:
//
//	PUT /__admin/records/910094092
//	{
//	  "organization": {
//	    "name": "STÅRHEIM OG RØST",
//	    "orgForm": "ORGL",
//	    "postadresse": {"adresse": "Storgata 1", "postnummer": "0468", "poststed": "OSLO", "land": "Norge"},
//	    "certificate": "-----BEGIN CERTIFICATE-----\nMIIC…\n-----END CERTIFICATE-----\n",
//	    "smpProcesses": [
//	      "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0",
//	      "urn:no:difi:profile:arkivmelding:planByggOgGeodata:ver1.0"
//	    ],
//	    "svarUtLevels": [3, 4]
//	  }
//	}
//
// A citizen with a Digipost mailbox:
//
//	PUT /__admin/records/{fnr}
//	{
//	  "citizen": {
//	    "name": "OLA NORDMANN", "status": "AKTIV", "notifiable": true,
//	    "email": "ola@example.test", "mobile": "+4799999999", "language": "NB",
//	    "mailbox": {"address": "ola.nordmann#9YDT", "providerOrgnr": "984661185", "certificate": "-----BEGIN CERTIFICATE-----\n…"},
//	    "postAddress": {"name": "OLA NORDMANN", "street": "Storgata 1", "postalCode": "0468", "postalArea": "OSLO", "country": "Norway"}
//	  }
//	}
//
// "serviceRecords": [...] in a registration replaces the derived records with the given ones, for cases
// the rules cannot produce.
package sr
