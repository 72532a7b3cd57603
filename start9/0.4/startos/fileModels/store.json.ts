import { FileHelper, smtpShape, z } from '@start9labs/start-sdk'
import { sdk } from '../sdk'

// Every key has a default (.catch), so `storeJson.merge(effects, {})` seeds a
// complete file and a file from an older version reads without error.
const sparkShape = z.object({
  baseUrl: z.string().catch(''),
  chatModel: z.string().catch(''),
  embedModel: z.string().catch(''),
})

const gmailShape = z.object({
  /** The Google Workspace domain whose mailboxes are captured. */
  workspaceDomain: z.string().catch(''),
  /** Shown back to the operator; the key itself lives in /data/secrets. */
  clientEmail: z.string().catch(''),
  /** Changes when a new key is pasted, so the service restarts and reads it. */
  keyId: z.string().catch(''),
})

const anthropicShape = z.object({
  /** CRM_ANTHROPIC_API_KEY: never shown back by any action, only whether it is set. */
  apiKey: z.string().catch(''),
  /** CRM_ANTHROPIC_MODEL (empty: the CRM's default). */
  model: z.string().catch(''),
})

const shape = z
  .object({
    /** Disabled, StartOS's system SMTP, or a custom account (the SDK's shape). */
    smtp: smtpShape,
    /** The mailbox the daily digest is sent as (empty: the first active admin). */
    digestSender: z.string().catch(''),
    spark: sparkShape.catch({ baseUrl: '', chatModel: '', embedModel: '' }),
    gmail: gmailShape.catch({
      workspaceDomain: '',
      clientEmail: '',
      keyId: '',
    }),
    anthropic: anthropicShape.catch({ apiKey: '', model: '' }),
  })
  .strip()

export type Store = z.infer<typeof shape>

export const storeJson = FileHelper.json(
  { base: sdk.volumes.main, subpath: './store.json' },
  shape,
)
