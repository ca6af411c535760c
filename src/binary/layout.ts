import { ErrorCode, ParseError } from '../errors.js';
import { ByteView } from './byte-view.js';

/**
 * A structure declared once: field names as the spec spells them, their offsets and types, and
 * the total size, checked when declared. The same declaration reads and writes (the crash
 * writers produce what the readers parse).
 */
export type FieldType =
  | 'u8'
  | 'u16'
  | 'u32'
  | 'u64'
  | 'i32'
  | { readonly bytes: number }
  | { readonly string: number };

type ValueOf<T extends FieldType> = T extends 'u64' ? bigint : T extends { bytes: number } ? Uint8Array : T extends { string: number } ? string : number;

export interface FieldSpec {
  readonly offset: number;
  readonly type: FieldType;
}

export type Fields = Readonly<Record<string, FieldSpec>>;

export type LayoutValue<F extends Fields> = { -readonly [K in keyof F]: ValueOf<F[K]['type']> };

export interface Layout<F extends Fields> {
  readonly name: string;
  readonly sizeBytes: number;
  readonly fields: F;
  /** Reads every field at `base`; throws FORMAT_TRUNCATED naming the first field that does not fit. */
  read(view: ByteView, base?: number, littleEndian?: boolean): LayoutValue<F>;
  /** Writes every field of `value` at `base` into `target`. */
  write(target: Uint8Array, value: LayoutValue<F>, base?: number, littleEndian?: boolean): void;
}

export function fieldSize(type: FieldType): number {
  if (typeof type === 'object') return 'bytes' in type ? type.bytes : type.string;
  return { u8: 1, u16: 2, u32: 4, u64: 8, i32: 4 }[type];
}

export function defineLayout<F extends Fields>(name: string, sizeBytes: number, fields: F): Layout<F> {
  for (const [fieldName, spec] of Object.entries(fields)) {
    // A declaration error is a bug in this library, caught the first time the module loads.
    if (spec.offset + fieldSize(spec.type) > sizeBytes) throw new Error(`${name}.${fieldName} ends past the declared size ${sizeBytes}`);
  }
  const entries = Object.entries(fields);
  return {
    name,
    sizeBytes,
    fields,
    read(view, base = 0, littleEndian = true) {
      const value: Record<string, unknown> = {};
      for (const [fieldName, { offset, type }] of entries) {
        const at = base + offset;
        const field = `${name}.${fieldName}`;
        if (typeof type === 'object') {
          value[fieldName] = 'bytes' in type ? view.slice(at, type.bytes, field) : view.fixedString(at, type.string, field);
          continue;
        }
        switch (type) {
          case 'u8':
            value[fieldName] = view.u8(at, field);
            break;
          case 'u16':
            value[fieldName] = view.u16(at, field, littleEndian);
            break;
          case 'u32':
            value[fieldName] = view.u32(at, field, littleEndian);
            break;
          case 'u64':
            value[fieldName] = view.u64(at, field, littleEndian);
            break;
          case 'i32':
            value[fieldName] = view.i32(at, field, littleEndian);
            break;
        }
      }
      return value as LayoutValue<F>;
    },
    write(target, value, base = 0, littleEndian = true) {
      if (base < 0 || base + sizeBytes > target.length) {
        throw new ParseError(ErrorCode.FORMAT_TRUNCATED, name, `writing needs ${sizeBytes} bytes at ${base}, the buffer has ${target.length}`);
      }
      const data = new DataView(target.buffer, target.byteOffset, target.byteLength);
      for (const [fieldName, { offset, type }] of entries) {
        const at = base + offset;
        const fieldValue = (value as Record<string, unknown>)[fieldName];
        if (typeof type === 'object') {
          const bytes = 'bytes' in type ? (fieldValue as Uint8Array) : Buffer.from(fieldValue as string, 'latin1');
          const size = fieldSize(type);
          target.fill(0, at, at + size);
          target.set(bytes.subarray(0, size), at);
          continue;
        }
        switch (type) {
          case 'u8':
            data.setUint8(at, fieldValue as number);
            break;
          case 'u16':
            data.setUint16(at, fieldValue as number, littleEndian);
            break;
          case 'u32':
            data.setUint32(at, fieldValue as number, littleEndian);
            break;
          case 'u64':
            data.setBigUint64(at, fieldValue as bigint, littleEndian);
            break;
          case 'i32':
            data.setInt32(at, fieldValue as number, littleEndian);
            break;
        }
      }
    },
  };
}
