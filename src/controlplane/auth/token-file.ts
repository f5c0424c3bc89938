// kube-apiserver's --token-auth-file: a CSV of static bearer tokens, one line
// `token,user,uid,"group1,group2"` (at least three columns; the groups column
// optional), as upstream's tokenfile authenticator reads it. Here so a lab can
// hand a learner (or a test) a user that is not a cluster admin.
import { readFileSync } from 'node:fs';
import { LabFileError } from '../../util/errors.ts';
import type { UserInfo } from './user.ts';

/** Splits one CSV record: commas separate fields, double quotes enclose one with commas, "" is a quote. */
export function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') (cur += '"'), i++;
      else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') out.push(cur), (cur = '');
    else cur += c;
  }
  out.push(cur);
  return out;
}

/** token → user; a later duplicate token wins, as upstream's map assignment does. */
export type TokenTable = Map<string, UserInfo>;

export function parseTokenFile(text: string, file = 'token file'): TokenTable {
  const table: TokenTable = new Map();
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (!line.trim() || line.trimStart().startsWith('#')) return;
    const f = csvFields(line);
    // Upstream's message for a short record, with its line number.
    if (f.length < 3) throw new LabFileError(`token file is not in the expected format: line ${i + 1}: expected token,user,uid[,"groups"]`, file, i + 1);
    const [token, username, uid, groups] = f;
    if (!token) throw new LabFileError(`token file line ${i + 1}: empty token`, file, i + 1);
    table.set(token, { username, uid, groups: groups ? groups.split(',').map((g) => g.trim()).filter(Boolean) : [] });
  });
  return table;
}

export function readTokenFile(file: string): TokenTable {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new LabFileError(`--token-auth-file: cannot read ${file}: ${(e as Error).message}`, file);
  }
  return parseTokenFile(text, file);
}
