import { StartSdk } from '@start9labs/start-sdk'
import { manifest } from './manifest'

/**
 * Plumbing: the `sdk` every other file of the package uses, bound to the manifest.
 */
export const sdk = StartSdk.of().withManifest(manifest).build(true)
