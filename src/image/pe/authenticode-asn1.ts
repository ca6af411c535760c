import { AsnParser, AsnProp, AsnPropTypes, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, type Name } from '@peculiar/asn1-x509';

/**
 * The Authenticode-specific ASN.1 types ("Windows Authenticode Portable Executable Signature
 * Format", section "Authenticode-Specific Structures"), declared with @peculiar/asn1-schema.
 * The schema library's decorators are applied as plain calls, because this project compiles
 * with standard (not experimental) decorators.
 */

/** SPC_INDIRECT_DATA_OBJID: the eContentType of an Authenticode SignedData. */
export const SPC_INDIRECT_DATA_OBJID = '1.3.6.1.4.1.311.2.1.4';
/** SPC_PE_IMAGE_DATAOBJ: SpcAttributeTypeAndOptionalValue.type for a PE image. */
export const SPC_PE_IMAGE_DATAOBJ = '1.3.6.1.4.1.311.2.1.15';
/** PKCS #9 messageDigest, the signed attribute binding the signature to the content. */
export const PKCS9_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';

/** SpcAttributeTypeAndOptionalValue ::= SEQUENCE { type ObjectID, value ANY OPTIONAL } */
export class SpcAttributeTypeAndOptionalValue {
  type = '';
  value?: ArrayBuffer;
}
AsnProp({ type: AsnPropTypes.ObjectIdentifier })(SpcAttributeTypeAndOptionalValue.prototype, 'type');
AsnProp({ type: AsnPropTypes.Any, optional: true })(SpcAttributeTypeAndOptionalValue.prototype, 'value');

/** DigestInfo ::= SEQUENCE { digestAlgorithm AlgorithmIdentifier, digest OCTET STRING } */
export class DigestInfo {
  digestAlgorithm = new AlgorithmIdentifier();
  digest = new OctetString();
}
AsnProp({ type: AlgorithmIdentifier })(DigestInfo.prototype, 'digestAlgorithm');
AsnProp({ type: OctetString })(DigestInfo.prototype, 'digest');

/** SpcIndirectDataContent ::= SEQUENCE { data SpcAttributeTypeAndOptionalValue, messageDigest DigestInfo } */
export class SpcIndirectDataContent {
  data = new SpcAttributeTypeAndOptionalValue();
  messageDigest = new DigestInfo();
}
AsnProp({ type: SpcAttributeTypeAndOptionalValue })(SpcIndirectDataContent.prototype, 'data');
AsnProp({ type: DigestInfo })(SpcIndirectDataContent.prototype, 'messageDigest');

export function parseSpcIndirectDataContent(der: ArrayBuffer): SpcIndirectDataContent {
  return AsnParser.parse(der, SpcIndirectDataContent);
}

/** Digest algorithm OIDs (RFC 3370, RFC 5754) to Node's hash names. */
const DIGEST_ALGORITHMS: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

export function digestAlgorithmName(oid: string): string | undefined {
  return DIGEST_ALGORITHMS[oid];
}

/** Attribute types of X.520 / PKCS #9 names, as OpenSSL and RFC 4514 abbreviate them. */
const NAME_ATTRIBUTE_LABELS: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

/** "C=.., O=.., CN=.." in the order the certificate lists them. */
export function formatName(name: Name): string {
  return name
    .map((relativeName) => relativeName.map((attribute) => `${NAME_ATTRIBUTE_LABELS[attribute.type] ?? attribute.type}=${attribute.value.toString()}`).join('+'))
    .join(', ');
}

/** The content octets of a DER TLV (what Authenticode's messageDigest covers): tag and length dropped. */
export function derContentOctets(tlv: Uint8Array): Uint8Array | undefined {
  const lengthByte = tlv[1];
  if (lengthByte === undefined) return undefined;
  if (lengthByte < 0x80) return tlv.subarray(2, 2 + lengthByte);
  const lengthBytes = lengthByte & 0x7f;
  if (lengthBytes === 0 || lengthBytes > 4 || tlv.length < 2 + lengthBytes) return undefined;
  let length = 0;
  for (let index = 0; index < lengthBytes; index++) length = length * 256 + (tlv[2 + index] ?? 0);
  const start = 2 + lengthBytes;
  return start + length <= tlv.length ? tlv.subarray(start, start + length) : undefined;
}
