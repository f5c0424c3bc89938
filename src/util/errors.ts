// Typed errors; the CLI's one top-level catch maps them to exit codes
// (0 ok, 1 an assertion failed, 2 bad input or an environment that cannot run it).

/** A lab (or exercise/objects) file is wrong. `where` is "file:line path". */
export class LabFileError extends Error {
  override name = 'LabFileError';
  constructor(message: string, readonly file?: string, readonly line?: number, readonly path?: string) {
    super(message);
  }
  get location(): string {
    return [this.file && (this.line ? `${this.file}:${this.line}` : this.file), this.path].filter(Boolean).join(' ');
  }
}

/** The machine cannot run this: not root, a missing package or kernel feature. */
export class EnvironmentError extends Error {
  override name = 'EnvironmentError';
  constructor(message: string, readonly hint?: string) {
    super(message);
  }
}

/** A scenario or exercise check failed (exit code 1). */
export class AssertionFailed extends Error {
  override name = 'AssertionFailed';
}

/**
 * One attempt of a check on a live system failed (a rule not there yet, a pod
 * not ready); retried until the deadline, then reported as the item's failure.
 * Here rather than in src/scenario because the proxy modes' rule read-backs throw it too.
 */
export class CheckFailed extends Error {
  override name = 'CheckFailed';
  constructor(message: string, readonly detail?: string) {
    super(message);
  }
}

/** A command run on a node failed; carries what a user needs to see. */
export class CommandError extends Error {
  override name = 'CommandError';
  constructor(
    readonly argv: string[],
    readonly code: number | null,
    readonly stderr: string,
    readonly where = 'host',
  ) {
    const tail = stderr.trim().split('\n').slice(-6).join('\n    ');
    super(`${argv.join(' ')} failed on ${where} (exit ${code})${tail ? `:\n    ${tail}` : ''}`);
  }
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof AssertionFailed) return 1;
  return 2;
}
