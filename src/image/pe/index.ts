/** PE/COFF images and their Authenticode signatures. */
export { probePe, parsePe, findSection } from './parse-pe.js';
export type { PeImage, PeSection, PeOptionalHeader, PeFileHeader, PeDataDirectory, PeWarning, PeWarningCode } from './types.js';
export { parseAuthenticode } from './authenticode.js';
export type { Authenticode, AuthenticodeSignature, AuthenticodeSigner, AuthenticodeWarning, AuthenticodeWarningCode, CertificateSummary } from './authenticode.js';
export { computeAuthenticodeDigest } from './authenticode-digest.js';
export { readCertificateTable } from './certificate-table.js';
export type { WinCertificate } from './certificate-table.js';
export { PE_MACHINE_NAMES, PE_SUBSYSTEM_NAMES, IMAGE_SUBSYSTEM_EFI_APPLICATION } from './names.js';
