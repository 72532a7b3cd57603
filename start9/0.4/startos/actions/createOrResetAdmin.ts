import { T, utils } from '@start9labs/start-sdk'
import { i18n } from '../i18n'
import { sdk } from '../sdk'
import { uiUrls, withAdminCli } from '../utils'

const { InputSpec, Value } = sdk

export const inputSpec = InputSpec.of({
  username: Value.text({
    name: i18n('Username'),
    description: i18n(
      'An existing user becomes an active admin again; a new name creates one.',
    ),
    required: true,
    default: null,
    placeholder: 'ada',
    patterns: [
      {
        regex: '^[A-Za-z0-9._-]{1,64}$',
        description: i18n('Letters, digits, dot, dash and underscore'),
      },
    ],
  }),
  email: Value.text({
    name: i18n('Email'),
    description: i18n('Optional; used for the digest and Gmail capture.'),
    required: false,
    default: null,
    patterns: [utils.Patterns.email],
  }),
  deliver: Value.select({
    name: i18n('Hand over'),
    description: i18n(
      'A one-time password to sign in with now, or a one-time link with which the admin chooses their own password.',
    ),
    default: 'password',
    values: {
      password: i18n('One-time password'),
      link: i18n('Invite link'),
    },
  }),
})

export const createOrResetAdmin = sdk.Action.withInput(
  'create-or-reset-admin',

  async () => ({
    name: i18n('Create or reset admin'),
    description: i18n(
      'Create the first admin, or get a locked-out admin back in: returns a one-time password or invite link and signs that user out everywhere else.',
    ),
    warning: null,
    allowedStatuses: 'only-running',
    group: i18n('Accounts'),
    visibility: 'enabled',
  }),

  inputSpec,

  async () => null,

  async ({ effects, input }) => {
    const args = [
      'reset-admin',
      '--username',
      input.username,
      '--deliver',
      input.deliver,
    ]
    if (input.email) args.push('--email', input.email)
    if (input.deliver === 'link') {
      const [url] = await uiUrls(effects)
      if (url) args.push('--base-url', url)
    }
    const out = await withAdminCli(effects, args)
    const user = out.user as { username: string }
    const members: T.ActionResultMember[] = [
      {
        type: 'single',
        name: i18n('Username'),
        description: null,
        value: user.username,
        masked: false,
        copyable: true,
        qr: false,
      },
    ]
    if (typeof out.password === 'string') {
      members.push({
        type: 'single',
        name: i18n('One-time password'),
        description: i18n(
          'Shown once. Sign in with it, then choose a password of your own.',
        ),
        value: out.password,
        masked: true,
        copyable: true,
        qr: false,
      })
    } else {
      const invite = out.invite as { url: string; expires_at: string }
      members.push({
        type: 'single',
        name: i18n('Invite link'),
        description: i18n(
          'Works once, until ${expiry}. Open it to choose a password.',
          { expiry: invite.expires_at },
        ),
        value: invite.url,
        masked: true,
        copyable: true,
        qr: false,
      })
    }
    return {
      version: '1',
      title: out.created ? i18n('Admin created') : i18n('Admin reset'),
      message: out.created
        ? null
        : i18n('Every other session of this user has been signed out.'),
      result: { type: 'group', value: members },
    }
  },
)
