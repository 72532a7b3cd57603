import { smtpPrefill, utils } from '@start9labs/start-sdk'
import { storeJson } from '../fileModels/store.json'
import { i18n } from '../i18n'
import { sdk } from '../sdk'

const { InputSpec, Value } = sdk

export const inputSpec = InputSpec.of({
  // Disabled / StartOS's system SMTP / a custom account of the digest's own.
  smtp: sdk.inputSpecConstants.smtpInputSpec,
  digestSender: Value.text({
    name: i18n('Digest sender'),
    description: i18n(
      'The mailbox the daily digest is sent as. Leave empty to send as the first active admin.',
    ),
    required: false,
    default: null,
    placeholder: 'partners@fund.example',
    patterns: [utils.Patterns.email],
  }),
})

export const configureDigestSmtp = sdk.Action.withInput(
  'configure-digest-smtp',

  async () => ({
    name: i18n('Configure digest SMTP'),
    description: i18n(
      "Choose how the daily digest is sent: not at all, through the SMTP account StartOS has, or through an account of its own. The digest only ever goes to the CRM's active admins.",
    ),
    warning: null,
    allowedStatuses: 'any',
    group: i18n('Email'),
    visibility: 'enabled',
  }),

  inputSpec,

  async () => {
    const store = await storeJson.read().once()
    return {
      smtp: smtpPrefill(store?.smtp),
      digestSender: store?.digestSender || null,
    }
  },

  // The service restarts with the new SMTP_* environment.
  async ({ effects, input }) => {
    await storeJson.merge(effects, {
      smtp: input.smtp,
      digestSender: input.digestSender?.trim() ?? '',
    })
  },
)
