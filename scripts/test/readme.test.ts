/**
 * The README's commands, checked without running them: every shell block is either run by
 * scripts/test/up.test.ts against a started platform, or marked with the reason it cannot run here, and the
 * marking is true of the block. Every command works with only Node and npm: no global pnpm, `npx` only for a
 * bin the install links or a pinned version, `npm run` only for a script that exists.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandsOf, markings, readmeText, ROOT, shellBlocks } from './support/readme';

const blocks = shellBlocks();
const rootPackage = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** Commands in inline code (`...`) of the prose, which a reader pastes as well. */
function inlineCommands(): string[] {
  const prose = readmeText().replace(/^\s*```[\s\S]*?^\s*```/gm, '');
  return [...prose.matchAll(/`([^`\n]+)`/g)].map((match) => match[1] as string).filter((code) => /\s/.test(code.trim()));
}

/** Bins the install links into node_modules/.bin from the workspace packages the root depends on. */
function linkedBins(): string[] {
  const dependedOn = Object.entries(rootPackage.devDependencies).filter(([, version]) => version.startsWith('workspace:')).map(([name]) => name);
  return ['packages', 'services']
    .flatMap((parent) => readdirSync(join(ROOT, parent)).map((name) => join(ROOT, parent, name, 'package.json')))
    .filter(existsSync)
    .map((path) => JSON.parse(readFileSync(path, 'utf8')) as { name: string; bin?: Record<string, string> })
    .filter((manifest) => dependedOn.includes(manifest.name))
    .flatMap((manifest) => Object.keys(manifest.bin ?? {}));
}

describe('README command blocks', () => {
  it('has shell blocks to run, and every readme-test marking is one the test knows', () => {
    expect(blocks.filter((block) => block.marking === 'run').length).toBeGreaterThanOrEqual(4);
    const known = /^<!-- readme-test: (quick start \(.+\)|not run \(needs (Docker|Kubernetes)\)|not run \(maintenance: .+\)) -->$/;
    for (const marking of markings()) expect(marking).toMatch(known);
    expect(markings()).toHaveLength(blocks.filter((block) => block.marking !== 'run').length);
  });

  it('marks as not run only blocks that need Docker or Kubernetes, and runs every other block', () => {
    for (const block of blocks) {
      const commands = commandsOf(block);
      const docker = commands.filter((command) => /^docker\s/.test(command));
      const kubectl = commands.filter((command) => /^kubectl\s/.test(command));
      const where = `README.md:${block.line}`;
      if (block.marking === 'needs Docker') expect({ where, commands }).toEqual({ where, commands: docker });
      else if (block.marking === 'needs Kubernetes') expect({ where, commands }).toEqual({ where, commands: kubectl });
      else if (block.marking === 'maintenance') {
        // Only the maintenance commands (check, backups) and the file-level steps of a repair (copy, sqlite3 .recover).
        const other = commands.filter(
          (command) => !/^(cd \.data\/storage && cp |sqlite3 |(DATA_DIR=\S+ )?npm (--prefix \S+ )?run -s (storage-check|storage-backup|backup)\b)/.test(command),
        );
        expect({ where, other, docker, kubectl }).toEqual({ where, other: [], docker: [], kubectl: [] });
      }
      else expect({ where, docker, kubectl }).toEqual({ where, docker: [], kubectl: [] });
    }
  });

  it('has one quick-start block: npm run up (started by up.test.ts) and npm run check (what CI runs)', () => {
    const quickStart = blocks.filter((block) => block.marking === 'quick start');
    expect(quickStart).toHaveLength(1);
    expect(commandsOf(quickStart[0]!)).toEqual(['npm run up', 'npm run check']);
    expect(readFileSync(join(ROOT, '.ci', 'run'), 'utf8')).toMatch(/^npm run check$/m);
    expect(readFileSync(join(__dirname, 'up.test.ts'), 'utf8')).toContain("spawn('npm', ['run', 'up']");
  });

  it('needs no global pnpm: npm scripts that exist, npx for linked bins or pinned versions', () => {
    const commands = [...blocks.flatMap(commandsOf), ...inlineCommands()];
    const bins = linkedBins();
    expect(bins).toEqual(expect.arrayContaining(['forms', 'forms-auth']));
    for (const command of commands) {
      for (const segment of command.split(/&&|\|\||;|\||\$\(/).map((part) => part.trim())) {
        const words = segment.split(/\s+/).filter((word) => !/^[A-Z_]+=/.test(word));
        expect({ command, first: words[0] }).not.toEqual({ command, first: 'pnpm' });
        if (words[0] === 'npx') expect({ command, npx: bins.includes(words[1]!) || /@\d+\.\d+\.\d+$/.test(words[1]!) }).toEqual({ command, npx: true });
        if (words[0] === 'npm' && words[1] === 'run') {
          const script = words.find((word, index) => index > 1 && !word.startsWith('-'));
          expect({ command, script: script !== undefined && script in rootPackage.scripts }).toEqual({ command, script: true });
        }
      }
    }
  });
});
