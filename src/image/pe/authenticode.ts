import { createHash, createPublicKey, verify } from 'node:crypto';
import { ContentInfo, SignedData, id_signedData, type SignerInfo } from '@peculiar/asn1-cms';
import { AsnConvert, AsnParser, OctetString } from '@peculiar/asn1-schema';
import type { Certificate } from '@peculiar/asn1-x509';
import { LIMITS } from '../../limits.js';
import {
  PKCS9_MESSAGE_DIGEST,
  SPC_INDIRECT_DATA_OBJID,
  derContentOctets,
  digestAlgorithmName,
  formatName,
  parseSpcIndirectDataContent,
} from './authenticode-asn1.js';
import { computeAuthenticodeDigest } from './authenticode-digest.js';
import { readCertificateTable, type CertificateTableProblem, type WinCertificate } from './certificate-table.js';
import { WIN_CERT_TYPE_PKCS_SIGNED_DATA } from './names.js';
import { parsePe } from './parse-pe.js';
import type { PeImage } from './types.js';

export interface CertificateSummary {
  subject: string;
  issuer: string;
  serialNumberHex: string;
}

export interface AuthenticodeSigner {
  /** From SignerInfo.sid's issuerAndSerialNumber. */
  issuer: string | undefined;
  serialNumberHex: string | undefined;
  /** Subject of the embedded certificate matching issuer and serial; undefined if none matches. */
  subject: string | undefined;
  digestAlgorithm: string | undefined;
  digestAlgorithmOid: string;
  signatureAlgorithmOid: string;
  /**
   * Whether the signed messageDigest attribute equals the digest of the SpcIndirectDataContent
   * AND the signature over the signed attributes verifies with the matching certificate's key.
   * It says nothing about whether that certificate is trusted (no chain or keyring is consulted).
   * undefined when it cannot be checked (no matching certificate, unsupported algorithm).
   */
  signatureVerifies: boolean | undefined;
}

export interface AuthenticodeSignature {
  /** File offset of the WIN_CERTIFICATE this came from. */
  certificateOffset: number;
  /** The algorithm of the image digest (SpcIndirectDataContent.messageDigest). */
  digestAlgorithm: string | undefined;
  digestAlgorithmOid: string;
  /** The image digest the signer signed. */
  imageDigest: Uint8Array;
  /** The image digest of these bytes, per the Authenticode rules; undefined if not computable. */
  computedDigest: Uint8Array | undefined;
  digestMatches: boolean;
  signers: AuthenticodeSigner[];
  certificates: CertificateSummary[];
}

export type AuthenticodeWarningCode =
  | CertificateTableProblem
  | 'CERTIFICATE_TYPE_UNSUPPORTED'
  | 'CERTIFICATE_TOO_LARGE'
  | 'SIGNATURE_MALFORMED'
  | 'SIGNATURE_NOT_AUTHENTICODE'
  | 'DIGEST_ALGORITHM_UNSUPPORTED'
  | 'DIGEST_NOT_COMPUTABLE';

export interface AuthenticodeWarning {
  code: AuthenticodeWarningCode;
  offset?: number;
  detail?: string;
}

export interface Authenticode {
  /** unsigned: no certificate table; signed: at least one signature parsed; malformed: a table, but no readable signature. */
  status: 'unsigned' | 'signed' | 'malformed';
  certificateTable: WinCertificate[];
  signatures: AuthenticodeSignature[];
  warnings: AuthenticodeWarning[];
}

/**
 * Reads the Authenticode signatures of a PE image and checks each signed image digest against
 * the digest of `bytes`. Never throws for a bad signature: the problem comes back as a warning
 * (and status 'malformed' when nothing could be read). Throws ParseError only if `pe` must be
 * parsed here and `bytes` is not a PE image.
 */
