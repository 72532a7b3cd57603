/**
 * Pure functions with no SDK at run time: the daemon's environment from the
 * store, and the checks on what an operator pastes into an action. The
 * package test bundles this file alone and calls them.
 */
import type { Store } from './fileModels/store.json'

export type SmtpCredentials = {
  host: string
  port: number
  from: string
  username: string
  password: string | null
  security: 'tls' | 'starttls'
}

/**
 * The StartOS reverse proxy terminates TLS, drops any X-Forwarded-For the
 * client sent and sets its own to the client's address, connecting to the
 * container from the host's bridge address. Plain-HTTP addresses reach the
 * container directly, so the header is believed only from that one peer.
 */
export const proxyEnv = {
  CRM_TRUST_PROXY: '1',
  CRM_PROXY_ADDRESSES: '10.0.3.1',
} as const

/**
 * The environment docker_entrypoint.sh and the server read (docs/DEPLOY.md
 * lists them). `smtp` is null when the digest has no SMTP account: disabled,
 * or "system" on a server whose system SMTP is not set up.
 */
export function crmEnv(
  store: Pick<Store, 'smtp' | 'digestSender' | 'spark' | 'gmail'> &
    Partial<Pick<Store, 'anthropic'>>,
  smtp: SmtpCredentials | null,
): Record<string, string> {
  const env: Record<string, string> = {
    CRM_DATA_DIR: '/data',
    CRM_APP_DIR: '/app',
    CRM_HOST: '0.0.0.0',
    CRM_PORT: '8080',
    ...proxyEnv,
    // "disabled" here makes the entrypoint ignore any SMTP files on /data.
    SMTP_SELECTION: smtp ? store.smtp.selection : 'disabled',
  }
  if (smtp) {
    env.SMTP_HOST = smtp.host
    env.SMTP_PORT = String(smtp.port)
    env.SMTP_SECURITY = smtp.security
    env.SMTP_FROM = smtp.from
    env.SMTP_USER = smtp.username
    if (smtp.password) env.SMTP_PASS = smtp.password
  }
  if (store.digestSender) env.CRM_DIGEST_SENDER = store.digestSender
  if (store.spark.baseUrl) {
    env.CRM_SPARK_BASE_URL = store.spark.baseUrl
    if (store.spark.chatModel) env.CRM_SPARK_CHAT_MODEL = store.spark.chatModel
    // The embeddings come from the same server (CRM_EMBED_URL defaults to CRM_SPARK_BASE_URL).
    if (store.spark.embedModel) env.CRM_EMBED_MODEL = store.spark.embedModel
  }
  // Capture itself is switched on by the entrypoint when the key file exists.
  if (store.gmail.workspaceDomain)
    env.CRM_GMAIL_WORKSPACE_DOMAIN = store.gmail.workspaceDomain
  // The external model: only with a key (every prompt is redacted by the CRM first).
  if (store.anthropic?.apiKey) {
    env.CRM_ANTHROPIC_API_KEY = store.anthropic.apiKey
    if (store.anthropic.model) env.CRM_ANTHROPIC_MODEL = store.anthropic.model
  }
  return env
}

/** SMTP credentials from a custom selection in the store. */
export function customSmtp(provider: {
  host: string
  from: string
  username: string
  password?: string | null
  security: { selection: 'tls' | 'starttls'; value: { port: string } }
}): SmtpCredentials {
  return {
    host: provider.host,
    port: Number(provider.security.value.port),
    from: provider.from,
    username: provider.username,
    password: provider.password ?? null,
    security: provider.security.selection,
  }
}

export type ServiceAccountKey = {
  clientEmail: string
  clientId: string
  keyId: string
  projectId: string
  /** The key as it will be written: the parsed JSON, re-serialised. */
  text: string
}

/** Parse a pasted Google service-account key; a message an operator can act on if it is not one. */
export function parseServiceAccountKey(
  pasted: string,
): { ok: true; key: ServiceAccountKey } | { ok: false; error: string } {
  let data: unknown
  try {
    data = JSON.parse(pasted.trim())
  } catch {
    return {
      ok: false,
      error:
        'The key is not valid JSON. Paste the whole file Google gave you, from { to }.',
    }
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { ok: false, error: 'The key must be a JSON object.' }
  }
  const key = data as Record<string, unknown>
  const text = (name: string) =>
    typeof key[name] === 'string' ? (key[name] as string).trim() : ''
  if (text('type') !== 'service_account') {
    return {
      ok: false,
      error:
        'This is not a service-account key: its "type" must be "service_account" (an OAuth client file will not do).',
    }
  }
  const missing = [
    'project_id',
    'private_key_id',
    'private_key',
    'client_email',
    'client_id',
    'token_uri',
  ].filter((name) => !text(name))
  if (missing.length) {
    return {
      ok: false,
      error: `The key lacks ${missing.join(', ')}: download a new JSON key for the service account.`,
    }
  }
  const privateKey = text('private_key')
  if (
    !privateKey.includes('-----BEGIN PRIVATE KEY-----') ||
    !privateKey.includes('-----END PRIVATE KEY-----')
  ) {
    return {
      ok: false,
      error: "The key's private_key is not a PEM private key.",
    }
  }
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(text('client_email'))) {
    return { ok: false, error: "The key's client_email is not an address." }
  }
  if (!/^https:\/\/\S+$/.test(text('token_uri'))) {
    return { ok: false, error: "The key's token_uri is not an https URL." }
  }
  return {
    ok: true,
    key: {
      clientEmail: text('client_email'),
      clientId: text('client_id'),
      keyId: text('private_key_id'),
      projectId: text('project_id'),
      text: JSON.stringify(data, null, 2) + '\n',
    },
  }
}

/** null when `domain` is a plausible Workspace domain, else why not. */
export function checkWorkspaceDomain(domain: string): string | null {
  const ok =
    domain.length <= 253 &&
    /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i.test(domain)
  return ok
    ? null
    : `"${domain}" is not a domain name such as fund.example (no @, no https://).`
}

/** null when `url` can be the local model server's base URL, else why not. */
export function checkBaseUrl(url: string): string | null {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return `"${url}" is not a URL such as http://spark.local:8000/v1.`
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return `The model server's URL must start with http:// or https://, not ${parsed.protocol}//.`
  }
  if (parsed.username || parsed.password) {
    return 'Put no user name or password in the URL.'
  }
  return null
}

/** null when `key` looks like an Anthropic API key, else why not (the key itself is never repeated). */
export function checkAnthropicKey(key: string): string | null {
  if (/\s/.test(key)) return 'The key must not contain spaces or line breaks.'
  if (!key.startsWith('sk-ant-')) {
    return 'This is not an Anthropic API key: those start with sk-ant-.'
  }
  if (key.length < 20 || key.length > 512 || !/^[A-Za-z0-9_-]+$/.test(key)) {
    return 'This is not an Anthropic API key: copy the whole key from console.anthropic.com.'
  }
  return null
}

/** null when `model` can be an Anthropic model id such as claude-sonnet-4-5, else why not. */
export function checkModelName(model: string): string | null {
  return /^[a-z0-9][a-z0-9.:_-]{0,99}$/.test(model)
    ? null
    : `"${model}" is not a model id such as claude-sonnet-4-5.`
}
