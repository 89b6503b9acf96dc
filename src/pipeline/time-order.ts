// The time-order check of causal runs (--window, --expanding): within each
// group, the order column's value must never go backwards, or a "trailing"
// window would hold future rows. Values compare as what they are: plain
// numbers (yyyymmdd integers, epoch seconds) as numbers, dates and
// timestamps as instants. Other text has no order that can be trusted
// ("day10" sorts before "day9"), so it is an error, not a guess.

import { parseDecimal } from '../io/decimal.js';

/** Column names checked when --order-by is not given (case-insensitive). */
export const TIME_COLUMN_NAMES = ['date', 'time', 'timestamp', 'datetime'];

const enum Kind {
  Number,
  Instant,
}
const KIND_NAMES = ['a number', 'a date or time'];
const LOCAL_ISO = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

interface OrderValue {
  kind: Kind;
  number: number;
  text: string;
}

function orderValueOf(text: string): OrderValue | undefined {
  // The common case first, without Date.parse: a plain ISO date, YYYY-MM-DD (as Date.parse reads it: UTC midnight).
  if (text.length === 10 && text.charCodeAt(4) === 45 && text.charCodeAt(7) === 45) {
    const year = digits(text, 0, 4);
    const month = digits(text, 5, 7);
    const day = digits(text, 8, 10);
    if (year >= 0 && month >= 1 && month <= 12 && day >= 1 && day <= 31) return { kind: Kind.Instant, number: Date.UTC(year, month - 1, day), text };
  }
  const number = parseDecimal(text);
  if (Number.isFinite(number)) return { kind: Kind.Number, number, text };
  // An ISO date and time without an offset is read as UTC, like a plain date, whatever the machine's time zone.
  const instant = Date.parse(LOCAL_ISO.test(text) ? `${text.replace(' ', 'T')}Z` : text);
  if (Number.isFinite(instant)) return { kind: Kind.Instant, number: instant, text };
  return undefined;
}

/** Each group's latest value of the order column; says what is wrong with a row that goes backwards. */
export class TimeOrder {
  private readonly latest = new Map<string, OrderValue>();

  constructor(readonly column: string) {}

  /**
   * Takes a group's next value; returns why it cannot follow the one before,
   * if it cannot (`where`: the group, for the message). Empty values are not ordered.
   */
  follow(group: string, text: string, where: () => string): string | undefined {
    const value = text.trim();
    if (value === '') return undefined;
    const next = orderValueOf(value);
    if (next === undefined) {
      return `${this.column} ${JSON.stringify(value)}${where()} is neither a number nor an ISO-like date or time, so the time order cannot be checked; name another time column with --order-by, or trust the input order with --order-by none`;
    }
    const before = this.latest.get(group);
    this.latest.set(group, next);
    if (before === undefined) return undefined;
    if (before.kind !== next.kind) {
      return `${this.column} ${JSON.stringify(next.text)} is ${KIND_NAMES[next.kind]} and cannot be ordered after ${JSON.stringify(before.text)}, ${KIND_NAMES[before.kind]}${where()}`;
    }
    if (next.number >= before.number) return undefined;
    return `${this.column} goes backwards${where()}: ${JSON.stringify(next.text)} comes after ${JSON.stringify(before.text)}; causal windows need the rows in time order: sort the input by ${this.column} first`;
  }
}

/** The decimal number of text[from, to) if it is all digits, else −1. */
function digits(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}
