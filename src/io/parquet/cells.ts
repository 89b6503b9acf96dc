// A Parquet cell as finorm reads and writes it elsewhere: as a number (a
// feature value), as text (CSV/TSV output, group keys, the time order), or as
// a JSON value (NDJSON output). Text follows what people and tools expect:
// dates as 2024-01-31, timestamps in ISO 8601 (`Z` when adjusted to UTC),
// decimals with their scale's digits, booleans as true/false, UUIDs with
// hyphens, other binary as hex.

import { isUtf8 } from 'node:buffer';
import type { BlockColumn } from './decode.js';
import { PhysicalType, type ValueKind } from './metadata.js';

/** What a reader of a block needs to know of a column (plain data: it crosses threads). */
export interface ColumnInfo {
  name: string;
  physical: number;
  kind: ValueKind;
  scale: number;
  perSecond: number;
  utc: boolean;
}

/** Kinds whose values are numbers, and so can be features. */
export function isNumericKind(kind: ValueKind): boolean {
  return kind === 'number' || kind === 'unsigned' || kind === 'decimal' || kind === 'float16';
}

const utf8 = new TextDecoder();

/** The integer a cell holds (INT32, INT64, or big-endian two's-complement bytes) as a bigint. */
function integerOf(column: BlockColumn, r: number, physical: number): bigint {
  if (physical === PhysicalType.INT32) return BigInt((column.values as Int32Array)[r]);
  if (physical === PhysicalType.INT64) return (column.values as BigInt64Array)[r];
  const data = column.data as Uint8Array;
  const offsets = column.offsets as Int32Array;
  const s = offsets[r];
  const e = offsets[r + 1];
  let value = 0n;
  for (let k = s; k < e; k++) value = (value << 8n) | BigInt(data[k]);
  if (e > s && data[s] >= 0x80) value -= 1n << BigInt(8 * (e - s));
  return value;
}

