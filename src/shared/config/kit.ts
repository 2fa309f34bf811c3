/**
 * The config kit both daemons use: read a YAML file, resolve a secret given inline, in a file or
 * in an environment variable (one rule, the same warnings), and freeze the result.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { KernelError } from '../errors.js';

/**
 * Reads and parses one YAML file. An unreadable file is `CONFIG_UNREADABLE`; a syntax error is
 * `CONFIG_INVALID` with one line per problem in `details`.
 */
export function readYamlFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new KernelError('CONFIG_UNREADABLE', `cannot read config ${file}: ${(error as Error).message}`, { cause: error });
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((error) => `YAML syntax: ${error.message.split('\n')[0]}`);
    throw new KernelError('CONFIG_INVALID', `invalid config ${file}:\n  ${lines.join('\n  ')}`, { details: lines });
  }
  return doc.toJS();
}

/** Where a config file sits and what it may read: relative secret files resolve against `dir`. */
export interface SecretContext {
  /** The config file, or undefined for embedded defaults. */
  file: string | undefined;
  dir: string;
  env: NodeJS.ProcessEnv;
  /** Problems that stop the program, one line each. */
  errors: string[];
  /** Problems that do not (a secret readable by others). */
  warnings: string[];
}

export function secretContext(file: string | undefined, env: NodeJS.ProcessEnv): SecretContext {
  return { file, dir: file ? path.dirname(path.resolve(file)) : process.cwd(), env, errors: [], warnings: [] };
}

export interface SecretSource {
  inline: string | undefined;
  file: string | undefined;
  env: string | undefined;
}

/** The three keys of a secret named `name` in a config map: `name`, `name_file`, `name_env`. */
export function secretSourceOf(map: Record<string, unknown>, name: string): SecretSource {
  const text = (key: string) => (typeof map[key] === 'string' ? (map[key] as string) : undefined);
  return { inline: text(name), file: text(`${name}_file`), env: text(`${name}_env`) };
}

function readableByOthers(file: string): boolean {
  try {
    return (statSync(file).mode & 0o004) !== 0;
  } catch {
    return false; // a config given as parsed data, not read from this file
  }
}

/**
 * The secret at config key `key` (a dotted path, used in messages). A file wins over the
 * environment, which wins over the inline value (the schema allows only one of them). A file's
 * trailing newline is dropped. A secret file, or a config file holding an inline secret, that
 * others can read is a warning. An unreadable file or an unset variable is an error; so is an
 * empty secret when `required` (which names what was expected: "a token").
 */
export function resolveSecret(key: string, source: SecretSource, ctx: SecretContext, options: { required?: string } = {}): string {
  let value = '';
  if (source.file !== undefined) {
    const file = path.resolve(ctx.dir, source.file);
    try {
      value = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
      if (readableByOthers(file)) ctx.warnings.push(`${key}_file: ${file} is readable by others; chmod 600 it`);
    } catch (error) {
      ctx.errors.push(`${key}_file: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
  } else if (source.env !== undefined) {
    const found = ctx.env[source.env];
    if (found === undefined) ctx.errors.push(`${key}_env: environment variable ${source.env} is not set`);
    value = found ?? '';
  } else if (source.inline !== undefined) {
    value = source.inline;
    if (value !== '' && ctx.file !== undefined && readableByOthers(ctx.file)) {
      ctx.warnings.push(`${key}: ${ctx.file} holds a secret and is readable by others; chmod 640 it or use ${key}_file`);
    }
  }
  if (options.required !== undefined && value === '') {
    const name = key.split('.').at(-1) ?? key;
    ctx.errors.push(`${key}: expected ${options.required} (${name}, ${name}_file or ${name}_env)`);
  }
  return value;
}

/** Freezes a parsed config all the way down (typed arrays stay as they are: they cannot be frozen). */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value) && !ArrayBuffer.isView(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
