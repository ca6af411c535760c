import { ByteView } from '../../binary/byte-view.js';
import { LIMITS } from '../../limits.js';
import { WIN_CERTIFICATE } from './layouts.js';
import { WIN_CERT_REVISION_2_0, WIN_CERT_TYPE_NAMES } from './names.js';
import type { PeImage } from './types.js';

/** One entry of the attribute certificate table, with its bCertificate bytes (not copied). */
export interface WinCertificate {
  /** File offset of the entry. */
  offset: number;
  dwLength: number;
  wRevision: number;
  wCertificateType: number;
  /** WIN_CERT_TYPE_PKCS_SIGNED_DATA, ...; undefined for an unknown type. */
  typeName: string | undefined;
  bCertificate: Uint8Array;
}

export type CertificateTableProblem =
  | 'CERTIFICATE_TABLE_BEYOND_END_OF_FILE'
  | 'CERTIFICATE_TABLE_MISALIGNED'
  | 'CERTIFICATE_ENTRY_INVALID_LENGTH'
  | 'CERTIFICATE_ENTRY_BEYOND_TABLE'
  | 'CERTIFICATE_ENTRY_UNKNOWN_REVISION'
  | 'CERTIFICATE_ENTRIES_CAPPED';

export interface CertificateTableWarning {
  code: CertificateTableProblem;
  offset?: number;
}

const QUADWORD = 8;

/**
 * Walks the attribute certificate table ("The Attribute Certificate Table (Image Only)"):
 * entries follow one another, each dwLength long (header included) and padded to 8 bytes.
 * Never throws: a lying table ends the walk with a warning, keeping the entries read so far.
 */
export function readCertificateTable(bytes: Uint8Array, pe: PeImage): { entries: WinCertificate[]; warnings: CertificateTableWarning[] } {
  const entries: WinCertificate[] = [];
  const warnings: CertificateTableWarning[] = [];
  const table = pe.certificateTable;
  if (!table) return { entries, warnings };
  const view = new ByteView(bytes, 'pe');
  if (!view.has(table.fileOffset, table.sizeBytes)) {
    warnings.push({ code: 'CERTIFICATE_TABLE_BEYOND_END_OF_FILE', offset: table.fileOffset });
    return { entries, warnings };
  }
  if (table.fileOffset % QUADWORD !== 0) warnings.push({ code: 'CERTIFICATE_TABLE_MISALIGNED', offset: table.fileOffset });

  const tableEnd = table.fileOffset + table.sizeBytes;
  let offset = table.fileOffset;
  while (offset + WIN_CERTIFICATE.sizeBytes <= tableEnd) {
    if (entries.length === LIMITS.peCertificateEntries) {
      warnings.push({ code: 'CERTIFICATE_ENTRIES_CAPPED', offset });
      break;
    }
    const header = WIN_CERTIFICATE.read(view, offset);
    if (header.dwLength < WIN_CERTIFICATE.sizeBytes) {
      warnings.push({ code: 'CERTIFICATE_ENTRY_INVALID_LENGTH', offset });
      break;
    }
    if (offset + header.dwLength > tableEnd) {
      warnings.push({ code: 'CERTIFICATE_ENTRY_BEYOND_TABLE', offset });
      break;
    }
    if (header.wRevision !== WIN_CERT_REVISION_2_0) warnings.push({ code: 'CERTIFICATE_ENTRY_UNKNOWN_REVISION', offset });
    entries.push({
      offset,
      ...header,
      typeName: WIN_CERT_TYPE_NAMES[header.wCertificateType],
      bCertificate: view.slice(offset + WIN_CERTIFICATE.sizeBytes, header.dwLength - WIN_CERTIFICATE.sizeBytes, 'bCertificate'),
    });
    offset += Math.ceil(header.dwLength / QUADWORD) * QUADWORD;
  }
  return { entries, warnings };
}