/** A decimal's unscaled integer and scale as exact text: 12345, 2 → "123.45". */
function decimalText(unscaled: bigint, scale: number): string {
  if (scale <= 0) return (unscaled * 10n ** BigInt(-scale)).toString();
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

function float16(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/**
 * A numeric cell's value as a double (NaN if null): integers and floats as
 * they are (a FLOAT is the value it holds), decimals as their exact value
 * rounded once (as the decimal text would be read).
 */
export function numberOf(info: ColumnInfo, column: BlockColumn, r: number): number {
  if (column.valid !== undefined && column.valid[r] === 0) return NaN;
  const { physical } = info;
  switch (info.kind) {
    case 'number':
      return physical === PhysicalType.INT64 ? Number((column.values as BigInt64Array)[r]) : (column.values as Float64Array)[r];
    case 'unsigned':
      if (physical === PhysicalType.INT64) return Number(BigInt.asUintN(64, (column.values as BigInt64Array)[r]));
      return (column.values as Int32Array)[r] >>> 0;
    case 'decimal': {
      if (physical === PhysicalType.INT32 && info.scale <= 22) return (column.values as Int32Array)[r] / 10 ** info.scale;
      return Number(decimalText(integerOf(column, r, physical), info.scale));
    }
    case 'float16': {
      const data = column.data as Uint8Array;
      const s = (column.offsets as Int32Array)[r];
      return float16(data[s] | (data[s + 1] << 8));
    }
    default:
      return NaN;
  }
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

let lastDays = NaN;
let lastDate = '';

/** yyyy-mm-dd of a day count since 1970-01-01 (proleptic Gregorian); the last one is remembered (dates come in runs). */
function dateText(days: number): string {
  if (days === lastDays) return lastDate;
  lastDays = days;
  lastDate = civilDate(days);
  return lastDate;
}

function civilDate(days: number): string {
  // Howard Hinnant's days → civil date.
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const yearText = year < 0 ? `-${pad(-year, 4)}` : year > 9999 ? `+${year}` : pad(year, 4);
  return `${yearText}-${pad(month, 2)}-${pad(day, 2)}`;
}

/** hh:mm:ss[.fff…] of a time of day in units of 1/perSecond s. */
function timeOfDay(units: bigint, perSecond: number): string {
  const per = BigInt(perSecond);
  const seconds = Number(units / per);
  const fraction = units % per;
  const digits = perSecond === 1e3 ? 3 : perSecond === 1e6 ? 6 : 9;
  let text = `${pad(Math.floor(seconds / 3600), 2)}:${pad(Math.floor(seconds / 60) % 60, 2)}:${pad(seconds % 60, 2)}`;
  if (fraction !== 0n) text += '.' + fraction.toString().padStart(digits, '0').replace(/0+$/, '');
  return text;
}

/** ISO 8601: 2024-01-31T09:30:00[.fff…][Z] of a count of units since the epoch. */
function timestampText(units: bigint, perSecond: number, utc: boolean): string {
  const per = BigInt(perSecond);
  const perDay = 86400n * per;
  let days = units / perDay;
  let rest = units % perDay;
  if (rest < 0n) {
    rest += perDay;
    days -= 1n;
  }
  return `${civilDate(Number(days))}T${timeOfDay(rest, perSecond)}${utc ? 'Z' : ''}`;
}

const JULIAN_EPOCH_DAY = 2440588n;

/** A cell's bytes. */
function bytesOf(column: BlockColumn, r: number): Uint8Array {
  const offsets = column.offsets as Int32Array;
  return (column.data as Uint8Array).subarray(offsets[r], offsets[r + 1]);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Short float32 text: the fewest digits that read back as the same float32. */
function float32Text(x: number): string {
  for (let digits = 1; digits < 10; digits++) {
    const text = x.toPrecision(digits);
    if (Math.fround(Number(text)) === x) return String(Number(text));
  }
  return String(x);
}

/** A cell as text, or undefined if it is null. */
export function cellText(info: ColumnInfo, column: BlockColumn, r: number): string | undefined {
  if (column.valid !== undefined && column.valid[r] === 0) return undefined;
  const { physical } = info;
  switch (info.kind) {
    case 'number':
      if (physical === PhysicalType.INT64) return (column.values as BigInt64Array)[r].toString();
      if (physical === PhysicalType.FLOAT) return float32Text((column.values as Float32Array)[r]);
      return String((column.values as Float64Array)[r]);
    case 'unsigned':
      if (physical === PhysicalType.INT64) return BigInt.asUintN(64, (column.values as BigInt64Array)[r]).toString();
      return String((column.values as Int32Array)[r] >>> 0);
    case 'decimal':
      return decimalText(integerOf(column, r, physical), info.scale);
    case 'float16':
      return String(numberOf(info, column, r));
    case 'boolean':
      return (column.values as Uint8Array)[r] ? 'true' : 'false';
    case 'date':
      return dateText((column.values as Int32Array)[r]);
    case 'time':
      return timeOfDay(physical === PhysicalType.INT64 ? (column.values as BigInt64Array)[r] : BigInt((column.values as Int32Array)[r]), info.perSecond);
    case 'timestamp':
      return timestampText((column.values as BigInt64Array)[r], info.perSecond, info.utc);
    case 'int96': {
      // Nanoseconds of the day (8 bytes), then the Julian day (4 bytes), little-endian.
      const bytes = bytesOf(column, r);
      const view = new DataView(bytes.buffer, bytes.byteOffset, 12);
      const nanos = view.getBigInt64(0, true);
      const day = BigInt(view.getInt32(8, true)) - JULIAN_EPOCH_DAY;
      return timestampText(day * 86_400_000_000_000n + nanos, 1e9, true);
    }
    case 'uuid': {
      const h = hex(bytesOf(column, r));
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    case 'string': {
      const bytes = bytesOf(column, r);
      return isUtf8(bytes) ? utf8.decode(bytes) : hex(bytes);
    }
    default:
      return hex(bytesOf(column, r));
  }
}

/** Beyond this, an integer does not survive a trip through a double: NDJSON gets it as a string. */
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A cell as a JSON value's text: numbers and booleans as such, null, everything else a string. */
export function cellJson(info: ColumnInfo, column: BlockColumn, r: number): string {
  const text = cellText(info, column, r);
  if (text === undefined) return 'null';
  switch (info.kind) {
    case 'boolean':
      return text;
    case 'number':
    case 'unsigned':
      if (info.physical === PhysicalType.INT64) {
        const value = BigInt(text);
        return value <= SAFE && value >= -SAFE ? text : JSON.stringify(text);
      }
      return Number.isFinite(Number(text)) ? text : JSON.stringify(text);
    default:
      return JSON.stringify(text);
  }
}
