import { T } from '@start9labs/start-sdk'
import { createOrResetAdmin } from './actions/createOrResetAdmin'
import { crmEnv, customSmtp, SmtpCredentials } from './env'
import { Store, storeJson } from './fileModels/store.json'
import { i18n } from './i18n'
import { sdk } from './sdk'
import { adminCli, appUser, mounts, uiPort } from './utils'

// The volume may hold files written by StartOS as root (store.json, a pasted
// Gmail key, a restored backup): hand whatever is not the app user's back to it.
const OWN_DATA = `chown ${appUser}:${appUser} /data && find /data \\( ! -user ${appUser} -o ! -group ${appUser} \\) -exec chown -h ${appUser}:${appUser} {} +`

export const main = sdk.setupMain(async ({ effects }) => {
  // .const(): when an action changes the store, the service restarts with the new environment.
  const store = await storeJson.read().const(effects)
  if (!store) {
    throw new Error(i18n('store.json is missing; restart the service'))
  }
  const env = crmEnv(store, await smtpCredentials(effects, store.smtp))

  const subcontainer = sdk.SubContainer.of(
    effects,
    { imageId: 'main' },
    mounts,
    'venture-crm',
  )

  return sdk.Daemons.of(effects)
    .addOneshot('data-owner', {
      subcontainer,
      exec: { command: ['sh', '-c', OWN_DATA], user: 'root' },
      requires: [],
    })
    .addDaemon('primary', {
      subcontainer,
      exec: {
        // docker_entrypoint.sh prepares /data and execs the server, so
        // StartOS's SIGTERM reaches it; it exits within 10 s.
        command: sdk.useEntrypoint(),
        env,
        user: appUser,
        sigtermTimeout: 15_000,
      },
      ready: {
        display: i18n('Web interface'),
        gracePeriod: 60_000,
        fn: checkReady,
      },
      requires: ['data-owner'],
    })
    .addOneshot('first-admin', {
      subcontainer,
      exec: {
        // Asks the database, not the install event: a restored server has its
        // admins already and gets no task.
        fn: async (sub) => {
          const status = await adminCli(sub, ['status'])
          if (status.setup_required) {
            await sdk.action.createOwnTask(
              effects,
              createOrResetAdmin,
              'important',
              {
                reason: i18n(
                  'Create the first admin account: it returns a one-time password or invite link',
                ),
              },
            )
          }
          return null
        },
      },
      requires: ['primary'],
    })
})

/** Ready once GET /api/ready answers 200: database open, every migration applied. */
async function checkReady(): Promise<{
  result: 'success' | 'failure'
  message: string
}> {
  try {
    const res = await fetch(`http://127.0.0.1:${uiPort}/api/ready`, {
      signal: AbortSignal.timeout(3000),
    })
    if (res.ok) {
      return { result: 'success', message: i18n('Venture CRM is ready') }
    }
    return {
      result: 'failure',
      message: i18n('Venture CRM answered ${status}; see the logs', {
        status: res.status,
      }),
    }
  } catch {
    return {
      result: 'failure',
      message: i18n('Venture CRM is not answering yet; see the logs'),
    }
  }
}

/** The SMTP account the digest uses, or null when it has none. */
async function smtpCredentials(
  effects: T.Effects,
  smtp: Store['smtp'],
): Promise<SmtpCredentials | null> {
  if (smtp.selection === 'custom') {
    return customSmtp(smtp.value.provider.value)
  }
  if (smtp.selection === 'system') {
    const system = await sdk.getSystemSmtp(effects).const()
    if (!system) return null
    return {
      ...system,
      password: system.password ?? null,
      from: smtp.value.customFrom || system.from,
    }
  }
  return null
}