export function parseAuthenticode(bytes: Uint8Array, pe: PeImage = parsePe(bytes)): Authenticode {
  const table = readCertificateTable(bytes, pe);
  const warnings: AuthenticodeWarning[] = [...table.warnings];
  const signatures: AuthenticodeSignature[] = [];
  const digests = new Map<string, Uint8Array | undefined>();
  const imageDigest = (algorithm: string): Uint8Array | undefined => {
    if (!digests.has(algorithm)) {
      try {
        digests.set(algorithm, computeAuthenticodeDigest(bytes, pe, algorithm));
      } catch (error) {
        warnings.push({ code: 'DIGEST_NOT_COMPUTABLE', detail: error instanceof Error ? error.message : String(error) });
        digests.set(algorithm, undefined);
      }
    }
    return digests.get(algorithm);
  };

  for (const entry of table.entries) {
    if (entry.wCertificateType !== WIN_CERT_TYPE_PKCS_SIGNED_DATA) {
      warnings.push({ code: 'CERTIFICATE_TYPE_UNSUPPORTED', offset: entry.offset, detail: entry.typeName ?? `0x${entry.wCertificateType.toString(16)}` });
      continue;
    }
    if (entry.bCertificate.length > LIMITS.peCertificateBytes) {
      warnings.push({ code: 'CERTIFICATE_TOO_LARGE', offset: entry.offset });
      continue;
    }
    const signature = readSignature(entry, imageDigest, warnings);
    if (signature) signatures.push(signature);
  }

  const status = !pe.certificateTable ? 'unsigned' : signatures.length > 0 ? 'signed' : 'malformed';
  return { status, certificateTable: table.entries, signatures, warnings };
}

function readSignature(
  entry: WinCertificate,
  imageDigest: (algorithm: string) => Uint8Array | undefined,
  warnings: AuthenticodeWarning[],
): AuthenticodeSignature | undefined {
  // The ASN.1 library throws its own errors (and a RangeError on deeply nested input): any of
  // them means this entry is not a readable signature, which is a finding, not a crash.
  let parsed: ReturnType<typeof readSignedData>;
  try {
    parsed = readSignedData(entry.bCertificate);
  } catch (error) {
    warnings.push({ code: 'SIGNATURE_MALFORMED', offset: entry.offset, detail: error instanceof Error ? error.message : String(error) });
    return undefined;
  }
  if (typeof parsed === 'string') {
    warnings.push({ code: 'SIGNATURE_NOT_AUTHENTICODE', offset: entry.offset, detail: parsed });
    return undefined;
  }
  const { signedData, content, indirectData } = parsed;
  const digestAlgorithmOid = indirectData.messageDigest.digestAlgorithm.algorithm;
  const digestAlgorithm = digestAlgorithmName(digestAlgorithmOid);
  const signedDigest = new Uint8Array(indirectData.messageDigest.digest.buffer);
  let computedDigest: Uint8Array | undefined;
  if (digestAlgorithm) computedDigest = imageDigest(digestAlgorithm);
  else warnings.push({ code: 'DIGEST_ALGORITHM_UNSUPPORTED', offset: entry.offset, detail: digestAlgorithmOid });

  const certificates = (signedData.certificates ?? []).flatMap((choice) => (choice.certificate ? [choice.certificate] : []));
  return {
    certificateOffset: entry.offset,
    digestAlgorithm,
    digestAlgorithmOid,
    imageDigest: signedDigest,
    computedDigest,
    digestMatches: computedDigest !== undefined && Buffer.from(computedDigest).equals(signedDigest),
    signers: signedData.signerInfos.map((signerInfo) => describeSigner(signerInfo, certificates, content)),
    certificates: certificates.map(summarise),
  };
}

/** ContentInfo -> SignedData -> SpcIndirectDataContent, or why it is not Authenticode. */
function readSignedData(der: Uint8Array) {
  const contentInfo = AsnParser.parse(der, ContentInfo);
  if (contentInfo.contentType !== id_signedData) return `ContentInfo.contentType is ${contentInfo.contentType}, not signedData`;
  const signedData = AsnParser.parse(contentInfo.content, SignedData);
  const encapsulated = signedData.encapContentInfo;
  if (encapsulated.eContentType !== SPC_INDIRECT_DATA_OBJID) return `eContentType is ${encapsulated.eContentType}, not SPC_INDIRECT_DATA_OBJID`;
  // Authenticode puts the SpcIndirectDataContent itself in eContent, not wrapped in an OCTET STRING.
  const raw = encapsulated.eContent?.any ?? encapsulated.eContent?.single?.buffer;
  if (!raw) return 'SignedData has no eContent';
  const content = new Uint8Array(raw);
  return { signedData, content, indirectData: parseSpcIndirectDataContent(raw) };
}

