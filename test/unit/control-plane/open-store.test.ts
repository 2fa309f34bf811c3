import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ControlPlaneError } from '../../../src/control-plane/errors.js';
import { unreachable } from '../../../src/control-plane/store/open.js';
import { freePort } from '../../helpers/postgres.js';

const HOST = process.env.TEST_LISTEN_HOST ?? '127.0.0.1';

describe('opening the PostgreSQL store', () => {
  it('turns a database it cannot reach into CP_ERR_DB_UNREACHABLE (exit 69), naming the server but never the password', async () => {
    const port = await freePort(HOST);
    const url = `postgresql://cve_cp:hunter2-secret@${HOST}:${port}/cve`;
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    const failure: unknown = await client.connect().then(
      () => undefined,
      (error: unknown) => error,
    );
    const mapped = unreachable(failure, url);
    expect(mapped).toBeInstanceOf(ControlPlaneError);
    expect(mapped?.code).toBe('CP_ERR_DB_UNREACHABLE');
    expect(mapped?.exitCode).toBe(69);
    expect(mapped?.message).toContain(`cannot reach the PostgreSQL database ${HOST}:${port}/cve as cve_cp: `);
    expect(mapped?.message).toContain('ECONNREFUSED');
    expect(mapped?.message).not.toContain('hunter2');
    expect(mapped?.message).not.toContain('\n');
  });

  it('leaves other errors alone: a refused collation or schema, a bug', () => {
    const url = 'postgresql://cve_cp:pw@db/cve';
    expect(unreachable(new ControlPlaneError('CP_ERR_DB_COLLATION'), url)).toBeUndefined();
    expect(unreachable(Object.assign(new Error('relation "sites" does not exist'), { code: '42P01' }), url)).toBeUndefined();
    expect(unreachable(new TypeError('x is undefined'), url)).toBeUndefined();
    expect(unreachable(Object.assign(new Error('password authentication failed for user "cve_cp"'), { code: '28P01' }), url)?.message).toBe(
      'cannot reach the PostgreSQL database db:5432/cve as cve_cp: password authentication failed for user "cve_cp"',
    );
  });
});
