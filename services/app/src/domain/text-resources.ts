import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Altinn's TextResource: an app's texts in one language. */
export interface TextResource {
  id: string;
  org: string;
  language: string;
  resources: Array<{ id: string; value: string }>;
}

const FILE = /^resource\.([a-z]{2,3})\.json$/;

/**
 * The app's texts from `<app folder>/texts/resource.<language>.json` (Altinn's `{language, resources: [{id, value}]}`),
 * read once at start-up. A folder without texts has none; a malformed file stops the start with its name.
 */
export async function loadTextResources(folder: string, org: string, app: string): Promise<ReadonlyMap<string, TextResource>> {
  const dir = join(folder, 'texts');
  const files = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  const texts = new Map<string, TextResource>();
  for (const file of files.sort()) {
    const language = FILE.exec(file)?.[1];
    if (!language) continue;
    const parsed: unknown = JSON.parse(await readFile(join(dir, file), 'utf8'));
    const resources = (parsed as { resources?: unknown }).resources;
    const valid = Array.isArray(resources) && resources.every((r) => typeof r?.id === 'string' && typeof r?.value === 'string');
    if (!valid) throw new Error(`${join(dir, file)}: expected {"resources": [{"id", "value"}]}`);
    texts.set(language, { id: `${org}-${app}-${language}`, org, language, resources: (resources as TextResource['resources']).map(({ id, value }) => ({ id, value })) });
  }
  return texts;
}

/** The process definition as the app defines it: BPMN when the app has it, else its JSON process. */
export async function processDocument(folder: string): Promise<{ contentType: string; body: string }> {
  try {
    return { contentType: 'application/xml; charset=utf-8', body: await readFile(join(folder, 'process.bpmn'), 'utf8') };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return { contentType: 'application/json; charset=utf-8', body: await readFile(join(folder, 'process.json'), 'utf8') };
  }
}
