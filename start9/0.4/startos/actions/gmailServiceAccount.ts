import { utils } from '@start9labs/start-sdk'
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'fs/promises'
import { dirname } from 'path'
import {
  checkWorkspaceDomain,
  parseServiceAccountKey,
  ServiceAccountKey,
} from '../env'
import { storeJson } from '../fileModels/store.json'
import { i18n } from '../i18n'
import { sdk } from '../sdk'
import { gmailKeySubpath, gmailScopes } from '../utils'

const { InputSpec, Value } = sdk

export const inputSpec = InputSpec.of({
  enabled: Value.toggle({
    name: i18n('Capture Gmail'),
    description: i18n(
      'Off removes the stored key and stops capture; captured email stays in the CRM.',
    ),
    default: true,
  }),
  key: Value.text({
    name: i18n('Service-account key (JSON)'),
    description: i18n(
      'Paste the whole JSON key file of a Google Cloud service account with domain-wide delegation. Leave empty to keep the key already stored.',
    ),
    required: false,
    default: null,
    masked: true,
    placeholder: '{"type": "service_account", ...}',
  }),
  workspaceDomain: Value.text({
    name: i18n('Workspace domain'),
    description: i18n(
      "The Google Workspace domain whose partners' mailboxes are captured.",
    ),
    required: false,
    default: null,
    placeholder: 'fund.example',
    patterns: [utils.Patterns.domain],
  }),
})

export const gmailServiceAccount = sdk.Action.withInput(
  'gmail-service-account',

  async () => ({
    name: i18n('Gmail service account'),
    description: i18n(
      "Store the Google service-account key that lets the CRM capture the partners' email (domain-wide delegation), and the Workspace domain it covers.",
    ),
    warning: null,
    allowedStatuses: 'any',
    group: i18n('Email'),
    visibility: 'enabled',
  }),

  inputSpec,

  // The key is never shown again; only whether one is stored.
  async () => {
    const gmail = await storeJson.read((s) => s.gmail).once()
    return {
      enabled: gmail ? Boolean(gmail.clientEmail) : true,
      key: null,
      workspaceDomain: gmail?.workspaceDomain || null,
    }
  },

  async ({ effects, input }) => {
    const keyPath = sdk.volumes.main.subpath(gmailKeySubpath)
    const domain = input.workspaceDomain?.trim().toLowerCase() ?? ''

    if (!input.enabled) {
      await rm(keyPath, { force: true })
      await storeJson.merge(effects, {
        gmail: { workspaceDomain: domain, clientEmail: '', keyId: '' },
      })
      return {
        version: '1',
        title: i18n('Gmail capture is off'),
        message: i18n(
          'The key was removed. Email already captured stays in the CRM.',
        ),
        result: null,
      }
    }

    const domainProblem = domain
      ? checkWorkspaceDomain(domain)
      : i18n('Give the Workspace domain whose mail is captured.')
    if (domainProblem) throw new Error(domainProblem)

    let key: ServiceAccountKey
    if (input.key?.trim()) {
      const parsed = parseServiceAccountKey(input.key)
      if (!parsed.ok) throw new Error(parsed.error)
      key = parsed.key
      await writePrivate(keyPath, key.text)
    } else {
      const stored = await readFile(keyPath, 'utf8').catch(() => null)
      if (stored === null) {
        throw new Error(
          i18n('No key is stored yet: paste the service-account JSON key.'),
        )
      }
      const parsed = parseServiceAccountKey(stored)
      if (!parsed.ok) throw new Error(parsed.error)
      key = parsed.key
    }

    // A new keyId or domain restarts the service, which hands the file to the
    // app user and switches capture on (docker_entrypoint.sh).
    await storeJson.merge(effects, {
      gmail: {
        workspaceDomain: domain,
        clientEmail: key.clientEmail,
        keyId: key.keyId,
      },
    })

    return {
      version: '1',
      title: i18n('Gmail capture is on'),
      message: i18n(
        'In the Google Admin console (Security, API controls, Domain-wide delegation) authorise this client ID for these scopes, if you have not already.',
      ),
      result: {
        type: 'group',
        value: [
          {
            type: 'single',
            name: i18n('Service account'),
            description: null,
            value: key.clientEmail,
            masked: false,
            copyable: true,
            qr: false,
          },
          {
            type: 'single',
            name: i18n('Client ID'),
            description: null,
            value: key.clientId,
            masked: false,
            copyable: true,
            qr: false,
          },
          {
            type: 'single',
            name: i18n('Scopes'),
            description: null,
            value: gmailScopes.join(','),
            masked: false,
            copyable: true,
            qr: false,
          },
        ],
      },
    }
  },
)

/** Write `text` so that it is never readable by anyone but its owner, even for a moment. */
async function writePrivate(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  const partial = `${path}.partial`
  await writeFile(partial, text, { mode: 0o600 })
  await chmod(partial, 0o600) // mode above applies only to a new file
  await rename(partial, path)
}
