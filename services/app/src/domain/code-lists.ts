import { checkedHookOptions, isRuleViolation, type AppOptions } from '@forms/app-definition';
import { DomainError } from '@forms/contracts';
import { loadInstance, ruleContext, type AppContext, type Caller } from './app-context';
import { loadFormData } from './validation';

/** What a code list request asks for besides its id: the language (Altinn's default `nb`) and the other query parameters. */
export interface OptionsRequest {
  language: string;
  query: Readonly<Record<string, string>>;
}

const notFound = (optionsId: string) => new DomainError('not_found', 'OPTIONS_NOT_FOUND', `The app has no code list '${optionsId}'.`);

/** A RuleViolation from an options hook refuses the request's parameters; anything else the hook throws is the app's fault. */
async function fromHook(optionsId: string, make: () => unknown): Promise<AppOptions | undefined> {
  let answer: unknown;
  try {
    answer = await make();
  } catch (error) {
    if (isRuleViolation(error)) throw new DomainError('invalid', error.code, error.message);
    throw error;
  }
  return checkedHookOptions(optionsId, answer);
}

/** A public code list: the rules' `options` hook when it makes one by that id, else the app's `options/<id>.json`. */
export async function publicCodeList(ctx: AppContext, optionsId: string, request: OptionsRequest): Promise<AppOptions> {
  const { definition } = ctx;
  const hook = definition.rules.options;
  const made = hook && (await fromHook(optionsId, () => hook(optionsId, { appId: definition.metadata.id, ...request })));
  if (made) return made;
  const file = definition.codeLists.get(optionsId);
  if (!file) throw notFound(optionsId);
  return { options: [...file] };
}

/**
 * A code list drawn from an instance, by the rules' `instanceOptions` hook, for a caller who may read the instance
 * (storage decides: others get 404 as for the instance itself). Public lists are not served here, as in Altinn.
 */
export async function instanceCodeList(ctx: AppContext, caller: Caller, instanceId: string, optionsId: string, request: OptionsRequest): Promise<AppOptions> {
  const hook = ctx.definition.rules.instanceOptions;
  const { instance } = await loadInstance(ctx, caller, instanceId);
  if (!hook) throw notFound(optionsId);
  const formData = await loadFormData(ctx, caller, instance);
  const currentTask = instance.process.currentTask?.elementId ?? undefined;
  const made = await fromHook(optionsId, () =>
    hook(optionsId, {
      ...ruleContext(ctx, caller, instance.instanceOwner.partyId, instance),
      instance,
      formData,
      ...(currentTask && { currentTask }),
      ...request,
    }),
  );
  if (!made) throw notFound(optionsId);
  return made;
}

/** Altinn's `Altinn-DownstreamParameters` header: `name=value` pairs, URL-encoded, joined by commas. */
export function downstreamParameters(parameters: Readonly<Record<string, string>> | undefined): string | undefined {
  const entries = Object.entries(parameters ?? {});
  if (entries.length === 0) return undefined;
  return entries.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`).join(',');
}
