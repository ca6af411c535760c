import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParseError } from '../../src/errors.js';
import { IMAGE_SUBSYSTEM_EFI_APPLICATION, findSection, parseAuthenticode, parsePe, probePe } from '../../src/image/pe/index.js';
import { IMAGE_DATA_DIRECTORY, IMAGE_FILE_HEADER } from '../../src/image/pe/layouts.js';
import { LIMITS } from '../../src/limits.js';
import { readFixture } from './image-fixtures.js';
import { readUkiFixture } from './uki-fixtures.js';
import { appendSections } from './synthetic-pe.js';

const u16At = (bytes: Uint8Array, offset: number) => new DataView(bytes.buffer, bytes.byteOffset).getUint16(offset, true);
// Copies (a Buffer's slice() would share memory with the fixture).
function withU32(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = new Uint8Array(bytes);
  new DataView(copy.buffer).setUint32(offset, value, true);
  return copy;
}
function withU16(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = new Uint8Array(bytes);
  new DataView(copy.buffer).setUint16(offset, value, true);
  return copy;
}
function parseErrorCode(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ParseError, `expected ParseError, got ${String(error)}`);
    return error.code;
  }
  return 'no error';
}

test("Debian's cloud kernel is a PE32+ EFI application for x86_64 (its EFI stub header)", (t) => {
  const vmlinuz = readFixture(t, 'debianCloudAmd64Vmlinuz');
  if (!vmlinuz) return;
  assert.equal(probePe(vmlinuz.subarray(0, 4096)), true);
  const pe = parsePe(vmlinuz);
  assert.equal(pe.fileHeader.Machine, 0x8664);
  assert.equal(pe.machineName, 'x86_64');
  assert.equal(pe.optionalHeader.kind, 'PE32+');
  assert.equal(pe.optionalHeader.Magic, 0x20b);
  assert.equal(pe.optionalHeader.Subsystem, IMAGE_SUBSYSTEM_EFI_APPLICATION);
  assert.equal(pe.subsystemName, 'EFI application');
  assert.equal(typeof pe.optionalHeader.ImageBase, 'bigint');
  assert.ok(findSection(pe, '.text'), 'the kernel image is in .text');
  assert.deepEqual(pe.warnings, []);
  // The kernel's header.S lays sections out itself: each raw range lies inside the file and
  // after the headers.
  for (const section of pe.sections) {
    assert.ok(section.PointerToRawData >= pe.optionalHeader.SizeOfHeaders, section.name);
    assert.ok(section.PointerToRawData + section.SizeOfRawData <= vmlinuz.length, section.name);
  }
  // sbsign appends the signature: the certificate table (a file offset) ends the file.
  assert.ok(pe.certificateTable);
  assert.equal(pe.certificateTable.fileOffset + pe.certificateTable.sizeBytes, vmlinuz.length);
  assert.equal(pe.certificateTable.fileOffset % 8, 0);
});

test("Debian's cloud kernel carries a valid Authenticode signature by Debian's Secure Boot signer", (t) => {
  const vmlinuz = readFixture(t, 'debianCloudAmd64Vmlinuz');
  if (!vmlinuz) return;
  const authenticode = parseAuthenticode(vmlinuz);
  assert.equal(authenticode.status, 'signed');
  assert.deepEqual(authenticode.warnings, []);
  assert.equal(authenticode.certificateTable.length, 1);
  assert.equal(authenticode.certificateTable[0]?.wRevision, 0x0200);
  assert.equal(authenticode.certificateTable[0]?.typeName, 'WIN_CERT_TYPE_PKCS_SIGNED_DATA');
  const [signature] = authenticode.signatures;
  assert.ok(signature);
  assert.equal(signature.digestAlgorithm, 'sha256');
  assert.equal(signature.imageDigest.length, 32);
  assert.equal(signature.digestMatches, true, 'our Authenticode digest equals the one Debian signed');
  const [signer] = signature.signers;
  assert.ok(signer);
  assert.match(signer.subject ?? '', /^CN=Debian Secure Boot Signer .*linux/);
  assert.match(signer.issuer ?? '', /Debian Secure Boot CA/);
  assert.equal(signer.signatureVerifies, true, "the RSA signature over the signed attributes verifies with the signer's key");
});

