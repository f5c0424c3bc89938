// Errors the way kubectl prints them (cmdutil.CheckErr → StandardErrorMessage):
// an Invalid answer as `The Service "x" is invalid: <causes>`, any other API
// failure as `Error from server (Reason): <message>` (with `error when
// creating "file": ` when an object came from a file), a client-side problem
// as `error: <message>`. All on stderr, exit code 1 — kubectl's contract.
import type { Status } from 'kubernetes-types/meta/v1.js';
import { kubectlErrorText } from '../../controlplane/status.ts';
import { KubectlError } from './generators.ts';

/** An ApiError from the lab apiserver's client (duck-typed: it carries the server's Status). */
export function apiStatus(err: unknown): Status | undefined {
  const s = (err as { status?: Status } | undefined)?.status;
  return s && typeof s === 'object' && s.kind === 'Status' ? s : undefined;
}

export interface ErrorSource {
  /** "creating", "deleting", "retrieving current configuration of" */
  verb: string;
  file: string;
}

/** The line kubectl prints for `err`, or undefined when it is not an API or kubectl error. */
export function kubectlErrorLine(err: unknown, source?: ErrorSource): string | undefined {
  const status = apiStatus(err);
  if (status) {
    if (status.reason === 'Invalid' && status.details) return invalidText(status);
    // cmdutil.AddSourceToErr puts the file into the Status message.
    const message = source ? `error when ${source.verb} "${source.file}": ${status.message ?? ''}` : status.message;
    return kubectlErrorText({ ...status, message });
  }
  if (err instanceof KubectlError) return `error: ${err.message}`;
  // The client's own words for a lab whose apiserver is gone ("... is not reachable (ECONNREFUSED): is the lab up?").
  const code = (err as { code?: string } | undefined)?.code;
  if (code === 'ECONNREFUSED' || code === 'ENOENT') return (err as Error).message;
  return undefined;
}

/**
 * kubectl's checkErr for Invalid: `The Kind "name" is invalid: <cause>` — the
 * bare Kind, not Kind.group — and with several causes a bulleted list
 * (MultilineError) starting on the next line.
 */
function invalidText(status: Status): string {
  const d = status.details!;
  const head = `The ${d.kind ?? ''} "${d.name ?? ''}" is invalid`;
  const causes = (d.causes ?? []).map((c) => `${c.field ?? ''}: ${c.message ?? ''}`);
  if (!causes.length) return head;
  return causes.length === 1 ? `${head}: ${causes[0]}` : `${head}: \n${causes.map((c) => `* ${c}`).join('\n')}`;
}

/** The server's message alone (Go's StatusError.Error()), for kubectl's "failed to create ...: %v" wrappers. */
export function statusMessage(err: unknown): string {
  return apiStatus(err)?.message ?? (err as Error).message;
}

/**
 * Runs a verb; API and kubectl errors are printed as kubectl prints them and
 * the exit code becomes 1. Anything else (no lab up, a bad file) goes to the
 * CLI's top-level handler.
 */
export async function kubectlAction(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const line = kubectlErrorLine(err);
    if (line === undefined) throw err;
    process.stderr.write(`${line}\n`);
    process.exitCode = 1;
  }
}

export type DryRun = 'none' | 'client' | 'server';

/** --dry-run, --dry-run=client|server|none (a bare flag means client, as kubectl still accepts with a warning). */
export function parseDryRun(v: string | boolean | undefined): DryRun {
  if (v === undefined || v === false) return 'none';
  if (v === true) return 'client';
  if (v === 'none' || v === 'client' || v === 'server') return v;
  throw new KubectlError(`Invalid dry-run value (${v}). Must be "none", "server", or "client".`);
}

/** "?dryRun=All" for --dry-run=server (the lab apiserver honours it like the real one). */
export const dryRunQuery = (d: DryRun) => (d === 'server' ? '?dryRun=All' : '');

/** The suffix kubectl's printers add: " (dry run)", " (server dry run)". */
export const dryRunSuffix = (d: DryRun) => (d === 'client' ? ' (dry run)' : d === 'server' ? ' (server dry run)' : '');
