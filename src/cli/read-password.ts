/**
 * A password for the CLI, never from argv (visible in `ps` and shell history): from a file, or
 * from stdin — piped (first line), or typed at a terminal without echo.
 */
import { readFileSync } from 'node:fs';

const firstLine = (text: string) => text.split(/\r?\n/)[0] ?? '';

function readPiped(): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => (text += chunk));
    process.stdin.on('end', () => resolve(firstLine(text)));
    process.stdin.on('error', reject);
  });
}

function readTyped(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    let text = '';
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    const done = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(text);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') return done();
        if (char === '\u0003') return done(new Error('interrupted'));
        if (char === '\u007f' || char === '\b') text = [...text].slice(0, -1).join('');
        else text += char;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}

export async function readPassword(file: string | undefined, prompt = 'password: '): Promise<string> {
  if (file !== undefined) return firstLine(readFileSync(file, 'utf8'));
  return process.stdin.isTTY ? readTyped(prompt) : readPiped();
}
