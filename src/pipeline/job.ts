// What the pipeline is asked to do, as plain data: a worker thread receives
// it once (functions cannot cross threads) and rebuilds the job from it.

import type { ColumnScaling, GroupScalings } from '../core/batch.js';
import type { ColumnMomentsState } from '../core/moments.js';
import type { GroupParts, KeyIndexState } from '../groups.js';
import type { QuantileSketchState } from '../core/quantiles.js';
import type { InputLocation } from '../errors.js';
import type { OnError } from '../io/bad-rows.js';
import type { OutputLayout } from '../io/render.js';
import type { Format } from '../io/sources.js';
import type { ColumnInfo } from '../io/parquet/cells.js';
import type { ColumnBlock } from '../io/parquet/decode.js';

/** The input table as every piece of it is read. */
export interface TableLayout {
  format: Format;
  /** The CSV/TSV field delimiter, as a byte. */
  delimiter: number;
  columns: string[];
  /** Indexes of the feature columns, ascending. */
  features: number[];
  /** Names of the feature columns. */
  names: string[];
  /** Per feature slot: the texts that mean "missing" there. */
  na: string[][];
  onError: OnError;
  /** Parquet input: what each column holds. */
  parquet?: ColumnInfo[];
}

/** A row-by-row transform: each row from its own values and fixed constants, or with state (in order). */
export type TransformSpec =
  | { kind: 'layer'; gamma: Float64Array; beta: Float64Array; epsilon: number; clip: number }
  | { kind: 'batch'; scaling: ColumnScaling; clip: number }
  | {
      /** Each row with its group's scaling; a group without one takes `fallback`, or is an error naming `paramsFile`. */
      kind: 'batch-groups';
      groups: GroupColumns;
      /** Group keys → their index in `scalings` (shared memory: one copy for every thread). */
      index: KeyIndexState;
      scalings: GroupScalings;
      fallback: ColumnScaling | undefined;
      paramsFile: string;
      clip: number;
    }
  | {
      /** Causal: each row with its group's statistics up to it (a trailing window, or expanding). Sequential. */
      kind: 'causal';
      groups: GroupColumns | undefined;
      /** The column whose values must not go backwards within a group (time order), if one is checked. */
      orderBy: { index: number; name: string } | undefined;
      window: number | undefined;
      minPeriods: number;
      excludeCurrent: boolean;
      epsilon: number;
      ddof: 0 | 1;
      clip: number;
    }
  | {
      /** --sorted: the rows of each group are together; each group is fitted, then written. Sequential. */
      kind: 'sorted';
      groups: GroupColumns;
      epsilon: number;
      ddof: 0 | 1;
      clip: number;
    };

/** The columns whose values name a group (for messages, their names). */
export interface GroupColumns {
  indexes: number[];
  names: string[];
}

export type JobSpec =
  | {
      kind: 'transform';
      transform: TransformSpec;
      output: OutputLayout;
      /** Keep input and output moments (for a summary). */
      summarize: boolean;
      /** Keep quantile sketches of input and output (--histogram). */
      histogram: boolean;
    }
  | {
      /** The input's moments: also quantile sketches, per group, or of values clamped to bounds (winsorizing). */
      kind: 'statistics';
      sketches: boolean;
      groups?: GroupColumns;
      clamp?: { lower: Float64Array; upper: Float64Array };
    };

/** Everything a thread needs to process pieces, sent once. */
export interface PieceSetup {
  table: TableLayout;
  job: JobSpec;
}

export interface Piece {
  id: number;
  /** The source's name, for messages. */
  source: string;
  /** Whole records. */
  bytes: Uint8Array;
  /** The physical line of the source on which the piece starts (Parquet: the number of its first row). */
  firstLine: number;
  /** Parquet: the rows, decoded into columns (bytes is empty). */
  block?: ColumnBlock;
  /** A written output's buffer, to hold this piece's output if it is big enough. */
  spare?: ArrayBuffer;
}

/** A problem that ends the run, as data (it crosses threads). */
export type PieceFailure =
  /** The first bad row under --on-error stop. */
  | { kind: 'row'; detail: string; location: InputLocation }
  | { kind: 'overflow'; location: InputLocation }
  | { kind: 'data'; message: string; location?: InputLocation }
  | { kind: 'crash'; message: string };

export interface PieceResult {
  id: number;
  /** The piece's buffer, handed back to be filled again (and an unused spare). */
  input: ArrayBuffer;
  spare?: ArrayBuffer;
  /** Rows processed (bad rows excluded). */
  rows: number;
  /** The rendered rows, UTF-8 (empty for statistics); Parquet output: one page per output column. */
  output: Uint8Array;
  /** Parquet output: per output column, [bytes, uncompressed bytes, nulls] of its page in `output`. */
  pages?: Float64Array;
  /** The piece's Parquet block, handed back to be filled again (unless the job still holds its rows). */
  block?: ColumnBlock;
  failure?: PieceFailure;
  /** Bad rows skipped under --on-error skip: the first few, and how many. */
  skippedExamples: { detail: string; location: InputLocation }[];
  skippedCount: number;
  /** Values made missing under --on-error null: the first few, and how many. */
  missingExamples: { detail: string; location: InputLocation }[];
  missingCount: number;
  /** The input's moments (statistics; transforms that summarize), and the output's. */
  moments?: ColumnMomentsState;
  outputMoments?: ColumnMomentsState;
  /**
   * Per-group rows and moments stay in the thread until the totals, or until
   * its table outgrows its budget: then they come with the piece, and the
   * thread starts a new table.
   */
  groups?: GroupParts;
  /** batch-groups: each row's group, by its index among the groups given (−1: one not given, counted in `groups`). */
  groupOfRow?: Int32Array;
  clipped?: Float64Array;
  rowStats?: { zeroVarianceRows: number; emptyRows: number; sigma: ColumnMomentsState; dominatedBy: number[] };
}

/**
 * What a processor gathers over all the pieces it handles, asked for once at
 * the end: quantile sketches and per-group rows and moments, which merge
 * exactly in any order, so they need not travel with each piece.
 */
export interface ProcessorTotals {
  sketches?: QuantileSketchState[];
  outputSketches?: QuantileSketchState[];
  groups?: GroupParts;
}
