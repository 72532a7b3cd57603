import { VersionInfo } from '@start9labs/start-sdk'

export const current = VersionInfo.of({
  version: '0.1.0:0',
  releaseNotes: {
    en_US: `First StartOS 0.4 package of Venture CRM.

- One service on the main volume: the SQLite database, backups, the signing key and secrets.
- Actions: Create or reset admin, Show security status, Configure digest SMTP, Gmail service account, Local model server.
- Whole-volume backups; the service stops cleanly within ten seconds.`,
  },
  migrations: {},
})
