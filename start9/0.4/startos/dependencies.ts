import { sdk } from './sdk'

// None: SMTP comes from StartOS itself or a custom account, and the local model
// server (Spark) is reached by URL, so no other package has to be installed.
export const setDependencies = sdk.setupDependencies(async () => ({}))