test('one flipped byte inside a section breaks the digest; the skipped CheckSum field does not', (t) => {
  const vmlinuz = readFixture(t, 'debianCloudAmd64Vmlinuz');
  if (!vmlinuz) return;
  const pe = parsePe(vmlinuz);
  const text = findSection(pe, '.text');
  assert.ok(text);
  const flipped = new Uint8Array(vmlinuz);
  flipped[text.PointerToRawData + 4096] = (flipped[text.PointerToRawData + 4096] ?? 0) ^ 0x01;
  const broken = parseAuthenticode(flipped).signatures[0];
  assert.equal(broken?.digestMatches, false);
  assert.deepEqual(broken?.imageDigest, parseAuthenticode(vmlinuz).signatures[0]?.imageDigest, 'the signed digest itself is unchanged');

  // The spec leaves CheckSum out of the hash: changing it keeps the signature valid.
  const newChecksum = withU32(vmlinuz, pe.checkSumFieldOffset, 0x12345678);
  assert.equal(parseAuthenticode(newChecksum).signatures[0]?.digestMatches, true);
});

test('an unsigned PE (Debian\'s systemd-stub, and the UKI built from it) reports unsigned', (t) => {
  const fixture = readUkiFixture(t);
  if (!fixture) return;
  for (const bytes of [fixture.stub, fixture.uki]) {
    const pe = parsePe(bytes);
    assert.equal(pe.certificateTable, undefined);
    assert.deepEqual(parseAuthenticode(bytes, pe), { status: 'unsigned', certificateTable: [], signatures: [], warnings: [] });
  }
});

test('a corrupted signature is reported as malformed, never thrown', (t) => {
  const vmlinuz = readFixture(t, 'debianCloudAmd64Vmlinuz');
  if (!vmlinuz) return;
  const table = parsePe(vmlinuz).certificateTable!;
  // Garbage inside the DER (past the WIN_CERTIFICATE header).
  const garbled = new Uint8Array(vmlinuz);
  garbled.fill(0xff, table.fileOffset + 8 + 4, table.fileOffset + 64);
  const report = parseAuthenticode(garbled);
  assert.equal(report.status, 'malformed');
  assert.equal(report.warnings[0]?.code, 'SIGNATURE_MALFORMED');

  // dwLength claiming more than the table holds.
  const lying = withU32(vmlinuz, table.fileOffset, table.sizeBytes + 8);
  const lyingReport = parseAuthenticode(lying);
  assert.equal(lyingReport.status, 'malformed');
  assert.deepEqual(lyingReport.warnings.map((warning) => warning.code), ['CERTIFICATE_ENTRY_BEYOND_TABLE']);

  // A certificate type other than PKCS_SIGNED_DATA is listed but not read as a signature.
  const x509Type = withU16(vmlinuz, table.fileOffset + 6, 0x0001);
  const x509Report = parseAuthenticode(x509Type);
  assert.equal(x509Report.certificateTable[0]?.typeName, 'WIN_CERT_TYPE_X509');
  assert.equal(x509Report.warnings[0]?.code, 'CERTIFICATE_TYPE_UNSUPPORTED');
});

