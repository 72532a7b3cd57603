import { sdk } from '../sdk'
import { configureDigestSmtp } from './configureDigestSmtp'
import { createOrResetAdmin } from './createOrResetAdmin'
import { gmailServiceAccount } from './gmailServiceAccount'
import { localModelServer } from './localModelServer'
import { securityStatus } from './securityStatus'
import { setAnthropicApiKey } from './setAnthropicApiKey'

export const actions = sdk.Actions.of()
  .addAction(createOrResetAdmin)
  .addAction(securityStatus)
  .addAction(configureDigestSmtp)
  .addAction(gmailServiceAccount)
  .addAction(localModelServer)
  .addAction(setAnthropicApiKey)
