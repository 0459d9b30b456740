/**
 * PostHog connection settings: host, project id, personal API key (queries) and project API key
 * (capture). Resolved with this precedence, first found wins per field:
 *   1. command-line flags (--host, --project-id, --personal-api-key, --project-api-key)
 *   2. environment (POSTHOG_HOST, POSTHOG_PROJECT_ID, POSTHOG_PERSONAL_API_KEY, POSTHOG_PROJECT_API_KEY)
 *   3. --config FILE (JSON)
 *   4. the default config file <user config dir>/discover-metrics/config.json, if present
 * Keys are secrets: use maskSecret() whenever a key has to be shown.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { InputError, UsageError } from '../errors.js';
import { firstIssue } from '../zod-issues.js';

export interface PostHogConnection {
  host?: string;
  projectId?: string;
  personalApiKey?: string;
  projectApiKey?: string;
}

const configSchema = z
  .object({
    host: z.string().min(1).optional(),
    projectId: z.union([z.string().min(1), z.number().int().positive()]).optional(),
    personalApiKey: z.string().min(1).optional(),
    projectApiKey: z.string().min(1).optional(),
  })
  .strict();

/** Keys the config file may hold, also accepted in snake_case (PostHog's own spelling). */
const SNAKE: Record<string, string> = {
  project_id: 'projectId',
  personal_api_key: 'personalApiKey',
  project_api_key: 'projectApiKey',
};

export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME
    ? env.XDG_CONFIG_HOME
    : process.platform === 'win32'
      ? (env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'))
      : process.platform === 'darwin'
        ? join(homedir(), 'Library', 'Application Support')
        : join(homedir(), '.config');
  return join(base, 'discover-metrics', 'config.json');
}

