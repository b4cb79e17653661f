/** Exit codes of forms-cli. */
export const ExitCode = {
  ok: 0,
  /** Wrong or missing arguments, not logged in. */
  usage: 1,
  /** The platform refused or failed (problem code and detail on stderr), or a local write failed. */
  failure: 2,
} as const;

/** A mistake in how the command was called; exit code 1. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
