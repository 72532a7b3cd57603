import { SubContainer, T } from '@start9labs/start-sdk'
import { manifest } from './manifest'
import { sdk } from './sdk'
import { proxyEnv } from './env'

export const uiPort = 8080
export const mainHostId = 'main'
export const uiInterfaceId = 'ui'
/** The image's non-root user (see the Dockerfile); /data belongs to it. */
export const appUser = 'crm'
/** Where the container looks for the Gmail key (docker_entrypoint.sh agrees). */
export const gmailKeySubpath = 'secrets/gmail-service-account.json'
/** The scopes to grant the service account's client ID in the Google Admin console. */
export const gmailScopes = [
  'https://www.googleapis.com/auth/gmail.readonly',
  'https://www.googleapis.com/auth/gmail.compose',
]

export const mounts = sdk.Mounts.of().mountVolume({
  volumeId: 'main',
  subpath: null,
  mountpoint: '/data',
  readonly: false,
})

type AppContainer = SubContainer<typeof manifest>

/** What backend/crm/admin_cli.py prints: one JSON object, `ok` false on refusal. */
export type AdminCliResult = { ok: boolean; error?: string } & Record<
  string,
  unknown
>

/**
 * Run the CRM's admin CLI in `sub` as the app user and return its JSON.
 * Throws with the CLI's own message when it refuses.
 */
export async function adminCli(
  sub: AppContainer,
  args: string[],
): Promise<AdminCliResult> {
  const res = await sub.exec(
    ['python3', '/app/backend/crm/admin_cli.py', ...args],
    {
      user: appUser,
      // The CLI reads the kept signing key from /data itself, as the entrypoint does.
      env: { CRM_DATA_DIR: '/data', CRM_ENV: 'production', ...proxyEnv },
    },
  )
  const out = res.stdout.toString().trim()
  let parsed: AdminCliResult
  try {
    parsed = JSON.parse(out) as AdminCliResult
  } catch {
    throw new Error(
      `admin_cli.py ${args[0]} exited ${String(res.exitCode)} without JSON: ${res.stderr.toString().trim()}`,
    )
  }
  if (res.exitCode !== 0 || !parsed.ok) {
    throw new Error(parsed.error ?? `admin_cli.py ${args[0]} failed`)
  }
  return parsed
}

/** adminCli in a short-lived container of its own (for actions). */
export function withAdminCli(
  effects: T.Effects,
  args: string[],
): Promise<AdminCliResult> {
  return sdk.SubContainer.withTemp(
    effects,
    { imageId: 'main' },
    mounts,
    'admin-cli',
    (sub) => adminCli(sub, args),
  )
}

/** The addresses the web interface is published at, `.local` over https first. */
export async function uiUrls(effects: T.Effects): Promise<string[]> {
  const urls = await sdk.host
    .getOwn(
      effects,
      mainHostId,
      (host) =>
        host?.bindings[uiPort]?.interfaces[
          uiInterfaceId
        ]?.addressInfo.nonLocal.format() ?? [],
    )
    .once()
  const rank = (url: string) =>
    (url.startsWith('https://') ? 0 : 2) + (url.includes('.local') ? 0 : 1)
  return [...urls].sort((a, b) => rank(a) - rank(b))
}
