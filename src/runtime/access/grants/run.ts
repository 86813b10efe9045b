/**
 * Running rendered statements in the caller's transaction: a revoke the admin may not make
 * becomes a warning, anything else fails with the statement named.
 */
import type { ClientBase } from 'pg';
import { ident } from '../../pg/sql';
import type { Statement } from './render';

/**
 * The same error with `context` and `separator` in front of its message; the SQLSTATE and
 * detail are kept, so retry decisions and callers that look at `code` still work.
 */
export function withContext(err: unknown, context: string, separator = ': '): Error {
  const source = err as { message?: unknown; code?: unknown; detail?: unknown };
  const message = typeof source.message === 'string' ? source.message : String(err);
  const wrapped = new Error(`${context}${separator}${message}`, { cause: err });
  return Object.assign(wrapped, {
    ...(typeof source.code === 'string' ? { code: source.code } : {}),
    ...(typeof source.detail === 'string' ? { detail: source.detail } : {}),
  });
}

/** SQLSTATEs of a revoke the admin is not allowed to make (warn, do not fail). */
const NOT_ALLOWED = new Set(['42501', '0LP01', '0A000', '2BP01']);

/**
 * Runs statements inside the caller's transaction. Best-effort ones run in a savepoint:
 * if the admin may not make them, the savepoint is rolled back and a warning returned.
 */
export async function runStatements(client: ClientBase, statements: readonly Statement[]): Promise<{ executed: string[]; warnings: string[] }> {
  const executed: string[] = [];
  const warnings: string[] = [];
  for (const statement of statements) {
    if (!statement.bestEffort && !statement.actAs) {
      try {
        await client.query(statement.sql);
      } catch (err) {
        throw withContext(err, `could not run \`${statement.sql}\``);
      }
      executed.push(statement.sql);
      continue;
    }
    await client.query('SAVEPOINT adaptive_statement');
    try {
      if (statement.actAs) await client.query(`SET LOCAL ROLE ${ident(statement.actAs)}`);
      await client.query(statement.sql);
      if (statement.actAs) await client.query('SET LOCAL ROLE NONE');
      await client.query('RELEASE SAVEPOINT adaptive_statement');
      executed.push(statement.sql);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (!statement.bestEffort || typeof code !== 'string' || !NOT_ALLOWED.has(code)) throw err;
      await client.query('ROLLBACK TO SAVEPOINT adaptive_statement');
      const as = statement.actAs ? ` as ${ident(statement.actAs)}` : '';
      warnings.push(`could not run \`${statement.sql}\`${as}: ${(err as Error).message}`);
    }
  }
  return { executed, warnings };
}
