import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { README, readmeExitCodeBlock, renderExitCodeTable, unexplainedExitCodes } from '../../../scripts/docs/exit-codes.js';

describe("the README's exit-code table", () => {
  it('is the one generated from the error catalogs (run npm run docs:exit-codes after changing them)', () => {
    expect(readmeExitCodeBlock(readFileSync(README, 'utf8'))).toBe(renderExitCodeTable());
  });

  it('explains every exit code an error can carry', () => {
    expect(unexplainedExitCodes()).toEqual([]);
  });
});
