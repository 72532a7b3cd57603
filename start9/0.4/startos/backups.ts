import { sdk } from './sdk'

// The whole volume: the SQLite database (with its WAL), the CRM's own backups,
// the signing key, secrets, email attachments and the package's store.json.
// A restore brings it all back as it was, so sign-ins survive too.
export const { createBackup, restoreInit } = sdk.setupBackups(async () =>
  sdk.Backups.ofVolumes('main'),
)