test('lying headers end in the ParseError that names them', (t) => {
  const vmlinuz = readFixture(t, 'debianCloudAmd64Vmlinuz');
  if (!vmlinuz) return;
  const pe = parsePe(vmlinuz);
  const fileHeader = pe.peHeaderOffset + 4;
  const head = vmlinuz.subarray(0, 8192);
  assert.equal(parseErrorCode(() => parsePe(withU16(head, fileHeader + IMAGE_FILE_HEADER.fields.NumberOfSections.offset, LIMITS.peSections + 1))), 'FORMAT_LIMIT_EXCEEDED');
  assert.equal(parseErrorCode(() => parsePe(withU32(head, 0x3c, 0xfffffff0))), 'FORMAT_TRUNCATED');
  assert.equal(parseErrorCode(() => parsePe(withU16(head, fileHeader + 20, 0x0107))), 'FORMAT_INVALID');
  assert.equal(parseErrorCode(() => parsePe(withU16(head, fileHeader + IMAGE_FILE_HEADER.fields.SizeOfOptionalHeader.offset, 16))), 'FORMAT_INVALID');
  assert.equal(parseErrorCode(() => parsePe(new TextEncoder().encode('\x7fELF not a PE'))), 'FORMAT_UNRECOGNIZED');
  assert.equal(parseErrorCode(() => parsePe(vmlinuz.subarray(0, pe.peHeaderOffset + 30))), 'FORMAT_TRUNCATED');

  // Recoverable: a data directory count past 16, a section past the end of the file.
  const manyDirectories = withU32(vmlinuz, fileHeader + 20 + 108, 0x1000);
  assert.ok(parsePe(manyDirectories).warnings.some((warning) => warning.code === 'DATA_DIRECTORIES_CAPPED' || warning.code === 'DATA_DIRECTORIES_TRUNCATED'));
  assert.ok(parsePe(head).warnings.some((warning) => warning.code === 'SECTION_BEYOND_END_OF_FILE'));
});

test('probePe: only "MZ" with "PE\\0\\0" at e_lfanew', (t) => {
  assert.equal(probePe(new Uint8Array(0)), false);
  assert.equal(probePe(new TextEncoder().encode('MZ')), false);
  const dosOnly = new Uint8Array(128);
  dosOnly.set([0x4d, 0x5a]);
  assert.equal(probePe(dosOnly), false, 'an MS-DOS program without a PE header');
  const vmlinuz = readFixture(t, 'debianCloudAmd64Vmlinuz');
  if (!vmlinuz) return;
  assert.equal(probePe(withU32(vmlinuz.subarray(0, 4096), 0x3c, 0x7fffffff)), false);
  assert.equal(u16At(vmlinuz, 0), 0x5a4d);
});

test('long section names resolve through the COFF string table (synthetic: Debian\'s EFI binaries have none)', (t) => {
  const fixture = readUkiFixture(t);
  if (!fixture) return;
  // objcopy names a section past 8 bytes "/<offset>" and writes the name into a string table.
  const withLongName = appendSections(fixture.stub, [{ name: '/4', data: new TextEncoder().encode('payload') }]);
  const stringTable = new Uint8Array([12, 0, 0, 0, ...new TextEncoder().encode('.long-name'), 0, 0]);
  const image = new Uint8Array(withLongName.length + stringTable.length);
  image.set(withLongName);
  image.set(stringTable, withLongName.length);
  const fileHeader = parsePe(withLongName).peHeaderOffset + 4;
  const noSymbols = withU32(image, fileHeader + IMAGE_FILE_HEADER.fields.NumberOfSymbols.offset, 0);
  const pointed = withU32(noSymbols, fileHeader + IMAGE_FILE_HEADER.fields.PointerToSymbolTable.offset, withLongName.length);
  const resolved = parsePe(pointed).sections.at(-1);
  assert.equal(resolved?.Name, '/4');
  assert.equal(resolved?.name, '.long-name');
  // Without a symbol table pointer the name stays as written, with a warning.
  const unresolved = parsePe(withU32(noSymbols, fileHeader + IMAGE_FILE_HEADER.fields.PointerToSymbolTable.offset, 0));
  assert.equal(unresolved.sections.at(-1)?.name, '/4');
  assert.equal(unresolved.warnings.at(-1)?.code, 'LONG_SECTION_NAME_UNRESOLVED');
  assert.equal(IMAGE_DATA_DIRECTORY.sizeBytes, 8);
});
