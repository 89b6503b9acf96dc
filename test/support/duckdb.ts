// DuckDB (@duckdb/node-api, a dev dependency), the independent engine the
// Parquet tests write their inputs with and read finorm's outputs back with.

import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';

let connection: Promise<DuckDBConnection> | undefined;

async function connect(): Promise<DuckDBConnection> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  return instance.connect();
}

/** Runs SQL statements; returns the rows of the last as arrays of values. */
export async function duck(...statements: string[]): Promise<DuckDBValue[][]> {
  const db = await (connection ??= connect());
  let rows: DuckDBValue[][] = [];
  for (const sql of statements) rows = (await db.runAndReadAll(sql)).getRows();
  return rows;
}

/** A string as an SQL literal. */
export function sqlText(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
