import type { TestProject } from 'vitest/node';
import { startPostgres } from './helpers/postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The throwaway cluster of this run (test/helpers/postgres.ts); tests make their own databases on it. */
    postgresUrl: string;
  }
}

/** One PostgreSQL cluster for the tests that run on the PostgreSQL store, stopped when they end. */
export default async function setup(project: TestProject): Promise<() => void> {
  const cluster = await startPostgres({ host: process.env.TEST_POSTGRES_HOST ?? '127.0.0.1' });
  project.provide('postgresUrl', cluster.url);
  return () => cluster.stop();
}
