#!/usr/bin/env bash
# Regenerates the TEST-ONLY keys, certificates and interoperability vectors in this directory with the
# openssl CLI (tested with OpenSSL 3.0) and Info-ZIP `zip`. The Go tests never run this script; they only
# read its checked-in output. Every key here is throwaway test material: never trust these certificates.
#
#   cd simulator/dokumentpakke/testdata && ./gen.sh
set -euo pipefail
cd "$(dirname "$0")"
umask 022
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

days=36500 # the vectors must not expire under the tests

# --- TEST-ONLY PKI: a CA, a signer (the sender's business certificate) and a recipient ---------------
openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out test-only-ca-key.pem
openssl req -x509 -new -key test-only-ca-key.pem -days $days -sha256 -out test-only-ca.pem \
  -subj "/C=NO/O=TEST-ONLY efm-harness dokumentpakke/CN=TEST-ONLY CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
for who in signer:910077473 recipient:910075918; do
  name=${who%%:*} orgnr=${who##*:}
  openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "test-only-$name-key.pem"
  openssl req -new -key "test-only-$name-key.pem" -out "$tmp/$name.csr" \
    -subj "/C=NO/O=TEST-ONLY $name/serialNumber=$orgnr/CN=TEST-ONLY $name"
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment,dataEncipherment\n' >"$tmp/$name.ext"
  openssl x509 -req -in "$tmp/$name.csr" -CA test-only-ca.pem -CAkey test-only-ca-key.pem -CAcreateserial \
    -CAserial "$tmp/ca.srl" -days $days -sha256 -extfile "$tmp/$name.ext" -out "test-only-$name.pem" 2>/dev/null
done

# --- CMS EnvelopedData vectors (cms/) ---------------------------------------------------------------
# plain.bin is larger than openssl's 4096-byte streaming chunk, so the -stream (BER) vectors carry the
# encrypted content as an indefinite-length constructed OCTET STRING of several chunks, like BouncyCastle's
# CMSEnvelopedDataStreamGenerator. Vectors without -stream are DER.
mkdir -p cms
head -c 10007 < <(yes 'TEST-ONLY eFormidling dokumentpakke plaintext, not a real document.') >cms/plain.bin
oaep=(-keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256 -keyopt rsa_mgf1_md:sha256)
enc() { # enc <out> <openssl cms -encrypt options...>
  local out=$1; shift
  openssl cms -encrypt -binary -in cms/plain.bin -recip test-only-recipient.pem -outform DER -out "cms/$out" "$@"
}
enc oaep-sha256-aes256-stream.ber -aes256 "${oaep[@]}" -stream # what the IP sends for DPO/DPI/DPF
enc oaep-sha256-aes256.der        -aes256 "${oaep[@]}"
enc oaep-sha256-aes128-stream.ber -aes128 "${oaep[@]}" -stream
enc oaep-sha256-mgf1sha1-aes256.der -aes256 -keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256 -keyopt rsa_mgf1_md:sha1
enc oaep-sha1-aes256.der          -aes256 -keyopt rsa_padding_mode:oaep # RFC 4055 defaults: params all absent
enc pkcs1-aes256-stream.ber       -aes256 -stream # what the IP sends for DPE
enc pkcs1-aes192.der              -aes192
enc pkcs1-aes128-stream.ber       -aes128 -stream
# Two recipients, the signer's first: the IP, and Decrypt, use only the first RecipientInfo.
openssl cms -encrypt -binary -aes256 -stream -in cms/plain.bin -recip test-only-signer.pem \
  -recip test-only-recipient.pem -outform DER -out cms/two-recipients-signer-first-stream.ber

# --- An ASiC-E container built without this package (asic/) ----------------------------------------
# The layout commons-asic writes, with a detached SHA1withRSA CMS signature over the manifest as
# commons-asic's SignatureHelper makes it, zipped by Info-ZIP (mimetype first and stored, no extra
# fields, no directory entries), then encrypted with OAEP in BER streaming form.
src=asic/src
rm -rf "$src" && mkdir -p "$src/META-INF"
cat >"$src/manifest.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<manifest>
    <mottaker>
        <organisasjon authority="iso6523-actorid-upis">0192:910075918</organisasjon>
    </mottaker>
    <avsender>
        <organisasjon authority="iso6523-actorid-upis">0192:910077473</organisasjon>
    </avsender>
    <hoveddokument href="arkivmelding.xml" mime="application/xml">
        <tittel lang="no">Hoveddokument</tittel>
    </hoveddokument>
</manifest>
XML
cat >"$src/arkivmelding.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<arkivmelding xmlns="http://www.arkivverket.no/standarder/noark5/arkivmelding"><system>TEST-ONLY</system></arkivmelding>
XML
printf 'TEST-ONLY attachment\n' >"$src/vedlegg.txt"
printf 'application/vnd.etsi.asic-e+zip' >"$src/mimetype"
sig=META-INF/signature-0b6a5c3e-7f0e-4d5e-9a43-2f6c1d9e8b71.p7s
digest() { openssl dgst -sha256 -binary "$src/$1" | openssl base64 -A; }
{
  printf '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
  printf '<ASiCManifest xmlns="http://uri.etsi.org/02918/v1.2.1#" xmlns:ns2="http://www.w3.org/2000/09/xmldsig#">\n'
  printf '    <SigReference URI="%s" MimeType="application/x-pkcs7-signature"/>\n' "$sig"
  for f in manifest.xml:application/xml arkivmelding.xml:application/xml vedlegg.txt:text/plain; do
    printf '    <DataObjectReference URI="%s" MimeType="%s">\n' "${f%%:*}" "${f#*:}"
    printf '        <ns2:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>\n'
    printf '        <ns2:DigestValue>%s</ns2:DigestValue>\n' "$(digest "${f%%:*}")"
    printf '    </DataObjectReference>\n'
  done
  printf '</ASiCManifest>\n'
} >"$src/META-INF/ASiCManifest.xml"
openssl cms -sign -binary -md sha1 -in "$src/META-INF/ASiCManifest.xml" -signer test-only-signer.pem \
  -inkey test-only-signer-key.pem -certfile test-only-ca.pem -outform DER -out "$src/$sig"
cat >"$src/META-INF/manifest.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">
    <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.etsi.asic-e+zip"/>
    <manifest:file-entry manifest:full-path="manifest.xml" manifest:media-type="application/xml"/>
    <manifest:file-entry manifest:full-path="arkivmelding.xml" manifest:media-type="application/xml"/>
    <manifest:file-entry manifest:full-path="vedlegg.txt" manifest:media-type="text/plain"/>
</manifest:manifest>
XML
rm -f asic/external.asice
(cd "$src" && zip -q -X -D -0 ../external.asice mimetype &&
  zip -q -X -D ../external.asice manifest.xml arkivmelding.xml vedlegg.txt META-INF/ASiCManifest.xml "$sig" META-INF/manifest.xml)
openssl cms -encrypt -binary -aes256 -stream -in asic/external.asice -recip test-only-recipient.pem "${oaep[@]}" \
  -outform DER -out asic/external.asice.cms
# A detached CAdES-BES signature (SHA-256, signingCertificateV2) over the same manifest.
openssl cms -sign -binary -cades -md sha256 -in "$src/META-INF/ASiCManifest.xml" -signer test-only-signer.pem \
  -inkey test-only-signer-key.pem -outform DER -out asic/cades-sha256.p7s
# The same signature as commons-asic's SHA1withRSA one, in BER streaming form (indefinite lengths).
openssl cms -sign -binary -stream -md sha1 -in "$src/META-INF/ASiCManifest.xml" -signer test-only-signer.pem \
  -inkey test-only-signer-key.pem -outform DER -out asic/sha1-ber.p7s
echo "regenerated $(pwd)"
