/**
 * The README's shell blocks, as a test runs them. A block runs unless an HTML comment right above it says why
 * not, in one of the forms below; scripts/test/readme.test.ts checks that each marking is true of its block.
 *
 *   <!-- readme-test: quick start (...) -->        the two set-up commands (npm run up / npm run check)
 *   <!-- readme-test: not run (needs Docker) -->
 *   <!-- readme-test: not run (needs Kubernetes) -->
 *   <!-- readme-test: not run (maintenance: ...) -->  the maintenance commands (check, backups, repair), run by their own tests
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..', '..');

export type Marking = 'run' | 'quick start' | 'needs Docker' | 'needs Kubernetes' | 'maintenance';

export interface ShellBlock {
  /** 1-based line of the opening fence. */
  line: number;
  code: string;
  marking: Marking;
}

const MARK = /^<!-- readme-test: (quick start|not run \((needs Docker|needs Kubernetes|maintenance)[:)])( |\)).*-->$/;

export function readmeText(): string {
  return readFileSync(join(ROOT, 'README.md'), 'utf8');
}

/** Every ```sh block (indented ones, inside list items, too), in order. */
export function shellBlocks(text = readmeText()): ShellBlock[] {
  const lines = text.split('\n');
  const blocks: ShellBlock[] = [];
  for (let index = 0; index < lines.length; index += 1) {
    const open = /^(\s*)```sh\s*$/.exec(lines[index] as string);
    if (!open) continue;
    const indent = (open[1] as string).length;
    const body: string[] = [];
    let end = index + 1;
    for (; end < lines.length && !/^\s*```\s*$/.test(lines[end] as string); end += 1) body.push((lines[end] as string).slice(indent));
    if (end === lines.length) throw new Error(`README.md:${index + 1}: unclosed code block`);
    let above = index - 1;
    while (above >= 0 && (lines[above] as string).trim() === '') above -= 1;
    const mark = MARK.exec((lines[above] ?? '').trim());
    const marking: Marking = !mark ? 'run' : mark[1] === 'quick start' ? 'quick start' : (mark[2] as Marking);
    blocks.push({ line: index + 1, code: body.join('\n'), marking });
    index = end;
  }
  return blocks;
}

/** Every `readme-test:` comment in the README, to catch one that is misspelt and so marks nothing. */
export function markings(text = readmeText()): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('<!--') && line.includes('readme-test'));
}

/** The commands of a block: its lines without comments and blank lines, continuation lines joined. */
export function commandsOf(block: ShellBlock): string[] {
  return block.code
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .filter((line) => line !== '');
}

/**
 * One bash script that runs the given blocks in order in one session (later blocks use what earlier ones
 * set), stopping at the first command that fails. curl fails on an HTTP error status too, so a README command
 * that answers 4xx/5xx fails the run instead of printing a problem document nobody reads.
 */
export function sessionScript(blocks: ShellBlock[]): string {
  const parts = [
    'set -eo pipefail',
    'curl() { command curl --fail-with-body --max-time 30 "$@"; }',
    ...blocks.flatMap((block) => [`echo "### README.md:${block.line}" >&2`, block.code]),
    'echo "### README session done" >&2',
  ];
  return `${parts.join('\n')}\n`;
}
