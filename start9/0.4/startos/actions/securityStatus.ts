import { T } from '@start9labs/start-sdk'
import { storeJson } from '../fileModels/store.json'
import { i18n } from '../i18n'
import { sdk } from '../sdk'
import { withAdminCli } from '../utils'

type Check = { name: string; ok: boolean; detail: string }

export const securityStatus = sdk.Action.withoutInput(
  'security-status',

  async () => ({
    name: i18n('Show security status'),
    description: i18n(
      'The go-live checklist: signing key, production mode, admins, last verified backup, and the modes of the secrets kept on disk.',
    ),
    warning: null,
    allowedStatuses: 'only-running',
    group: i18n('Accounts'),
    visibility: 'enabled',
  }),

  async ({ effects }) => {
    const report = await withAdminCli(effects, ['security-status'])
    const checks = report.checks as Check[]
    const store = await storeJson.read().once()
    const line = (name: string, value: string): T.ActionResultMember => ({
      type: 'single',
      name,
      description: null,
      value,
      masked: false,
      copyable: false,
      qr: false,
    })
    const settings: T.ActionResultMember[] = [
      line(
        i18n('Digest SMTP'),
        store?.smtp.selection === 'custom'
          ? i18n('custom account')
          : store?.smtp.selection === 'system'
            ? i18n('StartOS system SMTP')
            : i18n('disabled'),
      ),
      line(
        i18n('Gmail capture'),
        report.gmail_key_present
          ? `${store?.gmail.clientEmail || '?'} → ${store?.gmail.workspaceDomain || '?'}`
          : i18n('off (no key stored)'),
      ),
      line(i18n('Local model server'), store?.spark.baseUrl || i18n('not set')),
      line(
        i18n('External model (Anthropic)'),
        store?.anthropic.apiKey ? i18n('key set') : i18n('not set'),
      ),
    ]
    return {
      version: '1',
      title: report.ok
        ? i18n('All checks pass')
        : i18n('Some checks need attention'),
      message: null,
      result: {
        type: 'group',
        value: [
          ...checks.map((check) =>
            line(check.name, `${check.ok ? '✓' : '✗'} ${check.detail}`),
          ),
          {
            type: 'group',
            name: i18n('Package settings'),
            description: null,
            value: settings,
          },
        ],
      },
    }
  },
)