function summarise(certificate: Certificate): CertificateSummary {
  const tbs = certificate.tbsCertificate;
  return { subject: formatName(tbs.subject), issuer: formatName(tbs.issuer), serialNumberHex: Buffer.from(tbs.serialNumber).toString('hex') };
}

function describeSigner(signerInfo: SignerInfo, certificates: Certificate[], content: Uint8Array): AuthenticodeSigner {
  const issuerAndSerial = signerInfo.sid.issuerAndSerialNumber;
  const serialNumberHex = issuerAndSerial ? Buffer.from(issuerAndSerial.serialNumber).toString('hex') : undefined;
  const issuerDer = issuerAndSerial ? Buffer.from(AsnConvert.serialize(issuerAndSerial.issuer)) : undefined;
  const certificate = certificates.find(
    (candidate) =>
      issuerDer !== undefined &&
      Buffer.from(candidate.tbsCertificate.serialNumber).toString('hex') === serialNumberHex &&
      Buffer.from(AsnConvert.serialize(candidate.tbsCertificate.issuer)).equals(issuerDer),
  );
  const digestAlgorithmOid = signerInfo.digestAlgorithm.algorithm;
  const digestAlgorithm = digestAlgorithmName(digestAlgorithmOid);
  return {
    issuer: issuerAndSerial ? formatName(issuerAndSerial.issuer) : undefined,
    serialNumberHex,
    subject: certificate ? formatName(certificate.tbsCertificate.subject) : undefined,
    digestAlgorithm,
    digestAlgorithmOid,
    signatureAlgorithmOid: signerInfo.signatureAlgorithm.algorithm,
    signatureVerifies: certificate && digestAlgorithm ? verifySignerInfo(signerInfo, certificate, digestAlgorithm, content) : undefined,
  };
}

/** RSASSA-PSS needs parameters this check does not read; PKCS #1 v1.5 and ECDSA are what signers use. */
const RSASSA_PSS = '1.2.840.113549.1.1.10';
const SET_TAG = 0x31;

/** RFC 5652 section 5.4: the signature covers the DER of the signed attributes as a SET OF. */
function verifySignerInfo(signerInfo: SignerInfo, certificate: Certificate, digestAlgorithm: string, content: Uint8Array): boolean | undefined {
  if (signerInfo.signatureAlgorithm.algorithm === RSASSA_PSS || !signerInfo.signedAttrs) return undefined;
  const messageDigest = signerInfo.signedAttrs.find((attribute) => attribute.attrType === PKCS9_MESSAGE_DIGEST)?.attrValues[0];
  // Authenticode: messageDigest covers the SpcIndirectDataContent's value, without its tag and length.
  const contentOctets = derContentOctets(content);
  if (!messageDigest || !contentOctets) return false;
  try {
    const signedValue = Buffer.from(AsnParser.parse(messageDigest, OctetString).buffer);
    if (!signedValue.equals(createHash(digestAlgorithm).update(contentOctets).digest())) return false;
    // Encoded as [0] IMPLICIT in the SignerInfo but signed as a universal SET OF: re-encode the
    // attributes (their values are kept as the original bytes) under a SET tag.
    const signedAttributes = derTlv(SET_TAG, Buffer.concat(signerInfo.signedAttrs.map((attribute) => Buffer.from(AsnConvert.serialize(attribute)))));
    const publicKey = createPublicKey({ key: Buffer.from(AsnConvert.serialize(certificate.tbsCertificate.subjectPublicKeyInfo)), format: 'der', type: 'spki' });
    return verify(digestAlgorithm, signedAttributes, publicKey, Buffer.from(signerInfo.signature.buffer));
  } catch {
    // A key or signature the crypto library cannot use: the check cannot be made.
    return undefined;
  }
}

function derTlv(tag: number, content: Buffer): Buffer {
  const length = content.length;
  if (length < 0x80) return Buffer.concat([Buffer.from([tag, length]), content]);
  const lengthBytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) lengthBytes.unshift(rest % 256);
  return Buffer.concat([Buffer.from([tag, 0x80 | lengthBytes.length, ...lengthBytes]), content]);
}