/** Read and validate a config file. Errors name the file and the JSON path; secrets are never echoed. */
export function readConfigFile(path: string): PostHogConnection {
  const full = resolve(path);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(full, code === 'ENOENT' ? 'config file not found' : `cannot read config file (${code ?? String(e)})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    // (V8's message quotes the text around the error, which may be a key: only the place is shown)
    const at = Number(/position (\d+)/.exec((e as Error).message)?.[1]);
    const where = Number.isFinite(at) ? `:${text.slice(0, at).split('\n').length}` : '';
    throw new InputError(`${full}${where}`, 'not valid JSON');
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InputError(full, 'expected a JSON object like {"host": "https://us.posthog.com", "projectId": 12345}');
  }
  const normalized: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (k === '$schema' || k === '$comment') continue;
    normalized[SNAKE[k] ?? k] = v;
  }
  const parsed = configSchema.safeParse(normalized, { reportInput: true });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      throw new InputError(full, `unknown key(s) ${issue.keys.map(shownKeyName).join(', ')}`, 'Valid keys: host, projectId, personalApiKey, projectApiKey.');
    }
    throw new InputError(full, firstIssue(parsed.error));
  }
  const d = parsed.data;
  return {
    host: d.host,
    projectId: d.projectId === undefined ? undefined : String(d.projectId),
    personalApiKey: d.personalApiKey,
    projectApiKey: d.projectApiKey,
  };
}

/** A config key name as shown in an error: a short plain name as it is, anything else (a pasted secret?) not at all. */
function shownKeyName(k: string): string {
  const plain = /^[A-Za-z_$][A-Za-z0-9_$]{0,31}$/.test(k) && !/^ph[a-z]_/i.test(k) && !(k.length >= 16 && /\d/.test(k));
  return plain ? `'${k}'` : `(one not shown: ${k.length} characters that do not look like a key name)`;
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string' && v.trim() !== '') return v.trim();
  if (typeof v === 'number') return String(v);
  return undefined;
}

/**
 * Merge flags (commander option names: host, projectId, personalApiKey, projectApiKey, config),
 * environment and config files into one connection. Nothing is required here; see requireQueryConnection.
 */
export function resolveConnection(opts: { [K in keyof PostHogConnection | 'config']?: unknown }, env: NodeJS.ProcessEnv = process.env): PostHogConnection {
  const fromFlags: PostHogConnection = {
    host: str(opts.host),
    projectId: str(opts.projectId),
    personalApiKey: str(opts.personalApiKey),
    projectApiKey: str(opts.projectApiKey),
  };
  const fromEnv: PostHogConnection = {
    host: str(env.POSTHOG_HOST),
    projectId: str(env.POSTHOG_PROJECT_ID),
    personalApiKey: str(env.POSTHOG_PERSONAL_API_KEY),
    projectApiKey: str(env.POSTHOG_PROJECT_API_KEY),
  };
  const explicit = str(opts.config);
  const fromFile = explicit ? readConfigFile(explicit) : {};
  const defPath = defaultConfigPath(env);
  const fromDefault = !explicit && existsSync(defPath) ? readConfigFile(defPath) : {};
  const pick = (k: keyof PostHogConnection): string | undefined => fromFlags[k] ?? fromEnv[k] ?? fromFile[k] ?? fromDefault[k];
  return {
    host: pick('host'),
    projectId: pick('projectId'),
    personalApiKey: pick('personalApiKey'),
    projectApiKey: pick('projectApiKey'),
  };
}

/** Validate and normalise a host URL (no trailing slash). */
export function normalizeHost(host: string, option = '--host'): string {
  if (/ph[cxs](_|%5f)/i.test(host)) {
    // never sent anywhere nor echoed: the value holds what looks like a PostHog key
    throw new UsageError(`${option}: the value looks like it holds a PostHog key, not only a host`, 'Pass the URL of your PostHog app, e.g. https://us.posthog.com, and the key with --personal-api-key.');
  }
  let u: URL;
  try {
    u = new URL(host);
  } catch {
    throw new UsageError(`${option}: '${host}' is not a URL`, 'Example: https://us.posthog.com (EU: https://eu.posthog.com).');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new UsageError(`${option}: '${host}' must be an http(s) URL`);
  }
  if (u.username || u.password) throw new UsageError(`${option}: credentials in the URL are not allowed`);
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

export interface QueryConnection {
  host: string;
  projectId: string;
  personalApiKey: string;
}

/** The connection an engine needs; a clear usage error names each missing setting. */
export function requireQueryConnection(c: PostHogConnection): QueryConnection {
  const missing: string[] = [];
  if (!c.host) missing.push('--host (env POSTHOG_HOST)');
  if (!c.projectId) missing.push('--project-id (env POSTHOG_PROJECT_ID)');
  if (!c.personalApiKey) missing.push('--personal-api-key (env POSTHOG_PERSONAL_API_KEY)');
  if (missing.length) {
    throw new UsageError(
      `--engine posthog needs ${missing.join(', ')}`,
      `Or put them in a JSON config file (--config FILE, or ${defaultConfigPath()}): {"host": "https://us.posthog.com", "projectId": 12345, "personalApiKey": "phx_..."}`,
    );
  }
  if (!/^\d+$/.test(c.projectId!)) {
    // (not echoed when it may be a key pasted in the wrong place)
    const shown = /^[A-Za-z0-9-]{1,24}$/.test(c.projectId!) && !/ph[a-z]_/i.test(c.projectId!) ? `'${c.projectId}' ` : 'the value given ';
    throw new UsageError(`--project-id: ${shown}is not a numeric project id`, 'The project id is the number in your PostHog URL: /project/12345.');
  }
  return { host: normalizeHost(c.host!), projectId: c.projectId!, personalApiKey: c.personalApiKey! };
}

/** Show a secret safely: its prefix (phc_/phx_) and last 4 characters only. */
export function maskSecret(secret: string | undefined): string {
  if (!secret) return '(none)';
  const prefix = /^ph[a-z]_/.test(secret) ? secret.slice(0, 4) : '';
  if (secret.length < 12) return `${prefix}…`;
  return `${prefix}…${secret.slice(-4)}`;
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopbackHost(host: string): boolean {
  let h: string;
  try {
    h = new URL(host).hostname;
  } catch {
    return false;
  }
  h = h.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}
